"""ClassHierarchy: validation, per-level classes and exhaustive mappings."""
import pickle

import numpy as np
import pytest
import torch

from mmhierseg.hierarchy import (IGNORE_INDEX, PASCAL_PART_HIERARCHY,
                                 PASCAL_PERSON_PART_HIERARCHY, PRESETS,
                                 ClassHierarchy)

# The trees written out by hand, independently of the code: for every
# leaf id, its (level-0, level-1) ancestor *names*.
PASCAL_PART_EXPECTED = {
    0: ('background', 'background', 'background'),
    1: ('body', 'upper_body', 'low_hand'),
    2: ('body', 'upper_body', 'torso'),
    3: ('body', 'lower_body', 'low_leg'),
    4: ('body', 'upper_body', 'head'),
    5: ('body', 'lower_body', 'up_leg'),
    6: ('body', 'upper_body', 'up_hand'),
}
PERSON_PART_EXPECTED = {
    0: ('background', 'background', 'background'),
    1: ('body', 'upper_body', 'head'),
    2: ('body', 'upper_body', 'torso'),
    3: ('body', 'upper_body', 'up_hand'),
    4: ('body', 'upper_body', 'low_hand'),
    5: ('body', 'lower_body', 'up_leg'),
    6: ('body', 'lower_body', 'low_leg'),
}


@pytest.mark.parametrize('cfg,expected', [
    (PASCAL_PART_HIERARCHY, PASCAL_PART_EXPECTED),
    (PASCAL_PERSON_PART_HIERARCHY, PERSON_PART_EXPECTED),
])
def test_presets_map_every_leaf_exhaustively(cfg, expected):
    h = ClassHierarchy(cfg)
    assert h.level_names == ('body', 'half', 'part')
    assert h.num_classes == [2, 3, 7]
    assert h.classes(0) == ('background', 'body')
    assert h.classes('half') == ('background', 'upper_body', 'lower_body')
    assert h.classes(-1) == tuple(expected[i][2] for i in range(7))
    for leaf_id, names in expected.items():
        for level in range(3):
            got = h.classes(level)[h.lut(level)[leaf_id]]
            assert got == names[level], (leaf_id, level)
    # every possible uint8 value through to_level: leaf ids map by the table,
    # 255 stays 255, anything else is refused
    for level in range(3):
        for v in range(256):
            arr = np.full((2, 3), v, np.uint8)
            if v in expected:
                name = expected[v][level]
                out = h.to_level(arr, level)
                assert out.dtype == np.uint8
                assert (out == h.classes(level).index(name)).all()
            elif v == IGNORE_INDEX:
                assert (h.to_level(arr, level) == 255).all()
            else:
                with pytest.raises(ValueError, match=str(v)):
                    h.to_level(arr, level)


def test_parents_and_paths_consistent_with_luts():
    h = ClassHierarchy.build('pascal_part')
    paths = h.leaf_paths
    assert paths.shape == (7, 3)
    for leaf in range(7):
        for k in range(1, 3):
            assert h.parents(k)[paths[leaf, k]] == paths[leaf, k - 1]
    with pytest.raises(ValueError):
        h.parents(0)


def test_torch_matches_numpy_any_dtype_and_ignore():
    h = ClassHierarchy.build('pascal_part')
    rng = np.random.default_rng(0)
    vals = np.array(list(range(7)) + [255])
    arr = vals[rng.integers(0, len(vals), size=(4, 17, 13))]
    for level in range(3):
        ref = h.to_level(arr.astype(np.uint8), level)
        for dt in (torch.uint8, torch.int32, torch.int64):
            t = torch.from_numpy(arr).to(dt)
            out = h.to_level(t, level)
            assert out.dtype == torch.int64
            assert out.device == t.device
            np.testing.assert_array_equal(out.numpy(), ref)
        np.testing.assert_array_equal(h.to_level(arr.astype(np.int64), level),
                                      ref)


def test_out_of_range_torch_and_negative_values():
    h = ClassHierarchy.build('pascal_part')
    t = torch.tensor([[0, 1, 7], [-1, 255, 300]])
    with pytest.raises(ValueError, match=r'\[-1, 7, 300\]'):
        h.to_level(t, 1)
    out = h.to_level(t, 1, check=False)
    assert out.tolist() == [[0, 1, 255], [255, 255, 255]]
    assert h.invalid_values(t) == [-1, 7, 300]
    with pytest.raises(TypeError):
        h.to_level(torch.zeros(2, 2), 0)
    with pytest.raises(TypeError):
        h.to_level(np.zeros((2, 2), np.float32), 0)


def test_is_consistent():
    h = ClassHierarchy.build('pascal_part')
    leaf = np.array([[0, 1, 3, 4]])
    maps = [h.to_level(leaf, k) for k in range(h.num_levels)]
    assert h.is_consistent(maps).all()
    bad = [maps[0], maps[1].copy(), maps[2]]
    bad[1][0, 1] = 2  # low_hand labelled lower_body
    np.testing.assert_array_equal(h.is_consistent(bad),
                                  [[True, False, True, True]])
    tmaps = [torch.from_numpy(m) for m in bad]
    assert h.is_consistent(tmaps).tolist() == [[True, False, True, True]]


