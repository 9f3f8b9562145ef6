"""Packing per-level ground truth: :class:`PackHierSegInputs`."""
from mmcv.transforms import to_tensor
from mmengine.structures import PixelData
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS

__all__ = ['PackHierSegInputs', 'LEVEL_MAP_PREFIX']

#: ``results`` keys of coarse levels' maps: ``gt_seg_map_<level name>``
#: (``ClassHierarchy.field(level, 'gt_seg_map')``).
LEVEL_MAP_PREFIX = 'gt_seg_map_'

_META_KEYS = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
              'pad_shape', 'scale_factor', 'flip', 'flip_direction',
              'reduce_zero_label', 'label_level')


@TRANSFORMS.register_module()
class PackHierSegInputs(PackSegInputs):
    """mmseg's ``PackSegInputs``, plus the coarse levels' maps and the
    sample's label level.

    ``LoadHierAnnotations`` writes ``gt_seg_map_<level>`` for the coarse
    levels of an image labelled only down to a coarse level (see
    :mod:`mmhierseg.datasets.label_levels`); they are packed as
    ``gt_sem_seg_<level>`` (``PixelData``, ``(1, H, W)`` int64), where the
    loss and the metric read them. ``label_level`` (the level index of the
    image's labels) joins the default meta keys. A leaf-labelled sample has
    no such map, and is packed as ``PackSegInputs`` packs it (plus
    ``label_level`` in its metainfo).

    Args:
        meta_keys (Sequence[str]): As in ``PackSegInputs``, plus
            ``'label_level'``.
    """

    def __init__(self, meta_keys=_META_KEYS):
        super().__init__(meta_keys=meta_keys)

    def transform(self, results: dict) -> dict:
        """Pack the image, the leaf map and every coarse level's map.

        Args:
            results (dict): From the pipeline.

        Returns:
            dict: ``inputs`` and ``data_samples``.
        """
        packed = super().transform(results)
        for key in results.get('seg_fields', []):
            if key.startswith(LEVEL_MAP_PREFIX) and key in results:
                name = 'gt_sem_seg_' + key[len(LEVEL_MAP_PREFIX):]
                data = to_tensor(results[key][None].astype('int64'))
                packed['data_samples'].set_data({name: PixelData(data=data)})
        return packed
