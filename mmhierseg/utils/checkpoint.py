"""Checkpoints: safe loading, whole files, resuming from the newest good one.

- :class:`AtomicLocalBackend` writes a checkpoint whole or not at all;
- :func:`find_checkpoint` picks the newest (or best) checkpoint of a work
  dir, one that loads if asked (also after the work dir was moved);
- :func:`register_checkpoint_safe_globals` lets MMEngine checkpoints load
  under torch >= 2.6 (``weights_only=True``), as follows.

torch 2.6 made ``torch.load(..., weights_only=True)`` the default, and its
restricted unpickler refuses the few non-tensor objects MMEngine stores in a
checkpoint (the message hub's ``HistoryBuffer`` and the numpy arrays and
scalars inside it), so ``--resume`` and ``load_from`` fail with
``Unsupported global: mmengine.logging.history_buffer.HistoryBuffer``.

Rather than switching the safe loader off (``weights_only=False`` would run
arbitrary code from any file), :func:`register_checkpoint_safe_globals`
adds exactly those plain-data classes to torch's allow-list. Checkpoints
keep loading with the restricted unpickler, so a checkpoint from anywhere can
be loaded without executing code from it.
"""
import logging
import os
import os.path as osp
import re
from typing import Optional

import numpy as np
import torch
from mmengine.fileio import LocalBackend, register_backend
from mmengine.logging import print_log

__all__ = [
    'register_checkpoint_safe_globals', 'checkpoint_safe_globals',
    'AtomicLocalBackend', 'find_checkpoint'
]


def checkpoint_safe_globals() -> list:
    """Plain-data classes that MMEngine checkpoints contain.

    Returns:
        list: Classes and functions to allow in ``weights_only`` loading.
    """
    from mmengine.logging.history_buffer import HistoryBuffer

    safe = [HistoryBuffer, np.ndarray, np.dtype]
    try:  # numpy >= 2
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import _reconstruct, scalar
    safe += [_reconstruct, scalar]
    # the dtype classes pickled with np.dtype objects (numpy >= 1.25)
    for name in ('float16', 'float32', 'float64', 'int8', 'int16', 'int32',
                 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'bool_'):
        safe.append(type(np.dtype(getattr(np, name))))
    return safe


def _history_buffer_getattr(obj, name, *default):
    """Stand-in for ``getattr`` while unpickling checkpoints.

    MMEngine's ``HistoryBuffer`` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'mean')``. Allowing the real ``getattr`` would
    let a crafted file reach any attribute of any allowed object; this one
    only resolves attributes of ``HistoryBuffer`` (and its subclasses) and
    refuses everything else.
    """
    from mmengine.logging.history_buffer import HistoryBuffer

    if isinstance(obj, type) and issubclass(obj, HistoryBuffer) and \
            isinstance(name, str) and not name.startswith('_'):
        return getattr(obj, name, *default)
    raise RuntimeError(
        f'checkpoint refused: it asks for attribute {name!r} of '
        f'{type(obj).__name__}; only HistoryBuffer statistics methods are '
        'allowed in mmhierseg/MMEngine checkpoints')


def register_checkpoint_safe_globals() -> bool:
    """Add MMEngine's checkpoint classes to torch's safe-global allow-list.

    Returns:
        bool: True if registered, False when this torch has no allow-list
        (torch < 2.4, which does not default to ``weights_only``).
    """
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is None:  # pragma: no cover - old torch
        return False
    add(checkpoint_safe_globals())
    add([(_history_buffer_getattr, 'builtins.getattr'),
         (_history_buffer_getattr, '__builtin__.getattr')])
    return True


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """Local files written whole or not at all (temp file + ``os.replace``).

    A crash or SIGTERM while ``CheckpointHook`` saves leaves the previous
    files untouched instead of a truncated checkpoint. Use it with
    ``default_hooks.checkpoint.backend_args=dict(backend='atomic_local')``
    (``tools/train.py`` sets this when the config names no backend).
    """

    def put(self, obj: bytes, filepath) -> None:
        """Write ``obj`` to ``filepath`` atomically.

        Args:
            obj (bytes): Data to write.
            filepath (str | Path): Target file.
        """
        filepath = str(filepath)
        os.makedirs(osp.dirname(osp.abspath(filepath)), exist_ok=True)
        tmp = f'{filepath}.tmp{os.getpid()}'
        try:
            with open(tmp, 'wb') as f:
                f.write(obj)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, filepath)
        finally:
            if osp.exists(tmp):
                os.remove(tmp)

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        """Write text to ``filepath`` atomically (see :meth:`put`)."""
        self.put(obj.encode(encoding), filepath)


