"""Environment defaults that keep tools and tests off the network."""
import os
import os.path as osp
import tempfile

__all__ = ['set_offline_env']


def set_offline_env(config_dir: str = None) -> None:
    """Switch off the online checks and telemetry of ultralytics and MLflow.

    Only variables the user has not set are changed (``os.environ.setdefault``),
    so a user can still opt back in. Called by every script in ``tools/`` and
    by the test suite; importing :mod:`mmhierseg` itself opens no connection
    and changes nothing.

    Args:
        config_dir (str, optional): Writable folder for ultralytics'
            settings (``YOLO_CONFIG_DIR``). Defaults to a folder in the
            system temp dir.
    """
    os.environ.setdefault('YOLO_OFFLINE', '1')
    os.environ.setdefault('MLFLOW_DISABLE_TELEMETRY', 'true')
    os.environ.setdefault('DO_NOT_TRACK', '1')
    os.environ.setdefault('HF_HUB_OFFLINE', '1')
    if config_dir is None:
        config_dir = osp.join(tempfile.gettempdir(), 'mmhierseg_yolo_cfg')
    os.environ.setdefault('YOLO_CONFIG_DIR', config_dir)
    os.makedirs(os.environ['YOLO_CONFIG_DIR'], exist_ok=True)
    _place_font(os.environ['YOLO_CONFIG_DIR'])


def _place_font(config_dir: str) -> None:
    """Put a TTF where ultralytics looks for Arial.ttf, so drawing stays offline."""
    target_dir = osp.join(config_dir, 'Ultralytics')
    target = osp.join(target_dir, 'Arial.ttf')
    if osp.exists(target):
        return
    try:
        import matplotlib
        src = osp.join(osp.dirname(matplotlib.__file__), 'mpl-data', 'fonts',
                       'ttf', 'DejaVuSans.ttf')
    except ImportError:
        return
    if osp.exists(src):
        import shutil
        os.makedirs(target_dir, exist_ok=True)
        for name in ('Arial.ttf', 'Arial.Unicode.ttf'):
            shutil.copyfile(src, osp.join(target_dir, name))
