"""HierEncoderDecoder: training with a frozen encoder, consistent decoding,
whole/slide inference, flip TTA, the stem hook-in."""
import copy
import functools

import numpy as np
import pytest
import torch
import torch.nn as nn
from hypothesis import given, settings
from hypothesis import strategies as st
from mmengine.optim import OptimWrapper
from mmseg.models.segmentors import SegTTAModel
from mmseg.registry import MODELS

from mmhierseg import ClassHierarchy
from mmhierseg.models.decode_heads import consistent_leaf_scores
from mmhierseg.models.segmentors import HierSegTTAModel

from ._hier_utils import build, level_maps, make_batch, model_cfg

HIER = ClassHierarchy.build('pascal_part')
PATHS = torch.from_numpy(HIER.leaf_paths)


@MODELS.register_module(force=True)
class _CountingStem(nn.Module):
    """Test stem: a 1x1 conv (starts as identity), counts its calls."""

    out_channels = 3

    def __init__(self, **norm):  # the preprocessor's mean/std, if passed
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)
        nn.init.eye_(self.conv.weight.view(3, 3))
        nn.init.zeros_(self.conv.bias)
        self.calls = 0

    def forward(self, inputs):
        self.calls += 1
        return self.conv(inputs)


@MODELS.register_module(force=True)
class _WideStem(nn.Module):
    """Test stem: RGB plus two prior-like channels."""

    out_channels = 5

    def __init__(self, **norm):  # the preprocessor's mean/std, if passed
        super().__init__()

    def forward(self, inputs):
        priors = inputs.mean(1, keepdim=True).expand(-1, 2, -1, -1)
        return torch.cat([inputs, priors], dim=1)


def test_stem_channels_size_the_backbone():
    model = build(model_cfg(stem=dict(type='_WideStem'))).eval()
    assert model.backbone.in_channels == 5
    assert model.backbone.encoder.conv1.in_channels == 5
    with torch.no_grad():
        out = model.test_step(make_batch(n=1, h=32, w=32))
    assert out[0].pred_sem_seg.shape == (32, 32)
    names = [k for k, _ in model.named_parameters()]
    assert not any(k.startswith('stem.') for k in names)  # no parameters


