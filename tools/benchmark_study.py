"""Seed studies: configs x seeds at one budget, as mean +- std and a curve.

Every config (``<study>/<name>`` under ``configs/studies/``, a bare name,
or a path) is trained once per seed in its own process for ``--iters``
iterations, evaluated at ``--curve`` evenly spaced points of that run on the
first ``--test-images`` validation images, and its final weights are tested
in both decodings. Finished runs are read back, keyed by every setting that
changes them, so an interrupted study resumes. Differences to ``--baseline``
(default: the first config) are marked ``*`` beyond twice their standard
error. The synthetic study set (800 / 200 images) is made in an empty
``--data-root``, with the degraded prior folders the prior study reads.

Examples (2 CPU cores, the full budget)::

    python tools/benchmark_study.py design/flat_twin design/light_coarse \\
        --seeds 5 --iters 1300 --test-images 100 --jobs 2 --threads 1
    python tools/benchmark_study.py prior/no_prior prior/oracle \\
        prior/degraded_1 prior/degraded_2 --seeds 5 --jobs 2 --threads 1
"""
import argparse
import json
import os.path as osp
import signal
import sys


def positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be >= 1, got {value}')
    return value


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('configs', nargs='+', help='study configs or paths')
    p.add_argument('--baseline', help='config every difference is taken '
                   'against (default: the first)')
    p.add_argument('--seeds', type=positive, default=5,
                   help='how many seeds (first-seed .. first-seed + N - 1)')
    p.add_argument('--first-seed', type=int, default=0,
                   help='continue a study on new seeds (default 0)')
    p.add_argument('--iters', type=positive, default=1300)
    p.add_argument('--curve', type=positive, default=4,
                   help='evaluation points per run (the last at --iters)')
    p.add_argument('--test-images', type=positive, help='first N val images')
    p.add_argument('--jobs', type=positive, default=1, help='runs at once')
    p.add_argument('--threads', type=positive, help='torch threads per run')
    p.add_argument('--data-root', default='data/synthetic_pascal_part/')
    p.add_argument('--work-dir', default='work_dirs/studies')
    p.add_argument('--report-only', action='store_true',
                   help='print finished runs, train nothing')
    p.add_argument('--out', help='also write the table to this JSON file')
    args = p.parse_args(argv)
    from mmhierseg.benchmark import (StudySettings, data_manifest,
                                     format_curve,
                                     format_table, prepare_study_data,
                                     resolve_config, run_study, summarize)
    from mmhierseg.utils import register_all_modules
    register_all_modules()
    try:
        configs = [resolve_config(c) for c in args.configs]
        settings = StudySettings(args.iters, args.data_root,
                                 args.test_images, args.curve,
                                 args.work_dir, args.threads)
        names = [osp.splitext(osp.basename(c))[0] for c in configs]
        baseline = args.baseline or names[0]
        if baseline not in names:
            raise ValueError(f'--baseline {baseline!r} is not one of {names}')
        made = data_manifest(args.data_root) if args.report_only else \
            prepare_study_data(args.data_root)
    except (FileNotFoundError, ValueError) as e:
        p.error(str(e))
    # a terminated study terminates its runs (run_study's finally)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + 15))
    try:
        results = run_study(configs, args.seeds, settings, args.jobs,
                            args.report_only, args.first_seed)
    except RuntimeError as e:
        sys.exit(f'benchmark_study: {e}')
    if not results:
        sys.exit('benchmark_study: no finished runs for these settings')
    table = summarize(results, baseline)
    seeds = f'seeds {args.first_seed}..{args.first_seed + args.seeds - 1}'
    header = (f'{args.iters} iterations, {seeds}, test images: '
              f'{args.test_images or "all"}, data: {settings["data_root"]}' +
              (' (synthetic: {num_train} train / {num_val} val images, seed '
               '{seed})'.format(**made) if made else ''))
    print(format_table(table, baseline, header))
    print(format_curve(results))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(command=' '.join(sys.argv), settings=settings,
                           table=table), f, indent=1)


if __name__ == '__main__':
    main()
