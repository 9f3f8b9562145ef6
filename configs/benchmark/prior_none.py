# The demo model (staged.py: the demo's decoders and staged schedule) without
# the pose prior: no stem, no prior files read. Next to staged.py (oracle
# priors) and prior_degraded_*.py it measures what the prior is worth
# (tools/benchmark_study.py).
_base_ = './staged.py'
model = dict(stem=None)
_drop = ('LoadPoseAnnotations', )
train_dataloader = dict(dataset=dict(pipeline=[
    t if t['type'] != 'PackPoseSegInputs' else dict(type='PackSegInputs')
    for t in _base_.train_pipeline if t['type'] not in _drop
]))
test_dataloader = dict(dataset=dict(pipeline=[
    t if t['type'] != 'PackPoseSegInputs' else dict(type='PackSegInputs')
    for t in _base_.test_pipeline if t['type'] not in _drop
]))
val_dataloader = test_dataloader
