"""Per-level mIoU of a label tree: :class:`HierarchicalIoUMetric`.

For every level of the label tree the metric accumulates one confusion
matrix per sample (one ``bincount`` over the pixels, a quarter of the cost of
mmseg's four ``histc`` calls in ``IoUMetric.intersect_and_union``) and sums
them over the *whole* evaluation set in
:meth:`HierarchicalIoUMetric.compute_metrics` (correct under distributed
evaluation: MMEngine gathers every rank's per-sample results first). The
summed matrix gives mmseg's four areas (intersection, union, prediction,
label) and mmseg's ``IoUMetric.total_area_to_metrics`` turns them into
per-class IoU; the
level's ``mIoU{k}`` is their mean over the non-background classes. A
per-batch average of per-batch IoUs is a different, biased number and is never
computed here.

Predictions of every level come from :func:`mmhierseg.structures.level_maps`
(``pred_sem_seg_<level>`` when present, else derived from the leaf
prediction); ground truth of every level is derived from the leaf
``gt_sem_seg`` through the tree, which is read from ``dataset_meta``, except
for images labelled only down to a coarse level (``label_level`` in their
metainfo, ``gt_sem_seg_<level>`` maps; see
:mod:`mmhierseg.datasets.label_levels`): they count for the levels they
are labelled at and no finer one.
"""
import logging
import os.path as osp
from collections import OrderedDict
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.utils import mkdir_or_exist
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS
from PIL import Image
from prettytable import PrettyTable

from ...hierarchy import IGNORE_INDEX, ClassHierarchy
from ...structures import label_map, level_maps

__all__ = ['HierarchicalIoUMetric', 'confusion_areas', 'level_summary_table']

# mmseg IoUMetric options accepted (and ignored) so configs and tools written
# for IoUMetric work unchanged (mmseg's test.py sets keep_results).
_IOU_METRIC_OPTIONS = ('iou_metrics', 'beta', 'keep_results')


