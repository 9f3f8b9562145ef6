"""Level-by-level training built from the label tree: StagedUnfreezeHook."""
import logging
from typing import List, Optional, Sequence

import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import IterBasedTrainLoop
from mmseg.registry import HOOKS
from torch.nn.parallel import DistributedDataParallel

__all__ = ['StagedUnfreezeHook']


def _under(name: str, paths: Sequence[str]) -> bool:
    """Whether a module/parameter name lies under one of ``paths``."""
    return any(name == p or name.startswith(p + '.') for p in paths)


@HOOKS.register_module()
class StagedUnfreezeHook(Hook):
    """Train the decode head level by level, then all levels together.

    The schedule is derived from the model's label tree. With ``n`` levels,
    stage ``k < n`` trains only level ``k``'s modules
    (``decode_head.level_modules(k)``) on level ``k``'s loss alone; stage
    ``n`` trains every level's modules plus ``extra_trainable`` on the level
    weights the ``HierarchicalLoss`` was configured with. Each stage lasts
    ``stage_length`` epochs or iterations; the last one lasts to the end.

    Modules no stage names are left as the model configured them (e.g. a
    backbone frozen by its own ``frozen=True``). Frozen modules get
    ``requires_grad=False`` and eval mode, re-applied at every iteration so
    ``model.train()`` cannot switch BatchNorm statistics back on. The stage is
    derived from ``runner.iter``/``runner.epoch`` at every iteration, so
    ``--resume`` continues in the right stage. Frozen parameters stay in the
    optimizer with ``grad=None``, so torch optimizers skip them.

    Args:
        stage_length (int): Epochs/iterations of each single-level stage.
        by (str): ``'epoch'`` or ``'iter'``: what ``stage_length`` counts.
        extra_trainable (Sequence[str]): Module paths of the model trained
            in the last stage only (e.g. ``['stem.fuse']``).
        log_scalar_name (str): Name of the stage scalar in the logs and the
            visualizer backends. Defaults to ``'unfreeze_stage'``.
    """

    priority = 'NORMAL'

    def __init__(self,
                 stage_length: int = 1,
                 by: str = 'epoch',
                 extra_trainable: Sequence[str] = (),
                 log_scalar_name: str = 'unfreeze_stage') -> None:
        if by not in ('epoch', 'iter'):
            raise ValueError("StagedUnfreezeHook: by must be 'epoch' or "
                             f"'iter', got {by!r}")
        if isinstance(stage_length, bool) or not isinstance(
                stage_length, int) or stage_length < 1:
            raise ValueError('StagedUnfreezeHook: stage_length must be a '
                             f'positive int, got {stage_length!r}')
        self.stage_length, self.by = stage_length, by
        self.extra_trainable = [extra_trainable] if isinstance(
            extra_trainable, str) else list(extra_trainable)
        self.log_scalar_name = log_scalar_name
        self.stages: List[dict] = []
        self.current_stage: Optional[int] = None

    def _build_stages(self, model: nn.Module) -> None:
        """The schedule from the model's head, loss and tree."""
        head = getattr(model, 'decode_head', None)
        loss = getattr(head, 'loss_decode', None)
        if not hasattr(head, 'level_modules') or not hasattr(
                loss, 'set_level_weights'):
            raise ValueError(
                'StagedUnfreezeHook needs a HierarchicalDecodeHead with a '
                'HierarchicalLoss as model.decode_head; remove the hook from '
                'custom_hooks for other models')
        self._loss, names = loss, head.hierarchy.level_names
        levels = [[f'decode_head.{p}' for p in head.level_modules(k)]
                  for k in range(len(names))]
        modules = [n for n, _ in model.named_modules()]
        for path in set(self.extra_trainable) - set(modules):
            parent = path.rpartition('.')[0]
            parent = parent if parent in modules else ''
            children = sorted({  # what the user may have meant
                n[len(parent) + bool(parent):].split('.')[0]
                for n in modules if n != parent and n.startswith(
                    parent + '.' * bool(parent))})
            raise ValueError(
                f'StagedUnfreezeHook: extra_trainable names module path '
                f'{path!r}, but the model has no such module; modules under '
                f'{parent or "the model"!r}: {children}')
        self.stages = [
            dict(name=f'{name} level', trainable=levels[k],
                 loss_weights={n: float(n == name) for n in names})
            for k, name in enumerate(names)
        ] + [dict(name='all levels',
                  trainable=sorted({p for ps in levels for p in ps})
                  + self.extra_trainable,
                  loss_weights=dict(loss.level_weights))]

    def before_train(self, runner) -> None:
        """Build and check the schedule; apply the (resumed) start stage.

        Args:
            runner (Runner): The runner.
        """
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        self._build_stages(model)
        loop = runner.train_loop
        if self.by == 'epoch' and isinstance(loop, IterBasedTrainLoop):
            raise ValueError("StagedUnfreezeHook: by='epoch' with an "
                             "iteration-based training loop; use by='iter'")
        total = loop.max_epochs if self.by == 'epoch' else loop.max_iters
        if (len(self.stages) - 1) * self.stage_length >= total:
            print_log(
                'StagedUnfreezeHook: the last stage (all levels) begins after'
                f' the end of training ({total} {self.by}s): it never runs',
                'current', logging.WARNING)
        managed = sorted({p for s in self.stages for p in s['trainable']})
        self._params = [(n, p, [_under(n, s['trainable'])
                                for s in self.stages])
                        for n, p in model.named_parameters()
                        if _under(n, managed)]
        self._frozen = [[
            m for n, m in model.named_modules()
            if n and _under(n, managed) and not _under(n, s['trainable'])
        ] for s in self.stages]
        lost = [n for n, p, _ in self._params if not p.requires_grad]
        if lost and isinstance(runner.model, DistributedDataParallel):
            raise ValueError(  # DDP syncs what required grad when it wrapped
                'StagedUnfreezeHook: under DistributedDataParallel these '
                'parameters are frozen by the model config but a stage trains'
                f' them: {lost[:5]}; leave them trainable in the model config'
                ' and let the hook freeze them')
        self.current_stage = None
        self._apply(runner, self.stage_index(self._position(runner)))

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        """Switch stage when due; keep frozen modules in eval mode."""
        index = self.stage_index(self._position(runner))
        if index != self.current_stage:
            self._apply(runner, index)
        for module in self._frozen[index]:
            module.training = False  # non-recursive: children keep theirs
        runner.message_hub.update_scalar(f'train/{self.log_scalar_name}',
                                         index)

    def stage_index(self, position: int) -> int:
        """Index of the stage in force at a 0-based epoch/iteration."""
        return min(position // self.stage_length, len(self.stages) - 1)

    def _position(self, runner) -> int:
        return runner.epoch if self.by == 'epoch' else runner.iter

    def _apply(self, runner, index: int) -> None:
        """Switch parameters and loss weights to stage ``index``."""
        stage = self.stages[index]
        for _, param, flags in self._params:
            if param.requires_grad and not flags[index]:
                param.grad = None  # nothing stale for the optimizer
            param.requires_grad_(flags[index])
        self._loss.set_level_weights(stage['loss_weights'])
        n_train = sum(p.numel() for _, p, f in self._params if f[index])
        print_log(
            f'StagedUnfreezeHook: {self.by} {self._position(runner)}: stage '
            f'{index} ({stage["name"]}) in force; trainable '
            f'{stage["trainable"]} ({n_train} parameters), loss weights '
            f'{stage["loss_weights"]}', 'current')
        self.current_stage = index
        runner.message_hub.update_info(self.log_scalar_name, index)
        runner.visualizer.add_scalars({self.log_scalar_name: index},
                                      step=runner.iter)
