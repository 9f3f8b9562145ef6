"""The package itself: import under mmcv-lite, registration, offline hygiene,
checkpoint loading on torch >= 2.6."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Every component mmhierseg registers, by registry. A config that only says
# custom_imports=dict(imports=['mmhierseg']) must be able to build these.
EXPECTED = {
    'model': [
        'SMPEncoder', 'HierarchicalDecodeHead', 'HierarchicalLoss',
        'HierEncoderDecoder', 'PosePriorStem'
    ],
    'dataset': ['PascalPartDataset'],
    'transform': ['LoadHierAnnotations'],
    'metric': ['HierarchicalIoUMetric'],
    'hook': ['StagedUnfreezeHook'],
}


def _run(code, env_extra=None):
    env = dict(os.environ)
    env['PYTHONPATH'] = ROOT + os.pathsep + env.get('PYTHONPATH', '')
    env.update(env_extra or {})
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)],
                          capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=300)


@pytest.mark.slow
def test_import_is_clean_and_offline():
    """`import mmhierseg` then `import mmseg.models` under mmcv-lite: no
    error, no warning on stderr, no network attempt, and no heavy optional
    dependency (ultralytics, mlflow) imported eagerly."""
    res = _run('''
        import sys
        from tests import _netguard
        _netguard.install()
        import mmhierseg
        import mmseg.models
        import mmhierseg.utils as u
        assert not _netguard.ATTEMPTS, _netguard.ATTEMPTS
        print('OPS', u.has_mmcv_ops())
        print('LAZY', 'ultralytics' in sys.modules, 'mlflow' in sys.modules)
    ''')
    assert res.returncode == 0, res.stderr
    assert res.stderr.strip() == '', res.stderr
    assert 'LAZY False False' in res.stdout


def test_netguard_blocks_non_loopback():
    """The guard the whole suite runs under really refuses the network and
    allows loopback."""
    import socket

    from tests import _netguard
    n = len(_netguard.ATTEMPTS)
    with pytest.raises(_netguard.NetworkAccessError):
        socket.getaddrinfo('pypi.org', 443)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(_netguard.NetworkAccessError):
            s.connect(('8.8.8.8', 53))
    finally:
        s.close()
    # loopback is allowed: a connection to a local listener succeeds
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        server.bind(('127.0.0.1', 0))
        server.listen(1)
        assert s.connect_ex(server.getsockname()) == 0
    finally:
        s.close()
        server.close()
    assert len(_netguard.ATTEMPTS) == n + 2
    # these two were deliberate: forget them so the session check passes
    del _netguard.ATTEMPTS[n:]


def test_compiled_op_error_names_op_and_fix():
    from mmhierseg.utils import has_mmcv_ops
    if has_mmcv_ops():
        # full mmcv: the real op is there and must be callable
        from mmcv.ops import point_sample
        out = point_sample(torch.rand(1, 1, 4, 4), torch.rand(1, 3, 2))
        assert out.shape == (1, 1, 3)
        return
    import mmcv._ext as ext
    with pytest.raises(NotImplementedError,
                       match=r'`roi_align_forward`.*mmcv==2\.1\.0'):
        ext.roi_align_forward(1, 2)
    # a pure-python mmcv op still works (point_sample uses grid_sample)
    from mmcv.ops import point_sample
    assert point_sample(torch.rand(1, 1, 4, 4),
                        torch.rand(1, 3, 2)).shape == (1, 1, 3)


def test_revert_sync_batchnorm_works_with_placeholder():
    from mmengine.model import revert_sync_batchnorm
    m = torch.nn.Sequential(torch.nn.SyncBatchNorm(4))
    out = revert_sync_batchnorm(m)
    assert not isinstance(out[0], torch.nn.SyncBatchNorm)
    assert isinstance(out[0], torch.nn.modules.batchnorm._BatchNorm)
    out.train()
    out(torch.rand(2, 4, 3, 3))  # runs on CPU without a process group
    assert out[0].num_batches_tracked.item() == 1


@pytest.mark.slow
def test_custom_imports_registers_everything():
    """A fresh interpreter, a config with only custom_imports: every
    component is found by name in the mmseg scope."""
    res = _run(f'''
        import sys, tempfile, os
        from mmengine.config import Config
        from mmengine.registry import init_default_scope
        d = tempfile.mkdtemp()
        p = os.path.join(d, 'cfg.py')
        with open(p, 'w') as f:
            f.write("custom_imports = dict(imports=['mmhierseg'], "
                    "allow_failed_imports=False)\\ndefault_scope = 'mmseg'\\n")
        assert 'mmhierseg' not in sys.modules
        cfg = Config.fromfile(p)
        assert 'mmhierseg' in sys.modules
        init_default_scope(cfg.default_scope)
        import mmseg.models  # after custom imports, must work under lite
        from mmseg.registry import (MODELS, DATASETS, TRANSFORMS, METRICS,
                                    HOOKS)
        regs = dict(model=MODELS, dataset=DATASETS, transform=TRANSFORMS,
                    metric=METRICS, hook=HOOKS)
        expected = {EXPECTED!r}
        for kind, names in expected.items():
            for name in names:
                cls = regs[kind].get(name)
                assert cls is not None, (kind, name)
                assert cls.__module__.startswith('mmhierseg.'), cls.__module__
                print('OK', kind, name)
    ''')
    assert res.returncode == 0, res.stdout + res.stderr
    n = sum(len(v) for v in EXPECTED.values())
    assert res.stdout.count('OK ') == n


def test_mmengine_checkpoint_objects_load_with_weights_only(tmp_path):
    """What MMEngine puts in a checkpoint (HistoryBuffer with numpy arrays,
    numpy scalars) loads with torch's default restricted unpickler once
    register_all_modules() ran, and arbitrary objects are still refused."""
    from mmhierseg.utils import register_all_modules
    register_all_modules(init_default_scope=False)  # as conftest does
    from mmengine.logging import HistoryBuffer, MessageHub
    hub = MessageHub.get_instance('ckpt_test')
    hub.update_scalar('train/loss', 0.5)
    hub.update_scalar('train/loss', np.float64(0.25))
    ckpt = dict(meta=dict(epoch=1, iter=np.int64(10), seed=np.uint32(3),
                          arr=np.arange(3, dtype=np.float32)),
                message_hub=hub.state_dict(),
                state_dict=dict(w=torch.ones(2)))
    path = tmp_path / 'x.pth'
    torch.save(ckpt, path)
    loaded = torch.load(path, map_location='cpu')  # default weights_only
    assert isinstance(loaded['message_hub']['log_scalars']['train/loss'],
                      HistoryBuffer)
    assert loaded['meta']['iter'] == 10
    np.testing.assert_array_equal(loaded['meta']['arr'], [0, 1, 2])

    class Evil:  # not allow-listed: must still be refused
        def __reduce__(self):
            return (os.system, ('echo pwned', ))

    torch.save({'x': Evil()}, tmp_path / 'evil.pth')
    with pytest.raises(Exception, match='(?i)weights_only|unsupported'):
        torch.load(tmp_path / 'evil.pth')

    class EvilAttr:  # getattr is only resolved for HistoryBuffer
        def __reduce__(self):
            return (getattr, (np.ndarray, 'tofile'))

    torch.save({'x': EvilAttr()}, tmp_path / 'evil2.pth')
    with pytest.raises(Exception, match='only HistoryBuffer'):
        torch.load(tmp_path / 'evil2.pth')
