"""PosePriorStem with random-weight ultralytics models (and stubs where a
random model cannot find anybody)."""
import sys

import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger
from ultralytics.models.fastsam.predict import FastSAMPredictor

from mmhierseg.priors import (PRIOR_CHANNELS, UltralyticsPoseBackend,
                              render_part_priors)
from ._stem_utils import (H, STANDING, W, FakePose, normalize, person,
                          pose_result, random_images)


def test_forward_shape_and_identity_at_init(make_stem):
    stem = make_stem()
    x = normalize(random_images(2))
    out = stem(x)
    assert out.shape == (2, 3, H, W)
    assert stem.out_channels == 3
    # random weights detect nobody: zero priors, identity fusion
    assert stem.num_empty_images == 2
    assert torch.equal(out, x)

    # with people, the priors are non-zero, yet the output is still the
    # input (prior weights start at zero)
    stem.detector.pose_backend = FakePose([pose_result(STANDING)])
    priors = stem.compute_priors(x)
    assert priors.shape == (2, len(PRIOR_CHANNELS), H, W)
    assert priors[:, 0].sum() > 0  # FastSAM mask
    assert priors[:, 1:].sum() > 100  # part channels drawn
    assert torch.equal(stem(x), x)


def test_more_output_channels_and_channel_subsets(make_stem):
    stem = make_stem(out_channels=8, channels=('head', 'lower_leg'), sam=None)
    assert stem.detector.segmenter is None  # keypoints only: no FastSAM
    assert stem.fuse.in_channels == 5 and stem.fuse.out_channels == 8
    stem.detector.pose_backend = FakePose([pose_result(STANDING)])
    x = normalize(random_images(1))
    out = stem(x)
    assert out.shape == (1, 8, H, W)
    assert torch.equal(out[:, :3], x) and not out[:, 3:].any()
    priors = stem.compute_priors(x)
    box, kpts, scores = STANDING
    ref = render_part_priors(
        kpts[None],
        scores[None],
        box[None],
        H,
        W,
        channels=('head', 'lower_leg'))
    assert ref[0].sum() > 0 and ref[1].sum() > 0
    np.testing.assert_array_equal(priors[0].numpy(), ref)
    with pytest.raises(ValueError, match='distinct names'):
        make_stem(channels=('head', 'hand'))


def test_recover_images_roundtrip(make_stem):
    stem = make_stem(channels=('head', ), sam=None)
    imgs = random_images(3, seed=1)
    np.testing.assert_array_equal(stem.recover_images(normalize(imgs)), imgs)
    # out-of-range values are clamped, not wrapped
    x = normalize(imgs)
    x[0, 0, 0, 0] = 100.0
    x[0, 1, 0, 0] = -100.0
    rec = stem.recover_images(x)
    assert rec[0, 0, 0, 0] == 255 and rec[0, 0, 0, 1] == 0
    bgr_stem = make_stem(channels=('head', ), sam=None, bgr_to_rgb=False)
    bgr_in = normalize(imgs[..., ::-1].copy())  # preprocessor kept BGR
    np.testing.assert_array_equal(bgr_stem.recover_images(bgr_in), imgs)


def test_pose_runs_once_per_batch_on_bgr_images(make_stem, monkeypatch):
    stem = make_stem(channels=('head', ), sam=None)
    backend = stem.detector.pose_backend
    assert isinstance(backend, UltralyticsPoseBackend)
    calls = []
    real_predict = backend.model.predict

    def spy(source, *args, **kwargs):
        calls.append((source, kwargs))
        return real_predict(source, *args, **kwargs)

    monkeypatch.setattr(backend.model, 'predict', spy)
    imgs = random_images(3, seed=2)
    stem(normalize(imgs))
    assert len(calls) == 1  # the whole batch in one call
    source, kwargs = calls[0]
    assert isinstance(source, list) and len(source) == 3
    for got, rgb in zip(source, imgs):
        np.testing.assert_array_equal(got, rgb[..., ::-1])  # BGR
    assert kwargs['device'] == 'cpu' and kwargs['imgsz'] == 96

    # the real backend's output format, with a threshold low enough for
    # random weights to "find" people
    low = UltralyticsPoseBackend('yolov8n-pose.yaml', conf=1e-4, imgsz=96)
    res = low.predict([source[0]], 'cpu')[0]
    assert len(res.boxes) > 0
    assert res.boxes.shape[1:] == (4, ) and res.keypoints.shape[1:] == (17, 2)
    assert res.scores.shape[1:] == (17, )
    assert low.model is backend.model  # loaded once per process


