"""Pose priors: the frozen detectors that find people (pose backends,
FastSAM, their model store), the prior files and their drawing. Importing
it registers the pose backends in :data:`POSE_BACKENDS`."""
from .detector import (DEFAULT_POSE, DEFAULT_SAM, PriorDetector,
                       clip_boxes_xyxy)
from .fastsam import FastSAMSegmenter
from .files import (PRECOMPUTE_HINT, PersonPriors, draw_priors, load_priors,
                    prior_path, read_source, save_priors)
from .mmpose_pose import MMPoseBackend
from .model_store import (clear_model_cache, download_allowed,
                          resolve_ultralytics_weights)
from .person_mask import (KEYPOINT_MASK, is_keypoint_mask,
                          keypoint_person_mask, mask_maker)
from .pose_backend import (POSE_BACKENDS, BasePoseBackend, PoseResult,
                           build_pose_backend)
from .rendering import (COCO_FLIP_INDICES, COCO_KEYPOINTS,
                        DEFAULT_PART_WIDTHS, PART_CHANNELS, PRIOR_CHANNELS,
                        render_part_priors)
from .source import (StalePriorsError, check_source, prior_source,
                     stem_prior_source)
from .ultralytics_pose import UltralyticsPoseBackend

__all__ = [
    'PriorDetector', 'clip_boxes_xyxy', 'FastSAMSegmenter', 'PRECOMPUTE_HINT',
    'PersonPriors', 'draw_priors', 'load_priors', 'prior_path', 'read_source',
    'save_priors', 'MMPoseBackend', 'clear_model_cache', 'download_allowed',
    'resolve_ultralytics_weights', 'POSE_BACKENDS', 'BasePoseBackend',
    'PoseResult', 'build_pose_backend', 'COCO_FLIP_INDICES', 'COCO_KEYPOINTS',
    'DEFAULT_PART_WIDTHS', 'PART_CHANNELS', 'PRIOR_CHANNELS',
    'render_part_priors', 'StalePriorsError', 'check_source', 'prior_source',
    'UltralyticsPoseBackend', 'KEYPOINT_MASK', 'is_keypoint_mask',
    'keypoint_person_mask', 'mask_maker', 'DEFAULT_POSE', 'DEFAULT_SAM',
    'stem_prior_source'
]
