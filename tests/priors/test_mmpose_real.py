"""The mmpose backend against the real mmpose 1.3 (RTMPose-s, random init).

No download: the RTMPose-s COCO config shipped inside mmpose is built with
its pretrained backbone switched off and saved as a local checkpoint; the
person detector is a random-weight YOLO whose boxes are replaced by known
ones, so RTMPose really runs on the crops we chose.
"""
import os.path as osp

import numpy as np
import pytest
import torch


@pytest.fixture(scope='module')
def rtmpose_files(tmp_path_factory):
    import mmpose
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmpose.apis import init_model
    src = osp.join(osp.dirname(mmpose.__file__), '.mim', 'configs',
                   'body_2d_keypoint', 'rtmpose', 'coco',
                   'rtmpose-s_8xb256-420e_coco-256x192.py')
    cfg = Config.fromfile(src)
    cfg.model.backbone.init_cfg = None  # no pretrained download
    d = tmp_path_factory.mktemp('rtmpose')
    cfg_path = str(d / 'rtmpose_s.py')
    cfg.dump(cfg_path)
    with DefaultScope.overwrite_default_scope('mmpose'):
        model = init_model(cfg_path, None, device='cpu')
    ckpt = str(d / 'rtmpose_s_random.pth')
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=model.dataset_meta)), ckpt)
    return cfg_path, ckpt


def test_rtmpose_runs_on_given_boxes(rtmpose_files, monkeypatch):
    from mmengine.registry import DefaultScope

    import mmhierseg.priors.mmpose_pose as mp
    cfg_path, ckpt = rtmpose_files
    boxes_per_image = [
        np.array([[10, 5, 60, 90], [300, 20, 380, 150]], np.float32),
        np.zeros((0, 4), np.float32),
    ]

    class _Boxes:
        def __init__(self, b):
            self.xyxy = torch.from_numpy(b)

    class _Res:
        def __init__(self, b):
            self.boxes = _Boxes(b)

    monkeypatch.setattr(
        mp, 'yolo_predict',
        lambda det, images, device, **kw: [_Res(b) for b in boxes_per_image])
    with DefaultScope.overwrite_default_scope('mmseg'):
        backend = mp.MMPoseBackend(config=cfg_path, checkpoint=ckpt,
                                   det=dict(weights='yolov8n.yaml'))
        rng = np.random.default_rng(0)
        images = [rng.integers(0, 255, (160, 400, 3), dtype=np.uint8)
                  for _ in range(2)]
        results = backend.predict(images, device='cpu')
        # the caller's scope is restored
        assert DefaultScope.get_current_instance().scope_name == 'mmseg'
    assert len(results) == 2
    r0, r1 = results
    assert r0.keypoints.shape == (2, 17, 2) and r0.scores.shape == (2, 17)
    np.testing.assert_array_equal(r0.boxes, boxes_per_image[0])
    assert r1.keypoints.shape == (0, 17, 2)
    # RTMPose decodes keypoints inside (a margin around) each person's box:
    # each person's points lie near its own box, in original pixels
    # (x > 255 survives for the second person).
    for box, kpts in zip(boxes_per_image[0], r0.keypoints):
        w, h = box[2] - box[0], box[3] - box[1]
        assert (kpts[:, 0] > box[0] - w).all() and \
            (kpts[:, 0] < box[2] + w).all()
        assert (kpts[:, 1] > box[1] - h).all() and \
            (kpts[:, 1] < box[3] + h).all()
    assert r0.keypoints[1, :, 0].min() > 255
