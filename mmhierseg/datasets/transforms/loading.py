"""Loading transforms for hierarchical part datasets.

* :class:`LoadHierImageFromFile` - mmcv's ``LoadImageFromFile`` whose errors
  name the file (a corrupt JPEG raises instead of tripping an ``assert``) and
  which always gives 3 channels (grayscale JPEGs are expanded).
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

from mmhierseg.hierarchy import IGNORE_INDEX, ClassHierarchy
from ..utils import load_image, load_label_map

__all__ = ['LoadHierImageFromFile', 'LoadHierAnnotations']

_COLOR_FLAGS = ('color', 'color_ignore_orientation')


@TRANSFORMS.register_module()
class LoadHierImageFromFile(_MMCVLoadImageFromFile):
    """Load an image as 3 channels; errors name the file.

    Same arguments and outputs as mmcv's ``LoadImageFromFile`` (``img``,
    ``img_shape``, ``ori_shape``), except that ``color_type`` must be a colour
    flag: the models expect 3 channels and grayscale JPEGs (Pascal VOC has
    some) are expanded to 3 equal channels. A missing, empty or corrupt file
    raises ``FileNotFoundError``/``OSError`` naming it, unless
    ``ignore_empty=True`` (then the sample is skipped, as in mmcv).

    Required Keys:

    - img_path

    Modified Keys:

    - img
    - img_shape
    - ori_shape

    Args:
        color_type (str): ``'color'`` (default; applies EXIF orientation, as
            mmcv does) or ``'color_ignore_orientation'``.
        **kwargs: Other arguments of mmcv's ``LoadImageFromFile``.
    """

    def __init__(self, color_type: str = 'color', **kwargs):
        if color_type not in _COLOR_FLAGS:
            raise ValueError(
                f'LoadHierImageFromFile: color_type={color_type!r}; use one '
                f'of {_COLOR_FLAGS} (the models expect 3-channel images).')
        if kwargs.get('file_client_args') is not None:
            raise ValueError('LoadHierImageFromFile: file_client_args is '
                             'deprecated; use backend_args.')
        super().__init__(color_type=color_type, **kwargs)

    def transform(self, results: dict) -> Optional[dict]:
        """Load the image.

        Args:
            results (dict): Must hold ``img_path``.

        Returns:
            dict | None: ``results`` with ``img`` (uint8 or float32, HxWx3),
            ``img_shape`` and ``ori_shape``; None when the file cannot be
            read and ``ignore_empty`` is set.
        """
        filename = results['img_path']
        try:
            img = load_image(
                filename,
                color_type=self.color_type,
                imdecode_backend=self.imdecode_backend,
                backend_args=self.backend_args)
        except OSError:  # FileNotFoundError is an OSError
            if self.ignore_empty:
                return None
            raise
        if img.ndim == 2:  # pragma: no cover - colour flags give 3 channels
            img = np.repeat(img[..., None], 3, axis=2)
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

    The hierarchy comes from ``hierarchy`` if given, else from
    ``results['hierarchy']`` (set by :class:`PascalPartDataset`), else the
    Pascal-part tree. When both are given they must agree.

    Required Keys:

    - seg_map_path
    - ori_shape (optional, for the size check)
    - label_map (optional, old id -> new id)
    - reduce_zero_label (optional, must be False)

    Added Keys:

    - gt_seg_map (np.uint8)
    - seg_fields (list)

    Args:
        hierarchy (str | dict | ClassHierarchy, optional): The label tree.
        check_values (bool): Validate values (one ``np.unique`` per sample).
            Defaults to True.
        backend_args (dict, optional): mmengine file backend arguments.
    """

    def __init__(self,
                 hierarchy=None,
                 check_values: bool = True,
                 backend_args: Optional[dict] = None):
        self.hierarchy = None if hierarchy is None else \
            ClassHierarchy.build(hierarchy)
        self.check_values = check_values
        self.backend_args = backend_args.copy() if backend_args else None

    def _hierarchy_for(self, results: dict) -> ClassHierarchy:
        from_data = results.get('hierarchy')
        if from_data is not None:
            from_data = ClassHierarchy.build(from_data)
        if self.hierarchy is not None:
            if from_data is not None and from_data != self.hierarchy:
                raise ValueError(
                    f'LoadHierAnnotations: hierarchy {self.hierarchy} '
                    f'(classes {list(self.hierarchy.leaf_names)}) differs '
                    f'from the dataset\'s {from_data} (classes '
                    f'{list(from_data.leaf_names)}) for '
                    f'{results.get("seg_map_path")}. Use the same '
                    '`hierarchy` in the dataset and the pipeline.')
            return self.hierarchy
        return from_data if from_data is not None else \
            ClassHierarchy.build(None)

    def transform(self, results: dict) -> dict:
        """Load and validate the leaf mask.

        Args:
            results (dict): Must hold ``seg_map_path``.

        Returns:
            dict: ``results`` with ``gt_seg_map`` (uint8 HxW) and
            ``seg_fields``.
        """
        path = results['seg_map_path']
        if results.get('reduce_zero_label', False):
            raise ValueError(
                f'LoadHierAnnotations ({path}): reduce_zero_label=True is not '
                'supported; background is class 0 of every level of the '
                'hierarchy. Set reduce_zero_label=False in the dataset.')
        hierarchy = self._hierarchy_for(results)
        expected = results.get('ori_shape') if 'img' in results else None
        gt = load_label_map(
            path,
            hierarchy=hierarchy,
            check_values=self.check_values,
            expected_shape=expected,
            image_path=results.get('img_path'),
            backend_args=self.backend_args)
        label_map = results.get('label_map')
        if label_map:
            table = np.arange(IGNORE_INDEX + 1, dtype=np.uint8)
            for old_id, new_id in label_map.items():
                table[old_id] = new_id
            gt = table[gt]
        results['gt_seg_map'] = gt
        seg_fields = results.setdefault('seg_fields', [])
        if 'gt_seg_map' not in seg_fields:
            seg_fields.append('gt_seg_map')
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(hierarchy={self.hierarchy}, '
                f'check_values={self.check_values}, '
                f'backend_args={self.backend_args})')
