"""Registered components; see the package docstring."""
from .hier_loss import DEFAULT_LEVEL_WEIGHTS, HierarchicalLoss

__all__ = ['HierarchicalLoss', 'DEFAULT_LEVEL_WEIGHTS']
