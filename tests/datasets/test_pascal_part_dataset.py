"""PascalPartDataset / PascalPersonPartDataset on real files, through real
mmseg pipelines, with exact label values."""
import os.path as osp
import pickle

import cv2
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mmcv.transforms import Compose
from mmengine.config import Config
from mmseg.registry import DATASETS

from mmhierseg import ClassHierarchy
from mmhierseg.datasets import (PascalPartDataset, PascalPersonPartDataset,
                                read_split_file)
from ._helpers import random_image, random_mask, write_pascal_part

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LOAD = [dict(type='LoadHierImageFromFile'), dict(type='LoadHierAnnotations')]


def _dataset(root, ann='train_id.txt', pipeline=None, **kw):
    if 'metainfo' not in kw:
        kw.setdefault('hierarchy', 'pascal_part')
    return PascalPartDataset(
        data_root=str(root), ann_file=ann,
        pipeline=LOAD if pipeline is None else pipeline, **kw)


# ----------------------------------------------------------- split files
def test_split_file_whitespace_blank_lines_no_trailing_newline(tmp_path):
    ids = ['2008_000001', '2008_000002', '2009_000003']
    masks = write_pascal_part(tmp_path, ids)
    (tmp_path / 'messy.txt').write_text(
        '\ufeff  2008_000001  \r\n\n\t2008_000002\n   \n2009_000003')
    ds = _dataset(tmp_path, ann='messy.txt')
    assert [ds.get_data_info(k)['img_id'] for k in range(len(ds))] == ids
    assert [osp.basename(ds.get_data_info(k)['seg_map_path'])
            for k in range(3)] == [i + '.npy' for i in ids]
    np.testing.assert_array_equal(ds[2]['gt_seg_map'], masks[ids[2]])


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids=st.lists(st.from_regex(r'[A-Za-z0-9_]{1,12}', fullmatch=True),
                    min_size=1, max_size=8),
       pads=st.lists(st.sampled_from(['', ' ', '\t', '  ']), min_size=16,
                     max_size=16),
       blank=st.lists(st.booleans(), min_size=8, max_size=8),
       trailing=st.booleans(), crlf=st.booleans())
def test_split_file_parsing_property(tmp_path, ids, pads, blank, trailing,
                                     crlf):
    nl = '\r\n' if crlf else '\n'
    lines = []
    for k, i in enumerate(ids):
        lines.append(pads[2 * k] + i + pads[2 * k + 1])
        if blank[k]:
            lines.append(pads[k])
    text = nl.join(lines) + (nl if trailing else '')
    path = tmp_path / 'split.txt'
    path.write_text(text, newline='')
    assert read_split_file(str(path)) == ids


def test_empty_split_names_the_file(tmp_path):
    write_pascal_part(tmp_path, ['a'])
    (tmp_path / 'val_id.txt').write_text('\n   \n\n')
    with pytest.raises(ValueError, match='val_id.txt.*empty split'):
        _dataset(tmp_path, ann='val_id.txt')


def test_missing_split_file_names_it(tmp_path):
    write_pascal_part(tmp_path, ['a'])
    with pytest.raises(FileNotFoundError, match='nope_id.txt'):
        _dataset(tmp_path, ann='nope_id.txt')


def test_split_line_with_two_tokens_is_rejected(tmp_path):
    write_pascal_part(tmp_path, ['a'])
    (tmp_path / 'bad.txt').write_text('a\n2008_000001 -1\n')
    with pytest.raises(ValueError, match=r'bad.txt, line 2'):
        _dataset(tmp_path, ann='bad.txt')


# ------------------------------------------------------- missing files
@pytest.mark.parametrize('what', ['JPEGImages/b.jpg', 'gt_masks/b.npy'])
def test_missing_file_detected_at_construction(tmp_path, what):
    write_pascal_part(tmp_path, ['a', 'b', 'c'])
    (tmp_path / what).unlink()
    with pytest.raises(FileNotFoundError) as exc:
        _dataset(tmp_path)
    msg = str(exc.value)
    assert str(tmp_path / what) in msg
    assert 'id b' in msg and 'remove these ids from' in msg
    assert 'train_id.txt' in msg


