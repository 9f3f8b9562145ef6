"""Labels of mixed granularity in the loss: images labelled only down to the
body level train the body level and nothing finer."""
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmhierseg import ClassHierarchy
from mmhierseg.structures import stack_level_targets

from ._hier_utils import HAND_BODY, HAND_HALF, build, head_cfg

TREE = ClassHierarchy.build('pascal_part')
H = W = 16
# background ~80 %: the demo's kind of class weights, where an empty level
# could give 0 / 0
CLASS_WEIGHT = dict(body=[1.0, 2.0], half=[1.0, 2.0, 5.0],
                    part=[1.0, 5.0, 3.0, 5.0, 4.0, 5.0, 5.0])


def _head(**loss):
    loss = dict(type='HierarchicalLoss', class_weight=CLASS_WEIGHT, **loss)
    return build(head_cfg('separate', hierarchy='pascal_part',
                          loss_decode=loss))


def _feats(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.rand(n, 32, 8, 8, generator=g)]


def _body_only(seed):
    """A sample labelled at the body level only (as PackHierSegInputs packs
    it): body ids in gt_sem_seg_body, 255 everywhere finer."""
    g = torch.Generator().manual_seed(seed)
    body = torch.randint(0, 2, (1, H, W), generator=g)
    body[:, 0, :3] = 255
    ignore = torch.full((1, H, W), 255)
    return SegDataSample(
        gt_sem_seg=PixelData(data=ignore.clone()),
        gt_sem_seg_half=PixelData(data=ignore.clone()),
        gt_sem_seg_body=PixelData(data=body),
        metainfo=dict(label_level=0))


def _part(seed):
    g = torch.Generator().manual_seed(seed)
    leaf = torch.randint(0, 7, (1, H, W), generator=g)
    return SegDataSample(gt_sem_seg=PixelData(data=leaf),
                         metainfo=dict(label_level=2))


def test_body_only_batch_is_finite_and_trains_no_finer_branch():
    head = _head(tree_min_weight=0.5)
    losses = head.loss(_feats(2), [_body_only(1), _body_only(2)], None)
    total = sum(v for k, v in losses.items() if k.startswith('loss_'))
    assert torch.isfinite(total)
    assert losses['loss_body'].item() > 0
    # no labelled pixel at the finer levels: exactly zero, not NaN
    for key in ('loss_half', 'loss_part', 'loss_tree_min'):
        assert losses[key].item() == 0, key
    head.zero_grad()
    total.backward()
    grads = {k: [p.grad for n, p in head.named_parameters()
                 if any(n.startswith(m + '.') for m in head.level_modules(k))]
             for k in range(3)}
    assert any(g is not None and g.abs().sum() > 0 for g in grads[0])
    for k in (1, 2):
        assert grads[k], k
        assert all(g is None or g.abs().sum() == 0 for g in grads[k]), k


def test_mixed_batch_trains_the_body_level_on_every_image():
    head = _head().eval()  # no dropout: the same logits twice
    samples = [_body_only(3), _part(4)]
    feats = _feats(2, seed=1)
    losses = head.loss(feats, samples, None)
    logits = [F.interpolate(x, size=(H, W), mode='bilinear',
                            align_corners=False) for x in head(feats)]
    leaf = samples[1].gt_sem_seg.data[0]
    body_t = torch.stack([
        samples[0].gt_sem_seg_body.data[0],
        leaf.clone().apply_(lambda v: HAND_BODY[v])])
    half_t = torch.stack([
        torch.full((H, W), 255), leaf.clone().apply_(lambda v: HAND_HALF[v])])
    part_t = torch.stack([torch.full((H, W), 255), leaf])

    def ce(x, t, w):
        return F.cross_entropy(x, t, weight=torch.tensor(w),
                               ignore_index=255)

    w = head.loss_decode.level_weights
    assert torch.allclose(losses['loss_body'],
                          w['body'] * ce(logits[0], body_t,
                                         CLASS_WEIGHT['body']), atol=1e-5)
    assert torch.allclose(losses['loss_half'],
                          w['half'] * ce(logits[1], half_t,
                                         CLASS_WEIGHT['half']), atol=1e-5)
    assert torch.allclose(losses['loss_part'],
                          w['part'] * ce(logits[2], part_t,
                                         CLASS_WEIGHT['part']), atol=1e-5)
    # the body image's body pixels count: without it the loss differs
    alone = head.loss([f[1:] for f in feats], samples[1:], None)
    assert not torch.allclose(alone['loss_body'], losses['loss_body'])


def test_leaf_labelled_batch_is_unchanged():
    """No sample carries a coarse map: targets derive from the leaf, as
    before (stack_level_targets gives None)."""
    head = _head().eval()
    samples = [_part(5), _part(6)]
    leaf = torch.stack([s.gt_sem_seg.data[0] for s in samples])
    assert stack_level_targets(samples, TREE, leaf) is None
    feats = _feats(2, seed=2)
    got = head.loss(feats, samples, None)
    logits = [F.interpolate(x, size=(H, W), mode='bilinear',
                            align_corners=False) for x in head(feats)]
    want = head.loss_decode(logits, leaf)
    for key, value in want.items():
        assert torch.allclose(got[key], value), key


def test_coarse_maps_are_padded_like_the_leaf_map():
    """The data preprocessor pads gt_sem_seg to the batch size (255,
    bottom/right) but not the coarse maps: stack_level_targets does."""
    small = _body_only(7)
    body = small.gt_sem_seg_body.data[:, :12, :10].clone()
    small.gt_sem_seg_body = PixelData(data=body)
    leaf = torch.full((2, H, W), 255)
    leaf[1] = _part(8).gt_sem_seg.data[0]
    out = stack_level_targets([small, _part(8)], TREE, leaf)
    assert [t.shape for t in out] == [(2, H, W)] * 3
    assert torch.equal(out[0][0, :12, :10], body[0])
    assert (out[0][0, 12:] == 255).all() and (out[0][0, :, 10:] == 255).all()
    # the leaf-labelled sample's coarse levels derive from its leaf map
    assert torch.equal(out[1][1], TREE.to_level(leaf[1], 1))
    assert out[2] is leaf
