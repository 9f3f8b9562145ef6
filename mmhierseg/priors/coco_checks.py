"""Checks of a COCO keypoint file before any prior file is written (used by
:func:`~mmhierseg.priors.coco_keypoints.convert_coco_keypoints`).

Each problem is one line naming the image (id and file name) or the
annotation (``annotation <id>``, or ``entry <k>`` of a results file without
ids) and the fix. Two kinds:

- *fatal* (always refused): two images with one id, or whose file names
  give the same prior file (``<base name>.npz``: one would overwrite the
  other);
- *bad* entries (refused, or left out and reported with ``--skip-bad``):
  an image without a positive integer ``height``/``width``, ``id`` or
  ``file_name``; an annotation whose image is not in the ``images`` list,
  without 17 finite keypoints, with a ``bbox`` that is not 4 finite numbers
  of positive width and height, or with a malformed ``segmentation``.
"""
import numbers
import os.path as osp
from typing import Dict, List, Optional, Tuple

import numpy as np

__all__ = ['NUM_KPTS', 'CocoInputError', 'prior_name', 'check_images',
           'check_annotation', 'annotation_label']

NUM_KPTS = 17


class CocoInputError(ValueError):
    """The COCO input cannot be converted (the message lists why)."""


def _positive_int(value) -> Optional[int]:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return int(value) if value == int(value) and value >= 1 else None


def prior_name(file_name: str) -> str:
    """The prior file of an image: ``<base name without suffix>.npz``."""
    return osp.splitext(osp.basename(str(file_name)))[0] + '.npz'


def check_images(images) -> Tuple[Dict, List[str], List[str]]:
    """Check the ``images`` list.

    Args:
        images (list): COCO image entries.

    Returns:
        tuple: ``{id: (entry, height, width)}`` of the usable images, the
        bad entries and the fatal problems (one line each).
    """
    good, bad, fatal, ids, names = {}, [], [], {}, {}
    fix = ('add it to the images entry (the size in pixels of the image '
           'file), or remove the entry')
    for k, img in enumerate(images):
        if not isinstance(img, dict):
            bad.append(f'images[{k}] is not an object ({img!r:.60}); '
                       'remove it')
            continue
        label = f"image {img.get('id')!r} ({img.get('file_name')!r})"
        if img.get('id') in ids:
            fatal.append(f"{label}: id {img.get('id')!r} also names "
                         f"{ids[img.get('id')]!r}; give every image its own "
                         'id')
            continue
        ids[img.get('id')] = img.get('file_name')
        name = img.get('file_name')
        if not isinstance(name, str) or prior_name(name) == '.npz':
            bad.append(f'{label}: no file_name; {fix}')
            continue
        if prior_name(name) in names:
            first = names[prior_name(name)]
            fatal.append(
                f'{label} and image {first[0]!r} ({first[1]!r}) both write '
                f'{prior_name(name)} (prior files are named by the image '
                "file's base name, as training looks them up); give the "
                'images distinct base names, or convert them into separate '
                '--out folders')
            continue
        names[prior_name(name)] = (img.get('id'), name)
        if img.get('id') is None:
            bad.append(f'{label}: no id; {fix}')
            continue
        size = [_positive_int(img.get(k)) for k in ('height', 'width')]
        if None in size:
            what = ', '.join(
                f'{k} {img[k]!r} is not a positive integer' if k in img else
                f'no {k}' for k, v in zip(('height', 'width'), size)
                if v is None)
            bad.append(f'{label}: {what}; {fix}')
            continue
        good[img['id']] = (img, *size)
    return good, bad, fatal


def annotation_label(ann, k: int) -> str:
    """``'annotation 12 (image_id 3)'``, or ``'entry 4 (image_id 3)'``."""
    if isinstance(ann, dict) and ann.get('id') is not None:
        return f"annotation {ann['id']} (image_id {ann.get('image_id')})"
    image = ann.get('image_id') if isinstance(ann, dict) else None
    return f'entry {k} (image_id {image})'


