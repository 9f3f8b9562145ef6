"""HierSegLocalVisualizer / draw_panel: input and every level side by side,
titled with the level names, under a legend in the tree's palette colours."""
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmhierseg.hierarchy import ClassHierarchy
from mmhierseg.visualization import (HierSegLocalVisualizer, draw_panel,
                                     draw_title)

TREE = ClassHierarchy.build('pascal_part')


def _leaf(h=40, w=60):
    leaf = np.zeros((h, w), np.int64)
    leaf[:, 20:40] = 4  # head (upper_body)
    leaf[:, 40:] = 3    # low_leg (lower_body)
    leaf[:5, :5] = 255  # ignore
    return leaf


def _crop(panel, box):
    x0, y0, x1, y1 = box
    return panel[y0:y1, x0:x1]


def test_panel_cells_titles_and_palette_colours():
    img = np.random.default_rng(0).integers(0, 255, (40, 60, 3), np.uint8)
    leaf = _leaf()
    maps = [TREE.to_level(leaf, k) for k in range(TREE.num_levels)]
    panel, layout = draw_panel(img, [(None, maps)], TREE, alpha=1.0,
                               min_cell_width=60)
    cells = layout['cells']
    assert [c['title'] for c in cells] == ['input', 'body', 'half', 'part']
    np.testing.assert_array_equal(_crop(panel, cells[0]['box']), img)
    for k, cell in enumerate(cells[1:]):
        pic = _crop(panel, cell['box'])
        pal = np.asarray(TREE.palette(k), np.uint8)
        painted = leaf != 255
        np.testing.assert_array_equal(pic[painted], pal[maps[k][painted]])
        np.testing.assert_array_equal(pic[~painted], img[~painted])
        # the title bar right above the cell is the level name's
        bar = draw_title(TREE.level_names[k], pic.shape[1])
        x0, y0, x1, _ = cell['box']
        np.testing.assert_array_equal(panel[y0 - bar.shape[0]:y0, x0:x1],
                                      bar)
    assert not np.array_equal(draw_title('body', 60), draw_title('half', 60))
    # legend: exactly the classes present per level, in the tree's colours
    legend = {(i['level'], i['name']): i for i in layout['legend']}
    expected = {(TREE.level_names[k], TREE.classes(k)[c])
                for k in range(3) for c in np.unique(maps[k]) if c != 255}
    assert set(legend) == expected
    for (level, name), item in legend.items():
        k = TREE.level_index(level)
        colour = TREE.palette(k)[TREE.classes(k).index(name)]
        x0, y0, x1, y1 = item['box']
        swatch = panel[y0 + 2:y1 - 2, x0 + 2:x1 - 2].reshape(-1, 3)
        assert (swatch == colour).all(), (level, name)


def test_gt_and_prediction_rows_and_small_images_enlarged():
    leaf = _leaf(9, 13)
    pred = leaf.copy()
    pred[:, 10:] = 5  # up_leg instead of low_leg
    ds = SegDataSample()
    ds.gt_sem_seg = PixelData(data=torch.from_numpy(leaf)[None])
    ds.pred_sem_seg = PixelData(data=torch.from_numpy(pred)[None])
    vis = HierSegLocalVisualizer(name='vis_test_rows', hierarchy=TREE)
    vis.add_datasample('x', np.zeros((9, 13, 3), np.uint8), ds,
                       out_file=None)
    panel = vis.get_image()
    _, layout = draw_panel(
        np.zeros((9, 13, 3), np.uint8),
        [('prediction', vis.level_maps(ds, 'pred_sem_seg')),
         ('ground truth', vis.level_maps(ds, 'gt_sem_seg'))], TREE,
        alpha=vis.alpha)
    titles = [c['title'] for c in layout['cells']]
    assert titles == ['input', 'body (prediction)', 'half (prediction)',
                      'part (prediction)', 'input', 'body (ground truth)',
                      'half (ground truth)', 'part (ground truth)']
    x0, _, x1, _ = layout['cells'][0]['box']
    assert x1 - x0 >= 240  # a 13-pixel-wide image is enlarged
    assert panel.shape[0] > 2 * (layout['cells'][0]['box'][3] -
                                 layout['cells'][0]['box'][1])


def test_backends_receive_the_panel(tmp_path):
    """No out_file (training/test hooks): the panel goes to the backends."""
    import mmcv
    vis = HierSegLocalVisualizer(
        name='vis_test_backend', hierarchy=TREE, save_dir=str(tmp_path),
        vis_backends=[dict(type='LocalVisBackend')])
    ds = SegDataSample()
    ds.pred_sem_seg = PixelData(data=torch.from_numpy(_leaf())[None])
    vis.add_datasample('val_x', np.zeros((40, 60, 3), np.uint8), ds, step=7)
    files = list(tmp_path.rglob('val_x_7.png'))
    assert len(files) == 1
    saved = mmcv.imread(str(files[0]), channel_order='rgb')
    np.testing.assert_array_equal(saved, vis.get_image())
    assert saved.shape[1] > 4 * 60  # four cells, not one overlay


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


def test_wrong_number_of_maps_is_named():
    with pytest.raises(ValueError, match='2 maps for the 3 levels'):
        draw_panel(np.zeros((4, 4, 3), np.uint8),
                   [(None, [np.zeros((4, 4), np.uint8)] * 2)], TREE)


def test_maps_of_another_aspect_ratio_warn():
    """A 40x60 image with 60x40 maps (e.g. read with the EXIF tag applied
    while the data ignores it) is named, not silently stretched."""
    maps = [np.zeros((60, 40), np.uint8)] * 3
    with pytest.warns(UserWarning, match='another aspect ratio'):
        draw_panel(np.zeros((40, 60, 3), np.uint8), [(None, maps)], TREE)
    half = [np.zeros((20, 30), np.uint8)] * 3  # same aspect: no warning
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        draw_panel(np.zeros((40, 60, 3), np.uint8), [(None, half)], TREE)
