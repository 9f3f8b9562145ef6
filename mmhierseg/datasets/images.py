"""Reading images under one EXIF-orientation policy.

A JPEG may carry an EXIF orientation tag (e.g. 6: the camera was turned, the
image is shown rotated by 90 degrees). Masks have no such tag: they are in
the pixel order of the image they were drawn on. The policy says which order
that was, and the dataset pipeline (:class:`LoadHierImageFromFile`),
``tools/check_dataset.py`` and ``tools/browse_dataset.py`` all read images
through it:

* ``'raw'`` (default): the tag is ignored, pixels are used as stored. This
  is right for Pascal-part and PASCAL-Person-Part, whose masks were made from
  the stored pixel arrays (MATLAB's ``imread`` ignores the tag).
* ``'exif'``: the tag is applied (the image as a viewer shows it). Use it
  for masks drawn in browser-based annotation tools, which usually draw on
  the displayed (rotated) image.

Set it with ``image_orientation=`` of the dataset (one variable in the
dataset config) or ``--orientation`` of the tools. ``tools/infer.py`` reads
users' photos as displayed (it applies the tag).
"""
from typing import Optional, Sequence, Tuple

import mmcv
import numpy as np

__all__ = [
    'ORIENTATIONS', 'DEFAULT_ORIENTATION', 'check_orientation',
    'describe_orientation', 'image_header', 'exif_orientation',
    'oriented_size', 'load_image', 'explain_size_mismatch'
]

#: Policy -> mmcv decoding flag.
ORIENTATIONS = {'raw': 'color_ignore_orientation', 'exif': 'color'}
DEFAULT_ORIENTATION = 'raw'
_EXIF_ORIENTATION = 0x0112
_TRANSPOSED = (5, 6, 7, 8)  # tags that swap height and width
_DESCRIBE = {
    'raw': "image_orientation='raw' (EXIF orientation tags ignored: pixels "
           'as stored, the order of Pascal-part\'s masks)',
    'exif': "image_orientation='exif' (EXIF orientation tags applied: images"
            ' as a viewer shows them, the order of masks drawn in '
            'browser-based tools)',
}


def check_orientation(policy: Optional[str]) -> str:
    """Validate a policy name (None means the default).

    Args:
        policy (str, optional): ``'raw'`` or ``'exif'``.

    Returns:
        str: The policy.
    """
    policy = DEFAULT_ORIENTATION if policy is None else policy
    if policy not in ORIENTATIONS:
        raise ValueError(f'image_orientation={policy!r}; use one of '
                         f'{sorted(ORIENTATIONS)}')
    return policy


def describe_orientation(policy: Optional[str]) -> str:
    """One line saying what a policy does (printed by the tools).

    Args:
        policy (str, optional): ``'raw'`` or ``'exif'``.

    Returns:
        str
    """
    return _DESCRIBE[check_orientation(policy)]


def image_header(path: str,
                 decode: bool = False,
                 backend_args: Optional[dict] = None
                 ) -> Tuple[Tuple[int, int], int]:
    """Stored size and EXIF orientation tag of an image, from its header.

    Args:
        path (str): Image file (local path or mmengine URI).
        decode (bool): Also decode the pixels (finds truncated files).
        backend_args (dict, optional): mmengine file backend arguments.

    Returns:
        tuple: ``(H, W)`` as stored, and the tag (1-8; 1 = as stored, also
        when there is none).

    Raises:
        Exception: Whatever PIL raises for an unreadable file.
    """
    from PIL import Image
    src = path
    if backend_args is not None or '://' in str(path):
        import io

        from mmengine import fileio
        src = io.BytesIO(fileio.get(path, backend_args=backend_args))
    with Image.open(src) as pil:
        w, h = pil.size
        tag = int(pil.getexif().get(_EXIF_ORIENTATION, 1) or 1)
        if decode:
            pil.load()  # raises on truncated / corrupt data
    return (h, w), tag


