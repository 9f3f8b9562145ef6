"""mmhierseg: hierarchical human-part segmentation for MMSegmentation 1.x.

``import mmhierseg`` (or ``custom_imports=dict(imports=['mmhierseg'])`` in a
config) registers every component in mmseg's registries. Under mmcv-lite a
placeholder for mmcv's compiled ops is installed first, so ``mmseg.models``
imports; calling a compiled op then raises an error that says how to get
full mmcv.
"""
from .utils.mmcv_compat import install_mmcv_ext_placeholder

install_mmcv_ext_placeholder()

from .utils.checkpoint import register_checkpoint_safe_globals  # noqa: E402

register_checkpoint_safe_globals()

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
