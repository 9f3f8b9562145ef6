"""The ``mask`` channel without FastSAM: the people's silhouettes drawn from
their keypoints, and which of the two makes a config's masks.

No PyPI package ships FastSAM (or SAM) weights, so offline the person mask
needs another source. :func:`keypoint_person_mask` draws it from what the
pose model found: the union of every part shape of
:func:`~mmhierseg.priors.rendering.render_part_priors`, each made
``grow`` times wider (the part priors are drawn thinner than the limbs
they mark). A person with no visible keypoint adds nothing; a joint the
pose model missed leaves its limb out of the mask as it does of the part
channels.

:func:`mask_maker` says what makes the masks of a stem config: FastSAM
when its weights are at hand, else the keypoints (said once, with the
fix). The choice is part of the priors' recorded ``source``, so prior
files made one way are refused where the other is configured.
"""
import os.path as osp
from typing import Dict, Optional, Sequence

import numpy as np
from mmengine.logging import print_log

from .rendering import PART_CHANNELS, render_part_priors

__all__ = ['KEYPOINT_MASK', 'keypoint_person_mask', 'mask_maker',
           'is_keypoint_mask']

#: The settings of the keypoint-drawn mask (recorded in the priors' source
#: as the ``sam`` entry). ``grow`` 1.5: on the synthetic set with oracle
#: keypoints, the IoU with the true people's mask peaks near it
#: (``docs/BENCHMARKS.md``, "keypoint person mask").
KEYPOINT_MASK = dict(source='keypoints', grow=1.5)

_warned = set()


def is_keypoint_mask(sam: Optional[dict]) -> bool:
    """Whether a mask config (see :func:`mask_maker`) draws from keypoints.

    Args:
        sam (dict, optional): A FastSAM config or :data:`KEYPOINT_MASK`.

    Returns:
        bool
    """
    return bool(sam) and dict(sam).get('source') == 'keypoints'


def keypoint_person_mask(keypoints: np.ndarray,
                         scores: Optional[np.ndarray],
                         boxes: Optional[np.ndarray],
                         height: int,
                         width: int,
                         kpt_thr: float = 0.5,
                         grow: float = KEYPOINT_MASK['grow'],
                         part_widths: Optional[Dict[str, float]] = None
                         ) -> np.ndarray:
    """The people's mask drawn from their keypoints.

    Args:
        keypoints (np.ndarray): ``(P, 17, 2)`` float pixel coordinates.
        scores (np.ndarray, optional): ``(P, 17)`` keypoint confidences.
        boxes (np.ndarray, optional): ``(P, 4)`` xyxy boxes (the scale).
        height (int): Image height.
        width (int): Image width.
        kpt_thr (float): Minimum keypoint confidence.
        grow (float): Width factor over the part shapes. Defaults to
            ``KEYPOINT_MASK['grow']``.
        part_widths (dict, optional): The part widths the factor applies
            to (see :data:`~mmhierseg.priors.rendering.DEFAULT_PART_WIDTHS`).

    Returns:
        np.ndarray: ``(height, width)`` bool.
    """
    from .rendering import DEFAULT_PART_WIDTHS
    widths = {k: float(grow) * v
              for k, v in {**DEFAULT_PART_WIDTHS,
                           **(part_widths or {})}.items()}
    if not len(np.asarray(keypoints).reshape(-1, 17, 2)):
        return np.zeros((height, width), bool)
    parts = render_part_priors(keypoints, scores, boxes, height, width,
                               PART_CHANNELS, kpt_thr, widths)
    return parts.any(0)


def mask_maker(channels: Sequence[str], sam: Optional[dict],
               download: Optional[bool] = None,
               check_weights: bool = True) -> Optional[dict]:
    """What makes the ``mask`` channel of a stem config.

    Args:
        channels (Sequence[str]): The stem's channels.
        sam (dict, optional): The stem's ``sam``: a FastSAM config, None or
            :data:`KEYPOINT_MASK` (draw the masks from the keypoints).
        download (bool, optional): Whether FastSAM weights may be
            downloaded (see :func:`~mmhierseg.priors.model_store
            .download_allowed`).
        check_weights (bool): Fall back to the keypoints where the FastSAM
            weights are absent (to make priors); False: what the config
            asks for (to check priors made elsewhere).

    Returns:
        dict | None: None without a ``mask`` channel; the FastSAM config
        when its weights resolve; else :data:`KEYPOINT_MASK` (an absent
        FastSAM checkpoint named by a bare name such as ``'FastSAM-s.pt'``
        is said once per name, as a warning naming ``model.stem.sam``).

    Raises:
        FileNotFoundError: FastSAM weights given as a path that does not
            exist.
    """
    if 'mask' not in tuple(channels):
        return None
    if not sam or is_keypoint_mask(sam):
        return dict(KEYPOINT_MASK, **dict(sam or {}))
    if not check_weights:
        return dict(sam)
    from .model_store import resolve_ultralytics_weights
    weights = dict(sam).get('weights', 'FastSAM-s.pt')
    try:
        resolve_ultralytics_weights(weights, download, 'FastSAM',
                                    'model.stem.sam')
    except FileNotFoundError as e:
        if osp.basename(str(weights)) != str(weights):
            raise  # a path that does not exist: a mistake, not an absence
        if weights not in _warned:
            _warned.add(weights)
            print_log(
                f"{e}\nThe 'mask' channel is drawn from the keypoints "
                'instead (mmhierseg.priors.person_mask). A model trained on '
                'FastSAM masks then sees masks of another kind: set '
                "model.stem.sam=None to train on the keypoint masks too.",
                logger='current', level=30)
        return dict(KEYPOINT_MASK)
    return dict(sam)
