"""Registered components; see the package docstring."""
from .hier_mlflow_vis_backend import (RUN_ID_FILE, HierMLflowVisBackend,
                                      close_mlflow_backends)

__all__ = ['HierMLflowVisBackend', 'close_mlflow_backends', 'RUN_ID_FILE']
