"""Issue 9 case 11: every missing input of a config in one message, before
anything heavy starts (offline, no data, no weights)."""
import os
import os.path as osp
import subprocess
import sys

import pytest

from mmhierseg.utils.preflight import (CHECKS, Missing, MissingInputsError,
                                       check_inputs)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _env(tmp_path):
    env = dict(os.environ, MMHIERSEG_OFFLINE='1',
               YOLO_CONFIG_DIR=str(tmp_path / 'yolo'),
               HF_HOME=str(tmp_path / 'hf'), PYTHONPATH=ROOT)
    return env


@pytest.mark.slow
def test_main_command_on_a_fresh_machine_lists_everything_at_once(tmp_path):
    """`python tools/train.py configs/hierseg_deeplabv3.py`, no data, no
    weights, offline: one message naming every missing input (the dataset,
    whose folder would also hold the precomputed pose priors, and the
    encoder's ImageNet weights), exit 1, nothing started (no work dir files,
    no MLflow store)."""
    work = tmp_path / 'work'
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'train.py'),
         osp.join(ROOT, 'configs', 'hierseg_deeplabv3.py'), '--work-dir',
         str(work)],
        cwd=str(tmp_path), env=_env(tmp_path), capture_output=True,
        text=True, timeout=600)
    assert proc.returncode == 1, proc.stderr[-3000:]
    err = proc.stderr
    assert 'Traceback' not in err
    assert '2 input(s) this config needs are missing (train' in err
    for text in (
            '1. dataset root data/Pascal-part/ '
            '(train_dataloader.dataset.data_root): not found',
            "2. encoder weights 'imagenet' of resnet34 "
            '(model.backbone.weights)',
            'huggingface.co/smp-hub/resnet34.imagenet',
            '--cfg-options model.backbone.weights=None'):
        assert text in err, err
    assert err.count('Fix: ') == 2
    assert not work.exists() or not os.listdir(work)


def _data(root):
    for sub in ('JPEGImages', 'gt_masks'):
        os.makedirs(root / sub)
    (root / 'train_id.txt').write_text('a\n')
    (root / 'val_id.txt').write_text('b\n')
    return str(root)


def _cfg(data_root, weights, pose, sam):
    loader = dict(dataset=dict(type='PascalPartDataset', data_root=data_root,
                               hierarchy='pascal_part',
                               ann_file='train_id.txt'))
    val = dict(dataset=dict(loader['dataset'], ann_file='val_id.txt'))
    return dict(
        model=dict(
            type='HierEncoderDecoder',
            backbone=dict(type='SMPEncoder', name='resnet34',
                          weights=weights),
            stem=dict(type='PosePriorStem',
                      pose=dict(backend='ultralytics', weights=pose),
                      sam=dict(weights=sam))),
        train_dataloader=loader, val_dataloader=val, val_cfg=dict(),
        test_dataloader=val, load_from=None)


def test_everything_present_passes_and_each_absence_is_named(tmp_path):
    data = _data(tmp_path / 'data')
    enc = tmp_path / 'resnet34.pth'
    enc.write_bytes(b'x')
    cfg = _cfg(data, str(enc), 'yolov8n-pose.yaml', str(enc))
    check_inputs(cfg, 'train')  # nothing missing: no error
    os.remove(tmp_path / 'data' / 'val_id.txt')
    os.rmdir(tmp_path / 'data' / 'gt_masks')  # the layout's mask folder
    cfg['model']['backbone']['weights'] = str(tmp_path / 'gone.pth')
    cfg['model']['stem']['sam']['weights'] = str(tmp_path / 'sam.pt')
    with pytest.raises(MissingInputsError) as exc:
        check_inputs(cfg, 'train')
    msg = str(exc.value)
    assert msg.startswith('4 input(s) this config needs are missing')
    assert f"split file {data}/val_id.txt (val_dataloader.dataset" in msg
    assert f'mask folder {data}/gt_masks (train_dataloader.dataset' in msg
    assert f'encoder weights {tmp_path}/gone.pth' in msg
    assert f"FastSAM weights '{tmp_path}/sam.pt'" in msg
    # test mode: the test split and the checkpoint
    cfg['load_from'] = str(tmp_path / 'best.pth')
    cfg['model']['backbone']['weights'] = None
    cfg['model']['stem']['sam']['weights'] = 'FastSAM-s.yaml'
    with pytest.raises(MissingInputsError) as exc:
        check_inputs(cfg, 'test')
    msg = str(exc.value)
    assert msg.startswith('3 input(s)') and '(test;' in msg
    assert f'checkpoint {tmp_path}/best.pth (load_from)' in msg


def test_stem_without_mask_channel_needs_no_fastsam_and_mmpose(tmp_path):
    data = _data(tmp_path / 'data')
    cfg = _cfg(data, None, 'yolov8n-pose.yaml', 'FastSAM-s.pt')
    cfg['model']['stem']['channels'] = ('head', 'torso')
    check_inputs(cfg, 'train')
    cfg['model']['stem']['pose'] = dict(
        backend='mmpose', config=str(tmp_path / 'rtm.py'),
        checkpoint='https://example.org/rtm.pth',
        det=dict(weights='yolov8n.pt'))
    with pytest.raises(MissingInputsError) as exc:
        check_inputs(cfg, 'train')
    msg = str(exc.value)
    assert msg.startswith('3 input(s)')
    for key in ('model.stem.pose.config', 'model.stem.pose.checkpoint',
                'model.stem.pose.det.weights'):
        assert f'({key})' in msg


def test_checks_are_a_list_of_functions(tmp_path):
    def check_priors(cfg, ctx):
        return [Missing('priors folder x', 'priors', 'not found', 'make it')]

    data = _data(tmp_path / 'data')
    cfg = _cfg(data, None, 'yolov8n-pose.yaml', 'FastSAM-s.yaml')
    with pytest.raises(MissingInputsError, match=r'1\. priors folder x'):
        check_inputs(cfg, 'train', checks=CHECKS + [check_priors])


def test_walk_datasets_opens_wrappers_in_order():
    from mmhierseg.utils.config_walk import walk_datasets
    from mmhierseg.utils.prior_checks import prior_datasets
    load = dict(type='LoadPoseAnnotations', prior_dir='p')
    a = dict(type='A', pipeline=[dict(type='LoadImageFromFile'), load])
    b = dict(type='B')
    cfg = dict(train_dataloader=dict(dataset=dict(
        type='ConcatDataset',
        datasets=[dict(type='RepeatDataset', times=2, dataset=a), b])),
        val_dataloader=dict(dataset=b), test_dataloader=None)
    assert [(s, k, d['type'], len(p)) for s, k, d, p in walk_datasets(cfg)] \
        == [('train', 'train_dataloader.dataset.datasets.0.dataset', 'A', 2),
            ('train', 'train_dataloader.dataset.datasets.1', 'B', 0),
            ('val', 'val_dataloader.dataset', 'B', 0)]
    assert prior_datasets(cfg, ['train', 'val']) == [(a, load)]
    assert prior_datasets(cfg, ['val', 'test']) == []
