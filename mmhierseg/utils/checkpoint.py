"""Let MMEngine checkpoints load under torch >= 2.6 (``weights_only=True``).

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
import numpy as np
import torch

__all__ = ['register_checkpoint_safe_globals', 'checkpoint_safe_globals']


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