def _finite(values, n: Optional[int] = None) -> Optional[np.ndarray]:
    try:
        arr = np.asarray(values, np.float64).ravel()
    except (TypeError, ValueError):
        return None
    ok = np.isfinite(arr).all() and (n is None or arr.size == n)
    return arr if ok else None


def _segmentation_problem(seg, height: int, width: int) -> Optional[str]:
    """Why a ``segmentation`` (polygons or RLE) is malformed, or None."""
    if isinstance(seg, list):
        for i, poly in enumerate(seg):
            arr = _finite(poly) if isinstance(poly, list) else None
            if arr is None or arr.size % 2 or arr.size < 6:
                return (f'polygon {i} ({poly!r:.60}) is not [x1, y1, x2, y2, '
                        '...] with at least 3 points')
        return None
    if isinstance(seg, dict):
        size, counts = seg.get('size'), seg.get('counts')
        if list(size or []) != [height, width]:
            return (f'RLE size {size!r} is not the image\'s [height, width] '
                    f'{[height, width]}')
        if isinstance(counts, list):
            arr = _finite(counts)
            if arr is None or (arr < 0).any() or arr.sum() != height * width:
                return ('RLE counts do not add up to height * width = '
                        f'{height * width}')
            return None
        return None if isinstance(counts, (str, bytes)) else \
            f'RLE counts {counts!r:.40} are neither a list nor a string'
    return (f'{seg!r:.60} is neither a list of polygons nor an RLE '
            'object')


def check_annotation(ann, k: int, images: Dict, all_ids, results: bool,
                     with_mask: bool) -> Tuple[Optional[str], Optional[dict]]:
    """Check one annotation.

    Args:
        ann (dict): The annotation (or result entry).
        k (int): Its index in the file.
        images (dict): Usable images, from :func:`check_images`.
        all_ids (set): Every image id of the file (usable or not).
        results (bool): A results file (scores, no ``segmentation``).
        with_mask (bool): Check ``segmentation`` too.

    Returns:
        tuple[str | None, dict | None]: The problem (one line, naming the
        annotation and the fix) or None; the parsed person (``image_id``,
        ``kpts`` ``(17, 3)``, ``box`` xyxy or None, ``seg``) or None (a
        crowd region, a bad entry, or one of an unusable image).
    """
    label = annotation_label(ann, k)
    if not isinstance(ann, dict):
        return f'{label}: not an object ({ann!r:.60}); remove it', None
    if ann.get('iscrowd', 0):
        return None, None  # crowd regions are no people
    image_id = ann.get('image_id')
    if image_id not in all_ids:
        return (f'{label}: image_id {image_id!r} is not in the images list; '
                'pass the --images file these annotations were made for, or '
                'remove the annotation'), None
    if image_id not in images:
        return None, None  # the image is reported (and left out) itself
    kpts = _finite(ann.get('keypoints', []))
    if kpts is None or kpts.size != 3 * NUM_KPTS:
        n = 'no finite' if kpts is None else kpts.size // 3
        return (f'{label} has {n} keypoints; COCO-17 keypoints needed '
                '([x, y, v] * 17, finite numbers)'), None
    box = None
    if ann.get('bbox'):
        xywh = _finite(ann['bbox'], 4)
        if xywh is None or xywh[2] <= 0 or xywh[3] <= 0:
            return (f"{label}: bbox {ann['bbox']!r:.60} is not [x, y, width, "
                    'height] with width and height > 0 (it sets the '
                    "people's scale the parts are drawn at); correct it, or "
                    "remove the bbox to use the keypoints' extent"), None
        box = (xywh[0], xywh[1], xywh[0] + xywh[2], xywh[1] + xywh[3])
    seg = [] if results or not with_mask else ann.get('segmentation') or []
    _, height, width = images[image_id]
    why = _segmentation_problem(seg, height, width) if seg else None
    if why:
        return (f'{label}: segmentation {why}; correct it, or pass '
                '--no-mask (no person masks)'), None
    return None, dict(image_id=image_id, kpts=kpts.reshape(NUM_KPTS, 3),
                      box=box, seg=seg)
