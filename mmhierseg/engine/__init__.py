"""Training-time components: the staged-unfreeze hook, the MLflow
visualizer backend and the set-up shared by the tools."""
from . import hooks  # noqa: F401
from . import vis_backends  # noqa: F401
from .dist_utils import prepare_cpu_distributed, shutdown_distributed
from .hooks import StagedUnfreezeHook
from .vis_backends import RUN_ID_FILE, HierMLflowVisBackend

__all__ = [
    'StagedUnfreezeHook', 'HierMLflowVisBackend', 'prepare_cpu_distributed',
    'shutdown_distributed', 'RUN_ID_FILE'
]
