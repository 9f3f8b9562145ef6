"""Masks of mixed granularity: an image labelled only down to level ``k``.

A dataset instance whose masks hold the class ids of a coarse level of the
tree (``PascalPartDataset(label_level='body')``: 0 background, 1 body, in
the order :meth:`ClassHierarchy.classes` gives) trains the levels ``<= k``;
every finer level of its images is ignored (255). The helpers here turn such
a mask into one map per level, derive the coarser levels through the tree,
and name the valid ids of a level in messages.
"""
from typing import List, Optional, Union

import numpy as np

from mmhierseg.hierarchy import IGNORE_INDEX, ClassHierarchy

__all__ = [
    'resolve_label_level', 'level_lut', 'level_label_maps',
    'describe_level_ids'
]


def resolve_label_level(hierarchy: ClassHierarchy,
                        label_level: Union[int, str, None]) -> int:
    """The level index of a label level (a level name or index; None is the
    leaf level).

    Args:
        hierarchy (ClassHierarchy): The tree.
        label_level (int | str | None): Level name, index (negative allowed)
            or None.

    Returns:
        int: ``0 .. num_levels - 1``.

    Raises:
        ValueError: On an unknown name or an index out of range (the message
            lists the levels).
    """
    if label_level is None:
        return hierarchy.leaf_level
    try:
        return hierarchy.level_index(label_level)
    except (ValueError, TypeError) as e:
        raise ValueError(
            f'label_level {label_level!r}: {e}; give one of the levels '
            f'{list(hierarchy.level_names)} (name or index)') from None


def level_lut(hierarchy: ClassHierarchy, from_level: int,
              to_level: int) -> np.ndarray:
    """Class id at ``from_level`` -> its ancestor's id at ``to_level``
    (``to_level <= from_level``), through the tree's parent tables.

    Args:
        hierarchy (ClassHierarchy): The tree.
        from_level (int): The finer level.
        to_level (int): The coarser (or the same) level.

    Returns:
        np.ndarray: int64, one entry per class of ``from_level``.
    """
    if to_level > from_level:
        raise ValueError(f'level {to_level} is finer than level {from_level}'
                         '; ids can only be mapped to coarser levels')
    if from_level == hierarchy.leaf_level:
        return hierarchy.lut(to_level).astype(np.int64)
    lut = np.arange(hierarchy.num_classes[from_level], dtype=np.int64)
    for k in range(from_level, to_level, -1):
        lut = hierarchy.parents(k)[lut]
    return lut


def level_label_maps(mask: np.ndarray, hierarchy: ClassHierarchy,
                     label_level: int) -> List[np.ndarray]:
    """One uint8 map per level (coarse to fine) from a mask of one level.

    Level ``label_level`` is the mask itself, the coarser levels are derived
    through the tree, every finer level is all ``255`` (ignored). 255 in the
    mask stays 255 at every level. The mask must hold only ids of its level
    or 255 (validated when it is loaded).

    Args:
        mask (np.ndarray): ``HxW`` class ids of ``label_level``.
        hierarchy (ClassHierarchy): The tree.
        label_level (int): The level the mask is labelled at.

    Returns:
        list[np.ndarray]: ``num_levels`` uint8 ``HxW`` maps.
    """
    mask = np.asarray(mask)
    maps = []
    for k in range(hierarchy.num_levels):
        if k > label_level:
            maps.append(np.full(mask.shape, IGNORE_INDEX, np.uint8))
            continue
        table = np.full(IGNORE_INDEX + 1, IGNORE_INDEX, np.uint8)
        lut = level_lut(hierarchy, label_level, k)
        table[:len(lut)] = lut
        maps.append(table[mask.astype(np.int64).clip(0, IGNORE_INDEX)])
    return maps


def describe_level_ids(hierarchy: ClassHierarchy,
                       label_level: Optional[int] = None) -> str:
    """``"0..1 (background, body) at level 'body'"``: the valid ids of a
    level, for error messages."""
    lvl = hierarchy.leaf_level if label_level is None else label_level
    names = hierarchy.classes(lvl)
    return (f'0..{len(names) - 1} ({", ".join(names)}) at level '
            f'{hierarchy.level_names[lvl]!r}')


def check_pipeline_packs_levels(pipeline, hierarchy: ClassHierarchy,
                                label_level: int, owner: str) -> None:
    """Refuse a pipeline that would drop a coarse dataset's labels.

    mmseg's ``PackSegInputs`` packs the leaf map only, so the images of a
    dataset labelled at a coarse level would train nothing. Leaf-labelled
    datasets are not checked.

    Args:
        pipeline: The dataset's ``Compose`` (its ``transforms``).
        hierarchy (ClassHierarchy): The tree.
        label_level (int): The dataset's label level.
        owner (str): The dataset class, named in the error.

    Raises:
        ValueError: If a packing transform does not pack the per-level maps
            or the ``label_level`` meta key.
    """
    if label_level == hierarchy.leaf_level:
        return
    from mmseg.datasets.transforms import PackSegInputs

    from .transforms.formatting import PackHierSegInputs
    for t in getattr(pipeline, 'transforms', []):
        if not isinstance(t, PackSegInputs):
            continue
        if not isinstance(t, PackHierSegInputs) or \
                'label_level' not in t.meta_keys:
            raise ValueError(
                f'{owner}(label_level='
                f'{hierarchy.level_names[label_level]!r}): the pipeline packs'
                f' with {type(t).__name__}, which drops the coarse levels\' '
                'maps (or the label_level meta key), so these images would '
                "train nothing. Use dict(type='PackHierSegInputs') (or "
                "'PackPoseSegInputs' with pose priors) with its default "
                'meta_keys.')
