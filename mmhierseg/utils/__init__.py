from .mmcv_compat import has_mmcv_ops, install_mmcv_ext_placeholder
from .offline import set_offline_env
from .preflight import preflight
from .setup_env import register_all_modules

__all__ = [
    'has_mmcv_ops', 'install_mmcv_ext_placeholder', 'set_offline_env',
    'preflight', 'register_all_modules'
]
