"""Photos of real people that ship inside installed packages.

Offline there is no photo to try a model on, except those a package
installs: ultralytics' ``assets/bus.jpg`` (four people and a bus) and
``assets/zidane.jpg`` (two men, a close-up), and matplotlib's
``sample_data/grace_hopper.jpg`` (a portrait). ``make demo`` runs the
trained model on them; ``python -m mmhierseg.utils.sample_photos`` prints
their paths, one per line, for a shell::

    python tools/infer.py CONFIG CHECKPOINT \\
        $(python -m mmhierseg.utils.sample_photos) --out-dir photos/
"""
import importlib.util
import os.path as osp
import sys
from typing import List

__all__ = ['SAMPLE_PHOTOS', 'sample_photos']

#: ``(package, path inside the package)`` of each photo.
SAMPLE_PHOTOS = (
    ('ultralytics', 'assets/bus.jpg'),
    ('ultralytics', 'assets/zidane.jpg'),
    ('matplotlib', 'mpl-data/sample_data/grace_hopper.jpg'),
)


def sample_photos(strict: bool = True) -> List[str]:
    """The paths of the packaged photos (:data:`SAMPLE_PHOTOS`).

    Args:
        strict (bool): Raise when one is missing; else leave it out.

    Returns:
        list[str]: Absolute paths, in :data:`SAMPLE_PHOTOS` order.

    Raises:
        FileNotFoundError: ``strict`` and a package or file is missing,
            naming it.
    """
    paths = []
    for package, rel in SAMPLE_PHOTOS:
        spec = importlib.util.find_spec(package)
        root = osp.dirname(spec.origin) if spec and spec.origin else None
        path = osp.join(root, rel) if root else None
        if path and osp.isfile(path):
            paths.append(path)
        elif strict:
            raise FileNotFoundError(
                f'sample photo {rel} of the package {package} not found '
                f'({"package not installed" if root is None else path}); '
                '`make install` installs both packages')
    return paths


if __name__ == '__main__':
    try:
        print('\n'.join(sample_photos()))
    except FileNotFoundError as e:
        print(f'sample_photos: {e}', file=sys.stderr)
        sys.exit(1)
