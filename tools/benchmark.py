"""What the hierarchy costs and buys, as ratios to plain mmseg, in one run.

1. Train step (preprocessor, forward, backward, AdamW) and its peak memory of
   every candidate in ``configs/benchmark/`` (its ``candidate`` head delta on
   ``configs/_base_/models/hierseg_deeplabv3.py``) against mmseg's
   ``EncoderDecoder`` with the same frozen encoder, input and one ``ASPPHead``
   with one class per leaf. Timings interleave the models, so load on a shared
   machine hits all alike; medians. Peak memory: on CPU the growth of the peak
   resident set over two train steps, each model in a fresh process; on CUDA
   ``max_memory_allocated``.
2. Inference images/s, ``whole`` and ``slide`` modes and flip TTA
   (``HierSegTTAModel`` against mmseg's ``SegTTAModel``).
3. ``HierarchicalIoUMetric`` over a validation set of Pascal-part's size
   (``--val-images`` images, long side ``--val-side``) against that set's
   inference time with the base model (timed on ``--val-subset`` images of the
   same sizes, scaled); wall and CPU time.
4. ``--full``: accuracy at equal budget (``tools/benchmark_study.py``): each
   ``--study`` config trained once per seed (``--jobs`` at once) for ``--iters`` iterations on the
   synthetic data, tested in ``consistent`` and ``independent`` decoding;
   mean +- std and the difference to the flat twin, ``*`` beyond 2 SE.
5. ``--device cuda``: AMP (``AmpOptimWrapper``, autocast), ``--channels-last``.

Example (defaults: about 10 CPU-minutes on 2 cores)::

    nice -n 10 python tools/benchmark.py --threads 2 --out bench.json
    nice -n 10 python tools/benchmark.py --skip-cost --full --iters 200
"""
import argparse
import copy
import json
import os
import os.path as osp
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
from benchmark_study import add_study_args, print_study, study  # tools/

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
BASE_MODEL = osp.join(ROOT, 'configs/_base_/models/hierseg_deeplabv3.py')
# the tree of the cost rows: the one the Pascal-part dataset config names
TREE_FROM = osp.join(ROOT, 'configs/_base_/datasets/pascal_part.py')
BENCH_DIR = osp.join(ROOT, 'configs/benchmark')
CANDIDATES = ('separate', 'light_coarse', 'shared', 'cascade', 'marginal',
              'tree_min')
STUDY = ('flat_twin', ) + CANDIDATES + ('staged', )
BASELINE = 'plain DeepLabV3'


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add = p.add_argument
    add('--device', default='cpu', help="'cpu' or 'cuda'")
    add('--channels-last', action='store_true', help='CUDA: channels-last')
    add('--batch', type=int, default=2)
    add('--size', type=int, default=256, help='square input side')
    add('--reps', type=int, default=5)
    add('--warmup', type=int, default=2)
    add('--candidates', nargs='+', default=list(CANDIDATES))
    add('--val-images', type=int, default=707)
    add('--val-side', type=int, default=500)
    add('--val-subset', type=int, default=6)
    add('--skip-cost', action='store_true', help='only the accuracy rows')
    add('--full', action='store_true', help='the accuracy study')
    add('--study', nargs='+', default=list(STUDY))
    add_study_args(p, configs=False)
    add('--out', help='also write every number to this JSON file')
    add('--memory-probe', help=argparse.SUPPRESS)
    return p.parse_args(argv)


# ------------------------------------------------------------------ models
def base_model():
    """The project's base model, random weights, the Pascal-part tree."""
    from mmengine.config import Config
    cfg = Config.fromfile(BASE_MODEL).model
    cfg.backbone.weights = None  # timing only; offline
    if cfg.get('hierarchy') is None:
        cfg.hierarchy = Config.fromfile(TREE_FROM).hierarchy
    return cfg


def model_cfgs(args):
    """Configs of the baseline and the candidates, by display name."""
    from mmengine.config import Config, ConfigDict

    from mmhierseg import ClassHierarchy
    base = base_model()
    hier = ClassHierarchy.build(base.hierarchy)
    cfgs = {
        BASELINE:
        ConfigDict(
            type='EncoderDecoder',
            data_preprocessor=base.data_preprocessor,
            backbone=base.backbone,
            decode_head=dict(
                base.decode_head.decoder,
                num_classes=hier.num_leaves,
                loss_decode=dict(
                    type='CrossEntropyLoss', avg_non_ignore=True)),
            test_cfg=dict(mode='whole'))
    }
    for name in args.candidates:
        cand = Config.fromfile(osp.join(BENCH_DIR, f'{name}.py')).candidate
        cfg = Config(dict(model=copy.deepcopy(base)))
        cfg.merge_from_dict(_flatten(cand.to_dict(), 'model.decode_head.'))
        cfgs[name] = cfg.model
    return cfgs, hier


def _flatten(d, prefix):
    out = {}
    for k, v in d.items():
        out.update(_flatten(v, f'{prefix}{k}.') if isinstance(v, dict) else
                   {prefix + k: v})
    return out


