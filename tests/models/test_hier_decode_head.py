"""HierarchicalDecodeHead: layouts, cascade, marginal levels, loss, scores."""
import pytest
import torch
import torch.nn as nn
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmhierseg import ClassHierarchy
from mmhierseg.models.decode_heads import (HierarchicalDecodeHead,
                                           consistent_leaf_scores)

from ._hier_utils import HAND_BODY, HAND_HALF, TWO_LEVEL_TREE, build
from ._hier_utils import head_cfg as _head_cfg

FEATS = [torch.rand(2, 8, 16, 16), torch.rand(2, 32, 8, 8)]
PASCAL = 'pascal_part'
# DeepLabV3+ decoder: overrides `forward`, has no `_forward_feature` of its
# own that its forward is built on; it needs the stride-4 features FEATS[0]
SEP_ASPP = dict(
    type='DepthwiseSeparableASPPHead',
    in_channels=32,
    in_index=1,
    channels=16,
    c1_in_channels=8,
    c1_channels=4,
    dilations=(1, 2),
    dropout_ratio=0.1,
    norm_cfg=dict(type='BN', requires_grad=True),
    align_corners=False)


def head_cfg(layout='separate', cascade=False, decoder='ASPPHead', **kw):
    kw.setdefault('hierarchy', PASCAL)
    cfg = _head_cfg(layout, cascade, 'FCNHead' if decoder == 'FCNHead' else
                    'ASPPHead', **kw)
    if decoder == 'DepthwiseSeparableASPPHead':
        cfg.decoder = dict(SEP_ASPP)
    return cfg


LAYOUTS = [('separate', False), ('separate', True), ('shared', False),
           ('shared', True), ('marginal', False)]
DECODERS = ['ASPPHead', 'FCNHead', 'DepthwiseSeparableASPPHead']


@pytest.mark.parametrize('layout,cascade', LAYOUTS)
@pytest.mark.parametrize('decoder', DECODERS)
def test_every_layout_works_with_any_decoder(layout, cascade, decoder):
    head = build(head_cfg(layout, cascade, decoder))
    out = head(FEATS)
    side = 16 if decoder == 'DepthwiseSeparableASPPHead' else 8
    assert [tuple(o.shape) for o in out] == [(2, 2, side, side),
                                             (2, 3, side, side),
                                             (2, 7, side, side)]
    assert head.num_classes == head.out_channels == 7
    names = [k for k, _ in head.named_parameters()]
    assert not any(k.startswith('conv_seg') for k in names)
    if layout == 'separate':
        assert isinstance(head.branches, nn.ModuleList)
        assert [b.num_classes for b in head.branches] == [2, 3, 7]
        assert any(k.startswith('branches.1.') for k in names)
        assert not hasattr(head, 'trunk')
    elif layout == 'shared':
        # the trunk ends at its classifier's input; one 1x1 conv per level
        assert not any(k.startswith('trunk.conv_seg') for k in names)
        assert [(b.in_channels, b.out_channels) for b in head.branches] == \
            [(head.trunk.channels, n) for n in (2, 3, 7)]
    else:
        assert not hasattr(head, 'branches')
        assert head.trunk.num_classes == 7


@pytest.mark.parametrize('decoder', DECODERS)
def test_shared_trunk_returns_the_decoders_classifier_input(decoder):
    """Cut at ``cls_seg``: the trunk's output is exactly what the same
    decoder would feed its ``conv_seg``."""
    head = build(head_cfg('shared', decoder=decoder)).eval()
    plain_cfg = head_cfg('separate', decoder=decoder).decoder
    plain = build(dict(plain_cfg, num_classes=7)).eval()
    plain.load_state_dict(head.trunk.state_dict(), strict=False)
    seen = []
    plain.conv_seg.register_forward_hook(lambda m, i, o: seen.append(i[0]))
    with torch.no_grad():
        plain(FEATS)
        feat = head.trunk(FEATS)
        out = head(FEATS)
    assert torch.equal(feat, seen[0])
    for conv, level_out in zip(head.branches, out):
        assert torch.allclose(conv(feat), level_out)


