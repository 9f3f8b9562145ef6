"""Write a synthetic dataset in the Pascal-part layout.

Articulated people (head, torso, upper/lower arms and legs, hands, feet) in
varied poses, sizes and views on cluttered backgrounds, with exact masks.
See :mod:`mmhierseg.testing.synthetic`.

Example::

    python tools/make_synthetic_dataset.py data/synthetic_pascal_part \\
        --num-train 800 --num-val 200 --seed 0
"""
import argparse
import sys

from mmhierseg.utils import set_offline_env


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument(
        'out_dir', nargs='?', default='data/synthetic_pascal_part/',
        help='output root (default: data/synthetic_pascal_part/)')
    parser.add_argument('--num-train', type=int, default=800)
    parser.add_argument('--num-val', type=int, default=200)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--layout', default='pascal_part',
        choices=['pascal_part', 'person_part'],
        help='pascal_part: gt_masks/*.npy; person_part: '
        'SegmentationPart/*.png in the PASCAL-Person-Part id order')
    parser.add_argument('--closeup-prob', type=float, default=0.22,
                        help='share of close-ups without lower body')
    parser.add_argument('--grayscale-prob', type=float, default=0.1)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Generate the dataset and print its summary.

    Args:
        argv (list[str], optional): Command-line arguments.

    Returns:
        int: 0.
    """
    set_offline_env()
    args = parse_args(argv)
    from mmhierseg.testing.synthetic import make_synthetic_dataset
    make_synthetic_dataset(
        args.out_dir,
        num_train=args.num_train,
        num_val=args.num_val,
        seed=args.seed,
        layout=args.layout,
        closeup_prob=args.closeup_prob,
        grayscale_prob=args.grayscale_prob,
        verbose=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
