"""mmhierseg: hierarchical human-part segmentation for MMSegmentation 1.x.

``import mmhierseg`` (or ``custom_imports=dict(imports=['mmhierseg'])`` in a
config) registers every component in mmseg's registries, and does nothing
else with one exception: under mmcv-lite, whose missing compiled ops
``mmseg.models`` cannot import without, it first installs a placeholder for
``mmcv._ext`` (with full mmcv nothing is installed); calling a compiled op
then raises an error that says how to get full mmcv.

What the tools need besides (torch's allow-list for MMEngine checkpoints,
mmseg's modules, the default scope) is set up by an explicit call,
:func:`mmhierseg.utils.register_all_modules`.
"""
from .utils.mmcv_compat import has_mmcv_ops, install_mmcv_ext_placeholder

if not has_mmcv_ops():  # mmcv-lite: needed to register (mmseg.models)
    install_mmcv_ext_placeholder()

from .version import __version__  # noqa: E402,F401
from .hierarchy import (PASCAL_PART_HIERARCHY,  # noqa: E402,F401
                        PASCAL_PERSON_PART_HIERARCHY, ClassHierarchy)
from . import priors  # noqa: E402,F401
from . import datasets  # noqa: E402,F401
from . import models  # noqa: E402,F401
from . import engine  # noqa: E402,F401
from . import evaluation  # noqa: E402,F401
from . import visualization  # noqa: E402,F401

__all__ = [
    '__version__', 'ClassHierarchy', 'PASCAL_PART_HIERARCHY',
    'PASCAL_PERSON_PART_HIERARCHY'
]