def test_helper_models_are_not_submodules(make_stem):
    stem = make_stem()
    names = [n for n, _ in stem.named_parameters()]
    assert names == ['fuse.weight', 'fuse.bias']
    assert sorted(stem.state_dict()) == ['fuse.bias', 'fuse.weight']
    assert [n for n, _ in stem.named_modules()] == ['', 'fuse']
    helper_params = list(stem.detector.pose_backend.model.parameters()) + list(
        stem.detector.segmenter.model.parameters())
    assert len(helper_params) > 100
    ids = {id(p) for p in stem.parameters()}
    assert not any(id(p) in ids for p in helper_params)
    optim = torch.optim.SGD(stem.parameters(), lr=0.1)
    assert sum(len(g['params']) for g in optim.param_groups) == 2
    stem.train()
    assert not stem.detector.pose_backend.model.model.training
    assert not any(p.requires_grad for p in helper_params)
    # gradients reach fuse only
    stem.detector.pose_backend = FakePose([pose_result(STANDING)])
    x = normalize(random_images(1)).requires_grad_(False)
    stem(x).sum().backward()
    assert stem.fuse.weight.grad is not None
    assert stem.fuse.weight.grad[:, 3:].abs().sum() > 0  # prior columns
    assert all(p.grad is None for p in helper_params)


def test_fastsam_gets_clipped_xyxy_boxes(make_stem, monkeypatch):
    stem = make_stem(channels=('mask', ))
    stem.detector.pose_backend = FakePose([
        pose_result(
            person((-20.5, 10.25, 150.75, 60.5), {}),
            person((30.0, -5.0, 40.0, 300.0), {}),
            person((200.0, 0.0, 300.0, 50.0), {}),  # outside: dropped
        ),
        pose_result(person((1.5, 2.5, 3.5, 4.5), {})),
    ])
    seen = []
    real_prompt = FastSAMPredictor.prompt

    def spy(self, results, bboxes=None, points=None, labels=None, texts=None):
        if bboxes is not None:  # (predict itself calls it prompt-less)
            seen.append(np.array(bboxes, copy=True))
        return real_prompt(
            self,
            results,
            bboxes=bboxes,
            points=points,
            labels=labels,
            texts=texts)

    monkeypatch.setattr(FastSAMPredictor, 'prompt', spy)
    priors = stem.compute_priors(normalize(random_images(2, seed=3)))
    assert len(seen) == 2  # one prompt per image with people
    assert seen[0].dtype == np.float32
    np.testing.assert_array_equal(
        seen[0],
        np.array([[0.0, 10.25, W, 60.5], [30.0, 0.0, 40.0, H]], np.float32))
    np.testing.assert_array_equal(seen[1],
                                  np.array([[1.5, 2.5, 3.5, 4.5]], np.float32))
    # the mask channel holds the union of the masks chosen for the boxes
    assert priors[0, 0].sum() > 0
    assert stem.num_sam_failures == 0


