"""HierSegInferencer on real photos of people (shipped in installed
packages) with a small random-weight model."""
import io
import os.path as osp
import shutil

import mmcv
import numpy as np
import pytest
from PIL import Image

from mmhierseg.apis import HierSegInferencer, expand_inputs, resolve_work_dir
from mmhierseg.hierarchy import ClassHierarchy
from mmhierseg.visualization import draw_panel

from ._tiny import photos, write_model

TREE = ClassHierarchy.build('pascal_part')


@pytest.fixture(scope='module')
def model_files(tmp_path_factory):
    return write_model(tmp_path_factory.mktemp('model'))


@pytest.fixture(scope='module')
def inferencer(model_files):
    return HierSegInferencer(*model_files, device='cpu')


def _exif_jpeg(img_bgr, orientation):
    im = Image.fromarray(img_bgr[..., ::-1].copy())
    exif = im.getexif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    im.save(buf, 'JPEG', exif=exif.tobytes())
    return buf.getvalue()


def test_photos_arrays_pil_every_level_at_input_size(inferencer):
    paths = photos()
    assert len(paths) >= 2, paths
    small = mmcv.imresize(mmcv.imread(paths[0]), (90, 120))
    pil = Image.open(paths[1])
    out = inferencer([paths[0], small, pil, paths[1]], batch_size=3,
                     return_probs=True)
    assert out['errors'] == []
    preds = out['predictions']
    sizes = [mmcv.imread(paths[0]).shape[:2], (120, 90),
             pil.size[::-1], mmcv.imread(paths[1]).shape[:2]]
    assert [p['input'] for p in preds] == [paths[0], None, None, paths[1]]
    for p, size in zip(preds, sizes):
        assert list(p['levels']) == list(TREE.level_names)
        leaf = p['levels'][TREE.level_names[-1]]
        for k, level in enumerate(TREE.level_names):
            m = p['levels'][level]
            assert m.shape == size and m.dtype == np.uint8
            assert m.max() < TREE.num_classes[k]
            # consistent decoding: each level is the leaf through the tree
            np.testing.assert_array_equal(m, TREE.to_level(leaf, k))
            prob = p['probabilities'][level]
            assert prob.shape == (TREE.num_classes[k], ) + size
            np.testing.assert_allclose(prob.sum(0), 1, atol=1e-4)
        np.testing.assert_array_equal(
            p['probabilities'][TREE.level_names[-1]].argmax(0), leaf)
    # a PIL image and the same file give the same maps
    np.testing.assert_array_equal(preds[2]['levels']['part'],
                                  preds[3]['levels']['part'])


def test_folder_glob_unique_names_and_unreadable_file(inferencer, tmp_path):
    src = photos()[0]
    shutil.copy(src, tmp_path / 'p.jpg')
    mmcv.imwrite(mmcv.imresize(mmcv.imread(src), (40, 30)),
                 str(tmp_path / 'p.png'))
    (tmp_path / 'broken.jpg').write_bytes(b'not a jpeg at all')
    (tmp_path / 'notes.txt').write_text('not an image')
    items = expand_inputs([str(tmp_path), str(tmp_path / '*.png')])
    assert [i.name for i in items] == ['broken', 'p_jpg', 'p_png_1',
                                       'p_png_2']
    out = inferencer(str(tmp_path), batch_size=2)
    assert [p['name'] for p in out['predictions']] == ['p_jpg', 'p_png']
    assert out['predictions'][1]['levels']['part'].shape == (30, 40)
    assert len(out['errors']) == 1
    assert 'broken.jpg' in out['errors'][0]['error']
    assert 'split' not in out['errors'][0]['error']
    with pytest.raises(FileNotFoundError, match='nothing'):
        expand_inputs(str(tmp_path / 'nothing*.jpg'))
    with pytest.raises(ValueError, match='batch_size'):
        inferencer(str(tmp_path), batch_size=0)


def test_exif_orientation_is_honoured(inferencer, tmp_path):
    img = mmcv.imresize(mmcv.imread(photos()[0]), (64, 96))  # w=64, h=96
    (tmp_path / 'rot.jpg').write_bytes(_exif_jpeg(img, 6))
    out = inferencer([str(tmp_path / 'rot.jpg'),
                      Image.open(tmp_path / 'rot.jpg')])
    for p in out['predictions']:  # upright: rotated by 90 degrees
        assert p['levels']['part'].shape == (64, 96)


def test_panel_is_the_visualizers(inferencer):
    path = photos()[-1]
    res = inferencer(path, return_vis=True, return_datasamples=True)
    pred = res['predictions'][0]
    img = mmcv.imread(path, channel_order='rgb')
    maps = [pred['levels'][lvl] for lvl in TREE.level_names]
    expected, layout = draw_panel(img, [(None, maps)], TREE,
                                  alpha=inferencer.visualizer.alpha)
    np.testing.assert_array_equal(pred['visualization'], expected)
    assert [c['title'] for c in layout['cells']] == \
        ['input'] + list(TREE.level_names)
    for item in layout['legend']:
        k = TREE.level_index(item['level'])
        assert item['colour'] == TREE.palette(k)[item['class_id']]
    assert 'data_sample' in pred


def test_work_dir(model_files, tmp_path):
    cfg, ckpt = model_files
    with pytest.raises(FileNotFoundError, match='expected one config'):
        resolve_work_dir(str(tmp_path))
    shutil.copy(cfg, tmp_path / 'cfg.py')
    with pytest.raises(FileNotFoundError, match='holds no checkpoint'):
        resolve_work_dir(str(tmp_path))
    for name in ('iter_5.pth', 'iter_40.pth', 'iter_100.pth'):
        shutil.copy(ckpt, tmp_path / name)
    assert resolve_work_dir(str(tmp_path))[1].endswith('iter_100.pth')
    (tmp_path / 'last_checkpoint').write_text('/moved/away/iter_40.pth')
    assert resolve_work_dir(str(tmp_path))[1].endswith('iter_40.pth')
    shutil.copy(ckpt, tmp_path / 'best_mIoU2_iter_5.pth')
    assert osp.basename(resolve_work_dir(str(tmp_path))[1]) == \
        'best_mIoU2_iter_5.pth'
    inf = HierSegInferencer(str(tmp_path), device='cpu')
    assert inf.hierarchy == TREE
    out = inf(np.zeros((20, 30, 3), np.uint8))
    assert out['predictions'][0]['levels']['body'].shape == (20, 30)


def test_independent_decoding_probabilities(tmp_path):
    """decode='independent': each level's own softmax, whose argmax is that
    level's map."""
    inf = HierSegInferencer(*write_model(tmp_path, decode='independent'),
                            device='cpu')
    img = mmcv.imresize(mmcv.imread(photos()[0]), (60, 80))
    pred = inf(img, return_probs=True)['predictions'][0]
    for k, level in enumerate(TREE.level_names):
        prob = pred['probabilities'][level]
        assert prob.shape == (TREE.num_classes[k], 80, 60)
        np.testing.assert_allclose(prob.sum(0), 1, atol=1e-4)
        np.testing.assert_array_equal(prob.argmax(0), pred['levels'][level])
