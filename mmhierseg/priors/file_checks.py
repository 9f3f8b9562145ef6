"""Checks of prior files without drawing them: :func:`check_prior_file`.

Two depths:

- the header (cheap; the start-up check of ``tools/train.py``): the file
  opens as a zip archive (a truncated file has lost the archive's directory
  at its end and fails here), holds every member of the format, and its
  ``version``, ``image_size`` and ``source`` (a few bytes each) are read;
  the mask is not decompressed;
- the whole file (``tools/check_dataset.py``): every member is read (and
  its CRC checked) and the arrays must agree with each other.

Every problem is one line naming the file and how to remake it
(:func:`remake_hint`, from what the file says made it).
"""
import json
from typing import List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from .files import FORMAT_VERSION, PRECOMPUTE_HINT, load_priors
from .pose_backend import NUM_KEYPOINTS

__all__ = [
    'BadPriorFilesError', 'PriorHeader', 'read_header', 'check_prior_file',
    'describe_source', 'remake_hint'
]

_MEMBERS = ('boxes', 'keypoints', 'scores', 'image_size', 'version',
            'source')


class BadPriorFilesError(ValueError):
    """Prior files that exist but cannot be used (the message names each
    and its fix)."""


class PriorHeader(NamedTuple):
    """What the header of a prior file says.

    Attributes:
        image_size (tuple[int, int]): ``(H, W)`` of the photo.
        has_mask (bool): Whether it holds a person mask.
        source (dict): What made it.
    """
    image_size: Tuple[int, int]
    has_mask: bool
    source: dict


def _kind(source: Optional[dict]) -> str:
    settings = (source or {}).get('settings')
    return str(settings.get('kind', 'pose model')) if isinstance(
        settings, dict) else 'pose model'


def describe_source(source: Optional[dict]) -> str:
    """A short name of what made a file, e.g. ``'coco_keypoints
    (kpts.json)'`` or ``"pose model (weights 'yolo11n-pose.pt')"``.

    Args:
        source (dict, optional): The file's ``source``.

    Returns:
        str
    """
    kind, source = _kind(source), source or {}
    if kind == 'coco_keypoints':
        return f"coco_keypoints ({source.get('file', '?')})"
    if kind != 'pose model':
        return kind
    settings = source.get('settings')
    pose = (settings.get('pose') if isinstance(settings, dict) else
            None) or {}
    return f"pose model (weights {pose.get('weights', '?')!r})"


def remake_hint(source: Optional[dict], mask: bool = False) -> str:
    """How to remake a file, from what made it.

    Args:
        source (dict, optional): The file's ``source`` (None: unknown).
        mask (bool): The file must get a person mask.

    Returns:
        str
    """
    kind = _kind(source) if source is not None else None
    if kind == 'coco_keypoints':
        return ('rerun tools/dataset_converters/coco_keypoints_to_priors.py '
                f"on {source.get('file', 'its COCO file')}" +
                (' with segmentations and without --no-mask' if mask else
                 " (each images entry's height and width must be its image "
                 "file's)"))
    if kind == 'synthetic_oracle':
        return 'rerun tools/make_synthetic_dataset.py'
    if kind == 'pose model':
        return ('remake it: `python tools/precompute_priors.py CONFIG '
                '--overwrite`' + (
                    " with 'mask' in model.stem.channels (FastSAM's masks, "
                    'or the keypoint-drawn ones without its weights)'
                    if mask else ''))
    return f'delete it and {PRECOMPUTE_HINT}'


def read_header(path: str) -> PriorHeader:
    """Read the small members of a prior file (not the mask).

    Args:
        path (str): The ``.npz``.

    Returns:
        PriorHeader

    Raises:
        ValueError: When it is unreadable, of another format version, or
            records no usable ``image_size`` or ``source`` (the message
            names the file and the fix).
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in _MEMBERS if k not in data.files]
            if missing:
                raise ValueError(f'no {", ".join(missing)}')
            version = int(data['version'])
            size = tuple(int(v) for v in np.asarray(data['image_size']))
            source = json.loads(str(data['source']))
            has_mask = 'mask' in data.files
    except Exception as e:
        raise ValueError(
            f'{path}: unreadable ({e}): truncated by an interrupted write or '
            f'copy, or not a prior file; delete it and {PRECOMPUTE_HINT}'
        ) from None
    if not isinstance(source, dict) or not source:
        raise ValueError(f'{path}: records no source (what made it), so '
                         'priors of other weights cannot be told apart; '
                         f'{remake_hint(None)}')
    if version != FORMAT_VERSION:
        raise ValueError(f'{path}: prior format {version}, this code reads '
                         f'{FORMAT_VERSION}; {remake_hint(source)}')
    if len(size) != 2 or min(size) < 1:
        raise ValueError(f'{path}: records the image size {size}, not '
                         f'(H, W); {remake_hint(source)}')
    return PriorHeader(size, has_mask, source)


def _inconsistent(path: str) -> Optional[str]:
    """Read the whole file: a problem of its arrays, or None."""
    priors, _ = load_priors(path)  # ValueError: unreadable member, CRC
    n = len(priors.boxes)
    want = dict(boxes=(n, 4), keypoints=(n, NUM_KEYPOINTS, 2),
                scores=(n, NUM_KEYPOINTS), visibility=(n, NUM_KEYPOINTS),
                mask=tuple(priors.image_size))
    for name, shape in want.items():
        value = getattr(priors, name)
        if value is None:
            continue
        if tuple(np.shape(value)) != shape:
            return f'{name} of shape {tuple(np.shape(value))}, not {shape}'
        if value.dtype.kind == 'f' and not np.isfinite(value).all():
            return f'{name} holds NaN or infinite values'
    return None


def check_prior_file(path: str,
                     image_size: Optional[Sequence[int]] = None,
                     channels: Sequence[str] = (),
                     full: bool = False,
                     image_path: str = 'the image'
                     ) -> Tuple[Optional[PriorHeader], List[str]]:
    """Check one prior file against its image and the channels to draw.

    Args:
        path (str): The ``.npz``.
        image_size (Sequence[int], optional): ``(H, W)`` of the image as
            the pipeline reads it; None: not compared.
        channels (Sequence[str]): Channels that will be drawn (``'mask'``
            needs a person mask in the file).
        full (bool): Read every member (finds damage inside the archive).
        image_path (str): The image, for messages.

    Returns:
        tuple[PriorHeader | None, list[str]]: The header (None when
        unreadable) and the problems, one line each naming the file.
    """
    try:
        header = read_header(path)
    except ValueError as e:
        return None, [str(e)]
    problems = []
    if full:
        try:
            bad = _inconsistent(path)
        except ValueError as e:
            return None, [str(e)]
        if bad:
            problems.append(f'{path}: inconsistent arrays ({bad}); '
                            f'{remake_hint(header.source)}')
    if image_size is not None and \
            tuple(header.image_size) != tuple(image_size):
        problems.append(
            f'{path}: priors of a {tuple(header.image_size)} (H, W) image, '
            f'but {image_path} is {tuple(image_size)}; '
            f'{remake_hint(header.source)}')
    if 'mask' in tuple(channels) and not header.has_mask:
        problems.append(
            f"{path}: no person mask, which the 'mask' channel needs; "
            f'{remake_hint(header.source, mask=True)}, or drop \'mask\' from '
            'the channels (LoadPoseAnnotations and model.stem)')
    return header, problems
