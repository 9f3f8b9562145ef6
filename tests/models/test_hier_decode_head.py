"""HierarchicalDecodeHead: layouts, cascade, loss plumbing, leaf scores."""
import pytest
import torch
import torch.nn as nn
from mmengine.structures import PixelData
from mmseg.models.decode_heads import ASPPHead, FCNHead
from mmseg.structures import SegDataSample

from mmhierseg import ClassHierarchy
from mmhierseg.models.decode_heads import (HierarchicalDecodeHead,
                                           LevelModuleDict,
                                           consistent_leaf_scores)

from ._hier_utils import TWO_LEVEL_TREE, build, head_cfg

FEATS = [torch.rand(2, 8, 16, 16), torch.rand(2, 32, 8, 8)]


@pytest.mark.parametrize('layout', ['separate', 'shared'])
@pytest.mark.parametrize('cascade', [False, True])
@pytest.mark.parametrize('decoder', ['ASPPHead', 'FCNHead'])
def test_output_shapes_per_level(layout, cascade, decoder):
    head = build(head_cfg(layout, cascade, decoder))
    out = head(FEATS)
    assert [tuple(o.shape) for o in out] == [(2, 2, 8, 8), (2, 3, 8, 8),
                                             (2, 7, 8, 8)]
    assert list(head.branches.keys()) == ['body', 'half', 'part']
    assert head.num_classes == head.out_channels == 7
    branch_type = {
        'separate': ASPPHead if decoder == 'ASPPHead' else FCNHead,
        'shared': FCNHead
    }[layout]
    for name, n in zip(['body', 'half', 'part'], [2, 3, 7]):
        # attribute access works for every level, `half` included
        branch = getattr(head.branches, name)
        assert isinstance(branch, branch_type)
        assert branch.num_classes == n and branch.conv_seg.out_channels == n
    assert hasattr(head, 'trunk') == (layout == 'shared')
    names = [k for k, _ in head.named_parameters()]
    assert any(k.startswith('branches.half.') for k in names)
    assert not any(k.startswith('conv_seg') for k in names)
    if layout == 'shared':
        assert not any(k.startswith('trunk.conv_seg') for k in names)
        assert isinstance(head.trunk,
                          ASPPHead if decoder == 'ASPPHead' else FCNHead)
        assert head.branches.part.in_channels == head.trunk.channels


def test_every_parameter_gets_a_gradient():
    """No unused parameters (DDP with find_unused_parameters=False)."""
    for layout in ('separate', 'shared'):
        head = build(head_cfg(layout, cascade=True, cascade_detach=False))
        head.train()
        sum(o.square().mean() for o in head(FEATS)).backward()
        missing = [k for k, p in head.named_parameters() if p.grad is None]
        assert not missing, (layout, missing)


def test_class_counts_come_from_the_tree():
    head = build(head_cfg('shared', True, hierarchy=TWO_LEVEL_TREE))
    out = head(FEATS)
    assert [o.shape[1] for o in out] == [3, 5]
    assert list(head.branches.keys()) == ['coarse', 'fine']
    assert head.num_classes == 5
    assert head.loss_decode.hierarchy == ClassHierarchy.build(TWO_LEVEL_TREE)


def test_cascade_starts_as_identity_and_conditions_finer_levels():
    torch.manual_seed(0)
    head = build(head_cfg('separate', cascade=True)).eval()
    plain = build(head_cfg('separate', cascade=False)).eval()
    plain.load_state_dict(head.state_dict(), strict=False)
    with torch.no_grad():
        a, b = head(FEATS), plain(FEATS)
        assert all(torch.allclose(x, y) for x, y in zip(a, b))
        # once the cascade conv is non-zero, changing the coarse branch
        # changes the finer outputs (and only with the cascade)
        nn.init.normal_(head.cascade_convs.half.weight)
        nn.init.normal_(head.cascade_convs.part.weight)
        before, before_plain = head(FEATS), plain(FEATS)
        for m in (head, plain):
            m.branches.body.conv_seg.bias += torch.tensor([3.0, -3.0])
        after, after_plain = head(FEATS), plain(FEATS)
    assert not torch.allclose(before[1], after[1])
    assert not torch.allclose(before[2], after[2])
    assert torch.allclose(before_plain[1], after_plain[1])


@pytest.mark.parametrize('detach', [True, False])
def test_cascade_detach_controls_gradient_into_coarse_branch(detach):
    head = build(head_cfg('separate', cascade=True, cascade_detach=detach))
    nn.init.normal_(head.cascade_convs.half.weight)
    out = head(FEATS)
    out[1].sum().backward()  # only the half level's output
    grad = head.branches.body.conv_seg.weight.grad
    if detach:
        assert grad is None or grad.abs().sum() == 0
    else:
        assert grad.abs().sum() > 0