def build_model(cfg, args):
    from mmseg.registry import MODELS
    model = MODELS.build(copy.deepcopy(cfg)).to(args.device)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model


def make_batch(args, hier, sizes=None, seed=0, flip=False):
    """Raw uint8 images with leaf labels, as a data loader yields them."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for h, w in sizes or [(args.size, args.size)] * args.batch:
        img = torch.randint(0, 256, (3, h, w), generator=g, dtype=torch.uint8)
        label = torch.randint(0, hier.num_leaves, (1, h, w), generator=g)
        if flip:
            img, label = img.flip(-1), label.flip(-1)
        meta = dict(img_shape=(h, w), ori_shape=(h, w), img_path='x.jpg',
                    flip=flip, flip_direction='horizontal' if flip else None)
        samples.append(
            SegDataSample(gt_sem_seg=PixelData(data=label), metainfo=meta))
        inputs.append(img)
    return dict(inputs=inputs, data_samples=samples)


def optim_wrapper(model, args):
    from mmengine.optim import AmpOptimWrapper, OptimWrapper
    opt = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=1e-4)
    wrapper = AmpOptimWrapper if _cuda(args) else OptimWrapper
    return wrapper(optimizer=opt)


def _cuda(args):
    return args.device.startswith('cuda')


def _sync(args):
    if _cuda(args):
        torch.cuda.synchronize()


def interleaved(fns, args):
    """Median seconds of every callable; they take turns in every rep."""
    times = {k: [] for k in fns}
    for rep in range(args.warmup + args.reps):
        for name, fn in fns.items():
            _sync(args)
            t = time.perf_counter()
            fn()
            _sync(args)
            if rep >= args.warmup:
                times[name].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def _status_mb(field):
    with open('/proc/self/status') as f:
        line = next(ln for ln in f if ln.startswith(field + ':'))
    return int(line.split()[1]) / 1024


def peak_step_memory(cfg, args, hier):
    """MB of peak memory added by two train steps of one model."""
    model = build_model(cfg, args).train()
    wrapper, data = optim_wrapper(model, args), make_batch(args, hier)
    if _cuda(args):
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    else:
        try:  # reset the peak RSS (Linux >= 4.0)
            with open('/proc/self/clear_refs', 'w') as f:
                f.write('5')
        except OSError:
            pass
        before = _status_mb('VmRSS')
    for _ in range(2):
        model.train_step(data, wrapper)
    if _cuda(args):
        return (torch.cuda.max_memory_allocated() - before) / 2**20
    return _status_mb('VmHWM') - before


def memory_row(cfgs, args, hier):
    if _cuda(args):
        return {n: peak_step_memory(c, args, hier) for n, c in cfgs.items()}
    out = {}
    for name in cfgs:  # one fresh process per model
        cmd = [sys.executable, __file__, '--memory-probe', name, '--batch',
               str(args.batch), '--size', str(args.size), '--candidates'
               ] + list(args.candidates) + _threads(args)
        res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        if res.returncode:
            raise RuntimeError(f'memory probe {name} failed:\n{res.stderr}')
        out[name] = json.loads(res.stdout.strip().splitlines()[-1])['mb']
    return out


def _threads(args):
    return ['--threads', str(args.threads)] if args.threads else []


def cost_rows(args):
    """Rows 1 and 2: train step, memory, inference (whole/slide/TTA)."""
    from mmengine.config import ConfigDict
    from mmseg.models.segmentors import SegTTAModel

    from mmhierseg.models.segmentors import HierSegTTAModel
    cfgs, hier = model_cfgs(args)
    models = {n: build_model(c, args).train() for n, c in cfgs.items()}
    data, flipped = make_batch(args, hier), make_batch(args, hier, flip=True)
    wrappers = {n: optim_wrapper(m, args) for n, m in models.items()}
    rows = {'train step (s)': interleaved(
        {n: (lambda m=m, w=wrappers[n]: m.train_step(data, w))
         for n, m in models.items()}, args)}
    rows['train peak memory (MB)'] = memory_row(cfgs, args, hier)
    crop = max(32, args.size * 3 // 4 // 32 * 32)
    slide = ConfigDict(mode='slide', crop_size=(crop, crop),
                       stride=(crop * 2 // 3, crop * 2 // 3))
    two = {k: [data[k], flipped[k]] for k in data}
    tta = {n: (SegTTAModel if n == BASELINE else HierSegTTAModel)(module=m)
           for n, m in models.items()}

    def infer(name, mode):
        with torch.no_grad(), torch.autocast('cuda', enabled=_cuda(args)):
            if mode == 'flip TTA':
                return tta[name].test_step(two)
            return models[name].test_step(data)

    for mode in ('whole', 'slide', 'flip TTA'):
        for m in models.values():
            m.eval().test_cfg = slide if mode == 'slide' else \
                ConfigDict(mode='whole')
        sec = interleaved({n: (lambda n=n: infer(n, mode))
                           for n in models}, args)
        rows[f'inference {mode} (img/s)'] = {
            n: args.batch / s for n, s in sec.items()}
    return rows, hier


def print_cost(rows):
    names = list(next(iter(rows.values())))
    print(f'\n{"":<27}' + ''.join(f'{n:>17}' for n in names))
    for row, vals in rows.items():
        base = vals[BASELINE]
        cells = [f'{vals[n]:7.3g} ({vals[n] / base:4.2f}x)' for n in names]
        print(f'{row:<27}' + ''.join(f'{c:>17}' for c in cells))


def _clock():
    return np.array([time.perf_counter(), time.process_time()])


def metric_row(args, hier):
    """Row 3: HierarchicalIoUMetric on a Pascal-part-sized validation set."""
    from mmengine.evaluator import Evaluator
    from mmengine.structures import PixelData
    side = args.val_side
    short = np.random.default_rng(0).integers(
        side * 3 // 5, side + 1, size=args.val_images)
    sizes = [(int(s), side) if i % 3 else (side, int(s))
             for i, s in enumerate(short)]
    evaluator = Evaluator([dict(type='HierarchicalIoUMetric')])
    evaluator.dataset_meta = hier.metainfo()
    spent = np.zeros(2)  # wall, CPU seconds
    for i, hw in enumerate(sizes):  # a segmentor's outputs, 20 % wrong
        sample = make_batch(args, hier, [hw], seed=i)['data_samples'][0]
        gt = sample.gt_sem_seg.data
        wrong = torch.rand(gt.shape) < 0.2
        leaf = torch.where(wrong, torch.randint_like(gt, hier.num_leaves), gt)
        sample.set_data(dict(
            pred_sem_seg=PixelData(data=leaf),
            seg_logits=PixelData(data=torch.randn(hier.num_leaves, *hw))))
        for lvl in range(hier.leaf_level):
            sample.set_data({hier.field(lvl, 'pred_sem_seg'): PixelData(
                data=hier.to_level(leaf, lvl, check=False))})
        t = _clock()
        evaluator.process([sample])
        spent += _clock() - t
    t = _clock()
    evaluator.evaluate(len(sizes))
    spent += _clock() - t
    model = build_model(base_model(), args).eval()
    t = _clock()
    for i, hw in enumerate(sizes[:args.val_subset]):
        with torch.no_grad():
            model.test_step(make_batch(args, hier, [hw], seed=i))
    _sync(args)
    infer = (_clock() - t) * len(sizes) / args.val_subset
    return dict(metric_s=spent[0], metric_cpu_s=spent[1],
                inference_s=infer[0], inference_cpu_s=infer[1],
                share=spent[0] / infer[0], cpu_share=spent[1] / infer[1])


# -------------------------------------------------------------------- main
def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if _cuda(args) and not torch.cuda.is_available():
        sys.exit('benchmark: --device cuda but torch sees no CUDA device; '
                 'run without --device on CPU')
    from mmengine.registry import init_default_scope

    import mmhierseg  # noqa: F401
    init_default_scope('mmseg')
    if args.memory_probe:
        cfgs, hier = model_cfgs(args)
        mb = peak_step_memory(cfgs[args.memory_probe], args, hier)
        return print(json.dumps(dict(mb=mb)))
    start = time.perf_counter()
    report = dict(
        date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()),
        command=' '.join(['python', 'tools/benchmark.py'] + sys.argv[1:]),
        torch=torch.__version__, device=args.device,
        threads=torch.get_num_threads(), cpus=os.cpu_count())
    print(f'{report["date"]}  {report["command"]}\ntorch {torch.__version__}'
          f', {args.device}, {report["threads"]} threads, {os.cpu_count()} '
          f'CPUs; batch {args.batch} of {args.size}x{args.size}; median of '
          f'{args.reps} after {args.warmup} warm-up; (ratio to {BASELINE})')
    if not args.skip_cost:
        rows, hier = cost_rows(args)
        print_cost(rows)
        report['cost'] = rows
        m = report['metric'] = metric_row(args, hier)
        print(f'\nHierarchicalIoUMetric, {args.val_images} images (long side '
              f'{args.val_side}): {m["metric_s"]:.1f} s wall = '
              f'{100 * m["share"]:.2f} % of their inference '
              f'({m["inference_s"]:.0f} s, timed on {args.val_subset} images'
              f' and scaled); CPU time {100 * m["cpu_share"]:.2f} %')
    if _cuda(args):
        print('AMP: on (AmpOptimWrapper, autocast); channels-last: '
              f'{"on" if args.channels_last else "off"}')
    else:
        print('AMP / channels-last on CUDA: not run (CPU); use --device cuda')
    if args.full:
        report['study'] = print_study(study(args), args)
    usage = [resource.getrusage(w)
             for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    report['cpu_s'] = sum(u.ru_utime + u.ru_stime for u in usage)
    report['wall_s'] = time.perf_counter() - start
    print(f'\nwall {report["wall_s"] / 60:.1f} min, CPU (this process and its'
          f' children) {report["cpu_s"] / 60:.1f} min, load average '
          f'{os.getloadavg()[0]:.1f}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(report, f, indent=1)


if __name__ == '__main__':
    main()
