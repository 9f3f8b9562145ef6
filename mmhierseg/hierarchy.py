"""The label tree, declared once: :class:`ClassHierarchy`.

Built from a plain dict, so it can live in a config (presets by name in
:mod:`mmhierseg.hierarchy_presets`)::

    dict(levels=('body', 'half', 'part'),        # coarse -> fine
         leaves=('background', 'low_hand', ...),  # names in label-id order
         background='background',                 # the background leaf
         tree=dict(body=dict(                     # one nesting per level
             upper_body=('head', 'torso', 'up_hand', 'low_hand'),
             lower_body=('up_leg', 'low_leg'))),
         palette=dict(background=(0, 0, 0), ...)) # optional, any node

``leaves`` may also be ``{id: name}`` with ids exactly ``0 .. N-1``. Every
non-background leaf appears once, all at the same depth. Background is class
0 of every coarse level; the leaf level keeps the dataset's ids, so a leaf
label map *is* the finest level's map. Head channels, loss targets, metric
ground truth, consistent decoding and the training stages derive from it.
"""
import copy
import itertools
from typing import Dict, List, Sequence, Tuple, Union

import numpy as np
import torch

from .hierarchy_presets import (PASCAL_PART_HIERARCHY,
                                PASCAL_PERSON_PART_HIERARCHY, PRESETS)

__all__ = [
    'ClassHierarchy', 'PASCAL_PART_HIERARCHY', 'PASCAL_PERSON_PART_HIERARCHY',
    'PRESETS', 'IGNORE_INDEX'
]

IGNORE_INDEX = 255
_KEYS = ('levels', 'leaves', 'background', 'tree', 'palette')

# Colours of nodes the config gives none (fixed, so runs agree).
_AUTO_PALETTE = np.random.default_rng(0).integers(0, 256, (256, 3)).tolist()


def _names(value, what: str) -> Tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence) or \
            not value or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f'{what} must be a list of non-empty names, got '
                         f'{value!r}')
    return tuple(value)


