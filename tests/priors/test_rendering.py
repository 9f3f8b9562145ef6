"""Pixel-level tests of render_part_priors (no model involved)."""
import cv2
import numpy as np
import pytest

from mmhierseg.priors.rendering import (COCO_FLIP_INDICES,
                                        DEFAULT_PART_WIDTHS, PART_CHANNELS,
                                        render_part_priors)

L_SHO, R_SHO, L_ELB, R_ELB, L_WRI, R_WRI = 5, 6, 7, 8, 9, 10
L_HIP, R_HIP, L_KNE, R_KNE, L_ANK, R_ANK = 11, 12, 13, 14, 15, 16


def _person(points, box):
    """(17, 2) keypoints with the given {index: (x, y)} visible (score 0.9),
    every other keypoint invisible (score 0)."""
    kpts = np.zeros((17, 2), np.float64)
    scores = np.zeros(17, np.float64)
    for k, (x, y) in points.items():
        kpts[k] = (x, y)
        scores[k] = 0.9
    return kpts, scores, np.asarray(box, np.float64)


def _stack(*people):
    kpts, scores, boxes = zip(*people)
    return np.stack(kpts), np.stack(scores), np.stack(boxes)


def _segment_distance(px, py, a, b):
    """Euclidean distance from (px, py) to segment ab, written differently
    from the renderer (perpendicular distance inside, end points outside)."""
    ax, ay = a
    bx, by = b
    vx, vy = bx - ax, by - ay
    length = np.hypot(vx, vy)
    along = ((px - ax) * vx + (py - ay) * vy) / length
    if along <= 0:
        return np.hypot(px - ax, py - ay)
    if along >= length:
        return np.hypot(px - bx, py - by)
    return abs((px - ax) * vy - (py - ay) * vx) / length


def test_limb_matches_independent_reference_pixel_exactly():
    h, w = 60, 80
    a, b = (20.25, 30.5), (60.75, 44.0)
    box = (10.0, 5.0, 70.0, 55.0)  # diagonal 78.1 -> radius 0.05 * 78.1 / 2
    kpts, scores, boxes = _stack(_person({L_SHO: a, L_ELB: b}, box))
    maps = render_part_priors(
        kpts, scores, boxes, h, w, channels=('upper_arm', ))
    assert maps.shape == (1, h, w) and maps.dtype == np.float32

    radius = 0.5 * DEFAULT_PART_WIDTHS['upper_arm'] * np.hypot(60.0, 50.0)
    assert radius > 1.5  # the scale, not the 1 px floor, sets the width
    ref = np.zeros((h, w), np.float32)
    margins = []
    for i in range(h):
        for j in range(w):
            d = _segment_distance(j + 0.5, i + 0.5, a, b)
            margins.append(abs(d - radius))
            ref[i, j] = d <= radius
    assert min(margins) > 1e-6  # no pixel center sits on the boundary
    assert ref.sum() > 50
    np.testing.assert_array_equal(maps[0], ref)

    # An OpenCV drawing of a thicker segment agrees up to edge pixels
    # (cv2 puts pixel centers on integers, hence the -0.5 shift).
    (thick, ) = render_part_priors(
        kpts,
        scores,
        boxes,
        h,
        w,
        channels=('upper_arm', ),
        part_widths=dict(upper_arm=0.15))
    radius = 0.5 * 0.15 * np.hypot(60.0, 50.0)
    cv = np.zeros((h, w), np.uint8)
    shift = 4
    pa = tuple(int(round((v - 0.5) * 16)) for v in a)
    pb = tuple(int(round((v - 0.5) * 16)) for v in b)
    cv2.line(
        cv,
        pa,
        pb,
        1,
        thickness=int(round(2 * radius)),
        lineType=cv2.LINE_8,
        shift=shift)
    inter = np.logical_and(cv > 0, thick > 0).sum()
    union = np.logical_or(cv > 0, thick > 0).sum()
    assert thick.sum() > 2 * maps[0].sum()
    assert inter / union > 0.85


def test_both_sides_share_one_channel_and_channel_order():
    h, w = 64, 64
    person = _person(
        {
            L_HIP: (20.0, 20.0),
            L_KNE: (20.0, 40.0),
            R_HIP: (44.0, 20.0),
            R_KNE: (44.0, 40.0),
            0: (32.0, 6.0)
        }, (10.0, 0.0, 54.0, 60.0))
    maps = render_part_priors(
        *_stack(person), h, w, channels=('upper_leg', 'head'))
    upper_leg, head = maps
    # both thighs (column 20 and 44, rows 20..40) in channel 0
    assert upper_leg[30, 20] == 1 and upper_leg[30, 44] == 1
    assert upper_leg[30, 32] == 0  # between the legs
    assert upper_leg[10, 20] == 0  # above the hip, beyond the round cap
    # the head disk around the nose, in channel 1 only
    assert head[6, 32] == 1 and upper_leg[6, 32] == 0
    assert head[40, 32] == 0
    # no other channel was drawn: legs only below row 11
    assert not upper_leg[:12].any()


