"""Datasets, loading transforms and data tools (converter, checks,
browsing); the synthetic generator is in :mod:`mmhierseg.testing`.
Importing this package registers ``PascalPartDataset``,
``PascalPersonPartDataset``, ``LoadHierImageFromFile`` and
``LoadHierAnnotations`` in mmseg's registries."""
from . import transforms  # noqa: F401
from .checks import DatasetReport, check_dataset
from .images import DEFAULT_ORIENTATION, ORIENTATIONS, load_image
from .layouts import LAYOUTS, get_layout
from .pascal_part import PascalPartDataset, PascalPersonPartDataset
from .pascal_part_mat import (PERSON_PART_TO_LEAF, convert_pascal_part,
                              load_pascal_part_mat, person_label_map)
from .transforms import LoadHierAnnotations, LoadHierImageFromFile
from .utils import (InvalidLabelMapError, OrientationMismatchError,
                    load_label_map, read_split_file, validate_label_map)

__all__ = [
    'LAYOUTS', 'get_layout', 'PascalPartDataset', 'PascalPersonPartDataset',
    'LoadHierAnnotations', 'LoadHierImageFromFile', 'InvalidLabelMapError',
    'OrientationMismatchError', 'load_image', 'load_label_map',
    'read_split_file', 'validate_label_map', 'DatasetReport',
    'check_dataset', 'PERSON_PART_TO_LEAF', 'convert_pascal_part',
    'load_pascal_part_mat', 'person_label_map', 'ORIENTATIONS',
    'DEFAULT_ORIENTATION'
]
