"""A real pose model on the synthetic images, against the oracle: how many
people it finds, how far its keypoints are, its COCO keypoint AP.

This tells how far the synthetic people are from real ones for a pose
model, and which degradation (:data:`~mmhierseg.benchmark.data.
DEGRADE_LEVELS`) its errors there look like.

Left and right: the generator labels them as COCO does (the person's own
side; seen from the side either labelling fits the drawing), so ``AP_strict``
(the labels as they are) is the AP to read. The left/right-agnostic AP
(``flip_indices``, see :func:`~.keypoint_ap.oks_matrix`) and ``flipped``
(found people closer with the two sides swapped) show how much of the
remaining error is a side swap; the keypoint errors are those of the better
of the two labellings of each person found.
"""
import os.path as osp
import time
from typing import List, Optional, Sequence

import numpy as np

from mmhierseg.priors.rendering import COCO_FLIP_INDICES
from .keypoint_ap import keypoint_ap
from .pose_calibration import detections, match_people, oracle_set

__all__ = ['run_pose_model', 'real_pose_report', 'RAYLEIGH_MEDIAN']

_AS_IS = np.arange(17)
_FLIP = np.asarray(COCO_FLIP_INDICES)

#: Median of the distance of a 2-D Gaussian point of std 1 per coordinate
#: (``sqrt(2 ln 2)``): a median keypoint error ``e`` (share of the box
#: diagonal) is what ``degrade_priors(jitter=e / RAYLEIGH_MEDIAN)`` gives.
RAYLEIGH_MEDIAN = float(np.sqrt(2 * np.log(2)))


def run_pose_model(paths: Sequence[str],
                   weights: str = 'yolo11n-pose.pt',
                   imgsz: int = 640,
                   conf: float = 0.001,
                   iou: float = 0.7,
                   max_det: int = 100,
                   batch_size: int = 8,
                   device: str = 'cpu') -> tuple:
    """Run an ultralytics pose model on image files, in batches.

    Args:
        paths (Sequence[str]): Image files (read BGR, as the datasets do).
        weights (str): Pose weights (resolved offline, see
            :func:`~mmhierseg.priors.model_store.load_ultralytics_model`).
        imgsz (int): Inference size.
        conf (float): Least person confidence kept (0.001: COCO's
            evaluation protocol, as ultralytics' ``val``).
        iou (float): NMS IoU threshold.
        max_det (int): Most people per image.
        batch_size (int): Images per call.
        device (str): Where it runs.

    Returns:
        tuple[list[dict], float]: Per image ``boxes`` ``(D, 4)``,
        ``box_scores`` ``(D, )``, ``keypoints`` ``(D, 17, 2)``,
        ``kpt_scores`` ``(D, 17)``; and the seconds spent predicting.
    """
    import mmcv

    from mmhierseg.priors.model_store import load_ultralytics_model
    from mmhierseg.priors.ultralytics_pose import yolo_predict
    model = load_ultralytics_model(weights, 'yolo')
    out, spent = [], 0.0
    for s in range(0, len(paths), batch_size):
        images = [mmcv.imread(p) for p in paths[s:s + batch_size]]
        t = time.perf_counter()
        results = yolo_predict(model, images, device, imgsz=imgsz, conf=conf,
                               iou=iou, max_det=max_det)
        spent += time.perf_counter() - t
        for res in results:
            n = 0 if res.boxes is None else len(res.boxes)
            data = res.keypoints.data.float().cpu().numpy() if n else \
                np.zeros((0, 17, 3), np.float32)
            out.append(dict(
                boxes=res.boxes.xyxy.float().cpu().numpy().reshape(-1, 4)
                if n else np.zeros((0, 4), np.float32),
                box_scores=res.boxes.conf.float().cpu().numpy().reshape(-1)
                if n else np.zeros(0, np.float32),
                keypoints=data[..., :2].reshape(-1, 17, 2),
                kpt_scores=data[..., 2].reshape(-1, 17)))
    return out, spent


def _subset(found: dict, keep: np.ndarray) -> dict:
    return {k: v[keep] for k, v in found.items()}


def _as_priors(found: dict, size: tuple):
    from mmhierseg.priors import PersonPriors
    return PersonPriors(found['boxes'], found['keypoints'],
                        found['kpt_scores'], size)


