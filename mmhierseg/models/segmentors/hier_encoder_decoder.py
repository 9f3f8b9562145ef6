"""Encoder-decoder with per-level predictions: :class:`HierEncoderDecoder`.

What ``encode_decode`` returns (and therefore what ``slide`` inference
averages over windows, and what ``postprocess_result`` un-pads, un-flips and
resizes) depends on ``decode``:

- ``'consistent'`` (default): the head's consistent leaf log-scores
  ``(N, num_leaves, H, W)`` (sum of per-level log-softmax along each
  root-to-leaf path). Slide inference averages these scores; the final leaf
  prediction is their argmax and every coarser level is *derived* from it
  with the tree's lookup tables, so the levels can never contradict each
  other, whatever the aggregation.
- ``'independent'``: every level's logits concatenated along channels
  (``sum(num_classes)`` channels). Slide inference averages each level's
  logits; ``postprocess_result`` splits them and takes one argmax per level
  (which may contradict across levels).

TTA: mmseg's ``SegTTAModel`` only re-computes ``pred_sem_seg`` (the leaf
level) and leaves the other fields of the last augmented sample, so its
coarse maps can disagree with the merged leaf map. Use
:class:`~mmhierseg.models.segmentors.HierSegTTAModel`, which averages the
leaf probabilities and derives (``'consistent'``) or averages
(``'independent'``) every other level.
"""
import copy
from typing import List, Optional, Union

import torch
from mmengine.config import ConfigDict
from mmengine.structures import PixelData
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig
from mmseg.utils import OptSampleList, SampleList
from torch import Tensor

from mmhierseg.hierarchy import ClassHierarchy
from ..decode_heads.hier_decode_head import HierarchicalDecodeHead

__all__ = ['HierEncoderDecoder']

_DECODE_MODES = ('consistent', 'independent')


