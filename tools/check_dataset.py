"""Check a Pascal-part / PASCAL-Person-Part dataset on disk.

Prints split sizes, per-class pixel shares at every level of the hierarchy,
the EXIF orientation policy in force and the images that carry an
orientation tag, and every problem found (missing, unreadable or corrupt
files, masks of the wrong dtype, rank or size, values outside the tree,
empty or overlapping splits, and pose prior files that are missing,
unreadable or truncated, record another image size than their image's, or
lack the person mask the 'mask' channel needs), each naming the file and
the fix. The prior files (``<root>/priors/<id>.npz``, or ``--priors``) are
read whole, with a summary of what made them. Exits with status 1 when
there is a problem, 0 otherwise (2: bad arguments).

Example::

    python tools/check_dataset.py data/Pascal-part
    python tools/check_dataset.py data/pascal_person_part --layout person_part
    python tools/check_dataset.py data/my_photos --orientation exif
    python tools/check_dataset.py data/synth --prior-channels head torso
    python tools/check_dataset.py data/coco_person --label-level body \
        --splits train=train_id.txt
"""
import argparse
import sys

from mmhierseg.datasets import LAYOUTS, ORIENTATIONS, check_dataset
from mmhierseg.engine.cli import SplitFilesAction
from mmhierseg.priors import PRIOR_CHANNELS
from mmhierseg.utils import register_all_modules, set_offline_env


def main(argv=None) -> int:
    """Run the check.

    Args:
        argv (list[str], optional): Command-line arguments.

    Returns:
        int: 0 when the dataset has no problem, 1 otherwise.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('data_root', help='dataset root')
    parser.add_argument('--layout', default='pascal_part',
                        choices=sorted(LAYOUTS),
                        help='folder layout (default: pascal_part)')
    parser.add_argument(
        '--hierarchy',
        help="hierarchy preset of the masks (default: the layout's)")
    parser.add_argument(
        '--label-level', metavar='LEVEL',
        help="the level whose class ids the masks hold, as the dataset's "
        "label_level (a name such as 'body' for person masks, or an index;"
        ' default: the leaf level)')
    parser.add_argument(
        '--splits', nargs='+', action=SplitFilesAction, metavar='NAME=FILE',
        help='split files, e.g. train=train_id.txt val=val_id.txt')
    parser.add_argument(
        '--orientation', dest='image_orientation',
        choices=sorted(ORIENTATIONS),
        help="EXIF orientation policy: 'raw' (default; tags ignored, as "
        "Pascal-part's masks) or 'exif' (tags applied, for masks drawn on "
        'displayed images); use the value of the dataset config')
    for name in ('img-dir', 'mask-dir', 'img-suffix', 'mask-suffix'):
        parser.add_argument(f'--{name}')
    parser.add_argument(
        '--no-decode', dest='decode_images', action='store_false',
        help='read image headers only (faster; misses truncated images)')
    parser.add_argument('--progress', action='store_true',
                        help='show a progress bar')
    parser.add_argument(
        '--priors', default='auto', metavar='DIR',
        help="prior folder, as LoadPoseAnnotations' prior_dir: a name next "
        'to the image folder or an absolute path (default: priors, when it '
        "exists); 'none': not checked")
    parser.add_argument(
        '--prior-channels', nargs='+', default=list(PRIOR_CHANNELS),
        choices=PRIOR_CHANNELS, metavar='NAME',
        help="channels the priors must serve, as the config's "
        "model.stem.channels ('mask' needs a person mask in every file; "
        f"default: all, {' '.join(PRIOR_CHANNELS)})")
    args = parser.parse_args(argv)
    if args.label_level is not None and args.label_level.lstrip(
            '-').isdigit():
        args.label_level = int(args.label_level)
    if args.priors.lower() == 'none':
        args.priors = None
    set_offline_env()
    register_all_modules()
    report = check_dataset(**vars(args))
    print(report.format())
    return 0 if report.ok else 1


if __name__ == '__main__':
    sys.exit(main())
