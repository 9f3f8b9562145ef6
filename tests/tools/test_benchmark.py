"""The benchmark engine (mmhierseg.benchmark) and its three tools."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from mmengine.config import Config

from mmhierseg.benchmark import (DEGRADE_LEVELS, StudySettings, degrade_prior_folder,
                                 format_table, prepare_study_data,
                                 resolve_config, run_key, run_study,
                                 summarize)
from mmhierseg.benchmark.study import STUDIES_DIR


def _layouts():
    for study in sorted(os.listdir(STUDIES_DIR)):
        for f in sorted(os.listdir(os.path.join(STUDIES_DIR, study))):
            if f.endswith('.py'):
                yield f'{study}/{f[:-3]}'


def test_every_study_config_is_found_by_name_and_misspelt_names_fail():
    names = list(_layouts())
    assert 'design/flat_twin' in names and 'prior/no_prior' in names
    for name in names:
        assert resolve_config(name) == resolve_config(name.split('/')[1])
    with pytest.raises(FileNotFoundError, match='design/flat_twin'):
        resolve_config('flat_twinn')


def test_study_configs_train_what_their_names_say():
    head = {n: Config.fromfile(resolve_config(n)).model.decode_head
            for n in ('flat_twin', 'light_coarse', 'separate', 'shared',
                      'cascade', 'marginal', 'tree_min', 'weights_part')}
    assert head['flat_twin'].layout == 'marginal'
    assert head['flat_twin'].loss_decode.level_weights['body'] == 0
    assert head['light_coarse'].coarse_channels * 4 == \
        head['light_coarse'].decoder.channels
    assert head['separate'].coarse_channels is None
    assert head['shared'].layout == 'shared'
    assert head['cascade'].cascade and not head['separate'].cascade
    assert head['tree_min'].loss_decode.tree_min_weight > 0
    assert head['weights_part'].loss_decode.level_weights['part'] == 0.7
    none = Config.fromfile(resolve_config('prior/no_prior'))
    oracle = Config.fromfile(resolve_config('prior/oracle'))
    assert none.model.stem is None and oracle.model.stem is not None
    for split in ('train', 'test'):
        types = [t['type'] for t in none[f'{split}_dataloader'].dataset.pipeline]
        assert 'LoadPoseAnnotations' not in types
        assert types[-1] == 'PackSegInputs'
    for k in (1, 2):
        cfg = Config.fromfile(resolve_config(f'prior/degraded_{k}'))
        dirs = {t.get('prior_dir') for t in cfg.train_dataloader.dataset.pipeline
                if t['type'] == 'LoadPoseAnnotations'}
        assert dirs == {f'priors_degraded_{k}'}
    for name in _layouts():  # no key that only a tool would read
        cfg = Config.fromfile(resolve_config(name))
        assert not {'candidate', 'degrade_priors'} & set(cfg)


def _runs(values):
    return [dict(consistent=dict(mIoU0=v, mIoU1=v, mIoU2=v, consistency=100.),
                 independent=dict(mIoU0=v, mIoU1=v, mIoU2=v, consistency=90.),
                 train_s=1.0, curve={}) for v in values]


def test_summary_marks_only_differences_beyond_two_standard_errors():
    flat = [50.0, 51.0, 49.0, 50.5, 49.5]
    results = dict(flat=[{k: v for k, v in r.items() if k != 'independent'}
                         for r in _runs(flat)],
                   clear=_runs([x + 3.0 for x in flat]),
                   noise=_runs([50.5, 49.0, 51.5, 49.5, 50.5]))
    table = summarize(results, 'flat')
    assert 'flat independent' not in table  # it has one decoding
    assert table['clear consistent']['mIoU2']['beyond_noise']
    assert table['clear independent']['mIoU2']['diff'] == pytest.approx(3.0)
    assert not table['noise consistent']['mIoU2']['beyond_noise']
    assert '+3.0*' in format_table(table, 'flat', 'h')
    one = summarize(dict(flat=_runs([50.0]), clear=_runs([53.0])), 'flat')
    assert not one['clear consistent']['mIoU2']['beyond_noise']  # no SE


def test_results_are_keyed_by_every_setting_that_changes_them(tmp_path):
    cfg = resolve_config('design/marginal')
    base = StudySettings(10, str(tmp_path), 5, 2, str(tmp_path / 'w'))
    key = run_key(cfg, base)
    for other in (StudySettings(20, str(tmp_path), 5, 2),
                  StudySettings(10, str(tmp_path / 'd'), 5, 2),
                  StudySettings(10, str(tmp_path), 6, 2),
                  StudySettings(10, str(tmp_path), 5, 5)):
        assert run_key(cfg, other) != key
    same = StudySettings(10, str(tmp_path), 5, 2, 'elsewhere', threads=1)
    assert run_key(cfg, same) == key
    # a finished run of other settings is not read back as this one's
    done = tmp_path / 'w' / 'marginal' / key
    done.mkdir(parents=True)
    (done / 'seed0.json').write_text(json.dumps(_runs([1.0])[0]))
    assert run_study([cfg], 1, base, report_only=True) == \
        {'marginal': _runs([1.0])}
    other = StudySettings(20, str(tmp_path), 5, 2, str(tmp_path / 'w'))
    assert run_study([cfg], 1, other, report_only=True) == {}
    with pytest.raises(ValueError, match='seeds'):
        run_study([cfg], 0, base)
    # a study continued on new seeds reads back only those seeds
    (done / 'seed2.json').write_text(json.dumps(_runs([2.0])[0]))
    assert run_study([cfg], 2, base, report_only=True, first_seed=1) == \
        {'marginal': _runs([2.0])}
    assert run_study([cfg], 3, base, report_only=True) == \
        {'marginal': _runs([1.0, 2.0])}
    with pytest.raises(ValueError, match='first_seed'):
        run_study([cfg], 1, base, first_seed=-1)


def test_study_data_is_made_once_and_its_settings_key_the_runs(tmp_path):
    root = str(tmp_path / 'data')
    made = prepare_study_data(root, num_train=3, num_val=1)
    assert made['num_train'] == 3 and made['num_val'] == 1
    assert prepare_study_data(root) == made  # not made again, not resized
    for name, levels in DEGRADE_LEVELS.items():
        with open(os.path.join(root, name, 'degrade.json')) as f:
            assert json.load(f) == levels
    settings = StudySettings(10, root)
    key = run_key(resolve_config('marginal'), settings)
    with open(os.path.join(root, 'synthetic.json'), 'w') as f:
        json.dump(dict(made, num_train=800), f)  # another set, same folder
    assert run_key(resolve_config('marginal'), settings) != key
    real = tmp_path / 'real'
    real.mkdir()
    (real / 'train_id.txt').write_text('a\n')
    assert prepare_study_data(str(real)) == {}  # not ours: used as it is
    out = degrade_prior_folder(root, 'worse', 0.1, 0.2, 0.3)
    files = sorted(f for f in os.listdir(out) if f.endswith('.npz'))
    assert files == sorted(os.listdir(os.path.join(root, 'priors')))
    stamp = os.stat(os.path.join(out, files[0])).st_mtime_ns
    degrade_prior_folder(root, 'worse', 0.1, 0.2, 0.3)  # made once
    assert os.stat(os.path.join(out, files[0])).st_mtime_ns == stamp
    with pytest.raises(ValueError, match='delete it'):
        degrade_prior_folder(root, 'worse', 0.2, 0.2, 0.3)


def test_study_tool_refuses_bad_arguments_at_once(load_tool, tmp_path,
                                                  capsys):
    tool = load_tool('benchmark_study')
    for args, msg in ((['design/flat_twinn'], 'known: '),
                      (['design/marginal', '--seeds', '0'], 'must be >= 1'),
                      (['design/marginal', '--baseline', 'x'], 'not one of')):
        with pytest.raises(SystemExit) as exit_:
            tool.main(args + ['--data-root', str(tmp_path / 'd')])
        assert exit_.value.code == 2
        assert msg in capsys.readouterr().err
    assert not os.path.exists(tmp_path / 'd')  # refused before any work


@pytest.mark.slow
def test_study_trains_prints_the_curve_and_both_decodings(
        run_tool, tiny_data, tmp_path):
    data = tmp_path / 'data'
    shutil.copytree(tiny_data, data)
    args = ['design/light_coarse', 'design/flat_twin', '--seeds', '1',
            '--iters', '2', '--curve', '2', '--threads', '1', '--data-root',
            data, '--work-dir', tmp_path / 'w', '--out', tmp_path / 't.json']
    res = run_tool('benchmark_study', *args)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert 'light_coarse independent' in res.stdout
    assert 'flat_twin independent' not in res.stdout
    assert 'mIoU2 during training' in res.stdout
    table = json.loads((tmp_path / 't.json').read_text())['table']
    assert table['light_coarse consistent']['consistency']['mean'] == 100.0
    again = run_tool('benchmark_study', *args[:-2], '--report-only')
    assert again.returncode == 0 and 'light_coarse consistent' in again.stdout


@pytest.mark.slow
def test_terminated_study_terminates_its_runs(tiny_data, tmp_path):
    import psutil
    cmd = [sys.executable, 'tools/benchmark_study.py', 'design/separate',
           '--seeds', '2', '--jobs', '2', '--iters', '50', '--data-root',
           tiny_data, '--work-dir', str(tmp_path)]
    proc = subprocess.Popen(cmd, cwd=os.path.dirname(STUDIES_DIR)[:-8])
    deadline = time.time() + 120
    while time.time() < deadline and \
            len(psutil.Process(proc.pid).children()) < 2:
        time.sleep(0.5)
    children = psutil.Process(proc.pid).children()
    assert len(children) == 2
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 128 + 15
    gone, alive = psutil.wait_procs(children, timeout=30)
    assert not alive


@pytest.mark.slow
def test_cost_tool_prints_every_row_as_ratios(run_tool, tiny_data, tmp_path):
    out = tmp_path / 'b.json'
    res = run_tool('benchmark', 'prior/no_prior', 'prior/oracle',
                   '--online-prior', '--threads', '1', '--batch', '2',
                   '--reps', '1', '--warmup', '0', '--val-images', '2',
                   '--val-side', '64', '--val-subset', '1', '--data-root',
                   tiny_data, '--out', out)
    assert res.returncode == 0, res.stderr[-3000:]
    report = json.loads(out.read_text())
    names = {'plain mmseg', 'no_prior', 'oracle', 'oracle online prior'}
    assert set(report['cost']) == {
        'train step (s)', 'train step CPU (s)', 'train peak memory (MB)',
        'inference whole (img/s)', 'inference slide (img/s)',
        'inference flip TTA (img/s)'}
    for row in report['cost'].values():
        assert set(row) == names and all(v > 0 for v in row.values())
    assert '(1.00x)' in res.stdout and report['metric']['metric_s'] > 0


@pytest.mark.slow
def test_cost_tool_without_cuda_fails_clearly(run_tool):
    import torch
    if torch.cuda.is_available():
        pytest.skip('a CUDA device is present')
    res = run_tool('benchmark', '--device', 'cuda', timeout=120)
    assert res.returncode == 2 and 'no CUDA device' in res.stderr


@pytest.mark.slow
def test_prior_tool_cost_and_signal(load_tool, tiny_data, tmp_path, capsys):
    tool = load_tool('benchmark_prior')
    data = tmp_path / 'data'
    shutil.copytree(tiny_data, data)
    rows = tool.main(['signal', '--data', str(data)])
    assert len(rows) == 1 + len(DEGRADE_LEVELS)
    assert rows['oracle']['mask'] == 100.0
    assert all(os.path.isdir(data / d) for d in DEGRADE_LEVELS)
    res = tool.main(['cost', '--num-images', '2', '--batch-size', '2',
                     '--imgsz', '64'])
    assert res['prototype'][0] > 0 and res['batched'][0] > 0
    assert 'ratio prototype / precompute' in capsys.readouterr().out


def test_study_data_does_not_degrade_priors_a_pose_model_already_made(
        tmp_path):
    """The demo's set holds degraded keypoint-mask priors: no study folder
    of 'degraded' priors is made from them."""
    from mmhierseg.testing.synthetic import make_synthetic_dataset
    root = str(tmp_path / 'demo')
    make_synthetic_dataset(root, num_train=2, num_val=1,
                           prior_degrade=DEGRADE_LEVELS['priors_yolo11n_like'],
                           prior_mask='keypoints')
    made = prepare_study_data(root)
    assert made['prior_mask'] == 'keypoints'
    assert not any(os.path.isdir(os.path.join(root, name))
                   for name in DEGRADE_LEVELS)
