"""Faults around tracking and checkpoints (issue 9, cases 1, 4, 7, 8): a tree
with ``{id: name}`` leaves in the config, a truncated last checkpoint, an
unreachable tracking server, SIGTERM and saves cut short."""
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch

import mmhierseg  # noqa: F401  (before mmseg: mmcv-lite placeholder)
from mmengine.config import Config  # noqa: E402
from mmengine.fileio import get_file_backend  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402
from mmengine.runner.checkpoint import save_checkpoint  # noqa: E402

from mmhierseg.engine import RUN_ID_FILE, HierMLflowVisBackend  # noqa: E402
from mmhierseg.hierarchy import PASCAL_PART_HIERARCHY  # noqa: E402
from mmhierseg.utils.checkpoint import find_checkpoint  # noqa: E402
from tests.engine._tiny import (ROOT, make_tiny_pascal_part,  # noqa: E402
                                tiny_cfg)


def _client(work_dir):
    import mlflow
    with open(osp.join(work_dir, RUN_ID_FILE)) as f:
        info = json.load(f)
    client = mlflow.MlflowClient(tracking_uri=info['tracking_uri'])
    return client, client.get_run(info['run_id'])


def test_config_with_dict_leaves_is_logged(tmp_path, mlflow_store):
    """Case 1: ``leaves={0: 'background', ...}`` (the documented form)
    used to raise TypeError in add_config."""
    work_dir = mlflow_store(str(tmp_path / 'w'))
    backend = HierMLflowVisBackend(save_dir=work_dir + '/ts/vis_data')
    backend.add_config(
        Config(dict(work_dir=work_dir,
                    model=dict(hierarchy=PASCAL_PART_HIERARCHY))))
    backend.close()
    client, run = _client(work_dir)
    leaves = PASCAL_PART_HIERARCHY['leaves']
    for leaf_id, name in leaves.items():
        assert run.data.params[f'model.hierarchy.leaves.{leaf_id}'] == name
    assert run.info.status == 'FINISHED'


def test_each_work_dir_gets_its_own_store(tmp_path, mlflow_store):
    """A second backend in the process logs to its own work dir, not to the
    store of the first (``mlflow.set_tracking_uri`` exports
    ``MLFLOW_TRACKING_URI``, which reads as the user's choice)."""
    for name in ('a', 'b'):
        work_dir = mlflow_store(str(tmp_path / name))
        backend = HierMLflowVisBackend(save_dir=work_dir + '/ts/vis_data')
        backend.add_config(Config(dict(work_dir=work_dir)))
        backend.close()
        client, run = _client(work_dir)
        assert client.tracking_uri == 'sqlite:///' + osp.join(
            work_dir, 'mlruns.db')
        assert run.info.status == 'FINISHED'


def test_unreachable_tracking_server_fails_at_once(tmp_path):
    """Case 7: a server that does not answer is reported at start-up, with
    the URI and the way back to the local store."""
    uri = 'http://127.0.0.1:9'
    backend = HierMLflowVisBackend(
        save_dir=str(tmp_path / 'w' / 'ts' / 'vis_data'), tracking_uri=uri)
    with pytest.raises(ConnectionError) as err:
        backend.add_config(Config(dict(work_dir=str(tmp_path / 'w'))))
    message = str(err.value)
    assert f'MLflow tracking server {uri} is not reachable' in message
    assert 'visualizer.vis_backends.1.tracking_uri=None' in message
    assert backend.run_id is None


def _save(path, iteration):
    save_checkpoint(
        dict(meta=dict(iter=iteration), state_dict=dict(w=torch.ones(3))),
        path)


