"""Issue 21, case 14: prior files follow the umask; validation pictures
have one extension; --resume says a refused malicious checkpoint was
refused as unsafe, not "probably truncated"."""
import os
import stat
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch

import mmhierseg  # noqa: F401
from mmhierseg.priors import PersonPriors, save_priors


@pytest.mark.parametrize('umask, mode', [(0o022, 0o644), (0o002, 0o664),
                                         (0o077, 0o600)])
def test_prior_files_respect_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        save_priors(str(tmp_path / 'a.npz'), PersonPriors.empty(4, 5),
                    dict(settings='x'))
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / 'a.npz').st_mode) == mode
    assert os.listdir(tmp_path) == ['a.npz']  # no temporary file left


class _Evil:

    def __reduce__(self):
        return (os.system, ('touch PWNED_BY_CHECKPOINT', ))


def test_resume_calls_a_malicious_checkpoint_unsafe(tmp_path, monkeypatch):
    from mmhierseg.utils import checkpoint
    logged = []
    monkeypatch.setattr(checkpoint, 'print_log',
                        lambda msg, **kw: logged.append(msg))
    monkeypatch.chdir(tmp_path)
    torch.save(dict(state_dict=dict(w=torch.zeros(1))),
               str(tmp_path / 'iter_1.pth'))
    torch.save(dict(meta=_Evil()), str(tmp_path / 'iter_2.pth'))
    (tmp_path / 'iter_3.pth').write_bytes(
        (tmp_path / 'iter_1.pth').read_bytes()[:50])
    found = checkpoint.find_checkpoint(str(tmp_path), loadable=True)
    assert found == str(tmp_path / 'iter_1.pth')
    assert not (tmp_path / 'PWNED_BY_CHECKPOINT').exists()
    truncated, evil = logged
    assert 'iter_3.pth does not load' in truncated
    assert 'probably truncated' in truncated
    assert (f'checkpoint {tmp_path}/iter_2.pth was refused as unsafe and not '
            'loaded: it holds Python objects that would run code when '
            'unpickled (') in evil
    assert 'system' in evil and 'truncated' not in evil
    assert evil.endswith(f'Trying the next one, {tmp_path}/iter_1.pth.')


def test_local_validation_pictures_have_one_extension(tmp_path):
    from mmengine.visualization import LocalVisBackend

    from mmhierseg.engine.hooks import ValSamplesVisHook
    img = tmp_path / '2008_000001.jpg'
    cv2.imwrite(str(img), np.zeros((8, 9, 3), np.uint8))
    backend = LocalVisBackend(str(tmp_path / 'vis'))

    class Model(torch.nn.Module):

        def test_step(self, batch):
            return [SimpleNamespace(img_path=str(img))]

    def add_datasample(name, image, data_sample=None, step=0, **kw):
        backend.add_image(name, image, step)

    runner = SimpleNamespace(
        model=Model(),
        val_dataloader=SimpleNamespace(dataset=[dict(x=1)]),
        visualizer=SimpleNamespace(add_datasample=add_datasample))
    hook = ValSamplesVisHook(interval=1, indices=[0])
    hook.draw(runner, step=4)
    assert os.listdir(tmp_path / 'vis' / 'vis_image') == [
        'val_2008_000001_iter000004_4.png']
