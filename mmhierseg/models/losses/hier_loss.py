"""Per-level cross-entropy over a label tree: :class:`HierarchicalLoss`."""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from mmhierseg.hierarchy import IGNORE_INDEX, ClassHierarchy

__all__ = ['HierarchicalLoss']


@MODELS.register_module()
class HierarchicalLoss(nn.Module):
    """Weighted per-level cross-entropy, computed from the leaf mask alone.

    Each level's target is obtained from the leaf label map with
    ``ClassHierarchy.to_level`` (one table gather), so there are no
    per-class loops and the ignore label (255) stays ignored at every level.
    Cross-entropy is averaged over the non-ignored pixels of each level
    (PyTorch's convention; with class weights, the weighted mean
    ``sum(w_y * l) / sum(w_y)``). An image crop without a single labelled
    pixel gives 0, not NaN.

    Mixed granularity: with ``level_labels`` (images labelled only down to
    a coarse level, see :mod:`mmhierseg.datasets.label_levels`) a level's
    targets are its own maps, so body-only images train the body level
    and are ignored at the finer ones. The tree-min term is computed on
    the pixels labelled at the leaf level only.

    Optionally the HSSN tree-min loss is added (Li et al., CVPR 2022). With
    ``s_u = sigmoid(logit_u)`` for every tree node ``u`` (every class of every
    level, background included as a chain of background nodes) and
    ``l_v = 1`` iff the pixel belongs to node ``v``::

        L = sum_v  - l_v       * log(min_{u in ancestors(v) + v}   s_u)
                   - (1 - l_v) * log(1 - max_{u in descendants(v) + v} s_u)

    summed over nodes, averaged over non-ignored pixels, computed in log
    space (``log(min s) = min log sigmoid(x)``,
    ``log(1 - max s) = min log sigmoid(-x)``) for stability.

    Args:
        hierarchy (dict | str | ClassHierarchy): The label tree, see
            :meth:`ClassHierarchy.build`; required (``HierEncoderDecoder``
            fills it in from the model).
        level_weights (dict | Sequence[float] | None): Weight of each level's
            cross-entropy. A dict maps level names to weights (levels not
            named keep ``1 / num_levels``); a sequence gives one weight per
            level, coarse to fine. ``None``: ``1 / num_levels`` each. The
            staged schedule of ``StagedUnfreezeHook`` ends on these weights.
        class_weight (dict | Sequence | None): Optional per-class weights:
            a dict ``{level name: [w_0, ..., w_{C-1}]}`` or a sequence with
            one entry (a list of weights or ``None``) per level.
        ignore_index (int): Label ignored at every level. Defaults to 255.
        tree_min_weight (float): Weight of the HSSN tree-min term. 0 (the
            default) switches it off.
        loss_weight (float): Global multiplier of every term (e.g. 0.4 for an
            auxiliary head).
        loss_name (str): Name reported by :attr:`loss_name`; the returned
            dict uses one key per level, ``loss_<level>``.

    Raises:
        ValueError: If no tree is given, a weight names a level the tree
            lacks, a weight list has the wrong length, or a weight is
            negative.
    """

    def __init__(self,
                 hierarchy: Union[dict, str, ClassHierarchy, None] = None,
                 level_weights: Union[Dict[str, float], Sequence[float],
                                      None] = None,
                 class_weight: Union[dict, Sequence, None] = None,
                 ignore_index: int = IGNORE_INDEX,
                 tree_min_weight: float = 0.0,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_hier'):
        super().__init__()
        if hierarchy is None:
            raise ValueError(
                'HierarchicalLoss: no label tree; set `hierarchy` on the '
                'model (HierEncoderDecoder hands it to the head and the loss)'
                ' or pass hierarchy=<tree dict | preset name> to the loss')
        self.hierarchy = ClassHierarchy.build(hierarchy)
        self.ignore_index = ignore_index
        self.loss_weight = float(loss_weight)
        self.tree_min_weight = float(tree_min_weight)
        if self.tree_min_weight < 0:
            raise ValueError(f'tree_min_weight must be >= 0, got '
                             f'{tree_min_weight}')
        self._loss_name = loss_name

        h = self.hierarchy
        self.level_weights: Dict[str, float] = dict.fromkeys(
            h.level_names, 1.0 / h.num_levels)
        if level_weights is not None:
            self.set_level_weights(level_weights)

        # per-class weights: non-persistent buffers (follow .to(device))
        for lvl, weights in enumerate(self._parse_class_weight(class_weight)):
            name = f'class_weight_{h.level_names[lvl]}'
            if weights is None:
                self.register_buffer(name, None, persistent=False)
            else:
                self.register_buffer(
                    name,
                    torch.tensor(weights, dtype=torch.float32),
                    persistent=False)

        # parent tables for the tree-min term (level k -> level k-1)
        for lvl in range(1, h.num_levels):
            self.register_buffer(
                f'_parents_{lvl}',
                torch.from_numpy(h.parents(lvl).copy()),
                persistent=False)

    # ---------------------------------------------------------------- config
    @property
    def loss_name(self) -> str:
        """str: Loss name (mmseg convention; the returned keys are
        ``loss_<level>``)."""
        return self._loss_name

    def set_level_weights(
            self, weights: Union[Dict[str, float], Sequence[float]]) -> None:
        """Update level weights (used by hooks that switch training stages).

        Args:
            weights (dict | Sequence[float]): ``{level name: weight}`` (levels
                not named keep their weight) or one weight per level, coarse
                to fine.

        Raises:
            ValueError: On an unknown level name, a wrong-length sequence or
                a negative weight.
        """
        names = self.hierarchy.level_names
        if isinstance(weights, dict):
            unknown = sorted(set(weights) - set(names))
            if unknown:
                raise ValueError(
                    f'level weights name levels the tree lacks: {unknown}; '
                    f'levels are {list(names)}')
            new = dict(weights)
        elif isinstance(weights, Sequence) and not isinstance(weights, str):
            if len(weights) != len(names):
                raise ValueError(
                    f'expected {len(names)} level weights (one per level '
                    f'{list(names)}), got {len(weights)}')
            new = dict(zip(names, weights))
        else:
            raise ValueError('level weights must be a dict or a sequence, '
                             f'got {type(weights).__name__}')
        for name, w in new.items():
            w = float(w)
            if not w >= 0:
                raise ValueError(f'level weight for {name!r} must be >= 0, '
                                 f'got {w}')
            self.level_weights[name] = w

    def _parse_class_weight(self, class_weight) -> List[Optional[list]]:
        h = self.hierarchy
        if class_weight is None:
            return [None] * h.num_levels
        if isinstance(class_weight, dict):
            unknown = sorted(set(class_weight) - set(h.level_names))
            if unknown:
                raise ValueError(
                    f'class_weight names levels the tree lacks: {unknown}; '
                    f'levels are {list(h.level_names)}')
            per_level = [class_weight.get(n) for n in h.level_names]
        else:
            if len(class_weight) != h.num_levels:
                raise ValueError(
                    f'class_weight needs one entry per level '
                    f'{list(h.level_names)}, got {len(class_weight)}')
            per_level = list(class_weight)
        out = []
        for lvl, w in enumerate(per_level):
            if w is None:
                out.append(None)
                continue
            w = [float(x) for x in w]
            if len(w) != h.num_classes[lvl]:
                raise ValueError(
                    f'class_weight for level {h.level_names[lvl]!r} needs '
                    f'{h.num_classes[lvl]} values ({h.classes(lvl)}), got '
                    f'{len(w)}')
            if any(not x >= 0 for x in w):
                raise ValueError('class weights must be >= 0')
            out.append(w)
        return out

    # --------------------------------------------------------------- targets
    def level_targets(self, seg_label: Tensor,
                      ignore_index: int) -> List[Tensor]:
        """Per-level targets from a leaf label map (``to_level``).

        Args:
            seg_label (Tensor): Leaf labels ``(N, H, W)``.
            ignore_index (int): The ignore label; it becomes 255 at every
                level.

        Returns:
            list[Tensor]: One int64 target map per level, coarse to fine.

        Raises:
            ValueError: On CPU, if the map holds values that are neither
                leaf ids nor the ignore label (elsewhere they are ignored).
        """
        label = seg_label.masked_fill(seg_label == ignore_index, IGNORE_INDEX)
        # checked on CPU; on an accelerator the check would stall every step
        # on a host sync, and the dataset has checked every mask already
        # (PascalPartDataset check_masks, LoadHierAnnotations)
        check = label.device.type == 'cpu'
        return [self.hierarchy.to_level(label, k, check=check)
                for k in range(self.hierarchy.num_levels)]

    # --------------------------------------------------------------- forward
    def forward(self,
                seg_logits: Sequence[Tensor],
                seg_label: Tensor,
                weight: Optional[Tensor] = None,
                ignore_index: Optional[int] = None,
                level_labels: Optional[Sequence[Tensor]] = None,
                **kwargs) -> Dict[str, Tensor]:
        """Compute the weighted per-level losses.

        Args:
            seg_logits (Sequence[Tensor]): Logits per level, coarse to fine,
                each ``(N, C_level, H, W)`` at the label's resolution.
            seg_label (Tensor): Leaf labels ``(N, H, W)``.
            weight (Tensor, optional): Per-pixel weights ``(N, H, W)``.
            ignore_index (int, optional): Overrides ``self.ignore_index``.
            level_labels (Sequence[Tensor], optional): One target map per
                level ``(N, H, W)``, coarse to fine, 255 = ignore (from
                :func:`~mmhierseg.structures.stack_level_targets`): images
                labelled only down to a coarse level have their own coarse
                maps and 255 at the finer levels. The coarse levels' targets
                are taken from here instead of derived from ``seg_label``;
                the leaf's is always ``seg_label``. Each level averages over
                its own labelled pixels; a level without one gives 0.

        Returns:
            dict[str, Tensor]: ``loss_<level>`` for every level (already
            multiplied by its level weight and ``loss_weight``; a level with
            weight 0 gives a zero that is still part of the graph), plus
            ``loss_tree_min`` when ``tree_min_weight > 0``.
        """
        h = self.hierarchy
        if len(seg_logits) != h.num_levels:
            raise ValueError(f'expected logits for {h.num_levels} levels '
                             f'{list(h.level_names)}, got {len(seg_logits)}')
        ignore = self.ignore_index if ignore_index is None else ignore_index
        targets = self.level_targets(seg_label, ignore)
        if level_labels is not None:
            if len(level_labels) != h.num_levels:
                raise ValueError(f'expected level_labels for {h.num_levels}'
                                 f' levels, got {len(level_labels)}')
            targets = [t.long() for t in level_labels[:-1]] + targets[-1:]
        valid = targets[-1] != IGNORE_INDEX
        losses = {}
        for lvl, (logits, target) in enumerate(zip(seg_logits, targets)):
            name = h.level_names[lvl]
            if logits.shape[1] != h.num_classes[lvl]:
                raise ValueError(
                    f'level {name!r}: logits have {logits.shape[1]} '
                    f'channels, the tree has {h.num_classes[lvl]} classes')
            cw = getattr(self, f'class_weight_{name}')
            ce = self._masked_ce(logits, target, target != IGNORE_INDEX,
                                 cw, weight)
            losses[f'loss_{name}'] = \
                ce * (self.level_weights[name] * self.loss_weight)
        if self.tree_min_weight > 0:
            tm = self.tree_min_loss(seg_logits, targets, valid, weight)
            losses['loss_tree_min'] = \
                tm * (self.tree_min_weight * self.loss_weight)
        return losses

    @staticmethod
    def _masked_ce(logits: Tensor, target: Tensor, valid: Tensor,
                   class_weight: Optional[Tensor],
                   pixel_weight: Optional[Tensor]) -> Tensor:
        """Cross-entropy averaged over valid pixels (weighted mean)."""
        cw = class_weight.to(logits.dtype) if class_weight is not None \
            else None
        per_pixel = F.cross_entropy(
            logits, target, weight=cw, reduction='none',
            ignore_index=IGNORE_INDEX)
        denom = valid.to(logits.dtype)
        if cw is not None:
            denom = denom * cw[target.masked_fill(~valid, 0)]
        if pixel_weight is not None:
            per_pixel = per_pixel * pixel_weight
            denom = denom * pixel_weight
        return per_pixel.sum() / denom.sum().clamp(min=1e-12)

    def tree_min_loss(self,
                      seg_logits: Sequence[Tensor],
                      targets: Sequence[Tensor],
                      valid: Tensor,
                      weight: Optional[Tensor] = None) -> Tensor:
        """HSSN tree-min loss (unweighted), see the class docstring.

        Args:
            seg_logits (Sequence[Tensor]): Logits per level ``(N, C_k, H, W)``.
            targets (Sequence[Tensor]): Targets per level ``(N, H, W)``.
            valid (Tensor): Boolean map of non-ignored pixels ``(N, H, W)``.
            weight (Tensor, optional): Per-pixel weights ``(N, H, W)``.

        Returns:
            Tensor: Scalar, the per-pixel node sum averaged over valid pixels.
        """
        h = self.hierarchy
        n_lv = h.num_levels
        pos = [F.logsigmoid(x) for x in seg_logits]  # log s
        neg = [F.logsigmoid(-x) for x in seg_logits]  # log(1 - s)
        # min over ancestors (and self) of log s: top-down through parents
        anc = [pos[0]]
        for lvl in range(1, n_lv):
            par = getattr(self, f'_parents_{lvl}')
            anc.append(torch.minimum(pos[lvl], anc[-1].index_select(1, par)))
        # min over descendants (and self) of log(1 - s): bottom-up scatter
        desc = [None] * n_lv
        desc[-1] = neg[-1]
        for lvl in range(n_lv - 2, -1, -1):
            child = desc[lvl + 1]
            par = getattr(self, f'_parents_{lvl + 1}')
            index = par.view(1, -1, 1, 1).expand_as(child)
            desc[lvl] = neg[lvl].scatter_reduce(
                1, index, child, reduce='amin', include_self=True)
        per_pixel = 0
        for lvl in range(n_lv):
            onehot = F.one_hot(targets[lvl].masked_fill(~valid, 0),
                               h.num_classes[lvl]).permute(0, 3, 1, 2).to(
                                   anc[lvl].dtype)
            node = onehot * anc[lvl] + (1 - onehot) * desc[lvl]
            per_pixel = per_pixel - node.sum(1)
        mask = valid.to(per_pixel.dtype)
        if weight is not None:
            mask = mask * weight
        return (per_pixel * mask).sum() / mask.sum().clamp(min=1e-12)
