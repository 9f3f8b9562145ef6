"""StagedUnfreezeHook: schedule from the tree, freezing, BN eval, errors."""
import copy
import types

import pytest
import torch
import torch.nn as nn

import mmhierseg  # noqa: F401  (before mmseg: mmcv-lite placeholder)
from mmengine.config import Config  # noqa: E402
from mmengine.hooks import Hook  # noqa: E402
from mmengine.logging import MessageHub  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.runner import Runner  # noqa: E402
from mmseg.registry import MODELS  # noqa: E402

from mmhierseg.engine import StagedUnfreezeHook  # noqa: E402
from tests.engine._tiny import (make_tiny_pascal_part, tiny_cfg,  # noqa: E402
                                tiny_model_cfg)

init_default_scope('mmseg')  # models built outside a runner
BRANCHES = ('body', 'half', 'part')  # branch k of the head serves level k


def _snapshot(model):
    return {
        n: t.detach().clone()
        for n, t in list(model.named_parameters()) +
        list(model.named_buffers()) if t.dtype.is_floating_point
    }


def _changed(before, after, prefix):
    return [
        n for n in before
        if n.startswith(prefix + '.') and not torch.equal(before[n], after[n])
    ]


class _Recorder(Hook):
    """Records, per training iteration, what moved and the model modes."""

    priority = 'LOWEST'  # after StagedUnfreezeHook

    def __init__(self):
        self.iters = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        model = runner.model
        head = model.decode_head
        self._before = _snapshot(model)
        self._info = dict(
            iter=runner.iter,
            model_training=model.training,
            training={
                b: head.branches[k].training
                for k, b in enumerate(BRANCHES)
            },
            bn_training={
                b: [
                    m.training for m in head.branches[k].modules()
                    if isinstance(m, nn.BatchNorm2d)
                ]
                for k, b in enumerate(BRANCHES)
            },
            requires_grad={
                b: {
                    p.requires_grad
                    for p in head.branches[k].parameters()
                }
                for k, b in enumerate(BRANCHES)
            },
            backbone_grad={p.requires_grad
                           for p in model.backbone.parameters()},
            weights=dict(head.loss_decode.level_weights))

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        after = _snapshot(runner.model)
        info = self._info
        info['moved'] = {
            b: bool(
                _changed(self._before, after, f'decode_head.branches.{k}'))
            for k, b in enumerate(BRANCHES)
        }
        info['bn_stats_moved'] = {
            b: bool([
                n for n in _changed(self._before, after,
                                    f'decode_head.branches.{k}')
                if 'running_' in n
            ])
            for k, b in enumerate(BRANCHES)
        }
        info['backbone_moved'] = bool(
            _changed(self._before, after, 'backbone'))
        self.iters.append(info)


@pytest.fixture(scope='module')
def box_data(tmp_path_factory):
    """32-pixel box people for runner tests (conftest's ``tiny_data`` holds
    photo-sized synthetic images with priors)."""
    return make_tiny_pascal_part(str(tmp_path_factory.mktemp('box_data')))


@pytest.mark.slow
def test_stages_freeze_train_and_weights_through_runner(box_data, tmp_path):
    """Each stage trains exactly its modules; frozen BN stats never move."""
    cfg = tiny_cfg(str(tmp_path / 'work'), box_data, max_iters=8,
                   val_interval=3, checkpoint_interval=100)
    runner = Runner.from_cfg(Config(cfg))
    rec = _Recorder()
    runner.register_hook(rec)
    runner.train()
    assert [r['iter'] for r in rec.iters] == list(range(8))
    single = {0: 'body', 1: 'half', 2: 'part'}
    for r in rec.iters:
        stage = r['iter'] // 2
        assert r['model_training']  # the loop called model.train()
        if stage in single:
            on = single[stage]
            assert r['weights'] == {b: float(b == on) for b in BRANCHES}
            for b in BRANCHES:
                assert r['requires_grad'][b] == {b == on}
                assert r['training'][b] is (b == on)
                assert set(r['bn_training'][b]) == {b == on}
                # SGD with momentum and weight decay: a frozen branch that
                # trained before (has a momentum buffer) still does not move
                assert r['moved'][b] is (b == on), (r['iter'], b)
                assert r['bn_stats_moved'][b] is (b == on), (r['iter'], b)
            # the backbone is named in the last stage only
            assert r['backbone_grad'] == {False}
            assert not r['backbone_moved']
        else:
            assert r['weights'] == dict(body=0.34, half=0.25, part=0.4)
            assert all(r['moved'].values())
            assert all(r['training'].values())
            assert r['backbone_grad'] == {True}
            assert r['backbone_moved']
    # validation ran in between (iter 3 and 6) and frozen modules were put
    # back in eval mode afterwards: covered by bn_training at iters 3, 6.
    hub = runner.message_hub
    assert hub.get_info('unfreeze_stage') == 3
    assert hub.get_scalar('train/unfreeze_stage').current() == 3


