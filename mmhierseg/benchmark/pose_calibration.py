"""How far pose priors are from the synthetic set's oracle, in COCO
keypoint AP (:mod:`.keypoint_ap`): degraded priors (to calibrate
:data:`~mmhierseg.benchmark.data.DEGRADE_LEVELS`) and a real pose model run
on the synthetic images.

Ground truth: the oracle prior files (``<root>/priors/<id>.npz``), their
keypoints labelled where the COCO flag ``visibility > 0`` (inside the
image, visible or hidden), the OKS area the people's mask inside each
person's box (:func:`~.keypoint_ap.person_areas`, ``'mask'``).

The score of a person, which orders the detections of the AP:

- ``'mean_conf'``: the mean of its 17 keypoint confidences, what any prior
  file holds. :func:`~mmhierseg.testing.synthetic_priors.degrade_priors`
  gives kept joints 1 and dropped or hidden ones 0, so this is the share of
  joints kept: it ranks people by how much of them is seen, not by how far
  their keypoints moved (jitter is drawn independently of it).
- ``'box'``: a pose model's person confidence (COCO's and ultralytics'
  choice; real models only).
- ``'oracle'``: the best OKS with any oracle person (a model ranking its
  people by their true accuracy: an upper bound).
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np

from .keypoint_ap import keypoint_ap, oks_matrix, person_areas

__all__ = ['oracle_set', 'detections', 'degraded_ap', 'ap_grid',
           'closest_level', 'box_iou', 'match_people']


def oracle_set(data_root: str, ids: Sequence[str],
               area: str = 'mask') -> dict:
    """The oracle people of images ``ids`` as AP ground truth.

    Args:
        data_root (str): Synthetic set root (``priors/``, ``gt_masks/``).
        ids (Sequence[str]): Image ids.
        area (str): ``'mask'`` (the true people's mask, from
            ``gt_masks/``, inside each person's box) or ``'box'`` (see
            :func:`person_areas`).

    Returns:
        dict: ``priors`` (list of PersonPriors), ``gts`` (list of
        :func:`~.keypoint_ap.keypoint_ap` ground-truth dicts), and
        ``streams`` (each file's sorted position among the oracle files:
        the random stream :func:`~.data.degrade_prior_folder` gives it).

    Raises:
        ValueError: When ``priors/`` holds degraded priors (a set made
            with ``--prior-degrade``): no oracle to compare with.
    """
    from mmhierseg import ClassHierarchy
    from mmhierseg.priors import load_priors
    from .data import data_manifest
    folder = osp.join(data_root, 'priors')
    position = {f[:-4]: k for k, f in enumerate(sorted(os.listdir(folder)))
                if f.endswith('.npz')}
    background = ClassHierarchy.build(data_manifest(data_root).get(
        'layout', 'pascal_part')).background_leaf
    priors, gts = [], []
    for i in ids:
        p, source = load_priors(osp.join(folder, i + '.npz'))
        if source.get('degrade'):
            raise ValueError(f'{folder}/{i}.npz is degraded '
                             f"({source['degrade']}), not an oracle")
        gt_mask = osp.join(data_root, 'gt_masks', i + '.npy')
        if osp.isfile(gt_mask):  # the true people, whatever the prior mask
            p = p._replace(mask=np.load(gt_mask) != background)
        vis = p.visibility if p.visibility is not None else \
            (p.scores > 0).astype(np.uint8) * 2
        priors.append(p)
        gts.append(dict(keypoints=p.keypoints, boxes=p.boxes,
                        visibility=vis, areas=person_areas(p, area)))
    return dict(priors=priors, gts=gts, streams=[position[i] for i in ids])


def detections(priors, score: str = 'mean_conf',
               gt: Optional[dict] = None,
               box_scores: Optional[np.ndarray] = None) -> dict:
    """A prior record as AP detections.

    Args:
        priors (PersonPriors): The people found.
        score (str): ``'mean_conf'``, ``'box'`` or ``'oracle'`` (see the
            module docstring).
        gt (dict, optional): The image's ground truth (for ``'oracle'``).
        box_scores (np.ndarray, optional): Person confidences (``'box'``).

    Returns:
        dict: ``keypoints`` and ``scores``.
    """
    kpts = np.asarray(priors.keypoints, np.float64).reshape(-1, 17, 2)
    if score == 'mean_conf':
        s = np.asarray(priors.scores, np.float64).reshape(-1, 17).mean(1)
    elif score == 'box':
        s = np.asarray(box_scores, np.float64).reshape(-1)
    elif score == 'oracle':
        oks = oks_matrix(gt['keypoints'], gt['visibility'], gt['areas'],
                         kpts, gt['boxes'])
        s = oks.max(1) if oks.size else np.zeros(len(kpts))
    else:
        raise ValueError(f'unknown score {score!r}')
    return dict(keypoints=kpts, scores=s)


def degraded_ap(oracle: dict, levels: dict, repeats: int = 3,
                score: str = 'mean_conf') -> dict:
    """The keypoint AP of :func:`degrade_priors` at ``levels``.

    Repeat 0 draws the very priors :func:`~.data.degrade_prior_folder`
    writes (the same per-file streams); the others draw new ones.

    Args:
        oracle (dict): From :func:`oracle_set`.
        levels (dict): ``jitter``, ``drop``, ``miss``.
        repeats (int): Draws of the whole set.
        score (str): Person score (see the module docstring).

    Returns:
        dict: ``AP`` (mean over repeats, %), ``std`` (%), ``AP50``,
        ``AP75`` (%, mean), ``runs`` (AP of each draw, %).
    """
    from mmhierseg.testing.synthetic_priors import degrade_priors
    runs = []
    for r in range(repeats):
        dts = []
        for p, gt, k in zip(oracle['priors'], oracle['gts'],
                            oracle['streams']):
            rng = np.random.default_rng([7, k] if r == 0 else [7, k, r])
            worse = degrade_priors(p._replace(mask=None), rng, **levels)
            dts.append(detections(worse, score, gt))
        runs.append(keypoint_ap(oracle['gts'], dts))
    ap = [100 * res['AP'] for res in runs]
    return dict(AP=float(np.mean(ap)), std=float(np.std(ap)),
                AP50=float(np.mean([100 * res['AP50'] for res in runs])),
                AP75=float(np.mean([100 * res['AP75'] for res in runs])),
                runs=ap)


def ap_grid(oracle: dict, jitters: Sequence[float], drops: Sequence[float],
            misses: Sequence[float], repeats: int = 3,
            score: str = 'mean_conf') -> List[dict]:
    """:func:`degraded_ap` over a grid of levels.

    Args:
        oracle (dict): From :func:`oracle_set`.
        jitters (Sequence[float]): Jitter levels.
        drops (Sequence[float]): Drop levels.
        misses (Sequence[float]): Miss levels.
        repeats (int): Draws per level.
        score (str): Person score.

    Returns:
        list[dict]: Per level: ``jitter``, ``drop``, ``miss`` and the
        :func:`degraded_ap` entries.
    """
    return [dict(jitter=j, drop=d, miss=m,
                 **degraded_ap(oracle, dict(jitter=j, drop=d, miss=m),
                               repeats, score))
            for j in jitters for d in drops for m in misses]


def closest_level(rows: List[dict], target: float,
                  **fixed: float) -> Dict[str, float]:
    """The grid row whose AP is closest to ``target`` (%), among those with
    the ``fixed`` levels (e.g. ``drop=0.1, miss=0.05``).

    Args:
        rows (list[dict]): From :func:`ap_grid`.
        target (float): The AP to match, in %.
        **fixed (float): Levels the row must have.

    Returns:
        dict: The row.
    """
    rows = [r for r in rows
            if all(np.isclose(r[k], v) for k, v in fixed.items())]
    if not rows:
        raise ValueError(f'no grid row with {fixed}')
    return min(rows, key=lambda r: abs(r['AP'] - target))


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of xyxy boxes, ``(A, B)``."""
    a = np.asarray(a, np.float64).reshape(-1, 1, 4)
    b = np.asarray(b, np.float64).reshape(1, -1, 4)
    w = (np.minimum(a[..., 2], b[..., 2]) -
         np.maximum(a[..., 0], b[..., 0])).clip(0)
    h = (np.minimum(a[..., 3], b[..., 3]) -
         np.maximum(a[..., 1], b[..., 1])).clip(0)
    inter = w * h
    area = lambda x: (x[..., 2] - x[..., 0]) * (x[..., 3] - x[..., 1])  # noqa
    return inter / np.maximum(area(a) + area(b) - inter, 1e-9)


def match_people(gt_boxes: np.ndarray, dt_boxes: np.ndarray,
                 dt_scores: np.ndarray, iou_thr: float = 0.5) -> list:
    """Greedy one-to-one matching by box IoU, highest score first.

    Args:
        gt_boxes (np.ndarray): ``(G, 4)`` xyxy.
        dt_boxes (np.ndarray): ``(D, 4)`` xyxy.
        dt_scores (np.ndarray): ``(D, )``.
        iou_thr (float): Least IoU of a match.

    Returns:
        list[tuple[int, int]]: ``(gt index, detection index)`` pairs.
    """
    iou = box_iou(dt_boxes, gt_boxes)
    taken, pairs = set(), []
    for d in np.argsort(-np.asarray(dt_scores).reshape(-1), kind='mergesort'):
        free = [g for g in range(iou.shape[1]) if g not in taken]
        if free:
            g = max(free, key=lambda j: iou[d, j])
            if iou[d, g] >= iou_thr:
                taken.add(g)
                pairs.append((g, int(d)))
    return pairs
