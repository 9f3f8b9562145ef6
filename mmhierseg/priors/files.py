"""Pose priors as data: one ``.npz`` file per image, and its drawing.

A prior file holds what the pose model and FastSAM found on the whole
original photo, not the drawn maps, so the maps can be drawn at any size
and follow any geometric augmentation:

- ``boxes`` ``(P, 4)`` float32 xyxy, ``keypoints`` ``(P, 17, 2)`` float32
  (COCO-17 order, original pixel coordinates), ``scores`` ``(P, 17)``
  float32 keypoint confidences (0 = not visible);
- ``visibility`` ``(P, 17)`` uint8, optional, COCO's flags (0 = not
  labelled or outside the image, 1 = labelled but hidden, 2 = visible);
- ``mask`` ``(H, W)`` bool, optional: the people's mask;
- ``image_size`` ``(2, )`` int: ``(H, W)`` of the photo;
- ``source``: JSON describing what made the file (see
  :mod:`mmhierseg.priors.source`), so stale files are refused.

Both ways of getting priors, precomputed (``tools/precompute_priors.py``
then :class:`~mmhierseg.datasets.transforms.LoadPoseAnnotations`) and online
(``PosePriorStem`` on a batch without priors), draw with :func:`draw_priors`.
"""
import json
import os
import os.path as osp
import tempfile
from typing import Dict, NamedTuple, Optional, Sequence

import numpy as np

from .pose_backend import NUM_KEYPOINTS
from .rendering import PART_CHANNELS, render_part_priors

__all__ = [
    'FORMAT_VERSION', 'PersonPriors', 'prior_path', 'save_priors',
    'load_priors', 'draw_priors', 'read_source', 'PRECOMPUTE_HINT'
]

FORMAT_VERSION = 1

PRECOMPUTE_HINT = ('make them with `python tools/precompute_priors.py '
                   'CONFIG` (or convert your own keypoints with '
                   '`python tools/dataset_converters/'
                   'coco_keypoints_to_priors.py`; synthetic data: '
                   '`tools/make_synthetic_dataset.py` writes oracle priors)')


class PersonPriors(NamedTuple):
    """The people of one image (see the module docstring)."""
    boxes: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray
    image_size: tuple
    mask: Optional[np.ndarray] = None
    visibility: Optional[np.ndarray] = None

    @classmethod
    def empty(cls, height: int, width: int,
              mask: bool = True) -> 'PersonPriors':
        """Nobody found (with an all-False mask when ``mask``)."""
        return cls(
            np.zeros((0, 4), np.float32),
            np.zeros((0, NUM_KEYPOINTS, 2), np.float32),
            np.zeros((0, NUM_KEYPOINTS), np.float32), (height, width),
            np.zeros((height, width), bool) if mask else None)


def prior_path(img_path: str, prior_dir: str = 'priors') -> str:
    """Where the priors of ``img_path`` live.

    ``<root>/JPEGImages/<id>.jpg`` -> ``<root>/<prior_dir>/<id>.npz`` (next
    to the masks' folder); an absolute ``prior_dir`` is used as is.

    Args:
        img_path (str): The image file.
        prior_dir (str): Folder name or absolute path. Defaults to
            ``'priors'``.

    Returns:
        str
    """
    name = osp.splitext(osp.basename(img_path))[0] + '.npz'
    if osp.isabs(prior_dir):
        return osp.join(prior_dir, name)
    root = osp.dirname(osp.dirname(osp.abspath(img_path)))
    return osp.join(root, prior_dir, name)


