"""Render dataset samples: the image and one overlay panel per level.

The source is a dataset root (read with ``--layout``) or a config file
(its ``<split>_dataloader.dataset``; ``--with-pipeline`` shows the samples
after the config's augmentations). Images are read under the dataset's EXIF
orientation policy, as in training. One PNG per sample is written to
``--output-dir``.

Example::

    python tools/browse_dataset.py data/synthetic_pascal_part \\
        --output-dir /tmp/browse --num 8
    python tools/browse_dataset.py configs/_base_/datasets/pascal_part.py \\
        --split train --with-pipeline --output-dir /tmp/browse_aug
"""
import argparse
import sys

from mmhierseg.datasets import LAYOUTS, ORIENTATIONS
from mmhierseg.utils import register_all_modules, set_offline_env


def main(argv=None) -> int:
    """Render the samples.

    Args:
        argv (list[str], optional): Command-line arguments.

    Returns:
        int: 0.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('source', help='dataset root or config file')
    parser.add_argument('--output-dir', dest='out_dir', required=True,
                        metavar='OUTPUT_DIR', help='folder for the PNG files')
    parser.add_argument('--split', default='train',
                        help='train, val or test (default: train)')
    parser.add_argument('--num', type=int, default=10,
                        help='number of samples (default: 10)')
    parser.add_argument('--layout', default='pascal_part',
                        choices=sorted(LAYOUTS),
                        help='layout of a dataset root')
    parser.add_argument('--hierarchy',
                        help='hierarchy preset of a dataset root')
    parser.add_argument(
        '--orientation', dest='image_orientation',
        choices=sorted(ORIENTATIONS),
        help="EXIF orientation policy (default: the config's, else 'raw')")
    parser.add_argument('--with-pipeline', action='store_true',
                        help='config source: apply the full pipeline')
    args = parser.parse_args(argv)
    set_offline_env()
    register_all_modules()
    from mmhierseg.datasets.browse import browse_dataset
    files = browse_dataset(**vars(args))
    print(f'wrote {len(files)} file(s) to {args.out_dir}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
