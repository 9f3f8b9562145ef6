"""Registered components; see the package docstring."""
from .loading import LoadHierAnnotations, LoadHierImageFromFile

__all__ = ['LoadHierAnnotations', 'LoadHierImageFromFile']
