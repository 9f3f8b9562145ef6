"""tools/benchmark_prior.py: its runs are the demo recipe with the stated
changes, the degraded priors are made, and both modes run (tiny)."""
import importlib.util
import os
import os.path as osp

import numpy as np

from mmhierseg.models.stems import load_priors

ROOT = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def _tool():
    spec = importlib.util.spec_from_file_location(
        'benchmark_prior', osp.join(ROOT, 'tools', 'benchmark_prior.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quality_setup_and_one_run(tmp_path, capsys):
    tool = _tool()
    args = tool.parse_args([
        'quality', '--data', str(tmp_path / 'data'), '--work-dir',
        str(tmp_path / 'wd'), '--num-train', '4', '--num-val', '2',
        '--iters', '2', '--batch-size', '2'
    ])
    tool.prepare_data(args)
    oracle = sorted(os.listdir(tmp_path / 'data' / 'priors'))
    assert len(oracle) == 6
    for name, jitter, drop, miss in tool.LEVELS:
        folder = tmp_path / 'data' / f'priors_{name}'
        assert sorted(os.listdir(folder)) == oracle
        people, source = load_priors(str(folder / oracle[0]))
        assert source['degrade'] == dict(jitter=jitter, drop=drop, miss=miss)
    tool.main(['signal', '--data', str(tmp_path / 'data')])
    rows = [r for r in capsys.readouterr().out.splitlines()
            if r.startswith('| oracle') or r.startswith('| degraded')]
    assert len(rows) == 1 + len(tool.LEVELS)
    assert rows[0].split('|')[2].strip() == '100.0'  # oracle mask == body
    none = tool.make_cfg(args, 'no prior', 3)
    assert none.model.stem is None and none.randomness.seed == 3
    assert [t['type'] for t in none.train_dataloader.dataset.pipeline
            ][-1] == 'PackSegInputs'
    worse = tool.make_cfg(args, 'degraded-2', 0)
    load = [t for t in worse.val_dataloader.dataset.pipeline
            if t['type'] == 'LoadPoseAnnotations']
    assert load[0]['prior_dir'] == 'priors_degraded-2'
    assert worse.custom_hooks == [] and worse.train_cfg.max_iters == 2
    metrics = tool.train_and_eval(args, 'oracle', 0)
    assert {'mIoU0', 'mIoU1', 'mIoU2', 'consistency'} <= set(metrics)
    assert all(np.isfinite(v) for v in metrics.values())


def test_cost_mode_runs(capsys):
    _tool().main(['cost', '--num-images', '2', '--batch-size', '2',
                  '--imgsz', '64'])
    out = capsys.readouterr().out
    assert 'prototype (models reloaded per image)' in out
    assert 'ratio prototype / precompute' in out
