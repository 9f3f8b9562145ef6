"""COCO keypoints -> prior files: :func:`convert_coco_keypoints`, behind
``tools/dataset_converters/coco_keypoints_to_priors.py``.

Everything is checked first (:mod:`.coco_checks`); nothing is written when
the input is refused. One ``<out>/<image base name>.npz`` per usable image
(people's boxes, COCO-17 keypoints, confidences, visibility flags and the
mask of their ``segmentation``), images without people included.
"""
import os
from collections import defaultdict
from typing import List, Sequence, Tuple

import numpy as np

from .coco_checks import (NUM_KPTS, CocoInputError, annotation_label,
                          check_annotation, check_images, prior_name)
from .files import PersonPriors, save_priors

__all__ = ['convert_coco_keypoints', 'annotation_mask', 'CocoInputError']

_SHOWN = 20


def _listed(lines: Sequence[str], limit: int = _SHOWN) -> str:
    more = (f'\n  ... and {len(lines) - limit} more'
            if len(lines) > limit else '')
    return '\n'.join(f'  - {line}' for line in lines[:limit]) + more


def annotation_mask(seg, height: int, width: int, path: str = ''
                    ) -> np.ndarray:
    """The mask of one annotation's ``segmentation`` (polygons or RLE).

    Args:
        seg (list | dict): Checked by :mod:`.coco_checks`.
        height (int): Image height.
        width (int): Image width.
        path (str): The input file, for messages.

    Returns:
        np.ndarray: ``(height, width)`` bool.
    """
    import cv2
    mask = np.zeros((height, width), np.uint8)
    if isinstance(seg, list):  # polygons
        for poly in seg:
            pts = np.asarray(poly, np.float64).reshape(-1, 2)
            cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 1)
        return mask.astype(bool)
    try:
        from pycocotools import mask as rle
    except ImportError:
        try:
            from xtcocotools import mask as rle
        except ImportError:
            raise CocoInputError(
                f'{path}: RLE segmentations need pycocotools (`pip install '
                'pycocotools`), or pass --no-mask') from None
    if isinstance(seg['counts'], list):
        seg = rle.frPyObjects(seg, height, width)
    return rle.decode(seg).astype(bool)


def _refusal(path: str, fatal: List[str], bad: List[str]) -> str:
    lines = fatal + bad
    skip = ('' if fatal else ', or pass --skip-bad to leave out each bad '
            'image or annotation (each is reported)')
    return (f'{path}: {len(lines)} problem(s), nothing was written:\n'
            f'{_listed(lines)}\nCorrect the file{skip}.')


def convert_coco_keypoints(anns,
                           images,
                           out: str,
                           source: dict,
                           with_mask: bool = True,
                           results: bool = False,
                           skip_bad: bool = False,
                           path: str = '') -> Tuple[int, int, List[str]]:
    """Write one prior file per usable image.

    Args:
        anns (list): COCO annotations, or the entries of a results file.
        images (list): COCO image entries (names and sizes).
        out (str): Output folder.
        source (dict): Recorded in every file.
        with_mask (bool): Masks from ``segmentation`` (when any has one).
        results (bool): The keypoints' third values are scores, not COCO
            visibility flags.
        skip_bad (bool): Leave out bad images and annotations (returned)
            instead of refusing the input.
        path (str): The input file, for messages.

    Returns:
        tuple[int, int, list[str]]: Images written, people written, and the
        images and annotations left out (one line each).

    Raises:
        CocoInputError: Refused (before anything is written), listing every
            problem with its fix.
    """
    if not isinstance(images, list) or not isinstance(anns, list):
        raise CocoInputError(f'{path}: `images` and `annotations` must be '
                             'lists (COCO keypoint format)')
    good, bad, fatal = check_images(images)
    all_ids = {i.get('id') for i in images if isinstance(i, dict)}
    by_image = defaultdict(list)
    for k, ann in enumerate(anns):
        why, person = check_annotation(ann, k, good, all_ids, results,
                                       with_mask)
        bad += [why] if why else []
        if person:
            by_image[person['image_id']].append((k, ann, person))
    if fatal or (bad and not skip_bad):
        raise CocoInputError(_refusal(path, fatal, bad))
    with_mask = with_mask and not results and any(
        p['seg'] for found in by_image.values() for _, _, p in found)
    os.makedirs(out, exist_ok=True)
    people = 0
    for image_id, (img, h, w) in good.items():
        boxes, kpts, scores, vis = [], [], [], []
        mask = np.zeros((h, w), bool) if with_mask else None
        for k, ann, person in by_image.get(image_id, []):
            if with_mask and person['seg']:
                try:
                    mask |= annotation_mask(person['seg'], h, w, path)
                except CocoInputError:
                    raise
                except Exception as e:  # an undecodable RLE string
                    why = (f'{annotation_label(ann, k)}: segmentation cannot'
                           f' be decoded ({e}); correct it, or pass '
                           '--no-mask')
                    if not skip_bad:
                        raise CocoInputError(
                            f'{path}: {why} (the files of the images before '
                            f'{img["file_name"]!r} were written)') from None
                    bad.append(why)
                    continue
            k3 = person['kpts']
            known = k3[:, 2] > 0
            if person['box'] is None:  # the extent of the known keypoints
                pts = k3[known, :2] if known.any() else np.zeros((1, 2))
                person['box'] = (*pts.min(0), *pts.max(0))
            boxes.append(person['box'])
            kpts.append(k3[:, :2])
            scores.append(k3[:, 2] if results else known.astype(np.float32))
            vis.append(k3[:, 2])
        priors = PersonPriors(
            np.asarray(boxes, np.float32).reshape(-1, 4),
            np.asarray(kpts, np.float32).reshape(-1, NUM_KPTS, 2),
            np.asarray(scores, np.float32).reshape(-1, NUM_KPTS), (h, w),
            mask, None if results else np.asarray(vis, np.uint8).reshape(
                -1, NUM_KPTS))
        save_priors(os.path.join(out, prior_name(img['file_name'])), priors,
                    source)
        people += len(boxes)
    return len(good), people, bad
