"""Checks of one image/mask pair, shared by the dataset (cheap check of the
validation masks when the data list is loaded) and :func:`check_dataset`."""
from typing import List, Optional, Sequence, Tuple

import numpy as np

from mmhierseg.hierarchy import ClassHierarchy
from .images import image_header, oriented_size
from .utils import (InvalidLabelMapError, decode_label_map, file_exists,
                    get_bytes, validate_label_map)

__all__ = ['check_sample', 'check_masks_cheaply', 'list_problems']

_FIX = 'restore it, or remove its id from the split file'


def list_problems(problems: Sequence[str], limit: int = 10) -> str:
    """The first ``limit`` problems, one per indented line, and a count.

    Args:
        problems (Sequence[str]): One line each.
        limit (int): How many to show.

    Returns:
        str
    """
    more = (f'\n  ... and {len(problems) - limit} more'
            if len(problems) > limit else '')
    return '  ' + '\n  '.join(problems[:limit]) + more


def check_sample(img_path: str,
                 mask_path: str,
                 hierarchy: ClassHierarchy,
                 image_orientation: Optional[str] = None,
                 decode_image: bool = False,
                 backend_args: Optional[dict] = None,
                 label_level: Optional[int] = None
                 ) -> Tuple[Optional[np.ndarray], int, List[str]]:
    """Check an image (header) and its mask without decoding the image.

    The mask must exist, be an integer 2-D array of the image's size (as
    read under ``image_orientation``) and hold leaf ids of the tree (or
    the ids of ``label_level``) or 255.

    Args:
        img_path (str): The image.
        mask_path (str): Its mask.
        hierarchy (ClassHierarchy): The tree.
        image_orientation (str, optional): The EXIF orientation policy.
        decode_image (bool): Decode the image too (finds truncated files).
        backend_args (dict, optional): mmengine file backend arguments.
        label_level (int, optional): The level whose ids the mask holds
            (default: the leaf level).

    Returns:
        tuple: The uint8 mask (None if it is unusable), the image's EXIF
        orientation tag, and the problems found (one line each, naming the
        file).
    """
    problems, shape, tag = [], None, 1
    if not file_exists(img_path, backend_args):
        problems.append(f'image {img_path} not found; {_FIX}')
    else:
        try:
            raw_hw, tag = image_header(img_path, decode_image, backend_args)
            shape = oriented_size(raw_hw, tag, image_orientation)
        except Exception as e:
            problems.append(f'image {img_path} is unreadable or corrupt ({e});'
                            f' re-download or re-copy it, or remove its id '
                            'from the split file')
    label = None
    try:
        content = get_bytes(mask_path, 'mask', _FIX.capitalize() + '.',
                            backend_args)
        label = validate_label_map(
            decode_label_map(content, mask_path), mask_path, hierarchy,
            expected_shape=shape, image_path=img_path,
            image_orientation=image_orientation, label_level=label_level)
    except (OSError, InvalidLabelMapError) as e:
        problems.append(str(e))
    return label, tag, problems


def check_masks_cheaply(data_list: Sequence[dict],
                        hierarchy: ClassHierarchy,
                        image_orientation: Optional[str] = None,
                        backend_args: Optional[dict] = None,
                        label_level: Optional[int] = None) -> None:
    """Check every mask of a data list (dtype, size against the image
    header, values); raise one error listing every bad file.

    Args:
        data_list (Sequence[dict]): Dicts with ``img_path``,
            ``seg_map_path`` and ``img_id``.
        hierarchy (ClassHierarchy): The tree.
        image_orientation (str, optional): The EXIF orientation policy.
        backend_args (dict, optional): mmengine file backend arguments.
        label_level (int, optional): The level whose ids the masks hold
            (default: the leaf level).

    Raises:
        InvalidLabelMapError: If any mask is unusable.
    """
    problems = []
    for info in data_list:
        _, _, found = check_sample(info['img_path'], info['seg_map_path'],
                                   hierarchy, image_orientation,
                                   backend_args=backend_args,
                                   label_level=label_level)
        problems += [f'id {info["img_id"]}: {p}' for p in found]
    if problems:
        raise InvalidLabelMapError(
            f'{len(problems)} problem(s) with the masks of this split '
            '(checked when the dataset is built, before any training or '
            f'validation):\n{list_problems(problems)}\n'
            '`python tools/check_dataset.py DATA_ROOT` lists every problem; '
            'check_masks=False in the dataset config skips this check.')
