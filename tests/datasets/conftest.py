"""Fixtures for the dataset tests: small datasets written to tmp dirs."""
import pytest

import mmhierseg  # noqa: F401  (registers components; before mmseg.models)


@pytest.fixture(autouse=True)
def _mmseg_scope():
    """Build transforms and datasets by name in mmseg's registries."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    yield


@pytest.fixture(scope='session')
def synthetic_root(tmp_path_factory):
    """A small synthetic Pascal-part dataset (10 train, 4 val), read-only."""
    from mmhierseg.testing.synthetic import make_synthetic_dataset
    root = tmp_path_factory.mktemp('synthetic') / 'Pascal-part'
    info = make_synthetic_dataset(str(root), num_train=10, num_val=4, seed=3)
    return root, info
