"""Seed stability of the demo recipe: mIoU per level, mean ± std over seeds.

Trains the demo config (``configs/demo/hierseg_synthetic_cpu.py``) once per
seed and recipe, each run in its own process, at a stated (reduced) budget,
and prints a Markdown table of the final validation mIoU0/1/2::

    nice -n 10 python tools/seed_study.py data/synthetic_pascal_part \\
        --recipes old new --seeds 0 1 2 3 4 --iters 400 --val-size 100 \\
        --work-dir work_dirs/seed_study

Recipes:

- ``new``: the demo config as shipped (frozen ImageNet EfficientNet-Lite0).
- ``old``: the same config with the demo's former encoder: random-init
  ResNet18 (four stages, output stride 16), trained, ImageNet mean/std,
  decoders' input channels to match (everything else shared).

The budget: ``--iters`` training iterations (the poly schedule ends there;
the unfreezing stages keep their lengths), the first ``--val-size``
validation images and ``--threads`` torch threads per run.
``--val-size 0`` keeps them all; ``--iters 0`` keeps the config's. Each
run's metrics go to ``WORK/<recipe>_seed<S>/metrics.json``; runs with a
metrics file are not repeated (rerun to resume a study).
"""
import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO = osp.join(ROOT, 'configs', 'demo', 'hierseg_synthetic_cpu.py')
LEVELS = ('mIoU0', 'mIoU1', 'mIoU2')

#: The demo's encoder before the pretrained one (git 2935f97), as overrides.
OLD_RECIPE = {
    'model.backbone.name': 'resnet18',
    'model.backbone.weights': None,
    'model.backbone.depth': 4,
    'model.backbone.out_indices': (2, 3, 4),
    'model.backbone.frozen': False,
    'model.decode_head.decoder.in_channels': 256,
    'model.decode_head.decoder.c1_in_channels': 64,
    'model.data_preprocessor.mean': [123.675, 116.28, 103.53],
    'model.data_preprocessor.std': [58.395, 57.12, 57.375],
}


def parse_args(argv=None):
    """Command-line arguments (see the module docstring)."""
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('data_root', help='demo data (make_synthetic_dataset.py)')
    p.add_argument('--config', default=DEMO)
    p.add_argument('--recipes', nargs='+', default=['old', 'new'],
                   choices=['old', 'new'])
    p.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2, 3, 4])
    p.add_argument('--iters', type=int, default=400)
    p.add_argument('--val-size', type=int, default=100)
    p.add_argument('--threads', type=int, default=0,
                   help='torch threads per run (0: torch default)')
    p.add_argument('--work-dir', default='work_dirs/seed_study')
    p.add_argument('--run', nargs=2, metavar=('RECIPE', 'SEED'),
                   help=argparse.SUPPRESS)  # one run, in this process
    return p.parse_args(argv)


def _val_ids(args) -> str:
    """The validation id file of the budget (a prefix of val_id.txt)."""
    src = osp.join(args.data_root, 'val_id.txt')
    if not osp.isfile(src):
        sys.exit(f'seed_study: {src} not found; generate the data with '
                 f'python tools/make_synthetic_dataset.py {args.data_root}')
    if args.val_size <= 0:
        return osp.abspath(src)
    with open(src) as f:
        ids = [line for line in f.read().splitlines() if line.strip()]
    dst = osp.join(args.work_dir, f'val_id_{args.val_size}.txt')
    with open(dst, 'w') as f:
        f.write('\n'.join(ids[:args.val_size]) + '\n')
    return osp.abspath(dst)


def run_one(args, recipe: str, seed: int) -> dict:
    """Train one recipe at one seed in this process; return final metrics."""
    sys.path.insert(0, ROOT)
    from mmhierseg.utils import set_offline_env
    set_offline_env()
    import mmhierseg  # noqa: F401
    from mmengine.config import Config
    from mmengine.runner import Runner
    if args.threads > 0:
        import torch
        torch.set_num_threads(args.threads)

    cfg = Config.fromfile(args.config)
    if recipe == 'old':
        cfg.merge_from_dict(OLD_RECIPE)
    data = osp.abspath(args.data_root) + '/'
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data
    cfg.val_dataloader.dataset.ann_file = _val_ids(args)
    if args.iters > 0:
        cfg.train_cfg.max_iters = args.iters
        cfg.param_scheduler[-1].end = args.iters
    cfg.train_cfg.val_interval = cfg.train_cfg.max_iters
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=-1, save_last=False)
    cfg.visualizer.vis_backends = [dict(type='LocalVisBackend')]
    cfg.visualizer.name = f'seed_study_{recipe}_{seed}'
    cfg.randomness = dict(seed=seed)
    cfg.work_dir = osp.join(args.work_dir, f'{recipe}_seed{seed}')
    start = time.time()
    runner = Runner.from_cfg(cfg)
    runner.train()
    hub = runner.message_hub
    out = {k: float(hub.get_scalar(f'val/{k}').current()) for k in LEVELS}
    out.update(recipe=recipe, seed=seed, iters=cfg.train_cfg.max_iters,
               val_size=args.val_size, threads=args.threads,
               train_s=round(time.time() - start))
    with open(osp.join(cfg.work_dir, 'metrics.json'), 'w') as f:
        json.dump(out, f, indent=1)
    return out


def table(results) -> str:
    """Markdown rows: recipe, n, mean ± std per level, mean run time."""
    rows = ['| recipe | seeds | mIoU0 | mIoU1 | mIoU2 | train s / run |',
            '|---|---|---|---|---|---|']
    for recipe in sorted({r['recipe'] for r in results}):
        rs = [r for r in results if r['recipe'] == recipe]
        cells = []
        for k in LEVELS:
            v = [r[k] for r in rs]
            sd = statistics.stdev(v) if len(v) > 1 else float('nan')
            cells.append(f'{statistics.mean(v):.1f} ± {sd:.1f}')
        secs = statistics.mean(r['train_s'] for r in rs)
        rows.append(f'| {recipe} | {",".join(str(r["seed"]) for r in rs)} '
                    f'| ' + ' | '.join(cells) + f' | {secs:.0f} |')
    return '\n'.join(rows)


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.work_dir, exist_ok=True)
    if args.run:
        run_one(args, args.run[0], int(args.run[1]))
        return 0
    results = []
    for seed in args.seeds:  # interleaved: load changes hit both recipes
        for recipe in args.recipes:
            path = osp.join(args.work_dir, f'{recipe}_seed{seed}',
                            'metrics.json')
            if not osp.isfile(path):
                cmd = [sys.executable, osp.abspath(__file__)] + (
                    argv if argv is not None else sys.argv[1:]) + [
                        '--run', recipe, str(seed)]
                subprocess.run(cmd, check=True)
            with open(path) as f:
                results.append(json.load(f))
            r = results[-1]
            print(f'{recipe} seed {seed}: ' + ' / '.join(
                f'{r[k]:.1f}' for k in LEVELS) + f' ({r["train_s"]} s)',
                  flush=True)
    print(table(results))
    return 0


if __name__ == '__main__':
    sys.exit(main())
