"""tools/precompute_priors.py with random-weight ultralytics models, and
precomputed == online priors on the same image."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from mmhierseg.datasets.transforms.priors import LoadPoseAnnotations
from mmhierseg.priors import load_priors, prior_path
from ._stem_utils import H, W, normalize, random_images

ROOT = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CONFIG = osp.join(ROOT, 'configs', 'hierseg_deeplabv3.py')
# conf 0.01: random weights then "find" people (keypoint scores ~0.5)
POSE = dict(weights='yolov8n-pose.yaml', imgsz=96, conf=0.01, kpt_thr=0.5)


@pytest.fixture
def dataset(tmp_path):
    os.makedirs(tmp_path / 'JPEGImages')
    os.makedirs(tmp_path / 'gt_masks')
    images = random_images(3, seed=21)
    ids = ['im0', 'im1', 'im2']
    for i, rgb in zip(ids, images):
        cv2.imwrite(str(tmp_path / 'JPEGImages' / f'{i}.png'), rgb[..., ::-1])
        np.save(tmp_path / 'gt_masks' / f'{i}.npy', np.zeros((H, W),
                                                             np.uint8))
    (tmp_path / 'train_id.txt').write_text('im0\nim1\n')
    (tmp_path / 'val_id.txt').write_text('im2\n')
    return tmp_path, dict(zip(ids, images))


def _options(root, fastsam_weights, **pose):
    opts = [
        f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        'train_dataloader.dataset.img_suffix=.png',
        'val_dataloader.dataset.img_suffix=.png',
        'test_dataloader.dataset.img_suffix=.png',
        f'model.stem.sam.weights={fastsam_weights}', 'model.stem.sam.imgsz=96',
        'model.stem.sam.conf=1e-6'
    ]
    opts += [f'model.stem.pose.{k}={v}' for k, v in dict(POSE, **pose).items()]
    return ['--cfg-options'] + opts


def test_precompute_resume_shard_stale(dataset, fastsam_weights, capsys,
                                       load_tool):
    root, images = dataset
    tool = load_tool('precompute_priors')
    opts = _options(root, fastsam_weights)
    tool.main([CONFIG, '--shard', '1/2', '--batch-size', '2'] + opts)
    written = sorted(os.listdir(root / 'priors'))
    assert written == ['im1.npz']  # every 2nd image from the 2nd (sorted)
    tool.main([CONFIG, '--batch-size', '2'] + opts)
    out = capsys.readouterr().out
    assert '3 images, 1 already done, 2 to do on cpu' in out
    assert sorted(os.listdir(root / 'priors')) == [
        'im0.npz', 'im1.npz', 'im2.npz'
    ]  # atomic: no temporary file left
    people, source = load_priors(str(root / 'priors' / 'im0.npz'))
    assert people.image_size == (H, W) and people.mask.shape == (H, W)
    assert source['settings']['pose']['conf'] == 0.01
    assert 'sam.weights' in source['hashes']
    mtime = os.path.getmtime(root / 'priors' / 'im0.npz')
    tool.main([CONFIG] + opts)  # resumes: nothing to redo
    assert '3 already done, 0 to do' in capsys.readouterr().out
    assert os.path.getmtime(root / 'priors' / 'im0.npz') == mtime
    # other settings: the existing files are refused, --overwrite redoes
    stale = _options(root, fastsam_weights, conf=0.02)
    with pytest.raises(SystemExit, match='3 existing prior files were made '
                       'by other weights or settings.*--overwrite'):
        tool.main([CONFIG] + stale)
    tool.main([CONFIG, '--overwrite'] + stale)
    assert '0 already done, 3 to do' in capsys.readouterr().out
    assert load_priors(str(root / 'priors' / 'im0.npz'))[1][
        'settings']['pose']['conf'] == 0.02
    with pytest.raises(SystemExit) as exit_:  # argparse: exit 2, named
        tool.main([CONFIG, '--shard', '2/2'] + opts)
    assert exit_.value.code == 2
    assert "--shard: want i/n with 0 <= i < n (e.g. 0/4), got '2/2'" in \
        capsys.readouterr().err


def test_precomputed_and_online_priors_agree(dataset, fastsam_weights,
                                             make_stem, load_tool):
    """Same image, same random-weight models: the file drawn by
    LoadPoseAnnotations equals what the stem computes online."""
    root, images = dataset
    tool = load_tool('precompute_priors')
    tool.main([CONFIG, '--splits', 'val'] +
              _options(root, fastsam_weights))
    channels = ('mask', 'head', 'torso', 'upper_arm', 'lower_arm',
                'upper_leg', 'lower_leg')
    img_path = str(root / 'JPEGImages' / 'im2.png')
    assert osp.isfile(prior_path(img_path))
    results = LoadPoseAnnotations(channels=channels)(
        dict(img_path=img_path, img_shape=(H, W), ori_shape=(H, W)))
    offline = results['gt_pose_prior'].transpose(2, 0, 1)
    stem = make_stem(pose=dict(POSE), channels=channels)
    online = stem.compute_priors(normalize(images['im2'][None]))[0]
    assert offline.sum() > 0 and offline[1:].sum() > 0  # not trivially 0
    assert torch.equal(online, torch.from_numpy(offline).float())
    # and through the model's entry point: the batch's priors are used
    x = normalize(images['im2'][None])
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    sample = SegDataSample()
    sample.pose_prior = PixelData(
        data=torch.from_numpy(offline), metainfo=dict(channels=channels))
    assert torch.equal(
        stem.attach_priors(x, [sample])[:, 3:], online[None])
