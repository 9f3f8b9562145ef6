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

``leaves`` may also be a dict ``{id: name}``; ids must then be exactly
``0 .. N-1``. The tree names every non-background leaf exactly once, at the
same depth. Background is class 0 at every coarse level; the leaf level keeps
the dataset's own ids, so a leaf label map *is* the finest level's label map.

Everything else (head channel counts, loss targets, metric ground truth,
consistent decoding) is derived from this object.
"""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

__all__ = [
    'ClassHierarchy', 'PASCAL_PART_HIERARCHY', 'PASCAL_PERSON_PART_HIERARCHY',
    'PRESETS', 'IGNORE_INDEX'
]

IGNORE_INDEX = 255

# A fixed, distinct palette used for nodes the config gives no colour.
_AUTO_PALETTE = [
    (128, 64, 128), (244, 35, 232), (70, 70, 70), (102, 102, 156),
    (190, 153, 153), (153, 153, 153), (250, 170, 30), (220, 220, 0),
    (107, 142, 35), (152, 251, 152), (70, 130, 180), (220, 20, 60),
    (255, 0, 0), (0, 0, 142), (0, 0, 70), (0, 60, 100), (0, 80, 100),
    (0, 0, 230), (119, 11, 32)
]

#: The Pascal-part layout (``gt_masks/*.npy``): ids from ``classes.txt``.
PASCAL_PART_HIERARCHY = dict(
    levels=('body', 'half', 'part'),
    leaves={
        0: 'background',
        1: 'low_hand',
        2: 'torso',
        3: 'low_leg',
        4: 'head',
        5: 'up_leg',
        6: 'up_hand',
    },
    background='background',
    tree=dict(body=dict(
        upper_body=('head', 'torso', 'up_hand', 'low_hand'),
        lower_body=('up_leg', 'low_leg'))),
    palette=dict(
        background=(0, 0, 0),
        body=(192, 128, 128),
        upper_body=(220, 20, 60),
        lower_body=(0, 0, 142),
        low_hand=(255, 160, 0),
        torso=(220, 20, 60),
        low_leg=(0, 128, 255),
        head=(255, 220, 0),
        up_leg=(0, 0, 142),
        up_hand=(255, 96, 208)),
)

#: PASCAL-Person-Part (PNG label maps): the same tree, another id order.
PASCAL_PERSON_PART_HIERARCHY = dict(
    PASCAL_PART_HIERARCHY,
    leaves={
        0: 'background',
        1: 'head',
        2: 'torso',
        3: 'up_hand',
        4: 'low_hand',
        5: 'up_leg',
        6: 'low_leg',
    })


def _as_tuple_of_str(value, what: str) -> Tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ValueError(f'{what} must be a list/tuple of names, got '
                         f'{value!r}')
    out = tuple(value)
    for v in out:
        if not isinstance(v, str) or not v:
            raise ValueError(f'{what} must contain non-empty strings, got '
                             f'{v!r}')
    return out


class ClassHierarchy:
    """A label tree with per-level classes and leaf->level lookup tables.

    Args:
        cfg (dict | ClassHierarchy): The tree as a plain dict (see the module
            docstring), or an existing hierarchy (copied).

    Raises:
        ValueError: If the dict is malformed: unknown or duplicate leaf ids or
            names, a leaf under two parents, a leaf missing from the tree,
            leaves at different depths, a tree whose depth does not match
            ``levels``, or no background class.
    """

    def __init__(self, cfg: Union[dict, 'ClassHierarchy']):
        if isinstance(cfg, ClassHierarchy):
            cfg = cfg.to_dict()
        if not isinstance(cfg, dict):
            raise ValueError('ClassHierarchy expects a dict, got '
                             f'{type(cfg).__name__}')
        unknown = set(cfg) - {'levels', 'leaves', 'background', 'tree',
                              'palette'}
        if unknown:
            raise ValueError(f'ClassHierarchy: unknown keys {sorted(unknown)};'
                             ' allowed: levels, leaves, background, tree, '
                             'palette')
        for key in ('levels', 'leaves', 'tree'):
            if key not in cfg:
                raise ValueError(f'ClassHierarchy: missing key {key!r}')
        self._cfg = copy.deepcopy(dict(cfg))

        self.level_names: Tuple[str, ...] = _as_tuple_of_str(
            cfg['levels'], 'levels')
        if len(set(self.level_names)) != len(self.level_names):
            raise ValueError(f'duplicate level names in {self.level_names}')
        if len(self.level_names) < 1:
            raise ValueError('a hierarchy needs at least one level')

        self.leaf_names: Tuple[str, ...] = self._parse_leaves(cfg['leaves'])
        if 'background' not in cfg or cfg['background'] is None:
            raise ValueError(
                'ClassHierarchy: no background class; set background=<leaf '
                'name> (every level needs a background class, metrics exclude'
                ' it)')
        bg = cfg['background']
        if isinstance(bg, (int, np.integer)) and not isinstance(bg, bool):
            if not 0 <= int(bg) < len(self.leaf_names):
                raise ValueError(f'background id {bg} is not a leaf id '
                                 f'(0..{len(self.leaf_names) - 1})')
            bg = self.leaf_names[int(bg)]
        if bg not in self.leaf_names:
            raise ValueError(f'background {bg!r} is not one of the leaves '
                             f'{list(self.leaf_names)}')
        self.background_name: str = bg
        self.background_leaf: int = self.leaf_names.index(bg)

        # Walk the tree: nodes per level in declaration order.
        nodes: List[List[str]] = [[] for _ in self.level_names]
        parent_of: Dict[str, str] = {}
        leaf_path: Dict[str, List[str]] = {}
        self._walk(cfg['tree'], 0, [], nodes, parent_of, leaf_path)
        n_levels = len(self.level_names)

        leaf_set = set(self.leaf_names) - {bg}
        if bg in leaf_path:
            raise ValueError(f'background {bg!r} must not appear in the tree; '
                             'it is class 0 of every level')
        missing = [n for n in self.leaf_names if n in leaf_set
                   and n not in leaf_path]
        if missing:
            raise ValueError(f'leaves missing from the tree: {missing}; every '
                             'non-background leaf must appear exactly once')
        unknown_leaves = [n for n in nodes[-1] if n not in leaf_set]
        if unknown_leaves:
            raise ValueError(
                f'the tree names leaves that are not in `leaves`: '
                f'{unknown_leaves} (known leaves: {list(self.leaf_names)})')
        if len(nodes[-1]) != len(leaf_set):  # pragma: no cover - defensive
            raise ValueError('inconsistent tree')
        inner = [n for lvl in nodes[:-1] for n in lvl]
        clash = sorted(set(inner) & (set(self.leaf_names)))
        if clash or len(set(inner)) != len(inner):
            raise ValueError('node names must be unique across the tree and '
                             f'distinct from leaf names; clashes: '
                             f'{clash or sorted(set(x for x in inner if inner.count(x) > 1))}')

        # Class names per level: background first at coarse levels; the leaf
        # level keeps dataset ids.
        self._classes: List[Tuple[str, ...]] = []
        for k in range(n_levels - 1):
            self._classes.append((bg, ) + tuple(nodes[k]))
        self._classes.append(self.leaf_names)

        # Lookup tables: leaf id -> class index at each level.
        n_leaves = len(self.leaf_names)
        luts = np.zeros((n_levels, n_leaves), dtype=np.int64)
        for leaf_id, name in enumerate(self.leaf_names):
            if name == bg:
                luts[:, leaf_id] = 0
                luts[-1, leaf_id] = leaf_id
                continue
            path = leaf_path[name]  # names from level 0 to the leaf
            for k in range(n_levels - 1):
                luts[k, leaf_id] = self._classes[k].index(path[k])
            luts[-1, leaf_id] = leaf_id
        self._luts = luts
        luts.setflags(write=False)

        # parent tables: class at level k -> class at level k-1
        self._parents: List[Optional[np.ndarray]] = [None]
        for k in range(1, n_levels):
            par = np.zeros(len(self._classes[k]), dtype=np.int64)
            for c in range(len(self._classes[k])):
                leaves_c = np.nonzero(luts[k] == c)[0]
                par[c] = luts[k - 1, leaves_c[0]]
            par.setflags(write=False)
            self._parents.append(par)

        self._palettes = self._build_palettes(cfg.get('palette') or {})
        self._torch_cache: Dict[Tuple[int, str], torch.Tensor] = {}

    # ------------------------------------------------------------------ parse
    @staticmethod
    def _parse_leaves(leaves) -> Tuple[str, ...]:
        if isinstance(leaves, dict):
            ids = list(leaves.keys())
            for i in ids:
                if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
                    raise ValueError(f'leaf ids must be integers, got {i!r}')
            ids_sorted = sorted(int(i) for i in ids)
            if ids_sorted != list(range(len(ids_sorted))):
                raise ValueError(
                    f'leaf ids must be exactly 0..{len(ids_sorted) - 1} '
                    f'(label maps index classes directly), got {ids_sorted}')
            names = tuple(leaves[i] for i in sorted(leaves, key=int))
        else:
            names = _as_tuple_of_str(leaves, 'leaves')
        for n in names:
            if not isinstance(n, str) or not n:
                raise ValueError(f'leaf names must be non-empty strings, got '
                                 f'{n!r}')
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f'duplicate leaf names {dup}')
        if len(names) > IGNORE_INDEX:
            raise ValueError(f'at most {IGNORE_INDEX} leaves are supported')
        return names

    def _walk(self, node, depth, path, nodes, parent_of, leaf_path):
        n_levels = len(self.level_names)
        if depth == n_levels - 1:
            # expect a sequence of leaf names (or ids)
            if isinstance(node, dict) or isinstance(node, str) or \
                    not isinstance(node, Sequence):
                raise ValueError(
                    f'tree too deep under {"/".join(path) or "<root>"}: at '
                    f'level {self.level_names[depth]!r} expected a list of '
                    f'leaf names, got {type(node).__name__}; the tree must '
                    f'have exactly {n_levels} levels {self.level_names}')
            for leaf in node:
                name = self._leaf_name(leaf, path)
                if name in leaf_path:
                    raise ValueError(
                        f'leaf {name!r} appears twice in the tree: under '
                        f'{"/".join(leaf_path[name][:-1])} and '
                        f'{"/".join(path)}; a leaf has exactly one parent')
                leaf_path[name] = list(path) + [name]
                parent_of[name] = path[-1] if path else None
                nodes[depth].append(name)
            return
        if not isinstance(node, dict):
            raise ValueError(
                f'tree too shallow under {"/".join(path) or "<root>"}: at '
                f'level {self.level_names[depth]!r} expected a dict of nodes, '
                f'got {type(node).__name__}; all leaves must sit at depth '
                f'{n_levels} ({self.level_names})')
        if not node:
            raise ValueError(f'empty node under {"/".join(path) or "<root>"}')
        for name, child in node.items():
            if not isinstance(name, str) or not name:
                raise ValueError(f'node names must be strings, got {name!r}')
            if name in nodes[depth]:
                raise ValueError(f'duplicate node {name!r} at level '
                                 f'{self.level_names[depth]!r}')
            nodes[depth].append(name)
            parent_of[name] = path[-1] if path else None
            self._walk(child, depth + 1, path + [name], nodes, parent_of,
                       leaf_path)

    def _leaf_name(self, leaf, path) -> str:
        if isinstance(leaf, (int, np.integer)) and not isinstance(leaf, bool):
            if not 0 <= int(leaf) < len(self.leaf_names):
                raise ValueError(f'unknown leaf id {leaf} under '
                                 f'{"/".join(path)} (leaf ids are 0..'
                                 f'{len(self.leaf_names) - 1})')
            return self.leaf_names[int(leaf)]
        if leaf not in self.leaf_names:
            raise ValueError(f'unknown leaf {leaf!r} under {"/".join(path)} '
                             f'(known leaves: {list(self.leaf_names)})')
        return leaf

    def _build_palettes(self, palette: dict) -> List[List[List[int]]]:
        for k, v in palette.items():
            if len(v) != 3 or not all(0 <= int(c) <= 255 for c in v):
                raise ValueError(f'palette colour for {k!r} must be 3 values '
                                 f'in 0..255, got {v!r}')
        known = {n for names in self._classes for n in names}
        bad = sorted(set(palette) - known)
        if bad:
            raise ValueError(f'palette names unknown nodes {bad}')
        out = []
        auto = 0
        for names in self._classes:
            pal = []
            for n in names:
                if n in palette:
                    pal.append([int(c) for c in palette[n]])
                elif n == self.background_name:
                    pal.append([0, 0, 0])
                else:
                    pal.append(list(_AUTO_PALETTE[auto % len(_AUTO_PALETTE)]))
                    auto += 1
            out.append(pal)
        return out

    # ------------------------------------------------------------ properties
    @classmethod
    def build(cls, cfg: Union[dict, 'ClassHierarchy', None]
              ) -> 'ClassHierarchy':
        """Return ``cfg`` if it already is a hierarchy, else build one.

        Args:
            cfg (dict | str | ClassHierarchy | None): The tree: a dict, a
                preset name from :data:`PRESETS` (``'pascal_part'``,
                ``'pascal_person_part'``), or a hierarchy. ``None`` gives the
                Pascal-part tree.

        Returns:
            ClassHierarchy: The hierarchy.
        """
        if cfg is None:
            cfg = 'pascal_part'
        if isinstance(cfg, ClassHierarchy):
            return cfg
        if isinstance(cfg, str):
            if cfg not in PRESETS:
                raise ValueError(f'unknown hierarchy preset {cfg!r}; presets: '
                                 f'{sorted(PRESETS)} (or pass a dict)')
            cfg = PRESETS[cfg]
        return cls(dict(cfg))

    @property
    def num_levels(self) -> int:
        """int: Number of levels (coarse to fine)."""
        return len(self.level_names)

    @property
    def leaf_level(self) -> int:
        """int: Index of the finest level (its ids are the leaf ids)."""
        return len(self.level_names) - 1

    @property
    def num_leaves(self) -> int:
        """int: Number of leaf classes, background included."""
        return len(self.leaf_names)

    @property
    def num_classes(self) -> List[int]:
        """list[int]: Number of classes per level, background included."""
        return [len(c) for c in self._classes]

    def level_index(self, level: Union[int, str]) -> int:
        """Normalise a level given by index (negative allowed) or by name.

        Args:
            level (int | str): Level index or name.

        Returns:
            int: Level index in ``0 .. num_levels - 1``.
        """
        if isinstance(level, str):
            if level not in self.level_names:
                raise ValueError(f'unknown level {level!r}; levels are '
                                 f'{list(self.level_names)}')
            return self.level_names.index(level)
        lvl = int(level)
        if lvl < 0:
            lvl += self.num_levels
        if not 0 <= lvl < self.num_levels:
            raise ValueError(f'level {level} out of range for '
                             f'{self.num_levels} levels')
        return lvl

    def classes(self, level: Union[int, str]) -> Tuple[str, ...]:
        """Class names of one level, in label-id order.

        Args:
            level (int | str): Level index or name.

        Returns:
            tuple[str]: Class names; index = label id at that level.
        """
        return self._classes[self.level_index(level)]

    def palette(self, level: Union[int, str]) -> List[List[int]]:
        """RGB palette of one level, one colour per class.

        Args:
            level (int | str): Level index or name.

        Returns:
            list[list[int]]: ``[[r, g, b], ...]``.
        """
        return [list(c) for c in self._palettes[self.level_index(level)]]

    def background_index(self, level: Union[int, str]) -> int:
        """Label id of the background class at one level.

        Args:
            level (int | str): Level index or name.

        Returns:
            int: 0 at coarse levels, the dataset's background id at the leaf
            level.
        """
        lvl = self.level_index(level)
        return self.background_leaf if lvl == self.leaf_level else 0

    def foreground_indices(self, level: Union[int, str]) -> List[int]:
        """Label ids of one level without its background.

        Args:
            level (int | str): Level index or name.

        Returns:
            list[int]: Ids of the non-background classes.
        """
        lvl = self.level_index(level)
        bg = self.background_index(lvl)
        return [i for i in range(self.num_classes[lvl]) if i != bg]

    def lut(self, level: Union[int, str]) -> np.ndarray:
        """Leaf id -> class id at ``level`` (read-only int64 array).

        Args:
            level (int | str): Level index or name.

        Returns:
            np.ndarray: Shape ``(num_leaves,)``.
        """
        return self._luts[self.level_index(level)]

    @property
    def leaf_paths(self) -> np.ndarray:
        """np.ndarray: ``(num_leaves, num_levels)`` class id of every leaf's
        ancestor (or itself) at every level."""
        return self._luts.T.copy()

    def parents(self, level: Union[int, str]) -> np.ndarray:
        """Class at ``level`` -> its parent class at ``level - 1``.

        Args:
            level (int | str): Level index or name, not the root level.

        Returns:
            np.ndarray: Shape ``(num_classes[level],)``.
        """
        lvl = self.level_index(level)
        if lvl == 0:
            raise ValueError('the coarsest level has no parent level')
        return self._parents[lvl]

    def lut_tensor(self, level: Union[int, str], device=None,
                   with_ignore: bool = True) -> torch.Tensor:
        """Torch lookup table for :meth:`to_level`, cached per device.

        Args:
            level (int | str): Level index or name.
            device (torch.device, optional): Target device.
            with_ignore (bool): If True the table has 256 entries, ``255``
                maps to ``255`` and every other id outside the tree maps to
                ``-1``.

        Returns:
            torch.Tensor: int64 lookup table.
        """
        lvl = self.level_index(level)
        device = torch.device(device) if device is not None else \
            torch.device('cpu')
        key = (lvl, str(device), with_ignore)
        t = self._torch_cache.get(key)
        if t is None:
            t = torch.from_numpy(self._lut256(lvl) if with_ignore else
                                 self._luts[lvl].copy()).to(device)
            self._torch_cache[key] = t
        return t

    def _lut256(self, lvl: int) -> np.ndarray:
        table = np.full(IGNORE_INDEX + 1, -1, dtype=np.int64)
        table[:self.num_leaves] = self._luts[lvl]
        table[IGNORE_INDEX] = IGNORE_INDEX
        return table

    # ----------------------------------------------------------- conversion
    def to_level(self, label_map, level: Union[int, str],
                 check: bool = True):
        """Convert a leaf label map to another level's label map.

        One table gather, no per-class loops. ``255`` (ignore) stays ``255``.

        Args:
            label_map (np.ndarray | torch.Tensor): Integer leaf labels of any
                shape, on any device.
            level (int | str): Target level index or name.
            check (bool): Raise on values that are neither leaf ids nor 255.
                With ``check=False`` such values become 255 (ignored).

        Returns:
            np.ndarray | torch.Tensor: Same type, shape and device; numpy
            output keeps the input's dtype, torch output is int64.

        Raises:
            ValueError: If ``check`` and the map holds values outside the
                tree.
            TypeError: If the map is not an integer array.
        """
        lvl = self.level_index(level)
        if isinstance(label_map, torch.Tensor):
            if label_map.dtype.is_floating_point or label_map.dtype in (
                    torch.complex64, torch.complex128, torch.bool):
                raise TypeError('label maps must be integer tensors, got '
                                f'{label_map.dtype}')
            lm = label_map.long()
            oob = (lm < 0) | (lm > IGNORE_INDEX)
            table = self.lut_tensor(lvl, lm.device)
            out = table[lm.clamp(0, IGNORE_INDEX)]
            bad = (out < 0) | oob
            if check:
                if bool(bad.any()):
                    vals = torch.unique(label_map[bad]).tolist()[:10]
                    raise ValueError(self._bad_values_msg(vals))
            else:
                out = out.masked_fill(bad, IGNORE_INDEX)
            return out
        arr = np.asarray(label_map)
        if not np.issubdtype(arr.dtype, np.integer):
            raise TypeError('label maps must be integer arrays, got '
                            f'{arr.dtype}')
        table = self._lut256(lvl)
        if arr.dtype == np.uint8:
            out = table[arr]
            bad = out < 0
        else:
            a = arr.astype(np.int64, copy=False)
            oob = (a < 0) | (a > IGNORE_INDEX)
            out = table[np.clip(a, 0, IGNORE_INDEX)]
            bad = (out < 0) | oob
        if bad.any():
            if check:
                raise ValueError(self._bad_values_msg(
                    np.unique(arr[bad]).tolist()[:10]))
            out[bad] = IGNORE_INDEX
        return out.astype(arr.dtype, copy=False) if arr.dtype != np.int64 \
            else out

    def invalid_values(self, label_map) -> List[int]:
        """Values in a leaf label map that are neither leaf ids nor 255.

        Args:
            label_map (np.ndarray | torch.Tensor): Integer labels.

        Returns:
            list[int]: Sorted distinct invalid values (empty when valid).
        """
        if isinstance(label_map, torch.Tensor):
            vals = torch.unique(label_map).tolist()
        else:
            vals = np.unique(np.asarray(label_map)).tolist()
        return [v for v in vals
                if not (0 <= v < self.num_leaves or v == IGNORE_INDEX)]

    def _bad_values_msg(self, vals) -> str:
        return (f'label values {vals} are outside the tree: valid leaf ids '
                f'are 0..{self.num_leaves - 1} ({", ".join(self.leaf_names)})'
                f' and {IGNORE_INDEX} (ignore). Check that the dataset uses '
                'the hierarchy (id order) it was made for.')

    def all_levels(self, label_map, check: bool = True) -> list:
        """Convert a leaf label map to every level.

        Args:
            label_map (np.ndarray | torch.Tensor): Leaf labels.
            check (bool): See :meth:`to_level`.

        Returns:
            list: One label map per level, coarse to fine.
        """
        return [self.to_level(label_map, k, check=check)
                for k in range(self.num_levels)]

    def is_consistent(self, level_maps: Sequence) -> Union[np.ndarray,
                                                            torch.Tensor]:
        """Per-pixel check that per-level predictions agree with the tree.

        A pixel is consistent when, for every level ``k > 0``, the parent of
        its level-``k`` class is its level-``k-1`` class.

        Args:
            level_maps (Sequence[np.ndarray | torch.Tensor]): One label map
                per level, coarse to fine, same shape.

        Returns:
            np.ndarray | torch.Tensor: Boolean map, True where consistent.
        """
        if len(level_maps) != self.num_levels:
            raise ValueError(f'expected {self.num_levels} level maps, got '
                             f'{len(level_maps)}')
        first = level_maps[0]
        if isinstance(first, torch.Tensor):
            ok = torch.ones_like(first, dtype=torch.bool)
            for k in range(1, self.num_levels):
                par = torch.from_numpy(self._parents[k].copy()).to(
                    first.device)
                ok &= par[level_maps[k].long()] == level_maps[k - 1].long()
            return ok
        ok = np.ones(np.shape(first), dtype=bool)
        for k in range(1, self.num_levels):
            ok &= self._parents[k][np.asarray(level_maps[k])] == \
                np.asarray(level_maps[k - 1])
        return ok

    def field(self, level: Union[int, str], prefix: str = 'pred_sem_seg'
              ) -> str:
        """Name of the ``SegDataSample`` field holding one level's map.

        The leaf level uses mmseg's own fields (``pred_sem_seg``,
        ``gt_sem_seg``, ``seg_logits``); coarser levels append the level name
        (``pred_sem_seg_body``, ``seg_logits_half``). The segmentor, the TTA
        model, the metric and the visualizer all name fields through here.

        Args:
            level (int | str): Level index or name.
            prefix (str): ``'pred_sem_seg'``, ``'gt_sem_seg'`` or
                ``'seg_logits'``.

        Returns:
            str: The field name.
        """
        lvl = self.level_index(level)
        if lvl == self.leaf_level:
            return prefix
        return f'{prefix}_{self.level_names[lvl]}'

    # ---------------------------------------------------------- serialise
    def to_dict(self) -> dict:
        """The plain dict this hierarchy was built from (a deep copy).

        Returns:
            dict: Suitable for configs and dataset ``metainfo``.
        """
        return copy.deepcopy(self._cfg)

    def metainfo(self, level: Union[int, str, None] = None) -> dict:
        """mmseg-style ``metainfo`` for one level (default: the leaf level).

        Args:
            level (int | str, optional): Level; defaults to the leaf level.

        Returns:
            dict: ``classes``, ``palette`` and the ``hierarchy`` dict.
        """
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
        parts = ', '.join(f'{n}={len(c)}' for n, c in
                          zip(self.level_names, self._classes))
        return f'ClassHierarchy({parts})'

    def __getstate__(self):
        return {'cfg': self._cfg}

    def __setstate__(self, state):
        self.__init__(state['cfg'])


#: Ready-made trees, usable by name wherever a hierarchy is expected.
PRESETS = {
    'pascal_part': PASCAL_PART_HIERARCHY,
    'pascal_person_part': PASCAL_PERSON_PART_HIERARCHY,
}
