"""One output per level of a label tree: :class:`HierarchicalDecodeHead`."""
import copy
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.config import ConfigDict
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.utils import SampleList
from torch import Tensor

from mmhierseg.hierarchy import IGNORE_INDEX, ClassHierarchy
from mmhierseg.structures import stack_level_targets
from .level_scores import (consistent_leaf_scores, leaf_membership,
                           marginal_log_probs)

__all__ = ['HierarchicalDecodeHead']

LAYOUTS = ('separate', 'shared', 'marginal')
# the loss of an inner mmseg head is never used; keep it the quiet default
_INNER_LOSS = dict(type='CrossEntropyLoss', avg_non_ignore=True)


@MODELS.register_module()
class HierarchicalDecodeHead(BaseDecodeHead):
    """A decode head with one output per level of a label tree.

    ``decoder`` is any mmseg decode head config; ``num_classes`` always comes
    from the tree. Every mmseg head ends in ``cls_seg`` (dropout + the 1x1
    ``conv_seg``), which is where the layouts cut it:

    - ``'separate'``: one full ``decoder`` per level, ``self.branches[k]``.
    - ``'shared'``: ``decoder`` is built once as ``self.trunk`` with its
      ``conv_seg`` replaced by ``nn.Identity``, so the trunk returns the input
      of its classifier; ``self.branches[k]`` is one 1x1 classifier per level.
    - ``'marginal'``: ``self.trunk`` is one leaf-level ``decoder``; level
      ``k``'s output is the log of the summed leaf probabilities under each of
      its classes (logsumexp of the leaf log-softmax over the tree), so every
      level gets its loss and the levels agree by construction. It costs what
      a flat leaf head costs and has no ``branches``.

    ``cascade=True`` (``'separate'``/``'shared'``) adds, to level ``k``'s
    logits, a zero-initialised 1x1 conv (``self.cascade_convs[k - 1]``) of
    the softmax of level ``k - 1``: at step 0 the output is unchanged.

    The head's ``num_classes`` is the number of leaves; :meth:`forward`
    returns a list of per-level outputs, coarse to fine, and
    :meth:`predict_by_feat` leaf scores whose argmax is consistent with the
    tree, so mmseg's segmentors, slide inference and TTA see a leaf head.

    Args:
        decoder (dict): Config of an mmseg decode head, without
            ``num_classes``. Its ``in_channels``, ``in_index``,
            ``input_transform``, ``channels`` and ``align_corners`` also
            become this head's.
        hierarchy (dict | str | ClassHierarchy): The label tree. Required;
            ``HierEncoderDecoder`` passes its own.
        layout (str): ``'separate'``, ``'shared'`` or ``'marginal'``.
        cascade (bool): Condition each finer level on the coarser one.
        cascade_detach (bool): Stop the finer level's gradient from reaching
            the coarser level through the cascade.
        coarse_channels (int, optional): The ``channels`` of every
            ``'separate'`` decoder but the leaf level's, which keeps the
            decoder's. The coarse levels are the easy ones, and their
            decoders are what the hierarchy adds to a flat model's cost.
            ``'shared'`` and ``'marginal'`` have no per-level decoders and
            ignore it, so a config can switch layouts with one option.
            Defaults to None (every level the decoder's ``channels``).
        level_overrides (dict, optional): ``{level name: dict}`` merged into
            that level's decoder config (``'separate'`` only).
        loss_decode (dict): A ``HierarchicalLoss`` config (its ``hierarchy``
            is filled in from this head).
        ignore_index (int): Ignored label. Defaults to 255.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 decoder: dict,
                 hierarchy=None,
                 layout: str = 'separate',
                 cascade: bool = False,
                 cascade_detach: bool = True,
                 coarse_channels: Optional[int] = None,
                 level_overrides: Optional[dict] = None,
                 loss_decode: dict = dict(type='HierarchicalLoss'),
                 ignore_index: int = 255,
                 init_cfg: Optional[dict] = None,
                 **kwargs):
        if kwargs:
            raise TypeError(
                f'HierarchicalDecodeHead got unexpected arguments '
                f'{sorted(kwargs)}: class counts come from the hierarchy '
                '(remove num_classes/out_channels); decoder settings '
                '(channels, norm_cfg, ...) go inside `decoder=dict(...)`')
        if hierarchy is None:
            raise ValueError(
                'HierarchicalDecodeHead needs the label tree: build it inside '
                'HierEncoderDecoder (set `model.hierarchy` in the config) or '
                'set `decode_head.hierarchy`')
        if layout not in LAYOUTS:
            raise ValueError(f'layout must be one of {LAYOUTS}, got '
                             f'{layout!r}')
        if cascade and layout == 'marginal':
            raise ValueError("cascade needs one output per level; layout "
                             "'marginal' derives the levels from the leaf")
        if level_overrides and layout != 'separate':
            raise ValueError("level_overrides apply to layout='separate' "
                             f'only (layout is {layout!r})')
        hier = ClassHierarchy.build(hierarchy)
        decoder = copy.deepcopy(ConfigDict(decoder))
        if 'num_classes' in decoder or 'out_channels' in decoder:
            raise ValueError(
                'decoder must not set num_classes: they come from the '
                f'hierarchy ({dict(zip(hier.level_names, hier.num_classes))})')
        loss_decode = copy.deepcopy(ConfigDict(loss_decode))
        if loss_decode.get('hierarchy') is None:
            loss_decode['hierarchy'] = hier.to_dict()
        super().__init__(
            in_channels=decoder['in_channels'],
            channels=decoder['channels'],
            num_classes=hier.num_leaves,
            in_index=decoder.get('in_index', -1),
            input_transform=decoder.get('input_transform', None),
            loss_decode=loss_decode,
            ignore_index=ignore_index,
            align_corners=decoder.get('align_corners', False),
            dropout_ratio=0,
            init_cfg=init_cfg)
        del self.conv_seg  # the classifiers live in the branches / trunk
        if getattr(self.loss_decode, 'hierarchy', hier) != hier:
            raise ValueError('loss_decode uses another hierarchy than the '
                             f'head ({hier!r}); set it once, on the model')
        self.hierarchy = hier
        self.layout = layout
        self.cascade = cascade
        self.cascade_detach = cascade_detach
        self.register_buffer(
            'leaf_paths', torch.from_numpy(hier.leaf_paths), persistent=False)

        overrides = dict(level_overrides or {})
        unknown = sorted(set(overrides) - set(hier.level_names))
        if unknown:
            raise ValueError(f'level_overrides name levels the tree lacks: '
                             f'{unknown}; levels are {list(hier.level_names)}')

        def build(num_classes, **extra):
            cfg = copy.deepcopy(decoder)
            cfg.update(extra, num_classes=num_classes, loss_decode=_INNER_LOSS)
            return MODELS.build(cfg)

        if layout == 'separate':
            width = [dict(channels=coarse_channels)] * hier.leaf_level + [{}] \
                if coarse_channels else [{}] * hier.num_levels
            self.branches = nn.ModuleList(
                build(n, **dict(w, **overrides.get(name, {})))
                for name, n, w in zip(hier.level_names, hier.num_classes,
                                      width))
        else:
            self.trunk = build(hier.num_leaves)
        if layout == 'shared':
            self.trunk.conv_seg = nn.Identity()  # the trunk ends at features
            self.branches = nn.ModuleList(
                nn.Conv2d(self.trunk.channels, n, kernel_size=1)
                for n in hier.num_classes)
            for conv in self.branches:
                nn.init.normal_(conv.weight, std=0.01)
                nn.init.zeros_(conv.bias)
        if layout == 'marginal':
            self.register_buffer(
                'leaf_membership', leaf_membership(hier), persistent=False)
        if cascade:
            self.cascade_convs = nn.ModuleList(
                nn.Conv2d(hier.num_classes[k - 1], hier.num_classes[k], 1)
                for k in range(1, hier.num_levels))
            for conv in self.cascade_convs:
                nn.init.zeros_(conv.weight)
                nn.init.zeros_(conv.bias)

    def level_modules(self, level: int) -> List[str]:
        """Module paths (relative to this head) that serve only ``level``.

        ``'separate'``: ``['branches.<k>']``; ``'shared'``: the same, and
        ``'trunk'`` for level 0; ``'marginal'``: ``['trunk']`` at every
        level. With the cascade, level ``k > 0`` adds ``'cascade_convs.<k-1>'``.
        ``StagedUnfreezeHook`` builds its default schedule from these.

        Args:
            level (int): Level index, 0 = coarsest.

        Returns:
            list[str]: Module paths, prefix them with the head's own path.
        """
        if not 0 <= level < self.hierarchy.num_levels:
            raise IndexError(f'level {level} out of range: the tree has '
                             f'{self.hierarchy.num_levels} levels')
        if self.layout == 'marginal':
            return ['trunk']
        paths = [f'branches.{level}']
        if self.layout == 'shared' and level == 0:
            paths.insert(0, 'trunk')
        if self.cascade and level > 0:
            paths.append(f'cascade_convs.{level - 1}')
        return paths

    def forward(self, inputs: Sequence[Tensor]) -> List[Tensor]:
        """Per-level outputs.

        Args:
            inputs (Sequence[Tensor]): Multi-level features from the backbone.

        Returns:
            list[Tensor]: Per level, coarse to fine, ``(N, C_k, h, w)``:
            logits, or log-probabilities for ``'marginal'``.
        """
        if self.layout == 'marginal':
            return marginal_log_probs(
                self.trunk(inputs), self.leaf_membership,
                self.hierarchy.num_classes)
        if self.layout == 'separate':
            outputs = [branch(inputs) for branch in self.branches]
        else:
            feat = self.trunk(inputs)
            outputs = [branch(feat) for branch in self.branches]
        if self.cascade:
            for k in range(1, len(outputs)):
                coarse = outputs[k - 1]
                probs = (coarse.detach() if self.cascade_detach else
                         coarse).softmax(dim=1)
                if probs.shape[2:] != outputs[k].shape[2:]:
                    probs = resize(
                        probs,
                        size=outputs[k].shape[2:],
                        mode='bilinear',
                        align_corners=self.align_corners)
                outputs[k] = outputs[k] + self.cascade_convs[k - 1](probs)
        return outputs

    def loss_by_feat(self, seg_logits: Sequence[Tensor],
                     batch_data_samples: SampleList) -> dict:
        """Hierarchical loss on the leaf ground truth (and the coarse levels'
        own maps of samples labelled only down to a coarse level).

        Args:
            seg_logits (Sequence[Tensor]): Output of :meth:`forward`.
            batch_data_samples (list[SegDataSample]): With leaf labels in
                ``gt_sem_seg`` and, for coarse-labelled samples,
                ``gt_sem_seg_<level>`` (see :func:`stack_level_targets`).

        Returns:
            dict[str, Tensor]: ``HierarchicalLoss``'s ``loss_<level>`` keys
            and ``acc_seg`` (leaf level).
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
        # images labelled only down to a coarse level carry that level's
        # maps (gt_sem_seg_<level>); None: all derive from the leaf
        level_labels = stack_level_targets(
            batch_data_samples, self.hierarchy,
            seg_label.masked_fill(seg_label == self.ignore_index,
                                  IGNORE_INDEX))
        losses = dict(
            self.loss_decode(
                logits, seg_label, ignore_index=self.ignore_index,
                level_labels=level_labels))
        with torch.no_grad():  # mmseg's accuracy(), without a host sync
            valid = seg_label != self.ignore_index
            hits = (logits[-1].argmax(dim=1) == seg_label) & valid
            losses['acc_seg'] = hits.sum() * 100.0 / valid.sum().clamp(min=1)
        return losses

    def predict_levels(self, seg_logits: Sequence[Tensor],
                       batch_img_metas: List[dict]) -> List[Tensor]:
        """Resize every level's output to the input size (mmseg's rule).

        Args:
            seg_logits (Sequence[Tensor]): Output of :meth:`forward`.
            batch_img_metas (list[dict]): Image meta information.

        Returns:
            list[Tensor]: Per-level outputs at the (padded) input size.
        """
        meta = batch_img_metas[0]
        if isinstance(meta['img_shape'], torch.Size):  # slide inference
            size = tuple(meta['img_shape'])
        else:
            size = tuple(meta.get('pad_shape', meta['img_shape'])[:2])
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
            Tensor: ``(N, num_leaves, H, W)`` leaf log-scores: the leaf
            log-probabilities for ``'marginal'``, else the path sums of
            :func:`consistent_leaf_scores`. Their argmax is the
            tree-consistent leaf prediction.
        """
        if self.layout == 'marginal':
            return self.predict_levels(seg_logits[-1:], batch_img_metas)[0]
        levels = self.predict_levels(seg_logits, batch_img_metas)
        return consistent_leaf_scores(levels, self.leaf_paths)
