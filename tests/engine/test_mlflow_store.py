"""The MLflow backend's helpers: interrupts held during SQLite store calls,
a moved work dir's artifacts, config params."""
import os.path as osp
import signal

import pytest

from mmhierseg.engine.vis_backends.mlflow_store import (config_params,
                                                        deferred_interrupts)
from mmhierseg.engine.vis_backends.run_artifacts import moved_artifact_dir


def test_interrupt_waits_for_the_end_of_sqlite_store_calls():
    done = []
    with pytest.raises(KeyboardInterrupt):
        with deferred_interrupts('sqlite:////tmp/w/mlruns.db'):
            signal.raise_signal(signal.SIGINT)
            done.append('the store call ended')
    assert done == ['the store call ended']
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    # a server's calls are not held
    with pytest.raises(KeyboardInterrupt):
        with deferred_interrupts('http://127.0.0.1:5000'):
            signal.raise_signal(signal.SIGINT)
            done.append('not reached')
    assert done == ['the store call ended']


def test_moved_artifact_dir(tmp_path):
    new = str(tmp_path / 'new dir')
    run = '1/abc/artifacts'
    # recorded in this work dir: MLflow's own calls write to the right place
    here = 'file://' + osp.join(new, 'mlartifacts', run).replace(' ', '%20')
    assert moved_artifact_dir(here, new) is None
    # recorded in another one: the same run folder, in this work dir
    old = 'file:///elsewhere/old/mlartifacts/' + run
    assert moved_artifact_dir(old, new) == osp.join(new, 'mlartifacts', '1',
                                                    'abc', 'artifacts')
    # not a work-dir store's
    assert moved_artifact_dir('s3://bucket/mlartifacts/' + run, new) is None
    assert moved_artifact_dir('file:///data/artifacts/1', new) is None


def test_config_params_flatten_any_key_and_keep_logged():
    cfg = dict(model=dict(leaves={0: 'bg', 1: 'head'}),
               hooks=[dict(type='A'), 'x'], name='a b', bad='c|d')
    params = config_params(cfg, logged={'name': 'first'})
    assert params == {
        'model.leaves.0': 'bg',
        'model.leaves.1': 'head',
        'hooks.0.type': 'A',
        'hooks.1': 'x',
        'bad': 'c|d'
    }
    assert config_params({'a|b': 1}, {}) == {'a_b': '1'}
