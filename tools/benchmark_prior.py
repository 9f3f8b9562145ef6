"""What making the pose priors costs, and how good prior channels are.

``cost``: per-image cost of making priors the prototype's way (both models
built again for every image) against ``tools/precompute_priors.py``'s way
(built once, batches), same weights and images, one run. Default weights:
random models built from ultralytics' yamls (offline).

``signal``: training-free: IoU of each prior channel (oracle, and the
degraded folders of the prior study) with the ground-truth part it stands
for, over the validation images.

The train-step cost of the prior is a row of ``tools/benchmark.py``
(``prior/no_prior prior/oracle --baseline no_prior --online-prior``); what
a prior is worth after training is a seed study (``configs/studies/prior``).

Examples::

    nice -n 10 python tools/benchmark_prior.py cost --num-images 16
    python tools/benchmark_prior.py signal --data data/synthetic_pascal_part
"""
import argparse
import os.path as osp
import tempfile

import numpy as np


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = p.add_subparsers(dest='mode', required=True)
    c = sub.add_parser('cost')
    c.add_argument('--num-images', type=int, default=16)
    c.add_argument('--batch-size', type=int, default=8)
    c.add_argument('--imgsz', type=int, default=320)
    c.add_argument('--pose-weights', help='default: random yaml model')
    c.add_argument('--sam-weights', help='default: random yaml model')
    g = sub.add_parser('signal')
    g.add_argument('--data', default='data/synthetic_pascal_part')
    return p.parse_args(argv)


def cost(args):
    import torch

    from mmhierseg.benchmark.prior import (precompute_cost,
                                           random_prior_weights)
    rng = np.random.default_rng(0)
    # noise images and a threshold of 1e-3: random-weight models then
    # report people, so the segmenter runs in both ways
    images = [rng.integers(0, 256, (320, 320, 3), np.uint8)
              for _ in range(args.num_images)]
    with tempfile.TemporaryDirectory() as tmp:
        pose, sam = random_prior_weights(tmp)
        res = precompute_cost(images, args.pose_weights or pose,
                              args.sam_weights or sam, args.batch_size,
                              args.imgsz)
    n = len(images)
    print(f'{n} images 320x320, imgsz {args.imgsz}, batch {args.batch_size}'
          f', torch threads {torch.get_num_threads()}, people found '
          f'{res["people"]}')
    for name, key in (('prototype (models reloaded per image)', 'prototype'),
                      ('precompute_priors (loaded once, batched)',
                       'batched')):
        w, c = res[key]
        print(f'{name:<44s} {w / n * 1e3:7.0f} ms/image wall '
              f'{c / n * 1e3:7.0f} ms/image CPU')
    (pw, pc), (bw, bc) = res['prototype'], res['batched']
    print(f'ratio prototype / precompute: wall {pw / bw:.1f}x, '
          f'CPU {pc / bc:.1f}x')
    return res


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
    return dict(cost=cost, signal=signal)[args.mode](args)


if __name__ == '__main__':
    main()
