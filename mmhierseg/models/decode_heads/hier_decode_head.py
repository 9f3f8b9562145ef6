"""One decoder branch per tree level: :class:`HierarchicalDecodeHead`."""
import copy
import warnings
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.losses import accuracy
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.utils import SampleList
from torch import Tensor

from mmhierseg.hierarchy import ClassHierarchy

__all__ = [
    'HierarchicalDecodeHead', 'LevelModuleDict', 'consistent_leaf_scores'
]


def consistent_leaf_scores(level_logits: Sequence[Tensor],
                           leaf_paths: Tensor) -> Tensor:
    """Score every leaf by the sum of log-softmax along its root-to-leaf path.

    ``score[leaf] = sum_k log_softmax(logits_k)[path[leaf, k]]``: one
    ``index_select`` per level, no per-class loop. The argmax leaf and the
    coarse classes derived from it can never contradict each other.

    Args:
        level_logits (Sequence[Tensor]): Logits per level, coarse to fine,
            ``(N, C_k, H, W)``, all at the same resolution.
        leaf_paths (Tensor): ``(num_leaves, num_levels)`` int64, the class of
            every leaf's ancestor at every level
            (``ClassHierarchy.leaf_paths``).

    Returns:
        Tensor: ``(N, num_leaves, H, W)`` leaf log-scores (log of the product
        of the per-level probabilities along the path).
    """
    if len(level_logits) != leaf_paths.shape[1]:
        raise ValueError(f'expected {leaf_paths.shape[1]} levels of logits, '
                         f'got {len(level_logits)}')
    paths = leaf_paths.to(level_logits[0].device)
    score = None
    for lvl, logits in enumerate(level_logits):
        term = F.log_softmax(logits, dim=1).index_select(1, paths[:, lvl])
        score = term if score is None else score + term
    return score


class LevelModuleDict(nn.ModuleDict):
    """``nn.ModuleDict`` keyed by level names, also names such as ``half``.

    ``nn.ModuleDict`` refuses keys that are attributes of ``nn.Module``; the
    Pascal-part level ``half`` is one (``Module.half()``). Such a key is
    stored anyway and attribute access returns the module, so
    ``decode_head.branches.half`` and parameter names
    ``decode_head.branches.half.*`` work. Only the dtype/device converters
    below may be shadowed: PyTorch calls them on the root module only (they
    recurse through ``_apply``); any other clash raises ``ValueError``.
    """

    _SHADOWABLE = frozenset(
        ('half', 'float', 'double', 'bfloat16', 'cpu', 'cuda', 'type'))

    def add_module(self, name: str, module: Optional[nn.Module]) -> None:
        """Register ``module`` under the level name ``name``.

        Args:
            name (str): Level name.
            module (nn.Module): The module.
        """
        if isinstance(name, str) and name in self._SHADOWABLE \
                and name not in self._modules:
            if module is not None and not isinstance(module, nn.Module):
                raise TypeError(f'{torch.typename(module)} is not a Module')
            self._modules[name] = module
            return
        if isinstance(name, str) and hasattr(self, name) and \
                name not in self._modules:
            raise ValueError(
                f'level name {name!r} clashes with an nn.Module attribute; '
                'rename the level in the hierarchy')
        super().add_module(name, module)

    def __setitem__(self, key: str, module: nn.Module) -> None:
        self.add_module(key, module)

    def __getattribute__(self, name: str):
        if name in LevelModuleDict._SHADOWABLE:
            modules = object.__getattribute__(self, '__dict__').get('_modules')
            if modules is not None and name in modules:
                return modules[name]
        return super().__getattribute__(name)


def _to_config(cfg: dict) -> ConfigDict:
    return copy.deepcopy(ConfigDict(cfg))


