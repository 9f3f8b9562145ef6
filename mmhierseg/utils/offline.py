"""Environment defaults that keep tools and tests off the network."""
import os
import os.path as osp
import tempfile
from typing import Optional

__all__ = [
    'set_offline_env', 'default_config_dir', 'private_dir',
    'UnsafeConfigDirError'
]


class UnsafeConfigDirError(PermissionError):
    """``YOLO_CONFIG_DIR`` is owned by another user or writable by others."""


def default_config_dir() -> str:
    """The per-user folder for ultralytics' settings.

    Returns:
        str: ``$XDG_CACHE_HOME/mmhierseg/ultralytics`` (``~/.cache`` when
        ``XDG_CACHE_HOME`` is unset or not absolute).
    """
    base = os.environ.get('XDG_CACHE_HOME', '')
    if not osp.isabs(base):
        base = osp.join(osp.expanduser('~'), '.cache')
    return osp.join(base, 'mmhierseg', 'ultralytics')


def private_dir(path: str) -> str:
    """Create ``path`` (mode 0o700) if missing, and refuse it if another
    user owns it or others may write to it.

    ultralytics reads its settings from ``YOLO_CONFIG_DIR``, including
    ``weights_dir``, where bare weight names are looked up: whoever can
    write that folder chooses which file (a pickle, run when loaded) the
    models load.

    Args:
        path (str): The folder.

    Returns:
        str: Its absolute path.

    Raises:
        UnsafeConfigDirError: Owned by another user, or group/world
            writable.
    """
    path = osp.abspath(osp.expanduser(path))
    if not osp.isdir(path):
        os.makedirs(osp.dirname(path), mode=0o700, exist_ok=True)
        try:
            os.mkdir(path, 0o700)
            os.chmod(path, 0o700)  # whatever the umask
        except FileExistsError:  # made meanwhile: checked below
            pass
    if not hasattr(os, 'geteuid'):  # Windows: no POSIX owner and modes
        return path
    st = os.stat(path)
    problem = None
    if st.st_uid != os.geteuid():
        problem = f'owned by another user (uid {st.st_uid})'
    elif st.st_mode & 0o022:
        problem = (f'writable by others (mode {oct(st.st_mode & 0o777)}; '
                   f"`chmod go-w '{path}'` fixes it)")
    if problem:
        raise UnsafeConfigDirError(
            f"YOLO_CONFIG_DIR '{path}' is {problem}: refused, since "
            'ultralytics reads its settings there, and their weights_dir '
            'decides which file a bare weights name (e.g. yolov8n-pose.pt) '
            'loads; weights files are pickles that run code when loaded. '
            'Use a folder only you can write: set YOLO_CONFIG_DIR to one, '
            f'or unset it (mmhierseg then uses {default_config_dir()}).')
    return path


def set_offline_env(config_dir: Optional[str] = None) -> None:
    """Switch off the online checks and telemetry of ultralytics and MLflow.

    Only variables the user has not set are changed (``os.environ.setdefault``),
    so a user can still opt back in. Called by every script in ``tools/`` and
    by the test suite; importing :mod:`mmhierseg` itself opens no connection
    and sets no environment variable. The folder ``YOLO_CONFIG_DIR`` names
    (the user's or the default) must be private (:func:`private_dir`).

    Args:
        config_dir (str, optional): Folder for ultralytics' settings
            (``YOLO_CONFIG_DIR``) when the user set none. Defaults to
            :func:`default_config_dir` (per user, mode 0o700); when that
            cannot be created (read-only home), a per-user 0o700 folder in
            the system temp dir.

    Raises:
        UnsafeConfigDirError: See :func:`private_dir`.
    """
    os.environ.setdefault('YOLO_OFFLINE', '1')
    os.environ.setdefault('MLFLOW_DISABLE_TELEMETRY', 'true')
    os.environ.setdefault('DO_NOT_TRACK', '1')
    os.environ.setdefault('HF_HUB_OFFLINE', '1')
    if os.environ.get('YOLO_CONFIG_DIR'):
        config_dir = os.environ['YOLO_CONFIG_DIR']
    elif config_dir is None:
        config_dir = default_config_dir()
        try:
            config_dir = private_dir(config_dir)
        except UnsafeConfigDirError:
            raise
        except OSError:  # e.g. a read-only home: per user, in temp
            uid = os.geteuid() if hasattr(os, 'geteuid') else 'user'
            config_dir = osp.join(tempfile.gettempdir(),
                                  f'mmhierseg-ultralytics-{uid}')
    config_dir = private_dir(config_dir)
    os.environ['YOLO_CONFIG_DIR'] = config_dir
    _place_font(config_dir)


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
