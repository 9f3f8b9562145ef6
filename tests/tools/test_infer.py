"""tools/infer.py: every level written, consistent with the tree, shaped
like the input image; bad inputs named."""
import os.path as osp

import mmcv
import numpy as np
import pytest
import torch


def _infer_main():
    import importlib.util
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    spec = importlib.util.spec_from_file_location(
        'mmhierseg_tools_infer', osp.join(root, 'tools', 'infer.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.main


@pytest.fixture(scope='module')
def tiny_model(tmp_path_factory):
    """The demo config, shrunk, with a random-init checkpoint."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    from mmhierseg.testing.synthetic import make_synthetic_dataset
    from mmhierseg.hierarchy import ClassHierarchy
    d = tmp_path_factory.mktemp('infer')
    make_synthetic_dataset(str(d / 'data'), num_train=1, num_val=3, seed=3)
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(
        osp.join(root, 'configs/demo/hierseg_synthetic_cpu.py'))
    cfg.model.decode_head.decoder.channels = 8
    cfg_path = str(d / 'cfg.py')
    cfg.dump(cfg_path)
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    h = ClassHierarchy.build('pascal_part')
    ckpt = str(d / 'model.pth')
    # no `meta` entry, as in exported checkpoints: infer.py must cope
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    return cfg_path, ckpt, str(d / 'data' / 'JPEGImages'), h


def test_infer_writes_every_level(tiny_model, tmp_path):
    main = _infer_main()
    cfg_path, ckpt, img_dir, h = tiny_model
    out = str(tmp_path / 'out')
    assert main([cfg_path, ckpt, img_dir, '--out-dir', out,
                 '--batch-size', '2']) == 0
    names = sorted(osp.splitext(f)[0] for f in
                   __import__('os').listdir(img_dir))
    assert len(names) == 4
    for name in names:
        img = mmcv.imread(osp.join(img_dir, name + '.jpg'))
        maps = [mmcv.imread(osp.join(out, f'{name}_{lvl}.png'),
                            flag='unchanged') for lvl in h.level_names]
        for k, m in enumerate(maps):
            assert m.shape == img.shape[:2]
            assert m.max() < h.num_classes[k]
        # the coarse maps are exactly the leaf map pushed through the tree
        for k in range(h.num_levels - 1):
            np.testing.assert_array_equal(maps[k], h.to_level(maps[-1], k))
        vis = mmcv.imread(osp.join(out, 'vis', name + '.png'))
        assert vis.shape == (img.shape[0] * h.num_levels, img.shape[1], 3)


def test_infer_names_missing_input(tiny_model, tmp_path):
    main = _infer_main()
    cfg_path, ckpt, _, _ = tiny_model
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        main([cfg_path, str(tmp_path / 'missing.pth'), str(tmp_path),
              '--out-dir', str(tmp_path)])
    with pytest.raises(FileNotFoundError, match='nope.jpg'):
        main([cfg_path, ckpt, str(tmp_path / 'nope.jpg'), '--out-dir',
              str(tmp_path)])
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match='no image'):
        main([cfg_path, ckpt, str(tmp_path / 'empty'), '--out-dir',
              str(tmp_path)])


def test_infer_mixed_sizes_tiny_and_grayscale(tiny_model, tmp_path):
    """One batch with a 9x13 colour image and a 40x30 grayscale one."""
    main = _infer_main()
    cfg_path, ckpt, _, h = tiny_model
    rng = np.random.default_rng(0)
    d = tmp_path / 'imgs'
    d.mkdir()
    mmcv.imwrite(rng.integers(0, 255, (9, 13, 3), dtype=np.uint8),
                 str(d / 'tiny.jpg'))
    mmcv.imwrite(rng.integers(0, 255, (40, 30), dtype=np.uint8),
                 str(d / 'gray.jpg'))
    out = tmp_path / 'out'
    assert main([cfg_path, ckpt, str(d), '--out-dir', str(out),
                 '--batch-size', '2', '--no-vis']) == 0
    for name, shape in (('tiny', (9, 13)), ('gray', (40, 30))):
        for lvl in h.level_names:
            m = mmcv.imread(str(out / f'{name}_{lvl}.png'), flag='unchanged')
            assert m.shape == shape
    assert not (out / 'vis').exists()
