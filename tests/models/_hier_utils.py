"""Small builders shared by the hierarchical model tests (tiny, CPU-fast)."""
import copy

import torch
from mmengine.config import ConfigDict
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData

import mmhierseg  # noqa: F401  (before mmseg.models: mmcv-lite shim)
from mmseg.registry import MODELS  # noqa: E402
from mmseg.structures import SegDataSample  # noqa: E402

init_default_scope('mmseg')

NORM = dict(type='BN', requires_grad=True)
MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]

# Leaf -> ancestor at each Pascal-part level, written out by hand from
# DESIGN.md (independent of ClassHierarchy's lookup tables).
# leaves: 0 bg, 1 low_hand, 2 torso, 3 low_leg, 4 head, 5 up_leg, 6 up_hand
# half:   0 bg, 1 upper_body, 2 lower_body;  body: 0 bg, 1 body
HAND_HALF = {0: 0, 1: 1, 2: 1, 3: 2, 4: 1, 5: 2, 6: 1}
HAND_BODY = {0: 0, 1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1}

#: A different tree: 2 levels, 5 leaves, background id 2.
TWO_LEVEL_TREE = dict(
    levels=('coarse', 'fine'),
    leaves=('a1', 'a2', 'bg', 'b1', 'b2'),
    background='bg',
    tree=dict(a=('a1', 'a2'), b=('b1', 'b2')))


def head_cfg(layout='separate',
             cascade=False,
             decoder='ASPPHead',
             in_channels=32,
             channels=16,
             **kwargs):
    """A tiny HierarchicalDecodeHead config."""
    if decoder == 'ASPPHead':
        dec = dict(
            type='ASPPHead',
            in_channels=in_channels,
            in_index=-1,
            channels=channels,
            dilations=(1, 2),
            dropout_ratio=0.1,
            norm_cfg=NORM,
            align_corners=False)
    else:
        dec = dict(
            type='FCNHead',
            in_channels=in_channels,
            in_index=-1,
            channels=channels,
            num_convs=1,
            concat_input=False,
            dropout_ratio=0.1,
            norm_cfg=NORM,
            align_corners=False)
    cfg = dict(
        type='HierarchicalDecodeHead',
        layout=layout,
        cascade=cascade,
        decoder=dec)
    cfg.update(kwargs)
    return ConfigDict(cfg)


def model_cfg(layout='separate',
              cascade=False,
              decode='consistent',
              test_cfg=None,
              stem=None,
              frozen=True,
              name='resnet18',
              hierarchy='pascal_part'):
    """A tiny HierEncoderDecoder config: resnet18, output stride 8."""
    cfg = dict(
        type='HierEncoderDecoder',
        hierarchy=hierarchy,
        decode=decode,
        stem=stem,
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=MEAN,
            std=STD,
            bgr_to_rgb=True,
            pad_val=0,
            seg_pad_val=255,
            size_divisor=8,
            test_cfg=dict(size_divisor=8)),
        backbone=dict(
            type='SMPEncoder',
            name=name,
            weights=None,
            output_stride=8,
            frozen=frozen),
        decode_head=head_cfg(layout, cascade, in_channels=512, channels=16),
        test_cfg=test_cfg or dict(mode='whole'))
    return ConfigDict(cfg)


def build(cfg):
    """Build from the mmseg registry and initialise weights."""
    model = MODELS.build(copy.deepcopy(cfg))
    model.init_weights()
    return model


def make_batch(n=2, h=64, w=64, seed=0, ori_shape=None, flip=False):
    """Raw (un-normalised) images and leaf labels as a data-loader batch."""
    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(n):
        img = torch.randint(0, 256, (3, h, w), generator=g, dtype=torch.uint8)
        label = torch.randint(0, 7, (1, h, w), generator=g)
        label[:, :2, :2] = 255
        meta = dict(
            img_shape=(h, w),
            ori_shape=ori_shape or (h, w),
            img_path='x.jpg',
            flip=flip,
            flip_direction='horizontal' if flip else None)
        samples.append(
            SegDataSample(gt_sem_seg=PixelData(data=label), metainfo=meta))
        inputs.append(img)
    return dict(inputs=inputs, data_samples=samples)


def level_maps(sample, hierarchy):
    """Per-level predictions stored in a SegDataSample, coarse to fine."""
    maps = []
    for lvl, name in enumerate(hierarchy.level_names):
        key = 'pred_sem_seg' if lvl == hierarchy.leaf_level \
            else f'pred_sem_seg_{name}'
        maps.append(sample.get(key).data)
    return maps
