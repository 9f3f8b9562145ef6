"""The person mask without FastSAM: drawn from the keypoints, chosen when
FastSAM weights are absent, and written by the generator's keypoint mode."""
import numpy as np
import pytest
import torch

from mmhierseg.priors import (KEYPOINT_MASK, PriorDetector, keypoint_person_mask,
                              load_priors, mask_maker, render_part_priors)
from mmhierseg.priors import person_mask
from tests.models.stems._stem_utils import (H, MEAN, POSE, STANDING, STD,
                                            FakePose, normalize, pose_result,
                                            random_images)


def _standing():
    box, kpts, scores = STANDING
    return kpts[None], scores[None], box[None]


def test_keypoint_mask_covers_the_parts_and_grows():
    kpts, scores, boxes = _standing()
    mask = keypoint_person_mask(kpts, scores, boxes, H, 96)
    parts = render_part_priors(kpts, scores, boxes, H, 96).any(0)
    assert mask.dtype == bool and mask.shape == (H, 96)
    assert (mask >= parts).all() and mask.sum() > parts.sum()
    thin = keypoint_person_mask(kpts, scores, boxes, H, 96, grow=1.0)
    np.testing.assert_array_equal(thin, parts)
    # nothing outside the person's neighbourhood
    x0, y0, x1, y1 = boxes[0]
    assert not mask[:, :int(x0) - 6].any() and not mask[:, int(x1) + 6:].any()


def test_keypoint_mask_without_people_or_visible_joints():
    assert not keypoint_person_mask(np.zeros((0, 17, 2)), None, None, 8,
                                    9).any()
    kpts, scores, boxes = _standing()
    assert not keypoint_person_mask(kpts, scores * 0, boxes, H, 96).any()


def test_mask_maker_choices(tmp_path, monkeypatch):
    monkeypatch.setenv('MMHIERSEG_OFFLINE', '1')
    assert mask_maker(('head', ), dict(weights='FastSAM-s.pt')) is None
    assert mask_maker(('mask', ), None) == KEYPOINT_MASK
    kept = dict(KEYPOINT_MASK, grow=2.0)
    assert mask_maker(('mask', ), kept) == kept
    weights = tmp_path / 'fastsam.pt'
    weights.write_bytes(b'x')  # resolved only, never loaded here
    sam = dict(weights=str(weights), imgsz=64)
    assert mask_maker(('mask', ), sam) == sam
    # absent FastSAM weights: keypoints, said once per weights name
    person_mask._warned.discard('FastSAM-x.pt')
    said = []
    monkeypatch.setattr(person_mask, 'print_log',
                        lambda msg, **kw: said.append((msg, kw)))
    for _ in range(2):
        assert mask_maker(('mask', ),
                          dict(weights='FastSAM-x.pt')) == KEYPOINT_MASK
    assert len(said) == 1 and said[0][1]['level'] == 30  # one warning
    assert 'drawn from the keypoints' in said[0][0]
    assert 'FastSAM-x.pt' in said[0][0] and 'model.stem.sam' in said[0][0]


def test_detector_draws_the_mask_from_keypoints():
    det = PriorDetector(dict(POSE), None, mask=True)
    det.pose_backend = FakePose([pose_result(STANDING), pose_result()])
    images = list(random_images(2)[..., ::-1])
    found, status = det.detect(images, torch.device('cpu'))
    kpts, scores, boxes = _standing()
    np.testing.assert_array_equal(
        found[0].mask, keypoint_person_mask(kpts, scores, boxes, H, 96))
    assert status == ['', 'empty']
    assert found[1].mask is not None and not found[1].mask.any()
    assert det.segmenter is None  # no FastSAM built
    # without the mask channel no mask is made
    det = PriorDetector(dict(POSE), None)
    det.pose_backend = FakePose([pose_result(STANDING)])
    assert det.detect(images[:1], 'cpu')[0][0].mask is None


def test_stem_without_sam_has_a_keypoint_mask_channel():
    from mmseg.registry import MODELS
    stem = MODELS.build(dict(type='PosePriorStem', pose=dict(POSE), sam=None,
                             channels=('mask', 'head'), mean=MEAN, std=STD))
    stem.detector.pose_backend = FakePose([pose_result(STANDING)])
    priors = stem.compute_priors(normalize(random_images(1)))
    kpts, scores, boxes = _standing()
    np.testing.assert_array_equal(
        priors[0, 0].numpy().astype(bool),
        keypoint_person_mask(kpts, scores, boxes, H, 96))
    assert priors[0, 1].sum() > 0


def test_generator_keypoint_mask_mode(tmp_path):
    from mmhierseg.testing.synthetic import make_synthetic_dataset
    from mmhierseg.testing.synthetic_priors import with_keypoint_mask
    args = dict(num_train=2, num_val=1, seed=3)
    make_synthetic_dataset(str(tmp_path / 'o'), **args)
    make_synthetic_dataset(str(tmp_path / 'k'), prior_mask='keypoints',
                           prior_degrade=dict(jitter=0.0, drop=0.3, miss=0.0),
                           **args)
    name = 'priors/synth_000000.npz'
    oracle, _ = load_priors(str(tmp_path / 'o' / name))
    drawn, source = load_priors(str(tmp_path / 'k' / name))
    assert source['mask'] == KEYPOINT_MASK
    np.testing.assert_array_equal(drawn.mask, with_keypoint_mask(drawn).mask)
    assert drawn.mask.any() and not np.array_equal(drawn.mask, oracle.mask)
    with pytest.raises(ValueError, match='prior_mask'):
        make_synthetic_dataset(str(tmp_path / 'x'), prior_mask='fastsam',
                               **args)


def test_missing_fastsam_path_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match='path does not exist'):
        mask_maker(('mask', ), dict(weights=str(tmp_path / 'sam.pt')))


def test_online_priors_are_kept_in_the_samples():
    """Predictions carry the priors computed for them (panels draw them)."""
    from mmengine.structures import PixelData  # noqa: F401
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample
    stem = MODELS.build(dict(type='PosePriorStem', pose=dict(POSE), sam=None,
                             channels=('mask', 'head'), mean=MEAN, std=STD))
    stem.detector.pose_backend = FakePose([pose_result(STANDING)])
    x = normalize(random_images(1))
    sample = SegDataSample(metainfo=dict(img_shape=(H, 90)))
    out = stem.attach_priors(x, [sample])
    assert out.shape == (1, 5, H, 96)
    assert sample.pose_prior.metainfo['source'] == 'online'
    assert tuple(sample.pose_prior.data.shape) == (2, H, 90)
    assert torch.equal(out[0, 3:, :, :90], sample.pose_prior.data)
    assert not out[0, 3:, :, 90:].any()  # padding stays empty
