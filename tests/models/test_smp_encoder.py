"""SMPEncoder: shapes, dilation, freezing, local weights, offline errors."""
import pytest
import torch
import torch.nn as nn

from mmhierseg.models.backbones import SMPEncoder

from . import _hier_utils  # noqa: F401  (default scope, mmcv-lite shim)


@pytest.mark.parametrize('output_stride,last_sizes', [
    (8, [16, 8, 8, 8]),
    (16, [16, 8, 4, 4]),
    (32, [16, 8, 4, 2]),
])
def test_feature_maps_and_dilation(output_stride, last_sizes):
    enc = SMPEncoder('resnet18', weights=None, output_stride=output_stride)
    feats = enc(torch.rand(1, 3, 64, 64))
    assert isinstance(feats, tuple) and len(feats) == 4
    assert [f.shape[-1] for f in feats] == last_sizes
    assert [f.shape[1] for f in feats] == [64, 128, 256, 512]
    assert enc.out_channels == (64, 128, 256, 512)
    conv = enc.encoder.layer4[0].conv1
    if output_stride == 8:
        assert conv.stride == (1, 1) and conv.dilation == (4, 4)
        assert enc.encoder.layer3[0].conv1.dilation == (2, 2)
    elif output_stride == 16:
        assert conv.stride == (1, 1) and conv.dilation == (2, 2)
    else:
        assert conv.stride == (2, 2) and conv.dilation == (1, 1)


def test_out_indices_select_maps():
    enc = SMPEncoder(
        'resnet18', weights=None, output_stride=8, out_indices=(1, 5))
    feats = enc(torch.rand(2, 3, 32, 32))
    assert [tuple(f.shape) for f in feats] == [(2, 64, 16, 16), (2, 512, 4, 4)]
    assert enc.out_channels == (64, 512)
    with pytest.raises(ValueError, match='out_indices'):
        SMPEncoder('resnet18', out_indices=(6, ))
    with pytest.raises(ValueError, match='output_stride'):
        SMPEncoder('resnet18', output_stride=4)


@pytest.mark.parametrize('name,channels', [('resnet34', 512),
                                           ('resnet50', 2048),
                                           ('resnet101', 2048)])
def test_named_resnets(name, channels):
    enc = SMPEncoder(name, weights=None, output_stride=8)
    with torch.no_grad():
        out = enc(torch.rand(1, 3, 32, 32))[-1]
    assert out.shape == (1, channels, 4, 4)


def test_in_channels_for_a_stem():
    enc = SMPEncoder('resnet18', weights=None, in_channels=5, frozen=True)
    assert enc.encoder.conv1.in_channels == 5
    assert enc(torch.rand(1, 5, 32, 32))[0].shape == (1, 64, 8, 8)


def _bn_state(module):
    return {
        k: v.clone()
        for k, v in module.state_dict().items()
        if 'running' in k or 'num_batches' in k
    }


def test_frozen_survives_train_and_keeps_bn_stats():
    enc = SMPEncoder('resnet18', weights=None, output_stride=8, frozen=True)
    parent = nn.Sequential(enc)
    parent.train()
    assert parent.training and enc.training
    assert not enc.encoder.training
    assert all(not m.training for m in enc.encoder.modules())
    assert all(not p.requires_grad for p in enc.parameters())
    before = _bn_state(enc)
    x = torch.rand(2, 3, 32, 32, requires_grad=True)
    out = enc(x)[-1]
    out.sum().backward()  # gradient still reaches the input (e.g. a stem)
    assert x.grad is not None and x.grad.abs().sum() > 0
    after = _bn_state(enc)
    assert all(torch.equal(before[k], after[k]) for k in before)
    # unfreeze: trainable again and the mode follows the parent
    enc.set_frozen(False)
    assert enc.encoder.training
    assert all(p.requires_grad for p in enc.parameters())
    enc(torch.rand(2, 3, 32, 32))
    assert not torch.equal(before['encoder.bn1.running_mean'],
                           enc.encoder.bn1.running_mean)
    enc.set_frozen(True)
    parent.train()
    assert not enc.encoder.training