def test_marginal_levels_sum_leaf_probabilities_along_the_tree():
    head = build(head_cfg('marginal')).eval()
    with torch.no_grad():
        body, half, part = head(FEATS)
        leaf = head.trunk(FEATS).softmax(1)
    assert torch.allclose(part.exp(), leaf, atol=1e-6)
    # ancestors written out by hand (tests/models/_hier_utils.py)
    for maps, level in ((HAND_HALF, half), (HAND_BODY, body)):
        expected = torch.zeros_like(level)
        for leaf_id, parent in maps.items():
            expected[:, parent] += leaf[:, leaf_id]
        assert torch.allclose(level.exp(), expected, atol=1e-6)
    # the leaf argmax and the coarse argmax derived from it agree with the
    # scores mmseg decodes (leaf log-probabilities)
    metas = [dict(img_shape=(8, 8))] * 2
    with torch.no_grad():
        scores = head.predict(FEATS, metas, None)
    assert torch.allclose(scores, part, atol=1e-6)


def test_marginal_is_stable_for_confident_leaves():
    """A leaf probability that underflows does not give -inf or NaN."""
    hier = ClassHierarchy.build(PASCAL)
    head = build(head_cfg('marginal'))
    logits = torch.zeros(1, 7, 2, 2, requires_grad=True)
    with torch.no_grad():
        big = torch.zeros(1, 7, 2, 2)
        big[:, 2] = 200.0  # torso: every other leaf has p ~ exp(-200)
    from mmhierseg.models.decode_heads import marginal_log_probs
    out = marginal_log_probs(logits + big, head.leaf_membership,
                             hier.num_classes)
    assert all(torch.isfinite(o).all() for o in out)
    assert out[0][:, 1].exp().allclose(torch.ones(1, 2, 2))
    sum(o[:, 0].sum() for o in out).backward()  # background at every level
    assert torch.isfinite(logits.grad).all()


def test_marginal_costs_what_a_flat_head_costs_and_trains_every_level():
    head = build(head_cfg('marginal'))
    flat = build(dict(head_cfg().decoder, num_classes=7))
    n_params = sum(p.numel() for p in head.parameters())
    assert n_params == sum(p.numel() for p in flat.parameters())
    # with only the body loss on, the leaf classifier still learns
    head.loss_decode.set_level_weights(dict(body=1.0, half=0.0, part=0.0))
    losses = head.loss(FEATS, _samples(), None)
    assert {'loss_body', 'loss_half', 'loss_part'} <= set(losses)
    losses['loss_body'].backward()
    assert head.trunk.conv_seg.weight.grad.abs().sum() > 0


@pytest.mark.parametrize('layout,cascade', LAYOUTS)
def test_level_modules_name_existing_modules_and_cover_the_head(
        layout, cascade):
    head = build(head_cfg(layout, cascade, cascade_detach=False))
    modules = dict(head.named_modules())
    paths = [head.level_modules(k) for k in range(3)]
    for level_paths in paths:
        assert all(p in modules for p in level_paths)
    covered = {p for level_paths in paths for p in level_paths}
    params = [k for k, _ in head.named_parameters()]
    assert all(any(k.startswith(p + '.') for p in covered) for k in params)
    if layout == 'separate':
        assert [p[0] for p in paths] == ['branches.0', 'branches.1',
                                         'branches.2']
    with pytest.raises(IndexError, match='3 levels'):
        head.level_modules(3)
    # and every parameter gets a gradient (DDP without unused parameters)
    head.train()
    sum(o.square().mean() for o in head(FEATS)).backward()
    assert [k for k, p in head.named_parameters() if p.grad is None] == []


def test_class_counts_come_from_the_tree():
    head = build(head_cfg('shared', True, hierarchy=TWO_LEVEL_TREE))
    assert [o.shape[1] for o in head(FEATS)] == [3, 5]
    assert head.num_classes == 5
    assert head.loss_decode.hierarchy == ClassHierarchy.build(TWO_LEVEL_TREE)
    marginal = build(head_cfg('marginal', hierarchy=TWO_LEVEL_TREE))
    assert [o.shape[1] for o in marginal(FEATS)] == [3, 5]


def test_cascade_starts_as_identity_and_conditions_finer_levels():
    torch.manual_seed(0)
    head = build(head_cfg('separate', cascade=True)).eval()
    plain = build(head_cfg('separate', cascade=False)).eval()
    plain.load_state_dict(head.state_dict(), strict=False)
    with torch.no_grad():
        a, b = head(FEATS), plain(FEATS)
        assert all(torch.allclose(x, y) for x, y in zip(a, b))
        for conv in head.cascade_convs:
            nn.init.normal_(conv.weight)
        before, before_plain = head(FEATS), plain(FEATS)
        for m in (head, plain):
            m.branches[0].conv_seg.bias += torch.tensor([3.0, -3.0])
        after, after_plain = head(FEATS), plain(FEATS)
    assert not torch.allclose(before[1], after[1])
    assert not torch.allclose(before[2], after[2])
    assert torch.allclose(before_plain[1], after_plain[1])


