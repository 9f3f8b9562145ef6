# The demo model (staged.py) on priors degraded the way a weak pose model errs: keypoint
# jitter of 8 % of the person's box, 30 % of the joints dropped, 30 % of the
# people missed. tools/benchmark_study.py makes <data>/priors_degraded_2/
# from the oracle priors/ once (degrade_priors, fixed per image).
_base_ = './staged.py'
degrade_priors = dict(jitter=0.08, drop=0.3, miss=0.3)
_load = dict(_base_.load_priors, prior_dir='priors_degraded_2')
train_dataloader = dict(dataset=dict(pipeline=[
    _load if t['type'] == 'LoadPoseAnnotations' else t
    for t in _base_.train_pipeline
]))
test_dataloader = dict(dataset=dict(pipeline=[
    _load if t['type'] == 'LoadPoseAnnotations' else t
    for t in _base_.test_pipeline
]))
val_dataloader = test_dataloader
