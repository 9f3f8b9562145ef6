# Copyright (c) OpenMMLab. All rights reserved.
from .level_maps import label_map, level_maps

__all__ = ['label_map', 'level_maps']
