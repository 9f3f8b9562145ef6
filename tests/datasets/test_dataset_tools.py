"""check_dataset (function and CLI) and browse_dataset on real files."""
import os
import os.path as osp
import runpy
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from mmhierseg.datasets.checks import check_dataset
from ._helpers import write_pascal_part

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _good(tmp_path):
    root = tmp_path / 'pp'
    write_pascal_part(root, ['a', 'b', 'c'], split='train_id.txt')
    write_pascal_part(root, ['d', 'e'], split='val_id.txt', seed=1,
                      trailing_newline=False)
    return root


def test_clean_dataset_report(tmp_path):
    root = _good(tmp_path)
    cv2.imwrite(str(root / 'JPEGImages' / 'extra.jpg'),
                np.zeros((8, 8, 3), np.uint8))
    report = check_dataset(str(root))
    assert report.ok, report.problems
    assert report.split_counts == dict(train=3, val=2)
    assert report.num_samples == report.num_valid == 5
    assert report.unlisted_images == 1
    masks = [np.load(root / 'gt_masks' / f'{i}.npy') for i in 'abcde']
    expected = np.bincount(np.concatenate([m.ravel() for m in masks]),
                           minlength=7)
    assert report.pixel_counts == expected.tolist()
    shares = report.class_shares()
    assert len(shares) == 3
    assert shares[0]['body'] == pytest.approx(1 - expected[0] /
                                              expected.sum())
    assert shares[1]['lower_body'] == pytest.approx(
        (expected[3] + expected[5]) / expected.sum())
    assert shares[2]['head'] == pytest.approx(expected[4] / expected.sum())
    text = report.format()
    assert 'no problems found' in text and 'level 1 (half)' in text


