"""A synthetic Pascal-part look-alike: articulated people on cluttered scenes.

:func:`make_synthetic_dataset` writes a dataset in exactly the Pascal-part
layout (``JPEGImages/*.jpg``, ``gt_masks/*.npy`` uint8, ``train_id.txt``,
``val_id.txt``, ``classes.txt``), or the PASCAL-Person-Part PNG layout, for
tests, demos and CPU smoke training.

What is drawn:

* people built from a 2-D skeleton (pelvis, spine, neck, head, shoulders,
  elbows, wrists, hips, knees, ankles) with sampled poses (standing,
  walking, sitting, crouching, lying, arms down / out / raised / crossed),
  views (front, back, side) and builds; body pieces carry Pascal-Part's fine
  part names (``hair``, ``leye``, ``neck``, ``luarm``, ``rhand``,
  ``lfoot``, ...) and are mapped to leaves with
  :data:`~mmhierseg.datasets.pascal_part_mat.PERSON_PART_TO_LEAF`, the
  converter's table, so ids come from the hierarchy;
* clothes (shirts with short or long sleeves, trousers or shorts, shoes,
  stripes), skin tones, hair, eyes, shading;
* sizes from tiny far-away people to close-ups whose hips and legs are
  below the frame (no lower body in about a quarter of the images);
* 1-3 people; a later (nearer) person covers earlier ones, and foreground
  objects sometimes cover people;
* textured, cluttered backgrounds: gradients, smooth noise, random shapes in
  skin and cloth colours, limb-like capsules that belong to no person, so
  colour alone does not identify parts;
* some grayscale images, JPEG compression, sides of 120-500 pixels.

Masks are painted with exactly the polygons that are painted into the image
(no anti-aliasing on people), so every person pixel of the image has its
label; the only later changes to the image are per-pixel (noise, contrast,
grayscale, JPEG). Each image has its own random stream derived from
``(seed, index)``: the same seed gives byte-identical masks.
"""
import json
import os
import os.path as osp
import time
from typing import Optional, Tuple

import cv2
import numpy as np

from mmhierseg.hierarchy import ClassHierarchy
from mmhierseg.datasets.checks import level_shares
from mmhierseg.datasets.layouts import get_layout
from mmhierseg.datasets.pascal_part_mat import (PERSON_PART_TO_LEAF,
                                               write_classes, write_label_map)
from mmhierseg.priors import KEYPOINT_MASK, save_priors
from .synthetic_people import PIECES, paint_person
from .synthetic_priors import (ORACLE_SOURCE, PRIOR_MASKS, degrade_priors,
                               oracle_priors, with_keypoint_mask)
from .synthetic_scene import background, image_size, occluder, photometric

__all__ = ['make_synthetic_dataset', 'render_sample', 'format_summary']


def render_sample(rng: np.random.Generator,
                  hierarchy,
                  closeup_prob: float = 0.22,
                  grayscale_prob: float = 0.1) -> Tuple[np.ndarray,
                                                        np.ndarray, dict]:
    """Render one synthetic image and its leaf mask.

    Args:
        rng (np.random.Generator): The random stream (one per image).
        hierarchy (str | dict | ClassHierarchy): Tree whose leaf ids are
            written (e.g. ``'pascal_part'``).
        closeup_prob (float): Probability of a close-up image (people cut at
            the hips: no lower body).
        grayscale_prob (float): Probability of a grayscale image.

    Returns:
        tuple: ``img`` (uint8 RGB HxWx3, or HxW when grayscale), ``label``
        (uint8 HxW leaf ids) and ``info`` (dict: ``num_people``,
        ``closeup``, ``grayscale``, ``people``: per drawn person its
        COCO-17 ``keypoints``, view-``hidden`` flags and ``box``).
    """
    hierarchy = ClassHierarchy.build(hierarchy)
    for _ in range(5):  # every image shows someone (like the real data)
        img, label, n_people, closeup, drawn = _render_scene(
            rng, hierarchy, closeup_prob)
        if (label != hierarchy.background_leaf).any():
            break
    img = photometric(rng, img)
    grayscale = rng.random() < grayscale_prob
    if grayscale:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    return img, label, dict(num_people=n_people, closeup=closeup,
                            grayscale=grayscale, people=drawn)


