"""What the tools share. ``tools/train.py`` and ``tools/test.py``: the common
arguments, the config they build the runner from, and how a tool process runs
and ends; the dataset tools: the ``NAME=FILE`` split-file arguments.
"""
import argparse
import os
import os.path as osp
import signal
from typing import Callable

from mmengine.config import Config, DictAction

from .dist_utils import prepare_cpu_distributed, shutdown_distributed

__all__ = ['add_common_args', 'load_config', 'run_tool', 'SplitFilesAction']


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--work-dir``, ``--cfg-options``, ``--launcher``, ``--local-rank``.

    Args:
        parser (ArgumentParser): The tool's parser (its ``config`` first).
    """
    parser.add_argument('--work-dir', help='the dir to save logs and models')
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


def load_config(args: argparse.Namespace) -> Config:
    """Load ``args.config`` and apply the common options.

    ``work_dir``: ``--work-dir``, else the config's, else
    ``./work_dirs/<config name>``. Without CUDA, distributed runs use gloo
    (see :func:`prepare_cpu_distributed`).

    Args:
        args (Namespace): Parsed arguments (see :func:`add_common_args`).

    Returns:
        Config: The config.
    """
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    prepare_cpu_distributed(cfg)
    return cfg


def _terminate(signum, frame):
    raise KeyboardInterrupt(f'terminated by {signal.Signals(signum).name}')


def run_tool(main: Callable) -> None:
    """Run a tool's ``main`` as a process.

    SIGTERM (what Slurm or Kubernetes send) stops it the way Ctrl-C does, so
    the MLflow run ends ``KILLED``; the process group of a distributed run is
    torn down before the interpreter exits.

    Args:
        main (Callable): The tool's ``main()``.
    """
    signal.signal(signal.SIGTERM, _terminate)
    try:
        main()
    except BaseException:
        shutdown_distributed(barrier=False)
        raise
    shutdown_distributed()


class SplitFilesAction(DictAction):
    """``NAME=FILE ...`` (e.g. ``train=train_id.txt val=val_id.txt``) into
    ``{name: file}``: mmengine's :class:`DictAction`, each value passed
    through ``str`` (a file named ``1`` stays a name, not a number)."""

    def __call__(self, parser, namespace, values, option_string=None):
        super().__call__(parser, namespace, values, option_string)
        files = getattr(namespace, self.dest)
        setattr(namespace, self.dest, {k: str(v) for k, v in files.items()})
