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
import os
import os.path as osp
import time
from typing import Dict, Optional, Tuple

import cv2
import numpy as np

from mmhierseg.hierarchy import ClassHierarchy
from mmhierseg.datasets.checks import level_shares
from mmhierseg.datasets.layouts import get_layout
from mmhierseg.datasets.pascal_part_mat import (PERSON_PART_TO_LEAF,
                                               write_label_map)
from mmhierseg.models.stems.prior_files import save_priors
from .synthetic_priors import (ORACLE_SOURCE, degrade_priors, oracle_person,
                               oracle_priors)

__all__ = ['make_synthetic_dataset', 'render_sample', 'format_summary']

# Body pieces in Pascal-Part fine part names; index = id in the per-person
# canvas (0 = nothing).
_PIECES = ('none', 'hair', 'head', 'leye', 'reye', 'mouth', 'neck', 'torso',
           'luarm', 'ruarm', 'llarm', 'rlarm', 'lhand', 'rhand', 'luleg',
           'ruleg', 'llleg', 'rlleg', 'lfoot', 'rfoot')
_PID = {name: i for i, name in enumerate(_PIECES)}

_SKIN = np.array([(255, 219, 172), (241, 194, 125), (224, 172, 105),
                  (198, 134, 66), (141, 85, 36), (92, 51, 23),
                  (234, 192, 160)], dtype=np.float32)
_HAIR = np.array([(20, 15, 10), (60, 40, 25), (110, 75, 40), (200, 170, 110),
                  (150, 60, 30), (120, 120, 120), (40, 30, 30)],
                 dtype=np.float32)

_SHIFT = 3  # sub-pixel bits for cv2 drawing
_ONE = 1 << _SHIFT


# --------------------------------------------------------------- colours
def _cloth_colour(rng) -> np.ndarray:
    hsv = np.array([[[rng.integers(0, 180), rng.integers(0, 256),
                      rng.integers(30, 256)]]], dtype=np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)


def _skin_colour(rng) -> np.ndarray:
    c = _SKIN[rng.integers(len(_SKIN))] * rng.uniform(0.85, 1.1)
    return np.clip(c + rng.normal(0, 8, 3), 0, 255).astype(np.float32)


def _any_colour(rng) -> np.ndarray:
    """Scene colours: skin-like, cloth-like or random."""
    r = rng.random()
    if r < 0.3:
        return _skin_colour(rng)
    if r < 0.7:
        return _cloth_colour(rng)
    return rng.uniform(0, 255, 3).astype(np.float32)


def _smooth_noise(rng, h: int, w: int, cell: float,
                  channels: int = 1) -> np.ndarray:
    """Smooth random field in [-1, 1] of shape (h, w[, channels])."""
    gh = max(2, int(h / cell) + 2)
    gw = max(2, int(w / cell) + 2)
    grid = rng.uniform(-1, 1, (gh, gw, channels)).astype(np.float32)
    out = cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
    return out if channels > 1 else out.reshape(h, w)


# ------------------------------------------------------------ background
def _background(rng, h: int, w: int) -> np.ndarray:
    """Cluttered RGB background (uint8)."""
    # a colour gradient plus smooth colour noise, built on a coarse grid and
    # upsampled once (both are smooth)
    c1, c2 = _any_colour(rng), _any_colour(rng)
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
        col = tuple(float(c) for c in _any_colour(rng))
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
                     tuple(float(c) for c in _skin_colour(rng)),
                     int(max(2, size * rng.uniform(0.1, 0.3))), cv2.LINE_AA)
    if rng.random() < 0.3:  # a textured region (e.g. grass, brick)
        tex = _smooth_noise(rng, h, w, rng.uniform(2, 6), 1)
        img = np.clip(img.astype(np.float32) +
                      tex[..., None] * rng.uniform(10, 35), 0,
                      255).astype(np.uint8)
    if rng.random() < 0.5:  # depth of field (background only)
        k = int(rng.choice([3, 5]))
        img = cv2.GaussianBlur(img, (k, k), 0)
    return img


