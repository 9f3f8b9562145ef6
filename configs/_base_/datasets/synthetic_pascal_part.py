# Synthetic Pascal-part look-alike for CPU demos and smoke training, in
# exactly the Pascal-part layout, so everything but the root and the image
# scale is inherited from pascal_part.py. Generate it first (1,000 images
# take under a minute on one core):
#   python tools/make_synthetic_dataset.py data/synthetic_pascal_part \
#       --num-train 800 --num-val 200
# Small images and crops (256) keep CPU training cheap.
_base_ = ['./pascal_part.py']

data_root = 'data/synthetic_pascal_part/'
crop_size = (256, 256)
train_pipeline = _base_.train_pipeline
train_pipeline[2].update(scale=(1024, 256))  # RandomResize
train_pipeline[3].update(crop_size=crop_size)  # RandomCrop
test_pipeline = _base_.test_pipeline
test_pipeline[1].update(scale=(1024, 256))  # Resize
train_dataloader = dict(
    num_workers=2,
    persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=2,
    persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