def _samples(n=2, h=32, w=32):
    return [
        SegDataSample(
            gt_sem_seg=PixelData(data=torch.randint(0, 7, (1, h, w))))
        for _ in range(n)
    ]


def test_loss_by_feat_keys_and_sum():
    head = build(
        head_cfg(
            'shared',
            loss_decode=dict(
                type='HierarchicalLoss',
                level_weights=dict(body=1, half=0, part=2),
                tree_min_weight=0.5)))
    losses = head.loss(FEATS, _samples(), None)
    assert set(losses) == {
        'loss_body', 'loss_half', 'loss_part', 'loss_tree_min', 'acc_seg'
    }
    assert losses['loss_half'].item() == 0
    assert losses['loss_half'].requires_grad
    assert losses['loss_body'].item() > 0
    head.loss_decode.set_level_weights(dict(half=1.0))
    assert head.loss(FEATS, _samples(), None)['loss_half'].item() > 0


def test_predict_by_feat_returns_consistent_leaf_scores():
    head = build(head_cfg('separate')).eval()
    metas = [dict(img_shape=(30, 31), pad_shape=(32, 32))] * 2
    with torch.no_grad():
        scores = head.predict(FEATS, metas, None)
        levels = head.predict_levels(head(FEATS), metas)
    assert scores.shape == (2, 7, 32, 32)
    assert [lv.shape[1] for lv in levels] == [2, 3, 7]
    probs = [lv.softmax(1) for lv in levels]
    # leaf score = log of the product of its path's probabilities
    # (leaf 3 = low_leg: body 1, lower_body 2)
    ref = probs[0][:, 1] * probs[1][:, 2] * probs[2][:, 3]
    assert torch.allclose(scores[:, 3].exp(), ref, atol=1e-6)
    ref_bg = probs[0][:, 0] * probs[1][:, 0] * probs[2][:, 0]
    assert torch.allclose(scores[:, 0].exp(), ref_bg, atol=1e-6)
    # slide windows carry their crop size as a torch.Size
    crop = head.predict(FEATS, [dict(img_shape=torch.Size((16, 24)))], None)
    assert crop.shape[2:] == (16, 24)


def test_consistent_leaf_scores_gathers_along_paths():
    hier = ClassHierarchy.build(TWO_LEVEL_TREE)
    paths = torch.from_numpy(hier.leaf_paths)
    coarse = torch.log(torch.tensor([0.2, 0.5, 0.3])).view(1, 3, 1, 1)
    fine = torch.log(torch.tensor([.1, .2, .3, .15, .25])).view(1, 5, 1, 1)
    scores = consistent_leaf_scores([coarse, fine], paths).exp().flatten()
    # leaves a1 a2 bg b1 b2 -> coarse a a bg b b
    expected = torch.tensor([.5 * .1, .5 * .2, .2 * .3, .3 * .15, .3 * .25])
    assert torch.allclose(scores, expected)


def test_config_errors():
    with pytest.raises(ValueError, match='layout'):
        build(head_cfg('tree'))
    cfg = head_cfg()
    cfg.decoder.num_classes = 7
    with pytest.raises(ValueError, match='num_classes'):
        build(cfg)
    with pytest.raises(ValueError, match='levels the tree lacks'):
        build(head_cfg(level_overrides=dict(arms=dict(channels=4))))
    with pytest.raises(ValueError, match='from the hierarchy'):
        build(head_cfg(num_classes=7))
    with pytest.raises(TypeError, match='inside `decoder'):
        build(head_cfg(channels_extra=3))


def test_level_overrides_change_one_branch():
    head = build(head_cfg(level_overrides=dict(body=dict(channels=4))))
    assert head.branches.body.channels == 4
    assert head.branches.part.channels == 16


def test_level_module_dict_names():
    d = LevelModuleDict()
    d['half'] = nn.Linear(1, 1)
    assert isinstance(d.half, nn.Linear)
    assert list(dict(d.named_parameters())) == ['half.weight', 'half.bias']
    nn.Sequential(d).half()  # the converter still works from the root
    assert d['half'].weight.dtype == torch.float16
    with pytest.raises(ValueError, match='clashes'):
        d['train'] = nn.Linear(1, 1)


def test_heads_without_features_are_refused_for_cascade():
    cfg = head_cfg('separate', cascade=True)
    cfg.decoder = dict(
        type='DepthwiseSeparableASPPHead',
        in_channels=32,
        in_index=-1,
        channels=16,
        c1_in_channels=8,
        c1_channels=4,
        dilations=(1, 2),
        norm_cfg=None)
    with pytest.raises(ValueError, match='_forward_feature'):
        build(cfg)
    cfg.cascade = False
    head = build(cfg)  # fine without cascade (plain forward per branch)
    assert isinstance(head, HierarchicalDecodeHead)
