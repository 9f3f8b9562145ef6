"""HierarchicalIoUMetric: hand-computed definitions, mmseg parity."""
import os.path as osp

import numpy as np
import pytest
import torch

import mmhierseg  # noqa: F401  (before mmseg: mmcv-lite placeholder)
from mmengine.structures import PixelData  # noqa: E402
from mmseg.evaluation import IoUMetric  # noqa: E402
from mmseg.structures import SegDataSample  # noqa: E402
from PIL import Image  # noqa: E402

from mmhierseg.evaluation import HierarchicalIoUMetric
from mmhierseg.evaluation.metrics.hier_iou_metric import confusion_areas
from mmhierseg.hierarchy import ClassHierarchy


def _sample(gt, pred, img_path='img.jpg', **levels):
    """A SegDataSample as dict (what the evaluator hands a metric)."""
    s = SegDataSample(metainfo=dict(img_path=img_path))
    s.gt_sem_seg = PixelData(data=torch.as_tensor(np.asarray(gt))[None])
    s.pred_sem_seg = PixelData(data=torch.as_tensor(np.asarray(pred))[None])
    for name, value in levels.items():
        s.set_data({
            f'pred_sem_seg_{name}':
            PixelData(data=torch.as_tensor(np.asarray(value))[None])
        })
    return s.to_dict()


def _metric(**kwargs):
    hier = ClassHierarchy.build('pascal_part')
    m = HierarchicalIoUMetric(**kwargs)
    m.dataset_meta = hier.metainfo()
    return m, hier


# Two samples of different sizes; leaf ids: 0 bg, 2 torso, 3 low_leg,
# 4 head, 5 up_leg.
GT_A = [[4, 4, 2, 2], [5, 5, 0, 255]]
PRED_A = [[4, 2, 2, 2], [3, 5, 0, 0]]
GT_B = [[4] * 4] * 3 + [[0] * 4]
PRED_B = [[4, 4, 0, 0]] + [[0] * 4] * 3


def test_hand_computed_accumulated_over_the_set():
    """mIoU sums intersections/unions over the set (hand-computed)."""
    m, _ = _metric()
    m.process({}, [_sample(GT_A, PRED_A)])
    m.process({}, [_sample(GT_B, PRED_B)])
    res = m.evaluate(2)
    # level 0, body: I = 6 + 2, U = 18
    assert res['mIoU0'] == pytest.approx(round(100 * 8 / 18, 2))
    # level 1: upper I=6 U=16, lower I=2 U=2
    assert res['mIoU1'] == pytest.approx(round(100 * (6 / 16 + 1) / 2, 2))
    # level 2: head 3/14, torso 2/3, up_leg 1/2, low_leg 0/1 (hands absent)
    leaf = (3 / 14 + 2 / 3 + 1 / 2 + 0) / 4
    assert res['mIoU2'] == pytest.approx(round(100 * leaf, 2))
    # the leaf level again, under a depth-independent name (save_best)
    assert res['mIoU_leaf'] == res['mIoU2']
    # leaf pixel accuracy over the 23 labelled pixels
    assert res['aAcc'] == pytest.approx(round(100 * 11 / 23, 2))
    # coarse levels derived from the leaf prediction: always consistent
    assert res['consistency'] == 100.0

    # The per-batch average of per-batch IoUs is another (wrong) number:
    # body IoU is 1.0 on A and 2/12 on B -> 58.33, not 44.44.
    per_batch = (1.0 + 2 / 12) / 2
    assert abs(res['mIoU0'] - 100 * per_batch) > 10


def test_one_batch_or_many_gives_the_same():
    m1, _ = _metric()
    m1.process({}, [_sample(GT_A, PRED_A), _sample(GT_B, PRED_B)])
    m2, _ = _metric()
    m2.process({}, [_sample(GT_B, PRED_B)])
    m2.process({}, [_sample(GT_A, PRED_A)])
    assert m1.evaluate(2) == m2.evaluate(2)


def _random_pair(rng, hier, shape):
    gt = rng.integers(0, hier.num_leaves, size=shape)
    gt[rng.random(shape) < 0.1] = 255
    pred = gt.copy()
    flip = rng.random(shape) < 0.4
    pred[flip] = rng.integers(0, hier.num_leaves, size=int(flip.sum()))
    pred[pred == 255] = 0
    return gt, pred


