"""Seed studies: configs x seeds at an equal budget, as mean +- std.

Every config (a name in ``configs/benchmark/`` or a path) is trained once
per seed, each run in its own process, for ``--iters`` iterations (the LR
schedule ends there; stage lengths stay), without checkpoints or validation,
then tested from its final weights in ``consistent`` and ``independent``
decoding on the first ``--test-images`` validation images. ``--jobs`` runs
that many at once (``--threads`` torch threads each). Finished runs
(``WORK/<config>/seed<S>.json``) are not repeated, so an interrupted study
resumes. The table gives mean +- std over seeds and each config's difference
to ``--baseline``, marked ``*`` where it exceeds twice its standard error
(``sqrt(s_a^2 / n_a + s_b^2 / n_b)``).

A config that sets ``degrade_priors=dict(jitter=, drop=, miss=)`` reads its
priors from ``prior_dir`` of its ``LoadPoseAnnotations``; the study makes
that folder once from the data's oracle ``priors/`` (fixed random state per
image, so every seed and config sees the same degraded priors).

``tools/benchmark.py --full`` is this study over the design candidates.
Examples (2 CPU cores)::

    python tools/benchmark_study.py flat_twin shared separate staged \\
        --iters 300 --test-images 100 --jobs 2 --threads 1
    python tools/benchmark_study.py prior_none staged prior_degraded_1 \\
        prior_degraded_2 --baseline prior_none --iters 300 --jobs 2
    python tools/benchmark_study.py old_recipe staged --baseline old_recipe
"""
import argparse
import copy
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
BENCH_DIR = osp.join(ROOT, 'configs', 'benchmark')


def add_study_args(p, configs=True):
    """The study's options, also used by ``tools/benchmark.py``."""
    if configs:
        p.add_argument('study', nargs='+', help='configs/benchmark names '
                       'or config paths')
        p.add_argument('--baseline', default='flat_twin',
                       help='the row every difference is taken against')
    p.add_argument('--seeds', type=int, default=5, help='seeds 0..N-1')
    p.add_argument('--iters', type=int, default=300)
    p.add_argument('--test-images', type=int, help='first N val images')
    p.add_argument('--jobs', type=int, default=1, help='runs at once')
    p.add_argument('--threads', type=int, help='torch threads per run')
    p.add_argument('--data-root', default='data/synthetic_pascal_part/')
    p.add_argument('--work-dir', default='work_dirs/benchmark')
    p.add_argument('--report-only', action='store_true',
                   help='print finished runs, train nothing')


def config_path(config):
    """``configs/benchmark/<config>.py``, or ``config`` if it is a file."""
    return config if osp.isfile(config) else osp.join(BENCH_DIR,
                                                      f'{config}.py')


def prepare_priors(cfg, data_root):
    """Make the degraded prior folder a config asks for, once."""
    import numpy as np

    from mmhierseg.models.stems import load_priors, save_priors
    from mmhierseg.testing.synthetic_priors import degrade_priors
    degrade = cfg.get('degrade_priors')
    if not degrade:
        return
    load = [t for t in cfg.train_dataloader.dataset.pipeline
            if t['type'] == 'LoadPoseAnnotations']
    oracle, out = (osp.join(data_root, d)
                   for d in ('priors', load[0]['prior_dir']))
    for k, name in enumerate(sorted(os.listdir(oracle))):
        if not osp.isfile(osp.join(out, name)):
            people, source = load_priors(osp.join(oracle, name))
            worse = degrade_priors(people, np.random.default_rng([7, k]),
                                   **degrade)
            save_priors(osp.join(out, name), worse,
                        dict(source, degrade=dict(degrade)))


