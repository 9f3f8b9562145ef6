"""Train a hierarchical segmentor with MMEngine's runner.

Same arguments as mmseg's ``tools/train.py``; ``--resume`` takes an optional
checkpoint path (no value or ``auto``: the latest checkpoint of the work
dir). Examples::

    python tools/train.py configs/demo/hierseg_synthetic_cpu.py
    python tools/train.py CONFIG --resume                 # latest checkpoint
    python tools/train.py CONFIG --resume work_dirs/x/iter_400.pth
    python tools/train.py CONFIG --cfg-options train_cfg.max_iters=100
    bash tools/dist_train.sh CONFIG 2                      # torchrun, 2 procs

An exception (or Ctrl-C) ends the MLflow run as ``FAILED`` (``KILLED``)
before it propagates, so no run is left ``RUNNING``.
"""
import argparse
import logging
import os
import os.path as osp
import sys

# run from a source checkout without installing: make `mmhierseg` importable
_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from mmhierseg.utils import set_offline_env  # noqa: E402

set_offline_env()

import mmhierseg  # noqa: E402,F401  (registers everything, mmcv-lite shim)
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.logging import print_log  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mmhierseg.engine import (close_mlflow_backends,  # noqa: E402
                              prepare_cpu_distributed, shutdown_distributed)


def parse_args(argv=None):
    """Command-line arguments.

    Args:
        argv (list[str], optional): Arguments; defaults to ``sys.argv[1:]``.

    Returns:
        argparse.Namespace: Parsed arguments.
    """
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        const='auto',
        default=None,
        metavar='CHECKPOINT',
        help='resume training: without a value (or "auto") from the latest '
        'checkpoint in the work dir, otherwise from the given checkpoint. '
        'The optimizer, the iteration, the unfreeze stage and the MLflow run '
        'continue.')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic-mixed-precision training (GPU)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file. If the value to '
        'be overwritten is a list, it should be like key="[a,b]" or key=a,b '
        'It also allows nested list/tuple values, e.g. key="[(a,b),(c,d)]" '
        'Note that the quotation marks are necessary and that no white space '
        'is allowed.')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def build_cfg(args) -> Config:
    """Load the config and apply the command-line options.

    Args:
        args (argparse.Namespace): From :func:`parse_args`.

    Returns:
        Config: The config the runner is built from.
    """
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    # work_dir: CLI > config > ./work_dirs/<config name>
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

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

    if args.resume is not None:
        cfg.resume = True
        cfg.load_from = None if args.resume == 'auto' else args.resume

    # NCCL needs GPUs: without CUDA, distributed runs use gloo
    prepare_cpu_distributed(cfg)
    return cfg


def main(argv=None):
    """Build the runner from the config and train.

    Args:
        argv (list[str], optional): Arguments; defaults to ``sys.argv[1:]``.

    Returns:
        Runner: The runner after training.
    """
    args = parse_args(argv)
    cfg = build_cfg(args)
    runner = None
    try:
        runner = Runner.from_cfg(cfg)
        runner.train()
    except BaseException as e:
        status = 'KILLED' if isinstance(e, KeyboardInterrupt) else 'FAILED'
        # the runner may have failed half-built, after its MLflow run began
        close_mlflow_backends(
            runner.visualizer if runner is not None else None, status=status)
        raise
    return runner


if __name__ == '__main__':
    try:
        main()
    except BaseException:
        shutdown_distributed(barrier=False)
        raise
    shutdown_distributed()