@pytest.mark.parametrize('case', [
    'missing_image', 'missing_mask', 'shape', 'values', 'float', 'corrupt_img',
    'truncated_img', 'corrupt_mask', 'empty_split', 'leak', 'duplicate'
])
def test_each_problem_names_the_file(tmp_path, case):
    root = _good(tmp_path)
    img, mask = root / 'JPEGImages' / 'b.jpg', root / 'gt_masks' / 'b.npy'
    expect = {}
    if case == 'missing_image':
        img.unlink()
        expect = [str(img), 'not found', 'remove its id']
    elif case == 'missing_mask':
        mask.unlink()
        expect = [str(mask), 'not found']
    elif case == 'shape':
        np.save(mask, np.zeros((5, 5), np.uint8))
        expect = [str(mask), 'is 5x5', str(img)]
    elif case == 'values':
        m = np.load(mask)
        m[0, 0] = 9
        np.save(mask, m)
        expect = [str(mask), '[9]', 'outside the tree']
    elif case == 'float':
        np.save(mask, np.load(mask).astype(np.float64))
        expect = [str(mask), 'float64', 'integer']
    elif case == 'corrupt_img':
        img.write_bytes(b'garbage')
        expect = [str(img), 'corrupt']
    elif case == 'truncated_img':
        data = img.read_bytes()
        img.write_bytes(data[:len(data) // 2])
        expect = [str(img), 'corrupt']
    elif case == 'corrupt_mask':
        mask.write_bytes(b'\x93NUMPY\x01\x00garbage')
        expect = [str(mask), 'cannot read']
    elif case == 'empty_split':
        (root / 'val_id.txt').write_text('\n\n')
        expect = [str(root / 'val_id.txt'), 'empty split']
    elif case == 'leak':
        (root / 'val_id.txt').write_text('d\ne\nb\n')
        expect = ['id b', 'train_id.txt', 'val_id.txt', 'leakage']
    elif case == 'duplicate':
        (root / 'train_id.txt').write_text('a\nb\nc\na\n')
        expect = [str(root / 'train_id.txt'), "['a']", 'more than once']
    report = check_dataset(str(root))
    assert not report.ok
    assert len(report.problems) == 1, report.problems
    for text in expect:
        assert text in report.problems[0], report.problems[0]
    assert report.problems[0] in report.format()


def test_cli_main_exit_codes(tmp_path, capsys, load_tool):
    root = _good(tmp_path)
    tool = load_tool('check_dataset')
    assert tool.main([str(root)]) == 0
    out = capsys.readouterr().out
    assert 'splits: train 3, val 2' in out and 'level 2 (part)' in out
    np.save(root / 'gt_masks' / 'c.npy', np.full((3, 3), 77, np.uint8))
    (root / 'JPEGImages' / 'd.jpg').unlink()
    assert tool.main([str(root), '--no-decode']) == 1
    out = capsys.readouterr().out
    assert '2 problem(s)' in out
    assert str(root / 'gt_masks' / 'c.npy') in out
    assert str(root / 'JPEGImages' / 'd.jpg') in out


def test_cli_script_exits_nonzero_on_broken_dataset(tmp_path, tiny_data,
                                                    monkeypatch, capsys):
    """Runs the script as ``__main__`` (what ``python tools/check_dataset.py``
    does, without paying for a second interpreter start)."""
    root = tmp_path / 'copy'
    shutil.copytree(tiny_data, root)
    broken = root / 'gt_masks' / 'synth_000002.npy'
    np.save(broken, np.load(broken).astype(np.float32))
    script = osp.join(ROOT, 'tools', 'check_dataset.py')
    monkeypatch.setattr(sys, 'argv', [script, str(root)])
    with pytest.raises(SystemExit) as exc:
        runpy.run_path(script, run_name='__main__')
    assert exc.value.code == 1
    out = capsys.readouterr().out
    assert str(broken) in out and 'float32' in out
    assert 'level 0 (body)' in out and '1 problem(s)' in out
    shutil.copy(osp.join(tiny_data, 'gt_masks', 'synth_000002.npy'), broken)
    with pytest.raises(SystemExit) as exc:
        runpy.run_path(script, run_name='__main__')
    assert exc.value.code == 0


def test_person_part_layout_check(tmp_path):
    from PIL import Image
    root = tmp_path / 'ppp'
    (root / 'JPEGImages').mkdir(parents=True)
    (root / 'SegmentationPart').mkdir()
    for i in ('x', 'y'):
        cv2.imwrite(str(root / 'JPEGImages' / f'{i}.jpg'),
                    np.zeros((10, 12, 3), np.uint8))
        m = np.zeros((10, 12), np.uint8)
        m[2:4, 2:4] = 1  # head in this id order
        Image.fromarray(m).save(root / 'SegmentationPart' / f'{i}.png')
    (root / 'train_id.txt').write_text('x')
    (root / 'val_id.txt').write_text('y\n')
    Image.fromarray(np.zeros((10, 12, 3), np.uint8)).save(
        root / 'SegmentationPart' / 'y.png')
    report = check_dataset(str(root), layout='person_part')
    assert report.class_shares()[2]['head'] == pytest.approx(4 / 120)
    assert len(report.problems) == 1
    assert "y.png is a 'RGB' image" in report.problems[0]


def test_browse_dataset_root_and_config(tmp_path, tiny_data, load_tool):
    root = Path(tiny_data)
    tool = load_tool('browse_dataset')
    out = tmp_path / 'browse'
    assert tool.main([str(root), '--output-dir', str(out), '--num', '3',
                      '--split', 'train']) == 0
    files = sorted(os.listdir(out))
    assert files == [f'{k:04d}_synth_{k:06d}.png' for k in range(3)]
    canvas = cv2.imread(str(out / files[0]))
    mask = np.load(root / 'gt_masks' / 'synth_000000.npy')
    h, w = mask.shape
    assert canvas.shape[1] == 4 * w + 3 * 4  # image + 3 levels
    assert canvas.shape[0] > h  # legends below
    # the leaf panel is coloured exactly on the parts: compare it with the
    # image panel away from the titles and the drawn class borders
    img_panel = canvas[:h, :w].astype(int)
    leaf_panel = canvas[:h, 3 * (w + 4):3 * (w + 4) + w].astype(int)
    changed = np.abs(img_panel - leaf_panel).sum(2) > 0
    fg = mask != 0
    assert fg.any() and changed[fg].mean() > 0.95
    near_fg = cv2.dilate(fg.astype(np.uint8), np.ones((3, 3))) > 0
    plain_bg = ~near_fg
    plain_bg[:22] = False  # titles
    assert plain_bg.sum() > 1000
    assert not changed[plain_bg].any()
    cfg = osp.join(ROOT, 'configs', '_base_', 'datasets',
                   'synthetic_pascal_part.py')
    out2 = tmp_path / 'browse_aug'
    from mmhierseg.datasets.browse import browse_dataset
    files = browse_dataset(
        cfg, str(out2), split='train', num=2, with_pipeline=True,
        cfg_options={'train_dataloader.dataset.data_root': str(root)})
    assert len(files) == 2
    for f in files:  # four panels of one random crop (<= 256, the config's)
        aug = cv2.imread(f)
        panel_w = (aug.shape[1] - 3 * 4) / 4
        assert panel_w == int(panel_w) and 0 < panel_w <= 256


def test_make_synthetic_refuses_a_non_empty_target(tmp_path, capsys,
                                                   load_tool):
    """Issue 9 case 6: a user's split must not be overwritten silently."""
    tool = load_tool('make_synthetic_dataset')
    root = tmp_path / 'real'
    root.mkdir()
    (root / 'train_id.txt').write_text('my_precious_id\n')
    args = [str(root), '--num-train', '2', '--num-val', '1']
    assert tool.main(args) == 2
    err = capsys.readouterr().err
    assert f'{root} is not empty (1 entries: train_id.txt)' in err
    assert 'nothing was written' in err and '--overwrite' in err
    assert (root / 'train_id.txt').read_text() == 'my_precious_id\n'
    assert sorted(os.listdir(root)) == ['train_id.txt']
    # an empty or new folder is fine; --overwrite replaces on purpose
    assert tool.main([str(tmp_path / 'new')] + args[1:]) == 0
    assert tool.main(args + ['--overwrite']) == 0
    assert 'my_precious_id' not in (root / 'train_id.txt').read_text()
