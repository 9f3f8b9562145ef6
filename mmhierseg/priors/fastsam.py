"""Person masks from FastSAM, prompted with the detected people."""
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.logging import MMLogger

from .model_store import load_ultralytics_model
from .ultralytics_pose import yolo_predict

__all__ = ['FastSAMSegmenter']


class FastSAMSegmenter:
    """FastSAM run once per batch ("segment everything"), then prompted per
    image with that image's people.

    The network runs on the whole batch in one call; the prompt step
    (ultralytics' ``FastSAMPredictor.prompt``: per box, the mask with the
    best overlap; per point, the masks containing it) runs per image
    because each image has its own people. Not an ``nn.Module``: the model
    is loaded once per process and never trains.

    Args:
        weights (str): A FastSAM ``.pt`` path, or ``'FastSAM-s.pt'`` /
            ``'FastSAM-x.pt'`` (downloaded when allowed). FastSAM loads only
            ``.pt`` files (for tests, save a ``YOLO('yolov8n-seg.yaml')`` to
            a ``.pt``). Defaults to ``'FastSAM-s.pt'``.
        imgsz (int | tuple): Inference size. Defaults to 640.
        conf (float): Mask confidence threshold. Defaults to 0.4.
        iou (float): NMS IoU threshold. Defaults to 0.9.
        prompt (str): ``'boxes'`` (the people's boxes), ``'points'`` (their
            visible keypoints) or ``'both'``. Defaults to ``'boxes'``.
        max_det (int): Most masks per image before prompting. Defaults to
            300.
        half (bool): FP16 inference on GPU. Defaults to False.
        download (bool, optional): Allow downloading a missing named model;
            None follows ``MMHIERSEG_OFFLINE``.
    """

    PROMPTS = ('boxes', 'points', 'both')

    def __init__(self,
                 weights: str = 'FastSAM-s.pt',
                 imgsz: Union[int, Sequence[int]] = 640,
                 conf: float = 0.4,
                 iou: float = 0.9,
                 prompt: str = 'boxes',
                 max_det: int = 300,
                 half: bool = False,
                 download: Optional[bool] = None) -> None:
        if prompt not in self.PROMPTS:
            raise ValueError(f'prompt must be one of {self.PROMPTS}, got '
                             f'{prompt!r}')
        if str(weights).lower().endswith(('.yaml', '.yml')):
            raise ValueError(
                f"FastSAM loads only .pt files, got '{weights}'. For a "
                'random-weight model save one first: '
                "YOLO('yolov8s-seg.yaml').save('fastsam_random.pt').")
        self.weights = weights
        self.prompt = prompt
        self.model = load_ultralytics_model(weights, 'fastsam', download,
                                            'FastSAM', 'model.stem.sam')
        self.predict_args = dict(
            imgsz=imgsz if isinstance(imgsz, int) else list(imgsz),
            conf=conf,
            iou=iou,
            max_det=max_det,
            retina_masks=True)
        if half:  # passed only when asked: ultralytics warns it is deprecated
            self.predict_args['half'] = True

    def __deepcopy__(self, memo):
        # The frozen model is shared, never copied.
        return self

    def _run_each(self, images: List[np.ndarray], device) -> list:
        """Batched call; if it raises, one call per image so that only the
        failing images are lost. Failed entries hold the exception."""
        try:
            return yolo_predict(self.model, images, device,
                                **self.predict_args)
        except Exception as e:  # noqa: BLE001 - reported, batch goes on
            if len(images) == 1:
                return [e]
        return [self._run_each([image], device)[0] for image in images]

    def segment(
        self,
        images: List[np.ndarray],
        boxes: List[np.ndarray],
        points: Optional[List[np.ndarray]] = None,
        device: Union[str, torch.device, None] = None
    ) -> Tuple[List[Optional[np.ndarray]], List[bool]]:
        """The union of the people's masks, per image.

        Args:
            images (list[np.ndarray]): ``(H, W, 3)`` uint8 BGR images.
            boxes (list[np.ndarray]): Per image ``(P, 4)`` float xyxy boxes,
                clipped to the image.
            points (list[np.ndarray], optional): Per image ``(M, 2)`` float
                visible keypoints (used by ``prompt='points'|'both'``).
            device (str | torch.device, optional): Where to run.

        Returns:
            tuple[list, list]: ``masks``: ``(H, W)`` bool arrays, None where
            FastSAM raised or no mask matched a prompt; ``errors``: bool per
            image, True where FastSAM raised (a result not worth caching).
        """
        if not images:
            return [], []
        logger = MMLogger.get_current_instance()
        results = self._run_each(images, device)
        masks, errors = [], []
        for i, res in enumerate(results):
            masks.append(None)
            errors.append(isinstance(res, Exception))
            if errors[-1]:
                logger.warning(f'FastSAM failed on an image: '
                               f'{type(res).__name__}: {res}')
                continue
            prompt = {}
            if self.prompt in ('boxes', 'both'):
                b = np.asarray(boxes[i], np.float32).reshape(-1, 4)
                if len(b):
                    prompt['bboxes'] = b
            if self.prompt in ('points', 'both') and points is not None:
                p = np.asarray(points[i], np.float32).reshape(-1, 2)
                if len(p):
                    prompt['points'] = p
                    prompt['labels'] = np.ones(len(p), np.int64)
            if not prompt:  # no prompt would mean "every segment"
                continue
            try:
                selected = self.model.predictor.prompt(res, **prompt)[0]
                masks[-1] = self._union(selected, *images[i].shape[:2])
            except Exception as e:  # noqa: BLE001
                logger.warning(f'FastSAM prompting failed on an image: '
                               f'{type(e).__name__}: {e}')
                errors[-1] = True
        return masks, errors

    @staticmethod
    def _union(result, height: int, width: int) -> Optional[np.ndarray]:
        if result.masks is None or len(result.masks) == 0:
            return None
        data = result.masks.data
        if tuple(data.shape[-2:]) != (height, width):
            from ultralytics.utils.ops import scale_masks

            # letterboxed masks (retina_masks off): undo the padding
            data = scale_masks(data[None].float(), (height, width))[0] > 0.5
        union = data.bool().any(0).cpu().numpy()
        return union if union.any() else None
