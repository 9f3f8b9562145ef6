"""Registered components; see the package docstring."""
