"""ONNX export of a hierarchical segmentor: :class:`HierSegONNXWrapper`.

The exported graph runs what :class:`~mmhierseg.apis.HierSegInferencer`
runs between reading a photo and returning its label maps, so an ONNX
runtime needs nothing else:

1. the test pipeline's ``Resize`` (mmseg's, ``keep_ratio`` or not, to the
   config's ``scale`` or by its ``scale_factor``), computed from the input's
   size inside the graph with mmcv's arithmetic: the image as OpenCV's
   bilinear resize of a uint8 photo gives it, bit for bit
   (:func:`cv2_resize_linear`), and the priors as the pipeline resizes
   prior maps, nearest (:func:`cv2_resize_nearest`);
2. the data preprocessor's normalization and padding (``size_divisor``);
3. the stem's fusion (not its pose/FastSAM models), the encoder, the
   hierarchical head;
4. mmseg's post-processing: the scores cropped to the resized image and
   resized (bilinear) back to the input's size, then the decoding.

- inputs: ``image`` float32 ``(N, 3, H, W)``, the photo as it is read, at
  any size: whole pixel values 0..255 (rounded in the graph, as a uint8
  photo has them) in the channel order the network sees (RGB
  when the config's data preprocessor has ``bgr_to_rgb=True``); with a stem
  also ``priors`` float32 ``(N, P, H, W)``, the stem's prior channels
  (``stem.channels`` order) at the same size as the image (as
  ``LoadPoseAnnotations`` draws them, values 0 or 1);
- outputs: one ``(N, H, W)`` int64 label map per level at the input's size,
  named by the level names (coarse to fine), and ``scores`` float32
  ``(N, C, H, W)``: the consistent leaf log-scores (``decode='consistent'``),
  or every level's logits concatenated (``'independent'``).

N, H and W are dynamic. A test pipeline with transforms the graph cannot
run (anything but image/annotation loading, one ``Resize`` and the packing)
is refused with a message naming them.
"""
import re
import warnings
from typing import List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..models.decode_heads.hier_decode_head import consistent_leaf_scores
from .onnx_resize import cv2_resize_linear, cv2_resize_nearest

__all__ = [
    'HierSegONNXWrapper', 'export_onnx', 'pipeline_resize', 'OPSET_RANGE',
    'cv2_resize_linear', 'cv2_resize_nearest'
]

#: ONNX opsets the exported graph is built and checked with (inclusive):
#: its padding and resize to sizes computed in the graph need opset 11, and
#: torch's TorchScript exporter writes at most 23 (checked with torch 2.14
#: and onnxruntime 1.32).
OPSET_RANGE = (11, 23)

#: what the inferencer drops (loading) and what only packs
_SKIPPED = re.compile(r'^Load.*(Image|Annotation)|^Pack\w*Inputs$')


def _name(transform: dict) -> str:
    kind = transform.get('type', '?')
    return getattr(kind, '__name__', str(kind)).split('.')[-1]


def pipeline_resize(pipeline: Optional[Sequence[dict]]) -> Optional[dict]:
    """The resize of a test pipeline, as the ONNX graph runs it.

    The transforms that load images and annotations (dropped by the
    inferencer, as here) and pack the inputs are skipped; the rest must be
    at most one mmseg ``Resize`` with the OpenCV backend and bilinear
    interpolation (the defaults).

    Args:
        pipeline (Sequence[dict] | None): The config's test pipeline.

    Returns:
        dict | None: ``scale`` ((w, h) or None), ``scale_factor`` ((fx, fy)
        or None) and ``keep_ratio`` of the ``Resize``; None without one.

    Raises:
        NotImplementedError: For any other transform, or a second resize.
    """
    from mmseg.registry import TRANSFORMS
    found = None
    for cfg in pipeline or []:
        name = _name(cfg)
        if _SKIPPED.search(name):
            continue
        if name != 'Resize' or found is not None:
            raise NotImplementedError(
                f'export_onnx: the test pipeline has {name}'
                f'{" (a second resize)" if name == "Resize" else ""}, which '
                'the ONNX graph does not run; it runs one Resize between '
                'loading and packing')
        t = TRANSFORMS.build(dict(cfg))
        if t.backend != 'cv2' or t.interpolation != 'bilinear':
            raise NotImplementedError(
                f'export_onnx: Resize with backend={t.backend!r}, '
                f'interpolation={t.interpolation!r}: the ONNX graph resizes '
                "as backend='cv2', interpolation='bilinear' (the defaults)")
        found = dict(
            scale=None if t.scale is None else tuple(map(int, t.scale)),
            scale_factor=None if t.scale_factor is None else tuple(
                map(float, t.scale_factor)),
            keep_ratio=bool(t.keep_ratio))
    return found


