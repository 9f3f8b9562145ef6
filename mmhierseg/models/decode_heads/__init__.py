"""Registered components; see the package docstring."""
from .hier_decode_head import (HierarchicalDecodeHead, LevelModuleDict,
                               consistent_leaf_scores)

__all__ = [
    'HierarchicalDecodeHead', 'LevelModuleDict', 'consistent_leaf_scores'
]