def _leaf_table(hierarchy: ClassHierarchy) -> np.ndarray:
    """Piece id -> leaf id of the hierarchy (by leaf name)."""
    leaf_of = np.full(len(PIECES), hierarchy.background_leaf, np.uint8)
    for i, name in enumerate(PIECES[1:], 1):
        leaf = PERSON_PART_TO_LEAF[name]
        if leaf not in hierarchy.leaf_names:
            raise ValueError(
                f'synthetic people need a leaf named {leaf!r}; the hierarchy '
                f'has {list(hierarchy.leaf_names)}')
        leaf_of[i] = hierarchy.leaf_names.index(leaf)
    return leaf_of


def _render_scene(rng, hierarchy: ClassHierarchy, closeup_prob: float):
    """Background, people and occluders; returns (RGB, label, n, closeup)."""
    leaf_of = _leaf_table(hierarchy)
    h, w = image_size(rng)
    img = background(rng, h, w)
    label = np.full((h, w), hierarchy.background_leaf, np.uint8)

    closeup = rng.random() < closeup_prob
    n_people = int(rng.choice([1, 2, 3], p=[0.4, 0.35, 0.25]))
    people = []
    if closeup:
        n_people = min(n_people, 2)
        for _ in range(n_people):
            neck_y = h * rng.uniform(0.45, 0.92)
            min_height = (h - neck_y) / 0.26
            height = max(min_height, h * rng.uniform(1.4, 3.6))
            pelvis_y = neck_y + 0.3 * height
            cx = w * rng.uniform(0.1, 0.9)
            rot = rng.normal(0, 5)
            people.append((pelvis_y, cx, height, rot, 'stand', False))
    else:
        # medium shots (cut at the thighs or knees) or whole people
        medium = rng.random() < 0.5
        base = h * (rng.uniform(0.9, 1.7) if medium else
                    np.exp(rng.uniform(np.log(0.35), np.log(1.3))))
        for k in range(n_people):
            height = base * (np.exp(rng.normal(0, 0.2)) if k else 1.0)
            far = rng.random() < 0.15
            if far:  # a far-away extra
                height = h * rng.uniform(0.1, 0.25)
            pose = rng.choice(['stand', 'walk', 'sit', 'crouch', 'lie'],
                              p=[0.45, 0.2, 0.17, 0.1, 0.08])
            rot = rng.normal(0, 6)
            if pose == 'lie' and (not medium or far):
                rot = float(rng.choice([-1, 1]) * rng.uniform(65, 100))
                pose = 'stand'
            elif pose == 'lie':
                pose = 'stand'
            if medium and not far:
                head_top = h * rng.uniform(0.02, 0.3)
                pelvis_y = head_top + 0.46 * height
            else:
                foot_y = h * rng.uniform(0.45, 1.12)
                pelvis_y = foot_y - 0.45 * height * np.cos(np.deg2rad(rot))
            cx = w * rng.uniform(0.02, 0.98)
            people.append((pelvis_y, cx, height, rot, str(pose), True))
    people.sort(key=lambda p: p[0] + 0.5 * p[2])  # far (higher) first
    drawn = []
    for pelvis_y, cx, height, rot, pose, legs in people:
        view = str(rng.choice(['front', 'back', 'side'], p=[0.6, 0.15,
                                                             0.25]))
        if pose in ('walk', 'sit', 'crouch') and rng.random() < 0.5:
            view = 'side'
        paint_person(rng, img, label, leaf_of, cx, pelvis_y, height, rot,
                      pose, view, legs, drawn)
    if rng.random() < 0.25:
        occluder(rng, img, label, hierarchy.background_leaf)
    return img, label, len(people), closeup, drawn


