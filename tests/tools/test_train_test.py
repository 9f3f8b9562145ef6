"""tools/train.py and tools/test.py end to end (subprocess, tiny config)."""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import mmhierseg  # noqa: F401  (before mmseg: mmcv-lite placeholder)
from mmengine.config import Config  # noqa: E402

from mmhierseg.engine import RUN_ID_FILE  # noqa: E402
from tests.engine._tiny import (ROOT, make_tiny_pascal_part,  # noqa: E402
                                tiny_cfg)


def _run(script, *args, timeout=300):
    # the network guard of the test session, inside the subprocess too
    code = ('import runpy, sys; sys.path.insert(0, {root!r}); '
            'import tests._netguard as g; g.install(); '
            'sys.argv = {argv!r}; '
            'runpy.run_path({path!r}, run_name="__main__")').format(
                root=ROOT,
                argv=[script] + [str(a) for a in args],
                path=osp.join(ROOT, 'tools', script))
    return subprocess.run([sys.executable, '-c', code],
                          cwd=ROOT,
                          capture_output=True,
                          text=True,
                          timeout=timeout,
                          env=dict(os.environ, OMP_NUM_THREADS='1'))


def _mlflow_run(work_dir):
    import mlflow
    with open(osp.join(work_dir, RUN_ID_FILE)) as f:
        info = json.load(f)
    client = mlflow.MlflowClient(tracking_uri=info['tracking_uri'])
    return client, client.get_run(info['run_id'])


@pytest.fixture(scope='module')
def cfg_file(tmp_path_factory):
    """The tiny config file and its data (nothing trained)."""
    tmp = tmp_path_factory.mktemp('tools')
    data = make_tiny_pascal_part(str(tmp / 'data'))
    cfg_path = str(tmp / 'tiny.py')
    # the config file trains 40 iterations; the command line shrinks it
    Config(tiny_cfg(str(tmp / 'unused'), data, max_iters=40,
                    mlflow=True)).dump(cfg_path)
    return dict(tmp=tmp, cfg=cfg_path, data=data)


@pytest.fixture(scope='module')
def trained(cfg_file):
    tmp, cfg_path, data = cfg_file['tmp'], cfg_file['cfg'], cfg_file['data']
    work_dir = str(tmp / 'work')
    proc = _run('train.py', cfg_path, '--work-dir', work_dir,
                '--cfg-options', 'train_cfg.max_iters=4',
                'train_cfg.val_interval=2', 'log_level=INFO')
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return dict(tmp=tmp, cfg=cfg_path, work_dir=work_dir, data=data,
                log=proc.stdout + proc.stderr)


@pytest.mark.slow
def test_train_cli_trains_with_cfg_options(trained):
    work_dir = trained['work_dir']
    files = os.listdir(work_dir)
    assert 'iter_4.pth' in files and 'iter_8.pth' not in files
    assert any(f.startswith('best_mIoU2_iter_') for f in files)
    assert not osp.exists(osp.join(trained['tmp'], 'unused'))
    assert 'StagedUnfreezeHook' in trained['log']
    client, run = _mlflow_run(work_dir)
    assert run.info.status == 'FINISHED'
    assert run.data.params['train_cfg.max_iters'] == '4'


