"""``import mmhierseg`` registers and nothing else (the mmcv-lite placeholder
only where mmcv has no compiled ops); ``register_all_modules`` sets up what
the tools need; a config can ask for it (mmseg's own tools)."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_PROBE = '''
import json, sys, torch
sys.path.insert(0, {root!r})
{setup}
from mmengine.registry import DefaultScope
from mmseg.registry import MODELS
from mmhierseg.utils import has_mmcv_ops
from mmhierseg.utils.checkpoint import checkpoint_safe_globals
ext = sys.modules.get('mmcv._ext')
safe = torch.serialization.get_safe_globals()
print(json.dumps(dict(
    added=[getattr(g, '__name__', str(g)) for g in checkpoint_safe_globals()
           if g in safe],
    registered='HierEncoderDecoder' in MODELS.module_dict,
    placeholder=getattr(ext, '__mmhierseg_placeholder__', False),
    full_mmcv=has_mmcv_ops(),
    scope=getattr(DefaultScope.get_current_instance(), 'scope_name', None))))
'''


def _probe(setup):
    proc = subprocess.run(
        [sys.executable, '-c', _PROBE.format(root=ROOT, setup=setup)],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # a fresh interpreter
def test_import_registers_and_changes_nothing_else():
    out = _probe('import mmhierseg')
    assert out['registered']
    assert out['added'] == []  # torch's allow-list without MMEngine's
    assert out['scope'] is None
    # the placeholder exactly when mmcv has no compiled ops (mmcv-lite)
    assert out['placeholder'] is not out['full_mmcv']


@pytest.mark.slow  # a fresh interpreter
def test_register_all_modules_sets_up_the_tools():
    out = _probe('from mmhierseg.utils import register_all_modules\n'
                 'register_all_modules()')
    assert out['registered'] and out['scope'] == 'mmseg'
    assert 'HistoryBuffer' in out['added']


@pytest.mark.slow  # a fresh interpreter
def test_config_import_for_mmseg_tools(tmp_path):
    cfg = tmp_path / 'c.py'
    cfg.write_text("custom_imports = dict(imports=['mmhierseg', "
                   "'mmhierseg.utils.register_all'])\n")
    out = _probe('from mmengine.config import Config\n'
                 f'Config.fromfile({str(cfg)!r})')
    assert out['registered'] and 'HistoryBuffer' in out['added']
    assert out['scope'] is None  # the runner sets the config's
