"""What the pose prior is worth and what it costs, measured.

``quality``: trains the demo recipe (``configs/demo/hierseg_synthetic_cpu.py``)
on synthetic data at an equal, small budget, without a prior, with the
generator's ORACLE priors and with priors degraded like a pose model errs
(keypoint jitter in proportion to the person's box, dropped joints, missed
people), several seeds each, and prints mIoU per level and cross-level
consistency as mean +- std over the seeds. Then the training-step cost of
each model against the no-prior model, the online in-model prior
(pose model + FastSAM run inside the step; random-weight models offline, at
a low threshold so that they "find" people and FastSAM runs) as a row.
Changes to the recipe, for the budget: all levels train jointly from the
first step (no staged schedule), no checkpoints, no visualisation, data
loaded in the main process.

``cost``: per-image cost of making priors: the prototype's way (both models
reloaded for every image) against ``tools/precompute_priors.py``'s way
(models loaded once, batches), same weights, same images, one run.

Examples::

    nice -n 10 python tools/benchmark_prior.py quality --iters 100 \\
        --seeds 0 1 2 3 4
    nice -n 10 python tools/benchmark_prior.py cost --num-images 16
"""
import argparse
import copy
import json
import os
import os.path as osp
import sys
import tempfile
import time

_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from mmhierseg.utils.offline import set_offline_env  # noqa: E402

set_offline_env()

import numpy as np  # noqa: E402
import torch  # noqa: E402

import mmhierseg  # noqa: E402,F401
from mmhierseg.models.stems import (PriorDetector, load_priors,  # noqa: E402
                                    save_priors)

DEMO = osp.join(_ROOT, 'configs', 'demo', 'hierseg_synthetic_cpu.py')
#: (name, jitter, drop, miss)
LEVELS = [('degraded-1', 0.03, 0.15, 0.15), ('degraded-2', 0.08, 0.3, 0.3)]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = p.add_subparsers(dest='mode', required=True)
    q = sub.add_parser('quality')
    q.add_argument('--config', default=DEMO)
    q.add_argument('--data', default='work_dirs/benchmark_prior/data')
    q.add_argument('--num-train', type=int, default=200)
    q.add_argument('--num-val', type=int, default=50)
    q.add_argument('--iters', type=int, default=100)
    q.add_argument('--batch-size', type=int, default=8)
    q.add_argument(
        '--short-side',
        type=int,
        default=None,
        help='image short side and crop size (default: the config\'s)')
    q.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2, 3, 4])
    q.add_argument('--cost-iters', type=int, default=5)
    q.add_argument(
        '--cost-only', action='store_true', help='only the step costs')
    q.add_argument('--work-dir', default='work_dirs/benchmark_prior')
    g = sub.add_parser('signal')
    g.add_argument('--data', default='work_dirs/benchmark_prior/data')
    g.add_argument('--num-train', type=int, default=200)
    g.add_argument('--num-val', type=int, default=50)
    c = sub.add_parser('cost')
    c.add_argument('--num-images', type=int, default=16)
    c.add_argument('--batch-size', type=int, default=8)
    c.add_argument('--imgsz', type=int, default=320)
    for sp in (q, c):
        sp.add_argument('--pose-weights', help='default: random yaml model')
        sp.add_argument('--sam-weights', help='default: random .pt')
    return p.parse_args(argv)


def _weights(args, tmp):
    """Pose / FastSAM weights: given, or random models saved to ``tmp``."""
    from ultralytics import YOLO
    pose, sam = args.pose_weights, args.sam_weights
    if pose is None:
        pose = osp.join(tmp, 'pose_random.pt')
        YOLO('yolov8n-pose.yaml').save(pose)
    if sam is None:
        sam = osp.join(tmp, 'fastsam_s_random.pt')
        YOLO('yolov8s-seg.yaml').save(sam)
    return pose, sam


