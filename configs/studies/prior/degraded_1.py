# The demo model on priors degraded the way a good pose model errs, read
# from data_root/priors_degraded_1/ (made from the oracle priors by
# tools/benchmark_study.py; levels: mmhierseg.benchmark.DEGRADE_LEVELS).
_base_ = '../../demo/hierseg_synthetic_cpu.py'
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
