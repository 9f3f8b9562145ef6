"""Pose priors as annotations: load them, carry them, pack them.

* :class:`LoadPoseAnnotations` reads an image's prior file (see
  :mod:`mmhierseg.priors.files`; made by
  ``tools/precompute_priors.py``, the synthetic generator or
  ``tools/dataset_converters/coco_keypoints_to_priors.py``), draws the
  stem's prior channels at the photo's size into ``gt_pose_prior``
  (``(H, W, C)`` uint8) and adds that key to ``seg_fields``. mmseg's
  ``Resize`` / ``RandomResize`` (nearest), ``RandomCrop`` and ``RandomFlip``
  then move it exactly like the masks; photometric transforms never touch
  it. The channels merge left and right, so a flip needs no channel swap.
* :class:`PackPoseSegInputs` is ``PackHierSegInputs`` (mmseg's
  ``PackSegInputs`` plus the coarse levels' maps) plus the priors,
  as ``data_sample.pose_prior`` (``PixelData`` ``(C, h, w)``, with the
  channel names in its metainfo). Padding to the batch size happens in the
  model (``PosePriorStem.attach_priors``), with zeros, bottom and right,
  like the images.
"""
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import PixelData
from mmseg.registry import TRANSFORMS

from mmhierseg.priors import (PRIOR_CHANNELS, draw_priors, load_priors,
                              prior_path)
from .formatting import PackHierSegInputs

__all__ = ['LoadPoseAnnotations', 'PackPoseSegInputs']

PRIOR_KEY = 'gt_pose_prior'


@TRANSFORMS.register_module()
class LoadPoseAnnotations(BaseTransform):
    """Load an image's pose priors and draw the stem's channels.

    Place it right after the image loading, before any geometric transform.

    Required Keys:

    - img_path
    - img_shape

    Added Keys:

    - gt_pose_prior (np.uint8, ``(H, W, len(channels))``, 0 or 1)
    - seg_fields (``'gt_pose_prior'`` appended)
    - pose_prior_channels
    - pose_prior_source (``'pose model'``, ``'synthetic_oracle'``,
      ``'coco_keypoints'``)

    Args:
        channels (Sequence[str]): As the stem's ``channels``.
        kpt_thr (float): As the stem's ``pose['kpt_thr']``. Defaults to 0.5.
        part_widths (dict, optional): As the stem's ``part_widths``.
        prior_dir (str): Folder next to the image folder (or an absolute
            path) holding ``<id>.npz``. Defaults to ``'priors'``.
        any_source (bool): Accept files whatever made them (the synthetic
            oracle, converted keypoints). False (default): before training,
            :func:`~mmhierseg.utils.prior_checks.check_priors` refuses files
            not made by ``model.stem``'s pose/FastSAM weights and settings.
    """

    def __init__(self,
                 channels: Sequence[str] = PRIOR_CHANNELS,
                 kpt_thr: float = 0.5,
                 part_widths: Optional[Dict[str, float]] = None,
                 prior_dir: str = 'priors',
                 any_source: bool = False) -> None:
        self.channels = tuple(channels)
        unknown = [c for c in self.channels if c not in PRIOR_CHANNELS]
        if not self.channels or unknown:
            raise ValueError(f'LoadPoseAnnotations: channels must be names '
                             f'from {PRIOR_CHANNELS}, got {self.channels}')
        self.kpt_thr = float(kpt_thr)
        self.part_widths = dict(part_widths or {})
        self.prior_dir = prior_dir
        self.any_source = bool(any_source)

    def transform(self, results: dict) -> dict:
        """Draw the priors of ``results['img_path']`` at the image's size.

        Args:
            results (dict): From the image loading.

        Returns:
            dict: With ``gt_pose_prior`` (listed in ``seg_fields``).

        Raises:
            FileNotFoundError: No prior file (the message says how to make
                it).
            ValueError: The file is for another image size, or the image was
                already resized or cropped.
        """
        path = prior_path(results['img_path'], self.prior_dir)
        priors, source = load_priors(path)
        height, width = results['img_shape'][:2]
        ori = tuple(results.get('ori_shape', (height, width))[:2])
        if (height, width) != ori:
            raise ValueError(
                'LoadPoseAnnotations must come before any geometric '
                f'transform (image is {(height, width)}, originally {ori})')
        if tuple(priors.image_size) != (height, width):
            raise ValueError(
                f'{path}: priors of a {tuple(priors.image_size)} image, but '
                f"{results['img_path']} is {(height, width)}; remake them")
        maps = draw_priors(priors, self.channels, self.kpt_thr,
                           self.part_widths, path)
        results[PRIOR_KEY] = np.ascontiguousarray(maps.transpose(1, 2, 0))
        results['pose_prior_channels'] = self.channels
        settings = source.get('settings')
        kind = str(settings.get('kind', 'pose model') if isinstance(
            settings, dict) else 'pose model')
        if isinstance(source.get('degrade'), dict):
            kind += ', degraded ({})'.format(', '.join(
                f'{k} {v}' for k, v in sorted(source['degrade'].items())))
        if isinstance(source.get('mask'), dict):
            kind += f", mask from {source['mask'].get('source', '?')}"
        results['pose_prior_source'] = kind
        fields = results.setdefault('seg_fields', [])
        if PRIOR_KEY not in fields:
            fields.append(PRIOR_KEY)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(channels={self.channels}, '
                f'prior_dir={self.prior_dir!r})')


@TRANSFORMS.register_module()
class PackPoseSegInputs(PackHierSegInputs):
    """``PackHierSegInputs`` (mmseg's ``PackSegInputs`` plus the coarse
    levels' maps and ``label_level``), plus ``gt_pose_prior`` as the
    sample's ``pose_prior`` (``PixelData``, ``(C, h, w)`` uint8; metainfo
    ``channels`` and ``source``). Without priors in ``results`` it packs
    exactly what ``PackHierSegInputs`` packs.

    Args:
        meta_keys (Sequence[str]): As in ``PackHierSegInputs``.
    """

    def transform(self, results: dict) -> dict:
        """Pack the image, the annotations and the priors.

        Args:
            results (dict): From the pipeline.

        Returns:
            dict: ``inputs`` and ``data_samples``.
        """
        packed = super().transform(results)
        prior = results.get(PRIOR_KEY)
        if prior is not None:
            if prior.ndim == 2:  # cv2 drops a single channel when resizing
                prior = prior[..., None]
            data = torch.from_numpy(
                np.ascontiguousarray(prior.transpose(2, 0, 1)))
            packed['data_samples'].set_data({
                'pose_prior':
                PixelData(
                    data=data,
                    metainfo=dict(
                        channels=tuple(results['pose_prior_channels']),
                        source=results.get('pose_prior_source', '')))
            })
        return packed

