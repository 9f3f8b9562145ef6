"""Pixel values of in-memory images as 8 bits, the way image files are read.

:class:`~mmhierseg.apis.HierSegInferencer` reads image files with OpenCV
(``mmcv.imfrombytes``, like the dataset pipeline's
``LoadHierImageFromFile``), which decodes a 16-bit PNG or TIFF to 8 bits by
keeping the high byte of each value (``v >> 8``; PIL reads 16-bit RGB PNGs
the same way). Numpy arrays and PIL images follow the same rules, so a
picture gives the same prediction whichever way it is passed:

- ``uint8``: as is;
- ``uint16``, and PIL's 16-bit modes (``'I;16'``, ``'I;16B'``... and
  ``'I'``, which PIL uses for 16-bit grayscale files; its values must lie in
  0..65535): ``v >> 8``, as a 16-bit file is read;
- other integer types (``int64`` after arithmetic, say): values in 0..255
  are 8-bit values and kept; any other value is refused;
- floats (and PIL mode ``'F'``): values in ``[0, 1]``, scaled by 255 and
  rounded (``img / 255`` gives the ``uint8`` image back exactly); NaN,
  infinite values or values outside ``[0, 1]`` are refused.

Refusals are ``ValueError``\\ s that name the input and say how to convert
it. Nothing is ever clipped silently.
"""
import numpy as np

__all__ = ['to_uint8', 'pil_to_array']

_PIL_16BIT = ('I;16', 'I;16L', 'I;16B', 'I;16N', 'I')


def _range(img: np.ndarray) -> str:
    return f'{img.min()}..{img.max()}' if img.size else 'empty'


def to_uint8(img: np.ndarray, what: str) -> np.ndarray:
    """Pixel values as ``uint8`` (see the module docstring for the rules).

    Args:
        img (np.ndarray): The image, any shape.
        what (str): The input, for messages (``'array input image_00001'``).

    Returns:
        np.ndarray: ``uint8``, same shape.

    Raises:
        ValueError: For values that have no 8-bit meaning (naming ``what``,
            the values found and the fix).
    """
    if img.dtype == np.uint8:
        return img
    if img.dtype == np.uint16:
        return (img >> 8).astype(np.uint8)
    if np.issubdtype(img.dtype, np.integer):
        if img.size and (img.min() < 0 or img.max() > 255):
            raise ValueError(
                f'{what}: {img.dtype} values {_range(img)} are not 8-bit '
                '(0..255): pass uint8 (8-bit) or uint16 (16-bit, read as a '
                '16-bit file is: value >> 8) pixels, e.g. '
                'img.astype(np.uint16)')
        return img.astype(np.uint8)
    if np.issubdtype(img.dtype, np.floating):
        if not np.isfinite(img).all():
            raise ValueError(
                f'{what}: the {img.dtype} image holds NaN or infinite values:'
                ' replace them (np.nan_to_num) and pass values in [0, 1], or'
                ' uint8 pixels')
        if img.size and (img.min() < 0 or img.max() > 1):
            raise ValueError(
                f'{what}: {img.dtype} values {_range(img)} are outside [0, 1]'
                ' (float images are read as 0..1): pass img / 255 for 0..255 '
                'values, or uint8 pixels (np.round(img).astype(np.uint8))')
        return np.round(img * 255).astype(np.uint8)
    raise ValueError(f'{what}: expected numbers (uint8, uint16 or floats in '
                     f'[0, 1]), got {img.dtype}')


def pil_to_array(image, what: str) -> np.ndarray:
    """A PIL image as a ``uint8`` array: ``HxW`` (16-bit and float
    grayscale modes, scaled by :func:`to_uint8`) or ``HxWx3`` RGB (every
    other mode, through ``convert('RGB')``).

    Args:
        image (PIL.Image.Image): The image (already upright).
        what (str): The input, for messages.

    Returns:
        np.ndarray: ``uint8``.

    Raises:
        ValueError: Mode ``'I'`` values outside 0..65535, or a mode PIL
            cannot convert to RGB.
    """
    if image.mode in _PIL_16BIT:
        arr = np.asarray(image)
        if arr.size and (arr.min() < 0 or arr.max() > 65535):
            raise ValueError(
                f"{what}: PIL mode '{image.mode}' values {_range(arr)} are "
                'not 16-bit (0..65535): scale them to 0..65535, or convert '
                "the image to 'RGB' or 'L' first")
        return to_uint8(arr.astype(np.uint16), what)
    if image.mode == 'F':
        return to_uint8(np.asarray(image), f"{what} (PIL mode 'F')")
    try:
        return np.asarray(image.convert('RGB'))
    except ValueError as e:
        raise ValueError(f"{what}: PIL mode '{image.mode}' cannot be "
                         f"converted to RGB ({e}): convert it first") from e
