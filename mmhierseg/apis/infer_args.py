"""Checks of ``tools/infer.py``'s arguments, done before the model is built.

Each check that fails raises :class:`BadArgument`, whose message names the
argument and the fix; the tool prints it as one line and exits with 2.
"""
import os
import os.path as osp
import tempfile
from typing import Optional, Tuple

__all__ = [
    'BadArgument', 'first_line', 'resolve_model', 'check_inputs',
    'check_device', 'writable_dir', 'writable_file', 'check_prior_dir'
]


class BadArgument(ValueError):
    """A command-line argument that cannot work (message: which, and the
    fix)."""


def first_line(err: BaseException) -> str:
    """``'<Type>: <first line of the message>'`` of an exception."""
    lines = str(err).strip().splitlines()
    return f'{type(err).__name__}: {lines[0]}' if lines else \
        type(err).__name__


def resolve_model(model: str, checkpoint: Optional[str]) -> Tuple:
    """The config (loaded) and checkpoint of ``MODEL [CHECKPOINT]``.

    Args:
        model (str): A config file, or a training work dir when
            ``checkpoint`` is None.
        checkpoint (str, optional): The checkpoint given with a config.

    Returns:
        tuple[Config, str]: The config and the checkpoint path.

    Raises:
        BadArgument: A missing or unreadable config or checkpoint, or a work
            dir without them.
    """
    from mmengine.config import Config

    from .work_dir import resolve_work_dir
    if checkpoint is None:
        try:
            model, checkpoint = resolve_work_dir(model)
        except FileNotFoundError as e:
            raise BadArgument(f'MODEL: {e}') from None
    elif not osp.isfile(model):
        raise BadArgument(f'MODEL {model} does not exist: give a model '
                          'config (.py) and its CHECKPOINT, or a training '
                          'work dir')
    elif not osp.isfile(checkpoint):
        raise BadArgument(f'CHECKPOINT {checkpoint} does not exist: give the'
                          ' .pth file tools/train.py wrote (or a training '
                          'work dir as MODEL, without CHECKPOINT)')
    try:
        cfg = Config.fromfile(model)
    except Exception as e:  # noqa: BLE001 - any parse error, one line
        raise BadArgument(f'MODEL {model} is not a readable config '
                          f'({first_line(e)}): give a model config file '
                          '(.py) and its CHECKPOINT') from None
    return cfg, checkpoint


def check_inputs(inputs) -> list:
    """The images of ``INPUTS`` (see
    :func:`~mmhierseg.apis.inputs.expand_inputs`).

    Raises:
        BadArgument: A missing path, a folder without images, a pattern
            matching nothing.
    """
    from .inputs import expand_inputs
    try:
        return expand_inputs(inputs)
    except (OSError, ValueError) as e:
        raise BadArgument(f'INPUTS: {e}') from None


def check_device(device: Optional[str]) -> None:
    """``--device``: a torch device that exists here.

    Raises:
        BadArgument: Not a device name, or a CUDA device torch cannot see.
    """
    if device is None:
        return
    import torch
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError) as e:
        raise BadArgument(f'--device {device!r} is not a device '
                          f'({first_line(e)}): use cpu, cuda or cuda:N') \
            from None
    if dev.type != 'cuda':
        return
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count == 0 or (dev.index or 0) >= count:
        raise BadArgument(f'--device {device}: torch sees {count} CUDA '
                          'device(s): use --device cpu, or leave --device '
                          'out (CUDA if available, else CPU)')


def writable_dir(path: str, option: str, fix: str) -> None:
    """Create ``path`` if needed and check that a file can be written in it.

    Args:
        path (str): The folder.
        option (str): The argument, for the message (``'--out-dir'``).
        fix (str): What to do instead, for the message.

    Raises:
        BadArgument: ``path`` is a file, cannot be made, or is read-only.
    """
    if osp.exists(path) and not osp.isdir(path):
        raise BadArgument(f'{option}: {path} is a file, not a folder: {fix}')
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix='.write_test_'):
            pass
    except OSError as e:
        raise BadArgument(f'{option}: cannot write into {path} '
                          f'({e.strerror or e}): {fix}') from None


def writable_file(path: str, option: str) -> None:
    """Check that ``path`` can be written (its folder exists, it is no
    folder), leaving the file as it was.

    Raises:
        BadArgument: Naming ``option`` and the fix.
    """
    fix = 'give a file path in a writable folder'
    if osp.isdir(path):
        raise BadArgument(f'{option}: {path} is a folder: {fix}')
    folder = osp.dirname(osp.abspath(path))
    if not osp.isdir(folder):
        raise BadArgument(f'{option}: the folder {folder} of {path} does not'
                          f' exist: create it, or {fix}')
    existed = osp.exists(path)
    try:
        with open(path, 'a'):
            pass
    except OSError as e:
        raise BadArgument(f'{option}: cannot write {path} '
                          f'({e.strerror or e}): {fix}') from None
    if not existed:
        os.remove(path)


def check_prior_dir(path: Optional[str]) -> Optional[str]:
    """``--priors-dir``: an existing folder, returned as an absolute path.

    Raises:
        BadArgument: When it is no folder.
    """
    if path is None:
        return None
    if not osp.isdir(path):
        raise BadArgument(f'--priors-dir {path} is not a folder: give the '
                          'folder of the prior files (<image name>.npz, made'
                          ' by tools/precompute_priors.py), e.g. '
                          'data/synthetic_pascal_part/priors')
    return osp.abspath(path)