def test_missing_file_check_is_lazy_and_optional(tmp_path):
    write_pascal_part(tmp_path, ['a', 'b'])
    (tmp_path / 'gt_masks' / 'b.npy').unlink()
    ds = _dataset(tmp_path, lazy_init=True)  # nothing read yet
    assert not ds._fully_initialized
    with pytest.raises(FileNotFoundError, match='b.npy'):
        ds.full_init()
    ds = _dataset(tmp_path, check_files=False)
    assert len(ds) == 2
    assert ds[0]['gt_seg_map'].shape == (40, 56)
    with pytest.raises(FileNotFoundError, match=r'gt_masks[/\\]b.npy'):
        ds[1]


# ------------------------------------------------------------ metainfo
def test_metainfo_from_hierarchy_and_lazy_init(tmp_path):
    write_pascal_part(tmp_path, ['a', 'b'])
    ds = _dataset(tmp_path, lazy_init=True)
    tree = ClassHierarchy.build('pascal_part')
    meta = ds.metainfo
    assert list(meta['classes']) == list(tree.leaf_names)
    assert meta['palette'] == tree.palette(-1)
    assert ClassHierarchy.build(meta['hierarchy']) == tree
    assert meta['reduce_zero_label'] is False
    assert meta['label_map'] is None
    assert len(ds) == 2  # full_init on demand
    # picklable (dataloader workers), hierarchy included
    clone = pickle.loads(pickle.dumps(ds))
    assert clone.hierarchy == tree
    np.testing.assert_array_equal(clone[1]['gt_seg_map'],
                                  ds[1]['gt_seg_map'])


def test_hierarchy_dict_changes_classes_not_code(tmp_path):
    ids = ['a', 'b']
    masks = write_pascal_part(tmp_path, ids)
    tree = dict(ClassHierarchy.build('pascal_person_part').to_dict())
    ds = _dataset(tmp_path, hierarchy=tree)
    assert ds.metainfo['classes'][1] == 'head'
    # ids are used as stored: no label_map remapping
    np.testing.assert_array_equal(ds[1]['gt_seg_map'], masks['b'])


def test_hierarchy_from_metainfo_and_conflicting_classes(tmp_path):
    write_pascal_part(tmp_path, ['a'])
    ds = _dataset(tmp_path, metainfo=dict(hierarchy='pascal_person_part'))
    assert ds.metainfo['classes'][1] == 'head'
    with pytest.raises(ValueError, match='differ from the hierarchy'):
        _dataset(tmp_path, hierarchy='pascal_part',
                 metainfo=dict(classes=('background', 'person')))
    with pytest.raises(ValueError, match='reduce_zero_label'):
        _dataset(tmp_path, reduce_zero_label=True)


def test_registered_and_buildable_by_name(tmp_path):
    write_pascal_part(tmp_path, ['a'])
    ds = DATASETS.build(
        dict(type='PascalPartDataset', data_root=str(tmp_path),
             hierarchy='pascal_part', ann_file='train_id.txt', pipeline=LOAD))
    assert isinstance(ds, PascalPartDataset)
    assert DATASETS.get('PascalPersonPartDataset') is PascalPersonPartDataset


def test_without_ann_file_uses_all_images(tmp_path):
    ids = ['x1', 'x2', 'x3']
    write_pascal_part(tmp_path, ids)
    ds = _dataset(tmp_path, ann='')
    assert sorted(ds.get_data_info(k)['img_id']
                  for k in range(len(ds))) == ids


# ------------------------------------------ exact values through pipelines
def test_exact_values_and_grayscale_image(tmp_path):
    ids = ['g1', 'c1']
    masks = write_pascal_part(tmp_path, ids, sizes=[(37, 61), (52, 44)])
    gray = random_image(np.random.default_rng(1), 37, 61, gray=True)
    cv2.imwrite(str(tmp_path / 'JPEGImages' / 'g1.jpg'), gray)
    assert cv2.imread(str(tmp_path / 'JPEGImages' / 'g1.jpg'),
                      cv2.IMREAD_UNCHANGED).ndim == 2
    ds = _dataset(tmp_path)
    for k, i in enumerate(ids):
        out = ds[k]
        assert out['img'].ndim == 3 and out['img'].shape[2] == 3
        assert out['gt_seg_map'].dtype == np.uint8
        np.testing.assert_array_equal(out['gt_seg_map'], masks[i])
        assert out['seg_fields'] == ['gt_seg_map']
        assert out['img_id'] == i
    g = ds[0]['img']
    assert np.array_equal(g[..., 0], g[..., 1]) and \
        np.array_equal(g[..., 1], g[..., 2])


