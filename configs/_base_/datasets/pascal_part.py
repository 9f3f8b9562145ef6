# Pascal-part person parts: 3,533 VOC images, uint8 .npy leaf masks.
#   data/Pascal-part/JPEGImages/<id>.jpg, gt_masks/<id>.npy,
#   train_id.txt (2,826 ids), val_id.txt (707 ids)
# `data_root` is the one thing to edit. Check the data first with
#   python tools/check_dataset.py data/Pascal-part
# The leaf ids and the tree come from `hierarchy` (a preset name or a tree
# dict, see mmhierseg.ClassHierarchy): the dataset hands it to the loading
# transforms and the metric, so no pipeline names it. Folders and suffixes
# are the dataset class's defaults (mmhierseg/datasets/layouts.py).
# The part classes are not left/right specific, so horizontal flips need no
# label swap.
dataset_type = 'PascalPartDataset'
data_root = 'data/Pascal-part/'
hierarchy = 'pascal_part'
# EXIF orientation policy (mmhierseg/datasets/images.py): 'raw' ignores the
# tag (pixels as stored: Pascal-part's masks are in this order); 'exif'
# applies it (for masks drawn on the displayed image, e.g. in a browser).
image_orientation = 'raw'
crop_size = (512, 512)
train_pipeline = [
    dict(type='LoadHierImageFromFile'),  # grayscale JPEGs -> 3 channels
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
    # annotations after Resize: metrics are computed at the original size
    dict(type='LoadHierAnnotations'),
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
        image_orientation=image_orientation,
        ann_file='train_id.txt',
        pipeline=train_pipeline))
# Every dataset checks its masks (dtype, rank, size, values: check_masks,
# on by default) when it is built: a bad validation mask stops training before the first
# iteration, not at the first validation.
val_dataloader = dict(
    train_dataloader,
    batch_size=1,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        train_dataloader['dataset'],
        ann_file='val_id.txt',
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='HierarchicalIoUMetric')
test_evaluator = val_evaluator
