"""tools/infer.py: every level written at the input size, a readable panel,
pixel areas; unreadable files skipped and reported (exit 1), no output
name collisions, bad arguments refused before any work."""
import json
import os
import os.path as osp
import shutil

import mmcv
import numpy as np
import pytest

from mmhierseg.hierarchy import ClassHierarchy
from tests.apis._tiny import photos, write_model

TREE = ClassHierarchy.build('pascal_part')


@pytest.fixture(scope='module')
def tiny_model(tmp_path_factory):
    return write_model(tmp_path_factory.mktemp('infer_model'))


def _read(path):
    return mmcv.imread(str(path), flag='unchanged')


def test_infer_photos_levels_panels_areas(tiny_model, tmp_path, capsys,
                                          load_tool):
    main = load_tool('infer').main
    cfg_path, ckpt = tiny_model
    d = tmp_path / 'imgs'
    d.mkdir()
    for p in photos()[-2:]:
        shutil.copy(p, d)
    out = tmp_path / 'out'
    areas = tmp_path / 'areas.json'
    assert main([cfg_path, ckpt, str(d), '--out-dir', str(out),
                 '--batch-size', '2', '--device', 'cpu',
                 '--areas-json', str(areas)]) == 0
    assert '2/2' in capsys.readouterr().out  # the progress bar
    report = json.loads(areas.read_text())
    names = sorted(osp.splitext(f)[0] for f in os.listdir(d))
    assert sorted(report) == names
    for name in names:
        img = mmcv.imread(str(d / f'{name}.jpg'))
        maps = [_read(out / f'{name}_{lvl}.png') for lvl in TREE.level_names]
        for k, m in enumerate(maps):
            assert m.shape == img.shape[:2]
            assert m.max() < TREE.num_classes[k]
            counts = report[name]['levels'][TREE.level_names[k]]
            assert list(counts) == list(TREE.classes(k))
            assert list(counts.values()) == np.bincount(
                m.ravel(), minlength=TREE.num_classes[k]).tolist()
        for k in range(TREE.num_levels - 1):
            np.testing.assert_array_equal(maps[k], TREE.to_level(maps[-1], k))
        panel = _read(out / 'vis' / f'{name}.png')
        # input + one cell per level side by side, under the legend
        assert panel.shape[1] >= (1 + TREE.num_levels) * img.shape[1]
        assert panel.shape[0] > img.shape[0]


def test_infer_names_missing_input(tiny_model, tmp_path, capsys, load_tool):
    """Bad arguments: exit 2, naming the argument (more cases:
    tests/tools/test_infer_errors.py)."""
    main = load_tool('infer').main
    cfg_path, ckpt = tiny_model
    (tmp_path / 'empty').mkdir()
    for argv, word in (
            ([cfg_path, str(tmp_path / 'missing.pth'), str(tmp_path)],
             'missing.pth'),
            ([cfg_path, ckpt, str(tmp_path / 'nope.jpg')], 'nope.jpg'),
            ([cfg_path, ckpt, str(tmp_path / 'empty')], 'no image')):
        with pytest.raises(SystemExit) as exc:
            main(argv + ['--out-dir', str(tmp_path)])
        assert exc.value.code == 2
        assert word in capsys.readouterr().err


def test_infer_mixed_sizes_tiny_and_grayscale(tiny_model, tmp_path, load_tool):
    """One batch with a 9x13 colour image and a 40x30 grayscale one."""
    main = load_tool('infer').main
    cfg_path, ckpt = tiny_model
    rng = np.random.default_rng(0)
    d = tmp_path / 'imgs'
    d.mkdir()
    mmcv.imwrite(rng.integers(0, 255, (9, 13, 3), dtype=np.uint8),
                 str(d / 'tiny.jpg'))
    mmcv.imwrite(rng.integers(0, 255, (40, 30), dtype=np.uint8),
                 str(d / 'gray.jpg'))
    out = tmp_path / 'out'
    assert main([cfg_path, ckpt, str(d), '--out-dir', str(out),
                 '--batch-size', '2', '--no-vis']) == 0
    for name, shape in (('tiny', (9, 13)), ('gray', (40, 30))):
        for lvl in TREE.level_names:
            assert _read(out / f'{name}_{lvl}.png').shape == shape
    assert not (out / 'vis').exists()


