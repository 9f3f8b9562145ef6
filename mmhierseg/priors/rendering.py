"""Class-shaped body-part prior maps drawn from COCO keypoints.

Pure numpy: no model, no torch, float coordinates throughout, so the maps
can be checked pixel by pixel.

Coordinate convention (the one of ultralytics and mmpose boxes): continuous
pixel coordinates, the top-left corner of the image is ``(0, 0)`` and pixel
``(row i, column j)`` covers ``[j, j + 1) x [i, i + 1)``, its center being
``(j + 0.5, i + 0.5)``. A pixel is drawn when its center lies inside the
shape. A horizontal flip therefore maps ``x`` to ``width - x``; rendering
the flipped keypoints (left and right swapped) gives exactly the flipped
maps, because left and right parts share one channel.
"""
from typing import Dict, Optional, Sequence

import numpy as np

from .shapes import draw_capsule, draw_dilated_hull

__all__ = [
    'COCO_KEYPOINTS', 'COCO_FLIP_INDICES', 'PART_CHANNELS', 'PRIOR_CHANNELS',
    'LIMB_SEGMENTS', 'DEFAULT_PART_WIDTHS', 'visible_keypoints',
    'person_scale', 'render_part_priors'
]

#: The 17 COCO keypoints, in the order pose models report them.
COCO_KEYPOINTS = ('nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear',
                  'left_shoulder', 'right_shoulder', 'left_elbow',
                  'right_elbow', 'left_wrist', 'right_wrist', 'left_hip',
                  'right_hip', 'left_knee', 'right_knee', 'left_ankle',
                  'right_ankle')

#: Index of each keypoint's mirror image (left <-> right) after a flip.
COCO_FLIP_INDICES = (0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15)

HEAD_KEYPOINTS = (0, 1, 2, 3, 4)
TORSO_KEYPOINTS = (5, 6, 12, 11)

#: Limb channels: both sides' (start, end) keypoints, merged in one channel.
LIMB_SEGMENTS = {
    'upper_arm': ((5, 7), (6, 8)),
    'lower_arm': ((7, 9), (8, 10)),
    'upper_leg': ((11, 13), (12, 14)),
    'lower_leg': ((13, 15), (14, 16)),
}

#: Channels rendered from keypoints.
PART_CHANNELS = ('head', 'torso', 'upper_arm', 'lower_arm', 'upper_leg',
                 'lower_leg')

#: Every channel a :class:`PosePriorStem` can produce (``mask`` comes from
#: FastSAM, the others from keypoints).
PRIOR_CHANNELS = ('mask', ) + PART_CHANNELS

#: Shape widths as a fraction of the person scale (box diagonal): limbs and
#: the torso margin use ``width / 2`` as radius; ``head`` is the head disk's
#: radius.
DEFAULT_PART_WIDTHS = {
    'head': 0.08,
    'torso': 0.05,
    'upper_arm': 0.05,
    'lower_arm': 0.04,
    'upper_leg': 0.07,
    'lower_leg': 0.05,
}

#: The head disk's radius is at least this multiple of the largest distance
#: between the visible face keypoints (ears are about a head apart).
HEAD_SPREAD_FACTOR = 0.75

#: No shape is drawn thinner than this radius (pixels).
MIN_RADIUS = 1.0


def visible_keypoints(keypoints: np.ndarray, scores: Optional[np.ndarray],
                      kpt_thr: float) -> np.ndarray:
    """Which keypoints can be used.

    A keypoint is invisible when its score is below ``kpt_thr``, when it is
    reported at exactly ``(0, 0)`` (ultralytics' marker for "not visible")
    or when a coordinate is not finite.

    Args:
        keypoints (np.ndarray): ``(..., K, 2)`` float coordinates.
        scores (np.ndarray, optional): ``(..., K)`` confidences; None means
            all confident.
        kpt_thr (float): Minimum confidence.

    Returns:
        np.ndarray: ``(..., K)`` bool.
    """
    keypoints = np.asarray(keypoints, dtype=np.float64)
    visible = np.isfinite(keypoints).all(-1)
    visible &= ~((keypoints[..., 0] == 0) & (keypoints[..., 1] == 0))
    if scores is not None:
        scores = np.asarray(scores, dtype=np.float64)
        visible &= np.nan_to_num(scores, nan=-np.inf) >= kpt_thr
    return visible


