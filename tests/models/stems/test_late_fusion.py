"""Late fusion: the priors join after the frozen encoder, so no gradient
crosses it, and at step 0 the model is the model without a prior."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmhierseg  # noqa: F401
from mmhierseg.benchmark import resolve_config


def _model(fusion):
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    cfg = Config.fromfile(resolve_config('prior/oracle')).model
    cfg.backbone.weights = None
    cfg.stem.fusion = fusion
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def _encoder_input_grad(model, x):
    seen = {}
    hook = model.backbone.register_forward_pre_hook(
        lambda m, args: seen.setdefault('x', args[0]))
    feats = model.extract_feat(x)
    hook.remove()
    sum(f.sum() for f in feats).backward()
    return seen['x'].requires_grad, feats


def test_late_fusion_keeps_gradients_out_of_the_encoder():
    n_prior = 7
    x = torch.randn(2, 3 + n_prior, 64, 64)
    x[:, 3:] = (x[:, 3:] > 0).float()
    late = _model('late')
    assert late.stem.out_channels == 3
    assert [c.out_channels for c in late.stem.proj] == \
        list(late.backbone.out_channels)
    through, feats = _encoder_input_grad(late, x)
    assert not through  # nothing in front of the encoder trains
    assert all(c.weight.grad is not None and c.weight.grad.abs().sum() > 0
               for c in late.stem.proj)
    early = _model('early')
    through, _ = _encoder_input_grad(early, x)
    assert through  # the seed's design back-propagates through it


def test_late_fusion_at_init_is_the_model_without_a_prior():
    late = _model('late')
    x = torch.randn(1, 10, 64, 64)
    with torch.no_grad():
        fused = late.extract_feat(x)
        plain = late.backbone(x[:, :3])
    for a, b in zip(fused, plain):
        assert torch.equal(a, b)
    with torch.no_grad():  # and the priors matter once proj has weights
        for conv in late.stem.proj:
            conv.weight.fill_(0.1)
        assert not torch.equal(late.extract_feat(x)[-1], plain[-1])


def test_late_fusion_needs_feature_channels_it_can_read():
    from mmhierseg.models.stems import PosePriorStem
    with pytest.raises(ValueError, match='feature_channels'):
        PosePriorStem(sam=None, channels=('head', ), fusion='late')
    with pytest.raises(ValueError, match="'early' or 'late'"):
        PosePriorStem(sam=None, channels=('head', ), fusion='middle')