def make_synthetic_dataset(out_dir: str,
                           num_train: int = 200,
                           num_val: int = 50,
                           seed: int = 0,
                           layout: str = 'pascal_part',
                           hierarchy=None,
                           closeup_prob: float = 0.22,
                           grayscale_prob: float = 0.1,
                           jpeg_quality: Tuple[int, int] = (75, 95),
                           id_prefix: str = 'synth',
                           priors: bool = True,
                           prior_degrade: Optional[dict] = None,
                           prior_mask: str = 'oracle',
                           coarse_train: int = 0,
                           coarse_val: int = 0,
                           coarse_level: str = 'body',
                           verbose: bool = False) -> dict:
    """Write a synthetic dataset in the Pascal-part (or Person-Part) layout.

    Args:
        out_dir (str): Dataset root to create (existing files with the same
            names are overwritten).
        num_train (int): Number of training images.
        num_val (int): Number of validation images.
        seed (int): Seed; image ``i`` uses the stream ``(seed, i)``, so the
            same seed gives byte-identical masks (and images, for the same
            OpenCV build).
        layout (str): ``'pascal_part'`` (``gt_masks/*.npy``) or
            ``'person_part'`` (``SegmentationPart/*.png``).
        hierarchy (str | dict | ClassHierarchy, optional): Id order of the
            masks. Defaults to the layout's hierarchy.
        closeup_prob (float): Share of close-ups (no lower body).
        grayscale_prob (float): Share of grayscale JPEGs.
        jpeg_quality (tuple[int, int]): Range of JPEG qualities.
        id_prefix (str): Image ids are ``<prefix>_<index:06d>``.
        priors (bool): Also write oracle pose priors, ``priors/<id>.npz``
            (see :mod:`mmhierseg.testing.synthetic_priors`). Defaults to
            True.
        prior_degrade (dict, optional): ``jitter``, ``drop``, ``miss`` of
            :func:`degrade_priors` (own random stream per image).
        prior_mask (str): The priors' person mask: ``'oracle'`` (the true
            people's mask, what a perfect FastSAM gives) or ``'keypoints'``
            (drawn from the, possibly degraded, keypoints: what the
            offline pipeline without FastSAM weights makes, see
            :func:`~mmhierseg.priors.keypoint_person_mask`).
        coarse_train (int): Extra training images labelled only down to
            ``coarse_level`` (mixed granularity): their masks hold that
            level's ids, their ids (``<prefix>_<level>_<index:06d>``) are
            listed in ``train_<level>_id.txt`` (not in ``train_id.txt``).
            Defaults to 0 (none; nothing else changes).
        coarse_val (int): The same for ``val_<level>_id.txt``.
        coarse_level (str): Level name of those masks. Defaults to
            ``'body'``.
        verbose (bool): Print a summary.

    Returns:
        dict: ``out_dir``, ``num_train``, ``num_val``, ``seconds``,
        ``images_per_second``, ``pixel_counts`` (per leaf id, of the
        leaf-labelled images),
        ``pixel_shares`` (leaf name -> share), ``level_shares`` (one dict per
        level), ``images_without_lower_body`` and ``grayscale_images``.
    """
    if num_train < 1 or num_val < 0:
        raise ValueError('need num_train >= 1 and num_val >= 0')
    if prior_mask not in PRIOR_MASKS:
        raise ValueError(f'prior_mask must be one of {PRIOR_MASKS}, got '
                         f'{prior_mask!r}')
    lay = get_layout(layout)
    hierarchy = ClassHierarchy.build(hierarchy if hierarchy is not None else
                                     lay['hierarchy'])
    img_dir = osp.join(out_dir, lay['img_dir'])
    mask_dir = osp.join(out_dir, lay['mask_dir'])
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(mask_dir, exist_ok=True)
    lower = []
    if hierarchy.num_levels > 1:
        half = hierarchy.lut(1)
        lower = [i for i in range(hierarchy.num_leaves)
                 if hierarchy.classes(1)[half[i]] == 'lower_body']
    counts = np.zeros(hierarchy.num_leaves, np.int64)
    no_lower = grey = 0
    ids = []
    t0 = time.perf_counter()
    n_leaf = num_train + num_val
    coarse = hierarchy.level_index(coarse_level) if \
        coarse_train + coarse_val else hierarchy.leaf_level
    for i in range(n_leaf + coarse_train + coarse_val):
        rng = np.random.default_rng([seed, i])
        img, label, info = render_sample(rng, hierarchy, closeup_prob,
                                         grayscale_prob)
        img_id = f'{id_prefix}_{i:06d}' if i < n_leaf else \
            f'{id_prefix}_{hierarchy.level_names[coarse]}_{i - n_leaf:06d}'
        ids.append(img_id)
        q = int(rng.integers(jpeg_quality[0], jpeg_quality[1] + 1))
        out = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
        ok, buf = cv2.imencode('.jpg', out, [cv2.IMWRITE_JPEG_QUALITY, q])
        if not ok:  # pragma: no cover - cv2 failure
            raise OSError(f'cannot encode image {img_id}')
        with open(osp.join(img_dir, img_id + lay['img_suffix']), 'wb') as f:
            f.write(buf.tobytes())
        write_label_map(
            label if i < n_leaf else hierarchy.to_level(label, coarse),
            osp.join(mask_dir, img_id + lay['mask_suffix']))
        if priors:
            found = oracle_priors(info['people'], label,
                                  hierarchy.background_leaf)
            source = ORACLE_SOURCE
            if prior_degrade:
                found = degrade_priors(found, np.random.default_rng(
                    [seed, i, 1]), **prior_degrade)
                source = dict(ORACLE_SOURCE, degrade=dict(prior_degrade))
            if prior_mask == 'keypoints':
                found = with_keypoint_mask(found)
                source = dict(source, mask=dict(KEYPOINT_MASK))
            save_priors(osp.join(out_dir, 'priors', img_id + '.npz'), found,
                        source)
        if i >= n_leaf:
            continue
        c = np.bincount(label.ravel(), minlength=256)
        counts += c[:hierarchy.num_leaves]
        no_lower += int(bool(lower) and c[lower].sum() == 0)
        grey += int(info['grayscale'])
    seconds = time.perf_counter() - t0

    train_file = osp.join(out_dir, lay['splits']['train'])
    val_file = osp.join(out_dir, lay['splits']['val'])
    with open(train_file, 'w') as f:
        f.write(''.join(x + '\n' for x in ids[:num_train]))
    with open(val_file, 'w') as f:  # no trailing newline, like the release
        f.write('\n'.join(ids[num_train:n_leaf]))
    coarse_ids = dict(train=ids[n_leaf:n_leaf + coarse_train],
                      val=ids[n_leaf + coarse_train:])
    for split, these in coarse_ids.items():
        if these:
            name = f'{split}_{hierarchy.level_names[coarse]}_id.txt'
            with open(osp.join(out_dir, name), 'w') as f:
                f.write(''.join(x + '\n' for x in these))
    write_classes(hierarchy, out_dir)
    with open(osp.join(out_dir, 'synthetic.json'), 'w') as f:
        json.dump(dict(num_train=num_train, num_val=num_val, seed=seed,
                       layout=layout, closeup_prob=closeup_prob,
                       grayscale_prob=grayscale_prob, priors=priors,
                       prior_degrade=prior_degrade, prior_mask=prior_mask,
                       **(dict(coarse_train=coarse_train,
                               coarse_val=coarse_val,
                               coarse_level=hierarchy.level_names[coarse])
                          if coarse_train + coarse_val else {})),
                  f)
    levels = level_shares(counts, hierarchy)
    n = num_train + num_val
    result = dict(
        out_dir=out_dir,
        num_train=num_train,
        num_val=num_val,
        seconds=seconds,
        images_per_second=n / max(seconds, 1e-9),
        pixel_counts=counts.tolist(),
        pixel_shares=levels[-1],
        level_shares=levels,
        images_without_lower_body=no_lower,
        grayscale_images=grey)
    if verbose:
        print(format_summary(result, hierarchy))
    return result


def format_summary(result: dict, hierarchy) -> str:
    """Human-readable summary of :func:`make_synthetic_dataset`'s result.

    Args:
        result (dict): The result dict.
        hierarchy (str | dict | ClassHierarchy): The tree.

    Returns:
        str: Multi-line summary.
    """
    hierarchy = ClassHierarchy.build(hierarchy)
    n = result['num_train'] + result['num_val']
    lines = [
        f"wrote {n} images ({result['num_train']} train, "
        f"{result['num_val']} val) to {result['out_dir']} in "
        f"{result['seconds']:.1f} s ({result['images_per_second']:.1f} "
        'images/s)',
        f"images without lower body: {result['images_without_lower_body']} "
        f"({100.0 * result['images_without_lower_body'] / max(n, 1):.1f} %),"
        f" grayscale: {result['grayscale_images']}",
    ]
    for lvl, shares in enumerate(result['level_shares']):
        body = ', '.join(f'{k} {100 * v:.2f} %' for k, v in shares.items())
        lines.append(f'level {lvl} ({hierarchy.level_names[lvl]}): {body}')
    return '\n'.join(lines)