@pytest.mark.slow
def test_test_cli_json_out_per_level_table_and_outputs(trained):
    work_dir, tmp = trained['work_dir'], trained['tmp']
    json_out = str(tmp / 'metrics' / 'test.json')
    pred_dir = str(tmp / 'preds')
    show_dir = str(tmp / 'show')
    proc = _run('test.py', trained['cfg'], osp.join(work_dir, 'iter_4.pth'),
                '--work-dir', work_dir, '--json-out', json_out, '--out',
                pred_dir, '--show-dir', show_dir)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'per level results' in proc.stdout
    for name in ('body', 'half', 'part', 'aAcc (leaf)', 'consistency'):
        assert name in proc.stdout
    with open(json_out) as f:
        result = json.load(f)
    assert result['levels'] == ['body', 'half', 'part']
    metrics = result['metrics']
    assert set(metrics) == {'mIoU0', 'mIoU1', 'mIoU2', 'mIoU_leaf', 'aAcc',
                            'consistency'}
    # the same checkpoint was validated at iteration 4 during training
    client, run = _mlflow_run(work_dir)
    for key in ('mIoU0', 'mIoU1', 'mIoU2', 'aAcc'):
        hist = {m.step: m.value
                for m in client.get_metric_history(run.info.run_id, key)}
        assert metrics[key] == pytest.approx(hist[4])
    # the test run is its own MLflow run and did not replace the training
    # run recorded for resuming
    runs = client.search_runs([run.info.experiment_id])
    modes = sorted(r.data.tags.get('mode', 'train') for r in runs)
    assert modes == ['test', 'train']
    _, again = _mlflow_run(work_dir)
    assert again.info.run_id == run.info.run_id
    # --out: one PNG per level and image
    val_ids = open(osp.join(trained['data'], 'val_id.txt')).read().split()
    leaf = np.array(Image.open(osp.join(pred_dir, f'{val_ids[0]}.png')))
    body = np.array(Image.open(osp.join(pred_dir, 'body',
                                        f'{val_ids[0]}.png')))
    assert leaf.shape == body.shape == (32, 32)
    assert set(np.unique(body)) <= {0, 1}
    # --show-dir: painted images
    painted = [
        f for _, _, fs in os.walk(show_dir) for f in fs if f.endswith('.png')
    ]
    assert len(painted) == len(val_ids)
    img = np.array(Image.open(
        [osp.join(d, f) for d, _, fs in os.walk(show_dir) for f in fs
         if f.endswith('.png')][0]))
    assert img.shape[0] >= 3 * 32  # one row per level


@pytest.mark.slow
def test_train_cli_resume_continues(trained):
    work_dir = trained['work_dir']
    _, before = _mlflow_run(work_dir)
    proc = _run('train.py', trained['cfg'], '--work-dir', work_dir,
                '--resume', '--cfg-options', 'train_cfg.max_iters=6',
                'train_cfg.val_interval=2', 'log_level=INFO')
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert 'resumed checkpoint' in log.lower() or 'resume' in log.lower()
    assert 'iter 4: stage 2' in log  # stage derived from the iteration
    assert 'iter_6.pth' in os.listdir(work_dir)
    client, after = _mlflow_run(work_dir)
    assert after.info.run_id == before.info.run_id
    assert after.info.status == 'FINISHED'
    steps = {
        m.step
        for m in client.get_metric_history(after.info.run_id, 'mIoU2')
    }
    assert {2, 4, 6} <= steps


@pytest.mark.slow
def test_train_cli_wrong_stage_fails_clearly_and_marks_run_failed(
        trained, tmp_path):
    cfg = Config.fromfile(trained['cfg'])
    cfg.custom_hooks[0]['extra_trainable'] = ['decode_head.branch']
    cfg_path = str(tmp_path / 'wrong.py')
    cfg.dump(cfg_path)
    work_dir = str(tmp_path / 'work')
    proc = _run('train.py', cfg_path, '--work-dir', work_dir)
    assert proc.returncode != 0
    assert "names module path 'decode_head.branch'" in proc.stderr
    assert not [f for f in os.listdir(work_dir) if f.endswith('.pth')]
    _, run = _mlflow_run(work_dir)
    assert run.info.status == 'FAILED'


def _files(folder):
    return sorted(
        osp.relpath(osp.join(d, f), folder)
        for d, _, names in os.walk(folder) for f in names)