def _umask() -> int:
    """The process umask (from ``/proc`` on Linux: reading it there leaves
    it unchanged for other threads)."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('Umask:'):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def save_priors(path: str, priors: PersonPriors, source: dict) -> None:
    """Write one prior file atomically (a temporary file, then a rename),
    readable as the umask allows (``0o666 & ~umask``, as ``open`` makes
    files; the temporary file alone would be ``0o600``).

    Args:
        path (str): Target ``.npz``.
        priors (PersonPriors): The people.
        source (dict): What made them (JSON-able).
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    arrays = dict(
        boxes=np.asarray(priors.boxes, np.float32).reshape(-1, 4),
        keypoints=np.asarray(priors.keypoints,
                             np.float32).reshape(-1, NUM_KEYPOINTS, 2),
        scores=np.asarray(priors.scores,
                          np.float32).reshape(-1, NUM_KEYPOINTS),
        image_size=np.asarray(priors.image_size, np.int64),
        version=np.asarray(FORMAT_VERSION),
        source=np.asarray(json.dumps(source, sort_keys=True, default=str)))
    if priors.mask is not None:
        arrays['mask'] = np.asarray(priors.mask, bool)
    if priors.visibility is not None:
        arrays['visibility'] = np.asarray(priors.visibility, np.uint8)
    fd, tmp = tempfile.mkstemp(
        dir=folder, prefix='.' + osp.basename(path), suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            np.savez_compressed(f, **arrays)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def _read(path: str, names: Optional[Sequence[str]] = None) -> dict:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in (names or data.files)}
    except Exception as e:
        raise ValueError(f'{path}: not a readable prior file ({e}); delete '
                         f'it and {PRECOMPUTE_HINT}.') from e


def load_priors(path: str) -> tuple:
    """Read one prior file.

    Args:
        path (str): The ``.npz``.

    Returns:
        tuple[PersonPriors, dict]: The people and the file's ``source``.

    Raises:
        FileNotFoundError: When missing, with the command that makes it.
        ValueError: When unreadable or of another format version.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'pose priors not found: {path}; '
                                f'{PRECOMPUTE_HINT}.')
    arrays = _read(path)
    version = int(arrays.get('version', -1))
    if version != FORMAT_VERSION:
        raise ValueError(f'{path}: prior format {version}, this code reads '
                         f'{FORMAT_VERSION}; {PRECOMPUTE_HINT}.')
    priors = PersonPriors(arrays['boxes'], arrays['keypoints'],
                          arrays['scores'],
                          tuple(int(v) for v in arrays['image_size']),
                          arrays.get('mask'), arrays.get('visibility'))
    return priors, json.loads(str(arrays['source']))


def read_source(path: str) -> dict:
    """Only the ``source`` of a prior file (cheap: one member read).

    Args:
        path (str): The ``.npz``.

    Returns:
        dict
    """
    return json.loads(str(_read(path, ('source', ))['source']))


def draw_priors(priors: PersonPriors,
                channels: Sequence[str],
                kpt_thr: float = 0.5,
                part_widths: Optional[Dict[str, float]] = None,
                path: str = '') -> np.ndarray:
    """The prior maps of one image, at its size.

    Args:
        priors (PersonPriors): The people (``mask`` needed for the
            ``'mask'`` channel).
        channels (Sequence[str]): Channel names, in order.
        kpt_thr (float): Minimum keypoint confidence.
        part_widths (dict, optional): See :func:`render_part_priors`.
        path (str): The file, for messages.

    Returns:
        np.ndarray: ``(len(channels), H, W)`` uint8, values 0 or 1.
    """
    height, width = priors.image_size
    out = np.zeros((len(channels), height, width), np.uint8)
    parts = tuple(c for c in channels if c in PART_CHANNELS)
    drawn = None
    if parts and len(priors.boxes):
        drawn = render_part_priors(
            priors.keypoints,
            priors.scores,
            priors.boxes,
            height,
            width,
            channels=parts,
            kpt_thr=kpt_thr,
            part_widths=part_widths)
    for c, name in enumerate(channels):
        if name == 'mask':
            if priors.mask is None:
                raise ValueError(
                    f"{path or 'priors'}: no person mask for channel "
                    "'mask'; drop 'mask' from the channels or make the "
                    'priors with FastSAM (model.stem.sam)')
            out[c] = priors.mask
        elif drawn is not None:
            out[c] = drawn[parts.index(name)]
    return out