def test_palettes_and_metainfo():
    h = ClassHierarchy.build('pascal_part')
    for level in range(3):
        pal = h.palette(level)
        assert len(pal) == h.num_classes[level]
        assert pal[h.background_index(level)] == [0, 0, 0]
        assert all(len(c) == 3 for c in pal)
    meta = h.metainfo()
    assert meta['classes'] == h.classes(2)
    assert ClassHierarchy(meta['hierarchy']) == h
    assert h.foreground_indices(1) == [1, 2]


def test_pickle_roundtrip_and_build():
    h = ClassHierarchy.build('pascal_person_part')
    h2 = pickle.loads(pickle.dumps(h))
    assert h2 == h
    assert ClassHierarchy.build(h) is h
    assert ClassHierarchy.build('pascal_part') == ClassHierarchy(
        PRESETS['pascal_part'])
    with pytest.raises(ValueError, match='unknown hierarchy preset'):
        ClassHierarchy.build('lip')


def _tree(**overrides):
    cfg = dict(levels=('a', 'b'), leaves=('bg', 'x', 'y', 'z'),
               background='bg', tree=dict(p=('x', 'y'), q=('z', )))
    cfg.update(overrides)
    return cfg


def test_custom_two_level_tree_with_non_zero_background():
    h = ClassHierarchy(_tree(leaves={0: 'x', 1: 'bg', 2: 'y', 3: 'z'}))
    assert h.background_leaf == 1
    assert h.classes(0) == ('bg', 'p', 'q')
    assert h.lut(0).tolist() == [1, 0, 1, 2]
    assert h.background_index(1) == 1 and h.background_index(0) == 0
    assert h.foreground_indices(1) == [0, 2, 3]


@pytest.mark.parametrize('overrides,msg', [
    (dict(tree=dict(p=('x', 'y'), q=('w', ))), "unknown leaf 'w' under q"),
    (dict(tree=dict(p=(1, 2), q=(3, 9))), "unknown leaf 'id 9'"),
    (dict(leaves=('bg', 'x', 'x', 'z')), 'duplicate leaf names'),
    (dict(leaves={0: 'bg', 1: 'x', 3: 'y', 4: 'z'}), 'exactly 0..3'),
    (dict(tree=dict(p=('x', 'y'), q=('z', 'x'))), 'appears twice'),
    (dict(tree=dict(p=('x', 'y'))), 'missing from the tree'),
    (dict(background=None), 'no background'),
    (dict(background='nope'), 'not one of the leaves'),
    (dict(tree=dict(p=('x', 'y'), q=('z', 'bg'))), 'must not appear'),
    (dict(tree=dict(p=dict(r=('x', )), q=('y', 'z'))), 'too deep'),
    (dict(levels=('a', 'b', 'c')), 'too shallow'),
    (dict(palette=dict(x=(0, 0, 300))), 'palette colour'),
    (dict(palette=dict(w=(0, 0, 0))), 'unknown nodes'),
    (dict(extra=1), 'unknown keys'),
])
def test_validation_errors(overrides, msg):
    with pytest.raises(ValueError, match=msg):
        ClassHierarchy(_tree(**overrides))


def test_missing_background_key():
    cfg = _tree()
    del cfg['background']
    with pytest.raises(ValueError, match='no background'):
        ClassHierarchy(cfg)


def test_field_names():
    h = ClassHierarchy.build('pascal_part')
    assert h.field(2) == 'pred_sem_seg'
    assert h.field('body') == 'pred_sem_seg_body'
    assert h.field(1, 'seg_logits') == 'seg_logits_half'
    assert h.field(-1, 'gt_sem_seg') == 'gt_sem_seg'


def test_no_silent_default_tree():
    with pytest.raises(ValueError, match='no label tree given'):
        ClassHierarchy.build(None)


def test_single_level_tree_and_empty_node():
    h = ClassHierarchy(dict(levels=('part', ), leaves=('bg', 'x', 'y'),
                            background='bg', tree=('x', 'y')))
    assert h.num_classes == [3] and h.leaf_level == 0
    assert h.is_consistent([np.array([0, 1, 2])]).all()
    with pytest.raises(ValueError, match='empty node under q'):
        ClassHierarchy(_tree(leaves=('bg', 'x', 'y'),
                             tree=dict(p=('x', 'y'), q=())))


def test_repr_names_levels_and_leaf_order():
    pp = repr(ClassHierarchy.build('pascal_part'))
    ppp = repr(ClassHierarchy.build('pascal_person_part'))
    assert 'body=2, half=3, part=7' in pp and pp != ppp
    assert "'low_hand', 'torso'" in pp


def test_config_dict_tree_is_stored_as_plain_containers():
    """A tree from a config (ConfigDict) pickles without mmengine classes,
    so checkpoints whose meta carries it load with weights_only=True."""
    from mmengine.config import ConfigDict
    h = ClassHierarchy(ConfigDict(_tree()))
    d = h.to_dict()
    assert type(d) is dict and type(d['tree']) is dict
    assert b'mmengine' not in pickle.dumps(d)


def test_equality_compares_the_grouping_not_only_the_names():
    a = ClassHierarchy(_tree())
    assert a == ClassHierarchy(_tree()) and a != 'not a tree'
    moved = ClassHierarchy(_tree(tree=dict(p=('x', ), q=('y', 'z'))))
    assert moved.classes(0) == a.classes(0)  # same names, other parents
    assert moved != a
