"""tools/dataset_converters/coco_person_to_masks.py on a small COCO file:
polygon and RLE people, a crowd region, an image without a person, and the
refusals."""
import json

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils

import mmhierseg  # noqa: F401
from mmseg.registry import DATASETS  # noqa: E402

H, W = 20, 30


def _uncompressed_rle(m):
    """COCO's uncompressed RLE: column-major runs, zeros first."""
    flat = np.asarray(m, np.uint8).flatten(order='F')
    runs, value, n = [], 0, 0
    for v in flat:
        if v != value:
            runs.append(n)
            value, n = v, 0
        n += 1
    return dict(size=[H, W], counts=runs + [n])


def _write(tmp_path, **changes):
    imgs = tmp_path / 'images'
    imgs.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    for name in ('a', 'b', 'c'):
        cv2.imwrite(str(imgs / f'{name}.jpg'),
                    rng.integers(0, 255, (H, W, 3), dtype=np.uint8))
    rle_person = np.zeros((H, W), np.uint8)
    rle_person[5:15, 2:8] = 1
    crowd = np.zeros((H, W), np.uint8)
    crowd[0:4, 20:30] = 1
    crowd_rle = mask_utils.encode(np.asfortranarray(crowd))
    crowd_rle['counts'] = crowd_rle['counts'].decode()
    coco = dict(
        images=[dict(id=i, file_name=f'{n}.jpg', height=H, width=W)
                for i, n in enumerate('abc', 1)],
        categories=[dict(id=1, name='person'), dict(id=3, name='car')],
        annotations=[
            dict(id=10, image_id=1, category_id=1, iscrowd=0,
                 segmentation=[[2, 2, 12, 2, 12, 10, 2, 10]]),
            dict(id=11, image_id=2, category_id=1, iscrowd=0,
                 segmentation=_uncompressed_rle(rle_person)),
            dict(id=12, image_id=2, category_id=1, iscrowd=1,
                 segmentation=crowd_rle),
            dict(id=13, image_id=3, category_id=3, iscrowd=0,  # a car
                 segmentation=[[0, 0, 5, 0, 5, 5]]),
        ])
    coco.update(changes)
    path = tmp_path / 'instances.json'
    path.write_text(json.dumps(coco))
    return path, imgs, rle_person, crowd


def test_polygon_and_rle_people_become_body_masks(tmp_path, load_tool,
                                                  capsys):
    ann, imgs, rle_person, crowd = _write(tmp_path)
    out = tmp_path / 'coco_person'
    tool = load_tool('dataset_converters/coco_person_to_masks')
    assert tool.main([str(ann), str(imgs), str(out)]) == 0
    printed = capsys.readouterr().out
    assert 'wrote 2 images (2 people, 1 crowd regions)' in printed
    assert 'skipped 1 without a person' in printed
    assert (out / 'train_id.txt').read_text().split() == ['a', 'b']
    a = np.load(out / 'gt_masks' / 'a.npy')
    assert a.dtype == np.uint8 and a.shape == (H, W)
    assert a[5, 5] == 1 and a[15, 20] == 0 and set(np.unique(a)) == {0, 1}
    b = np.load(out / 'gt_masks' / 'b.npy')
    assert np.array_equal(b == 1, rle_person.astype(bool))
    assert np.array_equal(b == 255, crowd.astype(bool))
    assert not (out / 'gt_masks' / 'c.npy').exists()
    # the split reads as a body-level dataset
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    ds = DATASETS.build(dict(
        type='PascalPartDataset', data_root=str(out),
        ann_file='train_id.txt', hierarchy='pascal_part',
        label_level='body', pipeline=[]))
    assert len(ds) == 2
    # --keep-empty keeps the image without a person, all background
    out2 = tmp_path / 'kept'
    assert tool.main([str(ann), str(imgs), str(out2), '--keep-empty']) == 0
    assert (np.load(out2 / 'gt_masks' / 'c.npy') == 0).all()


@pytest.mark.parametrize('case', ['no_person', 'missing', 'size', 'rle'])
def test_refusals_name_the_problem_and_write_nothing(tmp_path, load_tool,
                                                     capsys, case):
    ann, imgs, _, _ = _write(tmp_path)
    coco = json.loads(ann.read_text())
    expect = []
    if case == 'no_person':
        coco['categories'] = [dict(id=3, name='car')]
        expect = ["no 'person' category", "'car'"]
    elif case == 'missing':
        (imgs / 'b.jpg').unlink()
        expect = ['b.jpg', 'not found']
    elif case == 'size':
        cv2.imwrite(str(imgs / 'a.jpg'), np.zeros((H + 1, W, 3), np.uint8))
        expect = ['a.jpg', 'image size [21, 30]', '[20, 30]']
    else:
        coco['annotations'][1]['segmentation']['size'] = [H, W + 1]
        expect = ['annotation 11', 'RLE size [20, 31]']
    ann.write_text(json.dumps(coco))
    out = tmp_path / 'out'
    tool = load_tool('dataset_converters/coco_person_to_masks')
    assert tool.main([str(ann), str(imgs), str(out)]) == 2
    err = capsys.readouterr().err
    for text in expect:
        assert text in err, (text, err)
    assert not out.exists()