def test_flip_and_exact_resize(tmp_path):
    masks = write_pascal_part(tmp_path, ['a'], sizes=[(30, 50)])
    m = masks['a']
    flip = Compose(LOAD + [dict(type='RandomFlip', prob=1.0,
                                direction='horizontal')])
    ds = _dataset(tmp_path)
    out = flip(ds.get_data_info(0))
    np.testing.assert_array_equal(out['gt_seg_map'], m[:, ::-1])
    assert out['flip'] is True
    resize = Compose(LOAD + [dict(type='Resize', scale_factor=2.0,
                                  keep_ratio=True)])
    out = resize(ds.get_data_info(0))
    np.testing.assert_array_equal(out['gt_seg_map'],
                                  np.repeat(np.repeat(m, 2, 0), 2, 1))
    assert out['img'].shape[:2] == (60, 100)


def test_full_mmseg_train_pipeline(tmp_path):
    ids = ['a', 'b', 'c']
    masks = write_pascal_part(tmp_path, ids,
                              sizes=[(120, 160), (150, 90), (200, 200)])
    pipeline = LOAD + [
        dict(type='RandomResize', scale=(320, 96), ratio_range=(1.0, 2.0),
             keep_ratio=True),
        dict(type='RandomCrop', crop_size=(64, 64), cat_max_ratio=0.75),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PhotoMetricDistortion'),
        dict(type='PackSegInputs')
    ]
    ds = _dataset(tmp_path, pipeline=pipeline)
    for k, i in enumerate(ids):
        out = ds[k]
        gt = out['data_samples'].gt_sem_seg.data
        assert out['inputs'].shape == (3, 64, 64)
        assert out['inputs'].dtype == torch.uint8
        assert gt.shape == (1, 64, 64) and gt.dtype == torch.int64
        assert set(gt.unique().tolist()) <= set(np.unique(masks[i]).tolist())
        assert out['data_samples'].img_path.endswith(f'{i}.jpg')


def test_packed_val_sample_keeps_original_size(tmp_path):
    masks = write_pascal_part(tmp_path, ['a'], sizes=[(75, 100)])
    pipeline = [
        dict(type='LoadHierImageFromFile'),
        dict(type='Resize', scale=(200, 50), keep_ratio=True),
        dict(type='LoadHierAnnotations'),
        dict(type='PackSegInputs')
    ]
    out = _dataset(tmp_path, pipeline=pipeline, test_mode=True)[0]
    assert out['inputs'].shape[1:] == (50, 67)
    np.testing.assert_array_equal(
        out['data_samples'].gt_sem_seg.data[0].numpy(), masks['a'])


# ------------------------------------------------------ Person-Part PNGs
def _write_person_part(root):
    from PIL import Image
    (root / 'JPEGImages').mkdir(parents=True)
    (root / 'SegmentationPart').mkdir()
    rng = np.random.default_rng(7)
    masks = {}
    for k, (i, mode) in enumerate([('p1', 'L'), ('p2', 'P'), ('p3', 'L')]):
        h, w = 33 + 4 * k, 47 + 2 * k
        cv2.imwrite(str(root / 'JPEGImages' / f'{i}.jpg'),
                    random_image(rng, h, w))
        m = random_mask(rng, h, w)
        if k == 2:
            m[:3, :3] = 255  # ignore pixels
        pil = Image.fromarray(m, mode='L')
        if mode == 'P':
            pil = pil.convert('P')
            pil.putpalette(sum(([c * 37 % 256, c * 91 % 256, c * 13 % 256]
                                for c in range(256)), []))
        pil.save(root / 'SegmentationPart' / f'{i}.png')
        masks[i] = m
    (root / 'train_id.txt').write_text('p1\np2\n')
    (root / 'val_id.txt').write_text('p3')
    return masks


