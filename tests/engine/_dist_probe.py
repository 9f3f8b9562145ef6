"""A hook that records, per rank, what a distributed test needs to check.

Imported through ``custom_imports`` by the processes ``torchrun`` starts, so
it also installs the test suite's network guard there.
"""
import json
import os
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmseg.registry import HOOKS
from tests import _netguard

_netguard.install()


def _branch_vectors(model, buffers=True):
    """Per branch: parameters (and BN statistics) as one vector."""
    head = model.decode_head
    out = {}
    for name, branch in zip(head.hierarchy.level_names, head.branches):
        parts = [p.detach().flatten() for p in branch.parameters()]
        if buffers:
            parts += [
                b.detach().float().flatten() for b in branch.buffers()
                if b.dtype.is_floating_point
            ]
        out[name] = torch.cat(parts)
    return out


@HOOKS.register_module()
class DistProbeHook(Hook):
    """Writes ``<out_dir>/rank<r>.json``: val metrics, what moved per
    iteration, branch checksums and whether the model was DDP-wrapped.

    Args:
        out_dir (str): Output folder.
    """

    priority = 'LOWEST'

    def __init__(self, out_dir: str):
        self.out_dir = out_dir
        self.record = dict(metrics=[], iters=[])

    def _model(self, runner):
        return runner.model.module if is_model_wrapper(
            runner.model) else runner.model

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        model = self._model(runner)
        self._before = _branch_vectors(model)
        self._before_params = _branch_vectors(model, buffers=False)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        model = self._model(runner)
        after = _branch_vectors(model)
        after_params = _branch_vectors(model, buffers=False)
        self.record['iters'].append(
            dict(
                iter=runner.iter,
                moved={
                    k: not torch.equal(self._before[k], after[k])
                    for k in after
                },
                params_moved={
                    k: not torch.equal(self._before_params[k],
                                       after_params[k])
                    for k in after
                }))

    def after_val_epoch(self, runner, metrics=None):
        self.record['metrics'].append(
            dict(iter=runner.iter, metrics=dict(metrics or {})))

    def after_train(self, runner):
        model = self._model(runner)
        self.record['wrapped'] = type(runner.model).__name__
        self.record['world_size'] = runner.world_size
        self.record['checksums'] = {
            k: [float(v.sum()), float(v.abs().sum())]
            for k, v in _branch_vectors(model, buffers=False).items()
        }
        self.record['backbone'] = float(
            sum(p.detach().abs().sum() for p in model.backbone.parameters()))
        os.makedirs(self.out_dir, exist_ok=True)
        with open(osp.join(self.out_dir, f'rank{get_rank()}.json'), 'w') as f:
            json.dump(self.record, f)
