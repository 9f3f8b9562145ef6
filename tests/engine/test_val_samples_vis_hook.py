"""ValSamplesVisHook: a few fixed validation images drawn every N training
iterations through the runner's visualizer (real runner, real MLflow
SQLite store), model modes restored."""
import glob
import json
import os.path as osp

import mmcv
import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from mmhierseg.engine.vis_backends import RUN_ID_FILE
from tests.engine._tiny import make_tiny_pascal_part, tiny_cfg


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp('vis_hook')
    data = make_tiny_pascal_part(str(root / 'data'), n_train=4, n_val=3)
    cfg = tiny_cfg(str(root / 'work'), data, max_iters=4, val_interval=100,
                   checkpoint_interval=100, mlflow=True)
    cfg['custom_hooks'].append(
        dict(type='ValSamplesVisHook', interval=2, num_samples=2))
    runner = Runner.from_cfg(Config(cfg))
    runner.train()
    return runner


@pytest.mark.slow
def test_panels_logged_every_interval_to_mlflow_and_disk(trained):
    import mlflow
    with open(osp.join(trained.work_dir, RUN_ID_FILE)) as f:
        info = json.load(f)
    client = mlflow.MlflowClient(tracking_uri=info['tracking_uri'])
    names = sorted(a.path for a in client.list_artifacts(info['run_id'])
                   if a.path.startswith('val_'))
    # images 0 and 2 of the 3 validation images, at iterations 2 and 4
    assert names == ['val_0004_iter000002.png', 'val_0004_iter000004.png',
                     'val_0006_iter000002.png', 'val_0006_iter000004.png']
    local = client.download_artifacts(info['run_id'], names[-1],
                                      trained.work_dir)
    panel = mmcv.imread(local)
    # input + 3 levels side by side, prediction and ground truth rows
    assert panel.shape[1] > 4 * 32 and panel.shape[0] > 2 * 32
    on_disk = glob.glob(osp.join(
        trained.work_dir, '*', 'vis_data', 'vis_image', 'val_*_iter*_*.png'))
    assert not any('.png_' in p for p in on_disk)
    assert len(on_disk) == 4


@pytest.mark.slow
def test_draw_restores_every_module_mode(trained):
    hook = [h for h in trained.hooks
            if type(h).__name__ == 'ValSamplesVisHook'][0]
    model = trained.model
    model.train()
    model.backbone.eval()  # a frozen part
    before = [m.training for m in model.modules()]
    hook.draw(trained, step=99)
    assert [m.training for m in model.modules()] == before


def test_bad_arguments():
    from mmhierseg.engine.hooks import ValSamplesVisHook
    with pytest.raises(ValueError, match='interval'):
        ValSamplesVisHook(interval=0)
