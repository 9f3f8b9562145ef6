"""The scene of a synthetic image: colours, cluttered background,
foreground occluders, image size and photometric changes (see
:mod:`mmhierseg.testing.synthetic`)."""
from typing import Tuple

import cv2
import numpy as np

__all__ = [
    'hair_colour', 'cloth_colour', 'skin_colour', 'any_colour',
    'smooth_noise', 'background', 'occluder', 'image_size', 'photometric'
]

_SKIN = np.array([(255, 219, 172), (241, 194, 125), (224, 172, 105),
                  (198, 134, 66), (141, 85, 36), (92, 51, 23),
                  (234, 192, 160)], dtype=np.float32)
_HAIR = np.array([(20, 15, 10), (60, 40, 25), (110, 75, 40), (200, 170, 110),
                  (150, 60, 30), (120, 120, 120), (40, 30, 30)],
                 dtype=np.float32)


def hair_colour(rng) -> np.ndarray:
    """One of a few natural hair colours."""
    return _HAIR[rng.integers(len(_HAIR))].copy()


def cloth_colour(rng) -> np.ndarray:
    """A random clothing colour (any hue, not too dark)."""
    hsv = np.array([[[rng.integers(0, 180), rng.integers(0, 256),
                      rng.integers(30, 256)]]], dtype=np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)


def skin_colour(rng) -> np.ndarray:
    """A skin tone with some variation."""
    c = _SKIN[rng.integers(len(_SKIN))] * rng.uniform(0.85, 1.1)
    return np.clip(c + rng.normal(0, 8, 3), 0, 255).astype(np.float32)


def any_colour(rng) -> np.ndarray:
    """Scene colours: skin-like, cloth-like or random."""
    r = rng.random()
    if r < 0.3:
        return skin_colour(rng)
    if r < 0.7:
        return cloth_colour(rng)
    return rng.uniform(0, 255, 3).astype(np.float32)


def smooth_noise(rng, h: int, w: int, cell: float,
                  channels: int = 1) -> np.ndarray:
    """Smooth random field in [-1, 1] of shape (h, w[, channels])."""
    gh = max(2, int(h / cell) + 2)
    gw = max(2, int(w / cell) + 2)
    grid = rng.uniform(-1, 1, (gh, gw, channels)).astype(np.float32)
    out = cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
    return out if channels > 1 else out.reshape(h, w)