def _random_state(name='resnet18', seed=0):
    import segmentation_models_pytorch as smp
    torch.manual_seed(seed)
    return smp.encoders.get_encoder(name, weights=None).state_dict()


def test_local_checkpoint_pth_wrapped_and_prefixed(tmp_path):
    state = _random_state()
    plain = tmp_path / 'r18.pth'
    torch.save(state, plain)
    enc = SMPEncoder('resnet18', weights=str(plain), output_stride=8)
    for k, v in enc.encoder.state_dict().items():
        assert torch.equal(v, state[k]), k
    # mmengine-style checkpoint with a classifier and a `backbone.` prefix
    wrapped = {f'backbone.{k}': v for k, v in state.items()}
    wrapped['backbone.fc.weight'] = torch.zeros(10, 512)
    torch.save(
        dict(state_dict=wrapped, meta=dict(epoch=1)), tmp_path / 'wrapped.pth')
    enc2 = SMPEncoder('resnet18', weights=str(tmp_path / 'wrapped.pth'))
    assert torch.equal(enc2.encoder.conv1.weight, state['conv1.weight'])
    # random init would differ
    assert not torch.equal(
        SMPEncoder('resnet18', weights=None).encoder.conv1.weight,
        state['conv1.weight'])


def test_local_checkpoint_safetensors(tmp_path):
    from safetensors.torch import save_file
    state = _random_state(seed=1)
    save_file({
        k: v.contiguous()
        for k, v in state.items()
    }, str(tmp_path / 'r18.safetensors'))
    enc = SMPEncoder('resnet18', weights=str(tmp_path / 'r18.safetensors'))
    assert torch.equal(enc.encoder.layer4[1].bn2.running_var,
                       state['layer4.1.bn2.running_var'])


def test_local_checkpoint_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothere.pth'):
        SMPEncoder('resnet18', weights=str(tmp_path / 'nothere.pth'))
    torch.save(_random_state('resnet18'), tmp_path / 'r18.pth')
    with pytest.raises(
            RuntimeError, match="does not match encoder 'resnet34'"):
        SMPEncoder('resnet34', weights=str(tmp_path / 'r18.pth'))
    with pytest.raises(KeyError, match='no .*instagram'):
        SMPEncoder('resnet18', weights='instagram')


def _check_hint(err):
    msg = str(err)
    assert "weights='/path/to/resnet34" in msg
    assert 'https://huggingface.co/smp-hub/resnet34.imagenet/resolve/' in msg
    assert 'model.safetensors' in msg


def test_offline_imagenet_error_hf_offline_mode(tmp_path, monkeypatch):
    import huggingface_hub.constants as hf_constants
    monkeypatch.setattr(hf_constants, 'HF_HUB_OFFLINE', True)
    monkeypatch.setattr(hf_constants, 'HF_HUB_CACHE', str(tmp_path))
    with pytest.raises(RuntimeError) as info:
        SMPEncoder('resnet34', weights='imagenet', output_stride=8)
    _check_hint(info.value)


def test_offline_imagenet_error_when_network_is_blocked(tmp_path, monkeypatch):
    """The download really goes out and the suite's network guard stops it;
    the guard's record is swapped for a local list, so the deliberate
    attempt does not fail the session check."""
    import huggingface_hub.constants as hf_constants

    from tests import _netguard
    monkeypatch.setattr(hf_constants, 'HF_HUB_OFFLINE', False)
    monkeypatch.setattr(hf_constants, 'HF_HUB_CACHE', str(tmp_path))
    attempts = []
    monkeypatch.setattr(_netguard, 'ATTEMPTS', attempts)
    with pytest.raises(RuntimeError) as info:
        SMPEncoder('resnet34', weights='imagenet')
    _check_hint(info.value)
    assert attempts and attempts[0][1] == 'huggingface.co'
    assert 'NetworkAccessError' in str(info.value)