def exif_orientation(path: str) -> int:
    """The EXIF orientation tag of an image file (1 when absent).

    Args:
        path (str): Image file.

    Returns:
        int: 1-8; 1 means "as stored" (also for unreadable files, which
        are reported elsewhere).
    """
    try:
        return image_header(path)[1]
    except Exception:
        return 1


def oriented_size(raw_hw: Sequence[int], tag: int,
                  policy: Optional[str]) -> Tuple[int, int]:
    """``(H, W)`` of an image as read under ``policy``.

    Args:
        raw_hw (Sequence[int]): Stored ``(H, W)`` (e.g. from the header).
        tag (int): Its EXIF orientation tag.
        policy (str, optional): ``'raw'`` or ``'exif'``.

    Returns:
        tuple[int, int]
    """
    h, w = int(raw_hw[0]), int(raw_hw[1])
    if check_orientation(policy) == 'exif' and tag in _TRANSPOSED:
        return w, h
    return h, w


def load_image(path: str,
               orientation: Optional[str] = None,
               imdecode_backend: str = 'cv2',
               channel_order: str = 'bgr',
               backend_args: Optional[dict] = None) -> np.ndarray:
    """Read a 3-channel image under an orientation policy; errors name it.

    Args:
        path (str): The image file.
        orientation (str, optional): ``'raw'`` (default) or ``'exif'``.
        imdecode_backend (str): mmcv decoding backend.
        channel_order (str): ``'bgr'`` (mmcv default) or ``'rgb'``.
        backend_args (dict, optional): mmengine file backend arguments.

    Returns:
        np.ndarray: ``HxWx3`` (grayscale JPEGs are expanded).

    Raises:
        FileNotFoundError: If the file is missing.
        OSError: If it cannot be read or decoded.
    """
    from .utils import get_bytes
    fix = ('Restore the file (re-download or re-copy it), or remove its id '
           'from the split file.')
    content = get_bytes(path, 'image', fix, backend_args)
    try:
        img = mmcv.imfrombytes(content,
                               flag=ORIENTATIONS[check_orientation(
                                   orientation)],
                               channel_order=channel_order,
                               backend=imdecode_backend)
    except Exception as e:
        raise OSError(f'cannot decode image {path}: {e}. The file is corrupt'
                      f' or not an image. {fix}') from e
    if img is None or img.size == 0:
        raise OSError(f'cannot decode image {path}: the file is corrupt or '
                      f'not an image. {fix}')
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return img


def explain_size_mismatch(mask_path: str, mask_hw: Sequence[int],
                          image_path: str, image_hw: Sequence[int],
                          policy: Optional[str]) -> Optional[str]:
    """Say so when the image's EXIF tag explains a mask/image size mismatch.

    Args:
        mask_path (str): The mask file.
        mask_hw (Sequence[int]): The mask's ``(H, W)``.
        image_path (str): The image file.
        image_hw (Sequence[int]): The image's ``(H, W)`` under ``policy``.
        policy (str, optional): The policy in force.

    Returns:
        str | None: The explanation, or None when the tag does not explain
        the mismatch.
    """
    tag = exif_orientation(image_path)
    mask_hw, image_hw = tuple(mask_hw[:2]), tuple(image_hw[:2])
    if tag not in _TRANSPOSED or mask_hw != image_hw[::-1]:
        return None
    policy = check_orientation(policy)
    other = 'exif' if policy == 'raw' else 'raw'
    order = ('the image as displayed (rotated)' if other == 'exif' else
             'the stored pixels (unrotated)')
    return (f'orientation: image {image_path} carries EXIF orientation '
            f'{tag} (shown rotated by 90 degrees) and its mask {mask_path} '
            f'({mask_hw[0]}x{mask_hw[1]}) matches {order}, while the policy '
            f'in force is {describe_orientation(policy)}. The mask is not '
            f"broken: set image_orientation='{other}' in the dataset config "
            f'(--orientation {other} for the tools) if your masks follow '
            f'{order.split(" (")[0]}, or remove the tag from the image.')
