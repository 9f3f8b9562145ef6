# Runtime shared by the mmhierseg configs (mmseg's default_runtime plus the
# hierarchy-specific pieces).
default_scope = 'mmseg'
custom_imports = dict(imports=['mmhierseg'], allow_failed_imports=False)
env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/train.py and tools/test.py switch to gloo without CUDA
    dist_cfg=dict(backend='nccl'),
)
# Joint training (the default) gives every trainable parameter a gradient,
# so DDP does not search for unused ones. A config that adds the opt-in
# StagedUnfreezeHook (whole branches without gradients in some stages) sets
# model_wrapper_cfg = dict(find_unused_parameters=True). Buffers are not
# broadcast (MMEngine's default), so BN statistics of frozen modules never
# change on any rank.
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel',
    find_unused_parameters=False,
    broadcast_buffers=False)

# MLflow: SQLite store `<work_dir>/mlruns.db`, artifacts in
# `<work_dir>/mlartifacts` (resolved when the runner starts). For a server:
#   --cfg-options visualizer.vis_backends.1.tracking_uri=http://host:5000
# or set MLFLOW_TRACKING_URI (a server that does not answer stops the start
# at once). A resumed run (--resume) continues the same MLflow run, also in a
# moved work dir. Browse:
#   mlflow ui --backend-store-uri sqlite:///<work_dir>/mlruns.db
vis_backends = [
    dict(type='LocalVisBackend'),
    dict(type='HierMLflowVisBackend'),
]
visualizer = dict(
    type='HierSegLocalVisualizer',
    vis_backends=vis_backends,
    name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False

tta_model = dict(type='HierSegTTAModel')