def test_leaf_level_equals_mmseg_iou_metric():
    """Per-class leaf IoU equals mmseg's IoUMetric on the same predictions."""
    rng = np.random.default_rng(0)
    hier = ClassHierarchy.build('pascal_part')
    samples = [
        _sample(*_random_pair(rng, hier, (h, w)))
        for h, w in [(9, 13), (16, 7), (5, 5), (12, 12)]
    ]
    ours, _ = _metric(classwise=True)
    ref = IoUMetric(iou_metrics=['mIoU'])
    ref.dataset_meta = hier.metainfo()
    for s in samples:
        ours.process({}, [s])
        ref.process({}, [s])
    ref_areas = tuple(zip(*ref.results))
    ref_class = IoUMetric.total_area_to_metrics(
        *[sum(a) for a in ref_areas], ['mIoU'])
    # the areas of the accumulated leaf confusion matrix are mmseg's own
    ours_areas = confusion_areas(sum(r['confusion'][-1] for r in ours.results))
    for ours_area, ref_area in zip(ours_areas, ref_areas):
        np.testing.assert_array_equal(ours_area.numpy(), sum(ref_area))
    ref_res = ref.evaluate(len(samples))
    res = ours.evaluate(len(samples))
    assert res['aAcc'] == ref_res['aAcc']
    for name, iou in zip(hier.leaf_names, ref_class['IoU']):
        assert res[f'IoU2.{name}'] == pytest.approx(
            float(np.round(iou * 100, 2)))
    # mmseg's mIoU includes background, ours excludes it
    fg = hier.foreground_indices(-1)
    assert res['mIoU2'] == pytest.approx(
        float(np.round(np.nanmean(ref_class['IoU'][fg]) * 100, 2)))
    assert res['mIoU2'] != ref_res['mIoU']


def test_every_level_equals_mmseg_areas_of_that_level():
    """Each level's confusion matrix gives mmseg's areas of that level's
    ground truth (leaf labels through the tree) against its own,
    independently predicted map (inconsistent with the leaf here)."""
    rng = np.random.default_rng(2)
    m, hier = _metric()
    gt, pred = _random_pair(rng, hier, (13, 17))
    coarse = {hier.level_names[k]: rng.integers(0, n, size=gt.shape)
              for k, n in enumerate(hier.num_classes[:-1])}
    m.process({}, [_sample(gt, pred, **coarse)])
    preds = [coarse[name] for name in hier.level_names[:-1]] + [pred]
    for k, cm in enumerate(m.results[0]['confusion']):
        ref = IoUMetric.intersect_and_union(
            torch.as_tensor(preds[k]), torch.as_tensor(hier.to_level(gt, k)),
            hier.num_classes[k], 255)
        for ours, theirs in zip(confusion_areas(cm), ref):
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_coarse_levels_derived_from_leaf_only_predictions():
    """A leaf-only prediction is lifted through the tree."""
    rng = np.random.default_rng(1)
    hier = ClassHierarchy.build('pascal_part')
    pairs = [_random_pair(rng, hier, (10, 11)) for _ in range(3)]
    leaf_only, _ = _metric()
    explicit, _ = _metric()
    for gt, pred in pairs:
        leaf_only.process({}, [_sample(gt, pred)])
        explicit.process({}, [
            _sample(
                gt, pred, **{
                    hier.level_names[k]: hier.to_level(pred, k)
                    for k in range(hier.num_levels - 1)
                })
        ])
    assert all(r['derived'] == [True, True, False]
               for r in leaf_only.results)
    assert all(r['derived'] == [False, False, False]
               for r in explicit.results)
    a, b = leaf_only.evaluate(3), explicit.evaluate(3)
    assert a == b
    # and the derived body level really is body-vs-background of the leaves
    gt_all = np.concatenate([g.ravel() for g, _ in pairs])
    pred_all = np.concatenate([p.ravel() for _, p in pairs])
    valid = gt_all != 255
    body_gt, body_pred = gt_all[valid] > 0, pred_all[valid] > 0
    iou = (body_gt & body_pred).sum() / (body_gt | body_pred).sum()
    assert a['mIoU0'] == pytest.approx(round(100 * iou, 2))


