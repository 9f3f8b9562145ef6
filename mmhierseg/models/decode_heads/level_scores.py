"""Scores that tie the levels of a label tree together (no loops over
classes or pixels; one tensor op per level at most)."""
from typing import List, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from mmhierseg.hierarchy import ClassHierarchy

__all__ = ['consistent_leaf_scores', 'leaf_membership', 'marginal_log_probs']


def consistent_leaf_scores(level_logits: Sequence[Tensor],
                           leaf_paths: Tensor) -> Tensor:
    """Score every leaf by the sum of log-softmax along its root-to-leaf path.

    ``score[leaf] = sum_k log_softmax(logits_k)[path[leaf, k]]``: one
    ``index_select`` per level. The argmax leaf and the coarse classes derived
    from it can never contradict each other.

    Args:
        level_logits (Sequence[Tensor]): Logits per level, coarse to fine,
            ``(N, C_k, H, W)``, all at the same resolution.
        leaf_paths (Tensor): ``(num_leaves, num_levels)`` int64 ancestor ids
            (``ClassHierarchy.leaf_paths``).

    Returns:
        Tensor: ``(N, num_leaves, H, W)`` leaf log-scores.
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


def leaf_membership(hierarchy: ClassHierarchy) -> Tensor:
    """0/1 matrix ``(sum_k C_k, num_leaves, 1, 1)``: whether a leaf lies under
    a class, for the classes of every level stacked coarse to fine (a 1x1
    convolution weight)."""
    paths = torch.from_numpy(hierarchy.leaf_paths)
    member = torch.cat([
        F.one_hot(paths[:, k], n).t()
        for k, n in enumerate(hierarchy.num_classes)
    ])
    return member.float()[..., None, None]


def marginal_log_probs(leaf_logits: Tensor, membership: Tensor,
                       num_classes: Sequence[int]) -> List[Tensor]:
    """Log-probabilities of every level's classes from leaf logits.

    ``log P(c) = logsumexp_{leaf under c} log_softmax(leaf_logits)``: one 1x1
    convolution of the max-shifted leaf probabilities with ``membership``,
    in float32.

    Args:
        leaf_logits (Tensor): ``(N, num_leaves, h, w)``.
        membership (Tensor): :func:`leaf_membership` of the tree.
        num_classes (Sequence[int]): Classes per level, coarse to fine.

    Returns:
        list[Tensor]: ``(N, C_k, h, w)`` per level; the leaf level is the
        leaf log-softmax.
    """
    log_p = F.log_softmax(leaf_logits.float(), dim=1)
    shift = log_p.amax(dim=1, keepdim=True).detach()
    sums = F.conv2d((log_p - shift).exp(), membership.to(log_p.device))
    out = sums.clamp(min=torch.finfo(sums.dtype).tiny).log() + shift
    return list(out.split(list(num_classes), dim=1))
