"""The label tree, declared once: :class:`ClassHierarchy`.

A hierarchy is built from a plain dict (so it can live in a Python config)::

    dict(
        levels=('body', 'half', 'part'),          # coarse -> fine level names
        leaves=('background', 'low_hand', ...),   # leaf names in label-id order
        background='background',                  # the leaf that is background
        tree=dict(                                # nested: one nesting per level
            body=dict(
                upper_body=('head', 'torso', 'up_hand', 'low_hand'),
                lower_body=('up_leg', 'low_leg'))),
        palette=dict(background=(0, 0, 0), ...),  # optional, any node name
    )

``leaves`` may also be a dict ``{id: name}`` with ids exactly ``0 .. N-1``.
The tree names every non-background leaf once, all at the same depth.
Background is class 0 at every coarse level; the leaf level keeps the
dataset's ids, so a leaf label map *is* the finest level's label map. Head
channels, loss targets, metric ground truth, consistent decoding and the
training stages are all derived from this object.
"""
import copy
import itertools
from typing import Dict, List, Sequence, Tuple, Union

import numpy as np
import torch

__all__ = [
    'ClassHierarchy', 'PASCAL_PART_HIERARCHY', 'PASCAL_PERSON_PART_HIERARCHY',
    'PRESETS', 'IGNORE_INDEX'
]

IGNORE_INDEX = 255
_KEYS = ('levels', 'leaves', 'background', 'tree', 'palette')

# Colours of nodes the config gives none (fixed, so runs agree).
_AUTO_PALETTE = np.random.default_rng(0).integers(0, 256, (256, 3)).tolist()

#: The Pascal-part layout (``gt_masks/*.npy``): ids from ``classes.txt``.
PASCAL_PART_HIERARCHY = dict(
    levels=('body', 'half', 'part'),
    leaves={0: 'background', 1: 'low_hand', 2: 'torso', 3: 'low_leg',
            4: 'head', 5: 'up_leg', 6: 'up_hand'},
    background='background',
    tree=dict(body=dict(
        upper_body=('head', 'torso', 'up_hand', 'low_hand'),
        lower_body=('up_leg', 'low_leg'))),
    palette=dict(
        background=(0, 0, 0), body=(192, 128, 128), upper_body=(220, 20, 60),
        lower_body=(0, 0, 142), low_hand=(255, 160, 0), torso=(220, 20, 60),
        low_leg=(0, 128, 255), head=(255, 220, 0), up_leg=(0, 0, 142),
        up_hand=(255, 96, 208)),
)

#: PASCAL-Person-Part (PNG label maps): the same tree, another id order.
PASCAL_PERSON_PART_HIERARCHY = dict(
    PASCAL_PART_HIERARCHY,
    leaves={0: 'background', 1: 'head', 2: 'torso', 3: 'up_hand',
            4: 'low_hand', 5: 'up_leg', 6: 'low_leg'})

