# Hierarchical DeepLabV3: frozen SMP ResNet34 (ImageNet, output stride 8),
# one ASPP branch per level of the label tree, per-level cross-entropy.
#
# Everything class-shaped comes from `model.hierarchy` (a preset name or a
# tree dict, see mmhierseg.ClassHierarchy; there is no default): 2 / 3 / 7
# classes for Pascal-part. The segmentor hands it to the head and the loss.
# Top-level configs set it, and the loss's per-level weights (uniform when
# unset), e.g. `model = dict(hierarchy=_base_.hierarchy, ...)`.
#
# Offline: weights='imagenet' needs the network (smp downloads from the
# Hugging Face Hub); pass a local file instead, e.g.
#   --cfg-options model.backbone.weights=/path/to/resnet34.safetensors
# Multi-GPU: BN here; add `sync_bn = 'torch'` to the top-level config to
# convert to SyncBN under a distributed launcher.
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],  # ImageNet, RGB, 0..255
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    # pad every batch to a multiple of 32 (variable image sizes are fine);
    # for a fixed crop use dict(size=crop_size, size_divisor=None)
    size_divisor=32,
    test_cfg=dict(size_divisor=32))
model = dict(
    type='HierEncoderDecoder',
    # hierarchy=...: required, set by the top-level config
    decode='consistent',
    data_preprocessor=data_preprocessor,
    # stem=dict(type='PosePriorStem', ...): see configs/hierseg_deeplabv3.py
    backbone=dict(
        type='SMPEncoder',
        name='resnet34',
        weights='imagenet',
        output_stride=8,
        out_indices=(2, 3, 4, 5),
        frozen=True),
    decode_head=dict(
        type='HierarchicalDecodeHead',
        # 'separate' (one decoder per level) with the coarse levels'
        # decoders at a quarter of the leaf decoder's channels, chosen by
        # evidence (demo recipe, 300 iterations, 5 seeds;
        # configs/studies/design/README.md): it beats the flat twin on every
        # level beyond 2 SE, as the full-width 'separate' does, at 1.3x
        # instead of 2.1x the plain train step (docs/BENCHMARKS.md). 'shared' (one trunk, a 1x1 classifier per level)
        # and 'marginal' cost what the plain model costs but lose mIoU2 to
        # the flat twin. Scale coarse_channels with decoder.channels.
        layout='separate',
        coarse_channels=64,
        cascade=False,
        decoder=dict(
            type='ASPPHead',
            in_channels=512,  # resnet34 last stage (2048 for resnet50/101)
            in_index=3,
            channels=256,
            dilations=(1, 12, 24, 36),
            dropout_ratio=0.1,
            norm_cfg=norm_cfg,
            align_corners=False),
        loss_decode=dict(
            type='HierarchicalLoss',
            # level_weights={level name: weight}: top-level config; uniform
            # when unset
            ignore_index=255,
            tree_min_weight=0.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