@pytest.mark.parametrize('batch_size', ['1', '3'])
def test_unreadable_file_skipped_others_written_exit_1(
        tiny_model, tmp_path, capsys, batch_size, load_tool):
    """Issue 9 case 5: one bad file lost its whole batch (and with batch
    size 1 every later file)."""
    main = load_tool('infer').main
    cfg_path, ckpt = tiny_model
    d = tmp_path / 'imgs'
    d.mkdir()
    rng = np.random.default_rng(1)
    for name in ('a', 'c', 'd'):
        mmcv.imwrite(rng.integers(0, 255, (24, 20, 3), dtype=np.uint8),
                     str(d / f'{name}.jpg'))
    (d / 'b.jpg').write_bytes(b'\xff\xd8 truncated')
    out = tmp_path / 'out'
    assert main([cfg_path, ckpt, str(d), '--out-dir', str(out),
                 '--batch-size', batch_size, '--no-vis']) == 1
    for name in ('a', 'c', 'd'):
        for lvl in TREE.level_names:
            assert (out / f'{name}_{lvl}.png').is_file()
    assert not list(out.glob('b_*'))
    err = capsys.readouterr().err
    assert 'b.jpg' in err and 'skipped' in err
    assert 'split' not in err


def test_same_stem_never_collides(tiny_model, tmp_path, capsys, load_tool):
    """Issue 9 case 5: p.jpg and p.png overwrote each other's outputs."""
    main = load_tool('infer').main
    cfg_path, ckpt = tiny_model
    d = tmp_path / 'imgs'
    d.mkdir()
    mmcv.imwrite(np.zeros((20, 30, 3), np.uint8), str(d / 'p.jpg'))
    mmcv.imwrite(np.zeros((16, 12, 3), np.uint8), str(d / 'p.png'))
    out = tmp_path / 'out'
    assert main([cfg_path, ckpt, str(d), '--out-dir', str(out)]) == 0
    assert _read(out / 'p_jpg_part.png').shape == (20, 30)
    assert _read(out / 'p_png_part.png').shape == (16, 12)
    assert (out / 'vis' / 'p_jpg.png').is_file()
    assert (out / 'vis' / 'p_png.png').is_file()


@pytest.mark.parametrize('value', ['0', '-1', 'two'])
def test_bad_batch_size_refused_up_front(tmp_path, capsys, value, load_tool):
    """Issue 9 case 5: -1 exited 0 having written nothing; 0 was unclear.
    Refused before the (here missing) model is even looked at."""
    main = load_tool('infer').main
    with pytest.raises(SystemExit) as exc:
        main(['cfg.py', 'model.pth', str(tmp_path), '--out-dir',
              str(tmp_path / 'out'), '--batch-size', value])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert '--batch-size' in err and '>= 1' in err
    assert not (tmp_path / 'out').exists()


def test_help_states_exif_policy(capsys, load_tool):
    main = load_tool('infer').main
    with pytest.raises(SystemExit):
        main(['--help'])
    assert 'EXIF orientation' in capsys.readouterr().out


def test_work_dir_argument(tiny_model, tmp_path, load_tool):
    main = load_tool('infer').main
    cfg_path, ckpt = tiny_model
    wd = tmp_path / 'work'
    wd.mkdir()
    shutil.copy(cfg_path, wd / 'cfg.py')
    shutil.copy(ckpt, wd / 'iter_10.pth')
    mmcv.imwrite(np.zeros((20, 30, 3), np.uint8), str(tmp_path / 'x.jpg'))
    out = tmp_path / 'out'
    assert main([str(wd), str(tmp_path / 'x.jpg'), '--out-dir', str(out),
                 '--no-vis']) == 0
    assert _read(out / 'x_body.png').shape == (20, 30)