def _iteration(name: str) -> int:
    match = re.fullmatch(r'(?:iter|epoch)_(\d+)\.pth', name)
    return int(match.group(1)) if match else -1


def _loads(path: str, fallback: Optional[str]) -> bool:
    try:
        torch.load(path, map_location='cpu', mmap=True, weights_only=True)
        return True
    except Exception as e:  # noqa: BLE001 - any reason it cannot load
        text = str(e)
        if 'Weights only load failed' in text or 'GLOBAL' in text:
            why = next((line.strip() for line in text.splitlines()
                        if 'GLOBAL' in line), text.split('. ')[0])
            msg = (f'checkpoint {path} was refused as unsafe and not loaded:'
                   ' it holds Python objects that would run code when '
                   f'unpickled ({why}). Do not load it with weights_only='
                   'False unless you made it yourself; delete it, or resume '
                   'from another checkpoint (--resume PATH). ')
        else:
            msg = (f'checkpoint {path} does not load ({text.split(". ")[0]});'
                   ' it is probably truncated by a crash while saving. ')
        print_log(msg + (f'Trying the next one, {fallback}.'
                         if fallback else ''),
                  logger='current', level=logging.WARNING)
        return False


def find_checkpoint(work_dir: str,
                    best: bool = False,
                    loadable: bool = False) -> Optional[str]:
    """The checkpoint of a training work dir: the newest, or the best.

    The candidates, in order: with ``best``, ``best_*.pth`` (newest first);
    the file that ``last_checkpoint`` names (mmengine's
    :func:`~mmengine.runner.find_latest_checkpoint`), looked up in
    ``work_dir`` by name, since the absolute path recorded there is stale
    after the work dir was moved; then ``iter_*.pth``/``epoch_*.pth``, the
    highest number first.

    Args:
        work_dir (str): The work dir.
        best (bool): Prefer the best checkpoint (for inference). Defaults to
            False (the newest, for ``--resume``).
        loadable (bool): Skip, with a warning naming it, a file that does
            not load (truncated by a crash while saving). Defaults to False.

    Returns:
        str | None: The checkpoint; None if ``work_dir`` holds none.

    Raises:
        RuntimeError: With ``loadable``, when none of them loads.
    """
    files = os.listdir(work_dir) if osp.isdir(work_dir) else []
    names = sorted((n for n in files if best and re.fullmatch(
        r'best_.*\.pth', n)), key=lambda n: -osp.getmtime(
            osp.join(work_dir, n)))
    if 'last_checkpoint' in files:
        from mmengine.runner import find_latest_checkpoint
        recorded = find_latest_checkpoint(work_dir) or ''
        if osp.basename(recorded) in files:
            names.append(osp.basename(recorded))
        elif recorded:
            print_log(f'{work_dir}/last_checkpoint names {recorded}, which '
                      f'is not in {work_dir}', logger='current',
                      level=logging.WARNING)
    names += sorted((n for n in files if _iteration(n) >= 0),
                    key=_iteration, reverse=True)
    paths = list(
        dict.fromkeys(osp.abspath(osp.join(work_dir, n)) for n in names))
    for i, path in enumerate(paths):
        if not loadable or _loads(path, (paths[i + 1:] or [None])[0]):
            return path
    if paths:
        raise RuntimeError(
            f'no checkpoint in {work_dir} loads (tried '
            f'{", ".join(map(osp.basename, paths))}); delete the broken '
            'files, or train without --resume')
