"""tools/benchmark.py: candidates as configured, every row printed, the
2-standard-error rule, and one tiny accuracy run through the real runner."""
import importlib.util
import json
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.registry import init_default_scope

import mmhierseg  # noqa: F401

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tools'))  # the tools import each other
init_default_scope('mmseg')


def _tool(name):
    spec = importlib.util.spec_from_file_location(
        name, osp.join(ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


benchmark, benchmark_study = _tool('benchmark'), _tool('benchmark_study')


def test_candidates_are_the_configured_heads_next_to_a_plain_baseline():
    from mmseg.models.decode_heads import ASPPHead
    from mmseg.models.segmentors import EncoderDecoder
    args = benchmark.parse_args(['--candidates'] +
                                list(benchmark.CANDIDATES))
    cfgs, hier = benchmark.model_cfgs(args)
    assert list(cfgs) == [benchmark.BASELINE] + list(benchmark.CANDIDATES)
    models = {n: benchmark.build_model(c, args) for n, c in cfgs.items()}
    base = models[benchmark.BASELINE]
    assert type(base) is EncoderDecoder
    assert type(base.decode_head) is ASPPHead
    assert base.decode_head.num_classes == hier.num_leaves
    heads = {n: m.decode_head for n, m in models.items()}
    assert heads['separate'].layout == 'separate'
    assert heads['shared'].layout == 'shared'
    assert heads['marginal'].layout == 'marginal'
    assert heads['cascade'].cascade and not heads['separate'].cascade
    assert heads['tree_min'].loss_decode.tree_min_weight > 0
    assert heads['separate'].loss_decode.tree_min_weight == 0
    # the same frozen encoder everywhere
    for m in models.values():
        assert not any(p.requires_grad for p in m.backbone.parameters())
        assert type(m.backbone) is type(base.backbone)


def _runs(values, decode='consistent'):
    return [{
        decode: dict(mIoU0=v, mIoU1=v, mIoU2=v, consistency=100.0),
        'independent': dict(mIoU0=v, mIoU1=v, mIoU2=v, consistency=90.0),
        'train_s': 1.0
    } for v in values]


def test_study_marks_only_differences_beyond_two_standard_errors(capsys):
    args = benchmark.parse_args(['--seeds', '5', '--iters', '7'])
    flat = [50.0, 51.0, 49.0, 50.5, 49.5]
    results = {
        'flat_twin': _runs(flat),
        'clear': _runs([x + 3.0 for x in flat]),  # +3, SE ~0.5
        'noise': _runs([50.5, 49.0, 51.5, 49.5, 50.5]),  # +0.2
    }
    table = benchmark_study.print_study(results, args)
    lines = {ln.split()[0] + ' ' + ln.split()[1]: ln
             for ln in capsys.readouterr().out.splitlines()
             if ln.startswith(('clear', 'noise', 'flat'))}
    assert '+3.0*' in lines['clear consistent']
    assert '*' not in lines['noise consistent']
    assert 'flat_twin independent' not in table
    assert table['clear consistent']['mIoU2']['mean'] == pytest.approx(53.0)
    # one seed has no standard error: no difference is marked
    benchmark_study.print_study(
        {'flat_twin': _runs([50.0]), 'clear': _runs([53.0])}, args)
    clear = [ln for ln in capsys.readouterr().out.splitlines()
             if ln.startswith('clear consistent')]
    assert '+3.0' in clear[0] and '*' not in clear[0]


def test_cost_and_metric_rows_are_all_printed(tmp_path):
    out = tmp_path / 'b.json'
    cmd = [
        sys.executable, 'tools/benchmark.py', '--threads', '1', '--size',
        '32', '--reps', '1', '--warmup', '0', '--candidates', 'marginal',
        '--val-images', '3', '--val-side', '64', '--val-subset', '1',
        '--out', str(out)
    ]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    for row in ('train step (s)', 'train peak memory (MB)',
                'inference whole (img/s)', 'inference slide (img/s)',
                'inference flip TTA (img/s)', 'HierarchicalIoUMetric, 3 '
                'images', 'not run (CPU)'):
        assert row in res.stdout, row
    report = json.loads(out.read_text())
    for row in report['cost'].values():
        assert set(row) == {benchmark.BASELINE, 'marginal'}
        assert all(v > 0 for v in row.values())
    assert report['metric']['metric_s'] > 0


def test_cuda_request_without_cuda_fails_clearly():
    if torch.cuda.is_available():
        pytest.skip('a CUDA device is present')
    res = subprocess.run(
        [sys.executable, 'tools/benchmark.py', '--device', 'cuda'],
        cwd=ROOT, capture_output=True, text=True)
    assert res.returncode != 0
    assert 'no CUDA device' in res.stderr


def test_full_trains_and_tests_both_decodings(tmp_path):
    data = tmp_path / 'data'
    subprocess.run([
        sys.executable, 'tools/make_synthetic_dataset.py',
        str(data), '--num-train', '4', '--num-val', '1'
    ], cwd=ROOT, check=True, capture_output=True)
    work = tmp_path / 'work'
    cmd = [
        sys.executable, 'tools/benchmark.py', '--skip-cost', '--full',
        '--study', 'marginal', '--seeds', '1', '--iters', '1', '--threads',
        '1', '--test-images', '1', '--data-root', str(data), '--work-dir',
        str(work)
    ]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    for row in ('marginal consistent', 'marginal independent'):
        assert row in res.stdout
    run = json.loads((work / 'marginal' / 'seed0.json').read_text())
    assert set(run['consistent']) >= {'mIoU0', 'mIoU2', 'consistency'}
    assert run['consistent']['consistency'] == 100.0
