"""ONNX export of a hierarchical segmentor: :class:`HierSegONNXWrapper`.

The exported graph holds the data preprocessor's normalization and padding,
the stem's fusion (not its pose/FastSAM models), the encoder, the
hierarchical head and the decoding, so an ONNX runtime needs nothing else:

- inputs: ``image`` float32 ``(N, 3, H, W)``, pixel values 0..255 in the
  channel order the network sees (RGB when the config's data preprocessor
  has ``bgr_to_rgb=True``); with a stem also ``priors`` float32
  ``(N, P, H, W)``: the stem's prior channels (``stem.channels`` order);
- outputs: one ``(N, H, W)`` int64 label map per level, named by the level
  names (coarse to fine), and ``scores`` float32 ``(N, C, H, W)``: the
  consistent leaf log-scores (``decode='consistent'``), or every level's
  logits concatenated (``'independent'``).

N, H and W are dynamic; images are padded inside the graph as the data
preprocessor pads them (``size_divisor``), and the outputs are cropped back.
"""
from typing import List, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..models.decode_heads.hier_decode_head import consistent_leaf_scores

__all__ = ['HierSegONNXWrapper', 'export_onnx']


class HierSegONNXWrapper(nn.Module):
    """Image (and priors) in, one label map per level out (see the module).

    Args:
        model (HierEncoderDecoder): The model, in eval mode.

    Raises:
        TypeError: If the model has a stem without ``before_encoder`` (the
            only part of a stem that can be exported).
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
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

    def forward(self, image: Tensor, priors: Optional[Tensor] = None):
        """Label maps per level and the scores (see the module docstring)."""
        m = self.model
        height, width = image.shape[-2], image.shape[-1]
        x = (image - self.mean) / self.std
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
        levels = [
            F.interpolate(lg, size=x.shape[-2:], mode='bilinear',
                          align_corners=m.decode_head.align_corners)
            [:, :, :height, :width]
            for lg in m.decode_head.forward(feats)
        ]
        if m.decode == 'consistent':
            scores = consistent_leaf_scores(levels, m.decode_head.leaf_paths)
            leaf = scores.argmax(dim=1)
            maps = [self.luts[k][leaf] for k in range(len(levels) - 1)]
            return tuple(maps + [leaf, scores])
        maps = [lg.argmax(dim=1) for lg in levels]
        return tuple(maps + [torch.cat(levels, dim=1)])


def export_onnx(model: nn.Module, out_file: str, opset: int = 17,
                height: int = 64, width: int = 64) -> HierSegONNXWrapper:
    """Export ``model`` to ``out_file`` (dynamic batch, height and width).

    Args:
        model (HierEncoderDecoder): The model (put in eval mode here).
        out_file (str): The ``.onnx`` file.
        opset (int): ONNX opset. Defaults to 17.
        height (int): Height of the example input used for tracing.
        width (int): Width of the example input used for tracing.

    Returns:
        HierSegONNXWrapper: The wrapper that was exported.
    """
    model.eval()
    wrapper = HierSegONNXWrapper(model).eval()
    args = [torch.rand(1, 3, height, width) * 255]
    names = ['image']
    if wrapper.with_priors:
        args.append(torch.rand(1, len(model.stem.channels), height, width))
        names.append('priors')
    dyn = {n: {0: 'batch', 2: 'height', 3: 'width'} for n in names}
    dyn.update({n: {0: 'batch', 1: 'height', 2: 'width'}
                for n in wrapper.level_names})
    dyn['scores'] = {0: 'batch', 2: 'height', 3: 'width'}
    with torch.no_grad():
        torch.onnx.export(
            wrapper, tuple(args), out_file, input_names=names,
            output_names=wrapper.output_names, dynamic_axes=dyn,
            opset_version=opset, dynamo=False, do_constant_folding=True)
    return wrapper
