"""configs/hierseg_mixed_granularity.py: part-labelled plus body-only
images (ConcatDataset) train through tools/train.py and are evaluated per
level through tools/test.py."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config

from tests.engine._tiny import ROOT

CONFIG = osp.join(ROOT, 'configs', 'hierseg_mixed_granularity.py')


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


def test_config_mixes_a_part_and_a_body_labelled_split():
    cfg = Config.fromfile(CONFIG)
    train = cfg.train_dataloader.dataset
    assert train.type == 'ConcatDataset'
    assert [d.get('label_level') for d in train.datasets] == [None, 'body']
    assert cfg.val_dataloader.dataset.ann_file == 'val_id.txt'
    assert cfg.test_dataloader.dataset.type == 'ConcatDataset'


@pytest.mark.slow
def test_mixed_config_trains_and_tests(tmp_path):
    from mmhierseg.testing.synthetic import make_synthetic_dataset
    data = str(tmp_path / 'data')
    make_synthetic_dataset(data, num_train=2, num_val=1, coarse_train=2,
                           coarse_val=1, coarse_level='body',
                           prior_mask='keypoints')
    cfg = Config.fromfile(CONFIG)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds = cfg[loader].dataset
        for sub in ds.get('datasets', [ds]):
            sub.data_root = data
        cfg[loader].num_workers = 0
        cfg[loader].persistent_workers = False
    cfg.train_dataloader.batch_size = 4
    cfg.train_cfg.max_iters = 2
    cfg.train_cfg.val_interval = 2
    cfg.default_hooks.checkpoint.interval = 2
    cfg.default_hooks.logger.interval = 1
    cfg.custom_hooks = []
    small = str(tmp_path / 'mixed.py')
    cfg.dump(small)
    work = str(tmp_path / 'work')
    log = _run('train.py', small, '--work-dir', work)
    assert 'loss_body' in log and 'loss_part' in log
    assert osp.isfile(osp.join(work, 'iter_2.pth'))
    json_out = str(tmp_path / 'metrics.json')
    log = _run('test.py', small, osp.join(work, 'iter_2.pth'), '--work-dir',
               work, '--json-out', json_out)
    with open(json_out) as f:
        metrics = json.load(f)['metrics']
    # the body level on both val images, the finer levels on the part one
    assert [metrics[f'images_level{k}'] for k in range(3)] == [2, 1, 1]
    assert 'images' in log
