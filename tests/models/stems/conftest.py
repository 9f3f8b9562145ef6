"""Fixtures for the stem tests: random-weight ultralytics models, built once.

The pose model is ``YOLO('yolov8n-pose.yaml')`` (random weights, shared by
every stem through the process-wide model store); FastSAM only loads
``.pt`` files, so a ``YOLO('yolov8n-seg.yaml')`` is saved once per session.
Images are tiny (72x96, inference size 96) to keep the suite fast.
"""
import pytest

from ._stem_utils import MEAN, POSE, STD


@pytest.fixture(scope='session')
def fastsam_weights(tmp_path_factory):
    """A random-weight FastSAM-architecture checkpoint (.pt)."""
    from ultralytics import YOLO
    path = tmp_path_factory.mktemp('fastsam') / 'fastsam_random.pt'
    YOLO('yolov8n-seg.yaml').save(str(path))
    return str(path)


@pytest.fixture
def make_stem(fastsam_weights):
    """Build a PosePriorStem from the mmseg registry with test models."""
    from mmseg.registry import MODELS

    def make(**kwargs):
        cfg = dict(
            type='PosePriorStem',
            pose=dict(POSE),
            # conf ~ 0: the random FastSAM then returns (random) segments
            sam=dict(weights=fastsam_weights, imgsz=96, conf=1e-6),
            mean=MEAN,
            std=STD)
        cfg.update(kwargs)
        return MODELS.build(cfg)

    return make
