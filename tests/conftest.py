"""Test-session setup: offline environment and the network guard."""
import os
import sys
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from mmhierseg.utils.offline import set_offline_env  # noqa: E402

set_offline_env(os.path.join(tempfile.gettempdir(), 'mmhierseg_test_yolo'))
# never even try to download pose/FastSAM weights in tests (the guard below
# would refuse the connection anyway)
os.environ.setdefault('MMHIERSEG_OFFLINE', '1')

from tests import _netguard  # noqa: E402

_netguard.install()


@pytest.fixture(scope='session', autouse=True)
def _no_network_attempts():
    """Fail the session if any test tried the network (even if it was
    caught and swallowed by library code)."""
    yield
    assert not _netguard.ATTEMPTS, (
        f'network attempts during tests: {_netguard.ATTEMPTS}')
