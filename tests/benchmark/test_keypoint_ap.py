"""COCO's OKS keypoint AP (mmhierseg.benchmark.keypoint_ap) on cases
computed by hand, and against pycocotools where it is installed."""
import contextlib
import io

import numpy as np
import pytest

from mmhierseg.benchmark.keypoint_ap import (COCO_SIGMAS, OKS_THRESHOLDS,
                                             keypoint_ap, oks_matrix,
                                             person_areas)
from mmhierseg.priors import COCO_FLIP_INDICES, PersonPriors


def _person(x0=100., y0=50., w=80., h=200.):
    """A person's 17 keypoints spread over its box (all visible)."""
    rng = np.random.default_rng(3)
    kpts = np.stack([x0 + rng.uniform(0, w, 17), y0 + rng.uniform(0, h, 17)],
                    1)
    return kpts, np.array([x0, y0, x0 + w, y0 + h])


def _gt(people, area=4000.0):
    kpts = np.stack([k for k, _ in people])
    return dict(keypoints=kpts, visibility=np.full(kpts.shape[:2], 2),
                areas=np.full(len(people), area),
                boxes=np.stack([b for _, b in people]))


def test_perfect_predictions_give_ap_1():
    people = [_person(), _person(300.)]
    gt = _gt(people)
    dt = dict(keypoints=gt['keypoints'].copy(), scores=np.array([.9, .8]))
    res = keypoint_ap([gt], [dt])
    assert res['AP'] == pytest.approx(1.0) and res['AP50'] == 1.0
    assert res['num_gt'] == 2 and res['num_det'] == 2


def test_one_shifted_keypoint_gives_the_oks_of_the_formula():
    gt = _gt([_person()], area=4000.0)
    kpts = gt['keypoints'].copy()
    d = 30.0  # the left wrist (k = 9) moves 30 px
    kpts[0, 9, 0] += d
    expected = (16 + np.exp(-d ** 2 / (2 * 4000.0 *
                                       (2 * COCO_SIGMAS[9]) ** 2))) / 17
    oks = oks_matrix(gt['keypoints'], gt['visibility'], gt['areas'], kpts)
    assert oks[0, 0] == pytest.approx(expected)
    assert 0.94 < expected < 0.95  # (16 + 0.0007) / 17: not at t = 0.95
    res = keypoint_ap([gt], [dict(keypoints=kpts, scores=np.ones(1))])
    assert res['AP'] == pytest.approx((OKS_THRESHOLDS <= expected).mean())
    assert res['AP'] == pytest.approx(0.9)
    # every keypoint 6 px off: OKS = mean_k exp(-36 / (2 A (2 sigma_k)^2))
    off = gt['keypoints'] + [6.0, 0.0]
    mid = np.exp(-36 / (2 * 4000.0 * (2 * COCO_SIGMAS) ** 2)).mean()
    assert oks_matrix(gt['keypoints'], gt['visibility'], gt['areas'],
                      off)[0, 0] == pytest.approx(mid)
    assert keypoint_ap([gt], [dict(keypoints=off, scores=np.ones(1))])[
        'AP'] == pytest.approx((OKS_THRESHOLDS <= mid).mean())
    # a keypoint not labelled (visibility 0) does not count
    gt['visibility'][0, 9] = 0
    assert oks_matrix(gt['keypoints'], gt['visibility'], gt['areas'],
                      kpts)[0, 0] == pytest.approx(1.0)


def test_precision_recall_by_coco_rules():
    a, b = _person(), _person(400.)
    gt = _gt([a])
    far = np.asarray(b[0])[None]
    # a false positive scored above the true one: precision 1/2 everywhere
    dt = dict(keypoints=np.concatenate([far, gt['keypoints']]),
              scores=np.array([.9, .8]))
    assert keypoint_ap([gt], [dt])['AP'] == pytest.approx(0.5)
    # ranked below it: precision 1 up to recall 1
    dt['scores'] = np.array([.1, .8])
    assert keypoint_ap([gt], [dt])['AP'] == pytest.approx(1.0)
    # one of two people found: recall 0.5, i.e. 51 of the 101 recall points
    two = _gt([a, b])
    one = dict(keypoints=two['keypoints'][:1], scores=np.ones(1))
    assert keypoint_ap([two], [one])['AP'] == pytest.approx(51 / 101)
    # images without detections still count their people
    none = dict(keypoints=np.zeros((0, 17, 2)), scores=np.zeros(0))
    perfect = dict(keypoints=gt['keypoints'], scores=np.ones(1))
    assert keypoint_ap([gt, gt], [perfect, none])['AP'] == \
        pytest.approx(51 / 101)
    assert keypoint_ap([], [])['AP'] == -1.0


