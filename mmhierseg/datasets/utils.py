"""Reading split files, label maps and images, with errors that name the file.

These helpers are shared by the dataset classes, the loading transforms and
:func:`mmhierseg.datasets.checks.check_dataset`, so one broken file gives the
same message wherever it is found. Every error names the offending file and
says how to fix it.
"""
import io
import os.path as osp
from typing import List, Optional, Sequence, Union

import numpy as np
from mmengine import fileio

from mmhierseg.hierarchy import IGNORE_INDEX, ClassHierarchy

__all__ = [
    'InvalidLabelMapError', 'OrientationMismatchError', 'read_split_file',
    'decode_label_map', 'validate_label_map', 'load_label_map',
    'file_exists', 'get_bytes'
]

#: Suffixes decoded with ``np.load``; everything else is read as an image.
NPY_SUFFIXES = ('.npy', )


class InvalidLabelMapError(ValueError):
    """A label map that cannot be used: wrong dtype, rank, size or values."""


class OrientationMismatchError(InvalidLabelMapError):
    """A mask/image size mismatch explained by the image's EXIF tag."""


def file_exists(path: str, backend_args: Optional[dict] = None) -> bool:
    """Whether a file exists (local fast path, any mmengine backend else).

    Args:
        path (str): File path or URI.
        backend_args (dict, optional): mmengine file backend arguments.

    Returns:
        bool: True if the file exists.
    """
    if backend_args is None and '://' not in str(path):
        return osp.isfile(path)
    return fileio.exists(path, backend_args=backend_args)


def get_bytes(path: str, what: str, fix: str,
              backend_args: Optional[dict] = None) -> bytes:
    """A file's bytes; a missing, unreadable or empty file raises an error
    naming ``what`` and the file, followed by ``fix``."""
    if not file_exists(path, backend_args):
        raise FileNotFoundError(f'{what} {path} not found. {fix}')
    try:
        content = fileio.get(path, backend_args=backend_args)
    except Exception as e:  # permission denied, a directory, backend error
        raise OSError(f'cannot read {what} {path}: {e}. {fix}') from e
    if len(content) == 0:
        raise OSError(f'{what} {path} is empty (0 bytes). {fix}')
    return content


def read_split_file(path: str,
                    backend_args: Optional[dict] = None) -> List[str]:
    """Read a split file: one id per line.

    Surrounding whitespace, blank lines, a byte-order mark, Windows line ends
    and a missing trailing newline are all accepted.

    Args:
        path (str): The split file, e.g. ``data/Pascal-part/train_id.txt``.
        backend_args (dict, optional): mmengine file backend arguments.

    Returns:
        list[str]: The ids, in file order.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If the file lists no id (an empty split) or a line holds
            more than one token.
    """
    if not file_exists(path, backend_args):
        raise FileNotFoundError(
            f'split file {path} not found. Check data_root and ann_file '
            '(e.g. ann_file=\'train_id.txt\' relative to data_root).')
    text = fileio.get_text(path, backend_args=backend_args)
    ids = []
    for lineno, line in enumerate(text.lstrip('\ufeff').splitlines(), 1):
        token = line.strip()
        if len(token.split()) > 1:
            raise ValueError(
                f'split file {path}, line {lineno}: {token!r} holds more than '
                'one token; a split file lists one image id per line (no '
                'labels, no suffixes).')
        ids += [token] if token else []
    if not ids:
        raise ValueError(
            f'split file {path} lists no ids (empty split). Write one image id'
            ' per line (e.g. with tools/make_synthetic_dataset.py or '
            'tools/dataset_converters/pascal_part.py), or point ann_file at '
            'another split.')
    return ids