@MODELS.register_module()
class HierarchicalDecodeHead(BaseDecodeHead):
    """A decode head with one output per level of a label tree.

    Every branch is an ordinary mmseg decode head (``ASPPHead``, ``FCNHead``,
    ...), built with ``num_classes`` taken from the tree. Two layouts:

    - ``'separate'``: a full copy of ``decoder`` per level
      (``self.branches[<level>]``).
    - ``'shared'``: ``decoder`` is built once as ``self.trunk`` (its
      classifier is dropped) and each level gets a light head on the trunk's
      features (``light_branch``, by default a 3x3 ``FCNHead`` conv + 1x1
      classifier).

    With ``cascade=True`` each finer branch also sees the softmax of the next
    coarser branch: the probabilities are resized to the branch's final
    feature resolution and fed through a zero-initialised 1x1 conv whose
    output is added to the branch's classifier output. This is exactly a
    classifier with ``num_classes[k-1]`` extra input channels, and at step 0
    the output equals the non-cascaded head.

    The head's own ``num_classes`` is the number of leaves, so mmseg's
    segmentors, ``predict_by_feat``, visualizers and TTA see a plain
    leaf-level head: :meth:`predict_by_feat` returns consistent leaf scores
    (see :func:`consistent_leaf_scores`).

    Args:
        decoder (dict): Config of an mmseg decode head (without
            ``num_classes``, which comes from the tree). Its ``in_channels``,
            ``in_index``, ``input_transform``, ``channels`` and
            ``align_corners`` also become this head's.
        hierarchy (dict | str | ClassHierarchy | None): The label tree.
        layout (str): ``'separate'`` or ``'shared'``.
        light_branch (dict, optional): For ``layout='shared'``: config of the
            per-level heads fed with the trunk's features (``in_channels``
            and ``in_index`` are set automatically). Defaults to an
            ``FCNHead`` with one 3x3 conv of ``trunk.channels // 2``
            channels.
        level_overrides (dict, optional): ``{level name: dict}`` merged into
            that level's branch config (e.g. a smaller ``channels`` for the
            body branch).
        cascade (bool): Condition each finer branch on the coarser branch's
            probabilities.
        cascade_detach (bool): Stop the finer level's gradient from flowing
            into the coarser branch through the cascade input.
        loss_decode (dict): Config of the loss, a ``HierarchicalLoss``
            (``hierarchy`` is filled in from this head).
        ignore_index (int): Ignored label. Defaults to 255.
        init_cfg (dict, optional): Initialization config; every branch keeps
            its own.
    """

    def __init__(self,
                 decoder: dict,
                 hierarchy: Union[dict, str, ClassHierarchy, None] = None,
                 layout: str = 'separate',
                 light_branch: Optional[dict] = None,
                 level_overrides: Optional[Dict[str, dict]] = None,
                 cascade: bool = False,
                 cascade_detach: bool = True,
                 loss_decode: dict = dict(type='HierarchicalLoss'),
                 ignore_index: int = 255,
                 init_cfg: Optional[dict] = None,
                 **kwargs):
        if 'num_classes' in kwargs or 'out_channels' in kwargs:
            raise ValueError(
                'HierarchicalDecodeHead takes its class counts from the '
                'hierarchy (the head reports the number of leaves); remove '
                'num_classes/out_channels from its config')
        if kwargs:
            raise TypeError(
                f'HierarchicalDecodeHead got unexpected arguments '
                f'{sorted(kwargs)}; put decoder settings (channels, '
                'norm_cfg, ...) inside `decoder=dict(...)`')
        if layout not in ('separate', 'shared'):
            raise ValueError(f"layout must be 'separate' or 'shared', got "
                             f'{layout!r}')
        hier = ClassHierarchy.build(hierarchy)
        decoder = _to_config(decoder)
        if 'num_classes' in decoder:
            raise ValueError(
                'decoder must not set num_classes: every branch takes its '
                'class count from the hierarchy '
                f'({dict(zip(hier.level_names, hier.num_classes))})')
        loss_decode = _to_config(loss_decode)
        if isinstance(loss_decode, dict) and \
                loss_decode.get('hierarchy') is None:
            loss_decode['hierarchy'] = hier.to_dict()

        super().__init__(
            in_channels=decoder['in_channels'],
            channels=decoder['channels'],
            num_classes=hier.num_leaves,
            out_channels=hier.num_leaves,
            in_index=decoder.get('in_index', -1),
            input_transform=decoder.get('input_transform', None),
            loss_decode=loss_decode,
            ignore_index=ignore_index,
            align_corners=decoder.get('align_corners', False),
            dropout_ratio=0,
            init_cfg=init_cfg)
        # the segmentation classifier lives in the branches
        del self.conv_seg
        loss_hier = getattr(self.loss_decode, 'hierarchy', None)
        if loss_hier is not None and loss_hier != hier:
            raise ValueError(f'loss_decode uses another hierarchy '
                             f'({loss_hier!r}) than the head ({hier!r})')

        self.hierarchy = hier
        self.layout = layout
        self.cascade = cascade
        self.cascade_detach = cascade_detach
        self.level_names = hier.level_names
        self.register_buffer(
            'leaf_paths', torch.from_numpy(hier.leaf_paths), persistent=False)

        level_overrides = dict(level_overrides or {})
        unknown = sorted(set(level_overrides) - set(hier.level_names))
        if unknown:
            raise ValueError(f'level_overrides name levels the tree lacks: '
                             f'{unknown}; levels are {list(hier.level_names)}')

        if layout == 'separate':
            template = decoder
        else:
            trunk_cfg = copy.deepcopy(decoder)
            # any class count: the trunk's classifier is removed below
            trunk_cfg.update(
                num_classes=hier.num_leaves,
                out_channels=hier.num_leaves,
                loss_decode=dict(type='CrossEntropyLoss', avg_non_ignore=True))
            self.trunk = MODELS.build(trunk_cfg)
            self._require_features(self.trunk, 'trunk')
            self.trunk.conv_seg = nn.Identity()
            self.trunk.dropout = None
            if light_branch is None:
                light_branch = dict(
                    type='FCNHead',
                    channels=max(self.trunk.channels // 2, 1),
                    num_convs=1,
                    kernel_size=3,
                    concat_input=False,
                    dropout_ratio=decoder.get('dropout_ratio', 0.1),
                    norm_cfg=decoder.get('norm_cfg', None),
                    act_cfg=decoder.get('act_cfg', dict(type='ReLU')),
                    align_corners=self.align_corners)
            template = _to_config(light_branch)
            template.update(
                in_channels=self.trunk.channels,
                in_index=0,
                input_transform=None)

        self.branches = LevelModuleDict()
        for lvl, name in enumerate(hier.level_names):
            cfg = copy.deepcopy(template)
            cfg.update(level_overrides.get(name, {}))
            if 'loss_decode' in cfg:
                warnings.warn(f'branch {name!r}: loss_decode inside a branch '
                              'config is ignored; HierarchicalDecodeHead '
                              'uses its own loss_decode')
            # the branch's own loss is never used: keep it the quiet default
            cfg.update(
                num_classes=hier.num_classes[lvl],
                out_channels=hier.num_classes[lvl],
                loss_decode=dict(type='CrossEntropyLoss', avg_non_ignore=True))
            branch = MODELS.build(cfg)
            if cascade or layout == 'shared':
                self._require_features(branch, f'branch {name!r}')
            self.branches[name] = branch

        if cascade:
            self.cascade_convs = LevelModuleDict()
            for lvl in range(1, hier.num_levels):
                conv = nn.Conv2d(
                    hier.num_classes[lvl - 1],
                    hier.num_classes[lvl],
                    kernel_size=1)
                nn.init.zeros_(conv.weight)
                nn.init.zeros_(conv.bias)
                self.cascade_convs[hier.level_names[lvl]] = conv

    @staticmethod
    def _require_features(head: nn.Module, what: str) -> None:
        """Check that ``head.forward == cls_seg(_forward_feature(x))``.

        mmseg heads that compute their output differently (e.g.
        ``DepthwiseSeparableASPPHead``, whose ``forward`` overrides the one
        of ``ASPPHead`` but inherits its ``_forward_feature``) cannot be
        split into features + classifier.
        """
        mro = type(head).__mro__

        def owner(attr):
            return next((i for i, c in enumerate(mro) if attr in vars(c)),
                        None)

        feat_owner, fwd_owner = owner('_forward_feature'), owner('forward')
        if feat_owner is None or fwd_owner < feat_owner:
            raise ValueError(
                f'{what} ({type(head).__name__}) has no `_forward_feature` '
                'that its `forward` is built on: the shared layout and '
                'cascade need the features before the classifier (mmseg '
                'heads such as ASPPHead, FCNHead, PSPHead, UPerHead provide '
                'them)')

    # ---------------------------------------------------------------- forward
    def forward(self, inputs: Sequence[Tensor]) -> List[Tensor]:
        """Per-level logits.

        Args:
            inputs (Sequence[Tensor]): Multi-level features from the backbone.

        Returns:
            list[Tensor]: Logits per level, coarse to fine,
            ``(N, num_classes[k], h, w)`` at each branch's resolution.
        """
        if self.layout == 'shared':
            branch_inputs = [self.trunk._forward_feature(inputs)]
        else:
            branch_inputs = inputs
        outputs = []
        for lvl, name in enumerate(self.level_names):
            branch = self.branches[name]
            if not self.cascade and self.layout == 'separate':
                outputs.append(branch(branch_inputs))
                continue
            feat = branch._forward_feature(branch_inputs)
            logits = branch.cls_seg(feat)
            if self.cascade and lvl > 0:
                coarse = outputs[-1].detach() if self.cascade_detach \
                    else outputs[-1]
                probs = coarse.softmax(dim=1)
                if probs.shape[2:] != feat.shape[2:]:
                    probs = resize(
                        probs,
                        size=feat.shape[2:],
                        mode='bilinear',
                        align_corners=self.align_corners)
                logits = logits + self.cascade_convs[name](probs)
            outputs.append(logits)
        return outputs

    # ------------------------------------------------------------------- loss
    def loss_by_feat(self, seg_logits: Sequence[Tensor],
                     batch_data_samples: SampleList) -> dict:
        """Hierarchical loss on the leaf ground truth.

        Args:
            seg_logits (Sequence[Tensor]): Output of :meth:`forward`.
            batch_data_samples (list[SegDataSample]): With ``gt_sem_seg``
                holding leaf labels.

        Returns:
            dict[str, Tensor]: ``loss_<level>`` per level (see
            ``HierarchicalLoss``) and ``acc_seg`` (leaf-branch accuracy).
        """
        seg_label = self._stack_batch_gt(batch_data_samples)
        logits = [
            resize(
                x,
                size=seg_label.shape[2:],
                mode='bilinear',
                align_corners=self.align_corners) for x in seg_logits
        ]
        seg_label = seg_label.squeeze(1)
        losses = dict(
            self.loss_decode(
                logits, seg_label, ignore_index=self.ignore_index))
        with torch.no_grad():
            losses['acc_seg'] = accuracy(
                logits[-1], seg_label, ignore_index=self.ignore_index)
        return losses

    # -------------------------------------------------------------- inference
    @staticmethod
    def _output_size(batch_img_metas: List[dict]) -> Tuple[int, int]:
        meta = batch_img_metas[0]
        if isinstance(meta['img_shape'], torch.Size):  # slide inference
            return tuple(meta['img_shape'])
        if 'pad_shape' in meta:
            return tuple(meta['pad_shape'][:2])
        return tuple(meta['img_shape'][:2])

    def predict_levels(self, seg_logits: Sequence[Tensor],
                       batch_img_metas: List[dict]) -> List[Tensor]:
        """Resize every level's logits to the input size (mmseg's rule).

        Args:
            seg_logits (Sequence[Tensor]): Output of :meth:`forward`.
            batch_img_metas (list[dict]): Image meta information.

        Returns:
            list[Tensor]: Logits per level at the (padded) input size.
        """
        size = self._output_size(batch_img_metas)
        return [
            resize(
                x,
                size=size,
                mode='bilinear',
                align_corners=self.align_corners) for x in seg_logits
        ]

    def predict_by_feat(self, seg_logits: Sequence[Tensor],
                        batch_img_metas: List[dict]) -> Tensor:
        """Consistent leaf scores at the input size.

        Args:
            seg_logits (Sequence[Tensor]): Output of :meth:`forward`.
            batch_img_metas (list[dict]): Image meta information.

        Returns:
            Tensor: ``(N, num_leaves, H, W)`` leaf log-scores (sum of
            per-level log-softmax along each root-to-leaf path); their argmax
            is the hierarchy-consistent leaf prediction.
        """
        levels = self.predict_levels(seg_logits, batch_img_metas)
        return consistent_leaf_scores(levels, self.leaf_paths)
