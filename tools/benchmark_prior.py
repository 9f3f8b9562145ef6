"""Per-image cost of the pose / FastSAM prior: the prototype's way vs ours.

(a) prototype: both models constructed from their weights files for every
    image, each called on one image;
(b) ours: :class:`PosePriorStem`, models loaded once, the pose model and
    FastSAM run once per batch, with a cold cache and then a warm one.

Same images, same weights, one run. Offline (the default) the models are
random-weight ``yolov8n-pose.yaml`` / ``yolov8s-seg.yaml`` (FastSAM-s's
architecture) saved to ``.pt`` files in a temporary folder; pass real
weights with ``--pose-weights`` / ``--sam-weights``. Random models find
nobody, so FastSAM would never run: ``--force-boxes`` (on by default without
real weights) gives every image without people a full-image box, in both
ways, so both pay for FastSAM.

Example::

    OMP_NUM_THREADS=2 python tools/benchmark_prior.py --num-images 16 \
        --size 320
"""
import argparse
import os
import os.path as osp
import shutil
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmhierseg.utils.offline import set_offline_env  # noqa: E402

set_offline_env()

import mmhierseg  # noqa: E402,F401
from mmhierseg.models.stems import (  # noqa: E402
    PosePriorStem, render_part_priors)
from mmhierseg.models.stems.pose_backend import (  # noqa: E402
    BasePoseBackend, PoseResult)

MEAN = (123.675, 116.28, 103.53)
STD = (58.395, 57.12, 57.375)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument(
        '--pose-weights',
        help='YOLO-pose .pt (default: random '
        'yolov8n-pose.yaml saved to a temp .pt)')
    p.add_argument(
        '--sam-weights',
        help='FastSAM .pt (default: random '
        'yolov8s-seg.yaml saved to a temp .pt)')
    p.add_argument('--num-images', type=int, default=16)
    p.add_argument('--size', type=int, default=320, help='image side')
    p.add_argument(
        '--imgsz', type=int, default=320, help='inference size of both models')
    p.add_argument(
        '--batch-size', type=int, default=8, help='stem batch size (ours)')
    p.add_argument('--sam-conf', type=float, default=0.4)
    p.add_argument(
        '--force-boxes',
        dest='force_boxes',
        action='store_true',
        default=None,
        help='full-image box when nobody is found')
    p.add_argument(
        '--no-force-boxes', dest='force_boxes', action='store_false')
    p.add_argument('--device', default='cpu')
    p.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch threads (default: torch default / '
        'OMP_NUM_THREADS)')
    return p.parse_args()


