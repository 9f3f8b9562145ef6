"""Registered components; see the package docstring."""
from .hierarchy_check_hook import HierarchyCheckHook
from .staged_unfreeze_hook import StagedUnfreezeHook

__all__ = ['HierarchyCheckHook', 'StagedUnfreezeHook']