# ---------------------------------------------------------------- people
def _unit(deg: float) -> np.ndarray:
    """Direction of an angle; 0 deg points down the image (+y)."""
    r = np.deg2rad(deg)
    return np.array([np.sin(r), np.cos(r)])


def _arm_angles(rng, s: int) -> Tuple[float, float]:
    """Upper-arm abduction and elbow bend for the arm on image side s."""
    r = rng.random()
    if r < 0.35:
        a = rng.normal(8, 6)
    elif r < 0.65:
        a = rng.uniform(15, 60)
    elif r < 0.85:
        a = rng.uniform(70, 175)
    else:
        a = rng.uniform(-45, -5)  # across the body
    bend = rng.uniform(0, 25) if rng.random() < 0.55 else \
        rng.uniform(25, 140)
    sign = -1 if rng.random() < 0.7 else 1  # forearm towards the body
    return s * a, s * sign * bend


def _skeleton(rng, pose: str, view: str) -> Dict[str, object]:
    """Sample a body in a unit frame (height 1, pelvis at origin, upright).

    Returns joint positions (in body-height units, x right, y down) and
    per-piece widths; global rotation and scale are applied later.
    """
    build = rng.uniform(0.8, 1.25)
    width = lambda x: x * build  # noqa: E731
    side = view == 'side'
    facing = 1 if rng.random() < 0.5 else -1  # side view: facing right/left
    sh = 0.035 if side else rng.uniform(0.1, 0.125)
    hip = 0.025 if side else rng.uniform(0.05, 0.065)
    torso_len = rng.uniform(0.28, 0.32)
    up = np.array([0.0, -1.0])
    right = np.array([1.0, 0.0])
    pelvis = np.zeros(2)
    neck = pelvis + up * torso_len
    head_r = rng.uniform(0.063, 0.078)
    head_ax = np.array([head_r * (0.85 if side else 0.8), head_r])
    head_tilt = rng.normal(0, 10)
    neck_len = rng.uniform(0.02, 0.04)
    head_c = neck + _unit(180 + head_tilt) * (neck_len + head_r * 0.9)
    j = dict(pelvis=pelvis, neck=neck, head_c=head_c)

    # arms
    for s, name in ((1, 'r'), (-1, 'l')):
        shoulder = neck + right * s * sh + up * -0.025
        if side:
            a = facing * rng.uniform(-60, 100) if rng.random() < 0.6 else \
                rng.normal(0, 15)
            b = facing * rng.uniform(0, 120)
        else:
            a, b = _arm_angles(rng, s)
        fs = rng.uniform(0.6, 1.0) if rng.random() < 0.3 else 1.0
        elbow = shoulder + _unit(a) * 0.16 * fs
        fs2 = rng.uniform(0.5, 1.0) if rng.random() < 0.3 else 1.0
        wrist = elbow + _unit(a + b) * 0.14 * fs2
        hand = wrist + _unit(a + b + rng.normal(0, 20)) * 0.06
        j.update({f'{name}_shoulder': shoulder, f'{name}_elbow': elbow,
                  f'{name}_wrist': wrist, f'{name}_hand': hand})

    # legs: hip angle, knee bend (both relative to straight down)
    for s, name in ((1, 'r'), (-1, 'l')):
        hip_j = pelvis + right * s * hip + up * 0.03
        if pose == 'sit':
            t = facing * rng.uniform(70, 100) if side else \
                s * rng.uniform(0, 25)
            k = -facing * rng.uniform(70, 100) if side else \
                s * rng.uniform(-10, 10)
            l1 = 0.22 if side else 0.22 * rng.uniform(0.3, 0.55)
        elif pose == 'crouch':
            t = facing * rng.uniform(100, 140) if side else \
                s * rng.uniform(20, 50)
            k = -facing * rng.uniform(120, 150) if side else \
                -s * rng.uniform(20, 60)
            l1 = 0.22 if side else 0.22 * rng.uniform(0.4, 0.7)
        elif pose == 'walk':
            t = (s * facing * rng.uniform(10, 35)) if side else \
                s * rng.uniform(0, 15)
            k = -facing * rng.uniform(0, 40) if side else \
                s * rng.uniform(-10, 10)
            l1 = 0.22
        else:  # stand (also used for lying; the body is rotated later)
            t = s * rng.uniform(-4, 18)
            k = s * rng.uniform(-12, 8)
            l1 = 0.22
        knee = hip_j + _unit(t) * l1
        ankle = knee + _unit(t + k) * 0.21
        foot_dir = (facing * 90 if side else s * rng.uniform(30, 80)) + \
            rng.normal(0, 10)
        foot = ankle + _unit(foot_dir) * 0.055 + up * -0.01
        j.update({f'{name}_hip': hip_j, f'{name}_knee': knee,
                  f'{name}_ankle': ankle, f'{name}_foot': foot})

    widths = dict(
        uarm=(width(0.056), width(0.045)),
        larm=(width(0.044), width(0.034)),
        hand=(width(0.034), width(0.036)),
        uleg=(width(0.1), width(0.068)),
        lleg=(width(0.058), width(0.04)),
        foot=(width(0.03), width(0.028)),
        neck=width(0.05),
        waist=width(0.075 if not side else 0.06),
        hip=width(0.095 if not side else 0.07),
        shoulder=width(sh + 0.02),
    )
    return dict(joints=j, widths=widths, head_ax=head_ax, head_tilt=head_tilt,
                facing=facing, side=side, torso_len=torso_len)


