"""Registered components; see the package docstring."""
from .hier_loss import HierarchicalLoss

__all__ = ['HierarchicalLoss']
