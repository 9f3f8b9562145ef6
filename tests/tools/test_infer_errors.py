"""tools/infer.py on bad arguments (issue 21, items 9 and 10): every one is
refused with exit code 2 and one line naming the argument and the fix,
before the model is built; an output that cannot be written mid-run is
reported per image (exit 1); a pose model that cannot be loaded is one
line naming ``model.stem.pose.weights``; ``--priors-dir`` uses the prior
files."""
import os
import shutil

import mmcv
import numpy as np
import pytest

import mmhierseg.apis
from mmhierseg.priors import PersonPriors, save_priors
from tests.apis._tiny import write_model

STEM = ("dict(type='PosePriorStem', pose=dict(weights='/nonexistent/pose.pt')"
        ", sam=None, channels=('head', 'torso'))")


@pytest.fixture(scope='module')
def tiny_model(tmp_path_factory):
    return write_model(tmp_path_factory.mktemp('infer_err_model'))


@pytest.fixture(scope='module')
def stem_model(tmp_path_factory):
    return write_model(tmp_path_factory.mktemp('infer_err_stem'), stem=STEM)


@pytest.fixture
def image(tmp_path):
    path = tmp_path / 'x.png'
    mmcv.imwrite(np.zeros((20, 30, 3), np.uint8), str(path))
    return str(path)


@pytest.fixture
def never_built(monkeypatch):
    """Fail the test if the model is built."""
    def boom(*args, **kwargs):
        raise AssertionError('the model was built')
    monkeypatch.setattr(mmhierseg.apis, 'HierSegInferencer', boom)


def _refused(main, argv, capsys, *words):
    """Exit code 2, one stderr line holding ``words``; returns the line."""
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in argv])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith('infer.py: error: ') and 'Traceback' not in err
    for w in words:
        assert w in err, err
    return err


def test_bad_model_checkpoint_and_inputs(tiny_model, tmp_path, image, capsys,
                                         load_tool, never_built):
    main = load_tool('infer').main
    cfg, ckpt = tiny_model
    out = ['--out-dir', tmp_path / 'out']
    _refused(main, [cfg, tmp_path / 'missing.pth', image, *out], capsys,
             'CHECKPOINT', 'missing.pth', 'tools/train.py')
    _refused(main, [tmp_path / 'nope.py', ckpt, image, *out], capsys,
             'MODEL', 'nope.py', 'work dir')
    (tmp_path / 'empty').mkdir()
    _refused(main, [cfg, ckpt, tmp_path / 'empty', *out], capsys,
             'INPUTS', 'no image', 'empty')
    _refused(main, [cfg, ckpt, tmp_path / 'none*.jpg', *out], capsys,
             'INPUTS', 'none*.jpg', 'matches')
    _refused(main, [cfg, ckpt, tmp_path / 'gone.jpg', *out], capsys,
             'gone.jpg', 'does not exist')
    wd = tmp_path / 'work'
    wd.mkdir()
    shutil.copy(cfg, wd / 'cfg.py')
    _refused(main, [wd, image, *out], capsys, 'holds no checkpoint',
             'tools/train.py')
    not_a_config = tmp_path / 'cfg.txt'
    not_a_config.write_text('not python')
    _refused(main, [not_a_config, ckpt, image, *out], capsys,
             'cfg.txt', 'not a readable config')
    _refused(main, [cfg, ckpt, image, *out, '--priors-dir',
                    tmp_path / 'nowhere'], capsys, '--priors-dir',
             'precompute_priors')
    assert not (tmp_path / 'out' / 'x_body.png').exists()


def test_bad_outputs_refused_before_the_model_is_built(
        tiny_model, tmp_path, image, capsys, load_tool, never_built):
    main = load_tool('infer').main
    cfg, ckpt = tiny_model
    (tmp_path / 'file').write_text('')
    _refused(main, [cfg, ckpt, image, '--out-dir', tmp_path / 'file'],
             capsys, '--out-dir', 'is a file')
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'vis').write_text('')  # vis/ cannot be made
    _refused(main, [cfg, ckpt, image, '--out-dir', out], capsys,
             '--out-dir', 'vis', '--no-vis')
    _refused(main, [cfg, ckpt, image, '--out-dir', tmp_path / 'o2',
                    '--areas-json', tmp_path / 'no' / 'a.json'], capsys,
             '--areas-json', 'does not exist')
    if not __import__('torch').cuda.is_available():
        _refused(main, [cfg, ckpt, image, '--out-dir', tmp_path / 'o3',
                        '--device', 'cuda'], capsys, '--device', 'cpu')


@pytest.mark.skipif(os.geteuid() == 0, reason='root writes anywhere')
def test_read_only_vis_refused_up_front(tiny_model, tmp_path, image, capsys,
                                        load_tool, never_built):
    main = load_tool('infer').main
    vis = tmp_path / 'out' / 'vis'
    vis.mkdir(parents=True)
    vis.chmod(0o555)
    try:
        _refused(main, [*tiny_model, image, '--out-dir', tmp_path / 'out'],
                 capsys, 'cannot write into', 'vis', '--no-vis')
    finally:
        vis.chmod(0o755)


def test_a_write_failure_is_reported_and_the_others_written(
        tiny_model, tmp_path, capsys, load_tool):
    main = load_tool('infer').main
    d = tmp_path / 'imgs'
    d.mkdir()
    for name in 'abc':
        mmcv.imwrite(np.zeros((20, 30, 3), np.uint8), str(d / f'{name}.png'))
    out = tmp_path / 'out'
    (out / 'vis' / 'a.png').mkdir(parents=True)  # a's panel cannot be written
    assert main([*tiny_model, str(d), '--out-dir', str(out),
                 '--no-progress']) == 1
    err = capsys.readouterr().err
    assert 'cannot write the outputs of' in err and 'a.png' in err
    for name in 'bc':
        assert (out / 'vis' / f'{name}.png').is_file()
        assert (out / f'{name}_part.png').is_file()


def test_missing_pose_weights_one_line_naming_the_key(
        stem_model, image, tmp_path, capsys, load_tool):
    main = load_tool('infer').main
    err = _refused(main, [*stem_model, image, '--out-dir', tmp_path / 'out'],
                   capsys, "model.stem.pose.weights='/nonexistent/pose.pt'",
                   '--priors-dir')
    assert 'MMHIERSEG_OFFLINE' not in err


def test_priors_dir_uses_the_files(stem_model, tmp_path, capsys, load_tool):
    main = load_tool('infer').main
    (tmp_path / 'JPEGImages').mkdir()
    path = str(tmp_path / 'JPEGImages' / 'p.png')
    mmcv.imwrite(np.zeros((20, 30, 3), np.uint8), path)
    save_priors(str(tmp_path / 'priors' / 'p.npz'),
                PersonPriors.empty(20, 30, mask=False), {})
    out = tmp_path / 'out'
    assert main([*stem_model, path, '--out-dir', str(out), '--priors-dir',
                 str(tmp_path / 'priors'), '--no-vis']) == 0
    assert (out / 'p_part.png').is_file()
    _refused(main, [*write_model(tmp_path / 'plain'), path, '--out-dir',
                    out, '--priors-dir', tmp_path / 'priors'], capsys,
             '--priors-dir', 'no pose prior stem')


@pytest.mark.slow
def test_no_traceback_from_the_process(stem_model, image, tmp_path,
                                       run_tool):
    proc = run_tool('infer', *stem_model, image, '--out-dir',
                    tmp_path / 'out')
    assert proc.returncode == 2
    assert 'Traceback' not in proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if 'error' in ln]
    assert len(errors) == 1 and 'model.stem.pose.weights' in errors[0]