@MODELS.register_module()
class HierEncoderDecoder(EncoderDecoder):
    """mmseg ``EncoderDecoder`` for a label tree, with an optional stem.

    Args:
        backbone (dict): Backbone config (e.g. ``SMPEncoder``).
        decode_head (dict): A ``HierarchicalDecodeHead`` config; its
            ``hierarchy`` is filled in from this model when missing.
        stem (dict, optional): A module run on the normalized images before
            the backbone (contract: ``stem(inputs) -> Tensor`` with
            ``stem.out_channels`` channels, same spatial size; built with
            the ``data_preprocessor``'s ``mean``, ``std`` and
            ``bgr_to_rgb``). When the backbone config sets no
            ``in_channels``, it gets the stem's ``out_channels``.
        hierarchy (dict | str | ClassHierarchy): The label tree (required);
            handed to the decode head, its loss and hierarchical auxiliary
            heads.
        decode (str): ``'consistent'`` (default) or ``'independent'``, see
            the module docstring.
        neck, auxiliary_head, train_cfg, test_cfg, data_preprocessor,
        pretrained, init_cfg: As in mmseg's ``EncoderDecoder``. Auxiliary
            heads of type ``HierarchicalDecodeHead`` get the tree too.
            ``test_cfg`` defaults to ``dict(mode='whole')``.

    Raises:
        ValueError: Without a tree, on an unknown ``decode`` mode, or when
            the head's tree differs from ``hierarchy``.
    """

    def __init__(self,
                 backbone: ConfigType,
                 decode_head: ConfigType,
                 stem: OptConfigType = None,
                 hierarchy: Union[dict, str, ClassHierarchy, None] = None,
                 decode: str = 'consistent',
                 neck: OptConfigType = None,
                 auxiliary_head: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 pretrained: Optional[str] = None,
                 init_cfg: OptMultiConfig = None):
        if decode not in _DECODE_MODES:
            raise ValueError(f'decode must be one of {_DECODE_MODES}, got '
                             f'{decode!r}')
        if hierarchy is None:
            raise ValueError(
                'HierEncoderDecoder: no label tree; set model.hierarchy to a '
                'tree dict or a preset name (configs name it once, e.g. '
                '`model = dict(hierarchy=_base_.hierarchy)`)')
        hier = ClassHierarchy.build(hierarchy)
        decode_head = self._with_hierarchy(decode_head, hier)
        if isinstance(auxiliary_head, (list, tuple)):
            auxiliary_head = [
                self._with_hierarchy(c, hier) for c in auxiliary_head
            ]
        elif auxiliary_head is not None:
            auxiliary_head = self._with_hierarchy(auxiliary_head, hier)
        if test_cfg is None:
            test_cfg = dict(mode='whole')
        if isinstance(test_cfg, dict) and not isinstance(test_cfg, ConfigDict):
            test_cfg = ConfigDict(test_cfg)
        if isinstance(backbone, dict) and not isinstance(backbone, ConfigDict):
            backbone = ConfigDict(backbone)  # mmseg sets attributes on it
        # built before the backbone, so its channels can size the backbone
        # the stem undoes the preprocessor's normalization: same mean/std
        norm = {
            k: data_preprocessor[k]
            for k in ('mean', 'std', 'bgr_to_rgb')
            if isinstance(data_preprocessor, dict) and k in data_preprocessor
        }
        # late fusion needs the encoder's feature channels: built after it
        late = isinstance(stem, dict) and stem.get('fusion') == 'late' and \
            not stem.get('feature_channels')
        stem_module = MODELS.build(
            stem, default_args=norm) if stem is not None and not late \
            else None
        stem_channels = getattr(stem_module, 'out_channels', None)
        if stem_channels is not None and 'in_channels' not in backbone:
            backbone = copy.deepcopy(backbone)
            backbone['in_channels'] = stem_channels
        super().__init__(backbone, decode_head, neck, auxiliary_head,
                         train_cfg, test_cfg, data_preprocessor, pretrained,
                         init_cfg)
        if not isinstance(self.decode_head, HierarchicalDecodeHead):
            raise TypeError('HierEncoderDecoder needs a HierarchicalDecodeHead'
                            f', got {type(self.decode_head).__name__}')
        if self.decode_head.hierarchy != hier:
            raise ValueError(
                f'decode_head uses another hierarchy '
                f'({self.decode_head.hierarchy!r}) than the model ({hier!r})')
        self.hierarchy = hier
        self.decode = decode
        if decode == 'independent':
            # encode_decode returns all levels' logits concatenated
            self.out_channels = sum(hier.num_classes)
        if late:
            channels = getattr(self.backbone, 'out_channels', None)
            if channels is None or self.with_neck:
                raise ValueError(
                    "stem fusion='late': set stem.feature_channels (the "
                    'channels of the features the decoders read); they '
                    'cannot be read off this backbone/neck')
            stem_module = MODELS.build(
                stem, default_args=dict(norm, feature_channels=channels))
        if stem_module is not None:
            self.stem = stem_module

    @staticmethod
    def _with_hierarchy(cfg, hier: ClassHierarchy):
        """Fill in ``hierarchy`` of a HierarchicalDecodeHead config."""
        if not isinstance(cfg, dict):
            return cfg
        htype = cfg.get('type')
        if htype not in ('HierarchicalDecodeHead', HierarchicalDecodeHead):
            return cfg
        cfg = copy.deepcopy(cfg)
        if cfg.get('hierarchy') is None:
            cfg['hierarchy'] = hier.to_dict()
        elif ClassHierarchy.build(cfg['hierarchy']) != hier:
            raise ValueError(
                f'{htype} config uses another hierarchy than the model '
                f'({hier!r}); set it once, on the model')
        return cfg

    @property
    def with_stem(self) -> bool:
        """bool: Whether a stem runs before the backbone."""
        return getattr(self, 'stem', None) is not None

    # ---------------------------------------------------------------- forward
    def forward(self,
                inputs: Tensor,
                data_samples: OptSampleList = None,
                mode: str = 'tensor'):
        """mmseg's ``forward``; a stem with ``attach_priors`` first stacks
        the priors the samples carry behind the image channels (so ``slide``
        inference crops them with the image)."""
        if self.with_stem and hasattr(self.stem, 'attach_priors'):
            inputs = self.stem.attach_priors(inputs, data_samples)
        return super().forward(inputs, data_samples, mode)

    def extract_feat(self, inputs: Tensor) -> List[Tensor]:
        """Stem (if any), backbone and neck.

        Args:
            inputs (Tensor): Normalized images ``(N, 3, H, W)``.

        Returns:
            list[Tensor]: Multi-level features.
        """
        if not self.with_stem:
            return super().extract_feat(inputs)
        if not hasattr(self.stem, 'split'):  # any stem(inputs) -> Tensor
            return super().extract_feat(self.stem(inputs))
        image, priors = self.stem.split(inputs)
        feats = super().extract_feat(self.stem.before_encoder(image, priors))
        return self.stem.after_encoder(feats, priors)

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: List[dict]) -> Tensor:
        """Scores at the input size (see the module docstring).

        Args:
            inputs (Tensor): Images ``(N, 3, H, W)``.
            batch_img_metas (list[dict]): Image meta information.

        Returns:
            Tensor: ``'consistent'``: leaf log-scores
            ``(N, num_leaves, H, W)``; ``'independent'``: per-level logits
            concatenated, ``(N, sum(num_classes), H, W)``.
        """
        x = self.extract_feat(inputs)
        if self.decode == 'consistent':
            return self.decode_head.predict(x, batch_img_metas, self.test_cfg)
        levels = self.decode_head.predict_levels(
            self.decode_head.forward(x), batch_img_metas)
        return torch.cat(levels, dim=1)

    # ----------------------------------------------------------- postprocess
    def postprocess_result(self,
                           seg_logits: Tensor,
                           data_samples: OptSampleList = None) -> SampleList:
        """Per-level predictions in every ``SegDataSample``.

        Args:
            seg_logits (Tensor): Output of :meth:`inference`.
            data_samples (list[SegDataSample], optional): Samples to fill.

        Returns:
            list[SegDataSample]: With ``pred_sem_seg`` (leaf level),
            ``seg_logits`` (leaf scores) and ``pred_sem_seg_<level>`` for
            every other level; in ``'independent'`` mode also
            ``seg_logits_<level>`` (that level's logits).
        """
        # un-pad, un-flip and resize as mmseg does, on all channels
        data_samples = super().postprocess_result(seg_logits, data_samples)
        h = self.hierarchy
        for sample in data_samples:
            if self.decode == 'independent':
                parts = sample.seg_logits.data.split(h.num_classes, dim=0)
                preds = [p.argmax(dim=0, keepdim=True) for p in parts]
                sample.set_data({
                    'seg_logits': PixelData(data=parts[-1]),
                    'pred_sem_seg': PixelData(data=preds[-1])
                })
                for lvl in range(h.leaf_level):
                    sample.set_data({
                        h.field(lvl, 'pred_sem_seg'):
                        PixelData(data=preds[lvl]),
                        h.field(lvl, 'seg_logits'):
                        PixelData(data=parts[lvl])
                    })
            else:
                leaf = sample.pred_sem_seg.data
                for lvl in range(h.leaf_level):
                    sample.set_data({
                        h.field(lvl, 'pred_sem_seg'):
                        PixelData(data=h.to_level(leaf, lvl, check=False))
                    })
        return data_samples