#: Ready-made trees, usable by name wherever a hierarchy is expected.
PRESETS = {
    'pascal_part': PASCAL_PART_HIERARCHY,
    'pascal_person_part': PASCAL_PERSON_PART_HIERARCHY,
}


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
        if isinstance(cfg, ClassHierarchy):
            cfg = cfg.to_dict()
        if not isinstance(cfg, dict):
            raise ValueError('ClassHierarchy expects a dict, got '
                             f'{type(cfg).__name__}')
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
            raise ValueError(
                'ClassHierarchy: no background class; set background=<leaf '
                'name> (every level needs a background class, metrics exclude'
                ' it)')
        if _is_int(bg) and 0 <= int(bg) < len(self.leaf_names):
            bg = self.leaf_names[int(bg)]
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
        # Parent tables: class at level k -> its class at level k - 1.
        self._parents = [None] + [
            np.array([luts[k - 1][list(luts[k]).index(c)]
                      for c in range(len(self._classes[k]))]).astype(np.int64)
            for k in range(1, self.num_levels)
        ]
        self._palettes = self._build_palettes(cfg.get('palette') or {})
        self._tables: Dict[tuple, object] = {}

    # ------------------------------------------------------------------ parse
    @staticmethod
    def _parse_leaves(leaves) -> Tuple[str, ...]:
        if isinstance(leaves, dict):
            if not all(_is_int(i) for i in leaves):
                raise ValueError(f'leaf ids must be integers, got '
                                 f'{list(leaves)}')
            ids = sorted(int(i) for i in leaves)
            if ids != list(range(len(ids))):
                raise ValueError(
                    f'leaf ids must be exactly 0..{len(ids) - 1} (label maps '
                    f'index classes directly), got {ids}')
            leaves = [leaves[i] for i in sorted(leaves, key=int)]
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
                if _is_int(leaf) and 0 <= int(leaf) < self.num_leaves:
                    leaf = self.leaf_names[int(leaf)]
                elif _is_int(leaf):
                    raise ValueError(f'unknown leaf id {leaf} under {where} '
                                     f'(ids are 0..{self.num_leaves - 1})')
                if leaf not in self.leaf_names:
                    raise ValueError(f'unknown leaf {leaf!r} under {where} '
                                     f'(known leaves: {list(self.leaf_names)})')
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

    # ------------------------------------------------------------- building
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
        if isinstance(cfg, str):
            if cfg not in PRESETS:
                raise ValueError(f'unknown hierarchy preset {cfg!r}; presets: '
                                 f'{sorted(PRESETS)} (or pass a dict)')
            cfg = PRESETS[cfg]
        return cls(dict(cfg))

    # ------------------------------------------------------------ properties
    @property
    def num_classes(self) -> List[int]:
        """list[int]: Number of classes per level, background included."""
        return [len(c) for c in self._classes]

    @property
    def leaf_paths(self) -> np.ndarray:
        """np.ndarray: ``(num_leaves, num_levels)`` class id of every leaf's
        ancestor (or itself) at every level."""
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
        """Leaf id -> class id at ``level`` (read-only ``(num_leaves,)``)."""
        return self._luts[self.level_index(level)]

    def parents(self, level: Union[int, str]) -> np.ndarray:
        """Class at ``level`` -> its parent class at ``level - 1`` (not
        defined for the coarsest level)."""
        lvl = self.level_index(level)
        if lvl == 0:
            raise ValueError('the coarsest level has no parent level')
        return self._parents[lvl]

    def _table(self, lvl: int, device=None):
        """256-entry table for :meth:`to_level` (numpy, or torch on
        ``device``): leaf ids through the tree, 255 -> 255, others -> -1."""
        key = (lvl, str(device))
        if key not in self._tables:
            table = np.full(IGNORE_INDEX + 1, -1, dtype=np.int64)
            table[:self.num_leaves] = self._luts[lvl]
            table[IGNORE_INDEX] = IGNORE_INDEX
            self._tables[key] = table if device is None else \
                torch.from_numpy(table).to(device)
        return self._tables[key]

    # ----------------------------------------------------------- conversion
    def to_level(self, label_map, level: Union[int, str], check: bool = True):
        """Convert a leaf label map to another level (one table gather).

        Args:
            label_map (np.ndarray | torch.Tensor): Integer leaf labels of any
                shape, on any device; 255 (ignore) stays 255.
            level (int | str): Target level index or name.
            check (bool): Raise ValueError on values that are neither leaf
                ids nor 255; with False they become 255.

        Returns:
            np.ndarray | torch.Tensor: Same type, shape and device; numpy
            keeps the input's dtype, torch output is int64.
        """
        lvl = self.level_index(level)
        is_torch = isinstance(label_map, torch.Tensor)
        if is_torch:
            if label_map.dtype.is_floating_point or label_map.is_complex() \
                    or label_map.dtype == torch.bool:
                raise TypeError('label maps must be integer tensors, got '
                                f'{label_map.dtype}')
            lm = label_map.long()
            out = self._table(lvl, lm.device)[lm.clamp(0, IGNORE_INDEX)]
        else:
            lm = np.asarray(label_map)
            if not np.issubdtype(lm.dtype, np.integer):
                raise TypeError('label maps must be integer arrays, got '
                                f'{lm.dtype}')
            out = self._table(lvl)[np.clip(lm, 0, IGNORE_INDEX)]
        bad = (out < 0) | (lm < 0) | (lm > IGNORE_INDEX)
        if bad.any():
            if check:
                raise ValueError(
                    f'label values {self.invalid_values(lm)[:10]} are outside'
                    f' the tree: valid leaf ids are 0..{self.num_leaves - 1} '
                    f'({", ".join(self.leaf_names)}) and {IGNORE_INDEX} '
                    '(ignore). Check that the dataset uses the hierarchy (id '
                    'order) it was made for.')
            out[bad] = IGNORE_INDEX
        return out if is_torch else out.astype(lm.dtype, copy=False)

    def invalid_values(self, label_map) -> List[int]:
        """Sorted distinct values of a leaf label map (np or torch) that are
        neither leaf ids nor 255 (empty when valid)."""
        vals = torch.unique(label_map).tolist() if isinstance(
            label_map, torch.Tensor) else np.unique(label_map).tolist()
        return [v for v in vals
                if not (0 <= v < self.num_leaves or v == IGNORE_INDEX)]

    def is_consistent(self, level_maps: Sequence):
        """Boolean map, True where per-level predictions agree with the tree
        (each level's class is the parent of the next level's class).

        Args:
            level_maps (Sequence[np.ndarray | torch.Tensor]): One label map
                per level, coarse to fine, same shape.
        """
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

    # ---------------------------------------------------------- serialise
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
        if not isinstance(other, ClassHierarchy):
            return NotImplemented
        return (self.level_names == other.level_names
                and self._classes == other._classes
                and np.array_equal(self._luts, other._luts))

    def __hash__(self):
        return hash((self.level_names, tuple(self._classes)))

    def __repr__(self) -> str:
        """Names the levels, their class counts and the leaves in id order,
        so two trees can be told apart in an error message."""
        levels = ', '.join(f'{n}={len(c)}' for n, c in
                           zip(self.level_names, self._classes))
        return f'ClassHierarchy({levels}; leaves {list(self.leaf_names)})'

    def __getstate__(self):
        return {'cfg': self._cfg}

    def __setstate__(self, state):
        self.__init__(state['cfg'])
