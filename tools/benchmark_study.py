"""Accuracy at equal budget, for ``tools/benchmark.py --full``.

Every study config (``configs/benchmark/<name>.py``: the demo recipe with one
decode-head change) is trained once per seed, each run in its own process
(``tools/benchmark.py --train-one CONFIG SEED``), for ``--iters`` iterations
(the LR schedule ends there; stage lengths stay), without checkpoints or
validation, then tested from its final weights in ``consistent`` and
``independent`` decoding on the first ``--test-images`` validation images.
Finished runs (``WORK/<config>/seed<S>.json``) are not repeated. The table
gives mean +- std over seeds and each candidate's difference to the flat twin,
marked ``*`` where it exceeds twice its standard error
(``sqrt(s_a^2 / n_a + s_b^2 / n_b)``).
"""
import copy
import json
import os.path as osp
import statistics
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
BENCH_DIR = osp.join(ROOT, 'configs/benchmark')
BENCHMARK = osp.join(ROOT, 'tools', 'benchmark.py')


def train_one(config, seed, args):
    """Train one study config with one seed; test both decodings."""
    from mmengine.config import Config
    from mmengine.runner import Runner
    cfg = Config.fromfile(osp.join(BENCH_DIR, f'{config}.py'))
    work = osp.join(args.work_dir, config, f'seed{seed}')
    cfg.work_dir = work
    cfg.randomness = dict(seed=int(seed))
    cfg.train_cfg.max_iters = args.iters
    cfg.train_cfg.val_interval = args.iters + 1
    for sched in cfg.param_scheduler:  # the schedule ends at the budget
        sched.end = min(sched.end, args.iters)
        sched.begin = min(sched.begin, sched.end - 1)
    cfg.default_hooks.checkpoint = None
    cfg.visualizer.vis_backends = [dict(type='LocalVisBackend')]
    for split in ('train_dataloader', 'test_dataloader', 'val_dataloader'):
        cfg[split].dataset.data_root = args.data_root
    if args.test_images:
        cfg.test_dataloader.dataset.indices = args.test_images
    t = time.perf_counter()
    runner = Runner.from_cfg(cfg)
    runner.train()
    result = dict(train_s=time.perf_counter() - t)
    ckpt = osp.join(work, 'final.pth')
    runner.save_checkpoint(work, 'final.pth')
    for decode in ('consistent', 'independent'):
        test_cfg = copy.deepcopy(cfg)
        test_cfg.model.decode = decode
        test_cfg.load_from = ckpt
        test_cfg.work_dir = osp.join(work, decode)
        result[decode] = Runner.from_cfg(test_cfg).test()
    return result


def study(args):
    """Run (or read back) every config x seed; ``{config: [run, ...]}``."""
    if not osp.isdir(osp.join(args.data_root, 'gt_masks')) and \
            not args.report_only:
        subprocess.run([sys.executable, 'tools/make_synthetic_dataset.py',
                        args.data_root], check=True, cwd=ROOT)
    results = {}
    for config in args.study:
        for seed in range(args.seeds):
            out = osp.join(args.work_dir, config, f'seed{seed}.json')
            if args.report_only and not osp.exists(out):
                continue
            if not osp.exists(out):
                cmd = [sys.executable, BENCHMARK, '--train-one', config,
                       str(seed), '--iters', str(args.iters), '--data-root',
                       args.data_root, '--work-dir', args.work_dir]
                if args.threads:
                    cmd += ['--threads', str(args.threads)]
                if args.test_images:
                    cmd += ['--test-images', str(args.test_images)]
                subprocess.run(cmd, check=True, cwd=ROOT,
                               stdout=subprocess.DEVNULL)
            with open(out) as f:
                results.setdefault(config, []).append(json.load(f))
    return results


def print_study(results, args):
    """Print the table; return it as ``{'<config> <decode>': row}``."""
    keys = ('mIoU0', 'mIoU1', 'mIoU2', 'consistency')
    flat = [r['consistent'] for r in results.get('flat_twin', [])]
    print(f'\naccuracy at equal budget ({args.iters} iterations), mean +- std'
          ' over seeds; [difference to the flat twin, * = beyond 2 SE]')
    print(f'{"model":<24}' + ''.join(f'{k:>25}' for k in keys) +
          f'{"train (s)":>10}{"n":>3}')
    table = {}
    for config, runs in results.items():
        for decode in ('consistent', 'independent'):
            if config == 'flat_twin' and decode == 'independent':
                continue  # its coarse levels are derived: one decoding
            cells, row = [], {}
            for k in keys:
                xs = [r[decode][k] for r in runs]
                m, s = statistics.mean(xs), _std(xs)
                cells.append(f'{m:5.1f} +- {s:3.1f}')
                if flat and config != 'flat_twin':
                    fs = [v[k] for v in flat]
                    d = m - statistics.mean(fs)
                    se = (s**2 / len(xs) + _std(fs)**2 / len(fs))**0.5
                    mark = '*' if abs(d) > 2 * se else ' '
                    cells[-1] += f' [{d:+5.1f}{mark}]'
                row[k] = dict(mean=m, std=s, values=xs)
            train = statistics.mean(r['train_s'] for r in runs)
            print(f'{config + " " + decode:<24}' +
                  ''.join(f'{c:>25}' for c in cells) +
                  f'{train:>10.0f}{len(runs):>3}')
            table[f'{config} {decode}'] = dict(row, train_s=train)
    return table


def _std(xs):
    return statistics.stdev(xs) if len(xs) > 1 else 0.0
