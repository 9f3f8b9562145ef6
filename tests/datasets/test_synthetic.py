"""The synthetic generator: layout, determinism, statistics, loading."""
import hashlib
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmhierseg import ClassHierarchy
from mmhierseg.datasets import PascalPartDataset
from mmhierseg.testing.synthetic import make_synthetic_dataset, render_sample


@pytest.fixture(scope='module')
def synthetic_root(tmp_path_factory):
    """What the generator writes and returns (10 train, 4 val), read-only;
    the tests that only need a synthetic set use ``tiny_data``."""
    root = tmp_path_factory.mktemp('synthetic') / 'Pascal-part'
    info = make_synthetic_dataset(str(root), num_train=10, num_val=4, seed=3)
    return root, info


def _digest(folder):
    h = hashlib.sha256()
    for f in sorted(os.listdir(folder)):
        h.update(f.encode())
        with open(osp.join(folder, f), 'rb') as fh:
            h.update(fh.read())
    return h.hexdigest()


def test_layout_files_and_split_quirks(synthetic_root):
    root, info = synthetic_root
    ids = [f'synth_{i:06d}' for i in range(14)]
    assert sorted(os.listdir(root)) == [
        'JPEGImages', 'classes.txt', 'gt_masks', 'priors', 'synthetic.json',
        'train_id.txt', 'val_id.txt'
    ]
    with open(root / 'synthetic.json') as f:  # the generator's settings
        assert json.load(f)['num_train'] == info['num_train']
    assert sorted(os.listdir(root / 'JPEGImages')) == \
        [i + '.jpg' for i in ids]
    assert sorted(os.listdir(root / 'gt_masks')) == [i + '.npy' for i in ids]
    assert (root / 'train_id.txt').read_text() == \
        ''.join(i + '\n' for i in ids[:10])
    # like the real release: no trailing newline
    assert (root / 'val_id.txt').read_text() == '\n'.join(ids[10:])
    assert (root / 'classes.txt').read_text().splitlines()[:2] == \
        ['0 background', '1 low_hand']
    for i in ids:
        m = np.load(root / 'gt_masks' / f'{i}.npy')
        img = cv2.imread(str(root / 'JPEGImages' / f'{i}.jpg'),
                         cv2.IMREAD_UNCHANGED)
        assert m.dtype == np.uint8 and m.ndim == 2
        assert img.shape[:2] == m.shape
        assert 120 <= min(m.shape) and max(m.shape) <= 500
        assert m.max() <= 6
    assert info['num_train'] == 10 and info['num_val'] == 4
    assert sum(info['pixel_counts']) == sum(
        np.load(root / 'gt_masks' / f'{i}.npy').size for i in ids)
    assert abs(sum(info['pixel_shares'].values()) - 1.0) < 1e-9


def test_loads_through_pascal_part_dataset(synthetic_root):
    root, _ = synthetic_root
    for split, n in (('train_id.txt', 10), ('val_id.txt', 4)):
        ds = PascalPartDataset(
            data_root=str(root), ann_file=split, hierarchy='pascal_part',
            pipeline=[dict(type='LoadHierImageFromFile'),
                      dict(type='LoadHierAnnotations'),
                      dict(type='RandomFlip', prob=1.0),
                      dict(type='PackSegInputs')])
        assert len(ds) == n
        for k in range(n):
            out = ds[k]
            path = out['data_samples'].seg_map_path
            expected = np.load(path)[:, ::-1]
            np.testing.assert_array_equal(
                out['data_samples'].gt_sem_seg.data[0].numpy(), expected)
            assert out['inputs'].shape[0] == 3


