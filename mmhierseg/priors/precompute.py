"""Helpers of ``tools/precompute_priors.py``: the jobs of a folder of
photos, and a progress display that suits a terminal and a log file."""
import os.path as osp
import sys
import time
from typing import List, Sequence

from .files import prior_path

__all__ = ['photo_jobs', 'Progress']


def photo_jobs(images: Sequence[str], out: str) -> List[tuple]:
    """Photos and their prior files under ``out``.

    Args:
        images (Sequence[str]): Folders, files or glob patterns (see
            :func:`~mmhierseg.apis.inputs.expand_inputs`); a photo given
            twice is done once.
        out (str): The folder of the prior files.

    Returns:
        list[tuple]: ``(img_path, target, read)``, ``read()`` giving the
        BGR image as the inferencer reads it (upright); target
        ``<out>/<file name without extension>.npz``, where the inferencer's
        ``prior_dir`` looks (:func:`prior_path`).

    Raises:
        SystemExit: No image, or two photos with one file name (the
            message says which).
    """
    from mmhierseg.apis.inputs import expand_inputs, read_input
    try:
        items = expand_inputs(list(images))
    except (FileNotFoundError, ValueError) as e:
        raise SystemExit(f'--images: {e}')
    out = osp.abspath(out)
    jobs, taken = [], {}
    for it in dict((osp.abspath(i.path), i) for i in items).values():
        target = prior_path(it.path, out)
        if target in taken:
            raise SystemExit(
                f'--images: {taken[target]} and {it.path} would both write '
                f'{target} (prior files are found by file name): rename one '
                'or run them with separate --out folders')
        taken[target] = it.path
        jobs.append((it.path, target, lambda it=it: read_input(it)))
    return jobs


class Progress:
    """A bar on a terminal (tqdm if installed, else mmengine's); otherwise
    one line per ``every`` images, with the rate (a log file then gets lines,
    not carriage returns).

    Args:
        total (int): Images to do.
        every (int): Images per line without a terminal.
    """

    def __init__(self, total: int, every: int) -> None:
        self.total, self.every, self.done = total, every, 0
        self.start, self.bar = time.perf_counter(), None
        if total and sys.stdout.isatty():
            try:
                from tqdm import tqdm
                self.bar = tqdm(total=total, unit='img')
            except ImportError:
                from mmengine.utils import ProgressBar
                self.bar = ProgressBar(total)

    def update(self) -> None:
        """One image done."""
        self.done += 1
        if self.bar is not None:
            self.bar.update()
        elif self.done % self.every == 0 or self.done == self.total:
            rate = self.done / max(time.perf_counter() - self.start, 1e-9)
            print(f'{self.done}/{self.total} images ({rate:.1f} images/s)',
                  flush=True)

    def close(self) -> None:
        """End the bar."""
        if self.bar is not None and hasattr(self.bar, 'close'):
            self.bar.close()
        elif self.bar is not None:
            print()
