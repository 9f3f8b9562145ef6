"""HierarchicalIoUMetric on a set of mixed label levels: each level counts
the images labelled at least that finely, and says how many."""
import numpy as np
import pytest
import torch

import mmhierseg  # noqa: F401  (before mmseg: mmcv-lite placeholder)
from mmengine.structures import PixelData  # noqa: E402
from mmseg.structures import SegDataSample  # noqa: E402

from mmhierseg.evaluation import HierarchicalIoUMetric
from mmhierseg.evaluation.metrics import hier_iou_metric
from mmhierseg.hierarchy import ClassHierarchy

TREE = ClassHierarchy.build('pascal_part')
# leaf ids: 0 bg, 2 torso, 3 low_leg, 4 head, 5 up_leg
GT_A = [[4, 4, 2, 2], [5, 5, 0, 255]]
PRED_A = [[4, 2, 2, 2], [3, 5, 0, 0]]
BODY_B = [[1, 1, 0, 0], [1, 255, 0, 0]]  # body level only
PRED_B = [[4, 2, 0, 0], [0, 0, 0, 0]]


def _t(x):
    return PixelData(data=torch.as_tensor(np.asarray(x))[None])


def _part(gt, pred):
    s = SegDataSample(metainfo=dict(img_path='a.jpg', label_level=2))
    s.gt_sem_seg, s.pred_sem_seg = _t(gt), _t(pred)
    return s.to_dict()


def _body(body, pred):
    """As PackHierSegInputs packs a body-labelled image."""
    s = SegDataSample(metainfo=dict(img_path='b.jpg', label_level=0))
    ignore = np.full(np.shape(body), 255)
    s.gt_sem_seg, s.pred_sem_seg = _t(ignore), _t(pred)
    s.gt_sem_seg_body, s.gt_sem_seg_half = _t(body), _t(ignore)
    return s.to_dict()


def _evaluate(*samples):
    m = HierarchicalIoUMetric()
    m.dataset_meta = TREE.metainfo()
    m.process({}, list(samples))
    return m.evaluate(len(samples))


def test_coarse_images_count_for_coarse_levels_only():
    mixed = _evaluate(_part(GT_A, PRED_A), _body(BODY_B, PRED_B))
    alone = _evaluate(_part(GT_A, PRED_A))
    # body: A (I 6, U 6) + B (I 2, gt 3, pred 2, U 3) -> 8 / 9
    assert mixed['mIoU0'] == pytest.approx(round(100 * 8 / 9, 2))
    assert alone['mIoU0'] == 100.0
    # the finer levels: A alone, B's predictions there never count
    for key in ('mIoU1', 'mIoU2', 'aAcc'):
        assert mixed[key] == alone[key], key
    assert [mixed[f'images_level{k}'] for k in range(3)] == [2, 1, 1]
    # a set labelled at one level reports the keys it always did
    assert not any(k.startswith('images_level') for k in alone)


def test_a_level_without_labelled_images_is_nan_with_a_warning(monkeypatch):
    logged = []
    real = hier_iou_metric.print_log
    monkeypatch.setattr(
        hier_iou_metric, 'print_log',
        lambda msg, *a, **kw: (logged.append(msg), real(msg, *a, **kw)))
    res = _evaluate(_body(BODY_B, PRED_B))
    assert res['mIoU0'] == pytest.approx(round(100 * 2 / 3, 2))
    assert np.isnan(res['mIoU1']) and np.isnan(res['mIoU2'])
    assert [res[f'images_level{k}'] for k in range(3)] == [1, 0, 0]
    warned = [m for m in logged if 'no evaluated image' in m]
    assert len(warned) == 2 and 'level 2 (part)' in warned[1]
    table = [m for m in logged if m.startswith('per level results')][-1]
    assert 'images' in table
