"""Using a trained model outside training (mmseg's ``apis`` layout)."""
from .hier_seg_inferencer import HierSegInferencer, resolve_work_dir
from .inputs import IMG_EXTS, InferenceInput, expand_inputs, read_input
from .prior_inputs import PriorModelError

__all__ = [
    'HierSegInferencer', 'resolve_work_dir', 'IMG_EXTS', 'InferenceInput',
    'expand_inputs', 'read_input', 'PriorModelError'
]
