"""HierSegInferencer's in-memory inputs (issue 21, item 2): 16-bit and float
images are scaled as the same picture read from a file is, never clipped;
values with no 8-bit meaning are refused, naming the input and the fix."""
import cv2
import mmcv
import numpy as np
import pytest
from PIL import Image

from mmhierseg.apis import HierSegInferencer, InferenceInput, read_input
from mmhierseg.datasets.transforms import LoadHierImageFromFile

from ._tiny import photos, write_model


def _read(source):
    return read_input(InferenceInput(source, 'image_00000'))


@pytest.fixture(scope='module')
def png16(tmp_path_factory):
    """A real photo as 16-bit colour and grayscale PNGs (and the arrays)."""
    folder = tmp_path_factory.mktemp('png16')
    img = mmcv.imresize(mmcv.imread(photos()[0]), (48, 40)).astype(np.uint16)
    rng = np.random.default_rng(0)  # low bytes that are not just zeros
    colour = img * 257 + rng.integers(0, 256, img.shape).astype(np.uint16)
    gray = colour[..., 1].copy()
    paths = str(folder / 'colour.png'), str(folder / 'gray.png')
    cv2.imwrite(paths[0], colour)
    cv2.imwrite(paths[1], gray)
    return dict(zip(paths, (colour, gray)))


def test_16_bit_arrays_and_pil_images_read_as_the_file(png16):
    for path, arr in png16.items():
        disk = _read(path)
        # the dataset pipeline reads the file the same way
        np.testing.assert_array_equal(
            disk, LoadHierImageFromFile()(dict(img_path=path))['img'])
        np.testing.assert_array_equal(_read(arr), disk)
        pil = Image.open(path)
        np.testing.assert_array_equal(_read(pil), disk)
        if pil.mode.startswith('I;16'):  # PIL's other 16-bit mode
            np.testing.assert_array_equal(_read(pil.convert('I')), disk)
    # the symptom: a mean of ~255 (clipped) instead of the file's
    path, arr = next(iter(png16.items()))
    assert abs(_read(arr).mean() - _read(path).mean()) < 1e-9
    assert _read(arr).mean() < 200


def test_floats_in_0_1_are_scaled_by_255():
    img = mmcv.imresize(mmcv.imread(photos()[0]), (48, 40))
    for dtype in (np.float32, np.float64):
        np.testing.assert_array_equal(_read((img / 255).astype(dtype)), img)
    pil = Image.fromarray((img[..., 1] / 255).astype(np.float32))
    np.testing.assert_array_equal(_read(pil)[..., 0], img[..., 1])
    # 8-bit values held in a wider integer type are kept
    np.testing.assert_array_equal(_read(img.astype(np.int64)), img)


@pytest.mark.parametrize('bad, words', [
    (np.full((8, 8, 3), 200.0), ('outside [0, 1]', 'img / 255')),
    (np.full((8, 8, 3), np.nan, np.float32), ('NaN', 'nan_to_num')),
    (np.full((8, 8), -1.0), ('outside [0, 1]', )),
    (np.full((8, 8, 3), 300, np.int32), ('not 8-bit', 'uint16')),
    (np.full((8, 8), True), ('expected numbers', )),
])
def test_values_without_8_bit_meaning_are_refused(bad, words):
    with pytest.raises(ValueError) as exc:
        _read(bad)
    msg = str(exc.value)
    assert msg.startswith('array input image_00000')
    for w in words:
        assert w in msg


def test_pil_mode_i_outside_16_bit_is_refused():
    pil = Image.fromarray(np.full((8, 8), 70000, np.int32))
    with pytest.raises(ValueError, match="PIL input image_00000.*mode 'I'"):
        _read(pil)


def test_every_input_kind_predicts_as_the_file(tmp_path, png16):
    inf = HierSegInferencer(*write_model(tmp_path), device='cpu')
    path, arr = next(iter(png16.items()))
    as_float = (_read(path) / 255).astype(np.float32)
    out = inf([path, arr, Image.open(path), as_float,
               as_float * 255], batch_size=2)
    maps = [p['levels']['part'] for p in out['predictions']]
    assert len(maps) == 4
    for m in maps[1:]:
        np.testing.assert_array_equal(m, maps[0])
    # the float image in 0..255 is refused, the others are processed
    (err, ) = out['errors']
    assert err['name'] == 'image_00004' and 'img / 255' in err['error']
