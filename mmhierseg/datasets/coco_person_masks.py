"""COCO person instances -> body-level masks in the Pascal-part layout.

:func:`convert_coco_person_masks` turns the ``person`` annotations of a COCO
instance file (``segmentation`` polygons or RLE) into masks of the tree's
coarsest level (``ClassHierarchy.classes(0)``: background, body), written
with their images and a split file in the project's on-disk layout::

    out_dir/JPEGImages/<id>.jpg   (copied)
    out_dir/gt_masks/<id>.npy     uint8: 0 background, 1 body, 255 crowd
    out_dir/<split file>          one id per line

Read it with ``PascalPartDataset(label_level=<coarsest level name>)`` and
mix it with part-labelled data (:mod:`mmhierseg.datasets.label_levels`).
Crowd regions (``iscrowd=1``: many people, not outlined one by one) are 255
(ignored), on top of the people. Images without any person annotation are
skipped and counted (``keep_empty=True`` keeps them, all background: at the
body level they are true negatives, but COCO has about as many of them as
images with people). Everything is checked before anything is written.
"""
import json
import os
import os.path as osp
import shutil
from typing import Dict, List, Optional

import numpy as np

from mmhierseg.hierarchy import IGNORE_INDEX, ClassHierarchy
from mmhierseg.priors.coco_checks import CocoInputError, check_images
from mmhierseg.priors.coco_keypoints import annotation_mask

__all__ = ['convert_coco_person_masks', 'CocoInputError']

_JPEG = ('.jpg', '.jpeg')


def _listed(lines: List[str], limit: int = 20) -> str:
    more = f'\n  ... and {len(lines) - limit} more' if len(
        lines) > limit else ''
    return '\n'.join(f'  - {x}' for x in lines[:limit]) + more


def _person_ids(coco: dict, path: str, category: str) -> set:
    cats = coco.get('categories') or []
    ids = {c.get('id') for c in cats
           if isinstance(c, dict) and c.get('name') == category}
    if not ids:
        names = sorted(str(c.get('name')) for c in cats
                       if isinstance(c, dict))
        raise CocoInputError(
            f'{path}: no {category!r} category (categories: '
            f'{names[:20] or "none"}); give a COCO instance file with '
            f'people, or --category NAME')
    return ids


def _check_segmentation(seg, height: int, width: int) -> Optional[str]:
    if isinstance(seg, dict):
        if list(seg.get('size') or []) != [height, width]:
            return (f"RLE size {seg.get('size')!r} does not match the "
                    f'image size [height, width] {[height, width]}')
        return None
    if isinstance(seg, list) and seg and all(
            isinstance(p, list) and len(p) >= 6 and len(p) % 2 == 0
            for p in seg):
        return None
    return (f'segmentation {seg!r:.60} is neither polygons [x1, y1, ...] '
            '(at least 3 points) nor RLE')


def convert_coco_person_masks(ann_file: str,
                              img_dir: str,
                              out_dir: str,
                              split: str = 'train_id.txt',
                              hierarchy='pascal_part',
                              category: str = 'person',
                              keep_empty: bool = False) -> Dict[str, int]:
    """Write body-level masks, images and a split file from COCO people.

    Args:
        ann_file (str): COCO instance annotations (JSON).
        img_dir (str): Folder of the images (``file_name`` relative to it).
        out_dir (str): Dataset root to write (folders are created).
        split (str): Split file name in ``out_dir``.
        hierarchy (str | dict | ClassHierarchy): The tree; its coarsest
            level must have exactly one foreground class (the person).
        category (str): Category name of the people.
        keep_empty (bool): Keep images without a person (all background)
            instead of skipping them.

    Returns:
        dict[str, int]: ``images`` written, ``skipped_empty``, ``people``
        (annotations drawn) and ``crowd`` (crowd regions set to 255).

    Raises:
        CocoInputError: Listing every problem (no person category, images
            without a file, a usable size or a JPEG suffix, an image file
            whose size differs from its entry, malformed segmentations)
            before anything is written.
    """
    from PIL import Image
    tree = ClassHierarchy.build(hierarchy)
    fg = tree.foreground_indices(0)
    if len(fg) != 1:
        raise CocoInputError(
            f'level {tree.level_names[0]!r} has {len(fg)} foreground classes'
            f' {[tree.classes(0)[i] for i in fg]}; person masks need one')
    with open(ann_file) as f:
        coco = json.load(f)
    people = _person_ids(coco, ann_file, category)
    images, bad, fatal = check_images(coco.get('images') or [])
    problems = fatal + bad
    by_image: Dict = {}
    for ann in coco.get('annotations') or []:
        if not isinstance(ann, dict) or ann.get('category_id') not in people:
            continue
        if ann.get('image_id') not in images:
            problems.append(f"annotation {ann.get('id')}: image_id "
                            f"{ann.get('image_id')!r} is not in images")
            continue
        _, h, w = images[ann['image_id']]
        why = _check_segmentation(ann.get('segmentation'), h, w)
        if why:
            problems.append(f"annotation {ann.get('id')} (image_id "
                            f"{ann['image_id']}): {why}")
        by_image.setdefault(ann['image_id'], []).append(ann)
    todo = []
    for img_id, (entry, h, w) in images.items():
        if img_id not in by_image and not keep_empty:
            continue
        src = osp.join(img_dir, entry['file_name'])
        name, suffix = osp.splitext(osp.basename(entry['file_name']))
        if suffix.lower() not in _JPEG:
            problems.append(f'{src}: not a JPEG (.jpg); convert it first')
        elif not osp.isfile(src):
            problems.append(f'{src} (image {img_id!r}) not found; give the '
                            'folder of the annotation file\'s images')
        else:
            with Image.open(src) as im:
                size = [im.height, im.width]
            if size != [h, w]:
                problems.append(
                    f'{src}: image size {size} (height, width) differs from '
                    f'its annotation entry {[h, w]}; is it the right file?')
        todo.append((img_id, name, src, h, w))
    if problems:
        raise CocoInputError(
            f'{ann_file}: {len(problems)} problem(s), nothing written:\n'
            f'{_listed(problems)}')
    for sub in ('JPEGImages', 'gt_masks'):
        os.makedirs(osp.join(out_dir, sub), exist_ok=True)
    counts = dict(images=0, skipped_empty=len(images) - len(todo), people=0,
                  crowd=0)
    for img_id, name, src, h, w in todo:
        mask = np.full((h, w), tree.background_index(0), np.uint8)
        anns = by_image.get(img_id, [])
        for ann in sorted(anns, key=lambda a: bool(a.get('iscrowd'))):
            drawn = annotation_mask(ann['segmentation'], h, w, ann_file)
            crowd = bool(ann.get('iscrowd'))
            mask[drawn] = IGNORE_INDEX if crowd else fg[0]
            counts['crowd' if crowd else 'people'] += 1
        shutil.copyfile(src, osp.join(out_dir, 'JPEGImages', name + '.jpg'))
        np.save(osp.join(out_dir, 'gt_masks', name + '.npy'), mask)
        counts['images'] += 1
    with open(osp.join(out_dir, split), 'w') as f:
        f.write(''.join(t[1] + '\n' for t in todo))
    return counts
