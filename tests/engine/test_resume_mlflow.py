"""Resume mid-way: iteration, unfreeze stage and the MLflow run continue;
MLflow runs end properly (FAILED on errors); checkpoints load on torch>=2.6
without environment variables."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

import mmhierseg  # noqa: F401  (before mmseg: mmcv-lite placeholder)
from mmengine.config import Config  # noqa: E402
from mmengine.hooks import Hook  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mmhierseg.engine import RUN_ID_FILE, StagedUnfreezeHook  # noqa: E402
from tests.engine._tiny import (ROOT, make_tiny_pascal_part,  # noqa: E402
                                tiny_cfg)

pytestmark = pytest.mark.slow  # every test here trains or spawns


class _Crash(Hook):
    """Raises after a given iteration (a crash mid-way)."""

    def __init__(self, after_iter):
        self.after_iter = after_iter

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter + 1 == self.after_iter:
            raise RuntimeError('simulated crash')


class _StartProbe(Hook):
    """Records where training (re)starts."""

    priority = 'LOWEST'

    def before_train(self, runner):
        staged = [h for h in runner.hooks
                  if isinstance(h, StagedUnfreezeHook)][0]
        self.start = dict(
            iter=runner.iter,
            stage=staged.current_stage,
            weights=dict(runner.model.decode_head.loss_decode.level_weights))


def _client(work_dir):
    import mlflow
    with open(osp.join(work_dir, RUN_ID_FILE)) as f:
        info = json.load(f)
    return mlflow.MlflowClient(tracking_uri=info['tracking_uri']), info


def _artifacts(client, run_id, path=None):
    out = []
    for f in client.list_artifacts(run_id, path):
        out += _artifacts(client, run_id, f.path) if f.is_dir else [f.path]
    return out


@pytest.fixture(scope='module')
def resumed(tmp_path_factory):
    # no environment variable may be needed to load/resume checkpoints
    saved = {
        var: os.environ.pop(var)
        for var in ('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD',
                    'TORCH_FORCE_WEIGHTS_ONLY_LOAD') if var in os.environ
    }
    try:
        yield _train_crash_and_resume(tmp_path_factory)
    finally:
        os.environ.update(saved)


def _train_crash_and_resume(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('resume')
    data = make_tiny_pascal_part(str(tmp / 'data'))
    work_dir = str(tmp / 'work')
    cfg = tiny_cfg(work_dir, data, max_iters=8, val_interval=4,
                   stage_length=2, checkpoint_interval=4, mlflow=True)

    first = Runner.from_cfg(Config(cfg))
    first.register_hook(_Crash(after_iter=6))
    with pytest.raises(RuntimeError, match='simulated crash'):
        first.train()
    # what the interpreter's exit does in a tool process (see
    # test_uncaught_exception_marks_run_failed)
    backend = first.visualizer.get_backend('HierMLflowVisBackend')
    ended = [backend.run_id]
    backend.close(status='FAILED')
    client, info = _client(work_dir)
    first_status = client.get_run(info['run_id']).info.status

    # a fresh visualizer, as in a new process (`tools/train.py --resume`)
    cfg2 = dict(
        cfg,
        resume=True,
        visualizer=dict(cfg['visualizer'], name='visualizer_resumed'))
    second = Runner.from_cfg(Config(cfg2))
    probe = _StartProbe()
    second.register_hook(probe)
    second.train()
    client, info2 = _client(work_dir)
    return dict(
        work_dir=work_dir,
        ended=ended,
        first_status=first_status,
        run_id=info['run_id'],
        run_id2=info2['run_id'],
        start=probe.start,
        client=client,
        second=second)


def test_resume_continues_iteration_and_stage(resumed):
    # crashed after iteration 6; the last checkpoint is iter_4
    assert resumed['start']['iter'] == 4
    assert resumed['start']['stage'] == 2  # stage [4, 6): part branch alone
    assert resumed['start']['weights'] == dict(body=0, half=0, part=1)
    assert resumed['second'].iter == 8
    staged = [h for h in resumed['second'].hooks
              if isinstance(h, StagedUnfreezeHook)][0]
    assert staged.current_stage == 3


def test_mlflow_run_continues_in_the_same_run(resumed):
    client, run_id = resumed['client'], resumed['run_id']
    assert resumed['ended'] == [run_id]
    assert resumed['first_status'] == 'FAILED'
    assert resumed['run_id2'] == run_id
    run = client.get_run(run_id)
    assert run.info.status == 'FINISHED'
    assert run.data.tags.get('mmhierseg.resumed') == 'true'
    # one run only in the experiment
    runs = client.search_runs([run.info.experiment_id])
    assert [r.info.run_id for r in runs] == [run_id]
    # metrics from before (iter 4) and after (iter 8) the resume
    hist = client.get_metric_history(run_id, 'mIoU2')
    assert sorted({m.step for m in hist}) == [4, 8]
    for key in ('mIoU0', 'mIoU1', 'aAcc', 'consistency'):
        assert client.get_metric_history(run_id, key)
    # every level's loss, before and after
    for level in ('body', 'half', 'part'):
        steps = {
            m.step
            for m in client.get_metric_history(run_id,
                                               f'decode.loss_{level}')
        }
        assert {1, 6, 8} <= steps
    stages = client.get_metric_history(run_id, 'unfreeze_stage')
    assert {m.value for m in stages} == {0, 1, 2, 3}
    assert max(m.step for m in stages if m.value == 3) == 8


def test_mlflow_logs_config_and_best_checkpoint(resumed):
    client, run_id = resumed['client'], resumed['run_id']
    run = client.get_run(run_id)
    params = run.data.params
    assert params['train_cfg.max_iters'] == '8'
    assert params['custom_hooks.0.type'] == 'StagedUnfreezeHook'
    files = _artifacts(client, run_id)
    assert 'config.py' in files
    assert any(f.startswith('config_resume_') for f in files)
    best = [f for f in files if f.startswith('checkpoints/best_mIoU2_')]
    assert len(best) >= 1
    assert not any(f.startswith('mlartifacts') for f in files)
    # the store and artifacts live in the work dir
    assert osp.isfile(osp.join(resumed['work_dir'], 'mlruns.db'))
    assert run.info.artifact_uri.startswith(
        'file://' + osp.join(resumed['work_dir'], 'mlartifacts'))


def test_checkpoint_loads_with_torch_safe_loader(resumed):
    """torch >= 2.6 loads with weights_only=True by default; MMEngine's
    checkpoint classes are allow-listed by `register_all_modules()` (the
    tools and conftest call it)."""
    ckpt = torch.load(osp.join(resumed['work_dir'], 'iter_4.pth'))
    assert ckpt['meta']['iter'] == 4
    assert 'message_hub' in ckpt and 'optimizer' in ckpt


def test_uncaught_exception_marks_run_failed(tmp_path):
    """A process dying with an exception leaves its run FAILED, not
    RUNNING (the backend closes a run still open at exit)."""
    work_dir = str(tmp_path / 'w')
    code = f'''
import sys
sys.path.insert(0, {ROOT!r})
import tests._netguard as g; g.install()
from mmhierseg.utils import set_offline_env; set_offline_env()
import mmhierseg
from mmengine.config import Config
from mmhierseg.engine import HierMLflowVisBackend
b = HierMLflowVisBackend(save_dir={work_dir!r} + '/ts/vis_data')
b.add_config(Config(dict(work_dir={work_dir!r}, a=1)))
b.add_scalars(dict(loss=1.0), step=1)
raise RuntimeError('boom')
'''
    proc = subprocess.run([sys.executable, '-c', code],
                          capture_output=True,
                          text=True,
                          timeout=180,
                          env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == 1 and 'boom' in proc.stderr
    client, info = _client(work_dir)
    run = client.get_run(info['run_id'])
    assert run.info.status == 'FAILED'
    assert run.data.metrics['loss'] == 1.0
