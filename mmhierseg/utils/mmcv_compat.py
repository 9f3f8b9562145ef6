"""Make mmseg importable under ``mmcv-lite`` (mmcv without compiled ops).

``mmseg.utils`` imports ``mmcv.ops`` unconditionally, and ``mmcv.ops`` loads the
compiled extension ``mmcv._ext``. ``mmcv-lite`` does not ship that extension,
so ``import mmseg.models`` fails with ``No module named 'mmcv._ext'``.

:func:`install_mmcv_ext_placeholder` registers a placeholder module under
``mmcv._ext`` when (and only when) the real extension is missing. Every
attribute of the placeholder is a function that raises
:class:`NotImplementedError` naming the op and how to get full mmcv, so code
that never calls a compiled op (every mmhierseg model) runs, and code that
does gets a clear error instead of a wrong result.
"""
import importlib.machinery
import importlib.util
import sys
import types

__all__ = ['install_mmcv_ext_placeholder', 'has_mmcv_ops', 'MMCV_FULL_HINT']

MMCV_FULL_HINT = (
    'mmcv-lite (no compiled ops) is installed. Install full mmcv 2.1.0 to use '
    'compiled ops: `make install-mmcv-full` in the mmhierseg repository, or '
    '`pip uninstall -y mmcv-lite && pip install -U openmim && '
    'mim install "mmcv==2.1.0"` (README, "mmcv-lite or full mmcv").')


class _MissingOp:
    """Callable placeholder for one compiled mmcv op."""

    def __init__(self, name: str):
        self.__name__ = name
        self.__qualname__ = name

    def __call__(self, *args, **kwargs):
        raise NotImplementedError(
            f'mmcv compiled op `{self.__name__}` is not available: '
            f'{MMCV_FULL_HINT}')

    def __repr__(self):
        return f'<missing mmcv op {self.__name__}>'


class _PlaceholderExt(types.ModuleType):
    """Module whose every public attribute is a :class:`_MissingOp`."""

    __mmhierseg_placeholder__ = True

    def __getattr__(self, name: str):
        if name.startswith('__') and name.endswith('__'):
            raise AttributeError(name)
        op = _MissingOp(name)
        setattr(self, name, op)
        return op


def has_mmcv_ops() -> bool:
    """Whether the real compiled ``mmcv._ext`` is importable.

    Returns:
        bool: True for full mmcv, False for mmcv-lite (or a placeholder).
    """
    mod = sys.modules.get('mmcv._ext')
    if mod is not None:
        return not getattr(mod, '__mmhierseg_placeholder__', False)
    try:
        return importlib.util.find_spec('mmcv._ext') is not None
    except (ImportError, ValueError):
        return False


def install_mmcv_ext_placeholder() -> bool:
    """Register the ``mmcv._ext`` placeholder if the real one is missing.

    The placeholder has a :class:`~importlib.machinery.ModuleSpec` without a
    loader: mmengine's ``revert_sync_batchnorm`` probes
    ``importlib.util.find_spec('mmcv')``-style specs and breaks on a module
    without one.

    Returns:
        bool: True if the placeholder was installed, False if full mmcv (or
        an earlier placeholder) is present.
    """
    if 'mmcv._ext' in sys.modules:
        return False
    if has_mmcv_ops():
        return False
    mod = _PlaceholderExt('mmcv._ext', 'Placeholder for mmcv compiled ops '
                          '(mmcv-lite installed). ' + MMCV_FULL_HINT)
    mod.__spec__ = importlib.machinery.ModuleSpec('mmcv._ext', None)
    mod.__file__ = None
    sys.modules['mmcv._ext'] = mod
    try:
        import mmcv
        mmcv._ext = mod
    except ImportError:  # pragma: no cover - mmcv itself missing
        pass
    return True
