"""LoadHierImageFromFile / LoadHierAnnotations: exact loading and errors
that name the file."""
import cv2
import numpy as np
import pytest
from mmseg.registry import TRANSFORMS
from PIL import Image

from mmhierseg.datasets import (InvalidLabelMapError, LoadHierAnnotations,
                                LoadHierImageFromFile)
from ._helpers import random_image, random_mask


def _image(tmp_path, h=20, w=30, name='img.jpg'):
    path = tmp_path / name
    cv2.imwrite(str(path), random_image(np.random.default_rng(0), h, w))
    return str(path)


def _load(img_path, seg_path, **kw):
    results = dict(img_path=img_path, seg_map_path=seg_path, seg_fields=[],
                   hierarchy='pascal_part')
    results = LoadHierImageFromFile()(results)
    return LoadHierAnnotations(**kw)(results)


def test_registered():
    assert TRANSFORMS.get('LoadHierAnnotations') is LoadHierAnnotations
    assert TRANSFORMS.get('LoadHierImageFromFile') is LoadHierImageFromFile


@pytest.mark.parametrize('dtype', [np.uint8, np.int32, np.int64, np.uint16])
def test_npy_exact_values_any_integer_dtype(tmp_path, dtype):
    img = _image(tmp_path)
    m = random_mask(np.random.default_rng(1), 20, 30).astype(dtype)
    m[0, :2] = 255
    np.save(tmp_path / 'm.npy', m)
    out = _load(img, str(tmp_path / 'm.npy'))
    assert out['gt_seg_map'].dtype == np.uint8
    np.testing.assert_array_equal(out['gt_seg_map'], m)
    assert out['seg_fields'] == ['gt_seg_map']


def test_png_modes_exact_values(tmp_path):
    img = _image(tmp_path)
    m = random_mask(np.random.default_rng(2), 20, 30)
    Image.fromarray(m, mode='L').save(tmp_path / 'l.png')
    Image.fromarray(m, mode='L').convert('P').save(tmp_path / 'p.png')
    Image.fromarray(m.astype(np.uint16)).save(tmp_path / 'i16.png')
    for name in ('l.png', 'p.png', 'i16.png'):
        out = _load(img, str(tmp_path / name))
        np.testing.assert_array_equal(out['gt_seg_map'], m)


def test_float_mask_rejected_with_fix(tmp_path):
    img = _image(tmp_path)
    np.save(tmp_path / 'f.npy', np.zeros((20, 30), np.float32))
    with pytest.raises(InvalidLabelMapError) as exc:
        _load(img, str(tmp_path / 'f.npy'))
    msg = str(exc.value)
    assert str(tmp_path / 'f.npy') in msg and 'float32' in msg
    assert 'astype(np.uint8)' in msg


def test_bool_mask_rejected(tmp_path):
    img = _image(tmp_path)
    np.save(tmp_path / 'b.npy', np.zeros((20, 30), bool))
    with pytest.raises(InvalidLabelMapError, match=r'b\.npy.*dtype bool'):
        _load(img, str(tmp_path / 'b.npy'))


def test_3d_mask_rejected(tmp_path):
    img = _image(tmp_path)
    np.save(tmp_path / 'c.npy', np.zeros((20, 30, 1), np.uint8))
    with pytest.raises(InvalidLabelMapError) as exc:
        _load(img, str(tmp_path / 'c.npy'))
    assert 'c.npy' in str(exc.value) and '(20, 30, 1)' in str(exc.value)
    assert 'Drop the channel axis' in str(exc.value)


def test_shape_mismatch_names_mask_and_image(tmp_path):
    img = _image(tmp_path, 20, 30)
    np.save(tmp_path / 's.npy', np.zeros((30, 20), np.uint8))
    with pytest.raises(InvalidLabelMapError) as exc:
        _load(img, str(tmp_path / 's.npy'))
    msg = str(exc.value)
    assert 's.npy is 30x20' in msg and f'{img} is 20x30' in msg


@pytest.mark.parametrize('bad', [7, 12, 254])
def test_values_outside_tree_rejected(tmp_path, bad):
    img = _image(tmp_path)
    m = np.zeros((20, 30), np.uint8)
    m[5, 5] = bad
    np.save(tmp_path / 'v.npy', m)
    with pytest.raises(InvalidLabelMapError) as exc:
        _load(img, str(tmp_path / 'v.npy'))
    msg = str(exc.value)
    assert 'v.npy' in msg and f'[{bad}]' in msg and '0..6' in msg
    # with the check off the value passes through unchanged
    out = _load(img, str(tmp_path / 'v.npy'), check_values=False)
    assert out['gt_seg_map'][5, 5] == bad


