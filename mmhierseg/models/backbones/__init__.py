"""Registered components; see the package docstring."""
from .smp_encoder import SMPEncoder

__all__ = ['SMPEncoder']
