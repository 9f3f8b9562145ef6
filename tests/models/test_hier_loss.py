"""HierarchicalLoss against straightforward per-pixel / per-node references."""
import math

import pytest
import torch

from mmhierseg import ClassHierarchy
from mmhierseg.models.losses import HierarchicalLoss

from ._hier_utils import HAND_BODY, HAND_HALF, TWO_LEVEL_TREE

HAND_MAPS = [HAND_BODY, HAND_HALF, {i: i for i in range(7)}]
NUM_CLASSES = [2, 3, 7]


def _random_case(seed, n=2, h=3, w=4, ignore_frac=0.2):
    g = torch.Generator().manual_seed(seed)
    logits = [
        torch.randn(n, c, h, w, generator=g, dtype=torch.float64) * 2
        for c in NUM_CLASSES
    ]
    label = torch.randint(0, 7, (n, h, w), generator=g)
    label[torch.rand(n, h, w, generator=g) < ignore_frac] = 255
    return logits, label


def _ref_ce(logits, label, lvl, class_weight=None, ignore=255):
    """Per-pixel loop: weighted mean of -log p(target) over valid pixels."""
    num = den = 0.0
    n, _, h, w = logits.shape
    for b in range(n):
        for i in range(h):
            for j in range(w):
                t = int(label[b, i, j])
                if t == ignore:
                    continue
                target = HAND_MAPS[lvl][t]
                z = [float(v) for v in logits[b, :, i, j]]
                lse = math.log(sum(math.exp(v) for v in z))
                wt = 1.0 if class_weight is None else class_weight[target]
                num += -wt * (z[target] - lse)
                den += wt
    return num / den if den else 0.0


def _ancestors(lvl, cls):
    """(level, class) of the node itself and all its ancestors, by hand."""
    if lvl == 2:
        return [(2, cls), (1, HAND_HALF[cls]), (0, HAND_BODY[cls])]
    if lvl == 1:
        return [(1, cls), (0, 0 if cls == 0 else 1)]
    return [(0, cls)]


def _ref_tree_min(logits, label, ignore=255):
    """Per-node loop of the HSSN formula on sigmoid scores."""
    nodes = [(k, c) for k in range(3) for c in range(NUM_CLASSES[k])]
    total, count = 0.0, 0
    n, _, h, w = logits[0].shape
    for b in range(n):
        for i in range(h):
            for j in range(w):
                t = int(label[b, i, j])
                if t == ignore:
                    continue
                s = {
                    (k, c): 1 / (1 + math.exp(-float(logits[k][b, c, i, j])))
                    for (k, c) in nodes
                }
                for (k, c) in nodes:
                    desc = [v for v in nodes if (k, c) in _ancestors(*v)]
                    anc = _ancestors(k, c)
                    if HAND_MAPS[k][t] == c:
                        total -= math.log(min(s[u] for u in anc))
                    else:
                        total -= math.log(1 - max(s[u] for u in desc))
                count += 1
    return total / count


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_per_level_ce_matches_reference_with_ignore_and_weights(seed):
    logits, label = _random_case(seed)
    loss = HierarchicalLoss(hierarchy='pascal_part',
                            level_weights=dict(body=0.5, half=2.0, part=1.5))
    out = loss(logits, label)
    assert set(out) == {'loss_body', 'loss_half', 'loss_part'}
    for lvl, (name, w) in enumerate([('body', 0.5), ('half', 2.0),
                                     ('part', 1.5)]):
        ref = w * _ref_ce(logits[lvl], label, lvl)
        assert out[f'loss_{name}'].item() == pytest.approx(ref, rel=1e-9)


def test_default_level_weights_are_uniform_and_loss_weight():
    logits, label = _random_case(3)
    out = HierarchicalLoss(hierarchy='pascal_part', loss_weight=0.4)(logits,
                                                                     label)
    for lvl, (name, w) in enumerate([('body', 1 / 3), ('half', 1 / 3),
                                     ('part', 1 / 3)]):
        ref = 0.4 * w * _ref_ce(logits[lvl], label, lvl)
        assert out[f'loss_{name}'].item() == pytest.approx(ref, rel=1e-9)


def test_class_weights_match_reference():
    logits, label = _random_case(4)
    cw = {'half': [0.2, 1.0, 3.0], 'part': [0.1, 1, 2, 3, 4, 5, 6]}
    out = HierarchicalLoss(hierarchy='pascal_part',
                           level_weights=[1, 1, 1],
                           class_weight=cw)(logits, label)
    assert out['loss_body'].item() == pytest.approx(_ref_ce(
        logits[0], label, 0),
                                                    rel=1e-9)
    assert out['loss_half'].item() == pytest.approx(_ref_ce(
        logits[1], label, 1, cw['half']),
                                                    rel=1e-9)
    assert out['loss_part'].item() == pytest.approx(_ref_ce(
        logits[2], label, 2, cw['part']),
                                                    rel=1e-9)
    # the list form (one entry per level) is equivalent
    out2 = HierarchicalLoss(hierarchy='pascal_part',
                            level_weights=[1, 1, 1],
                            class_weight=[None, cw['half'],
                                          cw['part']])(logits, label)
    for k in out:
        assert torch.equal(out[k], out2[k])


