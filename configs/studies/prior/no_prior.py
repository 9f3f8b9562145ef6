# The demo model without the pose prior: no stem, no prior files read.
_base_ = '../../demo/hierseg_synthetic_cpu.py'
model = dict(stem=None)
train_dataloader = dict(dataset=dict(pipeline=[
    t if t['type'] != 'PackPoseSegInputs' else dict(type='PackSegInputs')
    for t in _base_.train_pipeline if t['type'] != 'LoadPoseAnnotations'
]))
test_dataloader = dict(dataset=dict(pipeline=[
    t if t['type'] != 'PackPoseSegInputs' else dict(type='PackSegInputs')
    for t in _base_.test_pipeline if t['type'] != 'LoadPoseAnnotations'
]))
val_dataloader = test_dataloader
