"""Where prior files come from: what made them, and refusing stale ones.

Each prior file records its ``source`` (:func:`prior_source`): the pose
and FastSAM settings that made it and the content hashes of their local
weight files. :func:`check_source` compares a file's record with the
config's, so priors made by other weights or settings are never used.
"""
import hashlib
import json
import os.path as osp
from functools import lru_cache
from typing import Optional

from .detector import DEFAULT_POSE, DEFAULT_SAM
from .files import PRECOMPUTE_HINT
from .person_mask import mask_maker
from .rendering import PRIOR_CHANNELS
from .weights_trust import packaged_weights

__all__ = ['StalePriorsError', 'prior_source', 'stem_prior_source',
           'check_source']


class StalePriorsError(RuntimeError):
    """A prior file made by other weights or settings than configured."""


@lru_cache(maxsize=32)
def _sha256(path: str, mtime: float, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()[:16]


def _file_hash(value) -> Optional[str]:
    # a name a package ships ('yolo11n-pose.pt') is that package's file
    path = packaged_weights(str(value)) or osp.abspath(
        osp.expanduser(str(value)))
    return _sha256(path, osp.getmtime(path), osp.getsize(path)) \
        if osp.isfile(path) else None


def prior_source(pose: Optional[dict], sam: Optional[dict]) -> dict:
    """What makes model priors: the settings and, where the weights are
    local files, their content hashes.

    Args:
        pose (dict): The stem's ``pose`` config (``kpt_thr`` is a drawing
            setting and left out).
        sam (dict, optional): The stem's ``sam`` config, None without the
            ``mask`` channel.

    Returns:
        dict: ``settings`` (plain, JSON-able) and ``hashes`` (``key ->
        sha256 prefix`` of the weight files found locally).
    """
    drop = ('kpt_thr', 'download')
    pose = dict(pose or {})
    pose.setdefault('backend', 'ultralytics')
    settings = dict(
        pose={k: v
              for k, v in pose.items() if k not in drop},
        sam=None if sam is None else
        {k: v
         for k, v in dict(sam).items() if k not in drop})
    settings = json.loads(json.dumps(settings, sort_keys=True, default=str))
    hashes = {}
    for part in ('pose', 'sam'):
        cfg = settings[part] or {}
        det = cfg.get('det') or {}
        for key, value in (('weights', cfg.get('weights')),
                           ('checkpoint', cfg.get('checkpoint')),
                           ('config', cfg.get('config')),
                           ('det.weights', det.get('weights'))):
            digest = _file_hash(value) if value else None
            if digest:
                hashes[f'{part}.{key}'] = digest
    return dict(settings=settings, hashes=hashes)


def stem_prior_source(stem: dict) -> dict:
    """:func:`prior_source` of the priors a stem config asks for: its pose
    settings and its mask maker (:func:`mask_maker`: FastSAM, or the
    keypoints with ``sam=None``), with the stem's defaults where the config
    leaves them out. Whether the FastSAM weights are here is not asked
    (priors made elsewhere need none).

    Args:
        stem (dict): ``model.stem`` of a config.

    Returns:
        dict: See :func:`prior_source`.
    """
    stem = dict(stem or {})
    channels = tuple(stem.get('channels', PRIOR_CHANNELS))
    return prior_source(stem.get('pose', DEFAULT_POSE),
                        mask_maker(channels, stem.get('sam', DEFAULT_SAM),
                                   check_weights=False))


def check_source(recorded: dict, expected: Optional[dict], path: str) -> None:
    """Refuse priors made by other weights or settings.

    Args:
        recorded (dict): The file's ``source``.
        expected (dict, optional): :func:`prior_source` of the config; None
            accepts any source (oracle or converted keypoints).
        path (str): The file, for the message.

    Raises:
        StalePriorsError: Naming the file, the difference and the fix.
    """
    if expected is None:
        return
    fix = (f'Delete the stale files (or pass --overwrite) and '
           f'{PRECOMPUTE_HINT}.')
    if recorded.get('settings') != expected['settings']:
        raise StalePriorsError(
            f'{path}: priors made with other settings '
            f"({json.dumps(recorded.get('settings'), sort_keys=True)}) than "
            f"the config's ({json.dumps(expected['settings'], sort_keys=True)}"
            f'). {fix}')
    theirs = recorded.get('hashes') or {}
    for key, digest in expected['hashes'].items():
        if key in theirs and theirs[key] != digest:
            raise StalePriorsError(
                f'{path}: priors made by other weights ({key}: sha256 '
                f'{theirs[key]}, the configured file has {digest}). {fix}')
