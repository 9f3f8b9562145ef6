"""The shipped configs load, build, and the staged hook accepts their models;
the demo config trains through the runner."""
import copy
import os
import os.path as osp
import types

import numpy as np
import pytest
from mmengine.registry import init_default_scope

import mmhierseg  # noqa: F401  (before mmseg: mmcv-lite placeholder)
from mmengine.config import Config  # noqa: E402
from mmengine.logging import MessageHub  # noqa: E402
from mmengine.runner import Runner  # noqa: E402
from mmseg.registry import MODELS  # noqa: E402

from mmhierseg.engine import StagedUnfreezeHook  # noqa: E402
from tests.engine._tiny import ROOT, make_tiny_pascal_part  # noqa: E402

MAIN = osp.join(ROOT, 'configs', 'hierseg_deeplabv3.py')
DEMO = osp.join(ROOT, 'configs', 'demo', 'hierseg_synthetic_cpu.py')


# the staged schedule the main config documents as one hook away
STAGED = dict(type='StagedUnfreezeHook', by='iter', stage_length=2000,
              extra_trainable=['stem.fuse'])


def _validate_hook(cfg, model, hook_cfg=STAGED):
    hook_cfg = copy.deepcopy(hook_cfg)
    hook_cfg.pop('type')
    hook = StagedUnfreezeHook(**hook_cfg)
    hook.before_train(
        types.SimpleNamespace(
            model=model,
            train_loop=types.SimpleNamespace(
                max_iters=cfg.train_cfg.max_iters),
            iter=0,
            epoch=0,
            message_hub=MessageHub.get_instance('config_test'),
            visualizer=types.SimpleNamespace(add_scalars=lambda *a, **k: 0)))
    return hook


def test_main_config_composes_and_its_stages_fit_the_model():
    cfg = Config.fromfile(MAIN)
    # the data path is the one thing a user edits, used everywhere
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[loader].dataset.data_root == cfg.data_root
    assert cfg.model.hierarchy == cfg.hierarchy
    assert cfg.model.stem.type == 'PosePriorStem'
    assert cfg.model.backbone.frozen is True
    assert cfg.val_evaluator.type == 'HierarchicalIoUMetric'
    assert cfg.default_hooks.checkpoint.save_best == 'mIoU_leaf'
    assert cfg.default_hooks.hierarchy_check.type == 'HierarchyCheckHook'
    # joint training: DDP need not search for unused parameters
    assert cfg.model_wrapper_cfg.find_unused_parameters is False
    mlflow = [b for b in cfg.visualizer.vis_backends
              if b['type'] == 'HierMLflowVisBackend']
    assert len(mlflow) == 1
    # joint training by default (the study's evidence); the staged schedule
    # (STAGED) is opt-in: it is checked against the real model below
    assert cfg.custom_hooks == []
    # build offline: no encoder weights, the pose model from its yaml
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.weights = None
    model_cfg.stem.pose = dict(backend='ultralytics',
                               weights='yolov8n-pose.yaml')
    model_cfg.stem.sam = None
    model_cfg.stem.channels = ('head', 'torso', 'upper_arm', 'lower_arm',
                               'upper_leg', 'lower_leg')
    init_default_scope('mmseg')  # as the runner does (default_scope)
    model = MODELS.build(model_cfg)
    hook = _validate_hook(cfg, model)
    assert hook.stages[-1]['trainable'] == [
        'decode_head.branches.0', 'decode_head.branches.1',
        'decode_head.branches.2', 'stem.fuse'
    ]
    # the last stage runs on the weights written once, on the loss
    assert hook.stages[-1]['loss_weights'] == dict(
        body=0.34, half=0.25, part=0.4)
    # a path that is not in the model is refused with the real model too
    with pytest.raises(ValueError, match="'stem.fusion'"):
        _validate_hook(cfg, model,
                       dict(STAGED, extra_trainable=['stem.fusion']))
    # the model base names no tree: a config that forgets it is refused
    model_cfg.hierarchy = None
    with pytest.raises(ValueError, match='no label tree'):
        MODELS.build(model_cfg)


@pytest.mark.slow
def test_demo_config_trains_through_the_runner(tmp_path):
    """Two iterations of the demo config on tiny data (shrunk loaders)."""
    data = make_tiny_pascal_part(str(tmp_path / 'data'), n_train=4, n_val=2)
    cfg = Config.fromfile(DEMO)
    assert cfg.model.backbone.frozen is True  # pretrained, offline (PyPI)
    # the stem reads (oracle) priors from the data: a file per image
    assert cfg.model.stem.type == 'PosePriorStem'
    from mmhierseg.priors import PersonPriors, prior_path, save_priors
    for name in os.listdir(osp.join(data, 'JPEGImages')):
        mask = np.load(osp.join(data, 'gt_masks', name[:-4] + '.npy'))
        h, w = mask.shape
        kpts = np.tile([[w / 2, h / 4]], (1, 17, 1)).astype(np.float32)
        kpts[0, 5:] = [[w / 3, h / 2], [2 * w / 3, h / 2]] * 6
        save_priors(
            prior_path(osp.join(data, 'JPEGImages', name)),
            PersonPriors(np.array([[2, 2, w - 2, h - 2]], np.float32), kpts,
                         np.ones((1, 17), np.float32), (h, w), mask != 0),
            dict(settings=dict(kind='synthetic_oracle')))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data
        cfg[loader].num_workers = 0
        cfg[loader].persistent_workers = False
    cfg.train_dataloader.batch_size = 2
    cfg.work_dir = str(tmp_path / 'work')
    cfg.train_cfg.max_iters = 2
    cfg.train_cfg.val_interval = 2
    assert [h['type'] for h in cfg.custom_hooks] == ['ValSamplesVisHook']
    cfg.visualizer.vis_backends = [dict(type='LocalVisBackend')]
    cfg.visualizer.name = 'demo_config_test'
    cfg.log_level = 'WARNING'
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    assert runner.model.stem.detector._pose is None  # no pose model ran
    assert osp.isfile(osp.join(cfg.work_dir, 'iter_2.pth'))
    assert runner.message_hub.get_scalar('val/mIoU_leaf') is not None
