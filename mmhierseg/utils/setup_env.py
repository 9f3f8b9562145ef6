"""Set up what mmhierseg's tools need: :func:`register_all_modules`, as
mmseg's ``register_all_modules``.

``import mmhierseg`` only registers mmhierseg's components (under mmcv-lite
it first installs the ``mmcv._ext`` placeholder, without which
``mmseg.models`` does not import). Everything else a tool relies on is done
here, by an explicit call: every script in ``tools/`` and the test session
call it. Tools that cannot call it (mmseg's own ``tools/train.py``) get the
same from the config: ``custom_imports=dict(imports=['mmhierseg',
'mmhierseg.utils.register_all'])``.
"""
from .checkpoint import register_checkpoint_safe_globals
from .mmcv_compat import install_mmcv_ext_placeholder

__all__ = ['register_all_modules']


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register mmseg's and mmhierseg's modules and set up their use.

    - under mmcv-lite, the ``mmcv._ext`` placeholder (nothing with full
      mmcv; see :mod:`~mmhierseg.utils.mmcv_compat`);
    - MMEngine's checkpoint classes on torch's safe-global allow-list, so
      ``--resume`` and ``load_from`` work with torch >= 2.6's
      ``weights_only=True`` (see :mod:`~mmhierseg.utils.checkpoint`);
    - mmseg's modules (mmseg's ``register_all_modules``) and mmhierseg's in
      mmseg's registries.

    Calling it again changes nothing.

    Args:
        init_default_scope (bool): Make ``mmseg`` the default scope (as
            mmseg's function does), so that components are built by name
            outside a runner. Defaults to True.
    """
    install_mmcv_ext_placeholder()
    register_checkpoint_safe_globals()
    from mmseg.utils import register_all_modules as register_mmseg
    register_mmseg(init_default_scope=init_default_scope)
    import mmhierseg  # noqa: F401 - mmhierseg's modules register on import