@pytest.mark.slow
def test_train_cli_resume_in_moved_work_dir(trained, tmp_path):
    """Issue 9 case 3: after `mv old new`, `--work-dir new --resume` finds
    the checkpoint in `new` although `last_checkpoint` names the old path,
    continues the same MLflow run, and writes its artifacts inside `new`,
    next to the earlier ones: MLflow keeps the absolute URI it recorded
    (elsewhere), the run's tag `mmhierseg.artifacts` names the folder."""
    old, new = str(tmp_path / 'old'), str(tmp_path / 'new')
    shutil.copytree(trained['work_dir'], old)
    with open(osp.join(old, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(old, 'iter_4.pth'))  # as if trained in `old`
    os.rename(old, new)
    import mlflow
    store = 'sqlite:///' + osp.join(new, 'mlruns.db')
    _, before = _mlflow_run(new)
    runs = mlflow.MlflowClient(store).search_runs(
        [before.info.experiment_id])
    elsewhere = _files(osp.join(trained['work_dir'], 'mlartifacts'))
    rel = before.info.artifact_uri.rsplit('/mlartifacts/', 1)[1]
    folder = osp.join(new, 'mlartifacts', *rel.split('/'))
    earlier = _files(folder)
    assert 'config.py' in earlier  # moved with the work dir

    proc = _run('train.py', trained['cfg'], '--work-dir', new, '--resume',
                '--cfg-options', 'train_cfg.max_iters=6',
                'train_cfg.val_interval=2', 'log_level=INFO')
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert f'--resume: resuming from {osp.join(new, "iter_4.pth")}' in log
    assert f'the work dir moved; run {before.info.run_id}' in log
    assert 'iter_6.pth' in os.listdir(new)
    client, after = _mlflow_run(new)
    assert client.tracking_uri == store
    assert after.info.run_id == before.info.run_id
    assert after.info.status == 'FINISHED'
    assert len(client.search_runs([after.info.experiment_id])) == len(runs)
    assert 6 in {m.step for m in client.get_metric_history(
        after.info.run_id, 'mIoU2')}
    # artifacts inside `new`, old ones kept; nothing written elsewhere
    tag = after.data.tags['mmhierseg.artifacts']
    assert tag == Path(folder).as_uri()
    listed = [osp.basename(f.path) for f in mlflow.artifacts.list_artifacts(
        artifact_uri=tag)]
    assert 'config.py' in listed
    resumes = [f for f in listed if f.startswith('config_resume_')]
    assert len(resumes) == len(
        [f for f in earlier if f.startswith('config_resume_')]) + 1
    assert set(earlier) < set(_files(folder))
    assert not osp.exists(old)
    assert _files(osp.join(trained['work_dir'], 'mlartifacts')) == elsewhere


def test_train_cli_options_to_config(cfg_file, tmp_path, load_tool):
    trained = cfg_file  # the config only: nothing is trained here
    train = load_tool('train')
    args = train.parse_args([trained['cfg'], '--amp', '--resume'])
    cfg = train.build_cfg(args)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    assert cfg.resume is True and cfg.load_from is None
    assert cfg.work_dir == osp.join(trained['tmp'], 'unused')  # config's
    args = train.parse_args(
        [trained['cfg'], '--resume', 'x/iter_2.pth', '--work-dir', 'w'])
    cfg = train.build_cfg(args)
    assert cfg.resume is True and cfg.load_from == 'x/iter_2.pth'
    assert cfg.work_dir == 'w'
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'  # no CUDA here
    cfg = train.build_cfg(train.parse_args([trained['cfg']]))
    assert cfg.optim_wrapper.type == 'OptimWrapper' and not cfg.resume
    cfg_path = str(tmp_path / 'no_work_dir.py')
    no_wd = Config.fromfile(trained['cfg'])
    no_wd.pop('work_dir')
    no_wd.dump(cfg_path)
    cfg = train.build_cfg(train.parse_args([cfg_path]))
    assert cfg.work_dir == osp.join('./work_dirs', 'no_work_dir')
    test = load_tool('test')
    cfg = test.build_cfg(
        test.parse_args([trained['cfg'], 'c.pth', '--out', 'o']))
    assert cfg.load_from == 'c.pth' and cfg.resume is False
    assert cfg.test_evaluator.output_dir == 'o'
    mlflow_cfg = [b for b in cfg.visualizer.vis_backends
                  if b['type'] == 'HierMLflowVisBackend'][0]
    assert mlflow_cfg['run_id_file'] is None
    assert mlflow_cfg['tags']['mode'] == 'test'
    with pytest.raises(ValueError, match='tta_pipeline'):
        test.build_cfg(test.parse_args([trained['cfg'], 'c.pth', '--tta']))
    with_tta = Config.fromfile(trained['cfg'])
    with_tta.tta_model = dict(type='HierSegTTAModel')
    with_tta.tta_pipeline = [dict(type='LoadHierImageFromFile')]
    cfg_path = str(tmp_path / 'tta.py')
    with_tta.dump(cfg_path)
    cfg = test.build_cfg(test.parse_args([cfg_path, 'c.pth', '--tta']))
    assert cfg.model.type == 'HierSegTTAModel'
    assert cfg.model.module.type == 'HierEncoderDecoder'
    assert cfg.test_dataloader.dataset.pipeline == with_tta.tta_pipeline
