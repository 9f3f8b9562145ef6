"""HierSegInferencer and pose priors (issue 21, item 9): a pose model that
cannot be loaded is one message naming ``model.stem.pose.weights``, found
before the first image; with ``prior_dir`` an image's prior file is used
and the pose model never sees it; images without one fall back to online
priors, with a message."""
import mmcv
import numpy as np
import pytest

from mmhierseg.apis import HierSegInferencer, PriorModelError
from mmhierseg.priors import (PersonPriors, PoseResult, save_priors,
                              weights_trust)
from tests.models.stems._stem_utils import H, STANDING, W, FakePose

from ._tiny import write_model

#: A stem whose pose weights do not exist (no mask channel: no FastSAM).
MISSING = ("dict(type='PosePriorStem', pose=dict(weights='{weights}'{extra}),"
           " sam=None, channels=('head', 'torso'))")


def _stem_model(folder, weights='/nonexistent/pose.pt', extra=''):
    return write_model(folder, stem=MISSING.format(weights=weights,
                                                   extra=extra))


@pytest.fixture(scope='module')
def stem_model(tmp_path_factory):
    return _stem_model(tmp_path_factory.mktemp('stem_model'))


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    """``root/JPEGImages/{a,b,c}.jpg`` (one picture), ``root/priors/a.npz``
    (a standing person) and ``b.npz`` (nobody); ``c`` has no prior file."""
    root = tmp_path_factory.mktemp('data')
    img = np.random.default_rng(0).integers(0, 255, (H, W, 3), np.uint8)
    (root / 'JPEGImages').mkdir()
    for name in 'abc':
        mmcv.imwrite(img, str(root / 'JPEGImages' / f'{name}.png'))
    box, kpts, scores = STANDING
    save_priors(str(root / 'priors' / 'a.npz'),
                PersonPriors(box[None], kpts[None], scores[None], (H, W)),
                dict(settings=dict(kind='test')))
    save_priors(str(root / 'priors' / 'b.npz'),
                PersonPriors.empty(H, W, mask=False),
                dict(settings=dict(kind='test')))
    return root


def _images(root, names):
    return [str(root / 'JPEGImages' / f'{n}.png') for n in names]


def test_missing_pose_file_is_one_message_before_any_image(stem_model,
                                                           dataset):
    inf = HierSegInferencer(*stem_model, device='cpu')
    results = inf.iter_predictions(_images(dataset, 'a'))
    with pytest.raises(PriorModelError) as exc:
        next(results)
    msg = str(exc.value)
    assert "model.stem.pose.weights='/nonexistent/pose.pt'" in msg
    assert 'no such file' in msg and '--priors-dir' in msg
    assert '\n' not in msg
    assert exc.value.__cause__ is None and exc.value.__suppress_context__


def test_no_advice_to_unset_a_variable_that_is_not_set(tmp_path,
                                                       monkeypatch):
    from ultralytics.utils import SETTINGS
    monkeypatch.setitem(SETTINGS, 'weights_dir', str(tmp_path / 'weights'))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv('MMHIERSEG_OFFLINE', raising=False)
    inf = HierSegInferencer(*_stem_model(
        tmp_path, 'yolov8n-pose.pt', ', download=False'), device='cpu')
    with pytest.raises(PriorModelError) as exc:
        inf(np.zeros((20, 30, 3), np.uint8))
    msg = str(exc.value)
    assert "model.stem.pose.weights='yolov8n-pose.pt'" in msg
    assert 'download=False' in msg and 'MMHIERSEG_OFFLINE' not in msg
    assert 'github.com/ultralytics/assets/releases' in msg


def test_missing_package_names_the_install_command(tmp_path, monkeypatch):
    from ultralytics.utils import SETTINGS
    monkeypatch.setattr(weights_trust, '_package_dir', lambda module: None)
    monkeypatch.setitem(SETTINGS, 'weights_dir', str(tmp_path / 'weights'))
    monkeypatch.chdir(tmp_path)
    inf = HierSegInferencer(*_stem_model(tmp_path, 'yolo11n-pose.pt'),
                            device='cpu')
    with pytest.raises(PriorModelError) as exc:
        inf(np.zeros((20, 30, 3), np.uint8))
    msg = str(exc.value)
    assert 'model.stem.pose.weights' in msg
    assert weights_trust.install_command('yolo11n-pose.pt') in msg


def test_prior_files_skip_the_pose_model(stem_model, dataset):
    """Every image has a file: the (missing) pose model is never needed."""
    inf = HierSegInferencer(*stem_model, device='cpu', prior_dir='priors')
    out = inf(_images(dataset, 'ab'), batch_size=2)
    assert out['errors'] == []
    a, b = out['predictions']
    assert a['priors'] == str(dataset / 'priors' / 'a.npz')
    assert b['priors'] == str(dataset / 'priors' / 'b.npz')
    # the same picture: the person's priors change the prediction
    assert not np.array_equal(a['levels']['part'], b['levels']['part'])


@pytest.fixture
def logged():
    """The messages logged (mmengine's current logger) during the test."""
    import logging

    from mmengine.logging import MMLogger
    records = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def test_images_without_file_fall_back_online_with_a_message(
        stem_model, dataset, logged):
    inf = HierSegInferencer(*stem_model, device='cpu',
                            prior_dir=str(dataset / 'priors'))
    fake = FakePose([PoseResult.empty()])
    inf.model.stem.detector.pose_backend = fake
    # one batch: file priors and online priors run as separate passes
    out = inf(_images(dataset, 'abc'), batch_size=3)
    assert out['errors'] == []
    preds = {p['name']: p for p in out['predictions']}
    assert preds['c']['priors'] == 'online'
    assert len(fake.calls) == 1 and len(fake.calls[0]) == 1  # c only
    # nobody found online == the empty prior file of the same picture
    np.testing.assert_array_equal(preds['c']['levels']['part'],
                                  preds['b']['levels']['part'])
    assert any('1 of 3 images have no prior file' in m and 'c.png' in m
               for m in logged)


def test_prior_dir_needs_a_stem(tmp_path):
    with pytest.raises(ValueError, match='no pose prior stem'):
        HierSegInferencer(*write_model(tmp_path), device='cpu',
                          prior_dir='priors')
