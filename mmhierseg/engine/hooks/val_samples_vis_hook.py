"""Watch a few validation images improve: :class:`ValSamplesVisHook`."""
import os.path as osp
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS

from mmhierseg.datasets.images import load_image

__all__ = ['ValSamplesVisHook']


@HOOKS.register_module()
class ValSamplesVisHook(Hook):
    """Every ``interval`` training iterations, predict a few fixed validation
    images and log their panels through the runner's visualizer.

    The panel is :class:`~mmhierseg.visualization.HierSegLocalVisualizer`'s
    (input, every level's prediction and ground truth, level titles, class
    legend), so with ``HierMLflowVisBackend`` the pictures land in the MLflow
    run (``mlflow ui``: the run's artifacts) and with ``LocalVisBackend`` in
    ``<work_dir>/<timestamp>/vis_data/vis_image``. The same images are used
    every time (evenly spaced over the validation set, or ``indices``), and
    the step is part of the name, ``val_<image>_iter<step>``, so earlier
    pictures are kept next to later ones (MLflow:
    ``val_<image>_iter<step>.png``; ``LocalVisBackend`` appends its own
    ``_<step>.png``). Images are read under the
    dataset's EXIF orientation policy (``image_orientation``), as its
    pipeline reads them.

    The model runs in eval mode for these few images; every module's
    train/eval state is restored afterwards (frozen stages stay frozen). Only
    the main process draws.

    Args:
        interval (int): Training iterations between two drawings.
        num_samples (int): Number of validation images. Defaults to 4.
        indices (Sequence[int], optional): Explicit validation indices
            (overrides ``num_samples``).
        draw_at_start (bool): Also draw before the first iteration (the
            untrained model). Defaults to False.
    """

    priority = 'LOW'

    def __init__(self,
                 interval: int = 100,
                 num_samples: int = 4,
                 indices: Optional[Sequence[int]] = None,
                 draw_at_start: bool = False):
        if int(interval) < 1 or int(num_samples) < 1:
            raise ValueError('ValSamplesVisHook: interval and num_samples '
                             f'must be >= 1, got {interval}, {num_samples}')
        self.interval = int(interval)
        self.num_samples = int(num_samples)
        self.indices = None if indices is None else [int(i) for i in indices]
        self.draw_at_start = draw_at_start

    def before_train(self, runner) -> None:
        """Pick the images (and draw them once if ``draw_at_start``)."""
        size = len(runner.val_dataloader.dataset)
        if self.indices is None:
            self.indices = sorted(set(np.linspace(
                0, size - 1, min(self.num_samples, size)).astype(int)))
        bad = [i for i in self.indices if not 0 <= i < size]
        if bad:
            raise ValueError(f'ValSamplesVisHook: indices {bad} outside the '
                             f'validation set (0..{size - 1})')
        if self.draw_at_start:
            self.draw(runner, step=runner.iter)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        """Draw every ``interval`` iterations."""
        if self.every_n_train_iters(runner, self.interval):
            self.draw(runner, step=runner.iter + 1)

    @torch.no_grad()
    def draw(self, runner, step: int) -> None:
        """Predict the chosen images and hand the panels to the visualizer.

        Args:
            runner (Runner): The runner.
            step (int): The iteration the pictures belong to.
        """
        if not is_main_process():
            return
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        modes = [(m, m.training) for m in model.modules()]
        model.eval()
        try:
            dataset = runner.val_dataloader.dataset
            for i in self.indices:
                out = model.test_step(pseudo_collate([dataset[i]]))[0]
                img = load_image(out.img_path,  # the dataset's EXIF policy
                                 getattr(dataset, 'image_orientation', None),
                                 channel_order='rgb')
                stem = osp.splitext(osp.basename(out.img_path))[0]
                # no extension: the backends add theirs (a '.png' here
                # became LocalVisBackend's '..._iter000004.png_4.png')
                runner.visualizer.add_datasample(
                    f'val_{stem}_iter{step:06d}', img, data_sample=out,
                    step=step)
        finally:
            for module, training in modes:  # parents first, then children
                module.train(training)