def prepare_data(args):
    """Synthetic data with oracle priors, plus one degraded copy per level."""
    from mmhierseg.testing.synthetic import make_synthetic_dataset
    from mmhierseg.testing.synthetic_priors import degrade_priors
    if not osp.isfile(osp.join(args.data, 'val_id.txt')):
        make_synthetic_dataset(args.data, args.num_train, args.num_val, seed=0)
    oracle = osp.join(args.data, 'priors')
    for name, jitter, drop, miss in LEVELS:
        out = osp.join(args.data, f'priors_{name}')
        for k, f in enumerate(sorted(os.listdir(oracle))):
            if osp.isfile(osp.join(out, f)):
                continue
            people, source = load_priors(osp.join(oracle, f))
            worse = degrade_priors(people, np.random.default_rng([7, k]),
                                   jitter=jitter, drop=drop, miss=miss)
            save_priors(osp.join(out, f), worse, dict(
                source, degrade=dict(jitter=jitter, drop=drop, miss=miss)))


def make_cfg(args, condition, seed):
    """The demo config for one run (see the module docstring)."""
    from mmengine.config import Config
    cfg = Config.fromfile(args.config)
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.update(num_workers=0, persistent_workers=False)
        loader.dataset.data_root = args.data
        pipe = loader.dataset.pipeline
        if condition == 'no prior':
            pipe[:] = [t for t in pipe if t.type != 'LoadPoseAnnotations']
            pipe[-1] = dict(type='PackSegInputs')
        elif condition == 'online':
            pipe[:] = [t for t in pipe if t.type != 'LoadPoseAnnotations']
        else:
            for t in pipe:
                if t.type == 'LoadPoseAnnotations':
                    t.prior_dir = 'priors' if condition == 'oracle' else \
                        f'priors_{condition}'
    if condition == 'no prior':
        cfg.model.stem = None
    cfg.train_dataloader.batch_size = args.batch_size
    if args.short_side:  # smaller images, same recipe otherwise
        side = args.short_side
        for loader in (cfg.train_dataloader, cfg.val_dataloader,
                       cfg.test_dataloader):
            for t in loader.dataset.pipeline:
                if t['type'] in ('Resize', 'RandomResize'):
                    t['scale'] = (4 * side, side)
                elif t['type'] == 'RandomCrop':
                    t['crop_size'] = (side, side)
        cfg.model.data_preprocessor.size = (side, side)
    cfg.train_cfg = dict(
        type='IterBasedTrainLoop', max_iters=args.iters,
        val_interval=args.iters + 1)
    warm = max(1, args.iters // 10)
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.05, begin=0, end=warm,
             by_epoch=False),
        dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=warm,
             end=args.iters, by_epoch=False)
    ]
    cfg.custom_hooks = []
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.pop('visualization', None)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=10**6)
    cfg.visualizer = dict(type='SegLocalVisualizer', vis_backends=[])
    cfg.randomness = dict(seed=seed)
    cfg.work_dir = osp.join(args.work_dir, 'runs', f'{condition}_{seed}')
    cfg.experiment_name = f'{condition}_{seed}'.replace(' ', '_')
    cfg.log_level = 'WARNING'
    return cfg


def train_and_eval(args, condition, seed):
    from mmengine.runner import Runner
    runner = Runner.from_cfg(make_cfg(args, condition, seed))
    runner.train()
    return {k: float(v) for k, v in runner.val().items()
            if k.startswith('mIoU') or k == 'consistency'}


