"""Small helpers shared by the stem tests (tiny sizes, stub backends)."""
import numpy as np
import torch

import mmhierseg  # noqa: F401  (before mmseg.models: mmcv-lite shim)
from mmhierseg.priors import BasePoseBackend, PoseResult

H, W = 72, 96
MEAN = (123.675, 116.28, 103.53)
STD = (58.395, 57.12, 57.375)
POSE = dict(weights='yolov8n-pose.yaml', imgsz=96)


def normalize(images_uint8):
    """(N, H, W, 3) uint8 RGB -> normalized (N, 3, H, W) float."""
    x = torch.from_numpy(np.asarray(images_uint8)).permute(0, 3, 1, 2).float()
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return (x - mean) / std


def random_images(n, seed=0, h=H, w=W):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, h, w, 3), dtype=np.uint8)


def person(box, points, score=0.9):
    """A PoseResult-style (box, (17, 2) keypoints, (17,) scores) triple."""
    kpts = np.zeros((17, 2), np.float32)
    scores = np.zeros(17, np.float32)
    for k, xy in points.items():
        kpts[k] = xy
        scores[k] = score
    return np.asarray(box, np.float32), kpts, scores


def pose_result(*people):
    if not people:
        return PoseResult.empty()
    boxes, kpts, scores = zip(*people)
    return PoseResult(np.stack(boxes), np.stack(kpts), np.stack(scores))


#: A standing person filling most of a 72x96 image.
STANDING = person(
    (30.0, 4.0, 66.0, 70.0), {
        0: (48.0, 10.0),
        1: (46.0, 9.0),
        2: (50.0, 9.0),
        5: (40.0, 20.0),
        6: (56.0, 20.0),
        7: (38.0, 32.0),
        8: (58.0, 32.0),
        9: (37.0, 42.0),
        10: (59.0, 42.0),
        11: (43.0, 42.0),
        12: (53.0, 42.0),
        13: (42.0, 55.0),
        14: (54.0, 55.0),
        15: (42.0, 68.0),
        16: (54.0, 68.0)
    })


class FakePose(BasePoseBackend):
    """A pose backend answering from a list (cycled), recording its calls."""

    def __init__(self, results):
        self.results = list(results)
        self.calls = []

    def predict(self, images, device=None):
        self.calls.append([im.copy() for im in images])
        return [
            self.results[i % len(self.results)] for i in range(len(images))
        ]