def synthetic_images(n: int, size: int, seed: int = 0) -> np.ndarray:
    """(n, size, size, 3) uint8 RGB: smooth noise plus a few rectangles."""
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(n):
        base = rng.integers(0, 256, (size // 8, size // 8, 3), np.uint8)
        img = np.kron(base, np.ones((8, 8, 1), np.uint8))[:size, :size]
        img = np.ascontiguousarray(img)
        for _ in range(3):
            x0, y0 = rng.integers(0, size - 40, 2)
            w, h = rng.integers(20, 120, 2)
            img[y0:y0 + h, x0:x0 + w] = rng.integers(0, 256, 3)
        images.append(img)
    return np.stack(images)


class ForceBoxes(BasePoseBackend):
    """Wraps a pose backend: an image without people gets one person with a
    full-image box and no visible keypoint."""

    def __init__(self, backend):
        self.backend = backend

    def predict(self, images, device=None):
        out = []
        for img, res in zip(images, self.backend.predict(images, device)):
            if len(res.boxes) == 0:
                h, w = img.shape[:2]
                res = PoseResult(
                    np.array([[0, 0, w, h]], np.float32),
                    np.zeros((1, 17, 2), np.float32),
                    np.zeros((1, 17), np.float32))
            out.append(res)
        return out


def prototype_way(images_rgb, pose_pt, sam_pt, args, force_boxes):
    """Both models reloaded per image, each called on one image."""
    from ultralytics import YOLO, FastSAM
    h, w = images_rgb.shape[1:3]
    for rgb in images_rgb:
        bgr = np.ascontiguousarray(rgb[..., ::-1])
        pose = YOLO(pose_pt)
        sam = FastSAM(sam_pt)
        res = pose.predict(
            bgr,
            imgsz=args.imgsz,
            conf=0.25,
            verbose=False,
            device=args.device)[0]
        boxes = res.boxes.xyxy.cpu().numpy()
        kpts = res.keypoints.data.cpu().numpy()
        if force_boxes and len(boxes) == 0:
            boxes = np.array([[0, 0, w, h]], np.float32)
            kpts = np.zeros((1, 17, 3), np.float32)
        mask = np.zeros((h, w), bool)
        if len(boxes):
            seg = sam.predict(
                bgr,
                bboxes=boxes.tolist(),
                imgsz=args.imgsz,
                conf=args.sam_conf,
                iou=0.9,
                retina_masks=True,
                verbose=False,
                device=args.device)[0]
            if seg.masks is not None and len(seg.masks):
                mask = seg.masks.data.bool().any(0).cpu().numpy()
        render_part_priors(kpts[..., :2], kpts[..., 2], boxes, h, w)
        del pose, sam, mask


def main():
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    tmp = tempfile.mkdtemp(prefix='bench_prior_')
    try:
        run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args, tmp):
    """Build the models (if not given), time both ways, print the table."""
    from ultralytics import YOLO
    random_models = not (args.pose_weights and args.sam_weights)
    pose_pt, sam_pt = args.pose_weights, args.sam_weights
    if pose_pt is None:
        pose_pt = osp.join(tmp, 'pose_random.pt')
        YOLO('yolov8n-pose.yaml').save(pose_pt)
    if sam_pt is None:
        sam_pt = osp.join(tmp, 'fastsam_s_random.pt')
        YOLO('yolov8s-seg.yaml').save(sam_pt)
    force = random_models if args.force_boxes is None else args.force_boxes
    images = synthetic_images(args.num_images, args.size)
    n = len(images)

    x = torch.from_numpy(images).permute(0, 3, 1, 2).float()
    x = (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(
        1, 3, 1, 1)
    x = x.to(args.device)

    print(f'torch threads: {torch.get_num_threads()}, OMP_NUM_THREADS='
          f'{os.environ.get("OMP_NUM_THREADS")}, cpus: {os.cpu_count()}, '
          f'load avg before: {os.getloadavg()[0]:.2f}')
    print(f'{n} images {args.size}x{args.size}, imgsz {args.imgsz}, '
          f'device {args.device}, batch {args.batch_size}, models: '
          f"{'random (yaml)' if random_models else 'given'}, "
          f'force boxes: {force}')

    # Process-wide first-call costs (lazy imports, kernel set-up) are paid
    # here, by neither way: one throwaway prediction with each model.
    from ultralytics import FastSAM
    warm = np.ascontiguousarray(images[0, ..., ::-1])
    YOLO(pose_pt).predict(
        warm, imgsz=args.imgsz, verbose=False, device=args.device)
    FastSAM(sam_pt).predict(
        warm, imgsz=args.imgsz, verbose=False, device=args.device)

    class Timer:
        """Wall-clock and process CPU seconds of a block (CPU time is less
        disturbed by other processes on a shared machine)."""

        def __enter__(self):
            self.wall, self.cpu = time.perf_counter(), time.process_time()
            return self

        def __exit__(self, *exc):
            self.wall = time.perf_counter() - self.wall
            self.cpu = time.process_time() - self.cpu

    with Timer() as proto:
        prototype_way(images, pose_pt, sam_pt, args, force)

    with Timer() as load:
        stem = PosePriorStem(
            pose=dict(weights=pose_pt, imgsz=args.imgsz, conf=0.25),
            sam=dict(
                weights=sam_pt, imgsz=args.imgsz, conf=args.sam_conf,
                iou=0.9),
            mean=MEAN,
            std=STD,
            cache=dict(max_items=4 * n)).eval()
        if force:
            stem.pose_backend = ForceBoxes(stem.pose_backend)

    def one_pass():
        with Timer() as t, torch.no_grad():
            for s in range(0, n, args.batch_size):
                stem(x[s:s + args.batch_size])
        return t

    cold_first = one_pass()  # includes ultralytics' one-time setup
    warm = one_pass()
    assert stem.num_cache_hits == n, 'warm pass missed the cache'
    stem.cache.clear()
    cold = one_pass()  # steady state: models warm, cache empty

    def row(name, wall, cpu):
        print(f'{name:<54s} {wall / n * 1e3:8.1f} {proto.wall / wall:7.1f}x'
              f' {cpu / n * 1e3:9.1f} {proto.cpu / cpu:7.1f}x')

    print(f'{"per image":<54s} {"wall ms":>8s} {"ratio":>8s} '
          f'{"CPU ms":>9s} {"ratio":>8s}   (ratio = prototype / this)')
    row('(a) prototype: reload both models, one image a call', proto.wall,
        proto.cpu)
    row('(b) ours, cold cache, first pass (+ predictor setup)',
        cold_first.wall, cold_first.cpu)
    row('(b) ours, cold cache, first pass + one-time model load',
        cold_first.wall + load.wall, cold_first.cpu + load.cpu)
    row('(b) ours, cold cache, steady state', cold.wall, cold.cpu)
    row('(b) ours, warm cache', warm.wall, warm.cpu)
    print(f'one-time model load (ours): {load.wall * 1e3:.0f} ms; empty '
          f'images: {stem.num_empty_images}, FastSAM without mask: '
          f'{stem.num_sam_failures} (of {stem.num_images} computed); '
          f'load avg after: {os.getloadavg()[0]:.2f}')

if __name__ == '__main__':
    main()
