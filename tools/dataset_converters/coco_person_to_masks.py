"""COCO person instances -> body-level masks (mixed-granularity training).

Writes ``OUT/JPEGImages/<id>.jpg``, ``OUT/gt_masks/<id>.npy`` (0 background,
1 body, 255 crowd regions) and ``OUT/<split>`` from the ``person``
annotations (polygons or RLE) of a COCO instance file. Images without a
person are skipped and counted (``--keep-empty`` keeps them, all
background). Everything is checked first: no person category, a missing
image file, an image whose size differs from its entry, a malformed or
wrongly sized segmentation stop it with every problem listed (exit status
2, nothing written). Read the result with
``PascalPartDataset(label_level='body')``; see docs/GUIDE.md, "Labels of
mixed granularity". Example::

    python tools/dataset_converters/coco_person_to_masks.py \\
        annotations/instances_train2017.json train2017/ data/coco_person \\
        --split train_id.txt
"""
import argparse
import sys

from mmhierseg.utils import register_all_modules, set_offline_env


def main(argv=None) -> int:
    """Convert.

    Args:
        argv (list[str], optional): Command-line arguments.

    Returns:
        int: 0, or 2 when the input is refused.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('ann_file', help='COCO instance annotations (JSON)')
    parser.add_argument('img_dir', help='folder of the images')
    parser.add_argument('out_dir', help='dataset root to write')
    parser.add_argument('--split', default='train_id.txt',
                        help='split file to write (default: train_id.txt)')
    parser.add_argument('--hierarchy', default='pascal_part',
                        help='tree preset (default: pascal_part)')
    parser.add_argument('--category', default='person',
                        help='category name of the people (default: person)')
    parser.add_argument('--keep-empty', action='store_true',
                        help='keep images without a person (all background)')
    args = parser.parse_args(argv)
    set_offline_env()
    register_all_modules()
    from mmhierseg.datasets.coco_person_masks import (
        CocoInputError, convert_coco_person_masks)
    try:
        counts = convert_coco_person_masks(**vars(args))
    except (CocoInputError, OSError, ValueError) as e:
        print(f'coco_person_to_masks: error: {e}', file=sys.stderr)
        return 2
    print(f"wrote {counts['images']} images ({counts['people']} people, "
          f"{counts['crowd']} crowd regions) to {args.out_dir}; skipped "
          f"{counts['skipped_empty']} without a person")
    return 0


if __name__ == '__main__':
    sys.exit(main())