def test_person_part_png_layout(tmp_path):
    masks = _write_person_part(tmp_path)
    ds = PascalPersonPartDataset(
        data_root=str(tmp_path), ann_file='train_id.txt',
        hierarchy='pascal_person_part',
        pipeline=LOAD + [dict(type='RandomFlip', prob=1.0)])
    assert list(ds.metainfo['classes']) == [
        'background', 'head', 'torso', 'up_hand', 'low_hand', 'up_leg',
        'low_leg'
    ]
    assert ds.hierarchy == ClassHierarchy.build('pascal_person_part')
    for k, i in enumerate(['p1', 'p2']):
        out = ds[k]
        np.testing.assert_array_equal(out['gt_seg_map'], masks[i][:, ::-1])
    # the same layout through the base class with explicit arguments
    ds2 = PascalPartDataset(
        data_root=str(tmp_path), ann_file='val_id.txt',
        hierarchy='pascal_person_part', seg_map_suffix='.png',
        data_prefix=dict(img_path='JPEGImages',
                         seg_map_path='SegmentationPart'),
        pipeline=LOAD)
    out = ds2[0]
    np.testing.assert_array_equal(out['gt_seg_map'], masks['p3'])
    assert (out['gt_seg_map'][:3, :3] == 255).all()


@pytest.mark.parametrize('cls', [PascalPartDataset, PascalPersonPartDataset])
def test_no_silent_default_tree(tmp_path, cls):
    write_pascal_part(tmp_path, ['a'])
    with pytest.raises(ValueError, match=r"needs the label tree.*hierarchy="):
        cls(data_root=str(tmp_path), ann_file='train_id.txt', pipeline=LOAD)


def test_pipelines_get_tree_and_orientation_from_the_dataset(tmp_path):
    write_pascal_part(tmp_path, ['a'])
    ds = _dataset(tmp_path, hierarchy='pascal_person_part',
                  image_orientation='exif')
    info = ds.get_data_info(0)
    assert info['hierarchy'] == ClassHierarchy.build('pascal_person_part')
    assert info['image_orientation'] == 'exif'
    with pytest.raises(ValueError, match="image_orientation='sideways'"):
        _dataset(tmp_path, image_orientation='sideways')


# ------------------------------------------------------------- configs
@pytest.mark.parametrize('name,layout', [
    ('pascal_part', 'pascal_part'),
    ('synthetic_pascal_part', 'pascal_part'),
    ('pascal_person_part', 'person_part'),
])
def test_dataset_configs_build_and_run(tmp_path, tiny_data, name, layout):
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', '_base_', 'datasets', name + '.py'))
    assert cfg.val_evaluator == dict(type='HierarchicalIoUMetric')
    assert cfg.test_evaluator == cfg.val_evaluator
    assert cfg.train_dataloader.dataset.hierarchy == cfg.hierarchy
    types = [t['type'] for t in cfg.train_pipeline]
    assert types[2:] == ['RandomResize', 'RandomCrop', 'RandomFlip',
                         'PhotoMetricDistortion', 'PackSegInputs']
    if layout == 'pascal_part':
        root = tiny_data
    else:
        _write_person_part(tmp_path)
        root = str(tmp_path)
    crop = tuple(cfg.crop_size)
    for split in ('train', 'val'):
        ds_cfg = cfg[f'{split}_dataloader'].dataset
        ds_cfg.data_root = root
        ds = DATASETS.build(ds_cfg)
        out = ds[0]
        gt = out['data_samples'].gt_sem_seg.data
        if split == 'train':  # cropped (smaller images stay smaller)
            assert out['inputs'].shape[1] <= crop[0]
            assert out['inputs'].shape[2] <= crop[1]
            assert gt.shape[1:] == out['inputs'].shape[1:]
        else:  # annotations at the original size
            assert tuple(gt.shape[1:]) == tuple(out['data_samples'].ori_shape)
        assert gt.max() < 7 or gt.max() == 255
        assert ds.metainfo['classes'] == ClassHierarchy.build(
            cfg.hierarchy).leaf_names