@pytest.mark.parametrize('detach', [True, False])
def test_cascade_detach_controls_gradient_into_coarse_branch(detach):
    head = build(head_cfg('separate', cascade=True, cascade_detach=detach))
    nn.init.normal_(head.cascade_convs[0].weight)
    head(FEATS)[1].sum().backward()  # only the second level's output
    grad = head.branches[0].conv_seg.weight.grad
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


def test_loss_by_feat_keys_and_level_weights():
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


def test_acc_seg_equals_mmseg_accuracy():
    from mmseg.models.losses import accuracy
    from mmseg.models.utils import resize
    head = build(head_cfg('separate')).eval()  # no dropout
    samples = _samples()
    samples[0].gt_sem_seg.data[:, :8] = 255
    with torch.no_grad():
        acc = head.loss(FEATS, samples, None)['acc_seg']
        leaf = resize(head(FEATS)[-1], size=(32, 32), mode='bilinear')
    label = torch.cat([s.gt_sem_seg.data for s in samples])
    assert torch.allclose(acc, accuracy(leaf, label, ignore_index=255)[0])


def test_predict_by_feat_returns_consistent_leaf_scores():
    head = build(head_cfg('separate')).eval()
    metas = [dict(img_shape=(30, 31), pad_shape=(32, 32))] * 2
    with torch.no_grad():
        scores = head.predict(FEATS, metas, None)
        levels = head.predict_levels(head(FEATS), metas)
    assert scores.shape == (2, 7, 32, 32)
    probs = [lv.softmax(1) for lv in levels]
    # leaf 3 = low_leg: body 1, lower_body 2
    ref = probs[0][:, 1] * probs[1][:, 2] * probs[2][:, 3]
    assert torch.allclose(scores[:, 3].exp(), ref, atol=1e-6)
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
    with pytest.raises(ValueError, match='layout must be one of'):
        build(head_cfg('tree'))
    cfg = head_cfg()
    cfg.decoder.num_classes = 7
    with pytest.raises(ValueError, match='come from the hierarchy'):
        build(cfg)
    with pytest.raises(ValueError, match='levels the tree lacks'):
        build(head_cfg(level_overrides=dict(arms=dict(channels=4))))
    with pytest.raises(ValueError, match="layout='separate' only"):
        build(head_cfg('shared', level_overrides=dict(body=dict())))
    with pytest.raises(ValueError, match='derives the levels'):
        build(head_cfg('marginal', cascade=True))
    with pytest.raises(TypeError, match='remove num_classes'):
        build(head_cfg(num_classes=7))
    with pytest.raises(TypeError, match='inside `decoder'):
        build(head_cfg(channels_extra=3))
    with pytest.raises(ValueError, match='needs the label tree'):
        build(head_cfg(hierarchy=None))


@pytest.mark.parametrize('tree', [PASCAL, TWO_LEVEL_TREE])
@pytest.mark.parametrize('decoder', DECODERS)
def test_coarse_channels_narrow_every_level_but_the_leaf(tree, decoder):
    head = build(head_cfg(decoder=decoder, hierarchy=tree, coarse_channels=4))
    leaf = build(head_cfg(decoder=decoder, hierarchy=tree)).branches[-1]
    assert [b.channels for b in head.branches[:-1]] == \
        [4] * (len(head.branches) - 1)
    assert head.branches[-1].channels == leaf.channels > 4
    assert [tuple(o.shape[:2]) for o in head(FEATS)] == \
        [(2, n) for n in head.hierarchy.num_classes]
    # layouts without per-level decoders ignore it (one-option switch)
    for layout in ('shared', 'marginal'):
        trunk = build(head_cfg(layout, decoder=decoder, hierarchy=tree,
                               coarse_channels=4)).trunk
        assert trunk.channels == leaf.channels
    # level_overrides still win for the level they name
    name = head.hierarchy.level_names[0]
    head = build(head_cfg(decoder=decoder, hierarchy=tree, coarse_channels=4,
                          level_overrides={name: dict(channels=6)}))
    assert head.branches[0].channels == 6


def test_level_overrides_change_one_branch():
    head = build(head_cfg(level_overrides=dict(body=dict(channels=4))))
    assert head.branches[0].channels == 4
    assert head.branches[2].channels == 16