def test_given_level_predictions_are_used_and_consistency_counted():
    m, hier = _metric()
    half = np.ones((2, 4), dtype=np.int64)  # all upper_body
    body = np.ones((2, 4), dtype=np.int64)  # all body
    m.process({}, [_sample(GT_A, PRED_A, body=body, half=half)])
    res = m.evaluate(1)
    # leaf pred halves: [1,1,1,1,2,2,0,0] vs all-1 -> 4 of 8 pixels agree
    assert res['consistency'] == 50.0
    # level 1 uses the given map: upper I=4 U=7 (7 labelled px), lower I=0
    assert res['mIoU1'] == pytest.approx(round(100 * (4 / 7 + 0) / 2, 2))
    # level 0 from the given all-body map: I=6, U=7
    assert res['mIoU0'] == pytest.approx(round(100 * 6 / 7, 2))


def test_tree_only_from_dataset_meta_and_clear_errors():
    with pytest.raises(TypeError, match=r"\['hierarchy'\].*dataset"):
        HierarchicalIoUMetric(hierarchy='pascal_part')  # one source: meta
    HierarchicalIoUMetric(keep_results=True)  # mmseg's test.py sets it
    bare = HierarchicalIoUMetric()
    bare.dataset_meta = dict(classes=('a', 'b'))
    with pytest.raises(ValueError, match='no label tree'):
        bare.process({}, [_sample(GT_A, PRED_A)])
    wrong = HierarchicalIoUMetric()
    meta = ClassHierarchy.build('pascal_part').metainfo()
    meta['classes'] = tuple(reversed(meta['classes']))
    wrong.dataset_meta = meta
    with pytest.raises(ValueError, match='do not match'):
        wrong.process({}, [_sample(GT_A, PRED_A)])


def test_other_tree_sizes_keys_from_hierarchy():
    tree = dict(
        levels=('fg', 'leaf'),
        leaves=('bg', 'a', 'b', 'c'),
        background='bg',
        tree=dict(x=('a', 'b'), y=('c', )))
    m = HierarchicalIoUMetric()
    m.dataset_meta = ClassHierarchy(tree).metainfo()
    m.process({}, [_sample([[1, 2], [3, 0]], [[1, 1], [3, 0]])])
    res = m.evaluate(1)
    assert set(res) == {'mIoU0', 'mIoU1', 'mIoU_leaf', 'aAcc', 'consistency'}
    assert res['mIoU_leaf'] == res['mIoU1']
    # level 0: x I=2 U=2, y I=1 U=1
    assert res['mIoU0'] == 100.0
    # leaf: a 1/2, b 0/1, c 1/1
    assert res['mIoU1'] == pytest.approx(round(100 * 1.5 / 3, 2))


def test_output_dir_and_format_only(tmp_path):
    out = str(tmp_path / 'preds')
    m, hier = _metric(output_dir=out, format_only=True)
    m.process({}, [_sample(GT_A, PRED_A, img_path='/x/abc.jpg')])
    assert m.evaluate(1) == {}
    leaf = np.array(Image.open(osp.join(out, 'abc.png')))
    np.testing.assert_array_equal(leaf, PRED_A)
    half = np.array(Image.open(osp.join(out, 'half', 'abc.png')))
    np.testing.assert_array_equal(half, hier.to_level(np.array(PRED_A), 1))
    with pytest.raises(ValueError, match='output_dir'):
        HierarchicalIoUMetric(format_only=True)


def test_invalid_prediction_values_raise():
    m, _ = _metric()
    with pytest.raises(ValueError, match='outside'):
        m.process({}, [_sample(GT_A, PRED_A, half=np.full((2, 4), 7))])


def test_ground_truth_outside_the_tree_raises():
    """A leaf id the tree does not have is an error, not an ignored pixel."""
    m, _ = _metric()
    gt = np.array(GT_A)
    gt[0, 0] = 9  # 7 leaves: 9 is neither a leaf id nor 255
    with pytest.raises(ValueError, match=r'values \[9\] outside the tree'):
        m.process({}, [_sample(gt, PRED_A)])
