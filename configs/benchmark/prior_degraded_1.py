# The demo model (staged.py) on priors degraded the way a good pose model errs: keypoint
# jitter of 3 % of the person's box, 15 % of the joints dropped, 15 % of the
# people missed. tools/benchmark_study.py makes <data>/priors_degraded_1/
# from the oracle priors/ once (degrade_priors, fixed per image).
_base_ = './staged.py'
degrade_priors = dict(jitter=0.03, drop=0.15, miss=0.15)
_load = dict(_base_.load_priors, prior_dir='priors_degraded_1')
train_dataloader = dict(dataset=dict(pipeline=[
    _load if t['type'] == 'LoadPoseAnnotations' else t
    for t in _base_.train_pipeline
]))
test_dataloader = dict(dataset=dict(pipeline=[
    _load if t['type'] == 'LoadPoseAnnotations' else t
    for t in _base_.test_pipeline
]))
val_dataloader = test_dataloader
