"""tools/benchmark_prior.py runs end to end (tiny, in-process)."""
import importlib.util
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))


def test_benchmark_prior_runs(fastsam_weights, tmp_path, monkeypatch,
                              capsys):
    from ultralytics import YOLO
    pose_pt = str(tmp_path / 'pose.pt')
    YOLO('yolov8n-pose.yaml').save(pose_pt)
    spec = importlib.util.spec_from_file_location(
        'benchmark_prior', osp.join(ROOT, 'tools', 'benchmark_prior.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(sys, 'argv', [
        'benchmark_prior.py', '--pose-weights', pose_pt, '--sam-weights',
        fastsam_weights, '--num-images', '3', '--size', '64', '--imgsz', '64',
        '--batch-size', '2', '--force-boxes'
    ])
    module.main()  # asserts itself that the warm pass hit the cache
    out = capsys.readouterr().out
    assert '3 images 64x64' in out and 'force boxes: True' in out
    for row in ('(a) prototype', 'cold cache, steady state', 'warm cache'):
        assert row in out
    # FastSAM ran on every image in both ways (forced full-image boxes)
    assert 'empty images: 0' in out