def decode_label_map(content: bytes, path: str) -> np.ndarray:
    """Decode a label map file's bytes (``.npy`` or a single-channel image).

    Args:
        content (bytes): File content.
        path (str): The file's path (decides the format by suffix; used in
            error messages).

    Returns:
        np.ndarray: The stored array, as stored (not yet validated).

    Raises:
        OSError: If the content cannot be decoded.
        InvalidLabelMapError: If a PNG is a colour image.
    """
    suffix = osp.splitext(str(path))[1].lower()
    if suffix in NPY_SUFFIXES:
        try:
            return np.load(io.BytesIO(content), allow_pickle=False)
        except Exception as e:
            raise OSError(
                f'cannot read label map {path}: {e}. The file is corrupt or '
                'not a plain numpy array; re-save it with '
                'np.save(path, mask.astype(np.uint8)).') from e
    from PIL import Image
    try:
        with Image.open(io.BytesIO(content)) as pil:
            pil.load()
            mode = pil.mode
            arr = np.array(pil)
    except Exception as e:
        raise OSError(f'cannot read label map {path}: {e}. The file is '
                      'corrupt or not an image; re-export it as a '
                      'single-channel PNG of label ids.') from e
    if mode not in ('L', 'P', 'I', 'I;16', 'I;16L', 'I;16B', 'I;16N'):
        raise InvalidLabelMapError(
            f'label map {path} is a {mode!r} image; label maps must be '
            'single-channel images of class ids (mode L or P, one id per '
            'pixel), not colour renderings. Convert colours to ids first (or '
            'use the dataset\'s id PNGs rather than its visualisations).')
    return arr


HierarchyLike = Union[ClassHierarchy, dict, str]