class _Canvas:
    """Draws body pieces (as piece ids) into a person-local uint8 map."""

    def __init__(self, shape, to_px):
        self.pl = np.zeros(shape, dtype=np.uint8)
        self.to_px = to_px  # body units -> local pixel coords (float)

    def _pt(self, p) -> np.ndarray:
        return np.round(self.to_px(p) * _ONE).astype(np.int32)

    def limb(self, name, p0, p1, w0, w1, scale):
        v = _PID[name]
        a, b = self.to_px(p0), self.to_px(p1)
        d = b - a
        n = np.array([-d[1], d[0]]) / max(np.hypot(*d), 1e-6)
        r0, r1 = w0 * scale / 2, w1 * scale / 2
        poly = np.array([a + n * r0, b + n * r1, b - n * r1, a - n * r0])
        cv2.fillConvexPoly(self.pl, np.round(poly * _ONE).astype(np.int32),
                           v, cv2.LINE_8, _SHIFT)
        for c, r in ((a, r0), (b, r1)):
            cv2.circle(self.pl, tuple(int(x) for x in np.round(c * _ONE)),
                       int(round(max(r, 0.5) * _ONE)), v, -1, cv2.LINE_8,
                       _SHIFT)

    def poly(self, name, pts):
        cv2.fillPoly(self.pl, [np.stack([self._pt(p) for p in pts])],
                     _PID[name], cv2.LINE_8, _SHIFT)

    def ellipse(self, name, c, axes, angle, scale, start=0, end=360):
        cc = self._pt(c)
        ax = np.maximum(np.round(np.asarray(axes) * scale * _ONE), _ONE // 2)
        cv2.ellipse(self.pl, (int(cc[0]), int(cc[1])),
                    (int(ax[0]), int(ax[1])), float(angle), float(start),
                    float(end), _PID[name], -1, cv2.LINE_8, _SHIFT)


def _draw_person(canvas: _Canvas, sk: dict, scale: float, rot: float,
                 view: str, draw_legs: bool, long_hair: bool) -> None:
    """Paint one person's pieces, far to near."""
    j, w = sk['joints'], sk['widths']
    side, facing = sk['side'], sk['facing']
    up = np.array([0.0, -1.0])

    def limb(kind, lr, a, b):
        canvas.limb(lr + kind, j[a], j[b], w[kind][0], w[kind][1], scale)

    def arm(lr):
        x = 'l' if lr == 'l' else 'r'
        limb('uarm', lr, f'{x}_shoulder', f'{x}_elbow')
        limb('larm', lr, f'{x}_elbow', f'{x}_wrist')
        limb('hand', lr, f'{x}_wrist', f'{x}_hand')

    def leg(lr):
        x = 'l' if lr == 'l' else 'r'
        limb('uleg', lr, f'{x}_hip', f'{x}_knee')
        limb('lleg', lr, f'{x}_knee', f'{x}_ankle')
        limb('foot', lr, f'{x}_ankle', f'{x}_foot')

    # side view: the far side is drawn first, behind the torso
    near = 'r' if facing > 0 else 'l'
    far = 'l' if near == 'r' else 'r'
    if side:
        arm(far)
    if draw_legs:
        if side:
            leg(far)
            leg(near)
        else:
            leg('l')
            leg('r')
    neck, pelvis = j['neck'], j['pelvis']
    right = np.array([1.0, 0.0])
    shw, waist, hipw = w['shoulder'], w['waist'], w['hip']
    tl = sk['torso_len']
    torso = [
        neck + right * shw * 0.55 + up * 0.005,
        neck + right * shw + up * -0.02,
        neck + right * shw * 0.92 + up * -0.1,
        pelvis + right * waist + up * (tl * 0.35),
        pelvis + right * hipw + up * -0.005,
        pelvis - right * hipw + up * -0.005,
        pelvis - right * waist + up * (tl * 0.35),
        neck - right * shw * 0.92 + up * -0.1,
        neck - right * shw + up * -0.02,
        neck - right * shw * 0.55 + up * 0.005,
    ]
    head_c, head_ax = j['head_c'], sk['head_ax']

    def hair_down():
        canvas.limb('hair', head_c, neck + up * -0.07, head_ax[0] * 2.1,
                    head_ax[0] * 2.4, scale)

    if long_hair and view != 'back':
        hair_down()  # behind the shoulders
    canvas.poly('torso', torso)
    canvas.limb('neck', neck + up * -0.008, neck + (head_c - neck) * 0.6,
                w['neck'], w['neck'] * 0.9, scale)
    angle = -sk['head_tilt'] - rot
    if long_hair and view == 'back':
        hair_down()  # over the back
    canvas.ellipse('hair', head_c + up * 0.006, head_ax * 1.07, angle, scale)
    if view != 'back':
        if side:
            fc = head_c + right * facing * head_ax[0] * 0.2 + up * -0.006
            canvas.ellipse('head', fc, head_ax * np.array([0.8, 0.92]),
                           angle, scale)
            eye = fc + right * facing * head_ax[0] * 0.45 + up * 0.01
            canvas.ellipse('leye' if facing < 0 else 'reye', eye,
                           head_ax * 0.12, angle, scale)
        else:
            fc = head_c + up * -0.008
            canvas.ellipse('head', fc, head_ax * np.array([0.92, 0.9]),
                           angle, scale)
            for sgn, name in ((-1, 'reye'), (1, 'leye')):
                canvas.ellipse(name, fc + right * sgn * head_ax[0] * 0.38 +
                               up * 0.012, head_ax * 0.12, angle, scale)
            canvas.ellipse('mouth', fc + up * -head_ax[1] * 0.5,
                           head_ax * np.array([0.3, 0.08]), angle, scale)
    if side:
        arm(near)
    else:
        arm('l')
        arm('r')


def _person_colours(rng, grey_level: float) -> Tuple[np.ndarray, np.ndarray]:
    """Colour per piece id, and per-piece pattern flag (clothes)."""
    skin, hair = _skin_colour(rng), _HAIR[rng.integers(len(_HAIR))].copy()
    top, bottom = _cloth_colour(rng), _cloth_colour(rng)
    shoes = _cloth_colour(rng) * rng.uniform(0.3, 0.8)
    sleeves = rng.choice(['none', 'short', 'long'], p=[0.2, 0.4, 0.4])
    legwear = rng.choice(['trousers', 'shorts', 'bare'], p=[0.6, 0.3, 0.1])
    col = np.zeros((len(_PIECES), 3), np.float32)
    pattern = np.zeros(len(_PIECES), np.float32)
    col[_PID['hair']] = hair
    col[_PID['head']] = skin
    col[_PID['neck']] = skin
    col[_PID['leye']] = col[_PID['reye']] = (30, 25, 25)
    col[_PID['mouth']] = skin * np.float32(0.7) + np.float32([40, 0, 0])
    col[_PID['torso']] = top
    for lr in 'lr':
        col[_PID[lr + 'uarm']] = top if sleeves != 'none' else skin
        col[_PID[lr + 'larm']] = top if sleeves == 'long' else skin
        col[_PID[lr + 'hand']] = skin
        col[_PID[lr + 'uleg']] = bottom if legwear != 'bare' else skin
        col[_PID[lr + 'lleg']] = bottom if legwear == 'trousers' else skin
        col[_PID[lr + 'foot']] = shoes
    if rng.random() < 0.3:
        pattern[[_PID[n] for n in ('torso', 'luarm', 'ruarm', 'llarm',
                                   'rlarm')]] = 1
        pattern[col.sum(1) != top.sum()] = 0
    if rng.random() < 0.2:
        for n in ('luleg', 'ruleg', 'llleg', 'rlleg'):
            if np.array_equal(col[_PID[n]], bottom):
                pattern[_PID[n]] = 2
    col = np.clip(col * grey_level, 0, 255)
    return col, pattern


def _paint_person(rng, img: np.ndarray, label: np.ndarray, leaf_of: np.ndarray,
                  cx: float, pelvis_y: float, height: float, rot: float,
                  pose: str, view: str, draw_legs: bool,
                  people: Optional[list] = None) -> int:
    """Draw one person into img/label; returns the number of pixels drawn.
    A drawn person's COCO keypoints and box are appended to ``people``."""
    h, w = label.shape
    sk = _skeleton(rng, pose, view)
    c, s = np.cos(np.deg2rad(rot)), np.sin(np.deg2rad(rot))
    rmat = np.array([[c, s], [-s, c]])  # rotates body frame by `rot`
    pts = np.stack([np.asarray(p) for p in sk['joints'].values()])
    world = pts @ rmat.T * height + np.array([cx, pelvis_y])
    pad = 0.12 * height
    x0 = int(max(0, np.floor(world[:, 0].min() - pad)))
    y0 = int(max(0, np.floor(world[:, 1].min() - pad)))
    x1 = int(min(w, np.ceil(world[:, 0].max() + pad)))
    y1 = int(min(h, np.ceil(world[:, 1].max() + pad)))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return 0
    origin = np.array([cx - x0, pelvis_y - y0])

    def to_px(p):
        return (np.asarray(p) @ rmat.T) * height + origin

    canvas = _Canvas((y1 - y0, x1 - x0), to_px)
    long_hair = rng.random() < 0.3
    _draw_person(canvas, sk, height, rot, view, draw_legs, long_hair)
    pl = canvas.pl
    drawn = pl > 0
    n = int(drawn.sum())
    if n == 0:
        return 0
    col, pattern = _person_colours(rng, rng.uniform(0.7, 1.15))
    bh, bw = pl.shape
    shade = 1.0 + 0.18 * _smooth_noise(rng, bh, bw, max(4.0, height * 0.15))
    g = rng.uniform(-0.25, 0.25)
    shade += g * (np.arange(bh, dtype=np.float32)[:, None] / bh - 0.5)
    rgb = col[pl] * shade[..., None]
    if pattern.any():
        period = max(2.0, height * rng.uniform(0.015, 0.04))
        ang = rng.uniform(0, np.pi)
        yy, xx = np.mgrid[0:bh, 0:bw].astype(np.float32)
        stripes = (np.sin((xx * np.cos(ang) + yy * np.sin(ang)) / period) >
                   0).astype(np.float32)
        rgb *= (1.0 - 0.35 * stripes * (pattern[pl] > 0))[..., None]
    crop = img[y0:y1, x0:x1]
    crop[drawn] = np.clip(rgb[drawn], 0, 255).astype(np.uint8)
    label[y0:y1, x0:x1][drawn] = leaf_of[pl[drawn]]
    if people is not None:  # the pose oracle (no random numbers drawn)
        people.append(
            oracle_person(sk, view, draw_legs, to_px, pl, (x0, y0),
                          list(leaf_of), _PIECES))
    return n


def _occluder(rng, img: np.ndarray, label: np.ndarray, bg: int) -> None:
    """A foreground object (table, car, sign) covering part of the scene."""
    h, w = label.shape
    col = tuple(float(c) for c in _any_colour(rng))
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
    shade = 1.0 + 0.15 * _smooth_noise(rng, h, w, 30.0)
    img[m] = np.clip(np.float32(col) * shade[m][:, None], 0,
                     255).astype(np.uint8)
    label[m] = bg


def _image_size(rng) -> Tuple[int, int]:
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
    img = _photometric(rng, img)
    grayscale = rng.random() < grayscale_prob
    if grayscale:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    return img, label, dict(num_people=n_people, closeup=closeup,
                            grayscale=grayscale, people=drawn)


def _leaf_table(hierarchy: ClassHierarchy) -> np.ndarray:
    """Piece id -> leaf id of the hierarchy (by leaf name)."""
    leaf_of = np.full(len(_PIECES), hierarchy.background_leaf, np.uint8)
    for i, name in enumerate(_PIECES[1:], 1):
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
    h, w = _image_size(rng)
    img = _background(rng, h, w)
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
        _paint_person(rng, img, label, leaf_of, cx, pelvis_y, height, rot,
                      pose, view, legs, drawn)
    if rng.random() < 0.25:
        _occluder(rng, img, label, hierarchy.background_leaf)
    return img, label, len(people), closeup, drawn


def _photometric(rng, img: np.ndarray) -> np.ndarray:
    """Per-pixel contrast, brightness and noise (no spatial mixing)."""
    h, w = img.shape[:2]
    lut = (np.arange(256, dtype=np.float32) - 128.0) * \
        rng.uniform(0.75, 1.2) + 128.0 + rng.uniform(-25, 25)
    f = lut[img]
    f += rng.standard_normal((h, w, 1), dtype=np.float32) * \
        rng.uniform(1, 6)
    return np.clip(f, 0, 255).astype(np.uint8)


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
        verbose (bool): Print a summary.

    Returns:
        dict: ``out_dir``, ``num_train``, ``num_val``, ``seconds``,
        ``images_per_second``, ``pixel_counts`` (per leaf id),
        ``pixel_shares`` (leaf name -> share), ``level_shares`` (one dict per
        level), ``images_without_lower_body`` and ``grayscale_images``.
    """
    if num_train < 1 or num_val < 0:
        raise ValueError('need num_train >= 1 and num_val >= 0')
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
    for i in range(num_train + num_val):
        rng = np.random.default_rng([seed, i])
        img, label, info = render_sample(rng, hierarchy, closeup_prob,
                                         grayscale_prob)
        img_id = f'{id_prefix}_{i:06d}'
        ids.append(img_id)
        q = int(rng.integers(jpeg_quality[0], jpeg_quality[1] + 1))
        out = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
        ok, buf = cv2.imencode('.jpg', out, [cv2.IMWRITE_JPEG_QUALITY, q])
        if not ok:  # pragma: no cover - cv2 failure
            raise OSError(f'cannot encode image {img_id}')
        with open(osp.join(img_dir, img_id + lay['img_suffix']), 'wb') as f:
            f.write(buf.tobytes())
        write_label_map(label, osp.join(mask_dir,
                                        img_id + lay['mask_suffix']))
        if priors:
            found = oracle_priors(info['people'], label,
                                  hierarchy.background_leaf)
            source = ORACLE_SOURCE
            if prior_degrade:
                found = degrade_priors(found, np.random.default_rng(
                    [seed, i, 1]), **prior_degrade)
                source = dict(ORACLE_SOURCE, degrade=dict(prior_degrade))
            save_priors(osp.join(out_dir, 'priors', img_id + '.npz'), found,
                        source)
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
        f.write('\n'.join(ids[num_train:]))
    with open(osp.join(out_dir, 'classes.txt'), 'w') as f:
        f.write(''.join(f'{k} {n}\n'
                        for k, n in enumerate(hierarchy.leaf_names)))
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
