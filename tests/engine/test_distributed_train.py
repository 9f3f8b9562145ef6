"""Two-process DDP training on CPU (gloo, torchrun via tools/dist_train.sh)
with the staged hook and the hierarchical metric."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

import mmhierseg  # noqa: F401  (before mmseg: mmcv-lite placeholder)
from mmengine.config import Config  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from tests.engine._tiny import (ROOT, make_tiny_pascal_part,  # noqa: E402
                                tiny_cfg)

pytestmark = pytest.mark.slow  # every test here trains or spawns


def _torchrun(script, *args):
    """Run ``tools/<script>`` with 2 ranks and check it succeeded.

    One thread per rank, the repo on the path (``tests.engine._dist_probe``)
    and no PORT: a one-node job lets torchrun bind a free port itself (a port
    picked here could be taken by the time torchrun binds it).
    """
    env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join(
                   filter(None, [ROOT, os.environ.get('PYTHONPATH')])))
    env.pop('PORT', None)
    proc = subprocess.run(
        ['bash', osp.join(ROOT, 'tools', script)] + [str(a) for a in args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=420)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc


@pytest.fixture(scope='module')
def ddp_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('ddp')
    # 5 validation images over 2 ranks: the sampler pads one duplicate,
    # which must not be counted
    data = make_tiny_pascal_part(str(tmp / 'data'), n_train=8, n_val=5)
    work_dir = str(tmp / 'work')
    probe_dir = str(tmp / 'probe')
    cfg = tiny_cfg(work_dir, data, max_iters=8, val_interval=4,
                   stage_length=2, checkpoint_interval=4)
    cfg['custom_imports']['imports'].append('tests.engine._dist_probe')
    cfg['custom_hooks'].append(dict(type='DistProbeHook', out_dir=probe_dir))
    # staged (stage_length=2): as a config that adds StagedUnfreezeHook
    cfg['model_wrapper_cfg'] = dict(
        type='MMDistributedDataParallel',
        find_unused_parameters=True,
        broadcast_buffers=False)
    cfg_path = str(tmp / 'tiny_ddp.py')
    Config(cfg).dump(cfg_path)
    proc = _torchrun('dist_train.sh', cfg_path, 2)
    ranks = []
    for r in range(2):
        with open(osp.join(probe_dir, f'rank{r}.json')) as f:
            ranks.append(json.load(f))
    return dict(ranks=ranks, cfg=cfg, work_dir=work_dir, log=proc.stdout +
                proc.stderr)


def test_ranks_train_under_ddp_and_agree_on_metrics(ddp_run):
    r0, r1 = ddp_run['ranks']
    assert r0['world_size'] == r1['world_size'] == 2
    assert r0['wrapped'] == 'MMDistributedDataParallel'
    # both ranks got the same (gathered, rank-0 computed) metrics
    assert [m['iter'] for m in r0['metrics']] == [4, 8]
    assert r0['metrics'] == r1['metrics']
    for m in r0['metrics']:
        assert set(m['metrics']) >= {'mIoU0', 'mIoU1', 'mIoU2', 'aAcc',
                                     'consistency'}
    # DDP kept the parameters identical on both ranks (each rank saw other
    # images): trained and frozen branches alike
    assert r0['checksums'] == r1['checksums']
    assert r0['backbone'] == r1['backbone']


def test_frozen_branches_do_not_move_under_ddp(ddp_run):
    order = ('body', 'half', 'part')
    for rank in ddp_run['ranks']:
        assert [i['iter'] for i in rank['iters']] == list(range(8))
        for it in rank['iters']:
            stage = it['iter'] // 2
            if stage < 3:
                expected = {b: b == order[stage] for b in order}
            else:
                expected = {b: True for b in order}
            # parameters and BN statistics alike
            assert it['params_moved'] == expected, it
            assert it['moved'] == expected, it


def test_distributed_test_equals_single_process_evaluation(ddp_run, tmp_path):
    """tools/dist_test.sh (2 ranks, same checkpoint) gives exactly the
    one-process metrics: the duplicate the sampler pads is dropped and the
    areas are summed over the set, not averaged per rank."""
    ckpt = osp.join(ddp_run['work_dir'], 'iter_8.pth')
    cfg = dict(ddp_run['cfg'])
    cfg['custom_hooks'] = [
        h for h in cfg['custom_hooks'] if h['type'] != 'DistProbeHook'
    ]
    cfg['work_dir'] = str(tmp_path / 'single')
    cfg['load_from'] = ckpt
    # the ranks run one thread each (OMP_NUM_THREADS=1); with another thread
    # count the logits differ in the last bits (~1e-7), which flips the
    # argmax of near-tie pixels and makes an exact comparison fail at random
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        single = Runner.from_cfg(Config(cfg)).test()
    finally:
        torch.set_num_threads(threads)

    cfg_path = str(tmp_path / 'tiny_test.py')
    cfg['work_dir'] = str(tmp_path / 'dist')
    Config(cfg).dump(cfg_path)
    json_out = str(tmp_path / 'dist_metrics.json')
    proc = _torchrun('dist_test.sh', cfg_path, ckpt, 2, '--json-out',
                     json_out)
    with open(json_out) as f:
        dist = json.load(f)
    assert dist['metrics'] == single
    assert dist['levels'] == ['body', 'half', 'part']
    assert 'per level results' in proc.stdout
