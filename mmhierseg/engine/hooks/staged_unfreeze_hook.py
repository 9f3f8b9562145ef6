"""Staged unfreezing of model parts and loss levels.

:class:`StagedUnfreezeHook` trains the model in stages.

A stage is a span of epochs (or iterations) that names which modules train
and which per-level loss weights are in force::

    custom_hooks = [
        dict(type='StagedUnfreezeHook', by='epoch', stages=[
            dict(begin=0, end=5, trainable=['decode_head.branches.body'],
                 loss_weights=dict(body=1.0, half=0.0, part=0.0)),
            dict(begin=5, end=10, trainable=['decode_head.branches.half'],
                 loss_weights=dict(body=0.0, half=1.0, part=0.0)),
            dict(begin=10, end=15, trainable=['decode_head.branches.part'],
                 loss_weights=dict(body=0.0, half=0.0, part=1.0)),
            dict(begin=15, end=None, trainable=['decode_head.branches'],
                 loss_weights=dict(body=0.34, half=0.25, part=0.4)),
        ])
    ]

Rules:

- Module paths are prefixes of ``named_modules()`` / ``named_parameters()``
  names of the (unwrapped) model, matched at dot boundaries
  (``'decode_head.branches.body'`` matches ``...body.conv_seg.weight`` but not
  ``...body2``). The *managed* modules are those named by any stage; in a
  stage that does not name them they are frozen: ``requires_grad=False`` and
  eval mode, re-applied at every training iteration so ``model.train()``
  (called by the loops) cannot switch BatchNorm statistics back on. Modules
  no stage names are left as the model configured them (e.g. a backbone
  frozen by its own ``frozen=True``).
- Stages are contiguous: the first begins at 0, each begins where the
  previous ends; ``end=None`` (last stage only) means "until the end".
  After the last stage's end the last stage stays in force.
- ``loss_weights`` are applied with
  ``model.decode_head.loss_decode.set_level_weights``; levels a stage does
  not name keep the weight the loss was configured with, so the weights in
  force depend only on the stage (a resumed run gets the same ones).
- The stage is derived from ``runner.epoch`` / ``runner.iter`` at every
  training iteration, so ``--resume`` continues in the right stage.
- Frozen parameters stay in the optimizer; their gradient is ``None`` so
  torch optimizers skip them (no weight decay, no momentum update).
"""
import copy
import logging
import numbers
from typing import Dict, List, Optional, Sequence, Union

import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import BaseTTAModel, is_model_wrapper
from mmengine.runner import BaseLoop, IterBasedTrainLoop

from mmseg.registry import HOOKS

__all__ = ['StagedUnfreezeHook']

_STAGE_KEYS = {'begin', 'end', 'trainable', 'loss_weights', 'name'}

def _matches(name: str, prefix: str) -> bool:
    """Whether a module/parameter name lies under ``prefix`` (dot-aware)."""
    return name == prefix or name.startswith(prefix + '.')


