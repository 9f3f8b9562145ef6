"""Per-level mIoU for hierarchical segmentation.

:class:`HierarchicalIoUMetric` evaluates every level of the label tree.

For every level of the label tree the metric accumulates a confusion matrix
over the *whole* evaluation set (one per sample, summed in
:meth:`HierarchicalIoUMetric.compute_metrics`, so it is correct under
distributed evaluation: MMEngine gathers the per-sample matrices from every
rank before the sum). From the summed matrix it reports, per level ``k``::

    IoU_k[c] = sum(intersection_c) / sum(union_c)        (over the whole set)
    mIoU{k}  = mean of IoU_k over the level's non-background classes

which is the definition in ``REFERENCE.md`` (mIoU0 = IoU(body),
mIoU1 = mean IoU(upper_body, lower_body), mIoU2 = mean IoU of the six
parts). A per-batch average of per-batch IoUs is a different, biased number
and is never computed here. Pixels labelled ``ignore_index`` are skipped.

Predictions are read from ``pred_sem_seg`` (the leaf level) and
``pred_sem_seg_<level name>`` (coarser levels). A coarser level a sample does
not carry (e.g. the output of a plain mmseg model) is derived from the leaf
prediction through the tree. Ground truth of every level is derived from the
leaf ``gt_sem_seg`` with the hierarchy's lookup tables.
"""
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from mmengine.utils import mkdir_or_exist
from PIL import Image
from prettytable import PrettyTable

from mmseg.registry import METRICS

from ...hierarchy import IGNORE_INDEX, ClassHierarchy

__all__ = ['HierarchicalIoUMetric', 'level_summary_table']


