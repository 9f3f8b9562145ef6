"""What a model costs, as ratios to a baseline, measured side by side in one
run: train step (wall and CPU), its peak memory, inference images/s
(``whole``, ``slide``, flip TTA) and the per-level metric's share of
inference time.

Every model is a study config (``configs/studies/``) or a config path, built
with its own data pipeline on ``--data-root`` (the synthetic study set is
made there if the folder is empty). The baseline is ``plain`` (mmseg's
``EncoderDecoder`` with the first config's encoder and leaf decoder) or one
of the configs. ``--online-prior`` adds the first config with its priors
made in the step (random-weight pose and segmenter models, offline).
Timings take turns, medians; on CUDA with AMP.

Examples (2 CPU cores)::

    nice -n 10 python tools/benchmark.py --threads 2
    python tools/benchmark.py prior/no_prior prior/oracle --baseline \\
        no_prior --online-prior --skip-metric
    python tools/benchmark.py --device cuda
"""
import argparse
import json
import os
import os.path as osp
import sys
import tempfile
import time

DESIGNS = ['design/light_coarse', 'design/separate', 'design/shared',
           'design/cascade', 'design/marginal', 'design/tree_min']


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    add = p.add_argument
    add('configs', nargs='*', default=DESIGNS, help='study configs or paths '
        '(default: the head designs)')
    add('--baseline', default='plain', help="'plain' or a config's name")
    add('--online-prior', action='store_true')
    add('--data-root', default='data/synthetic_pascal_part/')
    add('--device', default='cpu', help="'cpu' or 'cuda'")
    add('--batch', type=int, default=8, help='>= 2 (batch norm)')
    add('--reps', type=int, default=5)
    add('--warmup', type=int, default=2)
    add('--threads', type=int, help='torch threads')
    add('--skip-metric', action='store_true')
    add('--val-images', type=int, default=707)
    add('--val-side', type=int, default=500)
    add('--val-subset', type=int, default=6)
    add('--out', help='also write every number to this JSON file')
    return p, p.parse_args(argv)


def main(argv=None):
    parser, args = parse_args(argv)
    import torch
    from mmengine.registry import init_default_scope

    import mmhierseg  # noqa: F401
    from mmhierseg import ClassHierarchy
    from mmhierseg.benchmark import (PLAIN, build, cost_rows, format_cost,
                                     metric_cost, model_cfgs,
                                     prepare_study_data, resolve_config)
    from mmhierseg.benchmark.prior import (online_prior_cfg,
                                           random_prior_weights)
    from mmhierseg.utils import register_all_modules, set_offline_env
    if args.batch < 2 or args.reps < 1 or args.warmup < 0:
        parser.error('--batch must be >= 2 (batch norm), --reps >= 1, --warmup >= 0')
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        parser.error('--device cuda but torch sees no CUDA device')
    set_offline_env()
    register_all_modules()
    init_default_scope('mmseg')
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        paths = {osp.splitext(osp.basename(c))[0]: resolve_config(c)
                 for c in args.configs}
        made = prepare_study_data(args.data_root)
    except (FileNotFoundError, ValueError) as e:
        parser.error(str(e))
    baseline = PLAIN if args.baseline == 'plain' else args.baseline
    if baseline not in [PLAIN, *paths]:
        parser.error(f'--baseline {args.baseline!r} is not plain or one of '
                     f'{list(paths)}')
    report = dict(
        date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()),
        command=' '.join(['python', 'tools/benchmark.py'] + sys.argv[1:]),
        torch=torch.__version__, device=args.device,
        threads=torch.get_num_threads(), cpus=os.cpu_count())
    print(f'{report["date"]}  {report["command"]}\ntorch {torch.__version__}'
          f', {args.device}, {report["threads"]} threads, {os.cpu_count()} '
          f'CPUs; batch {args.batch}; median of {args.reps} after '
          f'{args.warmup} warm-up; (ratio to {baseline}); data '
          f'{args.data_root}' + (' (synthetic, {num_train} train images)'
                                 .format(**made) if made else ''))
    cfgs = model_cfgs(paths, args.data_root, args.batch,
                      plain=baseline == PLAIN)
    with tempfile.TemporaryDirectory() as tmp:
        if args.online_prior:
            first = next(n for n in paths if cfgs[n].model.get('stem'))
            cfgs[f'{first} online prior'] = online_prior_cfg(
                cfgs[first], *random_prior_weights(tmp))
        rows = report['cost'] = cost_rows(cfgs, args.device, args.reps,
                                          args.warmup)
    print(format_cost(rows, baseline))
    if not args.skip_metric:
        cfg = model_cfgs(paths, args.data_root, 1)[PLAIN]
        model = build(cfg, args.device)[0].eval()
        m = report['metric'] = metric_cost(
            model, ClassHierarchy.build(cfgs[next(iter(paths))].model.hierarchy),
            args.val_images, args.val_side, args.val_subset, args.device)
        print(f'\nHierarchicalIoUMetric, {args.val_images} images (long side '
              f'{args.val_side}): {m["metric_s"]:.1f} s wall = '
              f'{100 * m["share"]:.2f} % of their inference with {PLAIN} '
              f'({m["inference_s"]:.0f} s, timed on {args.val_subset} images'
              f' and scaled); CPU time {100 * m["cpu_share"]:.2f} %')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(report, f, indent=1)


if __name__ == '__main__':
    main()
