"""What the pose prior costs, and how good the priors are, measured.

What a prior is worth after training is a seed study over the prior configs
(``tools/benchmark_study.py staged prior_none prior_degraded_1
prior_degraded_2 --baseline prior_none``). This tool measures the rest:

``step``: the training-step cost of the demo model (``configs/benchmark/``)
without a prior (``prior_none``), with precomputed priors read from the data
(``staged``) and with the online in-model prior (pose model + FastSAM run
inside the step; random-weight models offline, at a low threshold so that
they "find" people and FastSAM runs), on preloaded batches, interleaved step
by step so that load on a shared machine hits all alike.

``cost``: per-image cost of making priors: the prototype's way (both models
reloaded for every image) against ``tools/precompute_priors.py``'s way
(models loaded once, batches), same weights, same images, one run.

``signal``: training-free: IoU of each prior channel (oracle, and degraded as
the ``prior_degraded_*`` configs say) with the ground-truth part it stands
for, over the validation images.

Examples::

    nice -n 10 python tools/benchmark_prior.py step --iters 5
    nice -n 10 python tools/benchmark_prior.py cost --num-images 16
    python tools/benchmark_prior.py signal --data data/synthetic_pascal_part
"""
import argparse
import os.path as osp
import sys
import tempfile
import time

import numpy as np
import torch
from benchmark_study import config_path, prepare_priors  # tools/

import mmhierseg  # noqa: F401
from mmhierseg.models.stems import PriorDetector, load_priors
from mmhierseg.utils import set_offline_env

#: the rows of ``step``: (label, study config, online prior)
STEP_ROWS = (('no prior (no stem)', 'prior_none', False),
             ('precomputed priors (stem from the data)', 'staged', False),
             ('online in-model prior (pose + FastSAM)', 'staged', True))
DEGRADED = ('prior_degraded_1', 'prior_degraded_2')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = p.add_subparsers(dest='mode', required=True)
    q = sub.add_parser('step')
    q.add_argument('--data', default='data/synthetic_pascal_part')
    q.add_argument('--iters', type=int, default=5)
    q.add_argument('--batch-size', type=int, default=8)
    g = sub.add_parser('signal')
    g.add_argument('--data', default='data/synthetic_pascal_part')
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


def _data(path):
    """The synthetic data with its oracle priors, made if missing."""
    from mmhierseg.testing.synthetic import make_synthetic_dataset
    if not osp.isfile(osp.join(path, 'val_id.txt')):
        make_synthetic_dataset(path, 200, 50, seed=0)
    return path


def step(args):
    """Mean seconds (wall, CPU) of one ``train_step`` per row."""
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    _data(args.data)
    setups = {}
    with tempfile.TemporaryDirectory() as tmp:
        pose, sam = _weights(args, tmp)
        for label, config, online in STEP_ROWS:
            cfg = Config.fromfile(config_path(config))
            loader = cfg.train_dataloader
            loader.update(num_workers=0, persistent_workers=False,
                          batch_size=args.batch_size)
            loader.dataset.data_root = args.data
            if online:  # priors from the models, not the data
                loader.dataset.pipeline = [
                    t for t in loader.dataset.pipeline
                    if t.type != 'LoadPoseAnnotations']
                cfg.model.stem.pose = dict(weights=pose, imgsz=160, conf=.01)
                cfg.model.stem.sam = dict(weights=sam, imgsz=160, conf=.01)
            model = MODELS.build(cfg.model)
            model.init_weights()
            model.train()
            optim = build_optim_wrapper(model, cfg.optim_wrapper)
            batches = iter(Runner.build_dataloader(loader, seed=0))
            batches = [next(batches) for _ in range(args.iters + 1)]
            model.train_step(batches[0], optim)  # warm-up (lazy loads)
            setups[label] = (model, optim, batches[1:])
        spent = {label: [0.0, 0.0] for label in setups}
        for k in range(args.iters):
            for label, (model, optim, batches) in setups.items():
                wall, cpu = time.perf_counter(), time.process_time()
                model.train_step(batches[k], optim)
                spent[label][0] += time.perf_counter() - wall
                spent[label][1] += time.process_time() - cpu
    base = spent[STEP_ROWS[0][0]]
    print(f'{args.iters} steps x batch {args.batch_size}, torch threads '
          f'{torch.get_num_threads()}')
    print('| train step | wall ms | x no prior | CPU ms | x no prior |')
    print('|---|---|---|---|---|')
    for label, (w, p) in spent.items():
        print(f'| {label} | {w / args.iters * 1e3:.0f} | {w / base[0]:.2f} |'
              f' {p / args.iters * 1e3:.0f} | {p / base[1]:.2f} |')
    return spent


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
    """IoU of every prior channel with the ground-truth part it stands for
    (the mask channel with the body), oracle and degraded priors."""
    from mmengine.config import Config

    from mmhierseg import ClassHierarchy
    from mmhierseg.models.stems import PRIOR_CHANNELS, draw_priors
    _data(args.data)
    tree = ClassHierarchy.build('pascal_part')
    leaf = dict(mask=None, head='head', torso='torso', upper_arm='up_hand',
                lower_arm='low_hand', upper_leg='up_leg',
                lower_leg='low_leg')
    folders = [('priors', 'oracle')]
    for name in DEGRADED:
        cfg = Config.fromfile(config_path(name))
        prepare_priors(cfg, args.data)
        load = [t for t in cfg.val_dataloader.dataset.pipeline
                if t['type'] == 'LoadPoseAnnotations'][0]
        folders.append((load['prior_dir'], f'{name} {cfg.degrade_priors}'))
    with open(osp.join(args.data, 'val_id.txt')) as f:
        ids = f.read().split()
    print(f'{len(ids)} validation images of {args.data}; IoU (%) of the '
          'prior channel with its ground-truth part (mask: with the body)')
    print('| priors | ' + ' | '.join(PRIOR_CHANNELS) + ' |')
    print('|---' * (len(PRIOR_CHANNELS) + 1) + '|')
    for folder, label in folders:
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
    set_offline_env()
    dict(step=step, signal=signal, cost=cost)[args.mode](args)


if __name__ == '__main__':
    sys.exit(main())