def _plain(x):
    """Plain dicts/lists/tuples (no ConfigDict), safe to pickle anywhere."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_plain(v) for v in x)
    return x


def _is_int(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


class ClassHierarchy:
    """A label tree with per-level classes and leaf->level lookup tables.

    Attributes: ``level_names`` (coarse to fine), ``num_levels``,
    ``leaf_level`` (index of the finest level), ``leaf_names`` (in id order),
    ``num_leaves``, ``background_name``, ``background_leaf`` (its id).

    Args:
        cfg (dict | ClassHierarchy): The tree as a plain dict (see the module
            docstring), or an existing hierarchy (copied).

    Raises:
        ValueError: If the dict is malformed (the message names the fault).
    """

    def __init__(self, cfg: Union[dict, 'ClassHierarchy']):
        cfg = cfg.to_dict() if isinstance(cfg, ClassHierarchy) else cfg
        if not isinstance(cfg, dict):
            raise ValueError(f'ClassHierarchy expects a dict, got {cfg!r}')
        unknown = sorted(set(cfg) - set(_KEYS))
        missing = [k for k in ('levels', 'leaves', 'tree') if k not in cfg]
        if unknown or missing:
            raise ValueError(f'ClassHierarchy: unknown keys {unknown}, missing'
                             f' keys {missing}; allowed: {", ".join(_KEYS)}')
        self._cfg = _plain(cfg)
        self.level_names: Tuple[str, ...] = _names(cfg['levels'], 'levels')
        if len(set(self.level_names)) != len(self.level_names):
            raise ValueError(f'duplicate level names in {self.level_names}')
        self.num_levels = len(self.level_names)
        self.leaf_level = self.num_levels - 1
        self.leaf_names: Tuple[str, ...] = self._parse_leaves(cfg['leaves'])
        self.num_leaves = len(self.leaf_names)
        bg = cfg.get('background')
        if bg is None:
            raise ValueError('ClassHierarchy: no background class; set '
                             'background=<leaf name> (class 0 of every level)')
        bg = self.leaf_names[bg] if _is_int(bg) and 0 <= bg < len(
            self.leaf_names) else bg
        if bg not in self.leaf_names:
            raise ValueError(f'background {bg!r} is not one of the leaves '
                             f'{list(self.leaf_names)}')
        self.background_name: str = bg
        self.background_leaf: int = self.leaf_names.index(bg)

        # Walk the tree: nodes per level in declaration order, leaf paths.
        nodes: List[List[str]] = [[] for _ in self.level_names]
        paths: Dict[str, List[str]] = {}
        self._walk(cfg['tree'], [], nodes, paths)
        if bg in paths:
            raise ValueError(f'background {bg!r} must not appear in the tree; '
                             'it is class 0 of every level')
        missing = [n for n in self.leaf_names if n != bg and n not in paths]
        if missing:
            raise ValueError(f'leaves missing from the tree: {missing}; every '
                             'non-background leaf must appear exactly once')
        inner = [n for lvl in nodes[:-1] for n in lvl]
        clash = sorted(set(inner) & set(self.leaf_names)) or sorted(
            {n for n in inner if inner.count(n) > 1})
        if clash:
            raise ValueError('node names must be unique across the tree and '
                             f'distinct from leaf names; clashes: {clash}')
        # Classes per level: background first at coarse levels; the leaf
        # level keeps the dataset's ids.
        self._classes: List[Tuple[str, ...]] = [
            (bg, ) + tuple(lvl) for lvl in nodes[:-1]] + [self.leaf_names]
        # Lookup tables: leaf id -> class index at each level.
        luts = np.zeros((self.num_levels, self.num_leaves), dtype=np.int64)
        luts[-1] = np.arange(self.num_leaves)
        for leaf_id, name in enumerate(self.leaf_names):
            for k, node in enumerate(paths.get(name, [])[:-1]):
                luts[k, leaf_id] = self._classes[k].index(node)
        luts.setflags(write=False)
        self._luts = luts
        self._parents = [None]  # class at level k -> its parent class
        for k in range(1, self.num_levels):
            self._parents.append(np.zeros(len(self._classes[k]), np.int64))
            self._parents[k][luts[k]] = luts[k - 1]
        self._palettes = self._build_palettes(cfg.get('palette') or {})
        self._tables: Dict[tuple, torch.Tensor] = {}

    @staticmethod
    def _parse_leaves(leaves) -> Tuple[str, ...]:
        if isinstance(leaves, dict):
            if not all(_is_int(i) for i in leaves) or sorted(
                    leaves) != list(range(len(leaves))):
                raise ValueError(
                    f'leaf ids must be exactly 0..{len(leaves) - 1} (label '
                    f'maps index classes directly), got {list(leaves)}')
            leaves = [leaves[i] for i in sorted(leaves)]
        names = _names(leaves, 'leaves')
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f'duplicate leaf names {dup}')
        if len(names) > IGNORE_INDEX:
            raise ValueError(f'at most {IGNORE_INDEX} leaves are supported')
        return names

    def _walk(self, node, path: List[str], nodes, paths) -> None:
        depth, where = len(path), '/'.join(path) or '<root>'
        if depth == self.num_levels - 1:  # a sequence of leaf names or ids
            if isinstance(node, (dict, str)) or not isinstance(node, Sequence):
                raise ValueError(
                    f'tree too deep under {where}: at level '
                    f'{self.level_names[depth]!r} expected a list of leaf '
                    f'names, got {type(node).__name__}; the tree must have '
                    f'exactly {self.num_levels} levels {self.level_names}')
            if not node:
                raise ValueError(f'empty node under {where}')
            for leaf in node:
                if _is_int(leaf):  # a leaf id
                    leaf = dict(enumerate(self.leaf_names)).get(
                        int(leaf), f'id {leaf}')
                if leaf not in self.leaf_names:
                    raise ValueError(
                        f'unknown leaf {leaf!r} under {where} (known leaves: '
                        f'{list(self.leaf_names)})')
                if leaf in paths:
                    raise ValueError(
                        f'leaf {leaf!r} appears twice in the tree: under '
                        f'{"/".join(paths[leaf][:-1])} and {where}; a leaf '
                        'has exactly one parent')
                paths[leaf] = path + [leaf]
                nodes[depth].append(leaf)
            return
        if not isinstance(node, dict) or not node:
            raise ValueError(
                f'tree too shallow under {where}: at level '
                f'{self.level_names[depth]!r} expected a non-empty dict of '
                f'nodes, got {node!r}; all leaves must sit at depth '
                f'{self.num_levels} {self.level_names}')
        for name, child in node.items():
            if not isinstance(name, str) or not name:
                raise ValueError(f'node names must be strings, got {name!r}')
            nodes[depth].append(name)
            self._walk(child, path + [name], nodes, paths)

    def _build_palettes(self, palette: dict) -> List[List[List[int]]]:
        for k, v in palette.items():
            if len(v) != 3 or not all(0 <= int(c) <= 255 for c in v):
                raise ValueError(f'palette colour for {k!r} must be 3 values '
                                 f'in 0..255, got {v!r}')
        bad = sorted(set(palette) - {n for c in self._classes for n in c})
        if bad:
            raise ValueError(f'palette names unknown nodes {bad}')
        auto = itertools.cycle(_AUTO_PALETTE)
        return [[
            list(palette[n] if n in palette else (0, 0, 0) if n ==
                 self.background_name else next(auto)) for n in names
        ] for names in self._classes]

    @classmethod
    def build(cls, cfg: Union[dict, str, 'ClassHierarchy']
              ) -> 'ClassHierarchy':
        """Build a hierarchy from a dict or a preset name (no default).

        Args:
            cfg (dict | str | ClassHierarchy): A tree dict, a preset name from
                :data:`PRESETS`, or a hierarchy (returned as is).

        Returns:
            ClassHierarchy: The hierarchy.
        """
        if isinstance(cfg, ClassHierarchy):
            return cfg
        if cfg is None:
            raise ValueError(
                'no label tree given: pass hierarchy=<a tree dict or a preset '
                f'name {sorted(PRESETS)}> (configs set it once, e.g. '
                '`model = dict(hierarchy=_base_.hierarchy)`)')
        if isinstance(cfg, str) and cfg not in PRESETS:
            raise ValueError(f'unknown hierarchy preset {cfg!r}; presets: '
                             f'{sorted(PRESETS)} (or pass a dict)')
        return cls(PRESETS[cfg] if isinstance(cfg, str) else cfg)

    @property
    def num_classes(self) -> List[int]:
        """list[int]: Number of classes per level, background included."""
        return [len(c) for c in self._classes]

    @property
    def leaf_paths(self) -> np.ndarray:
        """np.ndarray: ``(num_leaves, num_levels)`` ancestor ids per leaf."""
        return self._luts.T.copy()

    def level_index(self, level: Union[int, str]) -> int:
        """Level index in ``0 .. num_levels - 1`` of an index (negative
        allowed) or a level name."""
        if isinstance(level, str):
            if level not in self.level_names:
                raise ValueError(f'unknown level {level!r}; levels are '
                                 f'{list(self.level_names)}')
            return self.level_names.index(level)
        if not -self.num_levels <= int(level) < self.num_levels:
            raise ValueError(f'level {level} out of range for '
                             f'{self.num_levels} levels')
        return int(level) % self.num_levels

    def classes(self, level: Union[int, str]) -> Tuple[str, ...]:
        """Class names of a level (index or name); index = label id."""
        return self._classes[self.level_index(level)]

    def palette(self, level: Union[int, str]) -> List[List[int]]:
        """RGB palette of a level, ``[[r, g, b], ...]``, one per class."""
        return [list(c) for c in self._palettes[self.level_index(level)]]

    def background_index(self, level: Union[int, str]) -> int:
        """Background id of a level: 0 at coarse levels, the dataset's
        background id at the leaf level."""
        lvl = self.level_index(level)
        return self.background_leaf if lvl == self.leaf_level else 0

    def foreground_indices(self, level: Union[int, str]) -> List[int]:
        """Label ids of a level without its background."""
        lvl = self.level_index(level)
        return [i for i in range(self.num_classes[lvl])
                if i != self.background_index(lvl)]

    def lut(self, level: Union[int, str]) -> np.ndarray:
        """Leaf id -> class id at ``level`` (read-only)."""
        return self._luts[self.level_index(level)]

    def parents(self, level: Union[int, str]) -> np.ndarray:
        """Class at ``level`` -> its parent class at ``level - 1`` (not
        defined for the coarsest level)."""
        lvl = self.level_index(level)
        if lvl == 0:
            raise ValueError('the coarsest level has no parent level')
        return self._parents[lvl]

    def _table(self, lvl: int, device) -> torch.Tensor:
        """256-entry table for :meth:`to_level`, cached per device: leaf ids
        through the tree, 255 -> 255, anything else -> -1."""
        key = (lvl, str(device))
        if key not in self._tables:
            table = torch.full((IGNORE_INDEX + 1, ), -1, dtype=torch.long)
            table[:self.num_leaves] = torch.tensor(self._luts[lvl])
            table[IGNORE_INDEX] = IGNORE_INDEX
            self._tables[key] = table.to(device)
        return self._tables[key]

    def to_level(self, label_map, level: Union[int, str], check: bool = True):
        """Convert a leaf label map to another level (one table gather).

        Args:
            label_map (np.ndarray | torch.Tensor): Integer leaf labels of any
                shape, on any device; 255 (ignore) stays 255.
            level (int | str): Target level index or name.
            check (bool): Raise ValueError on values that are neither leaf
                ids nor 255 (this reads the result back to the host, a
                device sync on CUDA); with False they become 255, no sync.

        Returns:
            np.ndarray | torch.Tensor: Same type, shape and device; numpy
            keeps the input's dtype, torch output is int64.
        """
        lvl = self.level_index(level)
        is_np = not isinstance(label_map, torch.Tensor)
        lm = torch.from_numpy(np.asarray(label_map)) if is_np else label_map
        if lm.dtype.is_floating_point or lm.is_complex() or \
                lm.dtype == torch.bool:
            raise TypeError(f'label maps must be integers, got {lm.dtype}')
        lm = lm.long()
        out = self._table(lvl, lm.device)[lm.clamp(0, IGNORE_INDEX)]
        bad = (out < 0) | (lm < 0) | (lm > IGNORE_INDEX)
        if check and bool(bad.any()):  # the only host sync, and only here
            raise ValueError(
                f'label values {self.invalid_values(lm)[:10]} are outside'
                f' the tree: valid leaf ids are 0..{self.num_leaves - 1} '
                f'({", ".join(self.leaf_names)}) and {IGNORE_INDEX} '
                '(ignore). Check that the dataset uses the hierarchy (id '
                'order) it was made for.')
        out = out.masked_fill(bad, IGNORE_INDEX)
        return out.numpy().astype(np.asarray(label_map).dtype) if is_np \
            else out

    def invalid_values(self, label_map) -> List[int]:
        """Sorted distinct values of a leaf label map (np or torch) that are
        neither leaf ids nor 255 (empty when valid)."""
        vals = np.unique(torch.as_tensor(label_map).cpu().numpy()).tolist()
        return [v for v in vals
                if not (0 <= v < self.num_leaves or v == IGNORE_INDEX)]

    def is_consistent(self, level_maps: Sequence):
        """Boolean map, True where one label map per level (coarse to fine,
        np or torch) agrees with the tree: each class's parent is the class
        of the level above."""
        if len(level_maps) != self.num_levels:
            raise ValueError(f'expected {self.num_levels} level maps, got '
                             f'{len(level_maps)}')
        ok = level_maps[0] == level_maps[0]  # all True, same type and shape
        for k in range(1, self.num_levels):
            fine, par = level_maps[k], self._parents[k]
            if isinstance(fine, torch.Tensor):
                par, fine = torch.from_numpy(par).to(fine.device), fine.long()
            ok &= par[fine] == level_maps[k - 1]
        return ok

    def field(self, level: Union[int, str], prefix: str = 'pred_sem_seg'
              ) -> str:
        """Name of the ``SegDataSample`` field holding one level's map:
        mmseg's own (``pred_sem_seg``, ``gt_sem_seg``, ``seg_logits``) at the
        leaf level, ``<prefix>_<level name>`` at coarser levels."""
        lvl = self.level_index(level)
        return prefix if lvl == self.leaf_level else \
            f'{prefix}_{self.level_names[lvl]}'

    def to_dict(self) -> dict:
        """The plain dict this hierarchy was built from (a deep copy)."""
        return copy.deepcopy(self._cfg)

    def metainfo(self, level: Union[int, str, None] = None) -> dict:
        """mmseg-style ``metainfo`` (``classes``, ``palette``, ``hierarchy``
        dict) of one level, by default the leaf level."""
        lvl = self.leaf_level if level is None else self.level_index(level)
        return dict(classes=self.classes(lvl), palette=self.palette(lvl),
                    hierarchy=self.to_dict())

    def __eq__(self, other) -> bool:
        return isinstance(other, ClassHierarchy) and \
            self.level_names == other.level_names and \
            self._classes == other._classes and \
            np.array_equal(self._luts, other._luts)

    def __hash__(self):
        return hash((self.level_names, tuple(self._classes)))

    def __repr__(self) -> str:
        """Names the levels, their class counts and the leaves in id order,
        so two trees can be told apart in an error message."""
        levels = ', '.join(f'{n}={len(c)}' for n, c in
                           zip(self.level_names, self._classes))
        return f'ClassHierarchy({levels}; leaves {list(self.leaf_names)})'

    def __reduce__(self):  # pickle the tree dict, not the cached tables
        return ClassHierarchy, (self._cfg, )
