"""Registered components; see the package docstring."""
from .hier_seg_visualization_hook import HierSegVisualizationHook
from .hierarchy_check_hook import HierarchyCheckHook
from .staged_unfreeze_hook import StagedUnfreezeHook
from .val_samples_vis_hook import ValSamplesVisHook

__all__ = [
    'HierSegVisualizationHook', 'HierarchyCheckHook', 'StagedUnfreezeHook',
    'ValSamplesVisHook'
]
