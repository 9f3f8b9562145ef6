"""The people of a synthetic image: a sampled 2-D skeleton, body pieces
drawn as polygons (Pascal-Part's fine part names), clothes and shading (see
:mod:`mmhierseg.testing.synthetic`)."""
from typing import Dict, Optional, Tuple

import cv2
import numpy as np

from .synthetic_priors import oracle_person
from .synthetic_scene import (cloth_colour, hair_colour, skin_colour,
                              smooth_noise)

__all__ = ['PIECES', 'paint_person']

# Body pieces in Pascal-Part fine part names; index = id in the per-person
# canvas (0 = nothing).
PIECES = ('none', 'hair', 'head', 'leye', 'reye', 'mouth', 'neck', 'torso',
          'luarm', 'ruarm', 'llarm', 'rlarm', 'lhand', 'rhand', 'luleg',
          'ruleg', 'llleg', 'rlleg', 'lfoot', 'rfoot')
_PID = {name: i for i, name in enumerate(PIECES)}

_SHIFT = 3  # sub-pixel bits for cv2 drawing
_ONE = 1 << _SHIFT


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
    skin, hair = skin_colour(rng), hair_colour(rng)
    top, bottom = cloth_colour(rng), cloth_colour(rng)
    shoes = cloth_colour(rng) * rng.uniform(0.3, 0.8)
    sleeves = rng.choice(['none', 'short', 'long'], p=[0.2, 0.4, 0.4])
    legwear = rng.choice(['trousers', 'shorts', 'bare'], p=[0.6, 0.3, 0.1])
    col = np.zeros((len(PIECES), 3), np.float32)
    pattern = np.zeros(len(PIECES), np.float32)
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


def paint_person(rng, img: np.ndarray, label: np.ndarray, leaf_of: np.ndarray,
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
    shade = 1.0 + 0.18 * smooth_noise(rng, bh, bw, max(4.0, height * 0.15))
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
                          list(leaf_of), PIECES))
    return n
