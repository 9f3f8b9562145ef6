"""HierSegLocalVisualizer draws one row per level with the tree's palettes."""
import numpy as np
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmhierseg.hierarchy import ClassHierarchy
from mmhierseg.visualization import HierSegLocalVisualizer


def test_rows_per_level_and_colours(tmp_path):
    h = ClassHierarchy.build('pascal_part')
    H, W = 8, 12
    leaf = np.zeros((H, W), np.int64)
    leaf[:, 4:8] = 4  # head
    leaf[:, 8:] = 3   # low_leg
    pred = leaf.copy()
    pred[:, 8:] = 5   # up_leg: same half (lower_body), other part
    ds = SegDataSample()
    ds.gt_sem_seg = PixelData(data=torch.from_numpy(leaf)[None])
    ds.pred_sem_seg = PixelData(data=torch.from_numpy(pred)[None])
    vis = HierSegLocalVisualizer(name='vis_test_rows', alpha=1.0,
                                 hierarchy='pascal_part',
                                 save_dir=str(tmp_path))
    out = tmp_path / 'x.png'
    vis.add_datasample('x', np.zeros((H, W, 3), np.uint8), ds,
                       with_labels=False, out_file=str(out))
    import mmcv
    img = mmcv.imread(str(out), channel_order='rgb')
    assert img.shape == (3 * H, 2 * W, 3)
    for k in range(3):
        pal = h.palette(k)
        gt_k = h.to_level(leaf, k)
        pred_k = h.to_level(pred, k)
        for x in (1, 5, 10):
            assert img[k * H + 2, x].tolist() == pal[gt_k[2, x]], (k, x)
            assert img[k * H + 2, W + x].tolist() == pal[pred_k[2, x]], (k, x)
    # the coarse rows of gt and pred agree where only the part differs
    assert (img[H:2 * H, 8:W] == img[H:2 * H, W + 8:]).all()
    assert not (img[2 * H:, 8:W] == img[2 * H:, W + 8:]).all()


def test_prefers_stored_coarse_prediction():
    """A stored pred_sem_seg_<level> is drawn as is, not re-derived."""
    vis = HierSegLocalVisualizer(name='vis_test_pref',
                                 hierarchy='pascal_part')
    ds = SegDataSample()
    ds.pred_sem_seg = PixelData(data=torch.full((1, 2, 2), 4))
    ds.pred_sem_seg_half = PixelData(data=torch.full((1, 2, 2), 2))
    maps = vis.level_maps(ds, 'pred_sem_seg')
    assert maps[1].tolist() == [[2, 2], [2, 2]]
    assert maps[0].tolist() == [[1, 1], [1, 1]]
    assert maps[2].tolist() == [[4, 4], [4, 4]]