def test_people_without_labelled_keypoints_are_ignored():
    a, b = _person(), _person(400.)
    gt = _gt([a, b])
    gt['visibility'][1] = 0  # nobody labelled b: COCO ignores it
    dt = dict(keypoints=gt['keypoints'], scores=np.array([.5, .9]))
    res = keypoint_ap([gt], [dt])
    assert res['num_gt'] == 1 and res['AP'] == pytest.approx(1.0)


def test_left_right_agnostic_oks():
    gt = _gt([_person()])
    mirrored = gt['keypoints'][:, list(COCO_FLIP_INDICES)]
    dt = dict(keypoints=mirrored, scores=np.ones(1))
    assert keypoint_ap([gt], [dt])['AP'] < 0.5
    assert keypoint_ap([gt], [dt], flip_indices=COCO_FLIP_INDICES)['AP'] == \
        pytest.approx(1.0)


def test_person_areas_mask_in_box_or_box():
    mask = np.zeros((100, 100), bool)
    mask[10:30, 10:20] = True  # 200 px inside the first box
    p = PersonPriors(np.array([[5., 5., 25., 40.], [50., 50., 60., 70.]]),
                     np.zeros((2, 17, 2)), np.ones((2, 17)), (100, 100), mask)
    assert person_areas(p, 'box').tolist() == [700.0, 200.0]
    assert person_areas(p, 'mask').tolist() == [200.0, 0.0]
    assert person_areas(p._replace(mask=None)).tolist() == [700.0, 200.0]


def _coco_ap(gts, dts):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    images, anns, res = [], [], []
    for i, (g, d) in enumerate(zip(gts, dts)):
        images.append(dict(id=i + 1, width=1000, height=1000))
        for k, v, a, b in zip(g['keypoints'], g['visibility'], g['areas'],
                              g['boxes']):
            anns.append(dict(
                id=len(anns) + 1, image_id=i + 1, category_id=1, iscrowd=0,
                area=float(a), num_keypoints=int((v > 0).sum()),
                bbox=[float(b[0]), float(b[1]), float(b[2] - b[0]),
                      float(b[3] - b[1])],
                keypoints=np.concatenate([k, v[:, None]], 1).ravel().tolist()))
        for k, s in zip(d['keypoints'], d['scores']):
            res.append(dict(image_id=i + 1, category_id=1, score=float(s),
                            keypoints=np.concatenate(
                                [k, np.ones((17, 1))], 1).ravel().tolist()))
    coco = COCO()
    coco.dataset = dict(images=images, annotations=anns,
                        categories=[dict(id=1, name='person')])
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
        ev = COCOeval(coco, coco.loadRes(res), 'keypoints')
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats[0]


def test_same_ap_as_pycocotools():
    pytest.importorskip('pycocotools.cocoeval')
    rng = np.random.default_rng(0)
    for trial in range(12):
        gts, dts = [], []
        for _ in range(int(rng.integers(1, 5))):
            g = int(rng.integers(1, 4))
            k = rng.uniform(100, 900, (g, 1, 2)) + rng.normal(
                0, 40, (g, 17, 2))
            v = rng.choice([0, 1, 2], (g, 17), p=[.2, .2, .6])
            if trial % 3 == 0:
                v[0] = 0  # an ignored person
            b = np.concatenate([k.min(1), k.max(1)], 1)
            a = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) * rng.uniform(
                .3, .7, g)
            gts.append(dict(keypoints=k, visibility=v, areas=a, boxes=b))
            keep = rng.random(g) > .2
            dk = k[keep] + rng.normal(0, rng.uniform(1, 15),
                                      (int(keep.sum()), 17, 2))
            dk = np.concatenate([dk, rng.uniform(100, 900, (1, 17, 2))])
            dts.append(dict(keypoints=dk, scores=rng.random(len(dk))))
        assert keypoint_ap(gts, dts)['AP'] == pytest.approx(
            _coco_ap(gts, dts), abs=1e-9)
