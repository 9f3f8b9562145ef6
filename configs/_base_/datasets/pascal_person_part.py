# PASCAL-Person-Part: the same VOC images, single-channel PNG label maps in
# its own id order (0 bg, 1 head, 2 torso, 3 upper arms, 4 lower arms,
# 5 upper legs, 6 lower legs): another tree dict (the 'pascal_person_part'
# preset), the same dataset code.
#   data/pascal_person_part/JPEGImages/<id>.jpg, SegmentationPart/<id>.png,
#   train_id.txt (1,716 ids), val_id.txt (the 1,817 test ids)
# `data_root` is the one thing to edit; tools/dataset_converters/pascal_part.py
# --layout person_part writes this layout from the Pascal-Part .mat files.
# (Releases that keep the split files in list/ need
# ann_file='list/train_id.txt' / 'list/val_id.txt' below.)
# Check the data with
#   python tools/check_dataset.py data/pascal_person_part --layout person_part
dataset_type = 'PascalPersonPartDataset'
data_root = 'data/pascal_person_part/'
hierarchy = 'pascal_person_part'
crop_size = (512, 512)
train_pipeline = [
    dict(type='LoadHierImageFromFile'),
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
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationPart'),
        img_suffix='.jpg',
        seg_map_suffix='.png',
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
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationPart'),
        img_suffix='.jpg',
        seg_map_suffix='.png',
        ann_file='val_id.txt',
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='HierarchicalIoUMetric')
test_evaluator = val_evaluator