def test_custom_ignore_index_passed_at_call():
    logits, label = _random_case(5, ignore_frac=0.0)
    label[0, 0, :] = 7  # not a leaf: only valid as the ignore label
    loss = HierarchicalLoss(hierarchy='pascal_part', level_weights=[1, 1, 1])
    out = loss(logits, label, ignore_index=7)
    ref = _ref_ce(logits[2], label, 2, ignore=7)
    assert out['loss_part'].item() == pytest.approx(ref, rel=1e-9)


@pytest.mark.parametrize('seed', [0, 7])
def test_tree_min_term_matches_per_node_loop(seed):
    logits, label = _random_case(seed)
    loss = HierarchicalLoss(hierarchy='pascal_part',
                            level_weights=[0, 0, 0],
                            tree_min_weight=0.7)
    out = loss(logits, label)
    ref = 0.7 * _ref_tree_min(logits, label)
    assert out['loss_tree_min'].item() == pytest.approx(ref, rel=1e-9)
    assert 'loss_tree_min' not in HierarchicalLoss(hierarchy='pascal_part')(
        logits, label)
    # gradients flow through the min/max selections
    logits = [x.clone().requires_grad_() for x in logits]
    loss(logits, label)['loss_tree_min'].backward()
    assert all(x.grad is not None and x.grad.abs().sum() > 0 for x in logits)


def test_zero_weight_level_stays_in_graph_and_all_ignored_is_zero():
    logits, label = _random_case(6)
    logits = [x.clone().requires_grad_() for x in logits]
    loss = HierarchicalLoss(hierarchy='pascal_part',
                            level_weights=dict(body=1.0, half=0.0, part=0.0))
    out = loss(logits, label)
    assert out['loss_half'].item() == 0 and out['loss_part'].item() == 0
    assert out['loss_half'].requires_grad and out['loss_part'].grad_fn
    sum(out.values()).backward()
    assert logits[0].grad.abs().sum() > 0
    assert logits[1].grad is not None and logits[1].grad.abs().sum() == 0
    # a crop without labelled pixels: finite zero, still differentiable
    ignored = torch.full_like(label, 255)
    out = HierarchicalLoss(hierarchy='pascal_part',
                           tree_min_weight=1.0)(logits, ignored)
    assert all(v.item() == 0 and v.requires_grad for v in out.values())


def test_set_level_weights_and_validation():
    loss = HierarchicalLoss(hierarchy='pascal_part',
                            level_weights=dict(body=0.34, half=0.25, part=0.4))
    loss.set_level_weights(dict(half=0.0))  # partial update
    assert loss.level_weights == dict(body=0.34, half=0.0, part=0.4)
    loss.set_level_weights([1, 2, 3])
    assert loss.level_weights == dict(body=1.0, half=2.0, part=3.0)
    with pytest.raises(ValueError, match='torso_level'):
        loss.set_level_weights(dict(torso_level=1.0))
    with pytest.raises(ValueError, match='torso_level'):
        HierarchicalLoss(hierarchy='pascal_part',
                         level_weights=dict(body=1, torso_level=1.0))
    with pytest.raises(ValueError, match='3 level weights'):
        HierarchicalLoss(hierarchy='pascal_part', level_weights=[1, 1])
    with pytest.raises(ValueError, match='>= 0'):
        HierarchicalLoss(hierarchy='pascal_part', level_weights=dict(body=-1))
    with pytest.raises(ValueError, match='needs 3 values'):
        HierarchicalLoss(hierarchy='pascal_part',
                         class_weight=dict(half=[1, 1]))
    with pytest.raises(ValueError, match='lacks'):
        HierarchicalLoss(hierarchy='pascal_part',
                         class_weight=dict(arms=[1, 1]))
    assert loss.loss_name == 'loss_hier'
    assert HierarchicalLoss(hierarchy='pascal_part',
                            loss_name='loss_h2').loss_name == 'loss_h2'


def test_no_tree_is_a_clear_error():
    with pytest.raises(ValueError, match='HierarchicalLoss: no label tree'):
        HierarchicalLoss()


def test_labels_outside_tree_raise():
    logits, label = _random_case(8)
    label[0, 0, 0] = 9
    with pytest.raises(ValueError, match=r'\[9\]'):
        HierarchicalLoss(hierarchy='pascal_part')(logits, label)


def test_other_tree_targets_and_default_weights():
    """Two levels, 5 leaves, background id 2: targets come from that tree."""
    hier = ClassHierarchy.build(TWO_LEVEL_TREE)
    loss = HierarchicalLoss(hierarchy=TWO_LEVEL_TREE)
    assert loss.level_weights == dict(coarse=0.5, fine=0.5)
    label = torch.tensor([[[0, 1, 2, 3, 4, 255]]])
    coarse, fine = loss.level_targets(label, 255)
    # coarse: bg=0, a=1, b=2; fine keeps the leaf ids
    assert coarse.tolist() == [[[1, 1, 0, 2, 2, 255]]]
    assert fine.tolist() == label.tolist()
    logits = [torch.randn(1, c, 1, 6) for c in hier.num_classes]
    out = loss(logits, label)
    assert set(out) == {'loss_coarse', 'loss_fine'}
    with pytest.raises(ValueError, match='expected logits for 2 levels'):
        loss(logits + logits, label)
