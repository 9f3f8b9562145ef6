"""Per-level overlays for hierarchical predictions."""
from typing import Optional

import mmcv
import numpy as np
from mmseg.registry import VISUALIZERS
from mmseg.structures import SegDataSample
from mmseg.visualization import SegLocalVisualizer

from ..hierarchy import ClassHierarchy
from ..structures import level_maps
from .panel import draw_panel
from .prior_cells import prior_cells

__all__ = ['HierSegLocalVisualizer', 'level_field']


def level_field(hierarchy: ClassHierarchy, level: int, prefix: str) -> str:
    """Name of the ``SegDataSample`` field that holds one level's map.

    The leaf level uses mmseg's own fields (``gt_sem_seg``,
    ``pred_sem_seg``); coarser levels add the level name
    (``pred_sem_seg_body``).

    Args:
        hierarchy (ClassHierarchy): The tree.
        level (int): Level index.
        prefix (str): ``'gt_sem_seg'`` or ``'pred_sem_seg'``.

    Returns:
        str: The field name.
    """
    return hierarchy.field(level, prefix)


@VISUALIZERS.register_module()
class HierSegLocalVisualizer(SegLocalVisualizer):
    """``SegLocalVisualizer`` that draws every level of the tree.

    The output image is a panel: the input and one overlay per level (coarse
    to fine) side by side, each titled with its level name, a row for the
    prediction and one for the ground truth (when drawn), under a legend of
    the classes present in the tree's palette colours, and, when the sample
    carries the pose priors it was predicted from (``pose_prior``, from the
    data or computed online), a last row drawing them
    (:func:`~mmhierseg.visualization.prior_cells`). ``tools/infer.py``,
    :class:`~mmhierseg.apis.HierSegInferencer`, ``tools/test.py --show-dir``
    and the images logged during training all draw through
    :meth:`add_datasample`. The tree
    comes from ``dataset_meta['hierarchy']`` (set by the runner from the
    dataset's metainfo) or the ``hierarchy`` argument. Ground truth of coarse
    levels is derived from the leaf ``gt_sem_seg`` through the tree;
    predictions of coarse levels are read from ``pred_sem_seg_<level>`` when
    present, else derived from the leaf prediction.

    Args:
        name (str): Instance name (MMEngine's ManagerMixin).
        hierarchy (dict | str | ClassHierarchy, optional): The tree, if the
            dataset meta does not carry one.
        alpha (float): Overlay opacity. Defaults to 0.5.
        **kwargs: Passed to :class:`SegLocalVisualizer`.
    """

    def __init__(self,
                 name: str = 'visualizer',
                 hierarchy=None,
                 alpha: float = 0.5,
                 **kwargs):
        super().__init__(name=name, alpha=alpha, **kwargs)
        self._hierarchy = None if hierarchy is None else \
            ClassHierarchy.build(hierarchy)

    @property
    def hierarchy(self) -> ClassHierarchy:
        """ClassHierarchy: The tree in use."""
        meta = self.dataset_meta or {}
        if meta.get('hierarchy') is not None:
            return ClassHierarchy.build(meta['hierarchy'])
        if self._hierarchy is None:
            raise ValueError(
                'HierSegLocalVisualizer needs the class tree: use a dataset '
                "whose metainfo has 'hierarchy' (PascalPartDataset) or pass "
                'hierarchy=... to the visualizer config')
        return self._hierarchy

    def level_maps(self, data_sample: SegDataSample, prefix: str) -> list:
        """Per-level label maps (numpy, HxW) of the gt or the prediction.

        Args:
            data_sample (SegDataSample): The sample.
            prefix (str): ``'gt_sem_seg'`` or ``'pred_sem_seg'``.

        Returns:
            list[np.ndarray] | None: One map per level, or None when the
            sample has no leaf map of that kind.
        """
        maps = level_maps(data_sample, self.hierarchy, prefix)
        return None if maps is None else [m.cpu().numpy() for m in maps]

    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample: Optional[SegDataSample] = None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       step: int = 0,
                       with_labels: Optional[bool] = True) -> None:
        """Draw the panel of a sample (described in the class docstring,
        drawn by :func:`~mmhierseg.visualization.draw_panel`) and
        save/show/log it; it is also kept as the visualizer's image
        (:meth:`get_image`).

        Args:
            name (str): Image identifier.
            image (np.ndarray): RGB image (HxWx3 or HxW).
            data_sample (SegDataSample, optional): GT and/or prediction.
            draw_gt (bool): Draw ground truth. Defaults to True.
            draw_pred (bool): Draw predictions. Defaults to True.
            show (bool): Show in a window. Defaults to False.
            wait_time (float): Show interval. Defaults to 0.
            out_file (str, optional): Write the drawing to this file instead
                of the visualizer's backends.
            step (int): Global step for the backends. Defaults to 0.
            with_labels (bool): Unused (the legend names the classes); kept
                for mmseg's signature.

        Returns:
            None
        """
        rows = []
        if data_sample is not None:
            for want, prefix, kind in (
                    (draw_pred, 'pred_sem_seg', 'prediction'),
                    (draw_gt, 'gt_sem_seg', 'ground truth')):
                maps = self.level_maps(data_sample, prefix) if want else None
                if maps is not None:
                    rows.append((kind, maps))
        if len(rows) == 1 and rows[0][0] == 'prediction':
            rows = [(None, rows[0][1])]  # titles: the level names alone
        prior = data_sample.get('pose_prior') if (
            data_sample is not None and draw_pred) else None
        extra = () if prior is None or not rows else prior_cells(
            image if image.ndim == 3 else np.repeat(image[..., None], 3, 2),
            prior.data.detach().cpu().numpy(),
            prior.metainfo.get('channels', ()))
        if rows:
            drawn = draw_panel(image, rows, self.hierarchy, self.alpha,
                               extra=extra)[0]
        else:
            drawn = image if image.ndim == 3 else np.repeat(
                image[..., None], 3, axis=2)
        self.set_image(drawn)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(mmcv.rgb2bgr(drawn), out_file)
        else:
            self.add_image(name, drawn, step)
