# Synthetic Pascal-part look-alike for CPU demos and smoke training, in
# exactly the Pascal-part layout. Generate it first (about 20-30 s for
# 1,000 images on one core):
#   python tools/make_synthetic_dataset.py data/synthetic_pascal_part \
#       --num-train 800 --num-val 200
# Small crops (256) keep CPU training cheap.
dataset_type = 'PascalPartDataset'
data_root = 'data/synthetic_pascal_part/'
hierarchy = 'pascal_part'
crop_size = (256, 256)
train_pipeline = [
    dict(type='LoadHierImageFromFile'),
    dict(type='LoadHierAnnotations', hierarchy=hierarchy),
    dict(
        type='RandomResize',
        scale=(1024, 256),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadHierImageFromFile'),
    dict(type='Resize', scale=(1024, 256), keep_ratio=True),
    dict(type='LoadHierAnnotations', hierarchy=hierarchy),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        hierarchy=hierarchy,
        data_prefix=dict(img_path='JPEGImages', seg_map_path='gt_masks'),
        img_suffix='.jpg',
        seg_map_suffix='.npy',
        ann_file='train_id.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        hierarchy=hierarchy,
        data_prefix=dict(img_path='JPEGImages', seg_map_path='gt_masks'),
        img_suffix='.jpg',
        seg_map_suffix='.npy',
        ann_file='val_id.txt',
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='HierarchicalIoUMetric')
test_evaluator = val_evaluator
