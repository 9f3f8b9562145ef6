"""Bring your own keypoints: COCO-format keypoints -> pose prior files.

Writes one ``<out>/<image name>.npz`` per image listed in the annotation
file (people's boxes, COCO-17 keypoints in pixels, confidences, COCO
visibility flags and, from the ``segmentation`` polygons or RLE, their
mask), the same files ``tools/precompute_priors.py`` writes. Images without
people get a file too (nobody found).

Two inputs are understood:

* a COCO keypoint annotation file (``images``, ``annotations`` with
  ``keypoints = [x, y, v] * 17``, ``bbox`` xywh, optional ``segmentation``):
  a labelled joint (``v >= 1``) gets confidence 1, an unlabelled one 0;
* a COCO *results* file of any pose estimator (a list of ``{image_id,
  keypoints = [x, y, score] * 17, score, bbox?}``) plus ``--images`` (a COCO
  file whose ``images`` give the names and sizes): the scores are kept.

Everything is checked before a file is written. Refused (exit status 2,
nothing written; every problem listed with the image or annotation id and
the fix): two images whose file names give one prior file (or share an
id); and, unless ``--skip-bad``, an image without a positive integer
``height``/``width``, an annotation whose ``image_id`` is not in the images,
without 17 finite keypoints, with a ``bbox`` of zero or negative width or
height, or with a malformed ``segmentation`` (polygons ``[x1, y1, x2, y2,
...]`` of at least 3 points, or RLE of the image's size). ``--skip-bad``
leaves those out and lists each (exit status 0). Crowd regions
(``iscrowd``) are no people and are skipped silently.

Then set ``any_source=True`` in the config's ``LoadPoseAnnotations`` (the
files were not made by ``model.stem``'s pose model). Example::

    python tools/dataset_converters/coco_keypoints_to_priors.py \\
        person_keypoints_train.json --out data/Pascal-part/priors
"""
import argparse
import hashlib
import json
import os.path as osp
import sys

_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

EXIT_STATUS = """exit status:
  0  files written (with --skip-bad: the images and annotations left out
     are listed)
  2  bad arguments, or the input refused (every problem is listed with the
     image or annotation id and the fix; nothing was written)"""


class InputError(SystemExit):
    """A refused input: exit status 2, the message on stderr."""

    def __init__(self, message: str):
        super().__init__(message)
        self.code = 2


def parse_args(argv=None):
    """Command-line arguments (``argv`` defaults to ``sys.argv[1:]``)."""
    p = argparse.ArgumentParser(
        description=__doc__.split('\n')[0], epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('keypoints', help='COCO annotation or results JSON')
    p.add_argument('--out', required=True, help='folder for <name>.npz')
    p.add_argument(
        '--images',
        help='COCO JSON with the `images` list (for a results file)')
    p.add_argument(
        '--no-mask',
        action='store_true',
        help='ignore `segmentation` (no person mask in the files)')
    p.add_argument(
        '--skip-bad',
        action='store_true',
        help='leave out (and list) each image without a valid height/width '
        'and each annotation of an unknown image, with a bad box, keypoints '
        'or segmentation, instead of refusing the file (two images writing '
        'one file are always refused)')
    return p.parse_args(argv)


def _load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise InputError(f'{path}: not a readable JSON file ({e})')


def _run(args):
    # imported here: --help and argument errors answer at once
    from mmhierseg.priors.coco_keypoints import (CocoInputError,
                                                 convert_coco_keypoints)
    data = _load(args.keypoints)
    if isinstance(data, list):
        if not args.images:
            raise InputError(f'{args.keypoints} is a results list: pass '
                             '--images COCO.json for the image names/sizes')
        listing = _load(args.images)
        anns = data
        images = listing.get('images') if isinstance(listing, dict) else None
    elif isinstance(data, dict):
        anns, images = data.get('annotations', []), data.get('images')
    else:
        raise InputError(f'{args.keypoints}: neither a COCO file nor a '
                         'results list')
    if not images:
        raise InputError(f'{args.images or args.keypoints}: no `images` list')
    with open(args.keypoints, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    source = dict(
        settings=dict(kind='coco_keypoints'),
        file=osp.basename(args.keypoints),
        sha256=digest)
    try:
        written, people, left_out = convert_coco_keypoints(
            anns, images, args.out, source, not args.no_mask,
            isinstance(data, list), args.skip_bad, args.keypoints)
    except CocoInputError as e:
        raise InputError(str(e)) from None
    except OSError as e:
        raise InputError(f'--out {args.out}: cannot write there ({e})')
    print(f'{written} images, {people} people -> {args.out}')
    if left_out:
        print(f'left out (--skip-bad), {len(left_out)}:\n' +
              '\n'.join(f'  - {line}' for line in left_out))


def main(argv=None):
    """Convert; a refused input raises :class:`InputError` (status 2) after
    printing its message to stderr.

    Args:
        argv (list[str], optional): Arguments; defaults to ``sys.argv[1:]``.
    """
    args = parse_args(argv)
    try:
        _run(args)
    except InputError as e:
        print(f'coco_keypoints_to_priors: error: {e}', file=sys.stderr)
        raise


if __name__ == '__main__':
    main()
