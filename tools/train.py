"""Train a hierarchical segmentor with MMEngine's runner.

Same arguments as mmseg's ``tools/train.py``; ``--resume`` takes an optional
checkpoint path (no value or ``auto``: the newest checkpoint of the work dir
that loads). Examples::

    python tools/train.py configs/demo/hierseg_synthetic_cpu.py
    python tools/train.py CONFIG --resume                 # latest checkpoint
    python tools/train.py CONFIG --resume work_dirs/x/iter_400.pth
    python tools/train.py CONFIG --cfg-options train_cfg.max_iters=100
    bash tools/dist_train.sh CONFIG 2                      # torchrun, 2 procs

Checkpoints are written whole or not at all; an exception ends the MLflow run
as ``FAILED``, Ctrl-C or SIGTERM as ``KILLED``.
"""
import argparse
import logging

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import Runner

from mmhierseg.engine.cli import add_common_args, load_config, run_tool
from mmhierseg.utils import preflight, register_all_modules, set_offline_env
from mmhierseg.utils.checkpoint import find_checkpoint


def parse_args(argv=None):
    """Command-line arguments.

    Args:
        argv (list[str], optional): Arguments; defaults to ``sys.argv[1:]``.

    Returns:
        argparse.Namespace: Parsed arguments.
    """
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        nargs='?',
        const='auto',
        default=None,
        metavar='CHECKPOINT',
        help='resume training: without a value (or "auto") from the newest '
        'checkpoint in the work dir that loads, otherwise from the given '
        'checkpoint. The optimizer, the iteration, the unfreeze stage and '
        'the MLflow run continue.')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic-mixed-precision training (GPU)')
    add_common_args(parser)
    return parser.parse_args(argv)


def build_cfg(args) -> Config:
    """Load the config and apply the command-line options.

    Args:
        args (argparse.Namespace): From :func:`parse_args`.

    Returns:
        Config: The config the runner is built from.
    """
    cfg = load_config(args)
    if args.amp:
        optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_wrapper == 'AmpOptimWrapper':
            print_log(
                'AMP training is already enabled in your config.',
                logger='current',
                level=logging.WARNING)
        else:
            if optim_wrapper != 'OptimWrapper':
                raise ValueError(
                    '`--amp` is only supported when the optimizer wrapper is '
                    f'OptimWrapper, got {optim_wrapper}')
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'

    # checkpoints are written whole or not at all (temp file + os.replace)
    checkpoint = cfg.setdefault('default_hooks', {}).setdefault(
        'checkpoint', dict(type='CheckpointHook', interval=1))
    if not (checkpoint.get('backend_args')
            or checkpoint.get('file_client_args')):
        checkpoint['backend_args'] = dict(backend='atomic_local')

    if args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
        if args.resume == 'auto':
            cfg.load_from = find_checkpoint(cfg.work_dir, loadable=True)
            print_log(f'--resume: resuming from {cfg.load_from}'
                      if cfg.load_from else '--resume: no checkpoint in '
                      f'{cfg.work_dir}, starting from scratch',
                      logger='current')
    return cfg


def main(argv=None):
    """Build the runner from the config and train.

    Args:
        argv (list[str], optional): Arguments; defaults to ``sys.argv[1:]``.

    Returns:
        Runner: The runner after training.
    """
    set_offline_env()
    register_all_modules()
    cfg = build_cfg(parse_args(argv))
    preflight(cfg, 'train')  # every missing input in one message
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


if __name__ == '__main__':
    run_tool(main)
