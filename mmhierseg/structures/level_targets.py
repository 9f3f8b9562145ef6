"""Per-level training targets of a batch: :func:`stack_level_targets`."""
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F

from ..hierarchy import IGNORE_INDEX, ClassHierarchy

__all__ = ['stack_level_targets']


def stack_level_targets(samples: Sequence, hierarchy: ClassHierarchy,
                        leaf: torch.Tensor) -> Optional[List[torch.Tensor]]:
    """Every level's target map of a batch, when some sample has its own.

    Samples labelled only down to a coarse level carry each coarse level's
    map as ``gt_sem_seg_<level name>`` (``PackHierSegInputs``) and an
    all-ignore leaf map. Those maps are used as they are; for the other
    samples a coarse level is derived from the leaf map through the tree.
    The maps are padded with 255, bottom and right, to the batch's (padded)
    leaf size, as mmseg's data preprocessor pads ``gt_sem_seg``.

    Args:
        samples (Sequence[SegDataSample]): The batch.
        hierarchy (ClassHierarchy): The tree.
        leaf (torch.Tensor): The stacked leaf labels ``(N, H, W)``, ignore
            already 255.

    Returns:
        list[Tensor] | None: ``(N, H, W)`` int64 per level, coarse to fine
        (the leaf entry is ``leaf``); None when no sample carries a coarse
        level's map (then every level derives from the leaf, as before).
    """
    fields = [hierarchy.field(k, 'gt_sem_seg')
              for k in range(hierarchy.leaf_level)]
    if not any(s.get(f) is not None for s in samples for f in fields):
        return None
    h, w = leaf.shape[-2:]
    out = []
    for k, name in enumerate(fields):
        rows = []
        for i, sample in enumerate(samples):
            given = sample.get(name)
            if given is None:
                rows.append(hierarchy.to_level(leaf[i], k, check=False))
                continue
            data = given.data.to(leaf.device).long().reshape(
                given.data.shape[-2:])
            dh, dw = h - data.shape[0], w - data.shape[1]
            if dh < 0 or dw < 0:
                raise ValueError(
                    f'{name} is {tuple(data.shape)}, larger than the batch '
                    f'labels {(h, w)}; pack it with the same pipeline as '
                    'gt_sem_seg')
            rows.append(F.pad(data, (0, dw, 0, dh), value=IGNORE_INDEX))
        out.append(torch.stack(rows))
    return out + [leaf]
