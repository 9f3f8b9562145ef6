"""Pose backend running an mmpose top-down model (e.g. RTMPose) on person
boxes from an ultralytics detector."""
import os.path as osp
from typing import List, Optional, Union

import numpy as np
import torch

from .model_store import (download_allowed, get_or_load,
                          load_ultralytics_model)
from .pose_backend import (NUM_KEYPOINTS, BasePoseBackend, PoseResult,
                           device_string, POSE_BACKENDS)
from .ultralytics_pose import yolo_predict

__all__ = ['MMPoseBackend', 'MMPOSE_INSTALL_HINT']

MMPOSE_INSTALL_HINT = (
    "pose backend 'mmpose' needs mmpose (and mmdet), which could not be "
    'imported. Install them with `pip install -e .[mmpose]` or `mim install '
    '"mmpose>=1.1,<1.4" "mmdet>=3.1,<3.4"`. On Python 3.11, mmpose\'s chumpy '
    'dependency does not build: `pip install --no-deps mmpose==1.3.2` plus '
    'json-tricks, munkres and xtcocotools (`--no-binary xtcocotools`). Or use '
    "the default pose=dict(backend='ultralytics', ...).")


def _as_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float32)


@POSE_BACKENDS.register_module(name='mmpose')
class MMPoseBackend(BasePoseBackend):
    """Top-down mmpose model on the people found by a YOLO detector.

    All the people of all the images of a batch go through the pose model
    together (in chunks of ``batch_size``), not one image at a time.

    Args:
        config (str): mmpose model config file (e.g. an RTMPose COCO
            17-keypoint config).
        checkpoint (str): Checkpoint path (a URL only when downloading is
            allowed, see ``download``).
        det (dict): The person detector: ``weights`` (an ultralytics detect
            or pose model; default ``'yolov8n.pt'``), ``conf`` (0.25),
            ``iou`` (0.7), ``imgsz`` (640), ``max_det`` (100), ``download``.
            Only class 0 (person) is kept.
        batch_size (int): Person crops per pose forward. Defaults to 64.
        download (bool, optional): Allow a URL checkpoint; None follows
            ``MMHIERSEG_OFFLINE``.
    """

    def __init__(self,
                 config: str,
                 checkpoint: str,
                 det: Optional[dict] = None,
                 batch_size: int = 64,
                 download: Optional[bool] = None) -> None:
        try:
            import mmpose  # noqa: F401
            from mmengine.dataset import Compose, pseudo_collate
            from mmengine.registry import DefaultScope
            from mmpose.apis import init_model
        except ImportError as e:
            raise ImportError(f'{MMPOSE_INSTALL_HINT} ({e})') from e
        self._pseudo_collate = pseudo_collate
        self._scope = DefaultScope
        if not osp.isfile(osp.expanduser(str(config))):
            raise FileNotFoundError(f"mmpose config '{config}' not found")
        is_url = str(checkpoint).startswith(('http://', 'https://'))
        if is_url and not download_allowed(download):
            raise FileNotFoundError(
                f"mmpose checkpoint '{checkpoint}' is a URL and downloading "
                'is switched off (MMHIERSEG_OFFLINE=1 or download=False). '
                'Download it on a machine with internet and pass '
                "pose=dict(backend='mmpose', checkpoint='/path/to/file.pth')")
        if not is_url and not osp.isfile(osp.expanduser(str(checkpoint))):
            raise FileNotFoundError(
                f"mmpose checkpoint '{checkpoint}' not found. Download it "
                '(see the model zoo of mmpose) and pass '
                "pose=dict(backend='mmpose', checkpoint='/path/to/file.pth')")
        config = osp.abspath(osp.expanduser(str(config)))
        if not is_url:
            checkpoint = osp.abspath(osp.expanduser(str(checkpoint)))

        def load():
            from mmengine.config import Config
            cfg = Config.fromfile(config)
            scope = cfg.get('default_scope', 'mmpose') or 'mmpose'
            # init_model switches the global default scope; keep the
            # caller's (mmseg) scope untouched.
            with DefaultScope.overwrite_default_scope(scope):
                model = init_model(cfg, checkpoint, device='cpu')
                pipeline = Compose(model.cfg.test_dataloader.dataset.pipeline)
            model.eval()
            for p in model.parameters():
                p.requires_grad_(False)
            return model, pipeline, scope

        self.model, self.pipeline, self.scope = get_or_load(
            ('mmpose', config, checkpoint), load)
        num_kpts = self.model.dataset_meta.get('num_keypoints')
        if num_kpts is not None and int(num_kpts) != NUM_KEYPOINTS:
            raise ValueError(f'mmpose model has {num_kpts} keypoints; the '
                             'prior needs the 17 COCO keypoints')
        det = dict(det or {})
        self.detector = load_ultralytics_model(
            det.pop('weights', 'yolov8n.pt'), 'yolo',
            det.pop('download', download), 'person detector', 'pose.det')
        self.det_args = dict(conf=0.25, iou=0.7, imgsz=640, max_det=100)
        self.det_args.update(det)
        self.batch_size = int(batch_size)

    def _to(self, device: torch.device) -> None:
        param = next(self.model.parameters(), None)
        if param is not None and param.device != device:
            self.model.to(device)

    def predict_batch(self, images: List[np.ndarray],
                      device: Union[str, torch.device, None]
                      ) -> List[PoseResult]:
        """See :meth:`BasePoseBackend.predict`."""
        dets = yolo_predict(
            self.detector, images, device, classes=[0], **self.det_args)
        boxes = [
            r.boxes.xyxy.detach().float().cpu().numpy().reshape(-1, 4)
            if r.boxes is not None else np.zeros((0, 4), np.float32)
            for r in dets
        ]
        data_list, owners = [], []
        with self._scope.overwrite_default_scope(self.scope):
            for i, (image, image_boxes) in enumerate(zip(images, boxes)):
                for box in image_boxes:
                    info = dict(
                        img=image,
                        bbox=box[None].astype(np.float32),
                        bbox_score=np.ones(1, np.float32))
                    info.update(self.model.dataset_meta)
                    data_list.append(self.pipeline(info))
                    owners.append(i)
            samples = []
            if data_list:
                self._to(torch.device(device_string(device)))
                with torch.no_grad():
                    for s in range(0, len(data_list), self.batch_size):
                        chunk = data_list[s:s + self.batch_size]
                        samples.extend(
                            self.model.test_step(self._pseudo_collate(chunk)))
        kpts = [[] for _ in images]
        scores = [[] for _ in images]
        for owner, sample in zip(owners, samples):
            inst = sample.pred_instances
            kpts[owner].append(
                _as_numpy(inst.keypoints).reshape(-1, NUM_KEYPOINTS, 2)[0])
            scores[owner].append(
                _as_numpy(inst.keypoint_scores).reshape(-1, NUM_KEYPOINTS)[0])
        return [
            PoseResult(b.astype(np.float32), np.stack(k).astype(np.float32),
                       np.stack(s).astype(np.float32))
            if k else PoseResult.empty()
            for b, k, s in zip(boxes, kpts, scores)
        ]
