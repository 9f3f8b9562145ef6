"""PosePriorStem: pose / FastSAM prior maps fused into the input image."""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from mmseg.registry import MODELS

from .fastsam_segmenter import FastSAMSegmenter
from .pose_backend import PoseResult, build_pose_backend
from .prior_cache import PriorCache
from .prior_rendering import PART_CHANNELS, PRIOR_CHANNELS, \
    render_part_priors, visible_keypoints

__all__ = ['PosePriorStem', 'clip_boxes_xyxy']

IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


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


@MODELS.register_module()
class PosePriorStem(BaseModule):
    """Adds person / body-part prior maps to the image, then a 1x1 fusion.

    ``forward`` recovers the uint8 images from the normalized batch, runs
    the pose model once on the whole batch, draws the part maps from the
    keypoints (:func:`render_part_priors`), asks FastSAM for the people's
    mask (prompted with their xyxy boxes, clipped to the image), stacks
    ``[RGB, priors]`` and applies ``self.fuse`` (``1x1 conv``, ``3 +
    len(channels) -> out_channels``). ``fuse`` starts as the identity on RGB
    and zero on the priors, so at step 0 the output equals the input (for
    ``out_channels == 3``) and a pretrained encoder sees what it expects.

    The pose model and FastSAM are frozen helpers, not submodules: they are
    loaded once per process (shared between stems), follow the input's
    device, run under ``torch.no_grad()`` and appear in neither
    ``parameters()``, ``state_dict()`` nor the optimizer; only ``fuse``
    trains.

    An image where nobody is found, or where FastSAM raises or returns no
    mask, gets all-zero priors; the batch goes on, and the counts are kept
    in ``num_empty_images`` / ``num_sam_failures`` and logged.

    Priors are cached by image content (see :class:`PriorCache`), so
    validation, test and inference pay once per image. In training mode the
    cache is read but, unless ``cache['train']`` is True, not written
    (augmented images rarely repeat and would evict the useful entries).

    Args:
        pose (dict): Pose backend config: ``backend`` (``'ultralytics'``,
            default, or ``'mmpose'``), ``kpt_thr`` (minimum keypoint
            confidence, default 0.5) and the backend's arguments, e.g.
            ``weights``, ``conf``, ``imgsz`` for ultralytics (see
            :class:`UltralyticsPoseBackend`) or ``config``, ``checkpoint``,
            ``det`` for mmpose (see :class:`MMPoseBackend`).
        sam (dict, optional): FastSAM config (``weights``, ``imgsz``,
            ``conf``, ``iou``, ``prompt``; see :class:`FastSAMSegmenter`).
            Needed only for the ``'mask'`` channel (not loaded without it).
        channels (Sequence[str]): Prior channels, in order, from
            ``('mask', 'head', 'torso', 'upper_arm', 'lower_arm',
            'upper_leg', 'lower_leg')``; e.g. ``('mask', )`` for the mask
            only, or the part names for keypoints only.
        mean (Sequence[float]): The data preprocessor's mean.
        std (Sequence[float]): The data preprocessor's std.
        rgb_inputs (bool): Whether the inputs are RGB (the preprocessor's
            ``bgr_to_rgb=True``). Defaults to True.
        out_channels (int): Output channels of ``fuse``. Defaults to 3.
        cache (dict, optional): ``max_items`` (images in memory, default
            2048; 0 = none), ``dir`` (disk tier, e.g. under the work dir;
            default None) and ``train`` (write in training mode, default
            False). None disables caching.
        part_widths (dict, optional): Overrides of the part widths, see
            :data:`DEFAULT_PART_WIDTHS`.
        log_interval (int): Log the empty / failure counts at most once per
            this many computed images (the first occurrence is always
            logged). Defaults to 500.
        init_cfg (dict, optional): mmengine init config of the stem. With
            None, ``init_weights`` keeps ``fuse`` at its identity start even
            if the segmentor's init config covers ``Conv2d`` layers.
    """

    def __init__(self,
                 pose: Optional[dict] = dict(
                     backend='ultralytics',
                     weights='yolov8n-pose.pt',
                     conf=0.25,
                     kpt_thr=0.5,
                     imgsz=640),
                 sam: Optional[dict] = dict(
                     weights='FastSAM-s.pt', imgsz=640, conf=0.4, iou=0.9),
                 channels: Sequence[str] = PRIOR_CHANNELS,
                 mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD,
                 rgb_inputs: bool = True,
                 out_channels: int = 3,
                 cache: Optional[dict] = dict(max_items=2048, dir=None),
                 part_widths: Optional[Dict[str, float]] = None,
                 log_interval: int = 500,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        channels = tuple(channels)
        if not channels:
            raise ValueError('channels must name at least one prior')
        unknown = [c for c in channels if c not in PRIOR_CHANNELS]
        if unknown or len(set(channels)) != len(channels):
            raise ValueError(f'channels must be distinct names from '
                             f'{PRIOR_CHANNELS}, got {channels}')
        if len(mean) != 3 or len(std) != 3:
            raise ValueError('mean and std need 3 values (RGB)')
        self.channels = channels
        self.part_channels = tuple(c for c in channels if c in PART_CHANNELS)
        self.in_channels = 3
        self.out_channels = int(out_channels)
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)
        self.rgb_inputs = bool(rgb_inputs)
        self.part_widths = dict(part_widths or {})
        self.log_interval = int(log_interval)

        pose_cfg = dict(pose or {})
        pose_cfg.setdefault('backend', 'ultralytics')
        if pose_cfg['backend'] == 'ultralytics':
            pose_cfg.setdefault('weights', 'yolov8n-pose.pt')
        self.kpt_thr = float(pose_cfg.pop('kpt_thr', 0.5))
        self.pose_cfg = pose_cfg
        self.sam_cfg = dict(sam) if sam is not None else None
        if 'mask' in channels and self.sam_cfg is None:
            raise ValueError("channel 'mask' needs sam=dict(weights=...); "
                             "drop 'mask' from channels to go without it")
        # Frozen helpers: plain attributes of non-Module objects, so torch
        # never registers them (not in parameters()/state_dict()).
        self.pose_backend = build_pose_backend(pose_cfg)
        self.segmenter = None
        if 'mask' in channels:
            self.segmenter = FastSAMSegmenter(**self.sam_cfg)

        self.fuse = nn.Conv2d(3 + len(channels), self.out_channels, 1)
        self._init_fuse()

        self.cache_cfg = dict(max_items=2048, dir=None, train=False)
        self.cache_cfg.update(cache or {})
        self.cache = None
        if cache is not None:
            self.cache = PriorCache(
                max_items=self.cache_cfg['max_items'],
                dir=self.cache_cfg['dir'],
                namespace=self._fingerprint())

        self.num_images = 0
        self.num_empty_images = 0
        self.num_sam_failures = 0
        self.num_cache_hits = 0
        self._logged_at = None

    # ------------------------------------------------------------------ init
    def _init_fuse(self) -> None:
        """Identity on RGB, zero on the priors and the bias."""
        with torch.no_grad():
            self.fuse.weight.zero_()
            self.fuse.bias.zero_()
            for c in range(min(3, self.out_channels)):
                self.fuse.weight[c, c, 0, 0] = 1.0

    def init_weights(self) -> None:
        """Initialize; ``fuse`` stays the identity unless ``init_cfg`` is
        set on the stem itself."""
        super().init_weights()
        if self.init_cfg is None:
            self._init_fuse()

    def _fingerprint(self) -> str:
        """Everything the priors depend on, for the cache namespace."""

        def file_id(weights):
            path = osp.expanduser(str(weights))
            if osp.isfile(path):
                st = osp.getmtime(path), osp.getsize(path)
                return [osp.abspath(path), *st]
            if path.lower().endswith(('.yaml', '.yml')):
                # random weights: valid for this process only
                model = getattr(self.pose_backend, 'model', self.pose_backend)
                return [str(weights), os.getpid(), id(model)]
            return str(weights)

        pose = dict(self.pose_cfg)
        for key in ('weights', 'checkpoint', 'config'):
            if key in pose:
                pose[key] = file_id(pose[key])
        sam = dict(self.sam_cfg or {})
        if 'weights' in sam and 'mask' in self.channels:
            sam['weights'] = file_id(sam['weights'])
        return json.dumps(
            dict(
                v=1,
                channels=self.channels,
                kpt_thr=self.kpt_thr,
                widths=self.part_widths,
                pose=pose,
                sam=sam if 'mask' in self.channels else None),
            sort_keys=True,
            default=str)

    # --------------------------------------------------------------- forward
    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Fuse the image with its prior maps.

        Args:
            inputs (Tensor): ``(N, 3, H, W)``, normalized like the data
                preprocessor does (``(x - mean) / std``).

        Returns:
            Tensor: ``(N, out_channels, H, W)``.
        """
        priors = self.compute_priors(inputs)
        x = torch.cat([inputs, priors.to(inputs.dtype)], dim=1)
        return self.fuse(x)

    def recover_images(self, inputs: torch.Tensor) -> np.ndarray:
        """Undo the normalization: ``(N, H, W, 3)`` uint8 RGB images.

        Args:
            inputs (Tensor): ``(N, 3, H, W)`` normalized.

        Returns:
            np.ndarray: uint8, values rounded and clamped to ``[0, 255]``.
        """
        with torch.no_grad():
            x = inputs.detach().float()
            mean = x.new_tensor(self.mean).view(1, 3, 1, 1)
            std = x.new_tensor(self.std).view(1, 3, 1, 1)
            x = (x * std + mean).round_().clamp_(0, 255).to(torch.uint8)
            if not self.rgb_inputs:
                x = x.flip(1)
            return x.permute(0, 2, 3, 1).contiguous().cpu().numpy()

    def compute_priors(self, inputs: torch.Tensor) -> torch.Tensor:
        """The prior maps of a batch (cached by content).

        Args:
            inputs (Tensor): ``(N, 3, H, W)`` normalized.

        Returns:
            Tensor: ``(N, len(channels), H, W)`` float32 on the inputs'
            device, values 0 or 1.
        """
        if inputs.dim() != 4 or inputs.shape[1] != 3:
            raise ValueError('PosePriorStem expects (N, 3, H, W) inputs, '
                             f'got {tuple(inputs.shape)}')
        images = self.recover_images(inputs)
        n = images.shape[0]
        maps: List[Optional[np.ndarray]] = [None] * n
        keys: List[Optional[str]] = [None] * n
        if self.cache is not None:
            for i in range(n):
                keys[i] = self.cache.key(images[i])
                maps[i] = self.cache.get(keys[i])
        todo = [i for i in range(n) if maps[i] is None]
        self.num_cache_hits += n - len(todo)
        if todo:
            computed, cacheable = self._compute([images[i] for i in todo],
                                                inputs.device)
            store = self.cache is not None and (not self.training
                                                or self.cache_cfg['train'])
            for j, i in enumerate(todo):
                maps[i] = computed[j]
                if store and cacheable[j]:
                    self.cache.put(keys[i], computed[j])
        priors = torch.from_numpy(np.stack(maps).astype(np.float32))
        return priors.to(inputs.device)

    # -------------------------------------------------------------- helpers
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

    def _compute(self, images: List[np.ndarray],
                 device: torch.device) -> Tuple[List[np.ndarray], List[bool]]:
        """Priors of uncached images.

        Args:
            images (list[np.ndarray]): ``(H, W, 3)`` uint8 RGB.
            device (torch.device): Where the helper models run.

        Returns:
            tuple[list, list]: ``(C, H, W)`` uint8 maps per image, and
            whether each may be cached (not after a FastSAM exception).
        """
        n = len(images)
        height, width = images[0].shape[:2]
        num_c = len(self.channels)
        out = [np.zeros((num_c, height, width), np.uint8) for _ in range(n)]
        cacheable = [True] * n
        # numpy arrays are BGR to ultralytics and mmpose
        bgr = [np.ascontiguousarray(im[..., ::-1]) for im in images]
        # the helpers run in float32 even inside an AMP training step
        with torch.autocast(device_type=device.type, enabled=False):
            results = self.pose_backend.predict(bgr, device)
        if len(results) != n:
            raise RuntimeError(f'pose backend returned {len(results)} '
                               f'results for {n} images')
        people = [self._people(r, height, width) for r in results]
        found = [i for i in range(n) if len(people[i].boxes)]
        empty = n - len(found)

        masks: Dict[int, np.ndarray] = {}
        failures = 0
        if self.segmenter is not None and found:
            with torch.autocast(device_type=device.type, enabled=False):
                seg_masks, errors = self.segmenter.segment(
                    [bgr[i] for i in found], [people[i].boxes for i in found],
                    [
                        self._prompt_points(people[i], height, width)
                        for i in found
                    ], device)
            ok = []
            for i, mask, error in zip(found, seg_masks, errors):
                if mask is None:
                    failures += 1
                    cacheable[i] = not error
                else:
                    masks[i] = mask
                    ok.append(i)
            found = ok

        for i in found:
            parts = None
            if self.part_channels:
                parts = render_part_priors(
                    people[i].keypoints,
                    people[i].scores,
                    people[i].boxes,
                    height,
                    width,
                    channels=self.part_channels,
                    kpt_thr=self.kpt_thr,
                    part_widths=self.part_widths)
            for c, name in enumerate(self.channels):
                if name == 'mask':
                    out[i][c] = masks[i]
                else:
                    out[i][c] = parts[self.part_channels.index(name)]
        self._count(n, empty, failures)
        return out, cacheable

    def _count(self, num: int, empty: int, failures: int) -> None:
        """Update the counters and log them (rate-limited)."""
        self.num_images += num
        self.num_empty_images += empty
        self.num_sam_failures += failures
        if not (empty or failures):
            return
        if self._logged_at is not None and \
                self.num_images - self._logged_at < self.log_interval:
            return
        self._logged_at = self.num_images
        logger = MMLogger.get_current_instance()
        total = max(self.num_images, 1)
        logger.warning(
            f'PosePriorStem: zero priors for {self.num_empty_images} of '
            f'{self.num_images} images with nobody detected '
            f'({100 * self.num_empty_images / total:.1f}%) and '
            f'{self.num_sam_failures} with no FastSAM mask '
            f'({100 * self.num_sam_failures / total:.1f}%) so far '
            f'(this batch: {empty} and {failures} of {num}).')

    def extra_repr(self) -> str:
        return (f'channels={self.channels}, pose={self.pose_cfg}, '
                f'sam={self.sam_cfg}, kpt_thr={self.kpt_thr}')
