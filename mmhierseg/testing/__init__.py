"""Test and demo helpers (synthetic data). Not imported by ``import
mmhierseg``: tools and tests import it explicitly."""
from .synthetic import format_summary, make_synthetic_dataset, render_sample

__all__ = ['make_synthetic_dataset', 'render_sample', 'format_summary']
