"""Registered components; see the package docstring."""
from .staged_unfreeze_hook import StagedUnfreezeHook

__all__ = ['StagedUnfreezeHook']
