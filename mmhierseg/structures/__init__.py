# Copyright (c) OpenMMLab. All rights reserved.
from .level_maps import label_map, level_maps
from .level_targets import stack_level_targets

__all__ = ['label_map', 'level_maps', 'stack_level_targets']