def validate_label_map(arr: np.ndarray,
                       path: str,
                       hierarchy: HierarchyLike,
                       expected_shape: Optional[Sequence[int]] = None,
                       image_path: Optional[str] = None,
                       check_values: bool = True,
                       image_orientation: Optional[str] = None,
                       label_level: Optional[int] = None) -> np.ndarray:
    """Check a label map (leaf ids, or the ids of ``label_level``) and
    return it as uint8.

    Args:
        arr (np.ndarray): The stored array.
        path (str): Its file (named in errors).
        hierarchy (ClassHierarchy | dict | str): The tree whose leaf ids
            are valid (255 = ignore is always valid).
        expected_shape (Sequence[int], optional): ``(H, W)`` of the image.
        image_path (str, optional): The image (named in shape errors).
        check_values (bool): Check values against the tree. When False only
            values that do not fit uint8 are rejected.
        image_orientation (str, optional): The policy the image was read
            under (see :mod:`mmhierseg.datasets.images`); a size mismatch
            that the image's EXIF tag explains raises
            :class:`OrientationMismatchError` saying so.
        label_level (int, optional): The level whose class ids the map
            holds (a dataset labelled only down to a coarse level, see
            :mod:`mmhierseg.datasets.label_levels`). Defaults to the leaf
            level.

    Returns:
        np.ndarray: uint8 ``HxW`` ids (no copy when already uint8).

    Raises:
        InvalidLabelMapError: On a non-integer dtype, a rank other than 2, a
            size different from the image, or values outside the tree.
    """
    if hierarchy is None:
        raise ValueError(
            f'validating label map {path} needs the label tree '
            '(hierarchy=...): a preset name such as \'pascal_part\' or a '
            'tree dict, normally from the dataset.')
    hierarchy = ClassHierarchy.build(hierarchy)
    arr = np.asarray(arr)
    if not np.issubdtype(arr.dtype, np.integer):
        hint = ''
        if np.issubdtype(arr.dtype, np.floating) and arr.size and \
                np.array_equal(arr, np.round(arr)):
            hint = (' Its values are whole numbers: save it with '
                    'mask.astype(np.uint8).')
        raise InvalidLabelMapError(
            f'label map {path} has dtype {arr.dtype}; label maps must be '
            f'integer arrays (uint8) of leaf ids.{hint}')
    if arr.ndim != 2:
        colour = ' It looks like a colour image; store class ids instead.'
        hint = {1: ' Drop the channel axis (mask[..., 0]) when saving.', 3:
                colour, 4: colour}.get(arr.shape[-1], '') if arr.ndim == 3 \
            else ''
        raise InvalidLabelMapError(
            f'label map {path} has shape {tuple(arr.shape)}; expected a 2-D '
            f'HxW array of leaf ids.{hint}')
    if expected_shape is not None and \
            tuple(arr.shape) != tuple(expected_shape[:2]):
        from .images import explain_size_mismatch
        why = image_path and explain_size_mismatch(
            path, arr.shape, image_path, expected_shape, image_orientation)
        if why:
            raise OrientationMismatchError(why)
        img = f' {image_path}' if image_path else ''
        raise InvalidLabelMapError(
            f'label map {path} is {arr.shape[0]}x{arr.shape[1]} (HxW) but its '
            f'image{img} is {expected_shape[0]}x{expected_shape[1]}. Masks '
            'must have exactly the image size: check that the mask belongs '
            'to this image, or regenerate it at the image size.')
    lvl = hierarchy.leaf_level if label_level is None else label_level
    n = hierarchy.num_classes[lvl]
    if arr.dtype == np.uint8:  # a histogram, no sort; uint8 always fits
        bad = (np.flatnonzero(np.bincount(arr.ravel(), minlength=256)[
            n:IGNORE_INDEX]) + n).tolist() if check_values else []
    else:
        bad = [v for v in np.unique(arr).tolist()
               if not (0 <= v < n or v == IGNORE_INDEX)] if check_values \
            else [v for v in np.unique(arr).tolist() if not 0 <= v <= 255]
    if bad and lvl != hierarchy.leaf_level:
        from .label_levels import describe_level_ids
        raise InvalidLabelMapError(
            f'label map {path} holds values {bad[:10]} outside the ids of '
            f'its label level {hierarchy.level_names[lvl]!r}: valid ids are '
            f'{describe_level_ids(hierarchy, lvl)} and {IGNORE_INDEX} '
            '(ignore). Check that this split\'s label_level is the level its'
            ' masks were made for, or remap the mask to these ids.')
    if bad:
        shown = bad[:10]
        more = f' (and {len(bad) - 10} more)' if len(bad) > 10 else ''
        raise InvalidLabelMapError(
            f'label map {path} holds values {shown}{more} outside the tree: '
            f'valid leaf ids are 0..{hierarchy.num_leaves - 1} '
            f'({", ".join(hierarchy.leaf_names)}) and {IGNORE_INDEX} '
            '(ignore). Remap the mask to these ids, set unknown pixels to '
            f'{IGNORE_INDEX}, or pass the hierarchy the data was made for '
            '(e.g. hierarchy=\'pascal_person_part\' for PASCAL-Person-Part '
            'PNGs).')
    return arr.astype(np.uint8, copy=False)


def load_label_map(path: str,
                   hierarchy: HierarchyLike,
                   expected_shape: Optional[Sequence[int]] = None,
                   image_path: Optional[str] = None,
                   backend_args: Optional[dict] = None,
                   check_values: bool = True,
                   image_orientation: Optional[str] = None,
                   label_level: Optional[int] = None) -> np.ndarray:
    """Load and validate a label map (``.npy`` or ``.png``).

    Args:
        path (str): The mask file.
        hierarchy (ClassHierarchy | dict | str): See
            :func:`validate_label_map`.
        expected_shape (Sequence[int], optional): ``(H, W)`` of the image.
        image_path (str, optional): The image (named in shape errors).
        backend_args (dict, optional): mmengine file backend arguments.
        check_values (bool): See :func:`validate_label_map`.
        image_orientation (str, optional): See :func:`validate_label_map`.
        label_level (int, optional): See :func:`validate_label_map`.

    Returns:
        np.ndarray: uint8 ``HxW`` ids (leaf ids by default).
    """
    content = get_bytes(
        path, 'label map',
        'Restore the file, or remove its id from the split file.',
        backend_args)
    arr = decode_label_map(content, path)
    return validate_label_map(arr, path, hierarchy, expected_shape,
                              image_path, check_values, image_orientation,
                              label_level)
