"""What the pose prior costs to make, and how good prior channels are."""
import os.path as osp
import time
from typing import Dict, List, Optional, Tuple

import numpy as np

__all__ = ['random_prior_weights', 'online_prior_cfg', 'precompute_cost',
           'channel_iou']


def random_prior_weights(tmp: str) -> Tuple[str, str]:
    """Random-weight pose and FastSAM-sized models from ultralytics' yamls,
    saved as checkpoints (no download; offline stand-ins of the real ones).

    Args:
        tmp (str): Folder to write to.

    Returns:
        tuple[str, str]: Pose and segmenter checkpoint paths.
    """
    from ultralytics import YOLO
    pose, sam = osp.join(tmp, 'pose_random.pt'), osp.join(tmp, 'sam_random.pt')
    YOLO('yolov8n-pose.yaml').save(pose)
    YOLO('yolov8s-seg.yaml').save(sam)
    return pose, sam


def online_prior_cfg(cfg, pose: str, sam: str, imgsz: int = 160,
                     conf: float = 0.01):
    """A config whose stem makes its priors in the step (no prior files).

    Args:
        cfg (Config): A config with a ``PosePriorStem``.
        pose (str): Pose weights.
        sam (str): FastSAM weights.
        imgsz (int): Inference size of both models.
        conf (float): Detection threshold (low: random models then "find"
            people, so the segmenter runs too).

    Returns:
        Config: A copy.
    """
    cfg = cfg.copy()
    loader = cfg.train_dataloader
    loader.dataset.pipeline = [t for t in loader.dataset.pipeline
                               if t['type'] != 'LoadPoseAnnotations']
    cfg.model.stem.pose = dict(weights=pose, imgsz=imgsz, conf=conf)
    cfg.model.stem.sam = dict(weights=sam, imgsz=imgsz, conf=conf)
    return cfg


def precompute_cost(images: List[np.ndarray], pose: str, sam: Optional[str],
                    batch_size: int = 8, imgsz: int = 320,
                    conf: float = 1e-3) -> Dict[str, tuple]:
    """Seconds (wall, CPU) of making priors two ways, same weights and
    images: the prototype's (both models built again for every image) and
    :class:`PriorDetector`'s (built once, batches).

    Args:
        images (list[np.ndarray]): RGB images.
        pose (str): Pose weights.
        sam (str, optional): FastSAM weights (None: no segmenter).
        batch_size (int): Batch of the detector.
        imgsz (int): Inference size.
        conf (float): Detection threshold.

    Returns:
        dict: ``prototype`` and ``batched``: ``(wall, cpu)``; ``people``:
        how many the detector found.
    """
    from ultralytics import YOLO, FastSAM

    from mmhierseg.priors import PriorDetector
    YOLO(pose).predict(images[0], imgsz=imgsz, conf=conf, verbose=False)
    t = time.perf_counter(), time.process_time()
    for img in images:
        res = YOLO(pose).predict(img, imgsz=imgsz, conf=conf,
                                 verbose=False)[0]
        boxes = res.boxes.xyxy.cpu().numpy()
        if sam and len(boxes):
            FastSAM(sam).predict(img, bboxes=boxes.tolist(), imgsz=imgsz,
                                 conf=conf, retina_masks=True, verbose=False)
    proto = time.perf_counter() - t[0], time.process_time() - t[1]
    t = time.perf_counter(), time.process_time()
    det = PriorDetector(dict(weights=pose, imgsz=imgsz, conf=conf),
                        dict(weights=sam, imgsz=imgsz, conf=conf)
                        if sam else None)
    found = 0
    for s in range(0, len(images), batch_size):
        people, _ = det.detect(images[s:s + batch_size], 'cpu')
        found += sum(len(p.boxes) for p in people if p is not None)
    ours = time.perf_counter() - t[0], time.process_time() - t[1]
    return dict(prototype=proto, batched=ours, people=found)


def channel_iou(data_root: str, prior_dir: str, ids: List[str],
                hierarchy, parts: Dict[str, Optional[str]]) -> Dict[str,
                                                                    float]:
    """IoU (%) of every prior channel with the ground-truth part it stands
    for, over images ``ids`` (a channel mapped to None: with the body).

    Args:
        data_root (str): Dataset root (``gt_masks/<id>.npy``).
        prior_dir (str): Prior folder under it.
        ids (list[str]): Image ids.
        hierarchy (ClassHierarchy): Names of the mask ids.
        parts (dict[str, str | None]): Prior channel -> leaf name.

    Returns:
        dict[str, float]: IoU per channel.
    """
    from mmhierseg.priors import draw_priors, load_priors
    channels = tuple(parts)
    inter, union = np.zeros(len(channels)), np.zeros(len(channels))
    for i in ids:
        gt = np.load(osp.join(data_root, 'gt_masks', i + '.npy'))
        people, _ = load_priors(osp.join(data_root, prior_dir, i + '.npz'))
        maps = draw_priors(people, channels).astype(bool)
        for c, name in enumerate(channels):
            ref = gt != hierarchy.background_leaf if parts[name] is None \
                else gt == hierarchy.leaf_names.index(parts[name])
            inter[c] += (maps[c] & ref).sum()
            union[c] += (maps[c] | ref).sum()
    return {c: 100 * a / max(b, 1) for c, a, b in zip(channels, inter, union)}
