"""Evaluation: the per-level metric."""
from . import metrics  # noqa: F401
from .metrics import HierarchicalIoUMetric, level_summary_table

__all__ = ['HierarchicalIoUMetric', 'level_summary_table']
