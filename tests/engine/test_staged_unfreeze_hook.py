"""StagedUnfreezeHook: stages, freezing, BN eval, validation errors."""
import copy
import types

import pytest
import torch
import torch.nn as nn

import mmhierseg  # noqa: F401  (before mmseg: mmcv-lite placeholder)
from mmengine.config import Config  # noqa: E402
from mmengine.hooks import Hook  # noqa: E402
from mmengine.logging import MessageHub  # noqa: E402
from mmengine.runner import Runner  # noqa: E402
from mmseg.registry import MODELS  # noqa: E402

from mmhierseg.engine import StagedUnfreezeHook  # noqa: E402
from tests.engine._tiny import (make_tiny_pascal_part, tiny_cfg,  # noqa: E402
                                tiny_model_cfg, tiny_stages)

BRANCHES = ('body', 'half', 'part')


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
                b: head.branches[b].training
                for b in BRANCHES
            },
            bn_training={
                b: [
                    m.training for m in head.branches[b].modules()
                    if isinstance(m, nn.BatchNorm2d)
                ]
                for b in BRANCHES
            },
            requires_grad={
                b: {
                    p.requires_grad
                    for p in head.branches[b].parameters()
                }
                for b in BRANCHES
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
                _changed(self._before, after, f'decode_head.branches.{b}'))
            for b in BRANCHES
        }
        info['bn_stats_moved'] = {
            b: bool([
                n for n in _changed(self._before, after,
                                    f'decode_head.branches.{b}')
                if 'running_' in n
            ])
            for b in BRANCHES
        }
        info['backbone_moved'] = bool(
            _changed(self._before, after, 'backbone'))
        self.iters.append(info)


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    return make_tiny_pascal_part(str(tmp_path_factory.mktemp('tiny_data')))


