"""The one timing loop of the benchmarks, and peak-memory probes."""
import statistics
import time
from typing import Callable, Dict

import torch

__all__ = ['interleaved', 'peak_memory_mb', 'sync']


def sync(device: str) -> None:
    """Wait for queued CUDA work (a no-op on the CPU).

    Args:
        device (str): ``'cpu'`` or a CUDA device.
    """
    if str(device).startswith('cuda'):
        torch.cuda.synchronize()


def interleaved(fns: Dict[str, Callable[[], object]],
                reps: int = 5,
                warmup: int = 2,
                device: str = 'cpu') -> Dict[str, Dict[str, float]]:
    """Time callables that take turns in every repetition.

    Taking turns makes load on a shared machine hit every callable alike;
    the median resists the odd slow repetition. CUDA work is synchronised
    before and after each call.

    Args:
        fns (dict[str, callable]): The callables, by name.
        reps (int): Timed repetitions. Defaults to 5.
        warmup (int): Untimed repetitions first (lazy loads, caches).
            Defaults to 2.
        device (str): Where the callables run. Defaults to ``'cpu'``.

    Returns:
        dict[str, dict[str, float]]: ``{name: {'wall': s, 'cpu': s}}``, the
        median seconds of wall and process CPU time of one call.
    """
    if reps < 1:
        raise ValueError(f'reps must be >= 1, got {reps}')
    times = {name: ([], []) for name in fns}
    for rep in range(warmup + reps):
        for name, fn in fns.items():
            sync(device)
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            sync(device)
            if rep >= warmup:
                times[name][0].append(time.perf_counter() - wall)
                times[name][1].append(time.process_time() - cpu)
    return {name: dict(wall=statistics.median(w), cpu=statistics.median(c))
            for name, (w, c) in times.items()}


def _status_mb(field: str) -> float:
    with open('/proc/self/status') as f:
        line = next(ln for ln in f if ln.startswith(field + ':'))
    return int(line.split()[1]) / 1024


def peak_memory_mb(fn: Callable[[], object], device: str = 'cpu') -> float:
    """Peak memory that ``fn`` adds, in MB.

    On CUDA, ``torch.cuda.max_memory_allocated`` above what was allocated
    before. On the CPU, the growth of the peak resident set (``VmHWM``,
    reset first where Linux allows): run it in a fresh process per model,
    or earlier allocations hide later ones.

    Args:
        fn (callable): What to measure.
        device (str): Where it runs. Defaults to ``'cpu'``.

    Returns:
        float: Megabytes.
    """
    if str(device).startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        fn()
        return (torch.cuda.max_memory_allocated() - before) / 2**20
    try:  # reset the peak RSS (Linux >= 4.0)
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
    except OSError:
        pass
    before = _status_mb('VmRSS')
    fn()
    return _status_mb('VmHWM') - before
