"""Tiny data and configs for runner-level tests (CPU, seconds).

``make_tiny_pascal_part`` writes a few images in the Pascal-part layout
(``JPEGImages/*.jpg``, ``gt_masks/*.npy``, ``train_id.txt``, ``val_id.txt``)
with one rectangular "person" each; ``tiny_cfg`` returns a complete runner
config using the real components (``PascalPartDataset``,
``HierEncoderDecoder``, ``HierarchicalDecodeHead``, ``StagedUnfreezeHook``,
``HierarchicalIoUMetric``) on a very small mmseg ResNet.
"""
import copy
import os
import uuid
import os.path as osp

import numpy as np
from PIL import Image

import mmhierseg  # noqa: F401
from mmhierseg.hierarchy import ClassHierarchy

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

_LEAF_COLOURS = {
    'background': (30, 30, 30),
    'head': (250, 220, 10),
    'torso': (220, 20, 60),
    'up_hand': (250, 100, 200),
    'low_hand': (250, 160, 0),
    'up_leg': (0, 0, 160),
    'low_leg': (0, 130, 250),
}


def _person_mask(h: int, w: int, rng, hier: ClassHierarchy) -> np.ndarray:
    """A leaf mask with one box person: head, torso, arms and legs."""
    ids = {name: i for i, name in enumerate(hier.leaf_names)}
    mask = np.zeros((h, w), dtype=np.uint8)
    pw = int(rng.integers(w // 4, w // 2))
    ph = int(rng.integers(h // 2, h - 2))
    x0 = int(rng.integers(1, w - pw))
    y0 = int(rng.integers(0, h - ph))
    rows = np.linspace(y0, y0 + ph, 6).astype(int)
    cx = slice(x0 + pw // 4, x0 + 3 * pw // 4)
    mask[rows[0]:rows[1], cx] = ids['head']
    mask[rows[1]:rows[3], cx] = ids['torso']
    mask[rows[1]:rows[2], x0:x0 + pw // 4] = ids['up_hand']
    mask[rows[2]:rows[3], x0:x0 + pw // 4] = ids['low_hand']
    mask[rows[1]:rows[2], x0 + 3 * pw // 4:x0 + pw] = ids['up_hand']
    mask[rows[2]:rows[3], x0 + 3 * pw // 4:x0 + pw] = ids['low_hand']
    mask[rows[3]:rows[4], cx] = ids['up_leg']
    mask[rows[4]:rows[5], cx] = ids['low_leg']
    return mask


def make_tiny_pascal_part(root: str,
                          n_train: int = 6,
                          n_val: int = 4,
                          size: int = 32,
                          seed: int = 0) -> str:
    """Write a tiny dataset in the Pascal-part layout.

    Args:
        root (str): Target folder.
        n_train (int): Training images.
        n_val (int): Validation images.
        size (int): Image side.
        seed (int): Random seed.

    Returns:
        str: ``root``.
    """
    hier = ClassHierarchy.build('pascal_part')
    rng = np.random.default_rng(seed)
    os.makedirs(osp.join(root, 'JPEGImages'), exist_ok=True)
    os.makedirs(osp.join(root, 'gt_masks'), exist_ok=True)
    ids = [f'{i:04d}' for i in range(n_train + n_val)]
    lut = np.array([_LEAF_COLOURS[n] for n in hier.leaf_names],
                   dtype=np.int16)
    for img_id in ids:
        mask = _person_mask(size, size, rng, hier)
        img = lut[mask] + rng.integers(-20, 21, size=(size, size, 3))
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(
            osp.join(root, 'JPEGImages', f'{img_id}.jpg'), quality=95)
        if img_id == ids[-1]:
            mask[0, 0] = 255  # an ignored pixel
        np.save(osp.join(root, 'gt_masks', f'{img_id}.npy'), mask)
    with open(osp.join(root, 'train_id.txt'), 'w') as f:
        f.write('\n'.join(ids[:n_train]))
    with open(osp.join(root, 'val_id.txt'), 'w') as f:
        f.write('\n'.join(ids[n_train:]))
    return root


def tiny_model_cfg() -> dict:
    """A HierEncoderDecoder with a 2-stage ResNet of 8/16 channels."""
    norm_cfg = dict(type='BN', requires_grad=True)
    return dict(
        type='HierEncoderDecoder',
        hierarchy='pascal_part',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True,
            pad_val=0,
            seg_pad_val=255,
            size=(32, 32)),
        backbone=dict(
            type='ResNet',
            depth=18,
            num_stages=2,
            strides=(1, 2),
            dilations=(1, 1),
            out_indices=(1, ),
            stem_channels=8,
            base_channels=8,
            norm_cfg=norm_cfg),
        decode_head=dict(
            type='HierarchicalDecodeHead',
            decoder=dict(
                type='FCNHead',
                in_channels=16,
                in_index=0,
                channels=8,
                num_convs=1,
                concat_input=False,
                dropout_ratio=0.0,
                norm_cfg=norm_cfg,
                align_corners=False),
            loss_decode=dict(
                type='HierarchicalLoss',
                level_weights=dict(body=0.34, half=0.25, part=0.4))),
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))


def tiny_cfg(work_dir: str,
             data_root: str,
             max_iters: int = 8,
             val_interval: int = 4,
             stage_length: int = 2,
             mlflow: bool = False,
             batch_size: int = 2,
             checkpoint_interval: int = 4) -> dict:
    """A complete runner config (dict) on the tiny data.

    Args:
        work_dir (str): Work dir.
        data_root (str): Root of :func:`make_tiny_pascal_part` data.
        max_iters (int): Training iterations.
        val_interval (int): Validate (and save) every so many iterations.
        stage_length (int): Iterations of each single-level stage (the
            backbone trains in the last stage only).
        mlflow (bool): Add ``HierMLflowVisBackend`` to the visualizer.
        batch_size (int): Training batch size.
        checkpoint_interval (int): Checkpoint every so many iterations.

    Returns:
        dict: Pass to ``Runner.from_cfg(Config(...))``.
    """
    train_pipeline = [
        dict(type='LoadHierImageFromFile'),
        dict(type='LoadHierAnnotations'),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackSegInputs'),
    ]
    test_pipeline = [
        dict(type='LoadHierImageFromFile'),
        dict(type='LoadHierAnnotations'),
        dict(type='PackSegInputs'),
    ]
    dataset = dict(
        type='PascalPartDataset', data_root=data_root, hierarchy='pascal_part')
    vis_backends = [dict(type='LocalVisBackend')]
    if mlflow:
        vis_backends.append(dict(type='HierMLflowVisBackend'))
    cfg = dict(
        default_scope='mmseg',
        custom_imports=dict(imports=['mmhierseg'], allow_failed_imports=False),
        work_dir=work_dir,
        model=tiny_model_cfg(),
        train_dataloader=dict(
            batch_size=batch_size,
            num_workers=0,
            sampler=dict(type='InfiniteSampler', shuffle=True),
            dataset=dict(
                dataset, ann_file='train_id.txt', pipeline=train_pipeline)),
        val_dataloader=dict(
            batch_size=1,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(
                dataset, ann_file='val_id.txt', pipeline=test_pipeline)),
        val_evaluator=dict(type='HierarchicalIoUMetric'),
        optim_wrapper=dict(
            type='OptimWrapper',
            optimizer=dict(
                type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4)),
        param_scheduler=[],
        train_cfg=dict(
            type='IterBasedTrainLoop',
            max_iters=max_iters,
            val_interval=val_interval),
        val_cfg=dict(type='ValLoop'),
        test_cfg=dict(type='TestLoop'),
        default_hooks=dict(
            timer=dict(type='IterTimerHook'),
            logger=dict(
                type='LoggerHook', interval=1, log_metric_by_epoch=False),
            param_scheduler=dict(type='ParamSchedulerHook'),
            checkpoint=dict(
                type='CheckpointHook',
                by_epoch=False,
                interval=checkpoint_interval,
                save_best='mIoU2',
                rule='greater'),
            sampler_seed=dict(type='DistSamplerSeedHook'),
            visualization=dict(type='HierSegVisualizationHook')),
        custom_hooks=[
            dict(
                type='StagedUnfreezeHook',
                by='iter',
                stage_length=stage_length,
                extra_trainable=['backbone'])
        ],
        env_cfg=dict(
            cudnn_benchmark=False,
            mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
            dist_cfg=dict(backend='gloo')),
        visualizer=dict(
            type='HierSegLocalVisualizer',
            vis_backends=vis_backends,
            # unique: MMEngine reuses a visualizer instance by name
            name=f'visualizer_{uuid.uuid4().hex[:8]}'),
        log_processor=dict(by_epoch=False),
        log_level='WARNING',
        load_from=None,
        resume=False,
        randomness=dict(seed=0),
    )
    cfg['test_dataloader'] = copy.deepcopy(cfg['val_dataloader'])
    cfg['test_evaluator'] = copy.deepcopy(cfg['val_evaluator'])
    return cfg