def test_fastsam_point_prompts_are_visible_keypoints(make_stem,
                                                     fastsam_weights,
                                                     monkeypatch):
    stem = make_stem(channels=('mask', ), sam=dict(
        weights=fastsam_weights, imgsz=96, conf=1e-6, prompt='points'))
    box, kpts, scores = STANDING
    scores = scores.copy()
    scores[9] = 0.1  # an invisible wrist is no prompt
    kpts = kpts.copy()
    kpts[16] = (120.0, 68.0)  # outside: clipped to the last column
    stem.detector.pose_backend = FakePose([pose_result((box, kpts, scores))])
    seen = []
    real_prompt = FastSAMPredictor.prompt

    def spy(self, results, bboxes=None, points=None, labels=None,
            texts=None):
        if points is not None or bboxes is not None:
            seen.append((bboxes, np.array(points), np.array(labels)))
        return real_prompt(self, results, bboxes=bboxes, points=points,
                           labels=labels, texts=texts)

    monkeypatch.setattr(FastSAMPredictor, 'prompt', spy)
    stem.compute_priors(normalize(random_images(1, seed=11)))
    assert len(seen) == 1
    bboxes, points, labels = seen[0]
    assert bboxes is None
    expect = kpts[(scores >= 0.5)].copy()
    expect[:, 0] = expect[:, 0].clip(0, W - 1)
    np.testing.assert_array_equal(points, expect)
    assert len(points) == 14 and (labels == 1).all()


def test_mask_channel_is_union_of_prompted_masks(make_stem, monkeypatch):
    from ultralytics.engine.results import Results
    stem = make_stem(channels=('mask', 'head'))
    stem.detector.pose_backend = FakePose([pose_result(STANDING)])
    m1 = torch.zeros(H, W, dtype=torch.uint8)
    m1[5:20, 10:30] = 1
    m2 = torch.zeros(H, W, dtype=torch.uint8)
    m2[15:40, 25:50] = 1

    def fake_prompt(self, results, **prompts):
        assert 'bboxes' in prompts
        res = results[0] if isinstance(results, list) else results
        boxes = torch.tensor(
            [[10, 5, 30, 20, 0.9, 0], [25, 15, 50, 40, 0.8, 0]],
            dtype=torch.float)
        return [
            Results(
                res.orig_img,
                res.path,
                res.names,
                boxes=boxes,
                masks=torch.stack([m1, m2]))
        ]

    monkeypatch.setattr(FastSAMPredictor, 'prompt', fake_prompt)
    priors = stem.compute_priors(normalize(random_images(1, seed=4)))
    expect = (m1.bool() | m2.bool()).float()
    assert torch.equal(priors[0, 0], expect)
    assert priors[0, 1].sum() > 0  # head drawn from the keypoints


def test_nobody_found_gives_zero_priors_and_is_counted(make_stem, monkeypatch):
    stem = make_stem(channels=('head', 'upper_arm', 'lower_leg'), sam=None)
    stem.detector.pose_backend = FakePose(
        [pose_result(), pose_result(STANDING)])
    logger = MMLogger.get_current_instance()
    messages = []
    monkeypatch.setattr(logger, 'warning', messages.append)
    priors = stem.compute_priors(normalize(random_images(2, seed=8)))
    assert not priors[0].any()
    assert priors[1].sum() > 0
    assert stem.num_empty_images == 1 and stem.num_images == 2
    assert len(messages) == 1 and '1 of 2 images' in messages[0]


def test_fastsam_failure_zeroes_that_image_only(make_stem, monkeypatch):
    stem = make_stem(channels=('mask', 'head'))
    stem.eval()
    stem.detector.pose_backend = FakePose([
        pose_result(person((0.0, 0.0, 10.0, 10.0), {0: (5.0, 5.0)})),
        pose_result(STANDING)
    ])
    real_prompt = FastSAMPredictor.prompt

    def flaky(self, results, bboxes=None, **kwargs):
        if bboxes is not None and float(bboxes[0][2]) == 10.0:
            raise RuntimeError('simulated FastSAM failure')
        return real_prompt(self, results, bboxes=bboxes, **kwargs)

    monkeypatch.setattr(FastSAMPredictor, 'prompt', flaky)
    priors = stem.compute_priors(normalize(random_images(2, seed=9)))
    assert not priors[0].any()  # all channels, keypoints included
    assert priors[1, 0].sum() > 0 and priors[1, 1].sum() > 0
    assert stem.num_sam_failures == 1 and stem.num_empty_images == 0


