"""Registered components; see the package docstring."""
from .hier_decode_head import HierarchicalDecodeHead
from .level_scores import (consistent_leaf_scores, leaf_membership,
                           marginal_log_probs)

__all__ = [
    'HierarchicalDecodeHead', 'consistent_leaf_scores', 'leaf_membership',
    'marginal_log_probs'
]
