# PASCAL-Person-Part: the same VOC images, single-channel PNG label maps in
# its own id order (0 bg, 1 head, 2 torso, 3 upper arms, 4 lower arms,
# 5 upper legs, 6 lower legs): another tree (the 'pascal_person_part'
# preset), the same dataset code and pipelines as pascal_part.py.
#   data/pascal_person_part/JPEGImages/<id>.jpg, SegmentationPart/<id>.png,
#   train_id.txt (1,716 ids), val_id.txt (the 1,817 test ids)
# `data_root` is the one thing to edit; tools/dataset_converters/pascal_part.py
# --layout person_part writes this layout from the Pascal-Part .mat files.
# (Releases that keep the split files in list/ need
# ann_file='list/train_id.txt' / 'list/val_id.txt'.)
# Check the data with
#   python tools/check_dataset.py data/pascal_person_part --layout person_part
_base_ = ['./pascal_part.py']

dataset_type = 'PascalPersonPartDataset'
data_root = 'data/pascal_person_part/'
hierarchy = 'pascal_person_part'
train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, hierarchy=hierarchy))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, hierarchy=hierarchy))
test_dataloader = val_dataloader
