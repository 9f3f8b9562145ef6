"""Datasets labelled only down to a coarse level (mixed granularity): the
dataset's label level, the per-level maps of LoadHierAnnotations, packing,
mixing with ConcatDataset."""
import numpy as np
import pytest
import torch
from mmengine.dataset import ConcatDataset
from mmseg.registry import DATASETS

from mmhierseg import ClassHierarchy
from mmhierseg.datasets import InvalidLabelMapError
from mmhierseg.datasets.label_levels import (level_label_maps, level_lut,
                                             resolve_label_level)
from ._helpers import write_pascal_part

TREE = ClassHierarchy.build('pascal_part')
# leaves 0 bg, 1 low_hand, 2 torso, 3 low_leg, 4 head, 5 up_leg, 6 up_hand;
# half 0 bg, 1 upper, 2 lower; body 0 bg, 1 body (written out by hand)
HALF_TO_BODY = [0, 1, 1]
PIPELINE = [dict(type='LoadHierImageFromFile'),
            dict(type='LoadHierAnnotations'),
            dict(type='PackHierSegInputs')]


def _body_root(tmp_path, name='coco', ids=('p0', 'p1')):
    """A split whose masks hold body-level ids (0 background, 1 body)."""
    root = tmp_path / name
    masks = write_pascal_part(root, list(ids))
    for i, m in masks.items():
        body = (m > 0).astype(np.uint8)
        body[0, :4] = 255
        np.save(root / 'gt_masks' / f'{i}.npy', body)
        masks[i] = body
    return root, masks


def _dataset(root, pipeline=PIPELINE, **kw):
    return DATASETS.build(dict(type='PascalPartDataset', data_root=str(root),
                               ann_file='train_id.txt', hierarchy=TREE,
                               pipeline=pipeline, **kw))


def test_level_tables_follow_the_tree():
    assert level_lut(TREE, 1, 0).tolist() == HALF_TO_BODY
    assert level_lut(TREE, 2, 1).tolist() == TREE.lut(1).tolist()
    half = np.array([[0, 1], [2, 255]], np.uint8)
    body, same, part = level_label_maps(half, TREE, 1)
    assert body.tolist() == [[0, 1], [1, 255]]
    assert same.tolist() == half.tolist()
    assert (part == 255).all()
    assert resolve_label_level(TREE, 'body') == 0
    assert resolve_label_level(TREE, None) == 2
    with pytest.raises(ValueError, match="levels \\['body', 'half', 'part'"):
        resolve_label_level(TREE, 'person')


def test_body_level_dataset_packs_body_maps_and_ignores_finer_levels(
        tmp_path):
    root, masks = _body_root(tmp_path)
    ds = _dataset(root, label_level='body')
    assert ds.label_level == 0
    assert ds.get_data_info(0)['label_level'] == 0
    sample = ds[0]['data_samples']
    assert sample.metainfo['label_level'] == 0
    body = masks[ds.get_data_info(0)['img_id']]
    assert np.array_equal(sample.gt_sem_seg_body.data[0].numpy(), body)
    assert (sample.gt_sem_seg_half.data == 255).all()
    assert (sample.gt_sem_seg.data == 255).all()


def test_leaf_level_dataset_is_unchanged(tmp_path):
    root = tmp_path / 'parts'
    masks = write_pascal_part(root, ['a', 'b'])
    ds = _dataset(root)
    assert ds.label_level == TREE.leaf_level
    sample = ds[0]['data_samples']
    assert sample.metainfo['label_level'] == TREE.leaf_level
    assert 'gt_sem_seg_body' not in sample and 'gt_sem_seg_half' not in sample
    assert np.array_equal(sample.gt_sem_seg.data[0].numpy(), masks['a'])


def test_geometric_transforms_move_the_coarse_maps(tmp_path):
    root, masks = _body_root(tmp_path)
    pipe = PIPELINE[:2] + [dict(type='RandomFlip', prob=1.0),
                           PIPELINE[-1]]
    sample = _dataset(root, pipe, label_level='body')[0]['data_samples']
    body = masks[sample.metainfo['img_path'].split('/')[-1][:-4]]
    assert np.array_equal(sample.gt_sem_seg_body.data[0].numpy(),
                          body[:, ::-1])


def test_ids_outside_the_label_level_name_the_file_and_level(tmp_path):
    root, _ = _body_root(tmp_path)
    bad = np.load(root / 'gt_masks' / 'p1.npy')
    bad[5, 5] = 2  # not a body-level id (only 0, 1)
    np.save(root / 'gt_masks' / 'p1.npy', bad)
    with pytest.raises(InvalidLabelMapError) as e:
        _dataset(root, label_level='body')
    assert 'p1.npy' in str(e.value) and "'body'" in str(e.value)
    assert '0..1 (background, body)' in str(e.value)
    # the load-time check too (dataset checks off)
    ds = _dataset(root, label_level='body', check_masks=False)
    with pytest.raises(InvalidLabelMapError, match="p1.npy.*'body'"):
        ds[1]


def test_a_packer_that_drops_coarse_maps_is_refused(tmp_path):
    root, _ = _body_root(tmp_path)
    pipe = PIPELINE[:2] + [dict(type='PackSegInputs')]
    with pytest.raises(ValueError, match='PackHierSegInputs'):
        _dataset(root, pipe, label_level='body')
    # leaf-labelled datasets keep working with mmseg's packer
    parts = tmp_path / 'parts'
    write_pascal_part(parts, ['a'])
    assert len(_dataset(parts, pipe)) == 1


def test_concat_dataset_mixes_part_and_body_labelled_images(tmp_path):
    root, _ = _body_root(tmp_path)
    parts = tmp_path / 'parts'
    write_pascal_part(parts, ['a', 'b', 'c'])
    mixed = ConcatDataset([_dataset(parts), _dataset(root,
                                                     label_level='body')])
    assert len(mixed) == 5
    assert mixed.metainfo['classes'] == TREE.leaf_names
    levels = [mixed[i]['data_samples'].metainfo['label_level']
              for i in range(5)]
    assert levels == [2, 2, 2, 0, 0]
    # body-labelled samples: the leaf map is all ignore, the body map not
    body = mixed[3]['data_samples']
    assert (body.gt_sem_seg.data == 255).all()
    assert torch.isin(body.gt_sem_seg_body.data, torch.tensor([0, 1])).any()
