"""mmseg's visualization hook, reading images the way the dataset does."""
import os.path as osp
from typing import Sequence

from mmseg.engine.hooks import SegVisualizationHook
from mmseg.registry import HOOKS
from mmseg.structures import SegDataSample

from mmhierseg.datasets.images import load_image

__all__ = ['HierSegVisualizationHook']


@HOOKS.register_module()
class HierSegVisualizationHook(SegVisualizationHook):
    """:class:`mmseg.engine.hooks.SegVisualizationHook` under the dataset's
    EXIF orientation policy.

    mmseg's hook decodes ``img_path`` with the EXIF orientation tag applied,
    while the dataset may read the same file as stored
    (``image_orientation='raw'``, right for Pascal-part). The predictions
    follow the dataset's reading, so a tagged image would be drawn rotated
    against its own prediction. This hook reads the image with
    :func:`~mmhierseg.datasets.images.load_image` under the policy of the
    dataset being evaluated (``image_orientation`` of the val/test dataset;
    the default policy when the dataset has none). ``tools/test.py
    --show-dir`` and validation drawing go through it.

    Args:
        **kwargs: Those of :class:`SegVisualizationHook`.
    """

    def _after_iter(self,
                    runner,
                    batch_idx: int,
                    data_batch: dict,
                    outputs: Sequence[SegDataSample],
                    mode: str = 'val') -> None:
        """Draw every ``interval`` val/test iterations.

        Args:
            runner (Runner): The runner.
            batch_idx (int): Index of the batch in the loop.
            data_batch (dict): The batch.
            outputs (Sequence[SegDataSample]): The predictions.
            mode (str): ``'val'`` or ``'test'``.
        """
        if self.draw is False or mode == 'train':
            return
        if not self.every_n_inner_iters(batch_idx, self.interval):
            return
        loop = runner.val_loop if mode == 'val' else runner.test_loop
        orientation = getattr(loop.dataloader.dataset, 'image_orientation',
                              None)
        for output in outputs:
            img = load_image(output.img_path, orientation,
                             channel_order='rgb',
                             backend_args=self.backend_args)
            self._visualizer.add_datasample(
                f'{mode}_{osp.basename(output.img_path)}',
                img,
                data_sample=output,
                show=self.show,
                wait_time=self.wait_time,
                step=runner.iter)
