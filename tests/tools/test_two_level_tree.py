"""A new two-level tree declared in one config file trains and evaluates
through tools/train.py and tools/test.py with no code change."""
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tests.engine._tiny import ROOT, make_tiny_pascal_part

CONFIG = osp.join(ROOT, 'configs', 'examples',
                  'hierseg_two_level_body_part.py')

# Only sizes shrink for two CPU cores; the tree, the loss weights, the
# schedule and the checkpoint rule are the config's own.
SMALL = '''
_base_ = [{config!r}]
data_root = {data!r}
model = dict(
    backbone=dict(name='resnet18', weights=None),
    decode_head=dict(decoder=dict(channels=8, dilations=(1, 2))))
pipeline = [
    dict(type='LoadHierImageFromFile'),
    dict(type='LoadHierAnnotations'),
    dict(type='PackSegInputs'),
]
loader = dict(num_workers=0, persistent_workers=False,
              dataset=dict(data_root=data_root, pipeline=pipeline))
train_dataloader = dict(loader, batch_size=2)
val_dataloader = loader
test_dataloader = loader
train_cfg = dict(max_iters=6, val_interval=3)
default_hooks = dict(checkpoint=dict(interval=3), logger=dict(interval=1))
custom_hooks = [dict(type='StagedUnfreezeHook', by='iter', stage_length=2)]
'''


def _run(script, *args):
    # the network guard of the test session, inside the subprocess too
    code = ('import runpy, sys; sys.path.insert(0, {root!r}); '
            'import tests._netguard as g; g.install(); '
            'sys.argv = {argv!r}; '
            'runpy.run_path({path!r}, run_name="__main__")').format(
                root=ROOT, argv=[script] + [str(a) for a in args],
                path=osp.join(ROOT, 'tools', script))
    proc = subprocess.run([sys.executable, '-c', code], cwd=ROOT,
                          capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


@pytest.mark.slow
def test_two_level_tree_config_trains_and_tests(tmp_path):
    data = make_tiny_pascal_part(str(tmp_path / 'data'))
    cfg = tmp_path / 'small.py'
    cfg.write_text(SMALL.format(config=CONFIG, data=data))
    work = str(tmp_path / 'work')
    log = _run('train.py', cfg, '--work-dir', work)
    # the schedule the hook built from the tree: body, part, both
    for stage in ('stage 0 (body level)', 'stage 1 (part level)',
                  'stage 2 (all levels)'):
        assert stage in log
    assert "loss weights {'body': 0.4, 'part': 0.6}" in log
    files = os.listdir(work)
    assert 'iter_6.pth' in files
    assert any(f.startswith('best_mIoU_leaf_iter_') for f in files)

    json_out = str(tmp_path / 'metrics.json')
    out = str(tmp_path / 'preds')
    log = _run('test.py', cfg, osp.join(work, 'iter_6.pth'), '--work-dir',
               work, '--json-out', json_out, '--out', out)
    with open(json_out) as f:
        result = json.load(f)
    assert result['levels'] == ['body', 'part']
    assert set(result['metrics']) == {
        'mIoU0', 'mIoU1', 'mIoU_leaf', 'aAcc', 'consistency'
    }
    assert result['metrics']['consistency'] == 100.0
    val_id = open(osp.join(data, 'val_id.txt')).read().split()[0]
    body = np.array(Image.open(osp.join(out, 'body', f'{val_id}.png')))
    part = np.array(Image.open(osp.join(out, f'{val_id}.png')))
    assert set(np.unique(body)) <= {0, 1} and part.max() <= 6
    assert ((part > 0) == (body == 1)).all()  # the tree: part -> body
