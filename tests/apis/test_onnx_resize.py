"""The test pipeline's resize inside the ONNX graph
(:mod:`mmhierseg.apis.onnx_export`): the resized size, the image and the
prior maps come out of onnxruntime as mmseg's ``Resize`` (mmcv, OpenCV)
makes them, and pipelines the graph cannot run are refused by name."""
import mmcv
import numpy as np
import pytest
import torch
from torch import nn

from mmhierseg.apis.onnx_export import (HierSegONNXWrapper,
                                        cv2_resize_linear,
                                        cv2_resize_nearest, pipeline_resize)
from tests.apis._tiny import photos

ort = pytest.importorskip('onnxruntime')

LOAD = dict(type='LoadHierImageFromFile')
PACK = dict(type='PackSegInputs')


class _Resize(nn.Module):
    """The graph's resize alone: sizes, image and priors."""

    def __init__(self, resize):
        super().__init__()
        self.resize = resize

    def forward(self, image, priors):
        size = HierSegONNXWrapper.resized_size(self, image)
        return (size, cv2_resize_linear(image, size),
                cv2_resize_nearest(priors, size))


def _session(tmp_path, resize):
    out = str(tmp_path / 'resize.onnx')
    torch.onnx.export(
        _Resize(resize), (torch.rand(1, 3, 40, 30) * 255,
                          torch.rand(1, 2, 40, 30)), out,
        input_names=['image', 'priors'],
        dynamic_axes={n: {2: 'h', 3: 'w'} for n in ('image', 'priors')},
        opset_version=17, dynamo=False)
    return ort.InferenceSession(out, providers=['CPUExecutionProvider'])


def test_pipeline_resize_reads_the_test_pipeline():
    assert pipeline_resize([LOAD, PACK]) is None
    assert pipeline_resize([
        LOAD, dict(type='LoadPoseAnnotations'),
        dict(type='Resize', scale=(640, 160), keep_ratio=True),
        dict(type='LoadHierAnnotations'), dict(type='PackPoseSegInputs')
    ]) == dict(scale=(640, 160), scale_factor=None, keep_ratio=True)
    assert pipeline_resize([dict(type='Resize', scale=256)])['scale'] == \
        (256, 256)
    assert pipeline_resize([dict(type='Resize', scale_factor=0.5)])[
        'scale_factor'] == (0.5, 0.5)


@pytest.mark.parametrize('pipeline, words', [
    ([dict(type='Resize', scale=(64, 32)), dict(type='RandomFlip', prob=1.)],
     'RandomFlip'),
    ([dict(type='Resize', scale=(64, 32))] * 2, 'a second resize'),
    ([dict(type='Resize', scale=(64, 32), backend='pillow')], 'pillow'),
    ([dict(type='Resize', scale=(64, 32), interpolation='bicubic')],
     'bicubic'),
])
def test_pipelines_the_graph_cannot_run_are_refused(pipeline, words):
    with pytest.raises(NotImplementedError, match=words):
        pipeline_resize(pipeline)


@pytest.mark.parametrize('resize', [
    dict(scale=(320, 160), scale_factor=None, keep_ratio=True),
    dict(scale=(2048, 512), scale_factor=None, keep_ratio=True),
    dict(scale=(97, 61), scale_factor=None, keep_ratio=False),
    dict(scale=None, scale_factor=(0.37, 0.61), keep_ratio=False),
])
def test_onnx_resize_is_mmseg_resize(tmp_path, resize):
    """Sizes, images (shrunk and enlarged) and prior maps, exactly."""
    import cv2
    from mmseg.datasets.transforms import Resize
    if not cv2.useOptimized():
        pytest.skip('the graph emulates the SIMD code of optimized OpenCV')
    sess = _session(tmp_path, resize)
    cfg = {k: v for k, v in resize.items() if v is not None}
    transform = Resize(**cfg)
    rng = np.random.default_rng(0)
    images = [mmcv.imread(p) for p in photos()]
    images += [rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
               for h, w in ((37, 53), (1001, 17), (480, 640))]
    for img in images:
        prior = (rng.random(img.shape[:2] + (2, )) > 0.5).astype(np.uint8)
        ref = transform(dict(img=img, gt_pose_prior=prior,
                             seg_fields=['gt_pose_prior']))
        size, got, got_prior = sess.run(None, dict(
            image=img.transpose(2, 0, 1)[None].astype(np.float32),
            priors=prior.transpose(2, 0, 1)[None].astype(np.float32)))
        assert tuple(size) == ref['img_shape']
        np.testing.assert_array_equal(got[0].transpose(1, 2, 0), ref['img'])
        np.testing.assert_array_equal(got_prior[0].transpose(1, 2, 0),
                                      ref['gt_pose_prior'])