@METRICS.register_module()
class HierarchicalIoUMetric(BaseMetric):
    """mIoU at every level of a label tree, plus cross-level consistency.

    Returned keys (percent, rounded to 2 decimals like mmseg's ``IoUMetric``):

    - ``mIoU{k}`` for each level ``k`` (0 = coarsest), background excluded;
    - ``mIoU_leaf``: the leaf level's mIoU again, under a name that does not
      depend on the depth of the tree (``save_best='mIoU_leaf'``);
    - ``aAcc``: pixel accuracy at the leaf level (background included);
    - ``consistency``: share of pixels whose per-level predictions agree
      with the tree (100 when coarse levels are derived from the leaf);
    - with ``classwise=True`` also ``IoU{k}.{class name}``;
    - ``images_level{k}`` for each level, when the set mixes label levels
      (some image labelled only down to a coarse level): how many images
      level ``k`` was evaluated on (those labelled at level ``k`` or finer).
      A level that no image is labelled at gives ``mIoU{k}`` NaN and a
      warning that says so.

    The tree comes from ``dataset_meta['hierarchy']`` (the runner sets
    ``dataset_meta`` from the dataset's metainfo).

    Args:
        ignore_index (int): Ground-truth value to skip. Defaults to 255.
        classwise (bool): Also return every class's IoU. Defaults to False.
        nan_to_num (float, optional): Replace NaN (a class absent from both
            prediction and ground truth over the whole set) by this value.
            By default NaN classes are left out of the means.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        output_dir (str, optional): Write each prediction as PNG here: the
            leaf level as ``<output_dir>/<image name>.png``, coarser levels
            as ``<output_dir>/<level name>/<image name>.png``.
        format_only (bool): Only write predictions (``output_dir``), compute
            no metric (for a test set without labels). Defaults to False.
        prefix (str, optional): Prefix of the metric names.
        **kwargs: mmseg ``IoUMetric`` options ``iou_metrics``, ``beta`` and
            ``keep_results``, accepted and ignored; anything else (e.g. a
            ``hierarchy``: the tree comes from the dataset) is an error.
    """

    default_prefix: Optional[str] = None

    def __init__(self,
                 ignore_index: int = IGNORE_INDEX,
                 classwise: bool = False,
                 nan_to_num: Optional[float] = None,
                 collect_device: str = 'cpu',
                 output_dir: Optional[str] = None,
                 format_only: bool = False,
                 prefix: Optional[str] = None,
                 **kwargs) -> None:
        unknown = sorted(set(kwargs) - set(_IOU_METRIC_OPTIONS))
        if unknown:
            raise TypeError(
                f'HierarchicalIoUMetric got unexpected arguments {unknown}; '
                "the label tree comes from the dataset's metainfo")
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.ignore_index = ignore_index
        self.classwise = classwise
        self.nan_to_num = nan_to_num
        self.output_dir = output_dir
        self.format_only = format_only
        if format_only and not output_dir:
            raise ValueError('HierarchicalIoUMetric: format_only=True needs '
                             'an output_dir to write the predictions to')
        if self.output_dir and is_main_process():
            mkdir_or_exist(self.output_dir)

    @property
    def hierarchy(self) -> ClassHierarchy:
        """ClassHierarchy: The tree of ``dataset_meta``."""
        meta = self.dataset_meta or {}
        if meta.get('hierarchy') is None:
            raise ValueError(
                "HierarchicalIoUMetric: no label tree; dataset_meta has no "
                "'hierarchy' entry. Evaluate on a dataset whose metainfo "
                'carries the tree (e.g. PascalPartDataset).')
        hier = ClassHierarchy.build(meta['hierarchy'])
        classes = meta.get('classes')
        if classes is not None and tuple(classes) != hier.leaf_names:
            raise ValueError(
                f"dataset_meta['classes'] {tuple(classes)} do not match the "
                f'leaves of the hierarchy {hier.leaf_names}; the metric would '
                'map labels to the wrong tree nodes')
        return hier

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Accumulate per-level areas, one result per sample.

        Args:
            data_batch (dict): The batch from the dataloader (unused).
            data_samples (Sequence[dict]): Model outputs as dicts.
        """
        hier = self.hierarchy
        for sample in data_samples:
            preds = level_maps(sample, hier, 'pred_sem_seg')
            for k, pred in enumerate(preds):
                n = hier.num_classes[k]
                if pred.numel() and (pred.min() < 0 or pred.max() >= n):
                    raise ValueError(
                        f'predictions of level {hier.level_names[k]!r} hold '
                        f'values outside 0..{n - 1}: '
                        f'{torch.unique(pred).tolist()[:10]}')
            if self.output_dir is not None:
                self._save_predictions(sample, preds)
            if self.format_only:
                continue
            gt = label_map(sample, 'gt_sem_seg').to(preds[-1].device)
            if gt.shape != preds[-1].shape:
                raise ValueError(
                    f'prediction shape {tuple(preds[-1].shape)} differs from '
                    f'the ground truth shape {tuple(gt.shape)}')
            consistent = hier.is_consistent(preds)
            level = sample.get('label_level')
            level = hier.leaf_level if level is None else int(level)
            confusion = self._confusions(hier, gt, preds) \
                if level == hier.leaf_level else self._level_confusions(
                    hier, level_maps(sample, hier, 'gt_sem_seg'), preds)
            self.results.append(dict(
                confusion=confusion,
                label_level=level,
                consistent=int(consistent.sum()),
                total=consistent.numel(),
                derived=[
                    k != hier.leaf_level
                    and sample.get(hier.field(k)) is None
                    for k in range(hier.num_levels)
                ]))

    def _confusions(self, hier: ClassHierarchy, gt: torch.Tensor,
                    preds: list) -> list:
        """Per level, the ``(gt class, predicted class)`` pixel counts of one
        sample (int64, ``num_classes x num_classes``), ignored pixels left
        out."""
        n_leaf = hier.num_leaves
        # leaf ids 0..n_leaf-1, ignore -> n_leaf (a row dropped below)
        ids = gt.long().masked_fill(
            (gt == self.ignore_index) | (gt == IGNORE_INDEX), n_leaf)
        if ids.numel() and (ids.min() < 0 or ids.max() > n_leaf):
            raise ValueError(
                f'ground truth holds values {hier.invalid_values(gt)[:10]} '
                f'outside the tree (leaf ids 0..{n_leaf - 1}, ignore '
                f'{self.ignore_index})')
        out = []
        for k, pred in enumerate(preds):
            n = hier.num_classes[k]
            joint = torch.bincount((ids * n + pred.long()).flatten(),
                                   minlength=(n_leaf + 1) * n)
            leaf_rows = joint.view(n_leaf + 1, n)[:n_leaf]  # gt leaf x pred
            lut = torch.tensor(hier.lut(k), device=ids.device)
            out.append(leaf_rows.new_zeros(n, n).index_add_(
                0, lut, leaf_rows).cpu())
        return out

    def _level_confusions(self, hier: ClassHierarchy, gts: list,
                          preds: list) -> list:
        """As :meth:`_confusions`, from one ground-truth map per level (a
        sample labelled only down to a coarse level: 255 at the finer
        ones)."""
        out = []
        for k, (gt, pred) in enumerate(zip(gts, preds)):
            n = hier.num_classes[k]
            gt = gt.to(pred.device).long()
            ids = gt.masked_fill((gt == self.ignore_index) |
                                 (gt == IGNORE_INDEX), n)
            if ids.numel() and (ids.min() < 0 or ids.max() > n):
                raise ValueError(
                    f'ground truth of level {hier.level_names[k]!r} holds '
                    f'values outside 0..{n - 1}')
            joint = torch.bincount((ids * n + pred.long()).flatten(),
                                   minlength=(n + 1) * n)
            out.append(joint.view(n + 1, n)[:n].cpu())
        return out

    def _save_predictions(self, sample: dict, preds: list) -> None:
        """Write the per-level predictions of one sample as PNG files."""
        hier = self.hierarchy
        name = osp.splitext(osp.basename(sample['img_path']))[0] + '.png'
        for k, level in enumerate(hier.level_names):
            out_dir = self.output_dir if k == hier.leaf_level else osp.join(
                self.output_dir, level)
            mkdir_or_exist(out_dir)
            Image.fromarray(preds[k].cpu().numpy().astype(np.uint8)).save(
                osp.join(out_dir, name))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Sum the per-sample areas and compute the metrics.

        Args:
            results (list): The per-sample results of :meth:`process` from
                all ranks.

        Returns:
            dict[str, float]: ``mIoU{k}`` per level, ``mIoU_leaf``, ``aAcc``,
            ``consistency`` and, with ``classwise``, per-class IoUs.
        """
        if self.format_only:
            print_log(f'predictions written to {self.output_dir}', 'current')
            return OrderedDict()
        hier = self.hierarchy
        metrics: Dict[str, float] = OrderedDict()
        for k in range(hier.num_levels):
            ret = IoUMetric.total_area_to_metrics(
                *confusion_areas(sum(r['confusion'][k] for r in results)),
                metrics=['mIoU'], nan_to_num=self.nan_to_num)
            fg = ret['IoU'][hier.foreground_indices(k)]
            metrics[f'mIoU{k}'] = self._fmt(
                np.nanmean(fg) if (~np.isnan(fg)).any() else np.nan)
            table = PrettyTable()
            table.add_column('Class', list(hier.classes(k)))
            table.add_column('IoU', [self._fmt(v) for v in ret['IoU']])
            table.add_column('Acc', [self._fmt(v) for v in ret['Acc']])
            print_log(
                f'per class results, level {k} ({hier.level_names[k]}), '
                f'background {hier.classes(k)[hier.background_index(k)]!r} '
                'excluded from mIoU:\n' + table.get_string(), 'current')
            if self.classwise:
                metrics.update({
                    f'IoU{k}.{name}': self._fmt(iou)
                    for name, iou in zip(hier.classes(k), ret['IoU'])
                })
        self._count_images(hier, results, metrics)
        metrics['mIoU_leaf'] = metrics[f'mIoU{hier.leaf_level}']
        metrics['aAcc'] = self._fmt(ret['aAcc'])  # ret: the leaf level's
        total = sum(r['total'] for r in results)
        metrics['consistency'] = self._fmt(
            sum(r['consistent'] for r in results) / total if total else
            np.nan)
        derived = sorted({hier.level_names[k] for r in results
                          for k, d in enumerate(r['derived']) if d})
        if derived:
            print_log(f'levels {derived} were derived from the leaf '
                      'prediction through the tree', 'current')
        print_log('per level results:\n' + level_summary_table(
            metrics, hier.level_names).get_string(), 'current')
        return metrics

    @staticmethod
    def _count_images(hier: ClassHierarchy, results: list,
                      metrics: dict) -> None:
        """Mixed label levels: ``images_level{k}`` (images labelled at
        level ``k`` or finer) into ``metrics``, and a warning for a level
        no image is labelled at (its mIoU is NaN)."""
        levels = [r.get('label_level', hier.leaf_level) for r in results]
        if all(lvl == hier.leaf_level for lvl in levels):
            return
        for k in range(hier.num_levels):
            count = sum(lvl >= k for lvl in levels)
            metrics[f'images_level{k}'] = count
            if not count:
                print_log(
                    f'level {k} ({hier.level_names[k]}): no evaluated image '
                    'is labelled at this level (all are labelled only down '
                    f'to a coarser one); mIoU{k} is NaN, not a score',
                    'current', level=logging.WARNING)

    @staticmethod
    def _fmt(value: float) -> float:
        """Fraction -> percent, rounded to 2 decimals (mmseg convention)."""
        return float(np.round(float(value) * 100, 2))


