# The demo model on priors degraded to the keypoint AP of YOLO11x-pose
# (COCO val2017 69.5 / AP50 91.1), read from
# data_root/priors_yolo11x_like/ (made from the oracle priors by
# tools/benchmark_study.py; levels: mmhierseg.benchmark.DEGRADE_LEVELS,
# calibrated by tools/benchmark_prior.py calibrate).
_base_ = '../../demo/hierseg_synthetic_cpu.py'
_load = dict(_base_.load_priors, prior_dir='priors_yolo11x_like')
train_dataloader = dict(dataset=dict(pipeline=[
    _load if t['type'] == 'LoadPoseAnnotations' else t
    for t in _base_.train_pipeline
]))
test_dataloader = dict(dataset=dict(pipeline=[
    _load if t['type'] == 'LoadPoseAnnotations' else t
    for t in _base_.test_pipeline
]))
val_dataloader = test_dataloader
