# mmseg's own DeepLabV3 R50-D8 (VOC 512x512, 40k) config, unmodified, with
# the hierarchical segmentor, head, loss and the Pascal-part dataset swapped
# in. Everything not overridden here (ResNetV1c-50-D8 backbone, data
# preprocessor, schedule, runtime) is mmseg's; the pipelines below repeat
# mmseg's augmentation with the hierarchical loading transforms (without
# mmseg's Pad: the data preprocessor pads to the crop size).
_base_ = ['mmseg::deeplabv3/deeplabv3_r50-d8_4xb4-40k_voc12aug-512x512.py']
custom_imports = dict(imports=['mmhierseg'], allow_failed_imports=False)

hierarchy = 'pascal_part'
level_weights = dict(body=0.34, half=0.25, part=0.4)  # decode and aux heads
norm_cfg = dict(type='SyncBN', requires_grad=True)  # as in mmseg's config
crop_size = (512, 512)

model = dict(
    type='HierEncoderDecoder',
    hierarchy=hierarchy,
    decode='consistent',
    decode_head=dict(
        _delete_=True,
        type='HierarchicalDecodeHead',
        layout='separate',
        coarse_channels=128,  # a quarter of decoder.channels, as the base
        cascade=False,
        decoder=dict(
            type='ASPPHead',
            in_channels=2048,
            in_index=3,
            channels=512,
            dilations=(1, 12, 24, 36),
            dropout_ratio=0.1,
            norm_cfg=norm_cfg,
            align_corners=False),
        loss_decode=dict(
            type='HierarchicalLoss', level_weights=level_weights)),
    # mmseg's FCN auxiliary head on stage 3, made hierarchical as well
    auxiliary_head=dict(
        _delete_=True,
        type='HierarchicalDecodeHead',
        layout='separate',
        decoder=dict(
            type='FCNHead',
            in_channels=1024,
            in_index=2,
            channels=256,
            num_convs=1,
            concat_input=False,
            dropout_ratio=0.1,
            norm_cfg=norm_cfg,
            align_corners=False),
        loss_decode=dict(
            type='HierarchicalLoss',
            level_weights=level_weights,
            loss_weight=0.4)))
# fail at start-up if the model's tree and the datasets' trees differ
default_hooks = dict(hierarchy_check=dict(type='HierarchyCheckHook'))
# flip/multi-scale TTA (tools/test.py --tta) that keeps every level
tta_model = dict(type='HierSegTTAModel')

# dataset: Pascal-part person parts (JPEGImages/*.jpg, gt_masks/*.npy)
dataset_type = 'PascalPartDataset'
data_root = 'data/Pascal-part'
train_pipeline = [
    dict(type='LoadHierImageFromFile'),
    dict(type='LoadHierAnnotations'),
    dict(
        type='RandomResize',
        scale=(2048, 512),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadHierImageFromFile'),
    dict(type='Resize', scale=(2048, 512), keep_ratio=True),
    dict(type='LoadHierAnnotations'),
    dict(type='PackSegInputs')
]
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_pipeline = [
    dict(type='LoadHierImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [
                dict(type='Resize', scale_factor=r, keep_ratio=True)
                for r in img_ratios
            ],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal')
            ], [dict(type='LoadHierAnnotations')],
            [dict(type='PackSegInputs')]
        ])
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        hierarchy=hierarchy,
        data_root=data_root,
        ann_file='train_id.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        hierarchy=hierarchy,
        data_root=data_root,
        ann_file='val_id.txt',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='HierarchicalIoUMetric')
test_evaluator = val_evaluator
