"""COCO's OKS-based keypoint AP (``mAP@OKS 0.50:0.95``), in numpy.

The rules are those of ``pycocotools.cocoeval.COCOeval`` with
``iouType='keypoints'`` (the ones behind published pose-model figures,
e.g. ultralytics' YOLO11n-pose 50.0 on COCO val2017):

- OKS of a detection with a ground-truth person:
  ``mean_k exp(-d_k^2 / (2 * area * (2 * sigma_k)^2))`` over the person's
  labelled keypoints (visibility > 0), with COCO's 17 ``sigma_k``
  (:data:`COCO_SIGMAS`). A detection's keypoint confidences play no part:
  every detection gives 17 positions.
- ``area`` is the person's scale squared; COCO uses the area of the
  annotated segment (the visible mask). :func:`person_areas` gives it from
  a prior file's people's mask (the mask inside each person's box), or the
  box area.
- A person without any labelled keypoint is ignored (a detection matched
  to it counts neither way), as COCO ignores ``num_keypoints == 0``.
- Per image, at most ``max_dets`` (20) detections, highest score first,
  each matched greedily to the best still-unmatched person with OKS >= t.
- Per threshold ``t`` in 0.50:0.05:0.95, precision is made monotone and
  read at the 101 recall points 0:0.01:1 (0 beyond the last recall);
  AP is the mean over thresholds of the mean over recall points.
"""
from typing import Dict, Optional, Sequence

import numpy as np

__all__ = ['COCO_SIGMAS', 'OKS_THRESHOLDS', 'oks_matrix', 'keypoint_ap',
           'person_areas']

#: COCO's per-keypoint OKS sigmas, COCO-17 order (nose, eyes, ears,
#: shoulders, elbows, wrists, hips, knees, ankles).
COCO_SIGMAS = np.array([
    .26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87,
    .87, .89, .89
]) / 10.0

#: OKS thresholds of the AP (COCO's ``iouThrs``).
OKS_THRESHOLDS = np.linspace(.5, .95, int(np.round((.95 - .5) / .05)) + 1)
_RECALL_POINTS = np.linspace(.0, 1.00, int(np.round(1.00 / .01)) + 1)


def oks_matrix(gt_kpts: np.ndarray,
               gt_vis: np.ndarray,
               gt_areas: np.ndarray,
               dt_kpts: np.ndarray,
               gt_boxes: Optional[np.ndarray] = None,
               sigmas: np.ndarray = COCO_SIGMAS,
               flip_indices: Optional[Sequence[int]] = None) -> np.ndarray:
    """OKS of every detection with every ground-truth person of an image.

    Args:
        gt_kpts (np.ndarray): ``(G, 17, 2)`` pixel coordinates.
        gt_vis (np.ndarray): ``(G, 17)`` COCO flags (0: not labelled).
        gt_areas (np.ndarray): ``(G, )`` person areas (scale squared).
        dt_kpts (np.ndarray): ``(D, 17, 2)``.
        gt_boxes (np.ndarray, optional): ``(G, 4)`` xyxy; used, as COCO
            does, for people without labelled keypoints (distance to the
            box grown to 3x its size).
        sigmas (np.ndarray): Per-keypoint sigmas.
        flip_indices (Sequence[int], optional): Left/right-agnostic OKS
            (not COCO's): the better of the detection as it is and with its
            keypoints permuted by these indices (e.g.
            :data:`~mmhierseg.priors.COCO_FLIP_INDICES`), for ground truth
            whose left and right are not the person's own.

    Returns:
        np.ndarray: ``(D, G)`` float64.
    """
    if flip_indices is not None:
        d = np.asarray(dt_kpts, np.float64).reshape(-1, 17, 2)
        return np.maximum(
            oks_matrix(gt_kpts, gt_vis, gt_areas, d, gt_boxes, sigmas),
            oks_matrix(gt_kpts, gt_vis, gt_areas, d[:, list(flip_indices)],
                       gt_boxes, sigmas))
    g = np.asarray(gt_kpts, np.float64).reshape(-1, 17, 2)
    d = np.asarray(dt_kpts, np.float64).reshape(-1, 17, 2)
    vis = np.asarray(gt_vis).reshape(-1, 17) > 0
    areas = np.asarray(gt_areas, np.float64).reshape(-1)
    var = (2 * np.asarray(sigmas, np.float64)) ** 2
    out = np.zeros((len(d), len(g)))
    for j in range(len(g)):
        diff = d - g[j]  # (D, 17, 2)
        if not vis[j].any():
            if gt_boxes is None:
                continue
            x0, y0, x1, y1 = np.asarray(gt_boxes[j], np.float64)
            w, h = x1 - x0, y1 - y0
            lo, hi = np.array([x0 - w, y0 - h]), np.array([x1 + w, y1 + h])
            diff = np.maximum(0, lo - d) + np.maximum(0, d - hi)
        e = (diff ** 2).sum(-1) / var / (areas[j] + np.spacing(1)) / 2
        if vis[j].any():
            e = e[:, vis[j]]
        out[:, j] = np.exp(-e).mean(1)
    return out


