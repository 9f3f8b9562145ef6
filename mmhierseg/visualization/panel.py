"""Readable pictures of hierarchical predictions: :func:`draw_panel`.

A panel is a grid of cells under a legend::

    +------------------------------------------------------------+
    | body: [#] background [#] body                              |  legend:
    | half: [#] background [#] upper_body [#] lower_body         |  classes
    | part: [#] background [#] head [#] torso ...                |  present
    +--------------+--------------+--------------+---------------+
    | input        | body         | half         | part          |  titles
    | (the image)  | (overlay)    | (overlay)    | (overlay)     |
    +--------------+--------------+--------------+---------------+

one row per kind of map (prediction, ground truth), the input image first
in every row, each overlay titled with its level name. Colours are the
tree's palettes (:meth:`ClassHierarchy.palette`), so a colour in the legend
is exactly the colour painted for that class.
"""
import math
import warnings
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..hierarchy import IGNORE_INDEX, ClassHierarchy

__all__ = ['draw_panel', 'draw_title', 'overlay']

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_WHITE = (255, 255, 255)
_TEXT = (20, 20, 20)


def _font(width: int) -> Tuple[float, int]:
    """Font scale and thickness that suit a cell ``width`` pixels wide."""
    scale = min(1.2, max(0.45, width / 500.0))
    return scale, 1 if scale < 0.9 else 2


def draw_title(text: str, width: int) -> np.ndarray:
    """A white title bar with ``text`` (RGB uint8, ``bar_h x width x 3``).

    Args:
        text (str): The title.
        width (int): Bar width in pixels.

    Returns:
        np.ndarray: The bar.
    """
    scale, thick = _font(width)
    (_, th), base = cv2.getTextSize('Ag', _FONT, scale, thick)
    bar = np.full((th + base + 10, width, 3), 255, np.uint8)
    cv2.putText(bar, text, (6, th + 5), _FONT, scale, _TEXT, thick,
                cv2.LINE_AA)
    return bar


def overlay(image: np.ndarray, label_map: np.ndarray, palette: Sequence,
            alpha: float) -> np.ndarray:
    """Blend the palette colour of every labelled pixel into the image.

    Args:
        image (np.ndarray): RGB ``HxWx3`` uint8.
        label_map (np.ndarray): ``HxW`` class ids; 255 (ignore) is left
            unpainted.
        palette (Sequence): One RGB colour per class id.
        alpha (float): Opacity of the colours (1 paints them as they are).

    Returns:
        np.ndarray: RGB uint8 image.
    """
    colours = np.zeros((IGNORE_INDEX + 1, 3), np.float32)
    colours[:len(palette)] = np.asarray(palette, np.float32)
    painted = label_map != IGNORE_INDEX
    out = image.astype(np.float32)
    out[painted] = (1 - alpha) * out[painted] + \
        alpha * colours[label_map[painted]]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _legend(hierarchy: ClassHierarchy, present: List[set], width: int,
            cell_width: int) -> Tuple[np.ndarray, list]:
    """One wrapped legend block: per level, a swatch and name per class
    (in the titles' font size)."""
    scale, thick = _font(cell_width)
    (_, th), base = cv2.getTextSize('Ag', _FONT, scale, thick)
    line_h, sw = th + base + 10, th + base
    items, lines, x, line = [], [], 6, 0
    for k, level in enumerate(hierarchy.level_names):
        x, line = 6, line + (1 if k else 0)
        head = f'{level}:'
        lines.append((line, x, head))
        x += cv2.getTextSize(head, _FONT, scale, thick)[0][0] + 10
        for c in sorted(present[k]):
            name = hierarchy.classes(k)[c]
            need = sw + 6 + cv2.getTextSize(name, _FONT, scale, thick)[0][0]
            if x + need > width - 6 and x > 6:
                x, line = 6 + sw, line + 1
            items.append(dict(level=level, class_id=c, name=name,
                              colour=hierarchy.palette(k)[c], line=line, x=x))
            lines.append((line, x + sw + 6, name))
            x += need + 14
    canvas = np.full(((line + 1) * line_h + 6, width, 3), 255, np.uint8)
    for ln, tx, text in lines:
        cv2.putText(canvas, text, (tx, ln * line_h + th + 8), _FONT, scale,
                    _TEXT, thick, cv2.LINE_AA)
    for it in items:
        y0 = it['line'] * line_h + 6
        box = (it['x'], y0, it['x'] + sw, y0 + sw)
        canvas[box[1]:box[3], box[0]:box[2]] = (128, 128, 128)  # border
        canvas[box[1] + 1:box[3] - 1, box[0] + 1:box[2] - 1] = it['colour']
        it['box'] = box
        del it['line'], it['x']
    return canvas, items


