"""Check every input a config needs before anything heavy starts.

``tools/train.py`` and ``tools/test.py`` call :func:`preflight` right after
the config is built: it looks at the dataset folders and split files, the
encoder weights, the pose and FastSAM weights of ``model.stem`` and the
checkpoint (``load_from``), downloads nothing, and reports every missing
input in one message, each with its fix, instead of one per run.

Each check is a function ``check(cfg, ctx) -> list[Missing]`` in
:data:`CHECKS` (:mod:`~mmhierseg.utils.input_checks`: data, encoder
weights, checkpoint; :mod:`~mmhierseg.utils.prior_checks`: pose priors); to
check a new input, write one and append it there.
``ctx`` (:class:`Context`) holds the mode (``'train'``/``'test'``) and says
whether downloads can work (:meth:`Context.can_download`).
"""
from typing import Callable, List, Optional

from .input_checks import (Context, Missing, check_checkpoint, check_data,
                           check_encoder_weights)
from .prior_checks import check_pose_priors, check_stem_weights

__all__ = [
    'Missing', 'Context', 'MissingInputsError', 'CHECKS', 'check_inputs',
    'preflight'
]


class MissingInputsError(FileNotFoundError):
    """Inputs the config needs are missing (the message lists them all)."""


#: The checks :func:`check_inputs` runs, in order.
CHECKS: List[Callable] = [
    check_data, check_encoder_weights, check_stem_weights, check_pose_priors,
    check_checkpoint
]


def check_inputs(cfg, mode: str = 'train',
                 checks: Optional[List[Callable]] = None) -> None:
    """Run every check; raise one error listing every missing input.

    Args:
        cfg (Config | dict): The config the runner would be built from.
        mode (str): ``'train'`` or ``'test'``.
        checks (list[callable], optional): Defaults to :data:`CHECKS`.

    Raises:
        MissingInputsError: If any input is missing.
    """
    ctx = Context(mode)
    cfg = cfg.to_dict() if hasattr(cfg, 'to_dict') else cfg
    missing = [m for check in (CHECKS if checks is None else checks)
               for m in check(cfg, ctx)]
    if missing:
        lines = [f'  {k}. {m.format()}' for k, m in enumerate(missing, 1)]
        raise MissingInputsError(
            f'{len(missing)} input(s) this config needs are missing '
            f'({mode}; nothing was started):\n' + '\n'.join(lines))


def preflight(cfg, mode: str = 'train'):
    """:func:`check_inputs` for the tools: exit with the message (status 1,
    no traceback) when inputs are missing.

    Args:
        cfg (Config): The config.
        mode (str): ``'train'`` or ``'test'``.

    Returns:
        Config: ``cfg``, unchanged.
    """
    try:
        check_inputs(cfg, mode)
    except MissingInputsError as e:
        raise SystemExit(f'mmhierseg: {e}') from None
    return cfg
