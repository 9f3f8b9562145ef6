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
from collections import defaultdict

import cv2
import numpy as np

_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from mmhierseg.priors import PersonPriors, save_priors  # noqa: E402

NUM_KPTS = 17


def parse_args(argv=None):
    """Command-line arguments (``argv`` defaults to ``sys.argv[1:]``)."""
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('keypoints', help='COCO annotation or results JSON')
    p.add_argument('--out', required=True, help='folder for <name>.npz')
    p.add_argument(
        '--images',
        help='COCO JSON with the `images` list (for a results file)')
    p.add_argument(
        '--no-mask',
        action='store_true',
        help='ignore `segmentation` (no person mask in the files)')
    return p.parse_args(argv)


def _load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise SystemExit(f'{path}: not a readable JSON file ({e})')


def _mask(segs, height, width, path):
    """Union of COCO polygons / RLEs, or None when there are none."""
    mask = np.zeros((height, width), np.uint8)
    any_seg = False
    for seg in segs:
        if isinstance(seg, list):  # polygons
            for poly in seg:
                pts = np.asarray(poly, np.float64).reshape(-1, 2)
                cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 1)
                any_seg = True
        elif isinstance(seg, dict):  # RLE
            try:
                from pycocotools import mask as rle
            except ImportError:
                try:
                    from xtcocotools import mask as rle
                except ImportError:
                    raise SystemExit(
                        f'{path}: RLE segmentations need pycocotools '
                        '(`pip install pycocotools`), or pass --no-mask')
            if isinstance(seg['counts'], list):
                seg = rle.frPyObjects(seg, height, width)
            mask |= rle.decode(seg).astype(np.uint8)
            any_seg = True
    return mask.astype(bool) if any_seg else None


def convert(anns, images, out, source, with_mask, results, path):
    """Write one file per image; returns the number of people written.

    ``results``: the keypoints' third values are scores (a results file),
    not COCO visibility flags.
    """
    by_image = defaultdict(list)
    for k, a in enumerate(anns):
        if a.get('iscrowd', 0):
            continue
        kpts = np.asarray(a.get('keypoints', []), np.float32)
        if kpts.size != 3 * NUM_KPTS:
            raise SystemExit(
                f'{path}: entry {k} (image_id {a.get("image_id")}) has '
                f'{kpts.size // 3} keypoints; COCO-17 keypoints needed')
        by_image[a['image_id']].append((a, kpts.reshape(NUM_KPTS, 3)))
    # masks only when the file has segmentations at all
    with_mask = with_mask and any(
        a.get('segmentation') for a, _ in sum(by_image.values(), []))
    people = 0
    for img in images:
        h, w = int(img['height']), int(img['width'])
        found = by_image.get(img['id'], [])
        boxes, kpts, scores, vis, segs = [], [], [], [], []
        for a, k in found:
            known = k[:, 2] > 0
            if a.get('bbox'):
                x0, y0, bw, bh = (float(v) for v in a['bbox'])
                boxes.append((x0, y0, x0 + bw, y0 + bh))
            else:  # the extent of the known keypoints
                pts = k[known, :2] if known.any() else np.zeros((1, 2))
                boxes.append((*pts.min(0), *pts.max(0)))
            kpts.append(k[:, :2])
            scores.append(k[:, 2] if results else known.astype(np.float32))
            vis.append(k[:, 2])
            segs.append(a.get('segmentation', []))
        mask = None
        if with_mask:
            mask = _mask(segs, h, w, path)
            mask = np.zeros((h, w), bool) if mask is None else mask
        priors = PersonPriors(
            np.asarray(boxes, np.float32).reshape(-1, 4),
            np.asarray(kpts, np.float32).reshape(-1, NUM_KPTS, 2),
            np.asarray(scores, np.float32).reshape(-1, NUM_KPTS), (h, w),
            mask, None if results else np.asarray(vis, np.uint8).reshape(
                -1, NUM_KPTS))
        name = osp.splitext(osp.basename(img['file_name']))[0] + '.npz'
        save_priors(osp.join(out, name), priors, source)
        people += len(found)
    return people


def main(argv=None):
    args = parse_args(argv)
    data = _load(args.keypoints)
    if isinstance(data, list):
        if not args.images:
            raise SystemExit(f'{args.keypoints} is a results list: pass '
                             '--images COCO.json for the image names/sizes')
        anns, images = data, _load(args.images).get('images')
    else:
        anns, images = data.get('annotations', []), data.get('images')
    if not images:
        raise SystemExit(f'{args.images or args.keypoints}: no `images` list')
    with open(args.keypoints, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    source = dict(
        settings=dict(kind='coco_keypoints'),
        file=osp.basename(args.keypoints),
        sha256=digest)
    people = convert(anns, images, args.out, source, not args.no_mask,
                     isinstance(data, list), args.keypoints)
    print(f'{len(images)} images, {people} people -> {args.out}')


if __name__ == '__main__':
    main()