def draw_panel(image: np.ndarray,
               rows: Sequence[Tuple[Optional[str], List[np.ndarray]]],
               hierarchy: ClassHierarchy,
               alpha: float = 0.5,
               min_cell_width: int = 240,
               extra: Sequence[Tuple[str, np.ndarray]] = ()
               ) -> Tuple[np.ndarray, dict]:
    """Input and every level's overlay side by side, under a class legend.

    Args:
        image (np.ndarray): RGB ``HxWx3`` (or ``HxW``) uint8 image.
        rows (Sequence[tuple]): ``(kind, level_maps)`` per row, e.g.
            ``('prediction', [body, half, part])``; ``kind`` (or None) is
            added to the level titles. Maps of another size than the image
            are resized (nearest).
        hierarchy (ClassHierarchy): The tree (class names, palettes).
        alpha (float): Overlay opacity.
        min_cell_width (int): Narrower images are enlarged by an integer
            factor (nearest) so that titles and legend stay readable.
        extra (Sequence[tuple]): ``(title, RGB picture)`` cells of a last
            row (e.g. :func:`~mmhierseg.visualization.prior_cells`),
            resized to the cells' size.

    Returns:
        tuple[np.ndarray, dict]: The RGB panel and its layout:
        ``cells`` (``title`` and ``box`` ``(x0, y0, x1, y1)`` of every cell's
        image) and ``legend`` (``level``, ``class_id``, ``name``,
        ``colour``, ``box`` of every swatch).
    """
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    image = np.ascontiguousarray(image[..., :3]).astype(np.uint8)
    h, w = image.shape[:2]
    f = max(1, math.ceil(min_cell_width / max(w, 1)))
    size = (w * f, h * f)
    big = cv2.resize(image, size, interpolation=cv2.INTER_NEAREST) \
        if f > 1 else image
    present = [set() for _ in hierarchy.level_names]
    grid, cells, y = [], [], 0
    for kind, maps in rows:
        if len(maps) != hierarchy.num_levels:
            raise ValueError(f'draw_panel: {len(maps)} maps for the '
                             f'{hierarchy.num_levels} levels '
                             f'{hierarchy.level_names}')
        titles = ['input'] + [
            lvl if not kind else f'{lvl} ({kind})'
            for lvl in hierarchy.level_names]
        pics = [big]
        for k, m in enumerate(maps):
            m = np.asarray(m).astype(np.uint8)
            if m.shape != size[::-1]:
                if abs(m.shape[0] * w - m.shape[1] * h) > max(h, w):
                    warnings.warn(
                        f'draw_panel: {kind or "prediction"} maps of shape '
                        f'{m.shape} drawn on a {h}x{w} image of another '
                        'aspect ratio (an image read under another EXIF '
                        'orientation policy than the data?)')
                m = cv2.resize(m, size, interpolation=cv2.INTER_NEAREST)
            present[k].update(int(v) for v in np.unique(m)
                              if v != IGNORE_INDEX)
            pics.append(overlay(big, m, hierarchy.palette(k), alpha))
        row = []
        for i, (title, pic) in enumerate(zip(titles, pics)):
            bar = draw_title(title, size[0])
            x0 = i * (size[0] + 4)
            cells.append(dict(title=title, box=(x0, y + bar.shape[0],
                                                x0 + size[0],
                                                y + bar.shape[0] + size[1])))
            row.append(np.concatenate([bar, pic], axis=0))
        row_h = row[0].shape[0]
        sep = np.full((row_h, 4, 3), 255, np.uint8)
        grid.append(np.concatenate(
            [p for c in row for p in (c, sep)][:-1], axis=1))
        y += row_h + 4
        grid.append(np.full((4, grid[-1].shape[1], 3), 255, np.uint8))
    if extra:
        row = []
        for i, (title, pic) in enumerate(extra):
            pic = cv2.resize(np.ascontiguousarray(pic[..., :3]), size,
                             interpolation=cv2.INTER_NEAREST)
            bar = draw_title(title, size[0])
            x0 = i * (size[0] + 4)
            cells.append(dict(title=title, box=(x0, y + bar.shape[0],
                                                x0 + size[0],
                                                y + bar.shape[0] + size[1])))
            row += [np.concatenate([bar, pic], axis=0),
                    np.full((bar.shape[0] + size[1], 4, 3), 255, np.uint8)]
        width = grid[0].shape[1]
        line = np.concatenate(row[:-1], axis=1)[:, :width]
        line = np.pad(line, ((0, 0), (0, width - line.shape[1]), (0, 0)),
                      constant_values=255)
        grid += [line, grid[-1]]
    body = np.concatenate(grid[:-1], axis=0)
    legend, items = _legend(hierarchy, present, body.shape[1], size[0])
    for c in cells:
        x0, y0, x1, y1 = c['box']
        c['box'] = (x0, y0 + legend.shape[0], x1, y1 + legend.shape[0])
    return np.concatenate([legend, body], axis=0), dict(cells=cells,
                                                         legend=items)
