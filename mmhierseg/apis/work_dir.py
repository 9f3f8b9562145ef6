"""Find the config and checkpoint of a training work dir."""
import glob
import os.path as osp
from typing import Optional

from mmhierseg.utils.checkpoint import find_checkpoint

__all__ = ['resolve_work_dir']


def resolve_work_dir(work_dir: str, weights: Optional[str] = None):
    """Config and checkpoint of a training work dir.

    The config is the one ``tools/train.py`` dumped into the work dir; the
    checkpoint is ``weights`` if given, else the best one (see
    :func:`~mmhierseg.utils.checkpoint.find_checkpoint`).

    Args:
        work_dir (str): The work dir.
        weights (str, optional): A checkpoint that overrides the search.

    Returns:
        tuple[str, str]: Config path and checkpoint path.
    """
    configs = sorted(glob.glob(osp.join(work_dir, '*.py')))
    if len(configs) != 1:
        raise FileNotFoundError(
            f'work dir {work_dir}: expected one config (*.py, dumped by '
            f'tools/train.py), found {len(configs)} {configs}; give the '
            'config and the checkpoint instead')
    weights = weights or find_checkpoint(work_dir, best=True)
    if weights is None:
        raise FileNotFoundError(
            f'work dir {work_dir} holds no checkpoint (best_*.pth, '
            'iter_*.pth, epoch_*.pth): train into it first (tools/train.py),'
            ' or give the config and a checkpoint (tools/infer.py CONFIG '
            'CHECKPOINT ..., HierSegInferencer(config, weights))')
    return configs[0], weights