def test_resume_falls_back_from_a_truncated_checkpoint(tmp_path, load_tool):
    """Case 4: the last checkpoint was cut short by a crash while saving;
    --resume takes the newest one that loads and says so."""
    work_dir = tmp_path / 'w'
    work_dir.mkdir()
    for it in (2, 4, 6):
        _save(str(work_dir / f'iter_{it}.pth'), it)
    data = (work_dir / 'iter_6.pth').read_bytes()
    (work_dir / 'iter_6.pth').write_bytes(data[:len(data) // 2])
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'iter_6.pth'))

    log_file = str(tmp_path / 'resume.log')
    MMLogger.get_instance(f'resume_{tmp_path.name}', log_file=log_file)
    assert find_checkpoint(str(work_dir), loadable=True) == str(
        work_dir / 'iter_4.pth')
    out = open(log_file).read()
    assert f'checkpoint {work_dir / "iter_6.pth"} does not load' in out
    assert 'truncated' in out and 'iter_4.pth' in out

    # the tool resumes from it
    cfg_path = str(tmp_path / 'c.py')
    Config(tiny_cfg(str(work_dir), str(tmp_path))).dump(cfg_path)
    train = load_tool('train')
    cfg = train.build_cfg(train.parse_args([cfg_path, '--resume']))
    assert cfg.resume is True
    assert cfg.load_from == str(work_dir / 'iter_4.pth')

    # nothing loads: a clear error instead of a crash inside the runner
    for it in (2, 4):
        (work_dir / f'iter_{it}.pth').write_bytes(b'')
    with pytest.raises(RuntimeError, match='no checkpoint in .* loads'):
        find_checkpoint(str(work_dir), loadable=True)


def test_checkpoint_writes_are_atomic(tmp_path, load_tool):
    """Case 8: a save cut short leaves the previous file whole (mmengine's
    local backend truncates it first)."""
    path = str(tmp_path / 'iter_4.pth')
    _save(path, 4)
    before = open(path, 'rb').read()
    backend = get_file_backend(path, backend_args=dict(backend='atomic_local'))

    # the write fails once the target is open (a kill, a full disk...)
    with pytest.raises(TypeError):
        backend.put(None, path)
    assert open(path, 'rb').read() == before
    assert os.listdir(tmp_path) == ['iter_4.pth']  # no temp file left
    backend.put_text('last', str(tmp_path / 'last_checkpoint'))
    assert open(tmp_path / 'last_checkpoint').read() == 'last'

    # tools/train.py saves through it unless the config names a backend
    cfg_path = str(tmp_path / 'c.py')
    Config(tiny_cfg(str(tmp_path / 'w'), str(tmp_path))).dump(cfg_path)
    train = load_tool('train')
    cfg = train.build_cfg(train.parse_args([cfg_path]))
    assert cfg.default_hooks.checkpoint.backend_args == dict(
        backend='atomic_local')


@pytest.mark.slow
def test_sigterm_marks_run_killed_and_keeps_checkpoints_whole(tmp_path):
    """Case 8: SIGTERM (Slurm, Kubernetes) ends the MLflow run as KILLED,
    like Ctrl-C, instead of leaving it RUNNING."""
    data = make_tiny_pascal_part(str(tmp_path / 'data'))
    work_dir = str(tmp_path / 'work')
    cfg_path = str(tmp_path / 'long.py')
    cfg = tiny_cfg(work_dir, data, max_iters=100000, val_interval=100000,
                   checkpoint_interval=1, mlflow=True)
    cfg['custom_hooks'] = []  # no unfreezing schedule needed here
    Config(cfg).dump(cfg_path)
    code = ('import runpy, sys; sys.path.insert(0, {root!r}); '
            'import tests._netguard as g; g.install(); '
            'sys.argv = {argv!r}; '
            'runpy.run_path({path!r}, run_name="__main__")').format(
                root=ROOT, argv=['train.py', cfg_path],
                path=osp.join(ROOT, 'tools', 'train.py'))
    proc = subprocess.Popen([sys.executable, '-c', code], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=dict(os.environ,
                                                OMP_NUM_THREADS='1'))
    try:
        deadline = time.monotonic() + 400
        while not osp.isfile(osp.join(work_dir, 'iter_2.pth')):
            assert proc.poll() is None, proc.stdout.read()[-3000:]
            assert time.monotonic() < deadline, 'training did not start'
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    assert 'terminated by SIGTERM' in out
    _, run = _client(work_dir)
    assert run.info.status == 'KILLED', out[out.find('Traceback'):][:5000]
    saved = [f for f in os.listdir(work_dir) if f.endswith('.pth')]
    assert saved and not [f for f in os.listdir(work_dir) if '.tmp' in f]
    for name in saved:
        torch.load(osp.join(work_dir, name), weights_only=True)
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        torch.load(f.read().strip(), weights_only=True)
