"""The model configs build and run: our base model config, and the example
that inherits mmseg's own DeepLabV3 config through a real Runner."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.runner import Runner

from mmhierseg import ClassHierarchy

from ._hier_utils import build, level_maps, make_batch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASE_MODEL = osp.join(ROOT, 'configs/_base_/models/hierseg_deeplabv3.py')
EXAMPLE = osp.join(ROOT,
                   'configs/examples/deeplabv3_r50-d8_hier_pascal_part.py')
HIER = ClassHierarchy.build('pascal_part')


def test_base_model_config_defaults_and_train_step():
    cfg = Config.fromfile(BASE_MODEL)
    m = cfg.model
    # no default tree: the top-level config names it (model.hierarchy) and
    # the segmentor hands it to the head and the loss
    assert 'hierarchy' not in m and 'hierarchy' not in m.decode_head
    assert 'level_weights' not in m.decode_head.loss_decode  # uniform
    assert (m.backbone.name, m.backbone.weights, m.backbone.output_stride,
            m.backbone.frozen) == ('resnet34', 'imagenet', 8, True)
    assert m.decode_head.decoder.type == 'ASPPHead'
    assert m.data_preprocessor.type == 'SegDataPreProcessor'
    # offline: random encoder instead of the ImageNet download
    cfg.merge_from_dict({
        'model.backbone.weights': None,
        'model.decode_head.decoder.channels': 16
    })
    with pytest.raises(ValueError, match='no label tree'):
        build(cfg.model)
    cfg.model.hierarchy = 'pascal_part'  # what a top-level config adds
    model = build(cfg.model)
    assert [b.num_classes for b in model.decode_head.branches] == \
        HIER.num_classes
    model.train()
    optim = OptimWrapper(
        torch.optim.SGD([p for p in model.parameters() if p.requires_grad],
                        lr=0.01))
    logs = model.train_step(make_batch(n=2, h=60, w=64), optim)
    assert logs['loss'].item() > 0
    model.eval()
    with torch.no_grad():
        out = model.test_step(make_batch(n=1, h=60, w=64))
    assert out[0].pred_sem_seg.shape == (60, 64)  # padding removed
    assert bool(HIER.is_consistent(level_maps(out[0], HIER)).all())


def _write_pascal_part(root, ids, size=(40, 48), seed=0):
    import mmcv
    rng = np.random.default_rng(seed)
    for sub in ('JPEGImages', 'gt_masks'):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for i in ids:
        img = rng.integers(0, 256, size + (3, ), dtype=np.uint8)
        mmcv.imwrite(img, str(root / 'JPEGImages' / f'{i}.jpg'))
        mask = rng.integers(0, 7, size, dtype=np.uint8)
        np.save(root / 'gt_masks' / f'{i}.npy', mask)
    (root / 'train_id.txt').write_text('\n'.join(ids[:2]))
    (root / 'val_id.txt').write_text('\n'.join(ids[2:]) + '\n')


def _small_example_cfg(tmp_path):
    """The example config, offline, on CPU, with tiny sizes and data."""
    cfg = Config.fromfile(EXAMPLE)
    data_root = tmp_path / 'Pascal-part'
    _write_pascal_part(data_root,
                       ['2008_000001', '2008_000002', '2008_000003'])
    bn = dict(type='BN', requires_grad=True)
    small_train = [
        dict(type='LoadHierImageFromFile'),
        dict(type='LoadHierAnnotations'),
        dict(type='RandomCrop', crop_size=(32, 32)),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackSegInputs')
    ]
    small_test = [
        dict(type='LoadHierImageFromFile'),
        dict(type='Resize', scale=(48, 40), keep_ratio=True),
        dict(type='LoadHierAnnotations'),
        dict(type='PackSegInputs')
    ]
    loader = dict(batch_size=2, num_workers=0, persistent_workers=False)
    cfg.merge_from_dict({
        'model.pretrained': None,
        'model.backbone.norm_cfg': bn,
        'model.decode_head.decoder.norm_cfg': bn,
        'model.decode_head.decoder.channels': 16,
        'model.auxiliary_head.decoder.norm_cfg': bn,
        'model.auxiliary_head.decoder.channels': 8,
        'model.data_preprocessor.size': (32, 32),
        'train_dataloader': dict(
            loader,
            dataset=dict(data_root=str(data_root), pipeline=small_train)),
        'test_dataloader': dict(
            loader,
            batch_size=1,
            dataset=dict(data_root=str(data_root), pipeline=small_test)),
        'train_cfg.max_iters': 1,
        'train_cfg.val_interval': 1000,
        'default_hooks.checkpoint.save_last': False,
        'default_hooks.logger.interval': 1,
        'work_dir': str(tmp_path / 'work'),
    })
    cfg.val_cfg = None
    cfg.val_dataloader = None
    cfg.val_evaluator = None
    return cfg


@pytest.mark.slow
def test_example_config_inherits_mmseg_and_runs_in_a_runner(tmp_path):
    cfg = Config.fromfile(EXAMPLE)
    # what comes from mmseg's config, unmodified
    assert cfg.model.backbone.type == 'ResNetV1c'
    assert cfg.model.backbone.depth == 50
    assert cfg.model.pretrained == 'open-mmlab://resnet50_v1c'
    assert cfg.train_cfg.max_iters == 40000
    # what the example swaps in
    assert cfg.model.type == 'HierEncoderDecoder'
    assert cfg.model.decode_head.type == 'HierarchicalDecodeHead'
    assert 'num_classes' not in cfg.model.decode_head
    assert cfg.model.auxiliary_head.decoder.type == 'FCNHead'
    assert cfg.train_dataloader.dataset.type == 'PascalPartDataset'
    assert 'datasets' not in cfg.train_dataloader.dataset  # no ConcatDataset

    runner = Runner.from_cfg(_small_example_cfg(tmp_path))
    model = runner.model
    before = {k: v.clone() for k, v in model.state_dict().items()}
    runner.train()
    changed = [
        k for k, v in model.state_dict().items()
        if not torch.equal(before[k], v)
    ]
    assert any(k.startswith('decode_head.branches.2.') for k in changed)
    assert any(k.startswith('auxiliary_head.branches.0.') for k in changed)
    scalars = runner.message_hub.log_scalars
    for key in ('train/decode.loss_part', 'train/aux.loss_body'):
        assert np.isfinite(scalars[key].current()), key

    metrics = runner.test()
    assert set(metrics) >= {'mIoU0', 'mIoU1', 'mIoU2', 'mIoU_leaf'}
    assert all(0 <= metrics[k] <= 100 for k in ('mIoU0', 'mIoU1', 'mIoU2'))


@pytest.mark.slow
def test_example_config_tta_as_tools_test_does_it(tmp_path):
    """`tools/test.py --tta`: the config's tta_pipeline (6 scales x flip)
    and tta_model wrap the segmentor; every level stays consistent."""
    cfg = _small_example_cfg(tmp_path)
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    cfg.tta_model.module = cfg.model
    cfg.model = cfg.tta_model
    runner = Runner.from_cfg(cfg)
    assert type(runner.model).__name__ == 'HierSegTTAModel'
    batch = next(iter(runner.test_dataloader))
    assert len(batch['inputs']) == 12  # augmented views
    runner.model.eval()
    with torch.no_grad():
        merged = runner.model.test_step(batch)
    maps = level_maps(merged[0], HIER)
    assert merged[0].gt_sem_seg.shape == (40, 48)
    assert all(m.shape == (1, 40, 48) for m in maps)
    assert bool(HIER.is_consistent(maps).all())
    metrics = runner.test()
    assert set(metrics) >= {'mIoU0', 'mIoU1', 'mIoU2'}


@pytest.mark.parametrize('layout', ['separate', 'shared'])
def test_base_config_layout_switch(layout):
    cfg = Config.fromfile(BASE_MODEL)
    cfg.merge_from_dict({
        'model.hierarchy': 'pascal_part',
        'model.backbone.weights': None,
        'model.backbone.name': 'resnet18',
        'model.decode_head.layout': layout,
        'model.decode_head.cascade': True,
        'model.decode_head.decoder.channels': 8
    })
    model = build(cfg.model).eval()
    assert hasattr(model.decode_head, 'trunk') == (layout == 'shared')
    with torch.no_grad():
        out = model._forward(torch.rand(1, 3, 32, 32))
    assert [o.shape[1] for o in out] == HIER.num_classes