class _StubVisualizer:

    def __init__(self):
        self.scalars = []

    def add_scalars(self, scalars, step=0, **kwargs):
        self.scalars.append((step, dict(scalars)))


def _stub_runner(model=None, it=0, epoch=0, max_iters=100):
    model = model if model is not None else MODELS.build(
        copy.deepcopy(tiny_model_cfg()))
    return types.SimpleNamespace(
        model=model,
        train_loop=types.SimpleNamespace(max_iters=max_iters,
                                         max_epochs=max_iters),
        iter=it,
        epoch=epoch,
        message_hub=MessageHub.get_instance('staged_hook_test'),
        visualizer=_StubVisualizer())


@pytest.fixture
def model():
    return MODELS.build(copy.deepcopy(tiny_model_cfg()))


def _grads(module):
    return {p.requires_grad for p in module.parameters()}


def test_stage_is_derived_from_position_resume(model):
    """A runner resumed at iteration 5 starts in stage 2."""
    hook = StagedUnfreezeHook(stage_length=2, by='iter')
    runner = _stub_runner(model, it=5)
    hook.before_train(runner)
    assert hook.current_stage == 2
    head = model.decode_head
    assert head.loss_decode.level_weights == dict(body=0, half=0, part=1)
    assert _grads(head.branches[2]) == {True}
    assert _grads(head.branches[0]) == {False}
    assert runner.visualizer.scalars == [(5, {'unfreeze_stage': 2})]
    # past the last stage's begin: the last stage, to the end
    assert hook.stage_index(10**6) == 3


def test_schedule_comes_from_the_head_and_the_tree(model):
    """One stage per level (the head's own modules for that level, that
    level's loss alone), then all levels on the loss's configured weights."""
    model.decode_head.loss_decode.set_level_weights(
        dict(body=0.2, half=0.3, part=0.5))
    hook = StagedUnfreezeHook(by='epoch', stage_length=3,
                              extra_trainable=['backbone'])
    runner = _stub_runner(model, epoch=7)
    hook.before_train(runner)
    assert [s['trainable'] for s in hook.stages] == [
        ['decode_head.branches.0'], ['decode_head.branches.1'],
        ['decode_head.branches.2'],
        ['decode_head.branches.0', 'decode_head.branches.1',
         'decode_head.branches.2', 'backbone']]
    assert [s['loss_weights'] for s in hook.stages] == [
        dict(body=1, half=0, part=0), dict(body=0, half=1, part=0),
        dict(body=0, half=0, part=1), dict(body=0.2, half=0.3, part=0.5)]
    assert hook.current_stage == 2  # epoch 7 // 3


def test_two_level_tree_gives_three_stages():
    cfg = copy.deepcopy(tiny_model_cfg())
    cfg['hierarchy'] = dict(
        levels=('body', 'part'),
        leaves=('background', 'low_hand', 'torso', 'low_leg', 'head',
                'up_leg', 'up_hand'),
        background='background',
        tree=dict(body=('head', 'torso', 'up_hand', 'low_hand', 'up_leg',
                        'low_leg')))
    cfg['decode_head']['loss_decode']['level_weights'] = dict(
        body=0.4, part=0.6)
    model = MODELS.build(cfg)
    hook = StagedUnfreezeHook(stage_length=2, by='iter')
    runner = _stub_runner(model, it=4)
    hook.before_train(runner)
    assert [s['name'] for s in hook.stages] == [
        'body level', 'part level', 'all levels']
    assert hook.current_stage == 2
    assert model.decode_head.loss_decode.level_weights == dict(
        body=0.4, part=0.6)


@pytest.mark.parametrize('kwargs, match', [
    (dict(by='step'), "by must be 'epoch' or 'iter'"),
    (dict(stage_length=0), 'positive int'),
    (dict(stage_length=True), 'positive int'),
    (dict(stage_length=1.5), 'positive int'),
])
def test_bad_arguments_fail_at_construction(kwargs, match):
    with pytest.raises(ValueError, match=match):
        StagedUnfreezeHook(**kwargs)


