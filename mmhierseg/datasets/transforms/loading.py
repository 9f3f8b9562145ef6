"""Loading transforms for hierarchical part datasets.

* :class:`LoadHierImageFromFile` - mmcv's ``LoadImageFromFile`` whose errors
  name the file (a corrupt JPEG raises instead of tripping an ``assert``),
  which always gives 3 channels (grayscale JPEGs are expanded) and follows
  the dataset's EXIF orientation policy.
* :class:`LoadHierAnnotations` - loads ``.npy`` or single-channel ``.png``
  leaf masks into ``results['gt_seg_map']`` with their exact values (uint8),
  and validates dtype, rank, size and values against the hierarchy.

Both work with mmseg's own ``RandomResize``, ``RandomCrop``, ``RandomFlip``,
``PhotoMetricDistortion`` and ``PackSegInputs``.
"""
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms import LoadImageFromFile as _MMCVLoadImageFromFile
from mmseg.registry import TRANSFORMS

from mmhierseg.hierarchy import ClassHierarchy
from ..images import load_image
from ..label_levels import level_label_maps
from ..utils import load_label_map

__all__ = ['LoadHierImageFromFile', 'LoadHierAnnotations']


@TRANSFORMS.register_module()
class LoadHierImageFromFile(_MMCVLoadImageFromFile):
    """Load an image as 3 channels under the dataset's orientation policy.

    Same outputs as mmcv's ``LoadImageFromFile`` (``img``, ``img_shape``,
    ``ori_shape``). Grayscale JPEGs (Pascal VOC has some) are expanded to 3
    equal channels. The EXIF orientation policy (``'raw'``: tag ignored,
    ``'exif'``: tag applied; see :mod:`mmhierseg.datasets.images`) is
    ``results['image_orientation']``, set by the dataset's
    ``image_orientation``; without it the default ``'raw'``. A missing,
    empty or corrupt file raises ``FileNotFoundError``/``OSError`` naming it,
    unless ``ignore_empty=True`` (then the sample is skipped, as in mmcv).

    Required Keys:

    - img_path
    - image_orientation (optional)

    Modified Keys:

    - img
    - img_shape
    - ori_shape

    Args:
        **kwargs: Arguments of mmcv's ``LoadImageFromFile`` except
            ``color_type`` (the orientation policy decides the flag).
    """

    def __init__(self, **kwargs):
        if 'color_type' in kwargs:
            raise ValueError(
                'LoadHierImageFromFile: color_type is not an argument: images'
                ' are read as 3 channels and EXIF orientation follows the '
                "dataset's image_orientation ('raw' or 'exif').")
        if kwargs.get('file_client_args') is not None:
            raise ValueError('LoadHierImageFromFile: file_client_args is '
                             'deprecated; use backend_args.')
        super().__init__(**kwargs)

    def transform(self, results: dict) -> Optional[dict]:
        """Load the image.

        Args:
            results (dict): Must hold ``img_path``.

        Returns:
            dict | None: ``results`` with ``img`` (uint8 or float32, HxWx3),
            ``img_shape`` and ``ori_shape``; None when the file cannot be
            read and ``ignore_empty`` is set.
        """
        try:
            img = load_image(
                results['img_path'],
                results.get('image_orientation'),
                imdecode_backend=self.imdecode_backend,
                backend_args=self.backend_args)
        except OSError:  # FileNotFoundError is an OSError
            if self.ignore_empty:
                return None
            raise
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results


@TRANSFORMS.register_module()
class LoadHierAnnotations(BaseTransform):
    """Load a leaf label map (``.npy`` or single-channel ``.png``).

    The stored values are kept exactly (leaf ids of the hierarchy, 255 =
    ignore) and stored as uint8 in ``results['gt_seg_map']``, which is added
    to ``results['seg_fields']`` so mmseg's geometric transforms
    (``RandomResize``, ``RandomCrop``, ``RandomFlip``) move it with the image.

    Validation (each error names the mask file and says how to fix it):
    integer dtype, 2-D, the same ``HxW`` as the loaded image (when the image
    is loaded first, as usual), and every value a leaf id of the hierarchy or
    255.

    The tree is ``results['hierarchy']``, which the dataset
    (:class:`PascalPartDataset`, ``hierarchy=``) puts into every sample, so
    pipelines never name it.

    Mixed granularity: a sample whose ``results['label_level']`` (set by
    the dataset's ``label_level``) is a coarse level ``k`` holds level
    ``k``'s ids in its mask (checked against that level: an out-of-range id
    raises naming the file and the level). Then ``gt_seg_map`` (the leaf
    level) is all 255, and every coarse level gets its own map
    ``gt_seg_map_<level name>``, also in ``seg_fields``: level ``k`` is the
    mask, the coarser levels are derived through the tree, the finer ones
    are all 255. ``PackHierSegInputs`` packs them as ``gt_sem_seg_<level
    name>``. A leaf-labelled sample (the default) gets only ``gt_seg_map``,
    as before. A size mismatch that the image's EXIF tag
    explains is reported as such (see ``results['image_orientation']``).

    Required Keys:

    - seg_map_path
    - hierarchy (the label tree, from the dataset)
    - ori_shape (optional, for the size check)
    - image_orientation (optional, for the size-mismatch message)
    - label_level (optional, level index; default: the leaf level)

    Added Keys:

    - gt_seg_map (np.uint8)
    - gt_seg_map_<level name> (np.uint8, coarse-labelled samples only)
    - seg_fields (list)

    Args:
        check_values (bool): Validate values (one ``np.unique`` per sample).
            Defaults to True.
        backend_args (dict, optional): mmengine file backend arguments.
    """

    def __init__(self,
                 check_values: bool = True,
                 backend_args: Optional[dict] = None):
        self.check_values = check_values
        self.backend_args = backend_args.copy() if backend_args else None

    def transform(self, results: dict) -> dict:
        """Load and validate the leaf mask.

        Args:
            results (dict): Must hold ``seg_map_path``.

        Returns:
            dict: ``results`` with ``gt_seg_map`` (uint8 HxW) and
            ``seg_fields``.
        """
        path = results['seg_map_path']
        if results.get('hierarchy') is None:
            raise ValueError(
                f'LoadHierAnnotations ({path}): no label tree in the sample. '
                "The dataset puts it there (PascalPartDataset(hierarchy=...)"
                '); outside such a dataset, set results[\'hierarchy\'] to a '
                'preset name or a tree dict.')
        expected = results.get('ori_shape') if 'img' in results else None
        tree = ClassHierarchy.build(results['hierarchy'])
        level = results.get('label_level')
        level = tree.leaf_level if level is None else tree.level_index(level)
        gt = load_label_map(
            path,
            hierarchy=tree,
            check_values=self.check_values,
            expected_shape=expected,
            image_path=results.get('img_path'),
            backend_args=self.backend_args,
            image_orientation=results.get('image_orientation'),
            label_level=level)
        maps = {'gt_seg_map': gt}
        if level != tree.leaf_level:
            per_level = level_label_maps(gt, tree, level)
            maps = {tree.field(k, 'gt_seg_map'): m
                    for k, m in enumerate(per_level)}
        seg_fields = results.setdefault('seg_fields', [])
        for key, value in maps.items():
            results[key] = value
            if key not in seg_fields:
                seg_fields.append(key)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'check_values={self.check_values}, '
                f'backend_args={self.backend_args})')
