"""The panel row of pose priors: drawn where the sample carries them."""
import numpy as np
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmhierseg.visualization import (HierSegLocalVisualizer, draw_panel,
                                     prior_cells)


def _priors(h=20, w=30):
    p = np.zeros((3, h, w), np.uint8)
    p[0, 5:15, 5:25] = 1  # mask
    p[1, 5:8, 10:14] = 1  # head
    p[2, 8:15, 8:20] = 1  # torso
    return p


def test_prior_cells_paint_each_channel():
    img = np.full((40, 60, 3), 100, np.uint8)
    cells = prior_cells(img, _priors(), ('mask', 'head', 'torso'))
    assert [t for t, _ in cells] == ['pose prior: person mask',
                                     'pose prior: parts']
    mask_pic, parts_pic = cells[0][1], cells[1][1]
    assert mask_pic.shape == img.shape
    # resized x2 (nearest): the mask's pixels are lighter, the rest untouched
    assert (mask_pic[10:30, 10:50] > 100).all()
    assert (mask_pic[32:, :] == 100).all()
    # head and torso painted in different colours
    assert not np.array_equal(parts_pic[12, 24], parts_pic[24, 24])
    assert prior_cells(img, _priors()[1:], ('head', 'torso'))[0][0] == \
        'pose prior: parts'


def test_panel_has_a_prior_row_only_with_priors(tmp_path):
    vis = HierSegLocalVisualizer(name='prior_row_test',
                                 hierarchy='pascal_part')
    img = np.full((40, 60, 3), 100, np.uint8)
    pred = SegDataSample(pred_sem_seg=PixelData(
        data=torch.zeros(1, 40, 60, dtype=torch.long)))
    vis.add_datasample('a', img, pred, draw_gt=False, out_file=str(tmp_path / 'a.png'))
    without = vis.get_image()
    pred.pose_prior = PixelData(data=torch.from_numpy(_priors()),
                                metainfo=dict(channels=('mask', 'head',
                                                        'torso')))
    vis.add_datasample('a', img, pred, draw_gt=False, out_file=str(tmp_path / 'a.png'))
    withp = vis.get_image()
    assert withp.shape[1] == without.shape[1]
    assert withp.shape[0] > without.shape[0] + 40
    _, layout = draw_panel(img, [(None, [np.zeros((40, 60), np.uint8)] * 3)],
                           vis.hierarchy,
                           extra=prior_cells(img, _priors(),
                                             ('mask', 'head', 'torso')))
    assert [c['title'] for c in layout['cells']][-2:] == [
        'pose prior: person mask', 'pose prior: parts']