@METRICS.register_module()
class HierarchicalIoUMetric(BaseMetric):
    """mIoU at every level of a label tree, plus cross-level consistency.

    Returned keys (values in percent, rounded to 2 decimals like mmseg's
    ``IoUMetric``):

    - ``mIoU{k}`` for each level ``k`` (0 = coarsest), background excluded;
    - ``aAcc``: pixel accuracy at the leaf level (background included, as in
      mmseg);
    - ``consistency``: share of predicted pixels whose per-level predictions
      agree with the tree (``ClassHierarchy.is_consistent``); 100 when the
      coarse levels are derived from the leaf prediction;
    - with ``classwise=True`` also ``IoU{k}.{class name}`` for every class.

    Args:
        hierarchy (dict | str | ClassHierarchy, optional): The label tree. By
            default it is read from ``dataset_meta['hierarchy']``.
        ignore_index (int): Ground-truth value to skip. Defaults to 255.
        classwise (bool): Also return every class's IoU. Defaults to False.
        nan_to_num (float, optional): Replace NaN (a class absent from both
            prediction and ground truth over the whole set) by this value.
            By default NaN classes are left out of the means.
        collect_device (str): ``'cpu'`` or ``'gpu'``, where results of the
            ranks are gathered. Defaults to ``'cpu'``.
        output_dir (str, optional): Write each prediction as PNG here: the
            leaf level as ``<output_dir>/<image name>.png``, coarser levels
            as ``<output_dir>/<level name>/<image name>.png``.
        format_only (bool): Only write predictions (``output_dir``), compute
            no metric (for a test set without labels). Defaults to False.
        prefix (str, optional): Prefix of the metric names.
        **kwargs: Ignored (accepts mmseg ``IoUMetric`` options such as
            ``iou_metrics`` or ``keep_results`` so configs can be swapped).
    """

    default_prefix: Optional[str] = None

    def __init__(self,
                 hierarchy=None,
                 ignore_index: int = IGNORE_INDEX,
                 classwise: bool = False,
                 nan_to_num: Optional[float] = None,
                 collect_device: str = 'cpu',
                 output_dir: Optional[str] = None,
                 format_only: bool = False,
                 prefix: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self._hierarchy_cfg = hierarchy
        self._hierarchy: Optional[ClassHierarchy] = (
            ClassHierarchy.build(hierarchy) if hierarchy is not None else None)
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

    # ------------------------------------------------------------- hierarchy
    @property
    def hierarchy(self) -> ClassHierarchy:
        """ClassHierarchy: The tree, from the argument or ``dataset_meta``."""
        if self._hierarchy is not None:
            return self._hierarchy
        meta = self.dataset_meta or {}
        if meta.get('hierarchy') is None:
            raise ValueError(
                'HierarchicalIoUMetric: no label tree. Pass `hierarchy=` '
                '(a dict, a preset name or a ClassHierarchy) or evaluate on '
                "a dataset whose metainfo has a 'hierarchy' entry "
                '(e.g. PascalPartDataset).')
        hier = ClassHierarchy.build(meta['hierarchy'])
        classes = meta.get('classes')
        if classes is not None and tuple(classes) != hier.leaf_names:
            raise ValueError(
                f"dataset_meta['classes'] {tuple(classes)} do not match the "
                f'leaves of the hierarchy {hier.leaf_names}; the metric would '
                'map labels to the wrong tree nodes')
        self._hierarchy = hier
        return hier

    # --------------------------------------------------------------- process
    @staticmethod
    def _label_map(field) -> torch.Tensor:
        """Extract a (H, W) integer tensor from a PixelData (dict) field."""
        data = field['data'] if isinstance(field, dict) else field.data
        if not isinstance(data, torch.Tensor):
            data = torch.as_tensor(np.asarray(data))
        if data.dim() == 3:
            if data.shape[0] != 1:
                raise ValueError('expected a single-channel label map, got '
                                 f'shape {tuple(data.shape)}')
            data = data[0]
        return data.long()

    def level_predictions(self, data_sample: dict) -> tuple:
        """Per-level predictions of one sample, coarse to fine.

        Args:
            data_sample (dict): A sample (as a dict) with ``pred_sem_seg`` and
                optionally ``pred_sem_seg_<level name>`` entries.

        Returns:
            tuple(list[torch.Tensor], list[bool]): The (H, W) prediction of
            every level and, per level, whether it was derived from the leaf
            prediction through the tree.
        """
        hier = self.hierarchy
        pred_leaf = self._label_map(data_sample['pred_sem_seg'])
        preds, derived = [], []
        for k, name in enumerate(hier.level_names):
            if k == hier.leaf_level:
                preds.append(pred_leaf)
                derived.append(False)
                continue
            key = hier.field(k, 'pred_sem_seg')
            if data_sample.get(key) is not None:
                pred = self._label_map(data_sample[key]).to(pred_leaf.device)
                if pred.shape != pred_leaf.shape:
                    raise ValueError(
                        f'{key} has shape {tuple(pred.shape)} but '
                        f'pred_sem_seg has {tuple(pred_leaf.shape)}')
                preds.append(pred)
                derived.append(False)
            else:
                preds.append(hier.to_level(pred_leaf, k))
                derived.append(True)
        for k, pred in enumerate(preds):
            n = hier.num_classes[k]
            if pred.numel() and (int(pred.min()) < 0 or int(pred.max()) >= n):
                raise ValueError(
                    f'predictions of level {hier.level_names[k]!r} hold '
                    f'values outside 0..{n - 1}: '
                    f'{torch.unique(pred).tolist()[:10]}')
        return preds, derived

    def _confusion(self, pred: torch.Tensor, label: torch.Tensor,
                   num_classes: int) -> np.ndarray:
        """Confusion matrix (rows: ground truth, cols: prediction)."""
        valid = label != IGNORE_INDEX
        idx = label[valid] * num_classes + pred[valid]
        conf = torch.bincount(idx, minlength=num_classes**2)
        return conf.reshape(num_classes, num_classes).cpu().numpy().astype(
            np.int64)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Accumulate per-level confusion matrices of one batch.

        One result per sample is appended, so MMEngine's ``collect_results``
        gathers exactly the dataset's samples from all ranks.

        Args:
            data_batch (dict): The batch from the dataloader (unused).
            data_samples (Sequence[dict]): Model outputs as dicts.
        """
        hier = self.hierarchy
        for data_sample in data_samples:
            preds, derived = self.level_predictions(data_sample)
            if self.output_dir is not None:
                self._save_predictions(data_sample, preds)
            if self.format_only:
                continue
            gt_leaf = self._label_map(data_sample['gt_sem_seg']).to(
                preds[-1].device)
            if gt_leaf.shape != preds[-1].shape:
                raise ValueError(
                    f'prediction shape {tuple(preds[-1].shape)} differs from '
                    f'the ground truth shape {tuple(gt_leaf.shape)}')
            if self.ignore_index != IGNORE_INDEX:
                # to_level keeps 255 as 'ignore' at every level
                gt_leaf = gt_leaf.masked_fill(gt_leaf == self.ignore_index,
                                              IGNORE_INDEX)
            confusions = [
                self._confusion(preds[k], hier.to_level(gt_leaf, k),
                                hier.num_classes[k])
                for k in range(hier.num_levels)
            ]
            consistent = hier.is_consistent(preds)
            self.results.append(
                dict(
                    confusion=confusions,
                    consistent=int(consistent.sum()),
                    total=int(consistent.numel()),
                    derived=derived))

    def _save_predictions(self, data_sample: dict,
                          preds: List[torch.Tensor]) -> None:
        """Write the per-level predictions of one sample as PNG files."""
        hier = self.hierarchy
        basename = osp.splitext(osp.basename(data_sample['img_path']))[0]
        for k, name in enumerate(hier.level_names):
            out_dir = self.output_dir if k == hier.leaf_level else osp.join(
                self.output_dir, name)
            mkdir_or_exist(out_dir)
            mask = preds[k].cpu().numpy().astype(np.uint8)
            Image.fromarray(mask).save(
                osp.abspath(osp.join(out_dir, f'{basename}.png')))

    # --------------------------------------------------------------- compute
    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Sum the per-sample confusion matrices and compute the metrics.

        Args:
            results (list): The per-sample results of :meth:`process` from
                all ranks.

        Returns:
            dict[str, float]: ``mIoU{k}`` per level, ``aAcc``,
            ``consistency`` and, with ``classwise``, per-class IoUs.
        """
        logger: MMLogger = MMLogger.get_current_instance()
        if self.format_only:
            logger.info(f'predictions written to {self.output_dir}')
            return OrderedDict()
        hier = self.hierarchy
        totals = [np.zeros((n, n), dtype=np.int64) for n in hier.num_classes]
        consistent = total = 0
        for res in results:
            for k, conf in enumerate(res['confusion']):
                totals[k] += conf
            consistent += res['consistent']
            total += res['total']
        derived_levels = sorted({
            hier.level_names[k]
            for res in results for k, d in enumerate(res['derived']) if d
        })

        metrics: Dict[str, float] = OrderedDict()
        per_level = self.areas_to_metrics(totals)
        for k, lvl in enumerate(per_level):
            metrics[f'mIoU{k}'] = self._fmt(lvl['mIoU'])
        metrics['aAcc'] = self._fmt(per_level[-1]['aAcc'])
        metrics['consistency'] = self._fmt(
            consistent / total if total else float('nan'))
        if self.classwise:
            for k, lvl in enumerate(per_level):
                for name, iou in zip(hier.classes(k), lvl['IoU']):
                    metrics[f'IoU{k}.{name}'] = self._fmt(iou)

        for k, lvl in enumerate(per_level):
            table = PrettyTable()
            table.add_column('Class', list(hier.classes(k)))
            table.add_column('IoU', [self._fmt(v) for v in lvl['IoU']])
            table.add_column('Acc', [self._fmt(v) for v in lvl['Acc']])
            print_log(
                f'per class results, level {k} ({hier.level_names[k]}), '
                f'background {hier.classes(k)[hier.background_index(k)]!r} '
                'excluded from mIoU:', logger)
            print_log('\n' + table.get_string(), logger=logger)
        if derived_levels:
            print_log(
                f'levels {derived_levels} were derived from the leaf '
                'prediction through the tree', logger)
        print_log('per level results:', logger)
        print_log(
            '\n' + level_summary_table(metrics, hier.level_names).get_string(),
            logger=logger)
        return metrics

    def areas_to_metrics(self, confusions: List[np.ndarray]) -> List[dict]:
        """Per-level IoU/Acc from summed confusion matrices.

        Args:
            confusions (list[np.ndarray]): One ``(n_k, n_k)`` matrix per
                level (rows ground truth, columns prediction), summed over
                the whole set.

        Returns:
            list[dict]: Per level ``IoU`` and ``Acc`` (arrays, fractions),
            ``mIoU`` (mean IoU over non-background classes) and ``aAcc``.
        """
        hier = self.hierarchy
        out = []
        for k, conf in enumerate(confusions):
            conf = conf.astype(np.float64)
            intersect = np.diag(conf)
            area_label = conf.sum(axis=1)
            area_pred = conf.sum(axis=0)
            union = area_label + area_pred - intersect
            with np.errstate(divide='ignore', invalid='ignore'):
                iou = intersect / union
                acc = intersect / area_label
                a_acc = intersect.sum() / conf.sum()
            if self.nan_to_num is not None:
                iou = np.nan_to_num(iou, nan=self.nan_to_num)
                acc = np.nan_to_num(acc, nan=self.nan_to_num)
            fg = hier.foreground_indices(k)
            fg_iou = iou[fg]
            miou = float(np.nanmean(fg_iou)) if np.any(
                ~np.isnan(fg_iou)) else float('nan')
            out.append(dict(IoU=iou, Acc=acc, mIoU=miou, aAcc=float(a_acc)))
        return out

    @staticmethod
    def _fmt(value: float) -> float:
        """Fraction -> percent, rounded to 2 decimals (mmseg convention)."""
        return float(np.round(float(value) * 100, 2))


def level_summary_table(metrics: dict, level_names: Sequence[str],
                        prefix: str = '') -> PrettyTable:
    """A table with one row per level: its name and mIoU.

    Args:
        metrics (dict): Output of :class:`HierarchicalIoUMetric` (keys
            ``mIoU{k}``, ``aAcc``, ``consistency``), possibly prefixed.
        level_names (Sequence[str]): Level names, coarse to fine.
        prefix (str): Prefix of the keys in ``metrics`` (e.g. ``'val/'``).

    Returns:
        PrettyTable: Columns ``Level``, ``Name``, ``mIoU``; ``aAcc`` and
        ``consistency`` follow as extra rows.
    """
    table = PrettyTable()
    table.field_names = ['Level', 'Name', 'mIoU (bg excluded)']
    for k, name in enumerate(level_names):
        table.add_row([k, name, metrics.get(f'{prefix}mIoU{k}', 'n/a')])
    table.add_row(['', 'aAcc (leaf)', metrics.get(f'{prefix}aAcc', 'n/a')])
    table.add_row(
        ['', 'consistency', metrics.get(f'{prefix}consistency', 'n/a')])
    return table
