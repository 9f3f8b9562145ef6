"""Write a synthetic dataset in the Pascal-part layout.

Articulated people (head, torso, upper/lower arms and legs, hands, feet) in
varied poses, sizes and views on cluttered backgrounds, with exact masks.
See :mod:`mmhierseg.testing.synthetic`. A folder that is not empty is
refused unless ``--overwrite`` is given (a real split must not be lost).

Example::

    python tools/make_synthetic_dataset.py data/synthetic_pascal_part \\
        --num-train 800 --num-val 200 --seed 0
    python tools/make_synthetic_dataset.py data/synth_mixed --num-train 200 \
        --num-val 100 --coarse-train 600 --coarse-val 100 --coarse-level body
"""
import argparse
import os
import os.path as osp
import sys

from mmhierseg.datasets import LAYOUTS
from mmhierseg.utils import register_all_modules, set_offline_env


def main(argv=None) -> int:
    """Generate the dataset and print its summary.

    Args:
        argv (list[str], optional): Command-line arguments.

    Returns:
        int: 0, or 2 when the target is refused.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument(
        'out_dir', nargs='?', default='data/synthetic_pascal_part/',
        help='output root (default: data/synthetic_pascal_part/)')
    parser.add_argument('--num-train', type=int, default=800)
    parser.add_argument('--num-val', type=int, default=200)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--layout', default='pascal_part', choices=sorted(LAYOUTS),
        help='pascal_part: gt_masks/*.npy; person_part: '
        'SegmentationPart/*.png in the PASCAL-Person-Part id order')
    parser.add_argument('--closeup-prob', type=float, default=0.22,
                        help='share of close-ups without lower body')
    parser.add_argument('--grayscale-prob', type=float, default=0.1)
    parser.add_argument(
        '--no-priors', dest='priors', action='store_false',
        help='do not write the oracle pose priors (priors/<id>.npz: COCO-17 '
        'keypoints, boxes and mask of the drawn people)')
    parser.add_argument(
        '--prior-degrade', nargs=3, type=float, default=None,
        metavar=('JITTER', 'DROP', 'MISS'),
        help='degrade the oracle priors like a pose model: keypoint noise '
        '(std, fraction of the person box diagonal), share of dropped '
        'joints, share of missed people')
    parser.add_argument(
        '--prior-mask', default='oracle', choices=('oracle', 'keypoints'),
        help="the priors' person mask: oracle (the true one, as a perfect "
        'FastSAM) or keypoints (drawn from the keypoints, as the offline '
        'pipeline without FastSAM weights does; default: oracle)')
    parser.add_argument(
        '--coarse-train', type=int, default=0, metavar='N',
        help='also write N training images labelled only down to '
        '--coarse-level (masks of that level\'s ids), listed in '
        'train_<level>_id.txt, for mixed-granularity training (default: 0)')
    parser.add_argument(
        '--coarse-val', type=int, default=0, metavar='N',
        help='the same for val_<level>_id.txt (default: 0)')
    parser.add_argument(
        '--coarse-level', default='body', metavar='LEVEL',
        help="level name of the coarse images' masks (default: body)")
    parser.add_argument(
        '--overwrite', action='store_true',
        help='write into a folder that is not empty (files with the '
        'generated names, split files included, are replaced)')
    kwargs = vars(parser.parse_args(argv))
    out, overwrite = kwargs['out_dir'], kwargs.pop('overwrite')
    if osp.exists(out) and not osp.isdir(out):
        print(f'make_synthetic_dataset: {out} is a file, not a folder.',
              file=sys.stderr)
        return 2
    entries = sorted(os.listdir(out)) if osp.isdir(out) else []
    if entries and not overwrite:
        print(
            f'make_synthetic_dataset: {out} is not empty ({len(entries)} '
            f'entries: {", ".join(entries[:5])}'
            f'{", ..." if len(entries) > 5 else ""}); nothing was written. '
            'Generating here would replace its split files and images. '
            'Choose a new or empty folder, or pass --overwrite to replace '
            'them.',
            file=sys.stderr)
        return 2
    if kwargs['prior_degrade'] is not None:
        kwargs['prior_degrade'] = dict(
            zip(('jitter', 'drop', 'miss'), kwargs['prior_degrade']))
    set_offline_env()
    register_all_modules()
    from mmhierseg.testing.synthetic import make_synthetic_dataset
    make_synthetic_dataset(**kwargs, verbose=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
