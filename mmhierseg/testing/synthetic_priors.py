"""Oracle pose priors for the synthetic people, and their degradation.

The synthetic generator knows every person's skeleton, so it can write the
prior file a perfect pose model would (COCO-17 keypoints in image pixels,
the person's box, the people's mask). :func:`degrade_priors` then makes them
err the way a real pose model does: keypoint jitter in proportion to the
person's size, dropped joints, missed people.

Keypoint flags follow COCO (``visibility``): 2 = visible, 1 = inside the
image but hidden (behind an occluder or a nearer person's background, a
face turned away, legs below a close-up's frame), 0 = outside the image.
Only visible joints get confidence 1 (the others 0), so the drawn priors
never cover what the image does not show. Left and right are the
person's own, as in COCO (a person facing the camera has ``left_shoulder`` on
the image's right), so a real pose model's output can be scored against
them; the prior channels merge the two sides.
"""
from typing import Callable, List, Optional

import numpy as np

from mmhierseg.priors import KEYPOINT_MASK, PersonPriors, keypoint_person_mask

__all__ = ['coco_keypoints', 'oracle_person', 'oracle_priors',
           'degrade_priors', 'with_keypoint_mask', 'ORACLE_SOURCE',
           'PRIOR_MASKS']

#: ``source`` of an oracle prior file (``degrade`` added when degraded,
#: ``mask`` when the mask is drawn from the keypoints).
ORACLE_SOURCE = dict(settings=dict(kind='synthetic_oracle'))

#: Kinds of person mask the generator writes (``prior_mask``).
PRIOR_MASKS = ('oracle', 'keypoints')

_LIMBS = ('shoulder', 'elbow', 'wrist', 'hip', 'knee', 'ankle')

#: The body pieces a joint may show (it lies where they meet).
_JOINT_PIECES = [('hair', 'head', 'leye', 'reye', 'mouth')] * 5 + [
    ('neck', 'torso', 'luarm', 'ruarm')] * 2 + [
        ('luarm', 'ruarm', 'llarm', 'rlarm')] * 2 + [
            ('llarm', 'rlarm', 'lhand', 'rhand')] * 2 + [
                ('torso', 'luleg', 'ruleg')] * 2 + [
                    ('luleg', 'ruleg', 'llleg', 'rlleg')] * 2 + [
                        ('llleg', 'rlleg', 'lfoot', 'rfoot')] * 2


def coco_keypoints(sk: dict, view: str, draw_legs: bool,
                   to_image: Callable) -> tuple:
    """The 17 COCO keypoints of a synthetic skeleton.

    Args:
        sk (dict): The generator's skeleton (``joints``, ``head_ax``,
            ``facing``, ``side``), in body units.
        view (str): ``'front'``, ``'back'`` or ``'side'``.
        draw_legs (bool): False for close-ups (legs not drawn).
        to_image (Callable): Body units -> image pixels ``(x, y)``.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(17, 2)`` float32 pixel
        coordinates, and ``(17, )`` bool: hidden by the view (turned-away
        face parts, legs not drawn).
    """
    j = sk['joints']
    c = np.asarray(j['head_c'], np.float64)
    rx, ry = (float(v) for v in sk['head_ax'])
    f = sk['facing']
    hidden = np.zeros(17, bool)
    if view == 'side':
        near, far = (2, 1) if f > 0 else (1, 2)  # eye indices
        face = {0: (f * 0.9 * rx, 0.15 * ry), near: (f * 0.5 * rx,
                                                     -0.1 * ry),
                far: (f * 0.6 * rx, -0.1 * ry), near + 2: (-f * 0.1 * rx, 0),
                far + 2: (-f * 0.2 * rx, 0)}
        hidden[[far, far + 2]] = True
    else:
        # the person's left is the image's right when they face the camera
        m = -1.0 if view == 'back' else 1.0
        face = {0: (0.0, 0.2 * ry), 1: (m * 0.35 * rx, -0.1 * ry),
                2: (-m * 0.35 * rx, -0.1 * ry), 3: (m * 0.95 * rx, 0.0),
                4: (-m * 0.95 * rx, 0.0)}
        if view == 'back':
            hidden[[0, 1, 2]] = True
    # the skeleton's 'l'/'r' are the image's left/right (x < 0 / x > 0);
    # seen from the side they lie on one line, either labelling fits
    sides = (('r', 5), ('l', 6)) if view == 'front' else (('l', 5), ('r', 6))
    body = np.zeros((17, 2), np.float64)
    for k in range(5):
        body[k] = c + np.asarray(face[k])
    for i, part in enumerate(_LIMBS):
        for side, offset in sides:
            body[offset + 2 * i] = j[f'{side}_{part}']
    if not draw_legs:
        hidden[13:] = True
    pts = np.stack([to_image(p) for p in body]).astype(np.float32)
    return pts, hidden


