"""Pascal-Part .mat -> Pascal-part / Person-Part layouts, pixel by pixel."""

import cv2
import numpy as np
import pytest
import scipy.io as sio
from PIL import Image

from mmhierseg.datasets import PascalPartDataset, PascalPersonPartDataset
from mmhierseg.datasets.pascal_part_mat import (PERSON_PART_TO_LEAF,
                                                convert_pascal_part,
                                                load_pascal_part_mat,
                                                person_label_map)

H, W = 24, 32

# Ids written by hand from the published Pascal-part layout (independent of the code's tables).
PASCAL_PART_IDS = dict(background=0, low_hand=1, torso=2, low_leg=3, head=4,
                       up_leg=5, up_hand=6)
PERSON_PART_IDS = dict(background=0, head=1, torso=2, up_hand=3, low_hand=4,
                       up_leg=5, low_leg=6)
FINE_TO_CLASS = {
    **{n: 'head' for n in ('head', 'hair', 'leye', 'reye', 'lear', 'rear',
                           'lebrow', 'rebrow', 'nose', 'mouth')},
    'torso': 'torso', 'neck': 'torso', 'luarm': 'up_hand',
    'ruarm': 'up_hand', 'llarm': 'low_hand', 'rlarm': 'low_hand',
    'lhand': 'low_hand', 'rhand': 'low_hand', 'luleg': 'up_leg',
    'ruleg': 'up_leg', 'llleg': 'low_leg', 'rlleg': 'low_leg',
    'lfoot': 'low_leg', 'rfoot': 'low_leg'
}


def _box(y0, y1, x0, x1, dtype=np.uint8):
    m = np.zeros((H, W), dtype)
    m[y0:y1, x0:x1] = 1
    return m


def _parts(parts):
    arr = np.zeros((1, len(parts)), dtype=[('part_name', 'O'), ('mask', 'O')])
    for j, p in enumerate(parts):
        arr[0, j] = p
    return arr


def _save_mat(path, imname, objects):
    arr = np.zeros((1, len(objects)), dtype=[('class', 'O'),
                                             ('classIndex', 'O'),
                                             ('mask', 'O'), ('parts', 'O')])
    for k, (cls, idx, mask, parts) in enumerate(objects):
        arr[0, k] = (cls, idx, mask,
                     _parts(parts) if parts else np.zeros((0, 0)))
    sio.savemat(str(path), {'anno': {'imname': imname, 'objects': arr}})


# Person A (every fine name once, in a grid), person B overlapping A, a dog.
_NAMES = sorted(FINE_TO_CLASS)


def _person_a():
    parts = []
    for k, name in enumerate(_NAMES):
        y, x = divmod(k, 6)
        parts.append((name, _box(2 + 3 * y, 4 + 3 * y, 2 + 3 * x,
                                 4 + 3 * x).astype(bool)))
    return ('person', 15, _box(1, 20, 1, 21), parts)


def _person_b():  # overlaps A's right side; drawn later, so it wins
    return ('person', 15, _box(5, 23, 14, 30),
            [('torso', _box(5, 15, 14, 24)), ('rlleg', _box(15, 23, 20,
                                                             30))])


def _expected(ids, unlabeled_value=None):
    exp = np.zeros((H, W), np.uint8)
    if unlabeled_value is not None:
        exp[_box(1, 20, 1, 21).astype(bool)] = unlabeled_value
        exp[_box(5, 23, 14, 30).astype(bool)] = unlabeled_value
    for name, mask in _person_a()[3]:
        exp[mask] = ids[FINE_TO_CLASS[name]]
    for name, mask in _person_b()[3]:
        exp[mask.astype(bool)] = ids[FINE_TO_CLASS[name]]
    return exp


@pytest.fixture
def voc(tmp_path):
    img_dir, mat_dir = tmp_path / 'JPEGImages', tmp_path / 'Annotations_Part'
    img_dir.mkdir()
    mat_dir.mkdir()
    rng = np.random.default_rng(0)
    for i in ('2008_000001', '2008_000002', '2008_000003'):
        cv2.imwrite(str(img_dir / f'{i}.jpg'),
                    rng.integers(0, 255, (H, W, 3), dtype=np.uint8))
    dog = ('dog', 12, _box(0, 10, 20, 32),
           [('head', _box(0, 4, 20, 26)), ('torso', _box(4, 10, 20, 32))])
    _save_mat(mat_dir / '2008_000001.mat', '2008_000001',
              [_person_a(), dog, _person_b()])
    # one person with exactly one part (squeezed to a scalar struct) and a
    # person without parts
    _save_mat(mat_dir / '2008_000002.mat', '2008_000002', [
        ('person', 15, _box(0, 10, 0, 10), [('hair', _box(0, 3, 0, 10))]),
        ('person', 15, _box(12, 20, 12, 20), [])
    ])
    _save_mat(mat_dir / '2008_000003.mat', '2008_000003',
              [('car', 7, _box(0, 5, 0, 5), [])])
    return tmp_path


def test_part_table_matches_reference():
    assert PERSON_PART_TO_LEAF == FINE_TO_CLASS


