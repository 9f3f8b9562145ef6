# Labels of mixed granularity: the demo model trained on part-labelled
# images plus images labelled only down to the body level (person masks).
#
# The idea: far more images have person masks (COCO: tens of thousands)
# than part labels (Pascal-part: 3,533). A dataset instance with
# `label_level='body'` holds masks of the body level's ids (0 background,
# 1 body, ClassHierarchy.classes('body')); its images train the body level
# and are ignored (255) at the finer levels (half, part), which only the
# part-labelled images train. mmengine's ConcatDataset mixes the two (their
# metainfo, the leaf classes and the tree, is the same). The loss averages
# each level over its own labelled pixels; the metric evaluates each level
# on the images labelled at least that finely and reports how many
# (images_level0/1/2). How to label and convert COCO: docs/GUIDE.md,
# "Labels of mixed granularity".
#
#   python tools/make_synthetic_dataset.py data/mixed_pascal_part \
#       --num-train 200 --num-val 200 --coarse-train 600 --coarse-val 100 \
#       --coarse-level body --prior-mask keypoints \
#       --prior-degrade 0.02 0.15 0.15
#   python tools/check_dataset.py data/mixed_pascal_part --label-level body \
#       --splits train=train_body_id.txt val=val_body_id.txt
#   python tools/train.py configs/hierseg_mixed_granularity.py
#   python tools/test.py configs/hierseg_mixed_granularity.py \
#       work_dirs/hierseg_mixed_granularity/iter_1300.pth
#
# Real data: point `part` at Pascal-part and `body` at the output of
#   tools/dataset_converters/coco_person_to_masks.py (and its priors:
#   tools/precompute_priors.py or coco_keypoints_to_priors.py).
# Validation (the best checkpoint) uses the part-labelled val split only,
# so its numbers compare with the demo's; the test set mixes both val
# splits, so tools/test.py shows the per-level image counts. The pipelines
# are the demo's: PackPoseSegInputs packs the coarse levels' maps.
_base_ = ['./demo/hierseg_synthetic_cpu.py']

data_root = 'data/mixed_pascal_part/'
coarse_level = 'body'
part_train = dict(
    type='PascalPartDataset',
    data_root=data_root,
    hierarchy=_base_.hierarchy,
    image_orientation=_base_.image_orientation,
    ann_file='train_id.txt',
    pipeline=_base_.train_pipeline)
body_train = dict(
    part_train, ann_file=f'train_{coarse_level}_id.txt',
    label_level=coarse_level)
part_val = dict(part_train, ann_file='val_id.txt',
                pipeline=_base_.test_pipeline)
body_val = dict(body_train, ann_file=f'val_{coarse_level}_id.txt',
                pipeline=_base_.test_pipeline)

train_dataloader = dict(
    dataset=dict(
        _delete_=True, type='ConcatDataset',
        datasets=[part_train, body_train]))
val_dataloader = dict(dataset=dict(_delete_=True, **part_val))
test_dataloader = dict(
    _base_.val_dataloader,
    dataset=dict(
        _delete_=True, type='ConcatDataset', datasets=[part_val, body_val]))