def _snapshot(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize('layout,cascade', [('separate', False),
                                            ('shared', True)])
def test_sgd_steps_change_only_trainable_params(layout, cascade):
    torch.manual_seed(0)
    model = build(model_cfg(layout, cascade, stem=dict(type='_CountingStem')))
    model.train()
    trainable = {k for k, p in model.named_parameters() if p.requires_grad}
    assert trainable and not any(k.startswith('backbone.') for k in trainable)
    assert any(k.startswith('stem.') for k in trainable)
    optim = OptimWrapper(
        torch.optim.SGD([p for p in model.parameters() if p.requires_grad],
                        lr=0.05,
                        momentum=0.9))
    before = _snapshot(model)
    for step in range(3):
        logs = model.train_step(make_batch(seed=step), optim)
    assert {
        'loss', 'decode.loss_body', 'decode.loss_half', 'decode.loss_part'
    } <= set(logs)
    # the logged losses add up to the total
    parts = sum(v for k, v in logs.items() if k.startswith('decode.loss_'))
    assert torch.allclose(parts, logs['loss'])
    after = _snapshot(model)
    for k in before:
        if k.startswith('backbone.'):  # weights and BN buffers, bitwise
            assert torch.equal(before[k], after[k]), k
        elif k in trainable:
            assert not torch.equal(before[k], after[k]), k
    assert not model.backbone.encoder.training
    assert model.stem.calls == 3


def _random_level_logits(seed, n=2, h=5, w=6, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    return [
        torch.randn(n, c, h, w, generator=g) * scale for c in HIER.num_classes
    ]


@functools.lru_cache(maxsize=None)
def _model(decode):
    return build(model_cfg(decode=decode)).eval()


def _decode(decode, seg_logits):
    """Run the segmentor's post-processing on given scores."""
    return _model(decode).postprocess_result(seg_logits)


@settings(max_examples=60, deadline=None, database=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    scale=st.floats(0.1, 20.0, allow_nan=False))
def test_consistent_decoding_never_contradicts(seed, scale):
    levels = _random_level_logits(seed, scale=scale)
    scores = consistent_leaf_scores(levels, PATHS)
    samples = _decode('consistent', scores)
    for i, sample in enumerate(samples):
        maps = level_maps(sample, HIER)
        assert bool(HIER.is_consistent(maps).all())
        # the chosen leaf maximises the path log-probability (brute force);
        # compared by score, so float near-ties cannot make the test flaky
        lp = [x[i].log_softmax(0) for x in levels]
        brute = torch.stack([
            sum(lp[k][int(PATHS[leaf, k])] for k in range(3))
            for leaf in range(7)
        ])
        chosen = brute.gather(0, maps[-1].long()).squeeze(0)
        assert bool((chosen >= brute.max(0).values - 1e-4).all())
        # where the per-level argmaxes happen to agree with the tree, that
        # path is the best one, so the consistent decoding equals it
        # (checked where the best leaf is not a near-tie)
        ind = [x[i].argmax(0) for x in levels]
        top2 = brute.topk(2, dim=0).values
        clear = (top2[0] - top2[1]) > 1e-4
        agree = HIER.is_consistent(ind) & clear
        for k in range(3):
            assert torch.equal(maps[k][0][agree], ind[k][agree])


def test_independent_decoding_can_contradict():
    levels = _random_level_logits(0, n=1, h=2, w=2, scale=0.1)
    # pixel (0, 0): body says background, part says head (4)
    levels[0][0, 0, 0, 0] = 10.0
    levels[2][0, 4, 0, 0] = 10.0
    concat = torch.cat(levels, dim=1)
    ind = _decode('independent', concat)[0]
    maps = level_maps(ind, HIER)
    assert maps[0][0, 0, 0] == 0 and maps[2][0, 0, 0] == 4
    assert not bool(HIER.is_consistent(maps)[0, 0, 0])
    assert ind.seg_logits.data.shape[0] == 7
    assert ind.seg_logits_body.data.shape[0] == 2
    cons = _decode('consistent', consistent_leaf_scores(levels, PATHS))[0]
    assert bool(HIER.is_consistent(level_maps(cons, HIER)).all())


def _check_predictions(samples, shape):
    for s in samples:
        maps = level_maps(s, HIER)
        assert all(tuple(m.shape) == (1, ) + shape for m in maps)
        assert all(m.dtype == torch.int64 for m in maps)
        assert bool(HIER.is_consistent(maps).all())
        assert s.seg_logits.data.shape == (7, ) + shape
        assert torch.equal(
            s.seg_logits.data.argmax(0, keepdim=True), s.pred_sem_seg.data)


def test_whole_inference_removes_padding_and_resizes():
    model = build(model_cfg('shared')).eval()
    # 60x62 images padded to 64x64 by the preprocessor, original 30x31
    data = make_batch(n=2, h=60, w=62, ori_shape=(30, 31))
    with torch.no_grad():
        samples = model.test_step(data)
    _check_predictions(samples, (30, 31))
    assert samples[0].pred_sem_seg_body.data.max() <= 1
    assert samples[0].pred_sem_seg_half.data.max() <= 2


@pytest.mark.parametrize('decode', ['consistent', 'independent'])
def test_slide_inference(decode):
    test_cfg = dict(mode='slide', crop_size=(32, 32), stride=(16, 24))
    model = build(model_cfg('separate', decode=decode,
                            test_cfg=test_cfg)).eval()
    data = make_batch(n=1, h=48, w=64)
    with torch.no_grad():
        samples = model.test_step(data)
        # same result as averaging the windows' scores by hand
        inputs = model.data_preprocessor(copy.deepcopy(data))['inputs']
        metas = [dict(img_shape=(32, 32), pad_shape=(32, 32))]
        acc = torch.zeros(1, model.out_channels, 48, 64)
        cnt = torch.zeros(1, 1, 48, 64)
        for y in (0, 16):
            for x in (0, 24, 32):
                crop = inputs[:, :, y:y + 32, x:x + 32]
                acc[:, :, y:y + 32,
                    x:x + 32] += model.encode_decode(crop, metas)
                cnt[:, :, y:y + 32, x:x + 32] += 1
    expected = acc / cnt
    assert model.out_channels == (7 if decode == 'consistent' else 12)
    if decode == 'consistent':
        _check_predictions(samples, (48, 64))
        assert torch.allclose(
            samples[0].seg_logits.data, expected[0], atol=1e-5)
    else:
        parts = expected[0].split([2, 3, 7])
        assert torch.equal(samples[0].pred_sem_seg_body.data[0],
                           parts[0].argmax(0))
        assert torch.allclose(samples[0].seg_logits.data, parts[2], atol=1e-5)


def _tta_batch():
    plain = make_batch(n=1, h=32, w=48, seed=3)
    flipped = make_batch(n=1, h=32, w=48, seed=3, flip=True)
    flipped['inputs'] = [flipped['inputs'][0].flip(-1)]
    return dict(
        inputs=[plain['inputs'], flipped['inputs']],
        data_samples=[plain['data_samples'], flipped['data_samples']])


@pytest.mark.parametrize('decode', ['consistent', 'independent'])
def test_flip_tta(decode):
    torch.manual_seed(1)
    model = build(model_cfg('shared', cascade=True, decode=decode)).eval()
    for p in model.decode_head.parameters():  # make predictions non-trivial
        nn.init.normal_(p, std=0.5)
    with torch.no_grad():
        views = [
            model.test_step(dict(inputs=inp,
                                 data_samples=copy.deepcopy(ds)))[0]
            for inp, ds in zip(*_tta_batch().values())
        ]
        hier_out = HierSegTTAModel(module=model).test_step(_tta_batch())
        mm_out = SegTTAModel(module=model).test_step(_tta_batch())
    # the un-flipped views agree with each other up to the model's
    # asymmetry; the merge is the mean of their softmax
    assert not torch.equal(views[0].seg_logits.data, views[1].seg_logits.data)
    mean = (views[0].seg_logits.data.softmax(0) +
            views[1].seg_logits.data.softmax(0)) / 2
    merged = hier_out[0]
    assert torch.allclose(merged.seg_logits.data, mean, atol=1e-6)
    assert torch.equal(merged.pred_sem_seg.data, mean.argmax(0, keepdim=True))
    # mmseg's SegTTAModel runs and gives the same leaf map
    assert torch.equal(mm_out[0].pred_sem_seg.data, merged.pred_sem_seg.data)
    maps = level_maps(merged, HIER)
    assert all(m.shape == (1, 32, 48) for m in maps)
    assert 'gt_sem_seg' in merged
    if decode == 'consistent':
        assert bool(HIER.is_consistent(maps).all())
    else:
        body = (views[0].seg_logits_body.data.softmax(0) +
                views[1].seg_logits_body.data.softmax(0)) / 2
        assert torch.equal(maps[0], body.argmax(0, keepdim=True))


def test_hierarchy_and_decode_checks():
    cfg = model_cfg(hierarchy='pascal_person_part')
    cfg.decode_head.hierarchy = 'pascal_part'
    with pytest.raises(ValueError, match='another hierarchy'):
        build(cfg)
    with pytest.raises(ValueError, match='decode'):
        build(model_cfg(decode='greedy'))
    # no silent default tree, not even one taken from the head's config
    cfg = model_cfg(hierarchy=None)
    cfg.decode_head.hierarchy = 'pascal_part'
    with pytest.raises(ValueError, match='HierEncoderDecoder: no label tree'):
        build(cfg)
    # the model's tree reaches the head and its loss
    model = build(model_cfg(hierarchy='pascal_person_part'))
    person = ClassHierarchy.build('pascal_person_part')
    assert model.decode_head.hierarchy == person
    assert model.decode_head.loss_decode.hierarchy == person
    assert np.array_equal(model.decode_head.leaf_paths.numpy(),
                          person.leaf_paths)


def test_plain_mmseg_encoder_decoder_yields_the_leaf_map():
    """The head alone inside mmseg's own EncoderDecoder: training works and
    inference gives the consistent leaf prediction."""
    cfg = model_cfg('shared')
    cfg.type = 'EncoderDecoder'
    for key in ('hierarchy', 'decode', 'stem'):
        cfg.pop(key)
    cfg.decode_head.hierarchy = 'pascal_part'  # no model to hand it over
    model = build(cfg)
    assert type(model).__name__ == 'EncoderDecoder'
    model.train()
    optim = OptimWrapper(torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=0.01))
    logs = model.train_step(make_batch(n=2, h=32, w=32), optim)
    assert {'decode.loss_body', 'decode.loss_part'} <= set(logs)
    model.eval()
    data = make_batch(n=1, h=32, w=32)
    with torch.no_grad():
        out = model.test_step(data)[0]
        inputs = model.data_preprocessor(data)['inputs']
        levels = model.decode_head(model.extract_feat(inputs))
        levels = model.decode_head.predict_levels(
            levels, [dict(img_shape=(32, 32), pad_shape=(32, 32))])
    expected = consistent_leaf_scores(levels, PATHS)[0]
    assert out.seg_logits.data.shape == (7, 32, 32)
    assert torch.allclose(out.seg_logits.data, expected, atol=1e-5)
    assert torch.equal(out.pred_sem_seg.data[0], expected.argmax(0))