def test_coordinates_above_255_are_not_wrapped():
    h, w = 300, 500
    person = _person({
        L_KNE: (400.0, 100.0),
        L_ANK: (400.0, 250.0)
    }, (380.0, 90.0, 420.0, 260.0))
    (lower_leg, ) = render_part_priors(
        *_stack(person), h, w, channels=('lower_leg', ))
    radius = 0.5 * DEFAULT_PART_WIDTHS['lower_leg'] * np.hypot(40.0, 170.0)
    cols = np.nonzero(lower_leg[175])[0]
    # pixel centers c + 0.5 within radius of x = 400
    expect = [c for c in range(w) if abs(c + 0.5 - 400.0) <= radius]
    np.testing.assert_array_equal(cols, expect)
    assert 399 in cols and 400 in cols
    assert lower_leg[100:250, 400].all()
    # uint8 casting would have put it at x = 400 - 256 = 144, y = 250 - 256
    assert not lower_leg[:, 100:200].any()
    assert not lower_leg[:, :300].any()


def _flip(kpts, scores, boxes, width):
    kf = kpts[:, COCO_FLIP_INDICES].copy()
    sf = scores[:, COCO_FLIP_INDICES].copy()
    vis = ~((kf[..., 0] == 0) & (kf[..., 1] == 0))
    kf[..., 0] = np.where(vis, width - kf[..., 0], 0)
    bf = boxes.copy()
    bf[:, 0], bf[:, 2] = width - boxes[:, 2], width - boxes[:, 0]
    return kf, sf, bf


def test_horizontal_flip_invariance():
    rng = np.random.default_rng(0)
    h, w = 96, 120
    people = []
    for _ in range(3):
        pts = {
            k: (rng.integers(8, 4 * w - 8) / 4, rng.integers(8, 4 * h - 8) / 4)
            for k in range(17)
        }
        people.append(
            _person(pts, (rng.integers(0, 40), rng.integers(
                0, 30), rng.integers(60, w), rng.integers(60, h))))
    kpts, scores, boxes = _stack(*people)
    scores[0, [3, 8, 14]] = 0.1  # a few invisible points, asymmetric
    maps = render_part_priors(kpts, scores, boxes, h, w)
    flipped = render_part_priors(*_flip(kpts, scores, boxes, w), h, w)
    for c in range(len(PART_CHANNELS)):
        assert maps[c].any(), PART_CHANNELS[c]
    # the scene itself is not mirror-symmetric, so this is not trivial
    assert not np.array_equal(maps, maps[:, :, ::-1])
    np.testing.assert_array_equal(flipped, maps[:, :, ::-1])


def test_invisible_keypoints_are_skipped():
    h, w = 64, 64
    box = (0.0, 0.0, 60.0, 60.0)
    pts = {
        L_SHO: (20.0, 20.0),
        L_ELB: (20.0, 40.0),
        L_WRI: (20.0, 58.0),
        R_SHO: (44.0, 20.0),
        R_ELB: (44.0, 40.0),
        R_WRI: (0.0, 0.0),  # "not visible" as ultralytics reports it
    }
    kpts, scores, boxes = _stack(_person(pts, box))
    scores[0, L_ELB] = 0.3  # below kpt_thr
    upper, lower = render_part_priors(
        kpts,
        scores,
        boxes,
        h,
        w,
        channels=('upper_arm', 'lower_arm'),
        kpt_thr=0.5)
    # left arm: elbow invisible -> neither segment is drawn
    assert not upper[:, :32].any() and not lower[:, :32].any()
    # right upper arm drawn; right lower arm ends at (0, 0) -> not drawn
    assert upper[30, 44] == 1
    assert not lower.any()
    # with a lower threshold the left elbow becomes usable
    upper2, lower2 = render_part_priors(
        kpts,
        scores,
        boxes,
        h,
        w,
        channels=('upper_arm', 'lower_arm'),
        kpt_thr=0.25)
    assert upper2[30, 20] == 1 and lower2[50, 20] == 1
    assert not lower2[:, 32:].any()  # still no segment to (0, 0)


def test_torso_polygon_and_band():
    h, w = 80, 80
    quad = {
        L_SHO: (20.0, 20.0),
        R_SHO: (60.0, 20.0),
        L_HIP: (24.0, 60.0),
        R_HIP: (56.0, 60.0)
    }
    (torso, ) = render_part_priors(
        *_stack(_person(quad, (10, 5, 70, 75))), h, w, channels=('torso', ))
    assert torso[40, 40] == 1 and torso[25, 22] == 1
    assert torso[70, 40] == 0 and torso[40, 5] == 0 and torso[5, 40] == 0
    # only the shoulders visible: a band along the shoulder line
    sho = {L_SHO: (20.0, 20.0), R_SHO: (60.0, 20.0)}
    (band, ) = render_part_priors(
        *_stack(_person(sho, (10, 5, 70, 75))), h, w, channels=('torso', ))
    assert band[20, 40] == 1 and band[40, 40] == 0
    # a single torso point draws nothing
    one = {L_SHO: (20.0, 20.0)}
    (none, ) = render_part_priors(
        *_stack(_person(one, (10, 5, 70, 75))), h, w, channels=('torso', ))
    assert not none.any()


def test_nobody_and_bad_channel():
    maps = render_part_priors(
        np.zeros((0, 17, 2)), np.zeros((0, 17)), np.zeros((0, 4)), 20, 30)
    assert maps.shape == (len(PART_CHANNELS), 20, 30) and not maps.any()
    with pytest.raises(ValueError, match='mask'):
        render_part_priors(
            np.zeros((0, 17, 2)), None, None, 20, 30, channels=('mask', ))
