# Pascal-part person parts: 3,533 VOC images, uint8 .npy leaf masks.
#   data/Pascal-part/JPEGImages/<id>.jpg, gt_masks/<id>.npy,
#   train_id.txt (2,826 ids), val_id.txt (707 ids)
# `data_root` is the one thing to edit. Check the data first with
#   python tools/check_dataset.py data/Pascal-part
# The leaf ids and the tree come from `hierarchy` (a preset name or a tree
# dict, see mmhierseg.ClassHierarchy); the metric reads it from the dataset.
# The part classes are not left/right specific, so horizontal flips need no
# label swap.
dataset_type = 'PascalPartDataset'
data_root = 'data/Pascal-part/'
hierarchy = 'pascal_part'
crop_size = (512, 512)
train_pipeline = [
    dict(type='LoadHierImageFromFile'),  # grayscale JPEGs -> 3 channels
    dict(type='LoadHierAnnotations', hierarchy=hierarchy),
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
    # annotations after Resize: metrics are computed at the original size
    dict(type='LoadHierAnnotations', hierarchy=hierarchy),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
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
    num_workers=4,
    persistent_workers=True,
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
