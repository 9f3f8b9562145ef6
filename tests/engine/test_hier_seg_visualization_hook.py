"""HierSegVisualizationHook (``tools/test.py --show-dir``) reads images under
the dataset's EXIF orientation policy, as the pipeline does (real runner)."""
import io
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.runner import Runner
from PIL import Image

from tests.engine._tiny import make_tiny_pascal_part, tiny_cfg


def _tag_last_val_image(root):
    """Make the last validation image 32x48 (stored order), EXIF tag 6."""
    with open(osp.join(root, 'val_id.txt')) as f:
        img_id = f.read().split()[-1]
    rng = np.random.default_rng(0)
    raw = rng.integers(0, 255, (32, 48, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6  # shown rotated by 90 degrees: 48x32
    buf = io.BytesIO()
    Image.fromarray(raw).save(buf, 'JPEG', quality=95, exif=exif.tobytes())
    with open(osp.join(root, 'JPEGImages', f'{img_id}.jpg'), 'wb') as f:
        f.write(buf.getvalue())
    mask = np.zeros((32, 48), np.uint8)
    mask[8:24, 10:30] = 2
    np.save(osp.join(root, 'gt_masks', f'{img_id}.npy'), mask)
    return img_id


@pytest.mark.slow  # a real runner
@pytest.mark.parametrize('policy,expected_hw', [('raw', (32, 48)),
                                                ('exif', (48, 32))])
def test_show_dir_images_follow_dataset_policy(tmp_path, monkeypatch, policy,
                                               expected_hw):
    data = make_tiny_pascal_part(str(tmp_path / 'data'), n_train=2, n_val=2)
    img_id = _tag_last_val_image(data)
    cfg = tiny_cfg(str(tmp_path / 'work'), data)
    cfg['test_dataloader']['dataset']['image_orientation'] = policy
    if policy == 'exif':  # the mask follows the displayed image then
        np.save(osp.join(data, 'gt_masks', f'{img_id}.npy'),
                np.zeros((48, 32), np.uint8))
    cfg['default_hooks']['visualization'] = dict(
        type='HierSegVisualizationHook', draw=True, interval=1)
    runner = Runner.from_cfg(Config(cfg))
    drawn = {}

    def record(name, image, data_sample=None, **kwargs):
        drawn[osp.basename(data_sample.img_path)] = (
            image.shape[:2], tuple(data_sample.pred_sem_seg.shape))

    monkeypatch.setattr(runner.visualizer, 'add_datasample', record)
    runner.test()
    image_hw, pred_hw = drawn[f'{img_id}.jpg']
    assert image_hw == expected_hw
    assert pred_hw == expected_hw  # drawn image and prediction agree