@HOOKS.register_module()
class StagedUnfreezeHook(Hook):
    """Train model parts and loss levels in stages, by epoch or iteration.

    Args:
        stages (list[dict], optional): The stages, in order. Each has
            ``begin`` (int), ``end`` (int, or None for the last stage),
            ``trainable`` (list of module-path prefixes), optionally
            ``loss_weights`` (dict level name -> weight) and ``name``.
            Defaults to the original schedule built from the model's levels:
            each level's branch alone on its own loss (``stage_length``
            each), then every branch plus ``extra_trainable`` on the
            weighted sum ``final_weights``.
        by (str): ``'epoch'`` or ``'iter'``: what ``begin``/``end`` count.
        stage_length (int): Length of each single-level stage of the
            default schedule. Defaults to 1.
        final_weights (Sequence[float] | dict, optional): Loss weights of the
            default schedule's last stage, coarse to fine (or by level
            name). ``None`` (default): the weights the model's
            ``HierarchicalLoss`` was configured with (its own default is
            0.34 / 0.25 / 0.4 for a three-level tree).
        extra_trainable (Sequence[str]): Extra module paths trained in the
            default schedule's last stage (e.g. ``['stem']``).
        branches_prefix (str): Path of the per-level branches in the default
            schedule. Defaults to ``'decode_head.branches'``.
        log_scalar_name (str): Name of the stage scalar in the logs and the
            visualizer backends (MLflow). Defaults to ``'unfreeze_stage'``.

    Raises:
        ValueError: At construction for malformed, unordered, overlapping or
            non-contiguous stages; in ``before_run`` for module paths the
            model does not have and loss weights for levels the tree does
            not have.
    """

    priority = 'NORMAL'

    def __init__(self,
                 stages: Optional[Sequence[dict]] = None,
                 by: str = 'epoch',
                 stage_length: int = 1,
                 final_weights: Union[Sequence[float], Dict[str, float],
                                      None] = None,
                 extra_trainable: Sequence[str] = (),
                 branches_prefix: str = 'decode_head.branches',
                 log_scalar_name: str = 'unfreeze_stage') -> None:
        if by not in ('epoch', 'iter'):
            raise ValueError(f"StagedUnfreezeHook: by must be 'epoch' or "
                             f"'iter', got {by!r}")
        if not isinstance(stage_length, int) or stage_length < 1:
            raise ValueError('StagedUnfreezeHook: stage_length must be a '
                             f'positive int, got {stage_length!r}')
        self.by = by
        self.stage_length = stage_length
        self.final_weights = final_weights
        self.extra_trainable = list(extra_trainable)
        self.branches_prefix = branches_prefix
        self.log_scalar_name = log_scalar_name
        self._user_stages = stages is not None
        self.stages: List[dict] = (
            self._check_stages(stages) if stages is not None else [])
        self._current: Optional[int] = None
        self._base_weights: Dict[str, float] = {}
        self._frozen_modules: List[List[nn.Module]] = []
        self._stage_params: List[List[bool]] = []
        self._params: List[nn.Parameter] = []
        self._managed_mask: List[bool] = []

    # ------------------------------------------------------------ validation
    @staticmethod
    def _check_stages(stages: Sequence[dict]) -> List[dict]:
        """Validate the structure and the order of the stages.

        Args:
            stages (Sequence[dict]): Stages from the config.

        Returns:
            list[dict]: Normalised copies of the stages.
        """
        if isinstance(stages, dict) or not isinstance(stages, Sequence) \
                or len(stages) == 0:
            raise ValueError('StagedUnfreezeHook: stages must be a non-empty '
                             f'list of dicts, got {stages!r}')
        out = []
        for i, stage in enumerate(stages):
            if not isinstance(stage, dict):
                raise ValueError(f'StagedUnfreezeHook: stage {i} must be a '
                                 f'dict, got {stage!r}')
            unknown = set(stage) - _STAGE_KEYS
            if unknown:
                raise ValueError(
                    f'StagedUnfreezeHook: stage {i} has unknown keys '
                    f'{sorted(unknown)}; allowed: {sorted(_STAGE_KEYS)}')
            for key in ('begin', 'trainable'):
                if key not in stage:
                    raise ValueError(f'StagedUnfreezeHook: stage {i} lacks '
                                     f'{key!r}')
            begin, end = stage['begin'], stage.get('end')
            if isinstance(begin, bool) or not isinstance(begin, int) \
                    or begin < 0:
                raise ValueError(f'StagedUnfreezeHook: stage {i} begin must '
                                 f'be an int >= 0, got {begin!r}')
            if end is None:
                if i != len(stages) - 1:
                    raise ValueError(
                        f'StagedUnfreezeHook: only the last stage may have '
                        f'end=None (open end); stage {i} of {len(stages)} '
                        'has none')
            elif isinstance(end, bool) or not isinstance(end, int) \
                    or end <= begin:
                raise ValueError(
                    f'StagedUnfreezeHook: stage {i} must end after it begins'
                    f' (begin={begin}, end={end!r}); end is exclusive')
            trainable = stage['trainable']
            if isinstance(trainable, str):
                trainable = [trainable]
            if not isinstance(trainable, Sequence) or not all(
                    isinstance(p, str) and p for p in trainable):
                raise ValueError(
                    f'StagedUnfreezeHook: stage {i} trainable must be a list '
                    f'of module paths, got {stage["trainable"]!r}')
            weights = stage.get('loss_weights')
            if weights is not None:
                if not isinstance(weights, dict):
                    raise ValueError(
                        f'StagedUnfreezeHook: stage {i} loss_weights must be '
                        f'a dict level name -> weight, got {weights!r}')
                for lvl, w in weights.items():
                    if isinstance(w, bool) or not isinstance(
                            w, numbers.Real) or w < 0:
                        raise ValueError(
                            f'StagedUnfreezeHook: stage {i} loss weight of '
                            f'{lvl!r} must be a number >= 0, got {w!r}')
                weights = {str(k): float(v) for k, v in weights.items()}
            out.append(
                dict(
                    begin=begin,
                    end=end,
                    trainable=list(trainable),
                    loss_weights=weights,
                    name=stage.get('name', f'stage{i}')))
        if out[0]['begin'] != 0:
            raise ValueError(
                f'StagedUnfreezeHook: the first stage must begin at 0, it '
                f'begins at {out[0]["begin"]}; what trains before it would be'
                ' undefined')
        begins = [s['begin'] for s in out]
        if begins != sorted(begins):
            raise ValueError(
                f'StagedUnfreezeHook: stages are not ordered (begins '
                f'{begins}); list them in time order')
        for i in range(1, len(out)):
            prev, cur = out[i - 1], out[i]
            if cur['begin'] < prev['end']:
                raise ValueError(
                    f'StagedUnfreezeHook: stages {i - 1} [{prev["begin"]}, '
                    f'{prev["end"]}) and {i} [{cur["begin"]}, {cur["end"]}) '
                    'overlap; each stage must begin where the previous one '
                    'ends (end is exclusive)')
            if cur['begin'] > prev['end']:
                raise ValueError(
                    f'StagedUnfreezeHook: gap between stage {i - 1} (ends at '
                    f'{prev["end"]}) and stage {i} (begins at '
                    f'{cur["begin"]}); stages must be contiguous')
        return out

    @staticmethod
    def _unwrap(model: nn.Module) -> nn.Module:
        """The segmentor inside DDP (or another wrapper) and TTA models."""
        if is_model_wrapper(model):
            model = model.module
        if isinstance(model, BaseTTAModel):
            model = model.module
        return model

    @staticmethod
    def _find_loss(model: nn.Module):
        """The hierarchical loss (``decode_head.loss_decode``) or None."""
        head = getattr(model, 'decode_head', None)
        loss = getattr(head, 'loss_decode', None)
        if loss is not None and hasattr(loss, 'set_level_weights'):
            return loss
        return None

    @classmethod
    def _level_names(cls, model: nn.Module) -> Optional[List[str]]:
        """Level names of the model's tree (hierarchy or loss weights)."""
        candidates = [
            model,
            getattr(model, 'decode_head', None),
            cls._find_loss(model)
        ]
        for obj in candidates:
            hier = getattr(obj, 'hierarchy', None)
            names = getattr(hier, 'level_names', None)
            if names:
                return list(names)
        loss = cls._find_loss(model)
        weights = getattr(loss, 'level_weights', None)
        if isinstance(weights, dict) and weights:
            return list(weights)
        return None

    def _default_stages(self, level_names: List[str],
                        loss=None) -> List[dict]:
        """The original schedule for a tree with ``level_names``."""
        n = len(level_names)
        if self.final_weights is None:
            configured = getattr(loss, 'level_weights', None)
            if not configured:
                raise ValueError(
                    'StagedUnfreezeHook: final_weights=None takes the final '
                    "stage's weights from the model's HierarchicalLoss, but "
                    'the model has none; pass final_weights=...')
            final = {lvl: float(configured[lvl]) for lvl in level_names}
        elif isinstance(self.final_weights, dict):
            final = dict(self.final_weights)
        else:
            if len(self.final_weights) != n:
                raise ValueError(
                    f'StagedUnfreezeHook: final_weights '
                    f'{tuple(self.final_weights)} has '
                    f'{len(self.final_weights)} values but the tree has {n} '
                    f'levels {level_names}; give one weight per level (or a '
                    'dict by level name)')
            final = dict(zip(level_names, self.final_weights))
        length = self.stage_length
        stages = []
        for k, name in enumerate(level_names):
            stages.append(
                dict(
                    begin=k * length,
                    end=(k + 1) * length,
                    trainable=[f'{self.branches_prefix}.{name}'],
                    loss_weights={
                        other: float(other == name)
                        for other in level_names
                    },
                    name=f'{name} branch'))
        stages.append(
            dict(
                begin=n * length,
                end=None,
                trainable=[self.branches_prefix] + self.extra_trainable,
                loss_weights=final,
                name='all branches'))
        return self._check_stages(stages)

    @staticmethod
    def _path_hint(prefix: str, module_names: List[str]) -> str:
        """Name the children of the longest existing parent of ``prefix``."""
        parts = prefix.split('.')
        for depth in range(len(parts) - 1, -1, -1):
            parent = '.'.join(parts[:depth])
            children = sorted({
                n[len(parent) + 1 if parent else 0:].split('.')[0]
                for n in module_names
                if n and (not parent or n.startswith(parent + '.'))
            })
            if children:
                where = f'under {parent!r}' if parent else 'at the top level'
                return f'modules {where}: {children}'
        return 'the model has no submodules'

    def _validate_against_model(self, model: nn.Module) -> None:
        """Check module paths and loss levels against the model."""
        module_names = [n for n, _ in model.named_modules()]
        param_names = [n for n, _ in model.named_parameters()]
        names = module_names + param_names
        for i, stage in enumerate(self.stages):
            for prefix in stage['trainable']:
                if not any(_matches(n, prefix) for n in names):
                    raise ValueError(
                        f'StagedUnfreezeHook: stage {i} ({stage["name"]}) '
                        f'names module path {prefix!r}, but the model has no '
                        f'module or parameter with that prefix; '
                        f'{self._path_hint(prefix, module_names)}')
        uses_weights = any(s['loss_weights'] for s in self.stages)
        if not uses_weights:
            return
        loss = self._find_loss(model)
        if loss is None:
            raise ValueError(
                'StagedUnfreezeHook: stages set loss_weights, but the model '
                'has no `decode_head.loss_decode` with `set_level_weights` '
                '(a HierarchicalLoss)')
        levels = self._level_names(model)
        if levels is None:
            raise ValueError(
                'StagedUnfreezeHook: cannot tell the levels of the model '
                '(no hierarchy and no loss level_weights)')
        for i, stage in enumerate(self.stages):
            unknown = sorted(set(stage['loss_weights'] or {}) - set(levels))
            if unknown:
                raise ValueError(
                    f'StagedUnfreezeHook: stage {i} ({stage["name"]}) sets '
                    f'loss weights for levels {unknown}, but the tree has '
                    f'levels {levels}')
        current = getattr(loss, 'level_weights', None) or {}
        self._base_weights = {
            lvl: float(current.get(lvl, 1.0))
            for lvl in levels
        }

    # ----------------------------------------------------------------- hooks
    def before_run(self, runner) -> None:
        """Validate the stages against the model and precompute the masks.

        Args:
            runner (Runner): The runner.
        """
        model = self._unwrap(runner.model)
        if not self._user_stages:
            levels = self._level_names(model)
            if levels is None:
                raise ValueError(
                    'StagedUnfreezeHook: no stages given and the model has no'
                    ' hierarchy to build the default schedule from; declare '
                    '`stages=[...]` in the config')
            self.stages = self._default_stages(levels,
                                               self._find_loss(model))
        self._validate_against_model(model)

        train_loop = getattr(runner, '_train_loop', None)
        training = isinstance(train_loop, BaseLoop)
        if training and self.by == 'epoch' and isinstance(
                train_loop, IterBasedTrainLoop):
            raise ValueError(
                "StagedUnfreezeHook: by='epoch' with an iteration-based "
                "training loop (IterBasedTrainLoop); use by='iter'")
        if training:
            total = train_loop.max_epochs if self.by == 'epoch' else \
                train_loop.max_iters
            last_end = self.stages[-1]['end']
            if last_end is not None and last_end < total:
                print_log(
                    f'StagedUnfreezeHook: the last stage ends at {last_end} '
                    f'but training runs {total} {self.by}s; the last stage '
                    'stays in force until the end', 'current')
            for i, stage in enumerate(self.stages):
                if stage['begin'] >= total:
                    print_log(
                        f'StagedUnfreezeHook: stage {i} ({stage["name"]}) '
                        f'begins at {self.by} {stage["begin"]}, after the end'
                        f' of training ({total} {self.by}s): it never runs',
                        'current', level=logging.WARNING)

        # Precompute which parameters/modules each stage freezes.
        managed = sorted({p for s in self.stages for p in s['trainable']})
        named_params = list(model.named_parameters())
        self._params = [p for _, p in named_params]
        self._managed_mask = [
            any(_matches(n, m) for m in managed) for n, _ in named_params
        ]
        self._stage_params = []
        self._frozen_modules = []
        named_modules = list(model.named_modules())
        for stage in self.stages:
            self._stage_params.append([
                any(_matches(n, p) for p in stage['trainable'])
                for n, _ in named_params
            ])
            self._frozen_modules.append([
                mod for n, mod in named_modules
                if n and any(_matches(n, m) for m in managed)
                and not any(_matches(n, p) for p in stage['trainable'])
            ])

        if training and is_model_wrapper(runner.model) and isinstance(
                runner.model, nn.parallel.DistributedDataParallel):
            # DDP registers only the parameters that require grad when it
            # wraps the model; one frozen then cannot be unfrozen later.
            lost = [
                name for j, (name, param) in enumerate(named_params)
                if self._managed_mask[j] and not param.requires_grad and any(
                    flags[j] for flags in self._stage_params)
            ]
            if lost:
                raise ValueError(
                    'StagedUnfreezeHook: under DistributedDataParallel these '
                    'parameters are frozen by the model config but a stage '
                    f'trains them: {lost[:5]}{"..." if len(lost) > 5 else ""}'
                    '. DDP only synchronises parameters that required grad '
                    'when it wrapped the model: leave them trainable in the '
                    'model config and let the hook freeze them.')
        self._current = None

    def stage_index(self, position: int) -> int:
        """Index of the stage in force at an epoch/iteration.

        Args:
            position (int): 0-based epoch or iteration (as ``by``).

        Returns:
            int: Stage index (the last stage after its end).
        """
        for i, stage in enumerate(self.stages):
            if stage['end'] is None or position < stage['end']:
                return i
        return len(self.stages) - 1

    def _position(self, runner) -> int:
        return runner.epoch if self.by == 'epoch' else runner.iter

    def _apply(self, runner, index: int) -> None:
        """Switch parameters and loss weights to stage ``index``."""
        model = self._unwrap(runner.model)
        stage = self.stages[index]
        flags = self._stage_params[index]
        for param, managed, trainable in zip(self._params, self._managed_mask,
                                             flags):
            if not managed:
                continue
            if param.requires_grad and not trainable:
                param.grad = None  # nothing stale for the optimizer
            param.requires_grad_(trainable)
        if stage['loss_weights'] is not None:
            weights = dict(self._base_weights)
            weights.update(stage['loss_weights'])
            self._find_loss(model).set_level_weights(weights)
        previous = self._current
        self._current = index
        n_train = sum(
            p.numel() for p, m, t in zip(self._params, self._managed_mask,
                                         flags) if m and t)
        msg = (f'StagedUnfreezeHook: {self.by} {self._position(runner)}: '
               f'stage {index} ({stage["name"]}) '
               f'[{stage["begin"]}, {stage["end"]}) in force'
               f'{"" if previous is None else f" (was stage {previous})"}; '
               f'trainable {stage["trainable"]} ({n_train} parameters)')
        if stage['loss_weights'] is not None:
            msg += f', loss weights {weights}'
        print_log(msg, 'current')
        runner.message_hub.update_info(self.log_scalar_name, index)
        runner.visualizer.add_scalars({self.log_scalar_name: index},
                                      step=runner.iter)

    def _freeze_modules(self) -> None:
        """Put the current stage's frozen modules in eval mode."""
        for mod in self._frozen_modules[self._current]:
            # non-recursive: a trainable child keeps its own mode
            mod.training = False

    def before_train(self, runner) -> None:
        """Apply the stage of the (possibly resumed) start position.

        Args:
            runner (Runner): The runner.
        """
        self._apply(runner, self.stage_index(self._position(runner)))

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        """Switch stage when due; keep frozen modules in eval mode.

        Args:
            runner (Runner): The runner.
            batch_idx (int): Index of the batch in the epoch.
            data_batch (dict, optional): The batch.
        """
        index = self.stage_index(self._position(runner))
        if index != self._current:
            self._apply(runner, index)
        self._freeze_modules()
        runner.message_hub.update_scalar(f'train/{self.log_scalar_name}',
                                         index)

    @property
    def current_stage(self) -> Optional[int]:
        """int | None: Index of the stage in force (None before training)."""
        return self._current

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(by={self.by!r}, stages='
                f'{copy.deepcopy(self.stages)!r})')
