"""Registered components; see the package docstring."""
from .hier_mlflow_vis_backend import RUN_ID_FILE, HierMLflowVisBackend
from .mlflow_store import check_tracking_server
from .run_artifacts import moved_artifact_dir

__all__ = [
    'HierMLflowVisBackend', 'RUN_ID_FILE', 'check_tracking_server',
    'moved_artifact_dir'
]
