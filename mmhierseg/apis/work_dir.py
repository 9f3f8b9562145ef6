"""Find the config and checkpoint of a training work dir."""
import glob
import os.path as osp
import re
from typing import Optional

__all__ = ['resolve_work_dir']


def resolve_work_dir(work_dir: str, weights: Optional[str] = None):
    """Config and checkpoint of a training work dir.

    The config is the one ``tools/train.py`` dumped into the work dir; the
    checkpoint is ``weights`` if given, else the newest ``best_*.pth``, else
    the one ``last_checkpoint`` names (looked up in ``work_dir`` if the work
    dir was moved), else the highest ``iter_*.pth``/``epoch_*.pth``.

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
            f'tools/train.py), found {len(configs)} {configs}; pass the '
            'config and the checkpoint instead')
    if weights is not None:
        return configs[0], weights
    best = sorted(glob.glob(osp.join(work_dir, 'best_*.pth')),
                  key=osp.getmtime)
    if best:
        return configs[0], best[-1]
    last = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(last):
        with open(last) as f:
            name = osp.basename(f.read().strip())
        if osp.isfile(osp.join(work_dir, name)):
            return configs[0], osp.join(work_dir, name)

    def number(path):
        m = re.search(r'(\d+)\.pth$', path)
        return int(m.group(1)) if m else -1

    ckpts = sorted(glob.glob(osp.join(work_dir, '*.pth')), key=number)
    if not ckpts:
        raise FileNotFoundError(f'work dir {work_dir} holds no checkpoint '
                                '(*.pth); pass weights=...')
    return configs[0], ckpts[-1]