def _config_pipeline(model: nn.Module) -> Optional[list]:
    """The test pipeline of the config the model was built from, if any."""
    cfg = getattr(model, 'cfg', None)
    if cfg is None:
        return None
    pipeline = cfg.get('test_pipeline')
    if not pipeline and cfg.get('test_dataloader'):
        pipeline = cfg.test_dataloader.dataset.get('pipeline')
    return pipeline


class HierSegONNXWrapper(nn.Module):
    """Image (and priors) in, one label map per level out (see the module).

    Args:
        model (HierEncoderDecoder): The model, in eval mode.
        pipeline (Sequence[dict], optional): The test pipeline whose resize
            the graph runs (see :func:`pipeline_resize`); ``[]``: none (the
            network runs at the input's size). Defaults to the pipeline of
            ``model.cfg`` (set by the inferencer), else none.

    Raises:
        TypeError: If the model has a stem without ``before_encoder`` (the
            only part of a stem that can be exported).
        NotImplementedError: For a pipeline or padding the graph cannot
            reproduce.
    """

    def __init__(self, model: nn.Module,
                 pipeline: Optional[Sequence[dict]] = None):
        super().__init__()
        self.model = model
        if pipeline is None:
            pipeline = _config_pipeline(model)
        self.resize = pipeline_resize(pipeline)
        pre = model.data_preprocessor
        test_cfg = getattr(pre, 'test_cfg', None) or {}
        if test_cfg.get('size') is not None:
            raise NotImplementedError(
                'export_onnx: data_preprocessor.test_cfg.size (padding to a '
                'fixed size) is not supported; use size_divisor')
        self.size_divisor = int(test_cfg.get('size_divisor') or 1)
        self.pad_val = float(getattr(pre, 'pad_val', 0))
        mean, std = getattr(pre, 'mean', None), getattr(pre, 'std', None)
        self.register_buffer('mean', torch.zeros(3, 1, 1) if mean is None
                             else mean.detach().clone().float())
        self.register_buffer('std', torch.ones(3, 1, 1) if std is None
                             else std.detach().clone().float())
        h = model.hierarchy
        self.level_names = list(h.level_names)
        self.register_buffer('luts', torch.from_numpy(
            np.stack([h.lut(k) for k in range(h.num_levels)])))
        stem = getattr(model, 'stem', None)
        if stem is not None and not hasattr(stem, 'before_encoder'):
            raise TypeError(
                f'{type(stem).__name__}: only stems that fuse prior channels '
                'through before_encoder/after_encoder (PosePriorStem) can be '
                'exported; the priors become the second ONNX input')
        self.with_priors = stem is not None

    @property
    def output_names(self) -> List[str]:
        """list[str]: ONNX output names (levels, then ``scores``)."""
        return self.level_names + ['scores']

    def resized_size(self, image: Tensor) -> Tensor:
        """The test pipeline's ``(h, w)`` for ``image`` (int64 tensor).

        mmcv's arithmetic, in float64: ``int(x + 0.5)`` of the size times
        ``scale_factor``, and with ``keep_ratio`` the factor
        ``min(long / max(h, w), short / min(h, w))`` of ``scale``'s edges.

        Args:
            image (Tensor): ``(N, C, H, W)``.

        Returns:
            Tensor: ``(2,)`` int64, the resized height and width.
        """
        size = torch._shape_as_tensor(image)[2:]
        if self.resize is None:
            return size
        sizef = size.to(torch.float64)
        r = self.resize
        if r['scale'] is None:  # (fx, fy) -> (h, w) order
            fy_fx = torch.tensor(r['scale_factor'][::-1], dtype=torch.float64)
            target = torch.floor(sizef * fy_fx + 0.5)
        else:
            target = torch.tensor(r['scale'][::-1], dtype=torch.float64)
        if not r['keep_ratio']:
            return target.to(torch.int64)
        # 1-D, not 0-D: the ONNX exporter divides 0-D tensors in float32
        factor = torch.minimum(
            target.amax(0, keepdim=True) / sizef.amax(0, keepdim=True),
            target.amin(0, keepdim=True) / sizef.amin(0, keepdim=True))
        return torch.floor(sizef * factor + 0.5).to(torch.int64)

    @staticmethod
    def _interpolate(x: Tensor, size: Tensor, **kwargs) -> Tensor:
        """``F.interpolate`` to a size held in a tensor (traced or not)."""
        if torch.jit.is_tracing():
            return F.interpolate(x, size=(size[0], size[1]), **kwargs)
        return F.interpolate(x, size=tuple(size.tolist()), **kwargs)

    def forward(self, image: Tensor, priors: Optional[Tensor] = None):
        """Label maps per level and the scores (see the module docstring)."""
        m = self.model
        in_size = torch._shape_as_tensor(image)[2:]
        x = image
        if self.resize is not None:
            size = self.resized_size(image)
            # the uint8 photo, resized as OpenCV resizes it (whole values)
            x = cv2_resize_linear(torch.floor(x + 0.5).clamp(0, 255), size)
            if self.with_priors:  # as mmseg's Resize resizes prior maps
                priors = cv2_resize_nearest(priors, size)
        else:
            size = in_size
        height, width = x.shape[-2], x.shape[-1]
        x = (x - self.mean) / self.std
        d = self.size_divisor
        pad_h, pad_w = (d - height % d) % d, (d - width % d) % d
        x = F.pad(x, [0, pad_w, 0, pad_h], value=self.pad_val)
        if self.with_priors:
            priors = F.pad(priors, [0, pad_w, 0, pad_h], value=0.0)
            x = m.stem.before_encoder(x, priors.to(x.dtype))
        feats = m.backbone(x)
        if m.with_neck:
            feats = m.neck(feats)
        if self.with_priors:
            feats = m.stem.after_encoder(feats, priors.to(x.dtype))
        align = m.decode_head.align_corners
        levels = [
            F.interpolate(lg, size=x.shape[-2:], mode='bilinear',
                          align_corners=align)[:, :, :height, :width]
            for lg in m.decode_head.forward(feats)
        ]
        if m.decode == 'consistent':
            scores = consistent_leaf_scores(levels, m.decode_head.leaf_paths)
        else:
            scores = torch.cat(levels, dim=1)
        if self.resize is not None:  # mmseg: back to the input's size
            scores = self._interpolate(scores, in_size, mode='bilinear',
                                       align_corners=align)
        if m.decode == 'consistent':
            leaf = scores.argmax(dim=1)
            maps = [self.luts[k][leaf] for k in range(len(levels) - 1)]
            return tuple(maps + [leaf, scores])
        maps = [s.argmax(dim=1) for s in scores.split(
            [lg.shape[1] for lg in levels], dim=1)]
        return tuple(maps + [scores])