def train_one(config, seed, args):
    """Train one config with one seed; test both decodings."""
    from mmengine.config import Config
    from mmengine.runner import Runner
    cfg = Config.fromfile(config_path(config))
    work = osp.join(args.work_dir, osp.basename(config).replace('.py', ''),
                    f'seed{seed}')
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
    prepare_priors(cfg, args.data_root)
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
    todo, running = [], []
    outs = {c: [osp.join(args.work_dir, osp.basename(c).replace('.py', ''),
                         f'seed{s}.json') for s in range(args.seeds)]
            for c in args.study}
    for seed in range(args.seeds):  # seeds outer: a partial study is even
        for config in args.study:
            if not osp.exists(outs[config][seed]) and not args.report_only:
                todo.append(
                    [sys.executable, osp.abspath(__file__), config,
                     '--train-one', str(seed), '--iters', str(args.iters),
                     '--data-root', args.data_root, '--work-dir',
                     args.work_dir] +
                    (['--threads', str(args.threads)] if args.threads else [])
                    + (['--test-images', str(args.test_images)]
                       if args.test_images else []))
    while todo or running:
        while todo and len(running) < max(1, args.jobs):
            running.append(subprocess.Popen(
                todo.pop(0), cwd=ROOT, stdout=subprocess.DEVNULL))
        time.sleep(1)
        for proc in [p for p in running if p.poll() is not None]:
            running.remove(proc)
            if proc.returncode:
                raise RuntimeError(f'study run failed: {" ".join(proc.args)}')
    results = {}
    for config, paths in outs.items():
        for path in filter(osp.exists, paths):
            with open(path) as f:
                results.setdefault(config, []).append(json.load(f))
    return results


def print_study(results, args, baseline='flat_twin'):
    """Print the table; return it as ``{'<config> <decode>': row}``."""
    base = [r['consistent'] for r in results.get(baseline, [])]
    first = next(iter(results.values()))[0]['consistent']
    keys = sorted((k for k in first if k.startswith('mIoU') and
                   k[4:].isdigit()), key=lambda k: int(k[4:]))
    keys.append('consistency')
    print(f'\naccuracy at equal budget ({args.iters} iterations), mean +- std'
          f' over seeds; [difference to {baseline}, * = beyond 2 SE]')
    print(f'{"model":<28}' + ''.join(f'{k:>25}' for k in keys) +
          f'{"train (s)":>10}{"n":>3}')
    table = {}
    for config, runs in results.items():
        for decode in ('consistent', 'independent'):
            if config == 'flat_twin' and decode == 'independent':
                continue  # its coarse levels are derived: one decoding
            cells, row = [], {}
            for k in keys:  # mIoU<level> of the tree, and consistency
                xs = [r[decode][k] for r in runs]
                m, s = statistics.mean(xs), _std(xs)
                cells.append(f'{m:5.1f} +- {s:3.1f}')
                if base and config != baseline:
                    bs = [v[k] for v in base]
                    d = m - statistics.mean(bs)
                    se = (s**2 / len(xs) + _std(bs)**2 / len(bs))**0.5
                    n_ok = min(len(xs), len(bs)) > 1  # else no SE
                    mark = '*' if n_ok and abs(d) > 2 * se else ' '
                    cells[-1] += f' [{d:+5.1f}{mark}]'
                row[k] = dict(mean=m, std=s, values=xs)
            train = statistics.mean(r['train_s'] for r in runs)
            print(f'{config + " " + decode:<28}' +
                  ''.join(f'{c:>25}' for c in cells) +
                  f'{train:>10.0f}{len(runs):>3}')
            table[f'{config} {decode}'] = dict(row, train_s=train)
    return table


def _std(xs):
    return statistics.stdev(xs) if len(xs) > 1 else 0.0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_study_args(p)
    p.add_argument('--train-one', type=int, metavar='SEED',
                   help=argparse.SUPPRESS)
    p.add_argument('--out', help='also write the table to this JSON file')
    args = p.parse_args(argv)
    import torch

    from mmhierseg.utils import set_offline_env
    set_offline_env()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.train_one is not None:
        (config, ) = args.study
        result = train_one(config, args.train_one, args)
        name = osp.basename(config).replace('.py', '')
        with open(osp.join(args.work_dir, name, f'seed{args.train_one}.json'),
                  'w') as f:
            return json.dump(result, f)
    table = print_study(study(args), args, args.baseline)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(command=' '.join(sys.argv), table=table), f,
                      indent=1)


if __name__ == '__main__':
    main()