def oracle_person(sk: dict, view: str, draw_legs: bool, to_px: Callable,
                  pieces: np.ndarray, origin: tuple, leaf_of: list,
                  names: tuple) -> dict:
    """One drawn person, as the oracle sees it.

    Args:
        sk (dict): The skeleton (see :func:`coco_keypoints`).
        view (str): The view.
        draw_legs (bool): Whether the legs were drawn.
        to_px (Callable): Body units -> pixels of the person's canvas.
        pieces (np.ndarray): The person's own canvas of piece ids.
        origin (tuple): ``(x0, y0)`` of the canvas in the image.
        leaf_of (list): Leaf id of each piece id.
        names (tuple): Piece names by id.

    Returns:
        dict: ``keypoints`` (17, 2), ``hidden`` (17, ) (by the view or by
        the person's own body: the joint's pixel shows none of the pieces
        that meet there), ``leaf`` (17, ): the leaf the joint's pixel must
        still show in the final mask to be visible; ``box``: xyxy of the
        person's pixels.
    """
    x0, y0 = origin
    kpts, hidden = coco_keypoints(sk, view, draw_legs,
                                  lambda p: to_px(p) + (x0, y0))
    h, w = pieces.shape
    leaf = np.full(17, -1, np.int64)
    for k, (x, y) in enumerate(kpts - (x0, y0)):
        if 0 <= x < w and 0 <= y < h:
            piece = names[pieces[int(y), int(x)]]
            if piece in _JOINT_PIECES[k]:
                leaf[k] = leaf_of[names.index(piece)]
    rows, cols = np.nonzero(pieces)
    box = (x0 + cols.min(), y0 + rows.min(), x0 + cols.max() + 1,
           y0 + rows.max() + 1)
    return dict(keypoints=kpts, hidden=hidden | (leaf < 0), leaf=leaf,
                box=box)


def oracle_priors(people: List[dict], label: np.ndarray,
                  background: int) -> PersonPriors:
    """What a perfect pose model and FastSAM would report.

    Args:
        people (list[dict]): From :func:`oracle_person`.
        label (np.ndarray): The final leaf mask (after every occlusion).
        background (int): The background leaf id.

    Returns:
        PersonPriors: With ``visibility`` flags (a joint inside the image
        whose pixel no longer shows its own part, covered by a nearer
        person or an object, is hidden) and the people's mask.
    """
    h, w = label.shape
    kpts = np.asarray([p['keypoints'] for p in people],
                      np.float32).reshape(-1, 17, 2)
    inside = (kpts[..., 0] >= 0) & (kpts[..., 0] < w) & \
        (kpts[..., 1] >= 0) & (kpts[..., 1] < h)
    cols = np.clip(kpts[..., 0], 0, w - 1).astype(int)
    rows = np.clip(kpts[..., 1], 0, h - 1).astype(int)
    leaf = np.asarray([p['leaf'] for p in people], np.int64).reshape(-1, 17)
    hidden = np.asarray([p['hidden'] for p in people],
                        bool).reshape(-1, 17) | (label[rows, cols] != leaf)
    vis = np.where(inside, np.where(hidden, 1, 2), 0).astype(np.uint8)
    boxes = np.asarray([p['box'] for p in people], np.float32).reshape(-1, 4)
    return PersonPriors(boxes, kpts, (vis == 2).astype(np.float32), (h, w),
                        label != background, vis)


def degrade_priors(priors: PersonPriors,
                   rng: np.random.Generator,
                   jitter: float = 0.0,
                   drop: float = 0.0,
                   miss: float = 0.0) -> PersonPriors:
    """Make oracle priors err like a pose model.

    Args:
        priors (PersonPriors): Oracle priors.
        rng (np.random.Generator): The random stream.
        jitter (float): Keypoint noise: Gaussian, std ``jitter`` times the
            person's box diagonal, per coordinate.
        drop (float): Probability that a visible joint is lost (confidence
            0).
        miss (float): Probability that a person is not found at all: its
            keypoints and box go, and so does the mask inside its box
            (outside the boxes of the people kept).

    Returns:
        PersonPriors: A new, degraded record (``visibility`` kept).
    """
    kpts = priors.keypoints.astype(np.float64).copy()
    scores = priors.scores.copy()
    diag = np.hypot(priors.boxes[:, 2] - priors.boxes[:, 0],
                    priors.boxes[:, 3] - priors.boxes[:, 1])
    kpts += rng.standard_normal(kpts.shape) * jitter * diag[:, None, None]
    scores[rng.random(scores.shape) < drop] = 0.0
    keep = rng.random(len(kpts)) >= miss
    mask = None if priors.mask is None else priors.mask.copy()
    if mask is not None and not keep.all():
        kept = np.zeros_like(mask)
        gone = np.zeros_like(mask)
        for box, k in zip(priors.boxes.astype(int), keep):
            x0, y0, x1, y1 = box
            (kept if k else gone)[y0:y1 + 1, x0:x1 + 1] = True
        mask &= ~(gone & ~kept)
    vis: Optional[np.ndarray] = None if priors.visibility is None else \
        priors.visibility[keep]
    return PersonPriors(priors.boxes[keep], kpts[keep].astype(np.float32),
                        scores[keep], priors.image_size, mask, vis)


def with_keypoint_mask(priors: PersonPriors,
                       kpt_thr: float = 0.5) -> PersonPriors:
    """The same people with the mask the offline pipeline draws from their
    keypoints (:func:`~mmhierseg.priors.keypoint_person_mask`) instead of
    the true one.

    Args:
        priors (PersonPriors): Oracle (or degraded) priors.
        kpt_thr (float): Minimum keypoint confidence (the stems').

    Returns:
        PersonPriors: A new record.
    """
    h, w = priors.image_size
    mask = keypoint_person_mask(priors.keypoints, priors.scores, priors.boxes,
                                h, w, kpt_thr, KEYPOINT_MASK['grow'])
    return PersonPriors(priors.boxes, priors.keypoints, priors.scores,
                        priors.image_size, mask, priors.visibility)
