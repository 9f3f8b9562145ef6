"""One EXIF-orientation policy for the pipeline, the checker and browsing,
on real JPEGs carrying orientation 6 (square and non-square)."""
import io
import os

import numpy as np
import pytest
from PIL import Image

from mmhierseg.datasets import (InvalidLabelMapError,
                                OrientationMismatchError, PascalPartDataset,
                                check_dataset)
from mmhierseg.datasets.browse import browse_dataset

LOAD = [dict(type='LoadHierImageFromFile'), dict(type='LoadHierAnnotations')]
TRAIN = dict(train='train_id.txt')


def _tagged_jpeg(path, raw_rgb, tag=6):
    """Write ``raw_rgb`` (stored pixel order) as a JPEG with an EXIF tag."""
    exif = Image.Exif()
    exif[0x0112] = tag
    buf = io.BytesIO()
    Image.fromarray(raw_rgb).save(buf, 'JPEG', quality=98,
                                  exif=exif.tobytes())
    path.write_bytes(buf.getvalue())


def _raw_image(h, w):
    """Black with a white block in the stored top-left corner."""
    img = np.zeros((h, w, 3), np.uint8)
    img[:h // 4, :w // 4] = 255
    return img


def _raw_mask(h, w):
    """Head (4) under the white block, torso (2) elsewhere on the left."""
    m = np.zeros((h, w), np.uint8)
    m[:, :w // 2] = 2
    m[:h // 4, :w // 4] = 4
    return m


def _displayed(a):
    """What a viewer shows for tag 6: the stored pixels turned 90 deg
    clockwise."""
    return np.ascontiguousarray(np.rot90(a, k=-1))


def _dataset_root(root, masks_follow='raw'):
    """Non-square (40x64) and square (48x48) tagged images; masks in raw or
    displayed order."""
    (root / 'JPEGImages').mkdir(parents=True)
    (root / 'gt_masks').mkdir()
    for name, (h, w) in (('wide', (40, 64)), ('square', (48, 48))):
        _tagged_jpeg(root / 'JPEGImages' / f'{name}.jpg', _raw_image(h, w))
        m = _raw_mask(h, w)
        np.save(root / 'gt_masks' / f'{name}.npy',
                _displayed(m) if masks_follow == 'exif' else m)
    (root / 'train_id.txt').write_text('wide\nsquare\n')
    return root


def _ds(root, **kw):
    return PascalPartDataset(data_root=str(root), ann_file='train_id.txt',
                             hierarchy='pascal_part', pipeline=LOAD, **kw)


def test_default_raw_policy_keeps_stored_pixel_order(tmp_path):
    """Pascal-part's masks are in stored order: the tag must be ignored,
    the square image included (no silent 90-degree rotation)."""
    ds = _ds(_dataset_root(tmp_path / 'd'))
    for k, (h, w) in enumerate(((40, 64), (48, 48))):
        out = ds[k]
        assert out['img'].shape[:2] == (h, w) == out['gt_seg_map'].shape
        assert out['image_orientation'] == 'raw'
        white = out['img'].mean(2) > 128
        # the white block is where the mask's head is: same pixel order
        head = out['gt_seg_map'] == 4
        assert (white == head).mean() > 0.98


def test_exif_policy_applies_the_tag(tmp_path):
    """Masks drawn on the displayed image: image_orientation='exif'."""
    ds = _ds(_dataset_root(tmp_path / 'd', masks_follow='exif'),
             image_orientation='exif')
    for k, (h, w) in enumerate(((40, 64), (48, 48))):
        out = ds[k]
        assert out['img'].shape[:2] == (w, h) == out['gt_seg_map'].shape
        white = out['img'].mean(2) > 128
        assert (white == (out['gt_seg_map'] == 4)).mean() > 0.98


def test_mismatch_explained_by_the_tag_is_not_blamed_on_the_mask(tmp_path):
    root = _dataset_root(tmp_path / 'd', masks_follow='exif')
    ds = _ds(root, check_masks=False)
    with pytest.raises(OrientationMismatchError) as exc:
        ds[0]
    msg = str(exc.value)
    assert 'wide.jpg carries EXIF orientation 6' in msg
    assert 'wide.npy' in msg and 'The mask is not broken' in msg
    assert "image_orientation='exif'" in msg
    # the cheap check at dataset build time says the same, for the file
    with pytest.raises(InvalidLabelMapError,
                       match=r'id wide: orientation: image .*wide\.jpg'):
        _ds(root)


def test_checker_lists_tagged_images_and_the_policy(tmp_path):
    root = _dataset_root(tmp_path / 'd')
    report = check_dataset(str(root), splits=TRAIN)
    assert report.ok, report.problems
    text = report.format()
    assert "orientation policy: image_orientation='raw'" in text
    assert '2 image(s) carry an EXIF orientation tag' in text
    for name in ('wide', 'square'):
        assert f"{root / 'JPEGImages' / name}.jpg (6)" in text
    # masks drawn on the displayed image: the checker (as the pipeline)
    # explains the non-square mismatch by the tag ...
    root2 = _dataset_root(tmp_path / 'e', masks_follow='exif')
    report = check_dataset(str(root2), splits=TRAIN)
    assert len(report.problems) == 1
    problem = report.problems[0]
    assert '[train_id.txt: wide] orientation: image' in problem
    assert 'carries EXIF orientation 6' in problem
    assert "set image_orientation='exif'" in problem
    # ... and under the matching policy everything is fine
    report = check_dataset(str(root2), splits=TRAIN,
                           image_orientation='exif')
    assert report.ok, report.problems
    assert "image_orientation='exif'" in report.format()


def test_checker_cli_orientation_option(tmp_path, capsys, load_tool):
    tool = load_tool('check_dataset')
    root = _dataset_root(tmp_path / 'd', masks_follow='exif')
    assert tool.main([str(root), '--splits', 'train=train_id.txt']) == 1
    assert tool.main([str(root), '--orientation', 'exif', '--splits',
                      'train=train_id.txt']) == 0
    out = capsys.readouterr().out
    assert "orientation policy: image_orientation='exif'" in out


def test_browse_reads_images_under_the_same_policy(tmp_path):
    root = _dataset_root(tmp_path / 'd')
    files = browse_dataset(str(root), str(tmp_path / 'vis'), num=2)
    assert len(files) == 2
    canvas = np.array(Image.open(files[0]))
    assert canvas.shape[1] == 4 * 64 + 3 * 4  # stored width, 4 panels
    root2 = _dataset_root(tmp_path / 'e', masks_follow='exif')
    files = browse_dataset(str(root2), str(tmp_path / 'vis2'), num=1,
                           image_orientation='exif')
    assert np.array(Image.open(files[0])).shape[1] == 4 * 40 + 3 * 4
    assert len(os.listdir(tmp_path / 'vis2')) == 1
