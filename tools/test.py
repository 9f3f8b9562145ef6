"""Test (evaluate) a hierarchical segmentor checkpoint.

Same arguments as mmseg's ``tools/test.py``, plus ``--json-out`` to write the
metrics as JSON. Prints the per-level table (mIoU0 / mIoU1 / mIoU2,
background excluded, aAcc, consistency). Examples::

    python tools/test.py CONFIG CHECKPOINT
    python tools/test.py CONFIG CHECKPOINT --json-out metrics.json
    python tools/test.py CONFIG CHECKPOINT --show-dir vis/  # level overlays
    python tools/test.py CONFIG CHECKPOINT --out preds/      # PNG per level
    bash tools/dist_test.sh CONFIG CHECKPOINT 2

The test run is logged to MLflow as a run of its own (tag ``mode=test``); it
never reopens or overwrites the training run.
"""
import argparse
import os.path as osp

from mmengine.config import Config
from mmengine.dist import is_main_process
from mmengine.fileio import dump
from mmengine.runner import Runner

from mmhierseg.engine.cli import add_common_args, load_config, run_tool
from mmhierseg.evaluation import level_summary_table
from mmhierseg.hierarchy import ClassHierarchy
from mmhierseg.utils import preflight, register_all_modules, set_offline_env


def parse_args(argv=None):
    """Command-line arguments.

    Args:
        argv (list[str], optional): Arguments; defaults to ``sys.argv[1:]``.

    Returns:
        argparse.Namespace: Parsed arguments.
    """
    parser = argparse.ArgumentParser(
        description='Test (and eval) a hierarchical segmentor')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out',
        type=str,
        help='directory to save the predictions (PNG per level) for offline '
        'evaluation')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory where painted images will be saved. If specified, '
        'the visualizations are saved to work_dir/timestamp/show_dir')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument(
        '--json-out', help='write the metrics (and level names) as JSON here')
    parser.add_argument(
        '--tta', action='store_true', help='test time augmentation')
    add_common_args(parser)
    return parser.parse_args(argv)


def trigger_visualization_hook(cfg: Config, args) -> Config:
    """Turn on drawing in the visualization hook for ``--show``/``--show-dir``.

    Args:
        cfg (Config): The config.
        args (argparse.Namespace): Parsed arguments.

    Returns:
        Config: The config.
    """
    default_hooks = cfg.default_hooks
    if 'visualization' not in default_hooks:
        raise RuntimeError(
            '--show/--show-dir need a visualization hook in default_hooks, '
            "e.g. visualization=dict(type='SegVisualizationHook')")
    hook = default_hooks['visualization']
    hook['draw'] = True
    hook['interval'] = 1
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        cfg.visualizer['save_dir'] = args.show_dir
    return cfg


def build_cfg(args) -> Config:
    """The config for evaluating ``args.checkpoint`` (options applied).

    Args:
        args (argparse.Namespace): From :func:`parse_args`.

    Returns:
        Config: The config the runner is built from.
    """
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    cfg.resume = False

    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)

    if args.tta:
        if cfg.get('tta_pipeline') is None or cfg.get('tta_model') is None:
            raise ValueError('--tta needs `tta_pipeline` and `tta_model` in '
                             'the config')
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model

    if args.out is not None:
        cfg.test_evaluator['output_dir'] = args.out
        cfg.test_evaluator['keep_results'] = True

    # a test run is an MLflow run of its own: never resume or record it as
    # the training run of the work dir
    for backend in cfg.get('visualizer', {}).get('vis_backends', []) or []:
        if backend.get('type') == 'HierMLflowVisBackend':
            backend['run_id_file'] = None
            backend.setdefault(
                'run_name', 'test_' +
                osp.splitext(osp.basename(args.checkpoint))[0])
            tags = dict(backend.get('tags') or {})
            tags.update(mode='test', checkpoint=osp.abspath(args.checkpoint))
            backend['tags'] = tags
    return cfg


def _level_names(runner):
    """Level names of the evaluated tree (dataset meta, else the model)."""
    try:
        meta = runner.test_dataloader.dataset.metainfo
        if meta.get('hierarchy') is not None:
            return ClassHierarchy.build(meta['hierarchy']).level_names
    except Exception:  # noqa: BLE001 - fall back to the model
        pass
    model = runner.model.module if hasattr(runner.model,
                                           'module') else runner.model
    hier = getattr(model, 'hierarchy', None)
    return getattr(hier, 'level_names', None)


def main(argv=None):
    """Evaluate the checkpoint; print and optionally save the metrics.

    Args:
        argv (list[str], optional): Arguments; defaults to ``sys.argv[1:]``.

    Returns:
        dict: The metrics.
    """
    set_offline_env()
    register_all_modules()
    args = parse_args(argv)
    runner = Runner.from_cfg(preflight(build_cfg(args), 'test'))
    metrics = runner.test()
    if not is_main_process():
        return metrics
    levels = _level_names(runner)
    if levels and metrics:
        print('per level results (test set, background excluded):')
        print(level_summary_table(metrics, levels).get_string(), flush=True)
    if args.json_out:  # mmengine's dump creates the folder
        dump(
            dict(
                config=osp.abspath(args.config),
                checkpoint=osp.abspath(args.checkpoint),
                levels=list(levels) if levels else None,
                metrics={k: float(v) for k, v in metrics.items()}),
            args.json_out,
            file_format='json',
            indent=2)
        print(f'metrics written to {args.json_out}', flush=True)
    return metrics


if __name__ == '__main__':
    run_tool(main)