def step_costs(args, conditions, weights):
    """Mean seconds (wall, CPU) of one ``train_step`` per condition, on
    preloaded batches, the conditions interleaved step by step (so a
    changing load on a shared machine hits them alike)."""
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    setups = {}
    for c in conditions:
        cfg = make_cfg(args, c, 0)
        if c == 'online':
            cfg.model.stem.pose = dict(weights=weights[0], imgsz=160,
                                       conf=0.01)
            cfg.model.stem.sam = dict(weights=weights[1], imgsz=160,
                                      conf=0.01)
        model = MODELS.build(cfg.model)
        model.init_weights()
        model.train()
        optim = build_optim_wrapper(model, cfg.optim_wrapper)
        loader = iter(Runner.build_dataloader(cfg.train_dataloader, seed=0))
        batches = [next(loader) for _ in range(args.cost_iters + 1)]
        model.train_step(batches[0], optim)  # warm-up (lazy loads, state)
        setups[c] = (model, optim, batches[1:])
    spent = {c: [0.0, 0.0] for c in conditions}
    for k in range(args.cost_iters):
        for c in conditions:
            model, optim, batches = setups[c]
            wall, cpu = time.perf_counter(), time.process_time()
            model.train_step(batches[k], optim)
            spent[c][0] += time.perf_counter() - wall
            spent[c][1] += time.process_time() - cpu
    return {c: (w / args.cost_iters, p / args.cost_iters)
            for c, (w, p) in spent.items()}