def test_negative_values_rejected_even_without_value_check(tmp_path):
    img = _image(tmp_path)
    m = np.zeros((20, 30), np.int16)
    m[1, 1] = -1
    np.save(tmp_path / 'n.npy', m)
    with pytest.raises(InvalidLabelMapError, match=r'n\.npy.*\[-1\]'):
        _load(img, str(tmp_path / 'n.npy'), check_values=False)


def test_colour_png_rejected(tmp_path):
    img = _image(tmp_path)
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(tmp_path / 'c.png')
    with pytest.raises(InvalidLabelMapError, match=r"c\.png is a 'RGB'"):
        _load(img, str(tmp_path / 'c.png'))


@pytest.mark.parametrize('name,content', [
    ('corrupt.npy', b'\x93NUMPY garbage'),
    ('corrupt.png', b'\x89PNG\r\n\x1a\n garbage'),
    ('empty.npy', b''),
])
def test_corrupt_mask_names_file(tmp_path, name, content):
    img = _image(tmp_path)
    (tmp_path / name).write_bytes(content)
    with pytest.raises(OSError) as exc:
        _load(img, str(tmp_path / name))
    assert str(tmp_path / name) in str(exc.value)


def test_pickled_object_array_rejected(tmp_path):
    img = _image(tmp_path)
    np.save(tmp_path / 'o.npy', np.array([{'a': 1}], dtype=object),
            allow_pickle=True)
    with pytest.raises(OSError, match=r'o\.npy.*np\.save'):
        _load(img, str(tmp_path / 'o.npy'))


def test_missing_mask_names_file(tmp_path):
    img = _image(tmp_path)
    with pytest.raises(FileNotFoundError, match=r'gone\.npy not found'):
        _load(img, str(tmp_path / 'gone.npy'))


def test_tree_comes_from_the_sample_and_is_required(tmp_path):
    m = random_mask(np.random.default_rng(3), 20, 30)
    np.save(tmp_path / 'm.npy', m)
    path = str(tmp_path / 'm.npy')
    with pytest.raises(ValueError, match=r"m\.npy.*no label tree.*hierarchy"):
        LoadHierAnnotations()(dict(seg_map_path=path))
    # no image needed; the tree of the sample decides the valid ids
    out = LoadHierAnnotations()(dict(seg_map_path=path,
                                     hierarchy='pascal_part'))
    np.testing.assert_array_equal(out['gt_seg_map'], m)
    assert out['seg_fields'] == ['gt_seg_map']
    two_level = dict(levels=('body', 'part'), background='background',
                     leaves=('background', 'head'), tree=dict(person=['head']))
    with pytest.raises(InvalidLabelMapError, match='outside the tree'):
        LoadHierAnnotations()(dict(seg_map_path=path, hierarchy=two_level))


def test_hierarchy_argument_gone():
    with pytest.raises(TypeError):
        LoadHierAnnotations(hierarchy='pascal_part')


# ---------------------------------------------------------------- images
def test_grayscale_jpeg_becomes_three_channels(tmp_path):
    g = random_image(np.random.default_rng(4), 25, 35, gray=True)
    cv2.imwrite(str(tmp_path / 'g.jpg'), g)
    out = LoadHierImageFromFile()(dict(img_path=str(tmp_path / 'g.jpg')))
    assert out['img'].shape == (25, 35, 3) and out['img'].dtype == np.uint8
    assert out['ori_shape'] == (25, 35) == out['img_shape']
    decoded = cv2.imread(str(tmp_path / 'g.jpg'), cv2.IMREAD_GRAYSCALE)
    for c in range(3):
        np.testing.assert_array_equal(out['img'][..., c], decoded)
    out = LoadHierImageFromFile(to_float32=True)(
        dict(img_path=str(tmp_path / 'g.jpg')))
    assert out['img'].dtype == np.float32


@pytest.mark.parametrize('flag', ['grayscale', 'color'])
def test_color_type_refused(flag):
    with pytest.raises(ValueError, match="color_type.*image_orientation"):
        LoadHierImageFromFile(color_type=flag)


@pytest.mark.parametrize('content', [b'not a jpeg at all', b''])
def test_corrupt_image_names_file(tmp_path, content):
    path = tmp_path / 'broken.jpg'
    path.write_bytes(content)
    with pytest.raises(OSError) as exc:
        LoadHierImageFromFile()(dict(img_path=str(path)))
    assert str(path) in str(exc.value)
    assert LoadHierImageFromFile(ignore_empty=True)(
        dict(img_path=str(path))) is None


def test_missing_image_names_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r'nothere\.jpg not found'):
        LoadHierImageFromFile()(dict(img_path=str(tmp_path / 'nothere.jpg')))
