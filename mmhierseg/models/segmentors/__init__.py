"""Registered components; see the package docstring."""
from .hier_encoder_decoder import HierEncoderDecoder
from .hier_seg_tta import HierSegTTAModel

__all__ = ['HierEncoderDecoder', 'HierSegTTAModel']
