"""Fixtures for the dataset tests (the shared synthetic set is
``tests/conftest.py``'s ``tiny_data``)."""
import pytest

import mmhierseg  # noqa: F401  (registers components; before mmseg.models)


@pytest.fixture(autouse=True)
def _mmseg_scope():
    """Build transforms and datasets by name in mmseg's registries."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    yield