def export_onnx(model: nn.Module, out_file: str, opset: int = 17,
                height: int = 64, width: int = 64,
                pipeline: Optional[Sequence[dict]] = None
                ) -> HierSegONNXWrapper:
    """Export ``model`` to ``out_file`` (dynamic batch, height and width).

    Args:
        model (HierEncoderDecoder): The model (put in eval mode here).
        out_file (str): The ``.onnx`` file.
        opset (int): ONNX opset, within :data:`OPSET_RANGE`. Defaults to 17.
        height (int): Height of the example input used for tracing.
        width (int): Width of the example input used for tracing.
        pipeline (Sequence[dict], optional): The test pipeline whose resize
            the graph runs (see :class:`HierSegONNXWrapper`).

    Returns:
        HierSegONNXWrapper: The wrapper that was exported.

    Raises:
        ValueError: For an opset outside :data:`OPSET_RANGE`.
    """
    low, high = OPSET_RANGE
    if isinstance(opset, bool) or not isinstance(opset, int) or \
            not low <= opset <= high:
        raise ValueError(f'ONNX opset {opset!r} is not supported: use one '
                         f'from {low} to {high}')
    model.eval()
    wrapper = HierSegONNXWrapper(model, pipeline).eval()
    args = [torch.rand(1, 3, height, width) * 255]
    names = ['image']
    if wrapper.with_priors:
        args.append(torch.rand(1, len(model.stem.channels), height, width))
        names.append('priors')
    dyn = {n: {0: 'batch', 2: 'height', 3: 'width'} for n in names}
    dyn.update({n: {0: 'batch', 1: 'height', 2: 'width'}
                for n in wrapper.level_names})
    dyn['scores'] = {0: 'batch', 2: 'height', 3: 'width'}
    with torch.no_grad(), warnings.catch_warnings():
        # shapes and constants the wrapper means (its sizes are traced)
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        torch.onnx.export(
            wrapper, tuple(args), out_file, input_names=names,
            output_names=wrapper.output_names, dynamic_axes=dyn,
            opset_version=opset, dynamo=False, do_constant_folding=True)
    return wrapper