# ------------------------------------------------------------ background
def background(rng, h: int, w: int) -> np.ndarray:
    """Cluttered RGB background (uint8)."""
    # a colour gradient plus smooth colour noise, built on a coarse grid and
    # upsampled once (both are smooth)
    c1, c2 = any_colour(rng), any_colour(rng)
    ang = rng.uniform(0, 2 * np.pi)
    cell = rng.uniform(20, 120)
    gh, gw = max(2, int(h / cell) + 2), max(2, int(w / cell) + 2)
    t = (np.linspace(0, 1, gw, dtype=np.float32)[None, :] * np.cos(ang) * w +
         np.linspace(0, 1, gh, dtype=np.float32)[:, None] * np.sin(ang) * h)
    t = (t - t.min()) / max(float(np.ptp(t)), 1.0)
    grid = c1 + (c2 - c1) * t[..., None]
    grid += rng.uniform(-1, 1, (gh, gw, 3)).astype(np.float32) * \
        rng.uniform(10, 50)
    img = cv2.resize(np.clip(grid, 0, 255), (w, h),
                     interpolation=cv2.INTER_CUBIC)
    img = np.clip(img, 0, 255).astype(np.uint8)

    n_shapes = int(rng.integers(4, 22))
    for _ in range(n_shapes):
        col = tuple(float(c) for c in any_colour(rng))
        kind = rng.random()
        x, y = rng.uniform(-0.1, 1.1) * w, rng.uniform(-0.1, 1.1) * h
        size = rng.uniform(0.03, 0.45) * min(h, w)
        if kind < 0.3:  # rectangles: walls, windows, furniture
            x2 = x + rng.uniform(0.3, 2.5) * size
            y2 = y + rng.uniform(0.3, 2.5) * size
            cv2.rectangle(img, (int(x), int(y)), (int(x2), int(y2)), col, -1)
        elif kind < 0.5:
            cv2.ellipse(img, ((float(x), float(y)),
                              (float(size), float(size *
                                                  rng.uniform(0.3, 1.0))),
                              float(rng.uniform(0, 180))), col, -1,
                        cv2.LINE_AA)
        elif kind < 0.65:
            pts = np.stack([
                x + rng.uniform(-1, 1, 5) * size,
                y + rng.uniform(-1, 1, 5) * size
            ], 1).astype(np.int32)
            cv2.fillPoly(img, [pts], col, cv2.LINE_AA)
        elif kind < 0.8:  # thick lines: poles, branches
            x2 = x + rng.uniform(-2, 2) * size
            y2 = y + rng.uniform(-2, 2) * size
            cv2.line(img, (int(x), int(y)), (int(x2), int(y2)), col,
                     int(rng.integers(1, max(2, int(size / 6)))),
                     cv2.LINE_AA)
        else:  # limb-like capsules that belong to no person
            ang2 = rng.uniform(0, 2 * np.pi)
            ln = size * rng.uniform(0.5, 1.5)
            x2, y2 = x + ln * np.cos(ang2), y + ln * np.sin(ang2)
            cv2.line(img, (int(x), int(y)), (int(x2), int(y2)),
                     tuple(float(c) for c in skin_colour(rng)),
                     int(max(2, size * rng.uniform(0.1, 0.3))), cv2.LINE_AA)
    if rng.random() < 0.3:  # a textured region (e.g. grass, brick)
        tex = smooth_noise(rng, h, w, rng.uniform(2, 6), 1)
        img = np.clip(img.astype(np.float32) +
                      tex[..., None] * rng.uniform(10, 35), 0,
                      255).astype(np.uint8)
    if rng.random() < 0.5:  # depth of field (background only)
        k = int(rng.choice([3, 5]))
        img = cv2.GaussianBlur(img, (k, k), 0)
    return img


def occluder(rng, img: np.ndarray, label: np.ndarray, bg: int) -> None:
    """A foreground object (table, car, sign) covering part of the scene."""
    h, w = label.shape
    col = tuple(float(c) for c in any_colour(rng))
    occ = np.zeros((h, w), np.uint8)
    if rng.random() < 0.6:  # a table / wall / car across the bottom
        top = int(h * rng.uniform(0.55, 0.9))
        xa = int(w * rng.uniform(-0.2, 0.5))
        xb = int(w * rng.uniform(0.5, 1.2))
        cv2.rectangle(occ, (xa, top), (xb, h), 1, -1)
    else:
        cx, cy = rng.uniform(0, w), rng.uniform(0.3, 1.0) * h
        ax = rng.uniform(0.1, 0.35) * min(h, w)
        cv2.ellipse(occ, (int(cx), int(cy)), (int(ax), int(ax * 0.7)),
                    float(rng.uniform(0, 180)), 0, 360, 1, -1)
    m = occ.astype(bool)
    shade = 1.0 + 0.15 * smooth_noise(rng, h, w, 30.0)
    img[m] = np.clip(np.float32(col) * shade[m][:, None], 0,
                     255).astype(np.uint8)
    label[m] = bg


def image_size(rng) -> Tuple[int, int]:
    """``(H, W)``: mostly VOC's 375x500 / 333x500 / 500x375, else random."""
    r = rng.random()
    if r < 0.45:
        hw = (375, 500)
    elif r < 0.55:
        hw = (333, 500)
    elif r < 0.7:
        hw = (500, 375)
    else:
        hw = (int(rng.integers(120, 501)), int(rng.integers(120, 501)))
    return hw


def photometric(rng, img: np.ndarray) -> np.ndarray:
    """Per-pixel contrast, brightness and noise (no spatial mixing)."""
    h, w = img.shape[:2]
    lut = (np.arange(256, dtype=np.float32) - 128.0) * \
        rng.uniform(0.75, 1.2) + 128.0 + rng.uniform(-25, 25)
    f = lut[img]
    f += rng.standard_normal((h, w, 1), dtype=np.float32) * \
        rng.uniform(1, 6)
    return np.clip(f, 0, 255).astype(np.uint8)
