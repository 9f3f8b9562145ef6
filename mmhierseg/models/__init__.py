from . import backbones, decode_heads, losses, segmentors, stems  # noqa: F401