def _match_image(oks: np.ndarray, gt_ignore: np.ndarray,
                 thresholds: np.ndarray) -> tuple:
    """COCO's greedy matching of one image (detections sorted by score,
    people with ``gt_ignore`` last): per threshold, detection matched and
    detection ignored, ``(T, D)`` bool each."""
    num_t, (num_d, num_g) = len(thresholds), oks.shape
    dt_match = np.zeros((num_t, num_d), bool)
    dt_ignore = np.zeros((num_t, num_d), bool)
    for ti, t in enumerate(thresholds):
        taken = np.zeros(num_g, bool)
        for di in range(num_d):
            best, m = min(t, 1 - 1e-10), -1
            for gi in range(num_g):
                if taken[gi]:
                    continue
                if m > -1 and not gt_ignore[m] and gt_ignore[gi]:
                    break
                if oks[di, gi] < best:
                    continue
                best, m = oks[di, gi], gi
            if m > -1:
                taken[m] = dt_match[ti, di] = True
                dt_ignore[ti, di] = gt_ignore[m]
    return dt_match, dt_ignore


def keypoint_ap(gts: Sequence[dict],
                dts: Sequence[dict],
                sigmas: np.ndarray = COCO_SIGMAS,
                max_dets: int = 20,
                thresholds: np.ndarray = OKS_THRESHOLDS,
                flip_indices: Optional[Sequence[int]] = None
                ) -> Dict[str, float]:
    """COCO keypoint AP over images (see the module docstring).

    Args:
        gts (Sequence[dict]): Per image: ``keypoints`` ``(G, 17, 2)``,
            ``visibility`` ``(G, 17)`` (COCO flags), ``areas`` ``(G, )``;
            optional ``boxes`` ``(G, 4)`` xyxy.
        dts (Sequence[dict]): Per image (same order): ``keypoints``
            ``(D, 17, 2)`` and ``scores`` ``(D, )`` (one per person).
        sigmas (np.ndarray): Per-keypoint sigmas. Defaults to COCO's.
        max_dets (int): Detections kept per image. Defaults to 20.
        thresholds (np.ndarray): OKS thresholds. Defaults to 0.50:0.95.
        flip_indices (Sequence[int], optional): Left/right-agnostic OKS
            (see :func:`oks_matrix`); None (COCO): as labelled.

    Returns:
        dict: ``AP`` (mean over thresholds, in [0, 1]; -1 without any
        person to find), ``AP50``, ``AP75`` (where those thresholds are
        used), ``per_threshold`` (list), ``num_gt``, ``num_det``.
    """
    if len(gts) != len(dts):
        raise ValueError(f'{len(gts)} ground-truth images, {len(dts)} '
                         'detection images')
    scores, matched, ignored, num_gt = [], [], [], 0
    for gt, dt in zip(gts, dts):
        vis = np.asarray(gt['visibility']).reshape(-1, 17)
        gt_ignore = ~(vis > 0).any(1)
        order_g = np.argsort(gt_ignore, kind='mergesort')
        s = np.asarray(dt['scores'], np.float64).reshape(-1)
        order_d = np.argsort(-s, kind='mergesort')[:max_dets]
        num_gt += int((~gt_ignore).sum())
        if not len(order_d):
            continue
        boxes = gt.get('boxes')
        oks = oks_matrix(
            np.asarray(gt['keypoints']).reshape(-1, 17, 2)[order_g],
            vis[order_g],
            np.asarray(gt['areas']).reshape(-1)[order_g],
            np.asarray(dt['keypoints']).reshape(-1, 17, 2)[order_d],
            None if boxes is None else
            np.asarray(boxes).reshape(-1, 4)[order_g], sigmas, flip_indices)
        m, ig = _match_image(oks, gt_ignore[order_g], thresholds)
        scores.append(s[order_d])
        matched.append(m)
        ignored.append(ig)
    res = dict(num_gt=num_gt, num_det=int(sum(len(s) for s in scores)))
    if num_gt == 0:
        return dict(res, AP=-1.0, AP50=-1.0, AP75=-1.0, per_threshold=[])
    if scores:
        order = np.argsort(-np.concatenate(scores), kind='mergesort')
        m = np.concatenate(matched, 1)[:, order]
        ig = np.concatenate(ignored, 1)[:, order]
    else:
        m = ig = np.zeros((len(thresholds), 0), bool)
    tp = np.cumsum(m & ~ig, 1).astype(np.float64)
    fp = np.cumsum(~m & ~ig, 1).astype(np.float64)
    per_t = []
    for t in range(len(thresholds)):
        recall = tp[t] / num_gt
        precision = tp[t] / (tp[t] + fp[t] + np.spacing(1))
        precision = np.maximum.accumulate(precision[::-1])[::-1]
        idx = np.searchsorted(recall, _RECALL_POINTS, side='left')
        q = np.zeros(len(_RECALL_POINTS))
        ok = idx < len(precision)
        q[ok] = precision[idx[ok]]
        per_t.append(float(q.mean()))
    named = {f'AP{int(round(t * 100))}': v
             for t, v in zip(thresholds, per_t)}
    return dict(res, AP=float(np.mean(per_t)), AP50=named.get('AP50', -1.0),
                AP75=named.get('AP75', -1.0), per_threshold=per_t)