def real_pose_report(data_root: str,
                     ids: Sequence[str],
                     weights: str = 'yolo11n-pose.pt',
                     conf: float = 0.25,
                     kpt_thr: float = 0.5,
                     imgsz: int = 640,
                     batch_size: int = 8,
                     area: str = 'mask',
                     results: Optional[List[dict]] = None) -> dict:
    """What a real pose model finds on the synthetic images ``ids``.

    The model runs once, at confidence 0.001; the COCO AP uses all of it
    (score: the person confidence), what the prior gets (people found) only
    the people above ``conf``, the stem's threshold.

    Args:
        data_root (str): Synthetic set (``JPEGImages/``, oracle
            ``priors/``).
        ids (Sequence[str]): Image ids.
        weights (str): Pose weights.
        conf (float): The stem's person threshold.
        kpt_thr (float): The stem's keypoint threshold.
        imgsz (int): Inference size.
        batch_size (int): Images per call.
        area (str): OKS area (see :func:`~.keypoint_ap.person_areas`).
        results (list[dict], optional): :func:`run_pose_model`'s output
            for these images (not run again).

    Returns:
        dict: ``images``, ``oracle_people``; ``found`` (oracle people
        matched, box IoU >= 0.5, by a person above ``conf``) and
        ``false_positives`` (people above ``conf`` matching none);
        ``flipped`` (found people closer with left and right swapped);
        ``AP``, ``AP50``, ``AP75`` (%, COCO protocol, left/right-agnostic),
        ``AP_strict`` (%, the oracle's labels as they are), ``AP_prior``
        (%, people above ``conf``, scored by their mean keypoint
        confidence as the degraded priors are); ``median_error`` and
        ``median_error_visible`` (keypoint distance / oracle box diagonal,
        over the labelled and the visible joints of the people found);
        ``jitter_like`` (the jitter of the same median), ``drop_like``
        (share of the found people's visible joints below ``kpt_thr``),
        ``miss_like`` (1 - found / oracle people); ``ms_per_image``.
    """
    oracle = oracle_set(data_root, ids, area)
    if results is None:
        paths = [osp.join(data_root, 'JPEGImages', i + '.jpg') for i in ids]
        results, spent = run_pose_model(paths, weights, imgsz,
                                        batch_size=batch_size)
    else:
        spent = float('nan')
    dts_all, dts_prior = [], []
    found = fp = drops = visible = flipped = 0
    err, err_vis = [], []
    for p, gt, res in zip(oracle['priors'], oracle['gts'], results):
        dts_all.append(detections(_as_priors(res, p.image_size), 'box',
                                  box_scores=res['box_scores']))
        kept = _subset(res, res['box_scores'] >= conf)
        dts_prior.append(detections(_as_priors(kept, p.image_size)))
        labelled = gt['visibility'] > 0
        pairs = [(g, d) for g, d in match_people(
            gt['boxes'], kept['boxes'], kept['box_scores'])
            if labelled[g].any()]
        found += len(pairs)
        fp += len(kept['boxes']) - len(pairs)
        for g, d in pairs:
            b = gt['boxes'][g]
            diag = np.hypot(b[2] - b[0], b[3] - b[1])
            # the better of the two left/right labellings (see the module)
            dist = [np.linalg.norm(kept['keypoints'][d][order] -
                                   gt['keypoints'][g], axis=-1) / diag
                    for order in (_AS_IS, _FLIP)]
            swap = dist[1][labelled[g]].mean() < dist[0][labelled[g]].mean()
            flipped += int(swap)
            dist = dist[int(swap)]
            vis = gt['visibility'][g] == 2
            err += dist[labelled[g]].tolist()
            err_vis += dist[vis].tolist()
            visible += int(vis.sum())
            drops += int((kept['kpt_scores'][d][vis] < kpt_thr).sum())
    strict = keypoint_ap(oracle['gts'], dts_all)
    full = keypoint_ap(oracle['gts'], dts_all, flip_indices=_FLIP)
    prior = keypoint_ap(oracle['gts'], dts_prior, flip_indices=_FLIP)
    num = full['num_gt']
    median = float(np.median(err)) if err else float('nan')
    return dict(
        images=len(ids), oracle_people=num, found=found, false_positives=fp,
        flipped=flipped, AP_strict=100 * strict['AP'], AP=100 * full['AP'],
        AP50=100 * full['AP50'], AP75=100 * full['AP75'],
        AP_prior=100 * prior['AP'], median_error=median,
        median_error_visible=float(np.median(err_vis)) if err_vis
        else float('nan'),
        jitter_like=median / RAYLEIGH_MEDIAN,
        drop_like=drops / max(visible, 1), miss_like=1 - found / max(num, 1),
        ms_per_image=1000 * spent / max(len(ids), 1))
