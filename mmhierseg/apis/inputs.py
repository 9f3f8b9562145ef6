"""Inputs of :class:`HierSegInferencer`: expansion, unique names, reading.

Reading policy for users' photos: the EXIF orientation tag is honoured
(the image is turned upright as a photo viewer shows it), for files and for
PIL images alike; label maps are returned in that upright orientation.
Pixel values: files are decoded to 8 bits by OpenCV (a 16-bit file keeps the
high byte); arrays and PIL images of other types are converted the same way
(``uint16`` -> ``v >> 8``, floats in ``[0, 1]`` -> ``round(v * 255)``) or
refused with a ``ValueError`` that says how to convert them, never clipped
(:mod:`mmhierseg.apis.pixels`).
"""
import glob
import os
import os.path as osp
from collections import Counter
from typing import List

import mmcv
import numpy as np

from .pixels import pil_to_array, to_uint8

__all__ = ['IMG_EXTS', 'InferenceInput', 'expand_inputs', 'read_input']

IMG_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff')
_GLOB_CHARS = ('*', '?', '[')


class InferenceInput:
    """One image to segment: where it comes from and its output name.

    Args:
        source (str | np.ndarray | PIL.Image.Image): A file path or an image.
        name (str): Unique output name (no extension).
    """

    def __init__(self, source, name: str):
        self.source = source
        self.name = name

    @property
    def path(self):
        """str | None: The file path, for file inputs."""
        return self.source if isinstance(self.source, str) else None

    def __repr__(self) -> str:
        return f'InferenceInput({self.path or type(self.source).__name__}' \
               f' -> {self.name!r})'


def _expand_one(item) -> list:
    if isinstance(item, os.PathLike):
        item = os.fspath(item)
    if not isinstance(item, str):
        return [item]
    if osp.isdir(item):
        found = sorted(
            osp.join(item, f) for f in os.listdir(item)
            if f.lower().endswith(IMG_EXTS) and osp.isfile(osp.join(item, f)))
        if not found:
            raise FileNotFoundError(
                f'no image ({", ".join(IMG_EXTS)}) in folder {item}: put '
                'images in it, or give image files or patterns')
        return found
    if osp.isfile(item):
        return [item]
    if any(c in item for c in _GLOB_CHARS):
        found = sorted(p for p in glob.glob(item, recursive=True)
                       if osp.isfile(p))
        if not found:
            raise FileNotFoundError(
                f'no file matches the pattern {item}: check it (and quote it'
                ' on the command line, so the tool, not the shell, expands '
                'it)')
        return found
    raise FileNotFoundError(f'input {item} does not exist: give image files,'
                            ' folders of images or glob patterns')


def _unique_names(sources: list) -> List[str]:
    """``<stem>``; stems shared by several inputs get their extension
    (``p_jpg``, ``p_png``); names still shared get ``_1``, ``_2``, ..."""
    names = []
    for i, src in enumerate(sources):
        if isinstance(src, str):
            names.append(osp.splitext(osp.basename(src))[0])
        else:
            names.append(f'image_{i:05d}')
    stems = Counter(names)
    for i, src in enumerate(sources):
        if isinstance(src, str) and stems[names[i]] > 1:
            ext = osp.splitext(src)[1].lstrip('.').lower()
            names[i] = f'{names[i]}_{ext}' if ext else names[i]
    counts, seen = Counter(names), Counter()
    for i, name in enumerate(names):
        if counts[name] > 1:
            seen[name] += 1
            names[i] = f'{name}_{seen[name]}'
    taken = set()
    for i, name in enumerate(names):  # a suffixed name may meet a real one
        while names[i] in taken:
            names[i] += '_'
        taken.add(names[i])
    return names


def expand_inputs(inputs) -> List[InferenceInput]:
    """Expand the inputs into a list of images with unique output names.

    Args:
        inputs: A path (file, folder, or glob pattern such as
            ``'photos/**/*.jpg'``), a numpy array (BGR, as ``cv2.imread``;
            ``uint8``, ``uint16`` or floats in ``[0, 1]``), a PIL image, or
            a list/tuple of these. Folders give their image files
            (``IMG_EXTS``), sorted.

    Returns:
        list[InferenceInput]: The images, in input order.

    Raises:
        FileNotFoundError: For a path that does not exist, a folder without
            images, or a pattern that matches nothing.
    """
    if not isinstance(inputs, (list, tuple)):
        inputs = [inputs]
    sources = [s for item in inputs for s in _expand_one(item)]
    if not sources:
        raise ValueError('no input image given')
    return [InferenceInput(s, n)
            for s, n in zip(sources, _unique_names(sources))]


def _as_bgr(img: np.ndarray, what: str) -> np.ndarray:
    img = np.asarray(img)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] not in (3, 4) or min(img.shape[:2]) < 1:
        raise ValueError(f'{what}: expected an HxW, HxWx3 (BGR) or HxWx4 '
                         f'image, got shape {img.shape}')
    return np.ascontiguousarray(to_uint8(img[..., :3], what))


def read_input(item: InferenceInput) -> np.ndarray:
    """The image as BGR uint8 ``HxWx3``, upright (EXIF orientation applied).

    Args:
        item (InferenceInput): The input.

    Returns:
        np.ndarray: The image.

    Raises:
        OSError: If a file cannot be read or decoded (the message names it).
        ValueError: If an array or PIL image has an unusable shape, or
            pixel values with no 8-bit meaning (floats outside ``[0, 1]``,
            NaN; see :mod:`mmhierseg.apis.pixels`).
    """
    src = item.source
    if isinstance(src, str):
        try:
            with open(src, 'rb') as f:
                content = f.read()
        except OSError as e:
            raise OSError(f'cannot read image {src}: {e.strerror or e}') \
                from e
        if not content:
            raise OSError(f'cannot read image {src}: the file is empty')
        try:  # flag 'color': OpenCV applies the EXIF orientation
            img = mmcv.imfrombytes(content, flag='color', backend='cv2')
        except Exception as e:  # noqa: BLE001 - decoder errors vary
            raise OSError(f'cannot decode image {src}: {e}') from e
        if img is None or img.size == 0:
            raise OSError(f'cannot decode image {src}: the file is corrupt '
                          'or not an image')
        return _as_bgr(img, src)
    if isinstance(src, np.ndarray):
        return _as_bgr(src, f'array input {item.name}')
    try:
        from PIL import Image, ImageOps
    except ImportError:  # pragma: no cover - PIL ships with mmcv
        Image = None
    if Image is not None and isinstance(src, Image.Image):
        what = f'PIL input {item.name}'
        img = pil_to_array(ImageOps.exif_transpose(src), what)
        return _as_bgr(img if img.ndim == 2 else img[..., ::-1], what)
    raise TypeError(f'unsupported input {type(src).__name__} ({item.name}): '
                    'give paths, folders, glob patterns, numpy arrays or '
                    'PIL images')

