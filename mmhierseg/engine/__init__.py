"""Training-time components: the staged-unfreeze hook, the MLflow
visualizer backend and distributed set-up helpers for the tools."""
from . import hooks  # noqa: F401
from . import vis_backends  # noqa: F401
from .dist_utils import prepare_cpu_distributed, shutdown_distributed
from .hooks import StagedUnfreezeHook
from .vis_backends import (RUN_ID_FILE, HierMLflowVisBackend,
                           close_mlflow_backends)

__all__ = [
    'StagedUnfreezeHook', 'HierMLflowVisBackend', 'close_mlflow_backends',
    'prepare_cpu_distributed', 'shutdown_distributed', 'RUN_ID_FILE'
]