def person_scale(box: Optional[np.ndarray], keypoints: np.ndarray,
                 visible: np.ndarray) -> float:
    """A person's size in pixels: the diagonal of the box.

    When the box is missing or degenerate, the diagonal of the visible
    keypoints' extent is used instead.

    Args:
        box (np.ndarray, optional): ``(4, )`` xyxy.
        keypoints (np.ndarray): ``(K, 2)``.
        visible (np.ndarray): ``(K, )`` bool.

    Returns:
        float: The scale (0 when nothing is known).
    """
    if box is not None:
        w = float(box[2]) - float(box[0])
        h = float(box[3]) - float(box[1])
        if np.isfinite(w) and np.isfinite(h) and w > 1 and h > 1:
            return float(np.hypot(w, h))
    if visible.sum() < 2:
        return 0.0
    pts = keypoints[visible]
    return float(np.hypot(*(pts.max(0) - pts.min(0))))




def render_part_priors(
        keypoints: np.ndarray,
        scores: Optional[np.ndarray],
        boxes: Optional[np.ndarray],
        height: int,
        width: int,
        channels: Sequence[str] = PART_CHANNELS,
        kpt_thr: float = 0.5,
        part_widths: Optional[Dict[str, float]] = None) -> np.ndarray:
    """Draw binary body-part maps from the people's keypoints.

    Shapes, per person (``s`` = the person scale, see :func:`person_scale`;
    ``w`` = ``part_widths``; no radius below 1 px):

    - ``head``: a disk centered on the mean of the visible face keypoints
      (nose, eyes, ears), radius ``max(w['head'] * s, 0.75 * largest
      distance between visible face keypoints)``.
    - ``torso``: the convex hull of the visible shoulders and hips (at least
      two needed), dilated by ``w['torso'] * s / 2`` (so two points give a
      band).
    - ``upper_arm`` (shoulder-elbow), ``lower_arm`` (elbow-wrist),
      ``upper_leg`` (hip-knee), ``lower_leg`` (knee-ankle): a segment of
      width ``w[channel] * s`` with round caps, left and right in the same
      channel; drawn only when both end points are visible.

    Invisible keypoints (see :func:`visible_keypoints`) are skipped.

    Args:
        keypoints (np.ndarray): ``(P, 17, 2)`` float pixel coordinates.
        scores (np.ndarray, optional): ``(P, 17)`` keypoint confidences.
        boxes (np.ndarray, optional): ``(P, 4)`` xyxy person boxes, for the
            scale.
        height (int): Output height.
        width (int): Output width.
        channels (Sequence[str]): Channels to draw, in output order, from
            :data:`PART_CHANNELS`.
        kpt_thr (float): Minimum keypoint confidence. Defaults to 0.5.
        part_widths (dict, optional): Overrides of
            :data:`DEFAULT_PART_WIDTHS`.

    Returns:
        np.ndarray: ``(len(channels), height, width)`` float32, values 0 or
        1.
    """
    channels = tuple(channels)
    unknown = [c for c in channels if c not in PART_CHANNELS]
    if unknown:
        raise ValueError(f'cannot render {unknown} from keypoints; '
                         f'known part channels: {PART_CHANNELS}')
    widths = {**DEFAULT_PART_WIDTHS, **(part_widths or {})}
    maps = np.zeros((len(channels), height, width), dtype=bool)
    keypoints = np.asarray(keypoints, dtype=np.float64).reshape(-1, 17, 2)
    num_people = keypoints.shape[0]
    if scores is not None:
        scores = np.asarray(scores, dtype=np.float64).reshape(num_people, 17)
    if boxes is not None:
        boxes = np.asarray(boxes, dtype=np.float64).reshape(num_people, 4)
    visible = visible_keypoints(keypoints, scores, kpt_thr)

    for p in range(num_people):
        kpts, vis = keypoints[p], visible[p]
        if not vis.any():
            continue
        scale = person_scale(None if boxes is None else boxes[p], kpts, vis)
        for c, name in enumerate(channels):
            canvas = maps[c]
            if name == 'head':
                idx = [k for k in HEAD_KEYPOINTS if vis[k]]
                if not idx:
                    continue
                pts = kpts[idx]
                spread = np.sqrt(
                    ((pts[:, None] - pts[None])**2).sum(-1)).max()
                radius = max(MIN_RADIUS, widths['head'] * scale,
                             HEAD_SPREAD_FACTOR * float(spread))
                center = pts.mean(0)
                draw_capsule(canvas, center, center, radius)
                continue
            radius = max(MIN_RADIUS, 0.5 * widths[name] * scale)
            if name == 'torso':
                idx = [k for k in TORSO_KEYPOINTS if vis[k]]
                if len(idx) >= 2:
                    draw_dilated_hull(canvas, kpts[idx], radius)
            else:
                for a, b in LIMB_SEGMENTS[name]:
                    if vis[a] and vis[b]:
                        draw_capsule(canvas, kpts[a], kpts[b], radius)
    return maps.astype(np.float32)
