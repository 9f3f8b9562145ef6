"""Test-time augmentation that keeps every level: :class:`HierSegTTAModel`."""
from typing import List

import torch
from mmengine.structures import PixelData
from mmseg.models.segmentors import SegTTAModel
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import SampleList

__all__ = ['HierSegTTAModel']


@MODELS.register_module()
class HierSegTTAModel(SegTTAModel):
    """mmseg's ``SegTTAModel`` for :class:`HierEncoderDecoder`.

    mmseg's merge only re-computes ``pred_sem_seg``; the coarse-level maps of
    the last augmented view would be left behind and could contradict the
    merged leaf map. Here the leaf probabilities (softmax of each view's
    ``seg_logits``, already un-flipped and resized by the segmentor) are
    averaged, the leaf prediction is their argmax, and every coarser level is

    - derived from the merged leaf map with the tree (``decode='consistent'``,
      always consistent), or
    - the argmax of that level's averaged probabilities
      (``decode='independent'``).

    Use it as ``tta_model = dict(type='HierSegTTAModel')``.
    """

    def merge_preds(self, data_samples_list: List[SampleList]) -> SampleList:
        """Merge the predictions of all augmented views of each image.

        Args:
            data_samples_list (list[list[SegDataSample]]): For every image,
                the predictions of its augmented views.

        Returns:
            list[SegDataSample]: One merged sample per image, with
            ``pred_sem_seg`` (leaf), ``seg_logits`` (averaged leaf
            probabilities) and ``pred_sem_seg_<level>`` for the other levels.
        """
        module = self.module
        hier = module.hierarchy
        independent = getattr(module, 'decode', 'consistent') == 'independent'
        merged = []
        for views in data_samples_list:
            leaf_probs = self._mean_probs([v.seg_logits.data for v in views])
            leaf_pred = leaf_probs.argmax(dim=0, keepdim=True)
            out = SegDataSample(metainfo=views[0].metainfo)
            out.set_data({
                'seg_logits': PixelData(data=leaf_probs),
                'pred_sem_seg': PixelData(data=leaf_pred)
            })
            for lvl in range(hier.leaf_level):
                if independent:
                    probs = self._mean_probs([
                        v.get(hier.field(lvl, 'seg_logits')).data
                        for v in views
                    ])
                    pred = probs.argmax(dim=0, keepdim=True)
                else:
                    pred = hier.to_level(leaf_pred, lvl, check=False)
                out.set_data(
                    {hier.field(lvl, 'pred_sem_seg'): PixelData(data=pred)})
            if 'gt_sem_seg' in views[0]:
                out.set_data({'gt_sem_seg': views[0].gt_sem_seg})
            merged.append(out)
        return merged

    @staticmethod
    def _mean_probs(scores: List[torch.Tensor]) -> torch.Tensor:
        probs = scores[0].softmax(dim=0)
        for s in scores[1:]:
            probs = probs + s.softmax(dim=0)
        return probs / len(scores)
