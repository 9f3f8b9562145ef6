"""Render dataset samples with one overlay panel per hierarchy level.

Used by ``tools/browse_dataset.py``: each sample becomes one PNG with the
image followed by one panel per level (coarse to fine), each coloured with
that level's palette from the :class:`~mmhierseg.ClassHierarchy`, and a
legend under every panel.
"""
import os
import os.path as osp
from typing import List, Optional, Sequence

import cv2
import numpy as np

from mmhierseg.hierarchy import IGNORE_INDEX, ClassHierarchy

__all__ = ['render_level_panels', 'browse_dataset']

_IGNORE_COLOUR = (255, 255, 255)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def _text(img, text, org, scale=0.45, colour=(255, 255, 255)):
    cv2.putText(img, text, org, _FONT, scale, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(img, text, org, _FONT, scale, colour, 1, cv2.LINE_AA)


def _legend(names: Sequence[str], palette: Sequence[Sequence[int]],
            width: int) -> np.ndarray:
    row_h, sw = 18, 12
    items = []
    for name, col in zip(names, palette):
        (tw, _), _ = cv2.getTextSize(name, _FONT, 0.4, 1)
        items.append((name, col, sw + 4 + tw + 10))
    rows, cur, x = [], [], 0
    for item in items:
        if cur and x + item[2] > width:
            rows.append(cur)
            cur, x = [], 0
        cur.append(item)
        x += item[2]
    rows.append(cur)
    out = np.full((row_h * len(rows) + 4, width, 3), 255, np.uint8)
    for r, row in enumerate(rows):
        x = 2
        y = r * row_h + 4
        for name, col, iw in row:
            cv2.rectangle(out, (x, y), (x + sw, y + sw),
                          tuple(int(c) for c in col), -1)
            cv2.rectangle(out, (x, y), (x + sw, y + sw), (0, 0, 0), 1)
            cv2.putText(out, name, (x + sw + 4, y + sw - 1), _FONT, 0.4,
                        (0, 0, 0), 1, cv2.LINE_AA)
            x += iw
    return out


def render_level_panels(img_rgb: np.ndarray,
                        leaf_map: np.ndarray,
                        hierarchy,
                        alpha: float = 0.6,
                        title: Optional[str] = None) -> np.ndarray:
    """Image plus one overlay panel per level, side by side.

    Args:
        img_rgb (np.ndarray): uint8 ``HxWx3`` RGB (or ``HxW`` gray) image.
        leaf_map (np.ndarray): ``HxW`` leaf ids (255 = ignore, drawn white).
        hierarchy (str | dict | ClassHierarchy): The tree.
        alpha (float): Opacity of class colours over the image.
        title (str, optional): Text on the image panel (e.g. the id).

    Returns:
        np.ndarray: uint8 RGB canvas, ``1 + num_levels`` panels wide, with a
        legend per level.
    """
    hierarchy = ClassHierarchy.build(hierarchy)
    if img_rgb.ndim == 2:
        img_rgb = np.repeat(img_rgb[..., None], 3, axis=2)
    leaf_map = np.asarray(leaf_map)
    if leaf_map.shape != img_rgb.shape[:2]:
        raise ValueError(f'mask {leaf_map.shape} and image '
                         f'{img_rgb.shape[:2]} differ in size')
    h, w = leaf_map.shape
    panels = [img_rgb.copy()]
    names = ['image' if title is None else title]
    legends = [np.full((1, w, 3), 255, np.uint8)]
    for lvl in range(hierarchy.num_levels):
        lm = hierarchy.to_level(leaf_map, lvl, check=False)
        pal = np.zeros((256, 3), np.float32)
        pal[:hierarchy.num_classes[lvl]] = hierarchy.palette(lvl)
        pal[IGNORE_INDEX] = _IGNORE_COLOUR
        colour = pal[lm]
        bg = lm == hierarchy.background_index(lvl)
        a = np.where(bg, 0.0, alpha).astype(np.float32)[..., None]
        a[lm == IGNORE_INDEX] = 0.85
        panel = img_rgb.astype(np.float32) * (1 - a) + colour * a
        panel = panel.astype(np.uint8)
        # outline class borders so neighbouring parts stay distinct
        edges = cv2.morphologyEx(lm.astype(np.uint8), cv2.MORPH_GRADIENT,
                                 np.ones((3, 3), np.uint8)) > 0
        panel[edges] = (0, 0, 0)
        panels.append(panel)
        names.append(f'level {lvl}: {hierarchy.level_names[lvl]}')
        classes = list(hierarchy.classes(lvl))
        legends.append(_legend(classes, hierarchy.palette(lvl), w))
    leg_h = max(lg.shape[0] for lg in legends)
    cols = []
    for panel, name, lg in zip(panels, names, legends):
        col = np.full((h + leg_h, w, 3), 255, np.uint8)
        col[:h] = panel
        col[h:h + lg.shape[0]] = lg
        _text(col, name, (4, 16))
        cols.append(col)
    sep = np.full((h + leg_h, 4, 3), 255, np.uint8)
    out = []
    for i, col in enumerate(cols):
        out += [col] if i == 0 else [sep, col]
    return np.concatenate(out, axis=1)


def _to_rgb_and_mask(sample: dict):
    """Image (RGB uint8) and leaf mask from a pipeline output."""
    if 'inputs' in sample:  # after PackSegInputs
        img = sample['inputs'].numpy().transpose(1, 2, 0)
        img = np.ascontiguousarray(img[..., ::-1]).astype(np.uint8)
        ds = sample['data_samples']
        gt = ds.gt_sem_seg.data.numpy()[0].astype(np.uint8)
        name = osp.splitext(osp.basename(ds.img_path))[0]
        return img, gt, name
    img = sample['img']
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    img = np.ascontiguousarray(img[..., ::-1]).astype(np.uint8)
    name = sample.get('img_id') or osp.splitext(
        osp.basename(sample['img_path']))[0]
    return img, sample['gt_seg_map'], name


def browse_dataset(source: str,
                   out_dir: str,
                   split: str = 'train',
                   num: int = 10,
                   layout: str = 'pascal_part',
                   hierarchy=None,
                   image_orientation: Optional[str] = None,
                   with_pipeline: bool = False,
                   cfg_options: Optional[dict] = None) -> List[str]:
    """Render the first ``num`` samples of a split to PNG files.

    Images are read by the dataset's pipeline, so under its EXIF orientation
    policy (see :mod:`mmhierseg.datasets.images`), like in training.

    Args:
        source (str): A dataset root (read with ``layout``) or an mmseg
            config file (``<split>_dataloader.dataset`` is built).
        out_dir (str): Output folder (created).
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        num (int): Number of samples.
        layout (str): Layout of a dataset root.
        hierarchy (str | dict | ClassHierarchy, optional): Tree of a dataset
            root (default: the layout's preset).
        image_orientation (str, optional): ``'raw'`` or ``'exif'``; replaces
            the config's (or the default) policy.
        with_pipeline (bool): For a config: show the samples after its full
            pipeline (augmented, as the model sees them); otherwise only
            the image and mask are loaded.
        cfg_options (dict, optional): Config overrides for a config source,
            e.g. ``{'train_dataloader.dataset.data_root': 'data/x/'}`` (a
            top-level ``data_root`` override does not reach the already
            built dataset dicts).

    Returns:
        list[str]: The written files.
    """
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    from .layouts import get_layout
    init_default_scope('mmseg')
    if osp.isdir(source):
        lay = get_layout(layout, hierarchy=hierarchy)
        ds_cfg = dict(
            type=lay['dataset'],
            data_root=source,
            ann_file=lay['splits'].get(split, f'{split}_id.txt'),
            hierarchy=lay['hierarchy'])
    else:
        from mmengine.config import Config
        cfg = Config.fromfile(source)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        key = f'{split}_dataloader'
        if key not in cfg:
            raise KeyError(f'{source} has no {key}')
        ds_cfg = cfg[key]['dataset'].to_dict()
    if not (with_pipeline and ds_cfg.get('pipeline')):
        ds_cfg['pipeline'] = [
            dict(type='LoadHierImageFromFile'),
            dict(type='LoadHierAnnotations')
        ]
    if image_orientation is not None:
        ds_cfg['image_orientation'] = image_orientation
    dataset = DATASETS.build(ds_cfg)
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for idx in range(min(num, len(dataset))):
        img, gt, name = _to_rgb_and_mask(dataset[idx])
        canvas = render_level_panels(img, gt, dataset.hierarchy, title=name)
        path = osp.join(out_dir, f'{idx:04d}_{name}.png')
        cv2.imwrite(path, cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
        written.append(path)
    return written
