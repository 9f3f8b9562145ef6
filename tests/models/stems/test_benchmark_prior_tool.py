"""tools/benchmark_prior.py and the prior rows of the seed study: the
configs differ from the demo only in the prior, the degraded priors are
made once from the oracle, and every mode runs (tiny)."""
import importlib.util
import os
import os.path as osp
import sys

from mmengine.config import Config

from mmhierseg.models.stems import load_priors

ROOT = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
sys.path.insert(0, osp.join(ROOT, 'tools'))  # the tools import each other


def _tool(name):
    spec = importlib.util.spec_from_file_location(
        name, osp.join(ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _types(cfg, split='train'):
    return [t['type'] for t in cfg[f'{split}_dataloader'].dataset.pipeline]


def test_prior_configs_change_only_the_prior(tmp_path):
    study = _tool('benchmark_study')
    demo = Config.fromfile(study.config_path('staged'))
    none = Config.fromfile(study.config_path('prior_none'))
    assert demo.model.stem is not None and none.model.stem is None
    for split in ('train', 'test'):
        assert 'LoadPoseAnnotations' not in _types(none, split)
        assert _types(none, split)[-1] == 'PackSegInputs'
        assert [t for t in _types(demo, split) if t not in (
            'LoadPoseAnnotations', 'PackPoseSegInputs')] == \
            _types(none, split)[:-1]
    assert none.model.backbone == demo.model.backbone
    assert none.model.decode_head == demo.model.decode_head

    data = tmp_path / 'data'
    _tool('make_synthetic_dataset').main(
        [str(data), '--num-train', '3', '--num-val', '1'])
    oracle = sorted(os.listdir(data / 'priors'))
    for name in ('prior_degraded_1', 'prior_degraded_2'):
        cfg = Config.fromfile(study.config_path(name))
        load = [t for t in cfg.test_dataloader.dataset.pipeline
                if t['type'] == 'LoadPoseAnnotations'][0]
        assert load['prior_dir'] == name.replace('prior_', 'priors_')
        study.prepare_priors(cfg, str(data))
        folder = data / load['prior_dir']
        assert sorted(os.listdir(folder)) == oracle
        _, source = load_priors(str(folder / oracle[0]))
        assert source['degrade'] == dict(cfg.degrade_priors)
        stamp = os.stat(folder / oracle[0]).st_mtime_ns
        study.prepare_priors(cfg, str(data))  # made once, not again
        assert os.stat(folder / oracle[0]).st_mtime_ns == stamp


def test_step_signal_and_cost_modes_run(tmp_path, capsys):
    tool = _tool('benchmark_prior')
    data = str(tmp_path / 'data')
    _tool('make_synthetic_dataset').main(
        [data, '--num-train', '4', '--num-val', '1'])
    spent = tool.step(tool.parse_args(
        ['step', '--data', data, '--iters', '1', '--batch-size', '2']))
    assert list(spent) == [label for label, *_ in tool.STEP_ROWS]
    assert all(w > 0 and c > 0 for w, c in spent.values())
    tool.main(['signal', '--data', data])
    rows = [r for r in capsys.readouterr().out.splitlines()
            if r.startswith(('| oracle', '| prior_degraded'))]
    assert len(rows) == 1 + len(tool.DEGRADED)
    assert rows[0].split('|')[2].strip() == '100.0'  # oracle mask == body
    tool.main(['cost', '--num-images', '2', '--batch-size', '2',
               '--imgsz', '64'])
    out = capsys.readouterr().out
    assert 'prototype (models reloaded per image)' in out
    assert 'ratio prototype / precompute' in out
