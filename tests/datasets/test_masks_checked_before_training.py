"""Issue 9 case 10: a bad validation mask stops training before its first
iteration (through a real runner), with one error naming every bad file."""
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from mmhierseg.datasets import InvalidLabelMapError
from tests.engine._tiny import make_tiny_pascal_part, tiny_cfg


@pytest.mark.slow  # a real runner
def test_bad_validation_masks_fail_before_the_first_iteration(tmp_path):
    data = make_tiny_pascal_part(str(tmp_path / 'data'), n_train=4,
                                 n_val=3)
    masks = osp.join(data, 'gt_masks')
    values = osp.join(masks, '0004.npy')  # val: a value outside the tree
    m = np.load(values)
    m[3, 3] = 9
    np.save(values, m)
    dtype = osp.join(masks, '0006.npy')  # val: floats
    np.save(dtype, np.load(dtype).astype(np.float32))
    cfg = tiny_cfg(str(tmp_path / 'work'), data, max_iters=4,
                   val_interval=4)
    runner = Runner.from_cfg(Config(cfg))
    with pytest.raises(InvalidLabelMapError) as exc:
        runner.train()
    msg = str(exc.value)
    assert runner.iter == 0
    assert '2 problem(s) with the masks of this split' in msg
    assert f'id 0004: label map {values} holds values [9]' in msg
    assert f'id 0006: label map {dtype} has dtype float32' in msg
    assert 'tools/check_dataset.py' in msg


def test_mask_of_another_image_size_is_caught_from_the_header(tmp_path):
    data = make_tiny_pascal_part(str(tmp_path / 'data'), n_train=2,
                                 n_val=2)
    bad = osp.join(data, 'gt_masks', '0003.npy')
    np.save(bad, np.zeros((32, 30), np.uint8))
    cfg = Config(tiny_cfg(str(tmp_path / 'work'), data))
    from mmseg.registry import DATASETS
    with pytest.raises(InvalidLabelMapError, match=r'0003\.npy is 32x30'):
        DATASETS.build(cfg.val_dataloader.dataset)
    # the check can be switched off (the sample then fails when loaded)
    cfg.val_dataloader.dataset.check_masks = False
    ds = DATASETS.build(cfg.val_dataloader.dataset)
    with pytest.raises(InvalidLabelMapError, match=r'0003\.npy is 32x30'):
        ds[1]
