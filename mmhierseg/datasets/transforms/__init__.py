"""Registered components; see the package docstring."""
from .formatting import PackHierSegInputs
from .loading import LoadHierAnnotations, LoadHierImageFromFile
from .priors import LoadPoseAnnotations, PackPoseSegInputs  # noqa: F401

__all__ = [
    'LoadHierAnnotations', 'LoadHierImageFromFile', 'PackHierSegInputs'
]
