"""tools/dataset_converters/coco_keypoints_to_priors.py on a small COCO
JSON: the files LoadPoseAnnotations reads."""
import json

import numpy as np
import pytest

import mmhierseg  # noqa: F401
from mmhierseg.datasets.transforms.priors import LoadPoseAnnotations
from mmhierseg.priors import load_priors


def _kpts(x0, y0, s, hidden=(), unlabelled=()):
    base = [[48, 10], [46, 9], [50, 9], [44, 10], [52, 10], [40, 20],
            [56, 20], [38, 32], [58, 32], [37, 42], [59, 42], [43, 42],
            [53, 42], [42, 55], [54, 55], [42, 68], [54, 68]]
    out = []
    for k, (x, y) in enumerate(base):
        v = 0 if k in unlabelled else 1 if k in hidden else 2
        out += [0, 0, 0] if v == 0 else [x0 + s * x, y0 + s * y, v]
    return out


COCO = dict(
    images=[
        dict(id=1, file_name='2008_000001.jpg', height=120, width=160),
        dict(id=2, file_name='sub/2008_000002.jpg', height=90, width=100),
    ],
    annotations=[
        dict(id=10, image_id=1, category_id=1, iscrowd=0,
             keypoints=_kpts(0, 0, 1.5, hidden=(3, ), unlabelled=(4, 16)),
             num_keypoints=15, bbox=[50, 5, 50, 100],
             segmentation=[[55, 10, 95, 10, 95, 100, 55, 100]]),
        dict(id=11, image_id=1, category_id=1, iscrowd=0,
             keypoints=_kpts(70, 10, 1.0), num_keypoints=17,
             bbox=[105, 15, 30, 60], segmentation=[]),
        dict(id=12, image_id=1, category_id=1, iscrowd=1,
             keypoints=[0] * 51, bbox=[0, 0, 10, 10],
             segmentation=dict(counts=[0, 10], size=[120, 160])),
    ],
    categories=[dict(id=1, name='person')])


def test_coco_annotations_to_prior_files(tmp_path, capsys, load_tool):
    ann = tmp_path / 'kpts.json'
    ann.write_text(json.dumps(COCO))
    out = tmp_path / 'priors'
    tool = load_tool('dataset_converters/coco_keypoints_to_priors')
    tool.main([str(ann), '--out', str(out)])
    assert '2 images, 2 people' in capsys.readouterr().out
    people, source = load_priors(str(out / '2008_000001.npz'))
    assert source['settings'] == dict(kind='coco_keypoints')
    assert people.image_size == (120, 160)
    np.testing.assert_allclose(people.boxes,
                               [[50, 5, 100, 105], [105, 15, 135, 75]])
    assert people.keypoints.shape == (2, 17, 2)
    np.testing.assert_allclose(people.keypoints[1, 5], (110, 30))
    # labelled joints (hidden too) count, unlabelled ones do not
    assert people.scores[0, 3] == 1 and people.scores[0, 4] == 0
    assert people.scores[0, 16] == 0 and people.scores[1].all()
    assert people.visibility[0, 3] == 1 and people.visibility[0, 5] == 2
    # the polygon, filled; the crowd region is left out
    assert people.mask[50, 70] and not people.mask[50, 20]
    assert not people.mask[5, 5]
    nobody, _ = load_priors(str(out / '2008_000002.npz'))
    assert nobody.boxes.shape == (0, 4) and not nobody.mask.any()

    # what training reads from them
    load = LoadPoseAnnotations(
        channels=('mask', 'head', 'lower_leg'), prior_dir=str(out),
        any_source=True)
    res = load(dict(img_path='x/2008_000001.jpg', img_shape=(120, 160),
                    ori_shape=(120, 160)))
    prior = res['gt_pose_prior']
    assert prior.shape == (120, 160, 3)
    assert prior[..., 0].sum() == people.mask.sum()
    assert prior[..., 1].sum() > 0 and prior[..., 2].sum() > 0


def test_results_file_keeps_scores_and_errors(tmp_path, load_tool):
    results = [
        dict(image_id=1, category_id=1, score=0.8,
             keypoints=[v if (k % 3) != 2 else 0.3
                        for k, v in enumerate(_kpts(0, 0, 1.0))]),
    ]
    res = tmp_path / 'results.json'
    res.write_text(json.dumps(results))
    images = tmp_path / 'images.json'
    images.write_text(json.dumps(dict(images=COCO['images'])))
    tool = load_tool('dataset_converters/coco_keypoints_to_priors')
    with pytest.raises(SystemExit, match='pass --images'):
        tool.main([str(res), '--out', str(tmp_path / 'p')])
    tool.main([str(res), '--images', str(images), '--out',
               str(tmp_path / 'p')])
    people, _ = load_priors(str(tmp_path / 'p' / '2008_000001.npz'))
    np.testing.assert_allclose(people.scores, 0.3)
    assert people.visibility is None and people.mask is None
    np.testing.assert_allclose(people.boxes, [[37, 9, 59, 68]])
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps(dict(images=COCO['images'], annotations=[
        dict(image_id=1, keypoints=[1, 2, 2] * 5)])))
    with pytest.raises(SystemExit, match='entry 0 .*has 5 keypoints'):
        tool.main([str(bad), '--out', str(tmp_path / 'q')])
