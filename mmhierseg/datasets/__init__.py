"""Datasets, loading transforms and data tools (converter, synthetic data,
checks, browsing). Importing this package registers ``PascalPartDataset``,
``PascalPersonPartDataset``, ``LoadHierImageFromFile`` and
``LoadHierAnnotations`` in mmseg's registries."""
from . import transforms  # noqa: F401
from .layouts import LAYOUTS, get_layout
from .pascal_part import PascalPartDataset, PascalPersonPartDataset
from .transforms import LoadHierAnnotations, LoadHierImageFromFile
from .utils import (InvalidLabelMapError, load_image, load_label_map,
                    read_split_file, validate_label_map)

__all__ = [
    'LAYOUTS', 'get_layout', 'PascalPartDataset', 'PascalPersonPartDataset',
    'LoadHierAnnotations', 'LoadHierImageFromFile', 'InvalidLabelMapError',
    'load_image', 'load_label_map', 'read_split_file', 'validate_label_map'
]
