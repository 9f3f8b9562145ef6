# Copyright (c) OpenMMLab. All rights reserved.
from .level_maps import level_maps

__all__ = ['level_maps']
