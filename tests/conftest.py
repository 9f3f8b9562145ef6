"""Test-session setup: offline environment, what the tools set up
(:func:`~mmhierseg.utils.register_all_modules`) and the network guard."""
import gc
import os
import sys
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from mmhierseg.utils import register_all_modules  # noqa: E402
from mmhierseg.utils.offline import set_offline_env  # noqa: E402

# ultralytics' settings in a private (0o700) folder of this session, removed
# at exit: a fixed shared path would let another user pick the weights
_YOLO_CONFIG = tempfile.TemporaryDirectory(prefix='mmhierseg_test_yolo_')
set_offline_env(_YOLO_CONFIG.name)
# what every tool sets up (torch's allow-list for MMEngine checkpoints...);
# the scope stays unset, as in a fresh process
register_all_modules(init_default_scope=False)
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


@pytest.fixture(autouse=True)
def _live_log_streams():
    """A logger keeps the stream it was given when made: made while a test
    captured the output, it writes to a closed stream in later tests, and
    ``logging`` then prints "--- Logging error ---" with a traceback into
    their stderr. Point such handlers at the test's own streams."""
    import logging

    from mmengine.logging import MMLogger
    loggers = [logging.getLogger()]
    if MMLogger.check_instance_created('mmengine'):
        loggers.append(MMLogger.get_instance('mmengine'))
    loggers.append(MMLogger.get_current_instance())
    for logger in loggers:
        for handler in logger.handlers:
            stream = getattr(handler, 'stream', None)
            if isinstance(handler, logging.StreamHandler) and not isinstance(
                    handler, logging.FileHandler) and getattr(
                        stream, 'closed', False):
                to_err = getattr(stream, 'name', '') == '<stderr>'
                handler.setStream(sys.stderr if to_err else sys.stdout)
    yield


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'slow: trains a model or spawns processes (the fast set: '
        'pytest -m "not slow")')


def pytest_collection_finish(session):
    """Move what the imports made (torch, mmseg, ultralytics...: millions
    of objects that live as long as the session) out of the collector's
    reach: mmengine calls ``gc.collect()`` whenever it builds a dataset
    (``BaseDataset._serialize_data``), which otherwise walks all of them,
    about a second each time. Objects the tests make are collected as
    before."""
    gc.collect()
    gc.freeze()


def _run_tool(name, *args, timeout=600, env=None):
    """Run ``tools/<name>.py`` in a fresh interpreter from the repo root."""
    import subprocess
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, 'tools', f'{name}.py'),
         *map(str, args)], cwd=ROOT, capture_output=True, text=True,
        timeout=timeout, env=None if env is None else {**os.environ, **env})


def _load_tool(name):
    """Import ``tools/<name>.py`` as a module (to call its ``main``)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        f'tools_{name}', os.path.join(ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='session')
def run_tool():
    """``run_tool(name, *args)``: a tool's CompletedProcess (text)."""
    return _run_tool


@pytest.fixture(scope='session')
def load_tool():
    """``load_tool(name)``: ``tools/<name>.py`` imported as a module."""
    return _load_tool


@pytest.fixture(scope='session')
def mlflow_store(tmp_path_factory):
    """``mlflow_store(work_dir)``: put an empty MLflow SQLite store, tables
    made, at ``<work_dir>/mlruns.db`` (where ``HierMLflowVisBackend`` keeps
    its store) and return ``work_dir``. MLflow's schema migrations run once
    per session, for the template, instead of once per store (seconds
    each); the backend then opens the store as in a work dir it has used
    before."""
    import shutil

    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
    folder = tmp_path_factory.mktemp('mlflow_template')
    template = str(folder / 'mlruns.db')
    SqlAlchemyStore('sqlite:///' + template,
                    str(folder / 'mlartifacts')).engine.dispose()

    def seed(work_dir):
        os.makedirs(work_dir, exist_ok=True)
        shutil.copyfile(template, os.path.join(work_dir, 'mlruns.db'))
        return work_dir

    return seed


@pytest.fixture(scope='session')
def tiny_data(tmp_path_factory):
    """A tiny synthetic Pascal-part set (4 train / 2 val images, oracle and
    degraded priors), made once per session; tests must not write into it
    (copy it first)."""
    from mmhierseg.benchmark import prepare_study_data
    root = str(tmp_path_factory.mktemp('tiny') / 'pascal_part')
    prepare_study_data(root, num_train=4, num_val=2, seed=0)
    return root
