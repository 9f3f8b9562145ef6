"""Input stems: modules run on the normalized image before the backbone."""
from .fastsam_segmenter import FastSAMSegmenter
from .mmpose_pose import MMPoseBackend
from .model_store import clear_model_cache, resolve_ultralytics_weights
from .pose_backend import (POSE_BACKENDS, BasePoseBackend, PoseResult,
                           build_pose_backend)
from .pose_prior_stem import PosePriorStem
from .prior_detector import PriorDetector, clip_boxes_xyxy
from .prior_files import (PersonPriors, StalePriorsError, check_source,
                          draw_priors, load_priors, prior_path, prior_source,
                          read_source, save_priors)
from .prior_rendering import (COCO_FLIP_INDICES, COCO_KEYPOINTS,
                              DEFAULT_PART_WIDTHS, PART_CHANNELS,
                              PRIOR_CHANNELS, render_part_priors)
from .ultralytics_pose import UltralyticsPoseBackend

__all__ = [
    'PosePriorStem', 'render_part_priors', 'FastSAMSegmenter',
    'BasePoseBackend', 'PoseResult', 'UltralyticsPoseBackend', 'MMPoseBackend',
    'POSE_BACKENDS', 'build_pose_backend', 'clear_model_cache',
    'resolve_ultralytics_weights', 'clip_boxes_xyxy', 'COCO_KEYPOINTS',
    'COCO_FLIP_INDICES', 'PART_CHANNELS', 'PRIOR_CHANNELS',
    'DEFAULT_PART_WIDTHS', 'PriorDetector', 'PersonPriors', 'StalePriorsError',
    'check_source', 'draw_priors', 'load_priors', 'prior_path', 'prior_source',
    'read_source', 'save_priors'
]