def person_areas(priors, kind: str = 'mask') -> np.ndarray:
    """The OKS area of each person of a prior record.

    Args:
        priors (PersonPriors): People (``boxes``; ``mask`` for ``'mask'``).
        kind (str): ``'mask'``: the people's mask pixels inside the
            person's box (COCO's segment area where people do not overlap;
            the box area where the record has no mask); ``'box'``: the box
            area.

    Returns:
        np.ndarray: ``(P, )`` float64.
    """
    if kind not in ('mask', 'box'):
        raise ValueError(f"kind must be 'mask' or 'box', got {kind!r}")
    boxes = np.asarray(priors.boxes, np.float64).reshape(-1, 4)
    box = (boxes[:, 2] - boxes[:, 0]).clip(0) * \
        (boxes[:, 3] - boxes[:, 1]).clip(0)
    if kind == 'box' or priors.mask is None:
        return box
    mask = np.asarray(priors.mask, bool)
    h, w = mask.shape
    out = np.empty(len(boxes))
    for p, (x0, y0, x1, y1) in enumerate(boxes):
        c0, r0 = int(np.clip(np.floor(x0), 0, w)), int(np.clip(
            np.floor(y0), 0, h))
        c1, r1 = int(np.clip(np.ceil(x1), 0, w)), int(np.clip(
            np.ceil(y1), 0, h))
        out[p] = mask[r0:r1, c0:c1].sum()
    return out