def test_load_mat_structure(voc):
    name, objs = load_pascal_part_mat(
        str(voc / 'Annotations_Part' / '2008_000001.mat'))
    assert name == '2008_000001'
    assert [o['cls'] for o in objs] == ['person', 'dog', 'person']
    assert [o['class_index'] for o in objs] == [15, 12, 15]
    assert [p[0] for p in objs[0]['parts']] == _NAMES
    assert objs[0]['mask'].dtype == bool and objs[0]['mask'].shape == (H, W)
    _, objs = load_pascal_part_mat(
        str(voc / 'Annotations_Part' / '2008_000002.mat'))
    assert [p[0] for p in objs[0]['parts']] == ['hair']
    assert objs[1]['parts'] == []


@pytest.mark.parametrize('layout,ids,hier', [
    ('pascal_part', PASCAL_PART_IDS, 'pascal_part'),
    ('person_part', PERSON_PART_IDS, 'pascal_person_part'),
])
def test_convert_pixel_by_pixel(voc, tmp_path, layout, ids, hier):
    out = tmp_path / 'out'
    summary = convert_pascal_part(
        str(voc / 'Annotations_Part'), str(voc / 'JPEGImages'), str(out),
        layout=layout, val_ratio=0.5, progress=True)
    assert summary['num_images'] == 2 and summary['num_people'] == 4
    assert summary['skipped'] == ['2008_000003']
    assert summary['splits'] == dict(train=1, val=1)
    if layout == 'pascal_part':
        got = np.load(out / 'gt_masks' / '2008_000001.npy')
        got2 = np.load(out / 'gt_masks' / '2008_000002.npy')
        assert not (out / 'gt_masks' / '2008_000003.npy').exists()
    else:
        with Image.open(out / 'SegmentationPart' / '2008_000001.png') as p:
            assert p.mode == 'L'
            got = np.array(p)
        got2 = np.array(Image.open(out / 'SegmentationPart' /
                                   '2008_000002.png'))
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, _expected(ids))
    exp2 = np.zeros((H, W), np.uint8)
    exp2[0:3, 0:10] = ids['head']
    np.testing.assert_array_equal(got2, exp2)
    # images are copied byte for byte; split files and classes.txt
    assert (out / 'JPEGImages' / '2008_000001.jpg').read_bytes() == \
        (voc / 'JPEGImages' / '2008_000001.jpg').read_bytes()
    listed = (out / 'train_id.txt').read_text().split() + \
        (out / 'val_id.txt').read_text().split()
    assert sorted(listed) == ['2008_000001', '2008_000002']
    classes = (out / 'classes.txt').read_text().splitlines()
    assert classes == [f'{v} {k}' for k, v in
                       sorted(ids.items(), key=lambda kv: kv[1])]
    # the converted dataset loads with exact values
    cls = PascalPartDataset if layout == 'pascal_part' else \
        PascalPersonPartDataset
    ds = cls(data_root=str(out), ann_file='', hierarchy=hier,
             pipeline=[dict(type='LoadHierImageFromFile'),
                       dict(type='LoadHierAnnotations')])
    assert ds.metainfo['classes'][ids['head']] == 'head'
    np.testing.assert_array_equal(ds[0]['gt_seg_map'], _expected(ids))


def test_unlabeled_person_pixels_ignore(voc):
    _, objs = load_pascal_part_mat(
        str(voc / 'Annotations_Part' / '2008_000001.mat'))
    label, n = person_label_map(objs, (H, W), 'pascal_part',
                                unlabeled='ignore')
    assert n == 2
    np.testing.assert_array_equal(label, _expected(PASCAL_PART_IDS, 255))


def test_unknown_part_and_wrong_size_name_the_file(voc):
    bad = voc / 'bad.mat'
    _save_mat(bad, 'bad', [('person', 15, _box(0, 5, 0, 5),
                            [('tail', _box(0, 5, 0, 5))])])
    _, objs = load_pascal_part_mat(str(bad))
    with pytest.raises(ValueError, match=r"bad\.mat.*'tail'"):
        person_label_map(objs, (H, W), 'pascal_part', source=str(bad))
    with pytest.raises(ValueError, match=r'bad\.mat.*24x32.*image is 10x10'):
        person_label_map(objs, (10, 10), 'pascal_part',
                         source=str(bad))
    (voc / 'junk.mat').write_bytes(b'not a mat file')
    with pytest.raises(OSError, match=r'junk\.mat'):
        load_pascal_part_mat(str(voc / 'junk.mat'))


def test_cli_with_split_files(voc, tmp_path, load_tool):
    tool = load_tool('dataset_converters/pascal_part')
    (tmp_path / 'tr.txt').write_text('2008_000001\n2008_000003\n')
    (tmp_path / 'va.txt').write_text('2008_000002')
    out = tmp_path / 'cli_out'
    rc = tool.main([
        str(voc / 'JPEGImages'), str(voc / 'Annotations_Part'), str(out),
        '--layout', 'pascal_part', '--split', f'train={tmp_path}/tr.txt',
        f'val={tmp_path}/va.txt', '--no-progress', '--unlabeled', 'ignore'
    ])
    assert rc == 0
    assert (out / 'train_id.txt').read_text() == '2008_000001\n'
    assert (out / 'val_id.txt').read_text() == '2008_000002\n'
    np.testing.assert_array_equal(
        np.load(out / 'gt_masks' / '2008_000001.npy'),
        _expected(PASCAL_PART_IDS, 255))
