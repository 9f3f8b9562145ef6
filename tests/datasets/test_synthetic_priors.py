"""Oracle pose priors of the synthetic generator, and their degradation."""
import os
from pathlib import Path

import numpy as np
import pytest

from mmhierseg import ClassHierarchy
from mmhierseg.priors import PRIOR_CHANNELS, draw_priors, load_priors
from mmhierseg.testing.synthetic import make_synthetic_dataset
from mmhierseg.testing.synthetic_priors import degrade_priors

# leaves a visible joint may lie on (it sits where two parts meet)
ALLOWED = [{'head'}] * 5 + [{'torso', 'up_hand', 'head'}] * 2 + [
    {'up_hand', 'low_hand'}] * 2 + [{'low_hand'}] * 2 + [
        {'torso', 'up_leg'}] * 2 + [{'up_leg', 'low_leg'}] * 2 + [
            {'low_leg'}] * 2


@pytest.fixture
def synthetic(tiny_data):
    """The shared synthetic set (4 train, 2 val, seed 0), read-only."""
    return Path(tiny_data)


def test_oracle_priors_mark_visible_hidden_and_outside(synthetic):
    tree = ClassHierarchy.build('pascal_part')
    ids = sorted(f[:-4] for f in os.listdir(synthetic / 'gt_masks'))
    assert sorted(f[:-4] for f in os.listdir(synthetic / 'priors')) == ids
    flags = np.zeros(3, int)
    for i in ids:
        people, source = load_priors(str(synthetic / 'priors' / f'{i}.npz'))
        label = np.load(synthetic / 'gt_masks' / f'{i}.npy')
        assert source['settings'] == dict(kind='synthetic_oracle')
        assert people.image_size == label.shape
        np.testing.assert_array_equal(people.mask, label != 0)
        vis = people.visibility
        flags += np.bincount(vis.ravel(), minlength=3)
        np.testing.assert_array_equal(people.scores, vis == 2)
        h, w = label.shape
        x, y = people.keypoints[..., 0], people.keypoints[..., 1]
        outside = (x < 0) | (x >= w) | (y < 0) | (y >= h)
        np.testing.assert_array_equal(vis == 0, outside)
        for p, k in zip(*np.nonzero(vis == 2)):
            leaf = tree.leaf_names[label[int(y[p, k]), int(x[p, k])]]
            assert leaf in ALLOWED[k], (i, p, k, leaf)
        # boxes hold the people's pixels
        assert (people.boxes[:, 2] > people.boxes[:, 0]).all()
        assert people.mask[people.mask].size <= sum(
            (b[2] - b[0]) * (b[3] - b[1]) for b in people.boxes)
    assert (flags > 0).all()  # visible, hidden and outside joints all occur


def test_priors_do_not_change_the_images(synthetic, tmp_path):
    make_synthetic_dataset(str(tmp_path), num_train=4, num_val=2, seed=0,
                           priors=False)  # tiny_data's settings
    assert not (tmp_path / 'priors').exists()
    for f in os.listdir(tmp_path / 'gt_masks'):
        assert (tmp_path / 'gt_masks' / f).read_bytes() == (
            synthetic / 'gt_masks' / f).read_bytes()


def test_degrade(synthetic, tmp_path):
    people, _ = load_priors(str(synthetic / 'priors' / 'synth_000000.npz'))
    rng = np.random.default_rng(0)
    same = degrade_priors(people, rng)
    np.testing.assert_array_equal(same.keypoints, people.keypoints)
    np.testing.assert_array_equal(same.mask, people.mask)
    assert not degrade_priors(people, rng, drop=1.0).scores.any()
    gone = degrade_priors(people, rng, miss=1.0)
    assert len(gone.boxes) == 0 and not gone.mask.any()
    assert not draw_priors(gone, PRIOR_CHANNELS).any()
    noisy = degrade_priors(people, rng, jitter=0.05)
    diag = np.hypot(*(people.boxes[:, 2:] - people.boxes[:, :2]).T)
    err = (noisy.keypoints - people.keypoints) / diag[:, None, None]
    assert 0.02 < err.std() < 0.08  # std 0.05 of the box diagonal
    np.testing.assert_array_equal(noisy.scores, people.scores)
    # the generator's option writes degraded files (own random stream)
    make_synthetic_dataset(str(tmp_path), num_train=2, num_val=0, seed=0,
                           prior_degrade=dict(jitter=0.0, drop=1.0, miss=0))
    worse, source = load_priors(str(tmp_path / 'priors' /
                                    'synth_000000.npz'))
    assert source['degrade'] == dict(jitter=0.0, drop=1.0, miss=0)
    assert not worse.scores.any() and len(worse.boxes) == len(people.boxes)


@pytest.mark.parametrize('view,left_on_image_right',
                         [('front', True), ('back', False)])
def test_oracle_keypoints_are_the_persons_own_left_and_right(
        view, left_on_image_right):
    """COCO's ``left_*`` is the person's own side: on the image's right when
    they face the camera, on its left seen from behind (what a real pose
    model reports)."""
    from mmhierseg.testing.synthetic_priors import coco_keypoints
    joints = dict(head_c=(0.0, -1.0))
    for part, y in (('shoulder', -0.8), ('elbow', -0.5), ('wrist', -0.2),
                    ('hip', 0.0), ('knee', 0.4), ('ankle', 0.8)):
        joints.update({f'l_{part}': (-0.2, y), f'r_{part}': (0.2, y)})
    sk = dict(joints=joints, head_ax=(0.1, 0.1), facing=1)
    pts, _ = coco_keypoints(sk, view, True, lambda p: np.asarray(p))
    x = pts[:, 0]
    for left in (1, 3, 5, 7, 9, 11, 13, 15):  # eye, ear, shoulder ... ankle
        assert (x[left] > x[left + 1]) == left_on_image_right, left
