"""The small interface every pose backend implements, and its registry."""
from typing import List, NamedTuple, Optional, Union

import numpy as np
import torch
from mmengine.registry import Registry

__all__ = [
    'PoseResult', 'BasePoseBackend', 'POSE_BACKENDS', 'build_pose_backend',
    'NUM_KEYPOINTS'
]

NUM_KEYPOINTS = 17

#: Pose backends by name (``'ultralytics'``, ``'mmpose'``); a new backend
#: is a class decorated with ``@POSE_BACKENDS.register_module(name=...)``.
POSE_BACKENDS = Registry('pose backend')


class PoseResult(NamedTuple):
    """People found in one image.

    Attributes:
        boxes (np.ndarray): ``(P, 4)`` float32 xyxy, original pixels.
        keypoints (np.ndarray): ``(P, 17, 2)`` float32 COCO keypoints.
        scores (np.ndarray): ``(P, 17)`` float32 keypoint confidences.
    """
    boxes: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray

    @classmethod
    def empty(cls) -> 'PoseResult':
        """A result with nobody in it."""
        return cls(
            np.zeros((0, 4), np.float32),
            np.zeros((0, NUM_KEYPOINTS, 2), np.float32),
            np.zeros((0, NUM_KEYPOINTS), np.float32))


class BasePoseBackend:
    """A frozen pose model (not an ``nn.Module``: it never trains).

    Subclasses load their model once per process (see
    :mod:`mmhierseg.priors.model_store`) and implement
    :meth:`predict_batch`.
    """

    def predict(
            self,
            images: List[np.ndarray],
            device: Union[str, torch.device, None] = None) -> List[PoseResult]:
        """Find people and their 17 COCO keypoints, one batch at once.

        Args:
            images (list[np.ndarray]): ``(H, W, 3)`` uint8 **BGR** images
                (the OpenCV order ultralytics and mmpose expect of arrays),
                of any sizes.
            device (str | torch.device, optional): Where to run.

        Returns:
            list[PoseResult]: One per image.
        """
        return self.predict_batch(images, device) if images else []

    def predict_batch(self, images: List[np.ndarray],
                      device: Union[str, torch.device, None]
                      ) -> List[PoseResult]:
        """:meth:`predict` on a batch of at least one image."""
        raise NotImplementedError

    def __deepcopy__(self, memo):
        # The frozen model is shared, never copied (e.g. by an EMA hook that
        # deep-copies the segmentor).
        return self


def build_pose_backend(cfg: Optional[dict]) -> BasePoseBackend:
    """Build a pose backend from ``dict(backend='ultralytics', ...)``.

    Args:
        cfg (dict): ``backend`` (the registry name, default
            ``'ultralytics'``) and the backend's keyword arguments
            (``kpt_thr`` is the stem's, not the backend's, and is ignored).

    Returns:
        BasePoseBackend
    """
    cfg = dict(cfg or {})
    cfg.pop('kpt_thr', None)
    name = cfg.pop('backend', 'ultralytics')
    cls = POSE_BACKENDS.get(name)
    if cls is None:
        raise KeyError(f'unknown pose backend {name!r}; available: '
                       f'{sorted(POSE_BACKENDS.module_dict)}')
    return cls(**cfg)


def device_string(device: Union[str, torch.device, None]) -> str:
    """``torch.device('cuda', 0)`` -> ``'cuda:0'``; None -> ``'cpu'``."""
    if device is None:
        return 'cpu'
    device = torch.device(device)
    if device.type == 'cuda' and device.index is None:
        return f'cuda:{torch.cuda.current_device()}'
    return str(device)
