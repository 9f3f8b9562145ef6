"""Per-level overlays for hierarchical predictions."""
from typing import Optional

import mmcv
import numpy as np
from mmengine.structures import PixelData
from mmseg.registry import VISUALIZERS
from mmseg.structures import SegDataSample
from mmseg.visualization import SegLocalVisualizer

from ..hierarchy import ClassHierarchy

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

    The output image has one row per level (coarse to fine); each row shows
    the ground truth (left, when drawn) and the prediction (right). The tree
    comes from ``dataset_meta['hierarchy']`` (set by the runner from the
    dataset's metainfo) or the ``hierarchy`` argument. Ground truth of coarse
    levels is derived from the leaf ``gt_sem_seg`` through the tree;
    predictions of coarse levels are read from ``pred_sem_seg_<level>`` when
    present, else derived from the leaf prediction.

    Args:
        name (str): Instance name (MMEngine's ManagerMixin).
        hierarchy (dict | str | ClassHierarchy, optional): The tree, if the
            dataset meta does not carry one.
        **kwargs: Passed to :class:`SegLocalVisualizer`.
    """

    def __init__(self, name: str = 'visualizer', hierarchy=None, **kwargs):
        super().__init__(name=name, **kwargs)
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
        h = self.hierarchy
        if prefix not in data_sample:
            return None
        leaf = data_sample.get(prefix).data.cpu().numpy()[0].astype(np.int64)
        maps = []
        for k in range(h.num_levels):
            name = level_field(h, k, prefix)
            if name in data_sample and k != h.leaf_level:
                maps.append(
                    data_sample.get(name).data.cpu().numpy()[0].astype(
                        np.int64))
            else:
                maps.append(h.to_level(leaf, k, check=False))
        return maps

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
        """Draw all levels of a sample and save/show/log the result.

        Args:
            name (str): Image identifier.
            image (np.ndarray): RGB image (HxWx3).
            data_sample (SegDataSample, optional): GT and/or prediction.
            draw_gt (bool): Draw ground truth. Defaults to True.
            draw_pred (bool): Draw predictions. Defaults to True.
            show (bool): Show in a window. Defaults to False.
            wait_time (float): Show interval. Defaults to 0.
            out_file (str, optional): Write the drawing to this file.
            step (int): Global step for the backends. Defaults to 0.
            with_labels (bool): Write class names on regions.

        Returns:
            None
        """
        h = self.hierarchy
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        rows = []
        gts = self.level_maps(data_sample, 'gt_sem_seg') \
            if (draw_gt and data_sample is not None) else None
        preds = self.level_maps(data_sample, 'pred_sem_seg') \
            if (draw_pred and data_sample is not None) else None
        for k in range(h.num_levels):
            panels = []
            for maps in (gts, preds):
                if maps is None:
                    continue
                panels.append(
                    self._draw_sem_seg(
                        image, PixelData(data=maps[k][None]),
                        list(h.classes(k)), h.palette(k), with_labels))
            if panels:
                rows.append(np.concatenate(panels, axis=1))
        drawn = np.concatenate(rows, axis=0) if rows else image
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(mmcv.rgb2bgr(drawn), out_file)
        else:
            self.add_image(name, drawn, step)
