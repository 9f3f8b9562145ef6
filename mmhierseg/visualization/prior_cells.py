"""Pictures of the pose priors a prediction was made from (a panel row).

The priors are what the pose model (and the mask maker) told the network;
drawing them next to the prediction shows what the network added to them.
"""
from typing import List, Sequence, Tuple

import cv2
import numpy as np

__all__ = ['prior_cells']

#: Colours of the part channels, in channel order (RGB), cycled.
_COLOURS = ((230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200),
            (245, 130, 48), (145, 30, 180), (70, 240, 240), (240, 50, 230))


def _paint(image: np.ndarray, masks: Sequence[np.ndarray],
           colours: Sequence[Tuple[int, int, int]],
           alpha: float) -> np.ndarray:
    out = image.astype(np.float32)
    for m, c in zip(masks, colours):
        out[m] = (1 - alpha) * out[m] + alpha * np.asarray(c, np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _key(pic: np.ndarray, names: Sequence[str],
         colours: Sequence[Tuple[int, int, int]]) -> np.ndarray:
    """Write each name in its colour on a white strip at the top."""
    scale = max(0.35, pic.shape[1] / 900)
    thick = max(1, int(round(scale * 2)))
    step = int(28 * scale) + 4
    pic = pic.copy()
    pic[:step * len(names) + 4, :int(170 * scale) + 8] = 255
    for i, (name, c) in enumerate(zip(names, colours)):
        cv2.putText(pic, name, (4, step * (i + 1)), cv2.FONT_HERSHEY_SIMPLEX,
                    scale, tuple(int(v) for v in c), thick, cv2.LINE_AA)
    return pic


def prior_cells(image: np.ndarray, priors: np.ndarray,
                channels: Sequence[str],
                alpha: float = 0.6) -> List[Tuple[str, np.ndarray]]:
    """The priors drawn on the image: the person mask, then the parts.

    Args:
        image (np.ndarray): RGB ``HxWx3`` uint8.
        priors (np.ndarray): ``(C, h, w)`` maps (0/1) of ``channels``;
            resized (nearest) to the image.
        channels (Sequence[str]): Their names (``'mask'`` is the person
            mask, the others are parts).
        alpha (float): Opacity of the colours.

    Returns:
        list[tuple[str, np.ndarray]]: ``(title, RGB picture)`` cells: one
        for the mask if there is one, one for the parts if there are any.
    """
    h, w = image.shape[:2]
    maps = [
        cv2.resize(np.asarray(m, np.uint8), (w, h),
                   interpolation=cv2.INTER_NEAREST) > 0 for m in priors
    ]
    cells = []
    if 'mask' in channels:
        m = maps[list(channels).index('mask')]
        cells.append(('pose prior: person mask',
                      _paint(image, [m], [(255, 255, 255)], alpha)))
    parts = [(n, m) for n, m in zip(channels, maps) if n != 'mask']
    if parts:
        names = [n for n, _ in parts]
        colours = [_COLOURS[i % len(_COLOURS)] for i in range(len(parts))]
        pic = _paint(image, [m for _, m in parts], colours, alpha)
        cells.append(('pose prior: parts', _key(pic, names, colours)))
    return cells
