# A new label tree, declared only here: two levels, `body` (background vs.
# person) and `part` (the six Pascal-part parts under `body`). Nothing in the
# code knows this tree: head channels (2 / 7), loss targets, metric keys
# (mIoU0, mIoU1, mIoU_leaf), the staged schedule (body, part, both) and the
# best-checkpoint rule (mIoU_leaf) all follow from it. The leaf ids are the
# Pascal-part mask ids, so the Pascal-part data is used unchanged.
#   python tools/train.py configs/examples/hierseg_two_level_body_part.py
#   python tools/test.py configs/examples/hierseg_two_level_body_part.py \
#       work_dirs/hierseg_two_level_body_part/best_mIoU_leaf_iter_*.pth
_base_ = [
    '../_base_/models/hierseg_deeplabv3.py',
    '../_base_/datasets/pascal_part.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_hier_20k.py',
]

tree = dict(
    levels=('body', 'part'),
    # leaf names in mask-id order (0 = background, 1 = low_hand, ...)
    leaves=('background', 'low_hand', 'torso', 'low_leg', 'head', 'up_leg',
            'up_hand'),
    background='background',
    tree=dict(
        body=('head', 'torso', 'up_hand', 'low_hand', 'up_leg', 'low_leg')))

# `_delete_`: replace the dataset config's preset name instead of merging
hierarchy = dict(tree, _delete_=True)
model = dict(
    hierarchy=tree,
    decode_head=dict(loss_decode=dict(level_weights=dict(body=0.4, part=0.6))))
# the dataset hands the same tree to its transforms and the metric
train_dataloader = dict(dataset=dict(hierarchy=hierarchy))
val_dataloader = dict(dataset=dict(hierarchy=hierarchy))
test_dataloader = val_dataloader

custom_hooks = [dict(type='StagedUnfreezeHook', by='iter', stage_length=2000)]
# staged: whole branches get no gradient in some stages, DDP must know
model_wrapper_cfg = dict(find_unused_parameters=True)