def test_stages_freeze_train_and_weights_through_runner(tiny_data, tmp_path):
    """Each stage trains exactly its modules; frozen BN stats never move."""
    cfg = tiny_cfg(str(tmp_path / 'work'), tiny_data, max_iters=8,
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


def _stub_runner(model=None, train_loop=None, it=0, epoch=0):
    model = model if model is not None else MODELS.build(
        copy.deepcopy(tiny_model_cfg()))
    return types.SimpleNamespace(
        model=model,
        _train_loop=train_loop,
        iter=it,
        epoch=epoch,
        message_hub=MessageHub.get_instance('staged_hook_test'),
        visualizer=_StubVisualizer())


@pytest.fixture
def model():
    return MODELS.build(copy.deepcopy(tiny_model_cfg()))


def test_stage_is_derived_from_position_resume(model):
    """A runner resumed at iteration 5 starts in stage 2."""
    hook = StagedUnfreezeHook(stages=tiny_stages(2), by='iter')
    runner = _stub_runner(model, it=5)
    hook.before_run(runner)
    hook.before_train(runner)
    assert hook.current_stage == 2
    head = model.decode_head
    assert head.loss_decode.level_weights == dict(body=0, half=0, part=1)
    assert all(p.requires_grad for p in head.branches['part'].parameters())
    assert not any(p.requires_grad for p in head.branches['body'].parameters())
    assert runner.visualizer.scalars == [(5, {'unfreeze_stage': 2})]
    # past the open end: last stage
    assert hook.stage_index(10**6) == 3


def test_default_schedule_from_the_tree(model):
    hook = StagedUnfreezeHook(by='epoch', stage_length=3)
    runner = _stub_runner(model, epoch=7)
    hook.before_run(runner)
    assert [(s['begin'], s['end']) for s in hook.stages] == [(0, 3), (3, 6),
                                                             (6, 9),
                                                             (9, None)]
    assert [s['trainable'] for s in hook.stages[:3]] == [
        [f'decode_head.branches.{b}'] for b in BRANCHES
    ]
    assert hook.stages[-1]['trainable'] == ['decode_head.branches']
    assert hook.stages[-1]['loss_weights'] == dict(
        body=0.34, half=0.25, part=0.4)
    hook.before_train(runner)
    assert hook.current_stage == 2
    assert model.decode_head.loss_decode.level_weights == dict(
        body=0, half=0, part=1)


def test_default_final_weights_are_the_losss_configured_ones(model):
    """The weighted-sum stage reuses the loss's weights (declared once)."""
    model.decode_head.loss_decode.set_level_weights(
        dict(body=0.2, half=0.3, part=0.5))
    hook = StagedUnfreezeHook(by='epoch')
    hook.before_run(_stub_runner(model))
    assert hook.stages[-1]['loss_weights'] == dict(
        body=0.2, half=0.3, part=0.5)


def test_unnamed_levels_keep_configured_weight(model):
    """Levels a stage leaves out get the loss's configured weight, so the
    weights depend only on the stage (not on the stages run before)."""
    model.decode_head.loss_decode.set_level_weights(
        dict(body=0.5, half=0.2, part=0.3))
    stages = [
        dict(begin=0, end=2, trainable=['decode_head.branches.body'],
             loss_weights=dict(half=0.0, part=0.0)),
        dict(begin=2, end=None, trainable=['decode_head.branches'],
             loss_weights=dict(body=0.0)),
    ]
    hook = StagedUnfreezeHook(stages=stages, by='iter')
    runner = _stub_runner(model, it=3)
    hook.before_run(runner)
    hook.before_train(runner)
    assert model.decode_head.loss_decode.level_weights == dict(
        body=0.0, half=0.2, part=0.3)


@pytest.mark.parametrize(
    'stages, match', [
        ([dict(begin=0, end=2, trainable=['decode_head.branches.body']),
          dict(begin=1, end=4, trainable=['decode_head.branches'])],
         'overlap'),
        ([dict(begin=0, end=2, trainable=['decode_head.branches.body']),
          dict(begin=4, end=8, trainable=['decode_head.branches'])],
         'gap'),
        ([dict(begin=0, end=2, trainable=['decode_head.branches.body']),
          dict(begin=6, end=8, trainable=['decode_head.branches.part']),
          dict(begin=2, end=6, trainable=['decode_head.branches'])],
         'not ordered'),
        ([dict(begin=0, end=4, trainable=['decode_head.branches.body']),
          dict(begin=2, end=6, trainable=['decode_head.branches.part']),
          dict(begin=1, end=2, trainable=['decode_head.branches'])],
         'not ordered'),
        ([dict(begin=1, end=2, trainable=['decode_head.branches.body'])],
         'must begin at 0'),
        ([dict(begin=0, end=None, trainable=['decode_head']),
          dict(begin=3, end=5, trainable=['decode_head'])],
         'only the last stage'),
        ([dict(begin=0, end=0, trainable=['decode_head'])],
         'must end after it begins'),
        ([dict(begin=0, trainable=['decode_head'], weights={})],
         'unknown keys'),
        ([dict(begin=0, trainable=['decode_head'],
               loss_weights=dict(body=-1))], '>= 0'),
    ])
def test_malformed_stages_fail_at_construction(stages, match):
    with pytest.raises(ValueError, match=match):
        StagedUnfreezeHook(stages=stages, by='iter')


def test_unknown_module_path_fails_at_before_run(model):
    stages = [dict(begin=0, trainable=['decode_head.branches.bodyy'])]
    hook = StagedUnfreezeHook(stages=stages, by='iter')
    with pytest.raises(ValueError) as err:
        hook.before_run(_stub_runner(model))
    msg = str(err.value)
    assert "'decode_head.branches.bodyy'" in msg
    assert 'no module or parameter' in msg
    assert "['body', 'half', 'part']" in msg  # names the real branches
    # a prefix matches at dot boundaries only
    hook = StagedUnfreezeHook(
        stages=[dict(begin=0, trainable=['decode_head.branches.bo'])])
    with pytest.raises(ValueError, match='no module or parameter'):
        hook.before_run(_stub_runner(model))


def test_loss_weight_for_unknown_level_fails_at_before_run(model):
    stages = [
        dict(begin=0, trainable=['decode_head.branches'],
             loss_weights=dict(body=1.0, arm=0.5))
    ]
    hook = StagedUnfreezeHook(stages=stages, by='iter')
    with pytest.raises(ValueError, match=r"levels \['arm'\].*"
                       r"\['body', 'half', 'part'\]"):
        hook.before_run(_stub_runner(model))
    bad_default = StagedUnfreezeHook(final_weights=(0.5, 0.5))
    with pytest.raises(ValueError, match='one weight per level'):
        bad_default.before_run(_stub_runner(model))


def test_wrong_config_fails_at_runner_start_before_training(
        tiny_data, tmp_path):
    """Through the runner: the error comes before any iteration runs."""
    cfg = tiny_cfg(str(tmp_path / 'work'), tiny_data)
    cfg['custom_hooks'][0]['stages'][1]['trainable'] = ['decode_head.brnches']
    runner = Runner.from_cfg(Config(cfg))
    with pytest.raises(ValueError, match="'decode_head.brnches'"):
        runner.train()
    assert runner.iter == 0
    # epoch-based stages with an iteration-based loop are refused as well
    cfg = tiny_cfg(str(tmp_path / 'work2'), tiny_data)
    cfg['custom_hooks'][0]['by'] = 'epoch'
    runner = Runner.from_cfg(Config(cfg))
    with pytest.raises(ValueError, match="by='epoch'"):
        runner.train()
    # overlapping stages already fail when the runner is built
    cfg = tiny_cfg(str(tmp_path / 'work3'), tiny_data)
    cfg['custom_hooks'][0]['stages'][1]['begin'] = 1
    with pytest.raises(ValueError, match='overlap'):
        Runner.from_cfg(Config(cfg))


def test_frozen_modules_stay_in_eval_after_model_train(model):
    hook = StagedUnfreezeHook(stages=tiny_stages(2), by='iter')
    runner = _stub_runner(model, it=0)
    hook.before_run(runner)
    hook.before_train(runner)
    model.train()
    hook.before_train_iter(runner, 0)
    head = model.decode_head
    assert head.branches['body'].training
    assert not head.branches['half'].training
    assert not any(m.training for m in head.branches['part'].modules())
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


def test_epoch_based_stages_through_runner(tiny_data, tmp_path):
    """by='epoch' with an EpochBasedTrainLoop: the stage follows the epoch."""
    cfg = tiny_cfg(str(tmp_path / 'work'), tiny_data, checkpoint_interval=100)
    cfg['train_dataloader']['sampler'] = dict(
        type='DefaultSampler', shuffle=True)
    cfg['train_cfg'] = dict(
        type='EpochBasedTrainLoop', max_epochs=3, val_interval=10)
    cfg['default_hooks']['checkpoint'] = dict(
        type='CheckpointHook', by_epoch=True, interval=10)
    cfg['custom_hooks'] = [
        dict(
            type='StagedUnfreezeHook',
            by='epoch',
            stages=[
                dict(begin=0, end=1,
                     trainable=['decode_head.branches.body'],
                     loss_weights=dict(body=1.0, half=0.0, part=0.0)),
                dict(begin=1, end=2,
                     trainable=['decode_head.branches.half'],
                     loss_weights=dict(body=0.0, half=1.0, part=0.0)),
                dict(begin=2, end=None,
                     trainable=['decode_head.branches'],
                     loss_weights=dict(body=0.34, half=0.25, part=0.4)),
            ])
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
            assert r['moved'] == dict(body=True, half=True, part=True)
        # the backbone is named by no stage: it trains throughout
        assert r['backbone_moved'] and r['backbone_grad'] == {True}
