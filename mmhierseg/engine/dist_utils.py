"""Distributed runs on machines without CUDA (gloo), for the tools.

MMEngine's ``init_dist('pytorch')`` calls ``torch.cuda.set_device`` before
``init_process_group``, which raises on a machine without an NVIDIA driver
even with the gloo backend. :func:`prepare_cpu_distributed` switches the
backend to gloo and initialises the process group itself (from the
``torchrun`` environment), so the runner finds it initialised and skips its
own CUDA-only set-up. MMEngine also passes ``device_ids=[LOCAL_RANK]`` to
DistributedDataParallel, which torch refuses for CPU modules; the wrapper
config gets ``device_ids=None`` instead.
"""
import os
from datetime import timedelta

import torch
import torch.distributed as torch_dist
from mmengine.config import Config

__all__ = ['prepare_cpu_distributed', 'shutdown_distributed']


def prepare_cpu_distributed(cfg: Config) -> bool:
    """Use gloo without CUDA; init the process group for ``pytorch`` launches.

    Args:
        cfg (Config): The runner config (``launcher``, ``env_cfg``,
            ``model_wrapper_cfg``), changed in place when CUDA is
            unavailable: ``env_cfg.dist_cfg.backend`` ``nccl`` (or unset)
            becomes ``'gloo'`` and, for distributed launchers, the DDP
            wrapper gets ``device_ids=None``.

    Returns:
        bool: True if this function initialised the process group.
    """
    if torch.cuda.is_available():
        return False
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    if dist_cfg.get('backend', 'nccl') == 'nccl':
        dist_cfg['backend'] = 'gloo'
    launcher = cfg.get('launcher', 'none')
    if launcher == 'none':
        return False
    wrapper = cfg.get('model_wrapper_cfg', None)
    if wrapper is None:
        # what the runner would build, minus the GPU device id
        wrapper = dict(
            type='MMDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    if wrapper.get('type', 'MMDistributedDataParallel') in (
            'MMDistributedDataParallel', 'DistributedDataParallel'):
        wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    if launcher != 'pytorch' or torch_dist.is_initialized():
        return False
    kwargs = {k: v for k, v in dist_cfg.items() if k != 'backend'}
    if 'timeout' in kwargs and not isinstance(kwargs['timeout'], timedelta):
        kwargs['timeout'] = timedelta(seconds=kwargs['timeout'])
    torch_dist.init_process_group(
        backend=dist_cfg['backend'],
        rank=int(os.environ['RANK']),
        world_size=int(os.environ['WORLD_SIZE']),
        **kwargs)
    return True


def shutdown_distributed(barrier: bool = True) -> None:
    """Tear the default process group down before the interpreter exits.

    Without it, a rank can abort at exit with ``terminate called without an
    active exception`` (a gloo/store thread destroyed while still joinable),
    which makes ``torchrun`` report a failed job after a successful run. All
    ranks meet at a barrier first, so no rank leaves while another still
    talks to it. Does nothing outside distributed runs.

    Args:
        barrier (bool): Wait for all ranks first. Pass False after an
            error, when other ranks may already be gone.
    """
    import torch.distributed as torch_dist
    if not (torch_dist.is_available() and torch_dist.is_initialized()):
        return
    try:
        if barrier:
            torch_dist.barrier()
    finally:
        torch_dist.destroy_process_group()
