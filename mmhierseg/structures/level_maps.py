"""Per-level label maps of a ``SegDataSample``: :func:`level_maps`."""
from typing import List, Optional

import torch

from ..hierarchy import ClassHierarchy

__all__ = ['label_map', 'level_maps']


def label_map(sample, name: str) -> Optional[torch.Tensor]:
    """The ``(H, W)`` int64 map of a sample's ``PixelData`` field (sample
    object or dict form), or None when the sample lacks the field."""
    value = sample.get(name)
    if value is None:
        return None
    data = torch.as_tensor(
        value['data'] if isinstance(value, dict) else value.data)
    if data.dim() == 3 and data.shape[0] != 1:
        raise ValueError(f'{name}: expected a single-channel label map, got '
                         f'shape {tuple(data.shape)}')
    return data.reshape(data.shape[-2:]).long()


def level_maps(sample,
               hierarchy: ClassHierarchy,
               prefix: str = 'pred_sem_seg') -> Optional[List[torch.Tensor]]:
    """Every level's label map of a sample, coarse to fine.

    A coarse level is read from its own field (``<prefix>_<level name>``, see
    :meth:`ClassHierarchy.field`) when the sample has it, else derived from
    the leaf map through the tree. The metric and the visualizer both read
    per-level maps here.

    Args:
        sample (SegDataSample | dict): A sample or its ``to_dict()`` form.
        hierarchy (ClassHierarchy): The tree.
        prefix (str): ``'pred_sem_seg'`` or ``'gt_sem_seg'``.

    Returns:
        list[Tensor] | None: ``(H, W)`` int64 maps on the leaf map's device,
        or None when the sample has no leaf map.
    """
    leaf = label_map(sample, prefix)
    if leaf is None:
        return None
    maps = []
    for k in range(hierarchy.num_levels):
        name = hierarchy.field(k, prefix)
        given = leaf if k == hierarchy.leaf_level else label_map(sample, name)
        if given is None:
            maps.append(hierarchy.to_level(leaf, k, check=False))
        elif given.shape != leaf.shape:
            raise ValueError(f'{name} has shape {tuple(given.shape)} but '
                             f'{prefix} has {tuple(leaf.shape)}')
        else:
            maps.append(given.to(leaf.device))
    return maps
