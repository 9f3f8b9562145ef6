"""Training-time components: hooks and the MLflow visualizer backend."""
from . import hooks  # noqa: F401
from . import vis_backends  # noqa: F401
from .dist_utils import prepare_cpu_distributed
from .hooks import StagedUnfreezeHook
from .vis_backends import HierMLflowVisBackend, close_mlflow_backends

__all__ = [
    'StagedUnfreezeHook', 'HierMLflowVisBackend', 'close_mlflow_backends',
    'prepare_cpu_distributed'
]