def test_missing_weights_offline_error(make_stem, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    # the helpers load on first online use, so a stem fed precomputed
    # priors never needs the weights; then a missing file is named
    stem = make_stem(
        pose=dict(weights='yolov8n-pose.pt'), sam=None, channels=('head', ))
    with pytest.raises(FileNotFoundError) as err:
        stem(normalize(random_images(1)))
    msg = str(err.value)
    assert "'yolov8n-pose.pt' not found locally" in msg
    assert "model.stem.pose.weights='/path/to/yolov8n-pose.pt'" in msg
    # the default stem names the packaged pose model (found offline, see
    # tests/priors/test_packaged_pose.py)
    from mmseg.registry import MODELS
    assert MODELS.build(dict(type='PosePriorStem')).detector.pose_cfg[
        'weights'] == 'yolo11n-pose.pt'
    with pytest.raises(FileNotFoundError, match='path does not exist'):
        make_stem(
            pose=dict(weights=str(tmp_path / 'no' / 'pose.pt')),
            sam=None,
            channels=('head', )).detector.pose_backend
    # absent FastSAM weights: the masks are drawn from the keypoints
    # (tests/priors/test_person_mask.py); a path that does not exist is an
    # error
    assert make_stem(sam=dict(weights='FastSAM-s.pt')).detector.segmenter \
        is None
    with pytest.raises(
            FileNotFoundError,
            match=r"FastSAM weights '.*FastSAM-s.pt' not found locally.*sam"):
        make_stem(sam=dict(weights=str(tmp_path / 'FastSAM-s.pt'))
                  ).detector.segmenter
    with pytest.raises(KeyError, match="unknown pose backend 'nope'"):
        make_stem(pose=dict(backend='nope'), sam=None, channels=('head', ))

    # allowed to download, but the download fails (as offline): same
    # clear error, the cause chained
    import ultralytics.utils.downloads as downloads

    def fail(*args, **kwargs):
        raise ConnectionError('no route to host')

    monkeypatch.setattr(downloads, 'attempt_download_asset', fail)
    with pytest.raises(
            FileNotFoundError,
            match=r'could not be downloaded \(offline\?\)') as err:
        make_stem(
            pose=dict(weights='yolov8n-pose.pt', download=True),
            sam=None,
            channels=('head', )).detector.pose_backend
    assert isinstance(err.value.__cause__, ConnectionError)


def test_mmpose_backend_missing_says_how_to_install(make_stem, monkeypatch):
    monkeypatch.setitem(sys.modules, 'mmpose', None)
    monkeypatch.setitem(sys.modules, 'mmpose.apis', None)
    with pytest.raises(ImportError, match=r'pip install -e \.\[mmpose\]'):
        make_stem(
            pose=dict(backend='mmpose', config='c.py', checkpoint='c.pth'),
            sam=None,
            channels=('head', )).detector.pose_backend


def test_stem_in_hier_encoder_decoder_train_step(make_stem, monkeypatch):
    from mmengine.optim import OptimWrapper
    from mmengine.registry import init_default_scope
    from mmengine.structures import PixelData
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample

    init_default_scope('mmseg')
    norm = dict(type='BN', requires_grad=True)
    from ._stem_utils import MEAN, POSE, STD
    stem_cfg = dict(
        type='PosePriorStem',
        pose=dict(POSE),
        sam=None,
        channels=('head', 'torso', 'upper_arm', 'lower_arm', 'upper_leg',
                  'lower_leg'))  # mean/std: from the data preprocessor
    model = MODELS.build(
        dict(
            type='HierEncoderDecoder',
            hierarchy='pascal_part',
            stem=stem_cfg,
            data_preprocessor=dict(
                type='SegDataPreProcessor',
                mean=list(MEAN),
                std=list(STD),
                bgr_to_rgb=True,
                pad_val=0,
                seg_pad_val=255,
                size_divisor=8),
            backbone=dict(
                type='ResNet',
                depth=18,
                num_stages=2,
                strides=(1, 2),
                dilations=(1, 1),
                out_indices=(1, ),
                stem_channels=8,
                base_channels=8,
                norm_cfg=norm),
            decode_head=dict(
                type='HierarchicalDecodeHead',
                decoder=dict(
                    type='FCNHead',
                    in_channels=16,
                    in_index=0,
                    channels=8,
                    num_convs=1,
                    concat_input=False,
                    dropout_ratio=0.0,
                    norm_cfg=norm,
                    align_corners=False),
                loss_decode=dict(type='HierarchicalLoss')),
            train_cfg=dict(),
            test_cfg=dict(mode='whole')))
    model.init_weights()
    stem = model.stem
    assert stem.mean == MEAN and stem.std == STD and stem.bgr_to_rgb
    # still the identity after the segmentor's weight init
    assert torch.equal(stem.fuse.weight[:, :3, 0, 0], torch.eye(3))
    assert not stem.fuse.weight[:, 3:].any()
    stem.detector.pose_backend = FakePose(
        [pose_result(STANDING), pose_result()])
    assert not any('pose_backend' in k or 'segmenter' in k
                   for k in model.state_dict())

    g = torch.Generator().manual_seed(0)
    inputs, samples = [], []
    for _ in range(2):
        inputs.append(
            torch.randint(0, 256, (3, H, W), generator=g, dtype=torch.uint8))
        label = torch.randint(0, 7, (1, H, W), generator=g)
        samples.append(
            SegDataSample(
                gt_sem_seg=PixelData(data=label),
                metainfo=dict(img_shape=(H, W), ori_shape=(H, W))))
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    before = stem.fuse.weight.detach().clone()
    log_vars = model.train_step(
        dict(inputs=inputs, data_samples=samples), optim)
    assert {
        'loss', 'decode.loss_body', 'decode.loss_half', 'decode.loss_part'
    } <= set(log_vars)
    assert torch.isfinite(log_vars['loss'])
    assert len(stem.detector.pose_backend.calls) == 1  # one batched call
    assert stem.num_empty_images == 1  # the second image has nobody
    # the prior weights moved: priors reached the loss
    assert not torch.equal(stem.fuse.weight, before)
    assert stem.fuse.weight[:, 3:].abs().sum() > 0

    # samples carrying precomputed priors (here smaller than the batch:
    # zero-padded at the bottom and right, like the images): the pose model
    # is not called, and the priors reach the stem as extra channels
    calls = len(stem.detector.pose_backend.calls)
    for sample in samples:
        prior = torch.zeros(6, H - 3, W - 5, dtype=torch.uint8)
        prior[1, :10, :20] = 1
        sample.pose_prior = PixelData(
            data=prior,
            metainfo=dict(channels=stem.channels, source='synthetic_oracle'))
    logger = MMLogger.get_current_instance()
    messages = []
    monkeypatch.setattr(logger, 'info', messages.append)
    batch = model.data_preprocessor(
        dict(inputs=inputs, data_samples=samples), True)
    x = stem.attach_priors(batch['inputs'], batch['data_samples'])
    assert x.shape == (2, 9, H, W)
    assert torch.equal(x[:, :3], batch['inputs'])
    assert x[:, 4, :10, :20].all() and x[:, 3:].sum() == 2 * 10 * 20
    log_vars = model.train_step(
        dict(inputs=inputs, data_samples=samples), optim)
    assert torch.isfinite(log_vars['loss'])
    assert len(stem.detector.pose_backend.calls) == calls
    # said once: the priors are an oracle's
    assert len(messages) == 1 and 'ORACLE keypoints' in messages[0]
    samples[0].pose_prior.set_metainfo(dict(channels=('head', )))
    with pytest.raises(ValueError, match='prior channels'):
        model.train_step(dict(inputs=inputs, data_samples=samples), optim)
    del samples[1].pose_prior
    with pytest.raises(ValueError, match='some samples'):
        model.train_step(dict(inputs=inputs, data_samples=samples), optim)


def test_mmpose_backend_batches_all_people(make_stem, monkeypatch, tmp_path):
    """The mmpose glue, against a stand-in for mmpose's API (mmpose is not
    installed here): every person of every image goes through one
    ``test_step`` in the mmpose scope, results come back per image."""
    import types

    from mmengine.config import Config
    from mmengine.registry import DefaultScope, init_default_scope

    import mmhierseg.priors.mmpose_pose as mmpose_pose

    class FakeTopDown(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(1, 1)
            self.dataset_meta = dict(num_keypoints=17)
            self.cfg = Config(
                dict(test_dataloader=dict(dataset=dict(pipeline=[]))))
            self.steps = []

        def test_step(self, batch):
            scope = DefaultScope.get_current_instance().scope_name
            self.steps.append((scope, [b.copy() for b in batch['bbox']]))
            out = []
            for bbox in batch['bbox']:
                x1, y1, x2, y2 = bbox[0]
                kpts = np.tile([[(x1 + x2) / 2, (y1 + y2) / 2]], (1, 17, 1))
                inst = types.SimpleNamespace(
                    keypoints=kpts, keypoint_scores=np.full((1, 17), 0.8))
                out.append(types.SimpleNamespace(pred_instances=inst))
            return out

    model = FakeTopDown()
    apis = types.ModuleType('mmpose.apis')
    apis.init_model = lambda cfg, checkpoint, device='cpu': model
    fake = types.ModuleType('mmpose')
    fake.apis = apis
    monkeypatch.setitem(sys.modules, 'mmpose', fake)
    monkeypatch.setitem(sys.modules, 'mmpose.apis', apis)
    boxes = [
        torch.tensor([[10.0, 5.0, 30.0, 60.0], [40.0, 8.0, 90.0, 70.0]]),
        torch.zeros(0, 4),
        torch.tensor([[0.0, 0.0, 20.0, 20.0]])
    ]
    det_calls = []

    def fake_detect(det_model, images, device=None, **kwargs):
        det_calls.append((len(images), kwargs))
        return [
            types.SimpleNamespace(boxes=types.SimpleNamespace(xyxy=b))
            for b in boxes
        ]

    monkeypatch.setattr(mmpose_pose, 'yolo_predict', fake_detect)
    config = tmp_path / 'rtmpose.py'
    config.write_text("default_scope = 'mmpose'\n")
    ckpt = tmp_path / 'rtmpose.pth'
    ckpt.write_bytes(b'')
    init_default_scope('mmseg')
    stem = make_stem(
        pose=dict(
            backend='mmpose',
            config=str(config),
            checkpoint=str(ckpt),
            det=dict(weights='yolov8n.yaml'),
            batch_size=2),
        sam=None,
        channels=('head', ))
    stem.eval()
    priors = stem.compute_priors(normalize(random_images(3, seed=10)))
    assert det_calls == [
        (3, dict(conf=0.25, iou=0.7, imgsz=640, max_det=100, classes=[0]))
    ]
    # three people, chunks of two, in the mmpose scope; xyxy boxes
    assert [len(b) for _, b in model.steps] == [2, 1]
    assert all(scope == 'mmpose' for scope, _ in model.steps)
    np.testing.assert_array_equal(model.steps[0][1][1][0],
                                  [40.0, 8.0, 90.0, 70.0])
    assert DefaultScope.get_current_instance().scope_name == 'mmseg'
    # head disk around each person's box center; image 1 has nobody
    assert priors[0, 0, 32, 20] == 1 and priors[0, 0, 39, 65] == 1
    assert not priors[1].any() and stem.num_empty_images == 1
    assert priors[2, 0, 10, 10] == 1
