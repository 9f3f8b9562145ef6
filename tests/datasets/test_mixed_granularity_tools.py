"""Mixed granularity in the data tools: the synthetic generator's coarse
splits and tools/check_dataset.py --label-level."""
import json

import numpy as np
import pytest


@pytest.fixture(scope='module')
def mixed_root(tmp_path_factory, load_tool):
    root = tmp_path_factory.mktemp('mixed') / 'data'
    assert load_tool('make_synthetic_dataset').main([
        str(root), '--num-train', '2', '--num-val', '1', '--coarse-train',
        '2', '--coarse-val', '1', '--coarse-level', 'body']) == 0
    return root


def test_generator_writes_body_level_splits(mixed_root, tmp_path, load_tool):
    train = (mixed_root / 'train_body_id.txt').read_text().split()
    val = (mixed_root / 'val_body_id.txt').read_text().split()
    assert train == ['synth_body_000000', 'synth_body_000001']
    assert val == ['synth_body_000002']
    for i in train + val:
        mask = np.load(mixed_root / 'gt_masks' / f'{i}.npy')
        assert set(np.unique(mask)) <= {0, 1, 255} and mask.max() == 1
        assert (mixed_root / 'priors' / f'{i}.npz').is_file()
    record = json.loads((mixed_root / 'synthetic.json').read_text())
    assert record['coarse_level'] == 'body'
    # the part-labelled images are those of a plain run, byte for byte
    plain = tmp_path / 'plain'
    assert load_tool('make_synthetic_dataset').main(
        [str(plain), '--num-train', '2', '--num-val', '1']) == 0
    for split in ('train_id.txt', 'val_id.txt'):
        assert (plain / split).read_text() == (mixed_root / split).read_text()
    for i in (plain / 'train_id.txt').read_text().split():
        assert np.array_equal(np.load(plain / 'gt_masks' / f'{i}.npy'),
                              np.load(mixed_root / 'gt_masks' / f'{i}.npy'))
    assert 'coarse_level' not in json.loads(
        (plain / 'synthetic.json').read_text())


def test_check_dataset_checks_masks_against_the_label_level(
        mixed_root, load_tool, capsys):
    check = load_tool('check_dataset').main
    body = ['--splits', 'train=train_body_id.txt', 'val=val_body_id.txt']
    assert check([str(mixed_root), '--label-level', 'body', *body]) == 0
    out = capsys.readouterr().out
    assert 'label level: 0 (body)' in out and 'no problems found' in out
    assert 'images containing each class: background 3, body 3' in out
    # part masks checked as body-level masks: values above 1 are named
    assert check([str(mixed_root), '--label-level', '0']) == 1
    out = capsys.readouterr().out
    assert "outside the ids of its label level 'body'" in out
    assert 'synth_000000.npy' in out
