"""Check a Pascal-part / PASCAL-Person-Part dataset on disk.

Prints split sizes, per-class pixel shares at every level of the hierarchy
and every problem found (missing, unreadable or corrupt files, masks of the
wrong dtype, rank or size, values outside the tree, empty or overlapping
splits). Exits with status 1 when there is a problem, 0 otherwise.

Example::

    python tools/check_dataset.py data/Pascal-part
    python tools/check_dataset.py data/pascal_person_part --layout person_part
"""
import argparse
import sys

from mmhierseg.utils import set_offline_env


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('data_root', help='dataset root')
    parser.add_argument(
        '--layout', default='pascal_part',
        choices=['pascal_part', 'person_part'],
        help='folder layout (default: pascal_part)')
    parser.add_argument(
        '--hierarchy', default=None,
        help='hierarchy preset of the masks (default: the layout\'s)')
    parser.add_argument(
        '--splits', nargs='+', default=None, metavar='NAME=FILE',
        help='split files, e.g. train=train_id.txt val=val_id.txt')
    parser.add_argument('--img-dir', default=None)
    parser.add_argument('--mask-dir', default=None)
    parser.add_argument('--img-suffix', default=None)
    parser.add_argument('--mask-suffix', default=None)
    parser.add_argument(
        '--no-decode', action='store_true',
        help='read image headers only (faster; misses truncated images)')
    parser.add_argument('--progress', action='store_true',
                        help='show a progress bar')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Run the check.

    Args:
        argv (list[str], optional): Command-line arguments.

    Returns:
        int: 0 when the dataset has no problem, 1 otherwise.
    """
    set_offline_env()
    args = parse_args(argv)
    from mmhierseg.datasets.checks import check_dataset
    splits = None
    if args.splits:
        splits = {}
        for item in args.splits:
            if '=' not in item:
                raise SystemExit(f'--splits expects NAME=FILE, got {item!r}')
            name, fname = item.split('=', 1)
            splits[name] = fname
    report = check_dataset(
        args.data_root,
        layout=args.layout,
        hierarchy=args.hierarchy,
        splits=splits,
        img_dir=args.img_dir,
        mask_dir=args.mask_dir,
        img_suffix=args.img_suffix,
        mask_suffix=args.mask_suffix,
        decode_images=not args.no_decode,
        progress=args.progress)
    print(report.format())
    return 0 if report.ok else 1


if __name__ == '__main__':
    sys.exit(main())