def test_unknown_extra_module_path_is_named_with_the_real_ones(model):
    hook = StagedUnfreezeHook(by='iter', extra_trainable=['stem.fuse'])
    with pytest.raises(ValueError) as err:
        hook.before_train(_stub_runner(model))
    msg = str(err.value)
    assert "names module path 'stem.fuse'" in msg
    assert "'backbone'" in msg and "'decode_head'" in msg  # the real ones
    hook = StagedUnfreezeHook(by='iter', extra_trainable=['backbone.laye'])
    with pytest.raises(ValueError, match="under 'backbone'.*'layer1'"):
        hook.before_train(_stub_runner(model))


def test_model_without_hierarchical_head_is_refused():
    plain = types.SimpleNamespace(decode_head=nn.Conv2d(1, 1, 1))
    runner = _stub_runner(nn.Module())
    runner.model = plain
    with pytest.raises(ValueError, match='needs a HierarchicalDecodeHead'):
        StagedUnfreezeHook().before_train(runner)


@pytest.mark.slow  # real runners
def test_wrong_config_fails_at_runner_start_before_training(
        box_data, tmp_path):
    """Through the runner: the error comes before any iteration runs."""
    cfg = tiny_cfg(str(tmp_path / 'work'), box_data)
    cfg['custom_hooks'][0]['extra_trainable'] = ['decode_head.brnches']
    runner = Runner.from_cfg(Config(cfg))
    with pytest.raises(ValueError, match="'decode_head.brnches'"):
        runner.train()
    assert runner.iter == 0
    # epoch-based stages with an iteration-based loop are refused as well
    cfg = tiny_cfg(str(tmp_path / 'work2'), box_data)
    cfg['custom_hooks'][0]['by'] = 'epoch'
    runner = Runner.from_cfg(Config(cfg))
    with pytest.raises(ValueError, match="by='epoch'"):
        runner.train()
    # bad arguments already fail when the runner is built
    cfg = tiny_cfg(str(tmp_path / 'work3'), box_data)
    cfg['custom_hooks'][0]['stage_length'] = 0
    with pytest.raises(ValueError, match='positive int'):
        Runner.from_cfg(Config(cfg))


def test_frozen_modules_stay_in_eval_after_model_train(model):
    hook = StagedUnfreezeHook(stage_length=2, by='iter',
                              extra_trainable=['backbone'])
    runner = _stub_runner(model, it=0)
    hook.before_train(runner)
    model.train()
    hook.before_train_iter(runner, 0)
    head = model.decode_head
    assert head.branches[0].training
    assert not head.branches[1].training
    assert not any(m.training for m in head.branches[2].modules())
    # the backbone is named by the last stage only: frozen until then
    assert not model.backbone.training
    assert not any(m.training for m in model.backbone.modules())
    # modules no stage names are left alone
    assert head.training and model.training
    # after the switch to the last stage the loop's model.train() sticks
    runner.iter = 6
    model.train()
    hook.before_train_iter(runner, 6)
    assert hook.current_stage == 3
    assert all(m.training for m in model.modules())


@pytest.mark.slow
def test_epoch_based_stages_through_runner(box_data, tmp_path):
    """by='epoch' with an EpochBasedTrainLoop: the stage follows the epoch."""
    cfg = tiny_cfg(str(tmp_path / 'work'), box_data, checkpoint_interval=100)
    cfg['train_dataloader']['sampler'] = dict(
        type='DefaultSampler', shuffle=True)
    cfg['train_cfg'] = dict(
        type='EpochBasedTrainLoop', max_epochs=3, val_interval=10)
    cfg['default_hooks']['checkpoint'] = dict(
        type='CheckpointHook', by_epoch=True, interval=10)
    cfg['custom_hooks'] = [
        dict(type='StagedUnfreezeHook', by='epoch', stage_length=1)
    ]
    runner = Runner.from_cfg(Config(cfg))
    rec = _Recorder()
    runner.register_hook(rec)
    runner.train()
    iters_per_epoch = len(runner.train_dataloader)  # 6 images, batch 2
    assert len(rec.iters) == 3 * iters_per_epoch
    for r in rec.iters:
        epoch = r['iter'] // iters_per_epoch
        if epoch == 0:
            assert r['moved'] == dict(body=True, half=False, part=False)
        elif epoch == 1:
            assert r['moved'] == dict(body=False, half=True, part=False)
            assert r['weights'] == dict(body=0.0, half=1.0, part=0.0)
        else:
            assert r['moved'] == dict(body=False, half=False, part=True)
        # the backbone is named by no stage: it trains throughout
        assert r['backbone_moved'] and r['backbone_grad'] == {True}
