"""Registered components; see the package docstring."""
from .hier_iou_metric import HierarchicalIoUMetric, level_summary_table

__all__ = ['HierarchicalIoUMetric', 'level_summary_table']
