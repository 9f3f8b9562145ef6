"""tools/export_onnx.py: the ONNX graph (run in onnxruntime) matches the
PyTorch model on real photos; dynamic batch/height/width; one output per
level; a stem's priors are a second input and its pose models stay out.

Tolerance: leaf scores within 1e-4 absolute (measured max 3.4e-5 on the
tiny model); label maps equal wherever the top two leaf scores are more
than 1e-3 apart (elsewhere float noise may pick either)."""

import mmcv
import numpy as np
import pytest
import torch
from mmseg.structures import SegDataSample

from mmhierseg.apis import HierSegInferencer
from mmhierseg.hierarchy import ClassHierarchy
from tests.apis._tiny import photos, write_model

ort = pytest.importorskip('onnxruntime')
TREE = ClassHierarchy.build('pascal_part')
#: the test pipeline's resize in tests.apis._tiny's config
RESIZE = dict(type='Resize', scale=(320, 160), keep_ratio=True)
STEM = ("dict(type='PosePriorStem', pose=dict(weights='yolov8n-pose.yaml'),"
        " sam=None, channels=('head', 'torso'))")


def _photo_batch(h, w):
    """Two real photos resized to h x w: BGR uint8 arrays."""
    return [mmcv.imresize(mmcv.imread(p), (w, h)) for p in photos()[:2]]


def _torch_predict(model, imgs, priors=None):
    """The inferencer's path: the test pipeline's Resize (that of
    ``tests.apis._tiny``), the data preprocessor, test_step; given priors
    (at the image size) resized as the pipeline resizes prior maps."""
    from mmseg.registry import TRANSFORMS
    resize = TRANSFORMS.build(RESIZE)
    results = [resize(dict(img=i, gt_pose_prior=None if priors is None else
                           priors[n].permute(1, 2, 0).numpy(),
                           seg_fields=['gt_pose_prior']))
               for n, i in enumerate(imgs)]
    samples = [SegDataSample(metainfo=dict(
        img_shape=r['img_shape'], ori_shape=i.shape[:2]))
        for r, i in zip(results, imgs)]
    data = dict(inputs=[torch.from_numpy(r['img']).permute(2, 0, 1)
                        for r in results], data_samples=samples)
    if priors is not None:
        resized = torch.stack([torch.from_numpy(np.ascontiguousarray(
            r['gt_pose_prior'].transpose(2, 0, 1))) for r in results])

        def fixed(x):  # the priors the ONNX graph gets, padded like images
            out = torch.zeros(x.shape[0], priors.shape[1], *x.shape[-2:])
            out[:, :, :resized.shape[2], :resized.shape[3]] = resized
            return out
        model.stem.compute_priors = fixed
    with torch.no_grad():
        return model.test_step(data)


def _check(sess, model, h, w, with_priors=False):
    imgs = _photo_batch(h, w)
    feeds = {'image': np.stack([i[..., ::-1].transpose(2, 0, 1)
                                for i in imgs]).astype(np.float32)}
    priors = None
    if with_priors:
        priors = (torch.rand(2, 2, h, w, generator=torch.Generator()
                             .manual_seed(h)) > 0.5).float()
        feeds['priors'] = priors.numpy()
    names = [o.name for o in sess.get_outputs()]
    assert names == list(TREE.level_names) + ['scores']
    outs = dict(zip(names, sess.run(None, feeds)))
    preds = _torch_predict(model, imgs, priors)
    for n, pred in enumerate(preds):
        ref = pred.seg_logits.data.numpy()
        got = outs['scores'][n]
        assert got.shape == ref.shape == (TREE.num_leaves, h, w)
        np.testing.assert_allclose(got, ref, atol=1e-4, rtol=0)
        top2 = np.sort(ref, axis=0)[-2:]
        clear = (top2[1] - top2[0]) > 1e-3
        assert clear.mean() > 0.9
        for k, level in enumerate(TREE.level_names):
            ref_map = pred.get(TREE.field(k, 'pred_sem_seg')).data[0].numpy()
            assert outs[level].shape == (2, h, w)
            np.testing.assert_array_equal(outs[level][n][clear],
                                          ref_map[clear])


@pytest.mark.parametrize('decode', ['consistent', 'independent'])
def test_onnx_matches_pytorch_on_photos(tmp_path, capsys, decode, load_tool):
    cfg, ckpt = write_model(tmp_path / 'model', decode=decode)
    out = str(tmp_path / 'model.onnx')
    assert load_tool('export_onnx').main([cfg, ckpt, out]) == 0
    assert 'equal labels' in capsys.readouterr().out
    model = HierSegInferencer(cfg, ckpt, device='cpu').model
    sess = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    assert [i.name for i in sess.get_inputs()] == ['image']
    if decode == 'consistent':
        # dynamic height and width, including sizes the graph must pad
        for h, w in ((72, 56), (83, 101)):
            _check(sess, model, h, w)
    else:
        imgs = _photo_batch(64, 48)
        feeds = {'image': np.stack([i[..., ::-1].transpose(2, 0, 1)
                                    for i in imgs]).astype(np.float32)}
        outs = sess.run(None, feeds)
        for n, pred in enumerate(_torch_predict(model, imgs)):
            logits = np.split(outs[-1][n], np.cumsum(TREE.num_classes)[:-1])
            for k in range(TREE.num_levels):
                ref = pred.get(TREE.field(k, 'seg_logits')).data.numpy()
                np.testing.assert_allclose(logits[k], ref, atol=1e-4, rtol=0)
                ref = pred.get(TREE.field(k, 'pred_sem_seg')).data[0]
                np.testing.assert_array_equal(outs[k][n], ref.numpy())


def test_stem_priors_are_a_second_input(tmp_path, load_tool):
    cfg, ckpt = write_model(tmp_path / 'model', stem=STEM)
    out = str(tmp_path / 'stem.onnx')
    assert load_tool('export_onnx').main([cfg, ckpt, out]) == 0
    model = HierSegInferencer(cfg, ckpt, device='cpu').model
    sess = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    inputs = sess.get_inputs()
    assert [i.name for i in inputs] == ['image', 'priors']
    assert inputs[1].shape[1] == len(model.stem.channels)
    # the pose model is not in the graph: the weights stored are the
    # segmentor's own (its state dict holds no pose weights)
    import onnx
    graph = onnx.load(out).graph
    stored = sum(int(np.prod(t.dims)) for t in graph.initializer)
    own = sum(v.numel() for v in model.state_dict().values())
    assert stored < 1.05 * own
    _check(sess, model, 64, 80, with_priors=True)
    # the priors count: other priors, other scores
    img = np.random.default_rng(0).uniform(0, 255, (1, 3, 32, 48))
    scores = [sess.run(['scores'], dict(
        image=img.astype(np.float32),
        priors=np.full((1, 2, 32, 48), v, np.float32)))[0] for v in (0, 1)]
    assert np.abs(scores[0] - scores[1]).max() > 1e-3
