"""Pixel-exact shapes on boolean canvases: capsules and dilated hulls.

A pixel ``(row i, column j)`` is set when its center ``(j + 0.5, i + 0.5)``
lies inside the shape (the convention of :mod:`mmhierseg.priors.rendering`).
"""
from typing import Optional, Tuple

import numpy as np

__all__ = ['draw_capsule', 'draw_dilated_hull', 'convex_hull']


def _window(
    lo: np.ndarray, hi: np.ndarray, shape: Tuple[int, int]
) -> Optional[Tuple[slice, slice, np.ndarray, np.ndarray]]:
    """Pixel window whose centers may fall in the xy box ``[lo, hi]``, and
    its centers, in an image of ``shape`` ``(height, width)``.

    Returns:
        tuple | None: ``(rows, cols, x centers (1, w), y centers (h, 1))``,
        or None when the window misses the image.
    """
    # center c + 0.5 in [lo, hi]  <=>  c in [lo - 0.5, hi - 0.5]
    # (clipped before the int cast, so far-away shapes cannot overflow it)
    size = np.array([shape[1], shape[0]])
    c0, r0 = np.clip(np.floor(np.asarray(lo) - 0.5), 0, size).astype(int)
    c1, r1 = np.clip(np.ceil(np.asarray(hi) - 0.5), -1, size - 1).astype(int)
    if c0 > c1 or r0 > r1:
        return None
    xs = (np.arange(c0, c1 + 1, dtype=np.float64) + 0.5)[None, :]
    ys = (np.arange(r0, r1 + 1, dtype=np.float64) + 0.5)[:, None]
    return slice(r0, r1 + 1), slice(c0, c1 + 1), xs, ys


def draw_capsule(canvas: np.ndarray, p: np.ndarray, q: np.ndarray,
                 radius: float) -> None:
    """Set the pixels whose center is within ``radius`` of segment pq.

    Args:
        canvas (np.ndarray): ``(H, W)`` bool, updated in place.
        p (np.ndarray): ``(2, )`` xy start (``p == q``: a disk).
        q (np.ndarray): ``(2, )`` xy end.
        radius (float): In pixels.
    """
    win = _window(
        np.minimum(p, q) - radius,
        np.maximum(p, q) + radius, canvas.shape)
    if win is None:
        return
    rows, cols, xs, ys = win
    dx, dy = q[0] - p[0], q[1] - p[1]
    length2 = dx * dx + dy * dy
    rx, ry = xs - p[0], ys - p[1]
    # a point (length2 == 0) has a zero numerator, hence t = 0
    t = np.clip((rx * dx + ry * dy) / (length2 or 1.0), 0.0, 1.0)
    ex, ey = rx - t * dx, ry - t * dy
    canvas[rows, cols] |= (ex * ex + ey * ey) <= radius * radius


def draw_dilated_hull(canvas: np.ndarray, points: np.ndarray,
                      radius: float) -> None:
    """Set the pixels whose center lies in the convex hull of ``points``
    or within ``radius`` of its boundary.

    Points on the boundary count as inside. The test does not depend on the
    vertices' orientation, so mirrored input gives mirrored output.

    Args:
        canvas (np.ndarray): ``(H, W)`` bool, updated in place.
        points (np.ndarray): ``(M, 2)`` xy.
        radius (float): The dilation, in pixels.
    """
    hull = convex_hull(points)
    edges = list(zip(hull, np.roll(hull, -1, axis=0)))
    for a, b in edges:
        draw_capsule(canvas, a, b, radius)
    if len(hull) < 3:
        return
    win = _window(hull.min(0), hull.max(0), canvas.shape)
    if win is None:
        return
    rows, cols, xs, ys = win
    positive = np.ones((ys.shape[0], xs.shape[1]), dtype=bool)
    negative = positive.copy()
    for a, b in edges:
        cross = (b[0] - a[0]) * (ys - a[1]) - (b[1] - a[1]) * (xs - a[0])
        positive &= cross >= 0
        negative &= cross <= 0
    canvas[rows, cols] |= positive | negative


def convex_hull(points: np.ndarray) -> np.ndarray:
    """Convex hull (monotone chain), collinear points dropped.

    Args:
        points (np.ndarray): ``(M, 2)``.

    Returns:
        np.ndarray: ``(V, 2)`` hull vertices, in order.
    """
    pts = sorted({(float(x), float(y)) for x, y in points})
    if len(pts) < 3:
        return np.asarray(pts, dtype=np.float64).reshape(-1, 2)

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower, upper = [], []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return np.asarray(lower[:-1] + upper[:-1], dtype=np.float64)