def confusion_areas(confusion: torch.Tensor) -> tuple:
    """mmseg's areas from a confusion matrix (rows ground truth, columns
    prediction).

    Args:
        confusion (torch.Tensor): ``num_classes x num_classes`` counts.

    Returns:
        tuple[torch.Tensor]: ``(intersect, union, pred_label, label)`` areas
        per class, float64, as ``IoUMetric.intersect_and_union`` returns.
    """
    confusion = confusion.double()
    intersect = confusion.diagonal()
    pred, label = confusion.sum(0), confusion.sum(1)
    return intersect, pred + label - intersect, pred, label


def level_summary_table(metrics: dict, level_names: Sequence[str],
                        prefix: str = '') -> PrettyTable:
    """A table with one row per level: its name and mIoU.

    Args:
        metrics (dict): Output of :class:`HierarchicalIoUMetric` (keys
            ``mIoU{k}``, ``aAcc``, ``consistency``), possibly prefixed.
        level_names (Sequence[str]): Level names, coarse to fine.
        prefix (str): Prefix of the keys in ``metrics`` (e.g. ``'val/'``).

    Returns:
        PrettyTable: Columns ``Level``, ``Name``, ``mIoU`` (and ``images``
        when ``metrics`` has ``images_level{k}``); ``aAcc`` and
        ``consistency`` follow as extra rows.
    """
    counts = prefix + 'images_level0' in metrics  # mixed label levels
    table = PrettyTable(['Level', 'Name', 'mIoU (bg excluded)'] +
                        (['images'] if counts else []))
    rows = [(k, name, f'mIoU{k}') for k, name in enumerate(level_names)]
    for k, name, key in rows + [('', 'aAcc (leaf)', 'aAcc'),
                                ('', 'consistency', 'consistency')]:
        row = [k, name, metrics.get(prefix + key, 'n/a')]
        table.add_row(row + ([metrics.get(f'{prefix}images_level{k}', '')]
                             if counts else []))
    return table