def quality(args):
    prepare_data(args)
    os.makedirs(args.work_dir, exist_ok=True)
    conditions = ['no prior', 'oracle'] + [n for n, *_ in LEVELS]
    results = {c: [] for c in conditions}
    for seed in [] if args.cost_only else args.seeds:
        for c in conditions:
            t = time.perf_counter()
            results[c].append(train_and_eval(args, c, seed))
            print(f'seed {seed} {c}: {results[c][-1]} '
                  f'({time.perf_counter() - t:.0f} s)', flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        costs = step_costs(args, ('no prior', 'oracle', 'online'),
                           _weights(args, tmp))
    keys = sorted(results['oracle'][0]) if results['oracle'] else []
    side = args.short_side or 'as configured'
    print(f'\n{len(args.seeds)} seeds {args.seeds}, {args.iters} iterations '
          f'x batch {args.batch_size}, short side {side}, '
          f'{args.num_train} train / '
          f'{args.num_val} val synthetic images, {args.config}')
    print('| prior | ' + ' | '.join(keys) + ' |')
    print('|---' * (len(keys) + 1) + '|')
    for c in conditions:
        name = c if c not in dict((n, 0) for n, *_ in LEVELS) else \
            '{} (jitter {}, drop {}, miss {})'.format(
                c, *dict((n, v) for n, *v in LEVELS)[c])
        cells = [np.array([r[k] for r in results[c]]) for k in keys]
        print(f'| {name} | ' + ' | '.join(
            f'{v.mean():.1f} ± {v.std(ddof=1) if len(v) > 1 else 0:.1f}'
            for v in cells) + ' |')
    base = costs['no prior']
    print('\n| train step | wall ms | x no prior | CPU ms | x no prior |')
    print('|---|---|---|---|---|')
    for c, label in (('no prior', 'no prior (no stem)'),
                     ('oracle', 'precomputed priors (stem from the data)'),
                     ('online', 'online in-model prior (pose + FastSAM)')):
        w, p = costs[c]
        print(f'| {label} | {w * 1e3:.0f} | {w / base[0]:.2f} | '
              f'{p * 1e3:.0f} | {p / base[1]:.2f} |')
    with open(osp.join(args.work_dir, 'results.json'), 'w') as f:
        json.dump(dict(args=vars(args), results=results, costs=costs), f,
                  indent=1)


def cost(args):
    """Prototype (reload per image) vs precompute's batched detector."""
    from ultralytics import YOLO, FastSAM
    rng = np.random.default_rng(0)
    # noise images and a threshold of 1e-3: random-weight models then
    # report people, so FastSAM runs in both ways
    images = [rng.integers(0, 256, (320, 320, 3), np.uint8)
              for _ in range(args.num_images)]
    pose_cfg = dict(imgsz=args.imgsz, conf=1e-3)
    with tempfile.TemporaryDirectory() as tmp:
        pose_pt, sam_pt = _weights(args, tmp)
        YOLO(pose_pt).predict(images[0], verbose=False, **pose_cfg)  # warm
        t = time.perf_counter(), time.process_time()
        for img in images:  # the prototype: both models built per image
            pose, sam = YOLO(pose_pt), FastSAM(sam_pt)
            res = pose.predict(img, verbose=False, **pose_cfg)[0]
            boxes = res.boxes.xyxy.cpu().numpy()
            if len(boxes):
                sam.predict(img, bboxes=boxes.tolist(), imgsz=args.imgsz,
                            conf=1e-3, retina_masks=True, verbose=False)
        proto = time.perf_counter() - t[0], time.process_time() - t[1]
        t = time.perf_counter(), time.process_time()
        det = PriorDetector(dict(weights=pose_pt, **pose_cfg),
                            dict(weights=sam_pt, imgsz=args.imgsz, conf=1e-3))
        found = 0
        for s in range(0, len(images), args.batch_size):
            people, _ = det.detect(images[s:s + args.batch_size], 'cpu')
            found += sum(len(p.boxes) for p in people if p is not None)
        ours = time.perf_counter() - t[0], time.process_time() - t[1]
    n = len(images)
    print(f'{n} images 320x320, imgsz {args.imgsz}, batch {args.batch_size}'
          f', torch threads {torch.get_num_threads()}, people found {found}')
    for name, (w, c) in (('prototype (models reloaded per image)', proto),
                         ('precompute_priors (loaded once, batched)', ours)):
        print(f'{name:<44s} {w / n * 1e3:7.0f} ms/image wall '
              f'{c / n * 1e3:7.0f} ms/image CPU')
    print(f'ratio prototype / precompute: wall {proto[0] / ours[0]:.1f}x, '
          f'CPU {proto[1] / ours[1]:.1f}x')


def signal(args):
    """Training-free: IoU of each prior channel (oracle, degraded) with
    the ground-truth part it stands for, over the validation images."""
    from mmhierseg import ClassHierarchy
    from mmhierseg.models.stems import PRIOR_CHANNELS, draw_priors
    prepare_data(args)
    tree = ClassHierarchy.build('pascal_part')
    leaf = dict(mask=None, head='head', torso='torso', upper_arm='up_hand',
                lower_arm='low_hand', upper_leg='up_leg',
                lower_leg='low_leg')
    with open(osp.join(args.data, 'val_id.txt')) as f:
        ids = f.read().split()
    print(f'{len(ids)} validation images of {args.data}; IoU (%) of the '
          'prior channel with its ground-truth part (mask: with the body)')
    print('| priors | ' + ' | '.join(PRIOR_CHANNELS) + ' |')
    print('|---' * (len(PRIOR_CHANNELS) + 1) + '|')
    for folder, label in [('priors', 'oracle')] + [
            (f'priors_{n}', f'{n} (jitter {j}, drop {d}, miss {m})')
            for n, j, d, m in LEVELS]:
        inter = np.zeros(len(PRIOR_CHANNELS))
        union = np.zeros(len(PRIOR_CHANNELS))
        for i in ids:
            gt = np.load(osp.join(args.data, 'gt_masks', i + '.npy'))
            people, _ = load_priors(osp.join(args.data, folder, i + '.npz'))
            maps = draw_priors(people, PRIOR_CHANNELS).astype(bool)
            for c, name in enumerate(PRIOR_CHANNELS):
                ref = gt != 0 if leaf[name] is None else \
                    gt == tree.leaf_names.index(leaf[name])
                inter[c] += (maps[c] & ref).sum()
                union[c] += (maps[c] | ref).sum()
        print(f'| {label} | ' + ' | '.join(
            f'{100 * a / max(b, 1):.1f}' for a, b in zip(inter, union)) +
            ' |')


def main(argv=None):
    args = parse_args(argv)
    dict(quality=quality, signal=signal, cost=cost)[args.mode](args)


if __name__ == '__main__':
    main()
