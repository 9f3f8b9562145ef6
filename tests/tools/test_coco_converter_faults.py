"""Issue 21, cases 5 and 13: the COCO keypoint converter refuses (exit 2,
nothing written) or, with --skip-bad, leaves out and lists every bad image
or annotation, naming it and the fix; no traceback."""
import copy
import json

import numpy as np
import pytest

from mmhierseg.priors import load_priors
from tests.tools.test_coco_keypoints_to_priors import COCO, _kpts

TOOL = 'dataset_converters/coco_keypoints_to_priors'


def _person(ann_id, image_id=1, **kw):
    return dict(id=ann_id, image_id=image_id, category_id=1, iscrowd=0,
                keypoints=_kpts(0, 0, 1.0), **kw)


def _write(tmp_path, change):
    coco = copy.deepcopy(COCO)
    change(coco)
    ann = tmp_path / 'kpts.json'
    ann.write_text(json.dumps(coco))
    return ann


def _refused(tool, ann, out, capsys):
    with pytest.raises(SystemExit) as err:
        tool.main([str(ann), '--out', str(out)])
    assert err.value.code == 2
    assert not out.exists() or not list(out.iterdir())  # nothing written
    assert str(err.value) in capsys.readouterr().err
    return str(err.value)


def test_two_images_with_one_file_name_are_refused(tmp_path, load_tool,
                                                   capsys):
    tool = load_tool(TOOL)
    ann = _write(tmp_path, lambda c: c['images'].append(
        dict(id=3, file_name='other/2008_000001.jpg', height=10, width=10)))
    msg = _refused(tool, ann, tmp_path / 'out', capsys)
    assert ("image 3 ('other/2008_000001.jpg') and image 1 "
            "('2008_000001.jpg') both write 2008_000001.npz") in msg
    assert 'give the images distinct base names' in msg
    # not skippable: which of the two would be meant?
    with pytest.raises(SystemExit):
        tool.main([str(ann), '--out', str(tmp_path / 'out'), '--skip-bad'])
    assert not (tmp_path / 'out').exists()


@pytest.mark.parametrize('bbox', [[50, 5, 0, 100], [50, 5, 40, -30]])
def test_annotations_of_missing_images_and_bad_boxes(tmp_path, load_tool,
                                                     capsys, bbox):
    tool = load_tool(TOOL)

    def change(c):
        c['annotations'] += [_person(77, image_id=99, bbox=[1, 1, 5, 5]),
                             _person(78, bbox=bbox)]

    ann = _write(tmp_path, change)
    msg = _refused(tool, ann, tmp_path / 'out', capsys)
    assert ('annotation 77 (image_id 99): image_id 99 is not in the images '
            'list; pass the --images file') in msg
    assert (f'annotation 78 (image_id 1): bbox {bbox} is not [x, y, width, '
            'height] with width and height > 0') in msg
    assert 'or pass --skip-bad' in msg
    # --skip-bad: written without them, and each is listed
    tool.main([str(ann), '--out', str(tmp_path / 'out'), '--skip-bad'])
    out = capsys.readouterr().out
    assert '2 images, 2 people' in out and 'left out (--skip-bad), 2' in out
    assert 'annotation 77 (image_id 99)' in out
    assert 'annotation 78 (image_id 1)' in out
    people, _ = load_priors(str(tmp_path / 'out' / '2008_000001.npz'))
    np.testing.assert_allclose(people.boxes,
                               [[50, 5, 100, 105], [105, 15, 135, 75]])


@pytest.mark.parametrize('seg, why', [
    ([[55, 10, 95, 10, 95]], 'polygon 0 ([55, 10, 95, 10, 95]) is not'),
    ([[55, 10, 95, 10]], 'with at least 3 points'),
    ([['a', 1, 2, 3, 4, 5]], 'polygon 0'),
    ([55, 10, 95, 10, 95, 100], 'polygon 0 (55)'),
    (dict(counts=[5, 10], size=[120, 160]), 'RLE counts do not add up'),
    (dict(counts=[19200], size=[90, 100]), "RLE size [90, 100] is not the "
     "image's [height, width] [120, 160]"),
    ('x', "'x' is neither a list of polygons nor an RLE object"),
])
def test_malformed_segmentations(tmp_path, load_tool, capsys, seg, why):
    tool = load_tool(TOOL)
    ann = _write(tmp_path, lambda c: c['annotations'].append(
        _person(80, bbox=[1, 1, 5, 5], segmentation=seg)))
    msg = _refused(tool, ann, tmp_path / 'out', capsys)
    assert 'annotation 80 (image_id 1): segmentation ' in msg
    assert why in msg and 'or pass --no-mask' in msg
    # --no-mask ignores segmentations altogether
    tool.main([str(ann), '--out', str(tmp_path / 'nm'), '--no-mask'])
    assert '2 images, 3 people' in capsys.readouterr().out


@pytest.mark.parametrize('entry, why', [
    (dict(id=2, file_name='sub/2008_000002.jpg', width=100), 'no height'),
    (dict(id=2, file_name='sub/2008_000002.jpg', height='90', width=0),
     "height '90' is not a positive integer, width 0 is not a positive "
     'integer'),
])
def test_images_without_a_size(tmp_path, load_tool, capsys, entry, why):
    tool = load_tool(TOOL)

    def change(c):
        c['images'][1] = entry
        c['annotations'].append(_person(81, image_id=2))

    ann = _write(tmp_path, change)
    msg = _refused(tool, ann, tmp_path / 'out', capsys)
    assert f"image 2 ('sub/2008_000002.jpg'): {why}; add it" in msg
    tool.main([str(ann), '--out', str(tmp_path / 'out'), '--skip-bad'])
    out = capsys.readouterr().out
    assert '1 images, 2 people' in out and "image 2 ('sub/" in out
    assert sorted(p.name for p in (tmp_path / 'out').iterdir()) == [
        '2008_000001.npz']


@pytest.mark.slow
def test_command_line_exit_status_and_help(tmp_path, run_tool):
    coco = copy.deepcopy(COCO)
    del coco['images'][0]['height']
    ann = tmp_path / 'kpts.json'
    ann.write_text(json.dumps(coco))
    proc = run_tool(TOOL, ann, '--out', tmp_path / 'out')
    assert proc.returncode == 2, proc.stderr
    assert 'Traceback' not in proc.stderr
    assert "image 1 ('2008_000001.jpg'): no height" in proc.stderr
    assert not (tmp_path / 'out').exists()
    help_text = run_tool(TOOL, '--help').stdout
    assert '--skip-bad' in help_text and '2  bad arguments, or the input ' \
        'refused' in help_text