def test_deterministic_by_seed(tmp_path):
    a, b, c = tmp_path / 'a', tmp_path / 'b', tmp_path / 'c'
    make_synthetic_dataset(str(a), num_train=4, num_val=2, seed=11)
    make_synthetic_dataset(str(b), num_train=4, num_val=2, seed=11)
    make_synthetic_dataset(str(c), num_train=4, num_val=2, seed=12)
    assert _digest(a / 'gt_masks') == _digest(b / 'gt_masks')
    assert _digest(a / 'JPEGImages') == _digest(b / 'JPEGImages')
    assert _digest(a / 'gt_masks') != _digest(c / 'gt_masks')
    # image i does not depend on how many images are made
    d = tmp_path / 'd'
    make_synthetic_dataset(str(d), num_train=2, num_val=0, seed=11)
    for i in range(2):
        f = f'synth_{i:06d}.npy'
        assert (d / 'gt_masks' / f).read_bytes() == \
            (a / 'gt_masks' / f).read_bytes()


def test_hierarchy_changes_ids_not_geometry():
    pp = ClassHierarchy.build('pascal_part')
    ppp = ClassHierarchy.build('pascal_person_part')
    for i in range(3):
        _, la, _ = render_sample(np.random.default_rng([5, i]), pp)
        _, lb, _ = render_sample(np.random.default_rng([5, i]), ppp)
        names_a = np.array(pp.leaf_names)[la]
        names_b = np.array(ppp.leaf_names)[lb]
        assert (names_a == names_b).all()
        assert (la != 0).any()


def test_statistics_over_many_samples():
    tree = ClassHierarchy.build('pascal_part')
    lower = [tree.leaf_names.index(n) for n in ('up_leg', 'low_leg')]
    counts = np.zeros(tree.num_leaves)
    no_lower = grey = 0
    sides = []
    people = set()
    for i in range(60):
        img, label, info = render_sample(np.random.default_rng([0, i]),
                                         'pascal_part')
        c = np.bincount(label.ravel(), minlength=tree.num_leaves)
        counts += c
        no_lower += int(c[lower].sum() == 0)
        grey += int(img.ndim == 2)
        sides += list(label.shape)
        people.add(info['num_people'])
        if img.ndim == 3:
            assert img.shape[2] == 3
        assert img.shape[:2] == label.shape
    shares = counts / counts.sum()
    assert 0.68 < shares[0] < 0.88, shares  # background
    assert (shares[1:] > 0.004).all(), shares  # every part appears
    assert 0.1 <= no_lower / 60 <= 0.45
    assert 1 <= grey <= 15
    assert min(sides) >= 120 and max(sides) <= 500
    assert people == {1, 2, 3}


def test_masks_match_exactly_what_is_drawn(monkeypatch):
    """On a flat magic-colour background (no occluders), a pixel is painted
    by a person if and only if it is labelled as a person part."""
    from mmhierseg.testing import synthetic
    magic = np.array([1, 254, 3], np.uint8)
    monkeypatch.setattr(synthetic, 'background',
                        lambda rng, h, w: np.tile(magic, (h, w, 1)))
    monkeypatch.setattr(synthetic, 'occluder', lambda *a, **k: None)
    tree = ClassHierarchy.build('pascal_part')
    checked = 0
    for i in range(12):
        img, label, _, _, _ = synthetic._render_scene(
            np.random.default_rng([2, i]), tree, 0.22)
        painted = (img != magic).any(axis=2)
        np.testing.assert_array_equal(painted, label != 0)
        checked += int(painted.sum())
    assert checked > 10000


def test_cli_prints_shares(tmp_path, capsys, load_tool):
    tool = load_tool('make_synthetic_dataset')
    assert tool.main([str(tmp_path / 's'), '--num-train', '3',
                      '--num-val', '1', '--layout', 'person_part']) == 0
    out = capsys.readouterr().out
    assert 'wrote 4 images' in out and 'level 2 (part)' in out
    assert len(os.listdir(tmp_path / 's' / 'SegmentationPart')) == 4


@pytest.mark.slow
def test_generator_not_on_runtime_import_path():
    """``import mmhierseg`` does not load the demo/test generator."""
    import subprocess
    import sys
    code = ('import sys, mmhierseg; '
            'print(sorted(m for m in sys.modules if "synthetic" in m '
            'or m.startswith("mmhierseg.testing")))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == '[]'
