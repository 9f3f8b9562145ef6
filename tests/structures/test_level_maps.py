"""level_maps: the one reader of per-level maps (metric and visualizer)."""
import pytest
import torch
from mmengine.structures import PixelData

import mmhierseg  # noqa: F401  (before mmseg: mmcv-lite placeholder)
from mmseg.structures import SegDataSample  # noqa: E402

from mmhierseg.hierarchy import ClassHierarchy  # noqa: E402
from mmhierseg.structures import level_maps  # noqa: E402

HIER = ClassHierarchy.build('pascal_part')
LEAF = torch.tensor([[0, 1, 3, 4]])


def _sample(**fields):
    s = SegDataSample()
    s.set_data({k: PixelData(data=v[None]) for k, v in fields.items()})
    return s


@pytest.mark.parametrize('as_dict', [False, True])
def test_given_levels_read_missing_levels_derived(as_dict):
    half = torch.tensor([[2, 2, 2, 2]])  # deliberately not the leaf's halves
    s = _sample(pred_sem_seg=LEAF, pred_sem_seg_half=half)
    maps = level_maps(s.to_dict() if as_dict else s, HIER)
    assert maps[2].tolist() == LEAF.tolist()
    assert maps[1].tolist() == half.tolist()  # read, not derived
    assert maps[0].tolist() == [[0, 1, 1, 1]]  # derived from the leaf
    gts = level_maps(_sample(gt_sem_seg=LEAF), HIER, 'gt_sem_seg')
    assert gts[1].tolist() == [[0, 1, 2, 1]]
    assert level_maps(s, HIER, 'gt_sem_seg') is None


def test_shape_mismatch_is_named():
    s = _sample(pred_sem_seg=LEAF, pred_sem_seg_body=torch.zeros(2, 2))
    with pytest.raises(ValueError, match='pred_sem_seg_body has shape'):
        level_maps(s, HIER)
