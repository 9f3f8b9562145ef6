"""Convert the original Pascal-Part annotations to a training layout.

Reads ``Annotations_Part/<id>.mat`` (Chen et al., 2014) and the VOC
``JPEGImages/<id>.jpg``, keeps the person class, maps the fine part names
(head, hair, eyes, ..., luarm, llarm, lhand, luleg, llleg, lfoot, ...) to
the six part classes and writes either layout:

* ``pascal_part``: ``gt_masks/<id>.npy`` (uint8, ids of the 'pascal_part'
  hierarchy), ``JPEGImages/``, ``train_id.txt``, ``val_id.txt``,
  ``classes.txt``;
* ``person_part``: ``SegmentationPart/<id>.png`` (ids of
  'pascal_person_part'), same images and split files.

Example::

    python tools/dataset_converters/pascal_part.py \\
        VOCdevkit/VOC2010/JPEGImages Annotations_Part data/Pascal-part \\
        --layout pascal_part
"""
import argparse
import sys

from mmhierseg.datasets import LAYOUTS, convert_pascal_part
from mmhierseg.engine.cli import SplitFilesAction
from mmhierseg.utils import register_all_modules, set_offline_env


def main(argv=None) -> int:
    """Run the conversion.

    Args:
        argv (list[str], optional): Command-line arguments.

    Returns:
        int: 0.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('img_dir', help='VOC JPEGImages folder')
    parser.add_argument('mat_dir', help='Pascal-Part Annotations_Part folder')
    parser.add_argument('out_dir', help='output dataset root')
    parser.add_argument('--layout', default='pascal_part',
                        choices=sorted(LAYOUTS))
    parser.add_argument(
        '--split', dest='splits', nargs='+', action=SplitFilesAction,
        metavar='NAME=FILE',
        help='use these split files (ids without a person are dropped), '
        'e.g. train=train_id.txt val=val_id.txt; default: random split')
    parser.add_argument('--val-ratio', type=float, default=0.2,
                        help='val share of the random split')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the random split')
    parser.add_argument('--link', dest='link_images', action='store_true',
                        help='symlink images instead of copying them')
    parser.add_argument(
        '--unlabeled', default='background',
        choices=['background', 'ignore'],
        help='label of person pixels that no part covers (default: '
        'background)')
    parser.add_argument('--no-progress', dest='progress',
                        action='store_false')
    args = parser.parse_args(argv)
    set_offline_env()
    register_all_modules()
    summary = convert_pascal_part(**vars(args))
    print(f"converted {summary['num_images']} images with "
          f"{summary['num_people']} people to {summary['out_dir']} "
          f"(splits: {summary['splits']}); {len(summary['skipped'])} "
          'images without a person skipped')
    return 0


if __name__ == '__main__':
    sys.exit(main())
