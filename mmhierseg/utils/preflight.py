"""Check every input a config needs before anything heavy starts.

``tools/train.py`` and ``tools/test.py`` call :func:`preflight` right after
the config is built: it looks at the dataset folders and split files, the
encoder weights, the pose and FastSAM weights of ``model.stem`` and the
checkpoint (``load_from``), downloads nothing, and reports every missing
input in one message, each with its fix, instead of one per run.

Each check is a function ``check(cfg, ctx) -> list[Missing]`` in
:data:`CHECKS`; to check a new input, write one and append it there.
``ctx`` (:class:`Context`) holds the mode (``'train'``/``'test'``) and says
whether downloads can work (:meth:`Context.can_download`).
"""
import inspect
import os
import os.path as osp
import socket
import threading
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Optional

__all__ = [
    'Missing', 'Context', 'MissingInputsError', 'CHECKS', 'check_inputs',
    'preflight', 'dataset_cfgs'
]

_WEIGHT_SUFFIXES = ('.pt', '.pth', '.pth.tar', '.bin', '.safetensors',
                    '.ckpt')
_ASSETS = 'https://github.com/ultralytics/assets/releases'


@dataclass
class Missing:
    """One missing input.

    Attributes:
        what (str): E.g. ``"pose weights 'yolov8n-pose.pt'"``.
        key (str): The config key that names it.
        why (str): Why it is unusable (not found, offline, ...).
        fix (str): What to do.
    """
    what: str
    key: str
    why: str
    fix: str

    def format(self) -> str:
        """Two lines: what and why, then the fix."""
        return f'{self.what} ({self.key}): {self.why}.\n     Fix: {self.fix}'


class MissingInputsError(FileNotFoundError):
    """Inputs the config needs are missing (the message lists them all)."""


class Context:
    """What the checks share: the mode, and whether downloads can work.

    Args:
        mode (str): ``'train'`` or ``'test'``.
        timeout (float): Seconds to wait for a host to answer.
    """

    def __init__(self, mode: str = 'train', timeout: float = 3.0):
        if mode not in ('train', 'test'):
            raise ValueError(f"mode must be 'train' or 'test', got {mode!r}")
        self.mode = mode
        self.timeout = timeout
        self._reachable: Dict[str, bool] = {}

    def reachable(self, host: str) -> bool:
        """Whether ``host:443`` accepts a connection (cached; a hanging DNS
        lookup counts as unreachable after ``timeout`` seconds)."""
        if host not in self._reachable:
            ok = []

            def probe():
                try:
                    socket.create_connection((host, 443),
                                             timeout=self.timeout).close()
                    ok.append(True)
                except OSError:
                    pass

            t = threading.Thread(target=probe, daemon=True)
            t.start()
            t.join(self.timeout + 0.5)
            self._reachable[host] = bool(ok)
        return self._reachable[host]

    def can_download(self, host: str) -> bool:
        """Downloads allowed (``MMHIERSEG_OFFLINE`` unset) and ``host``
        reachable."""
        from mmhierseg.models.stems.model_store import download_allowed
        return download_allowed() and self.reachable(host)


def _get(cfg, key: str, default=None):
    """``cfg['a.b.c']`` for dicts and ConfigDicts; ``default`` if absent."""
    node = cfg
    for part in key.split('.'):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def dataset_cfgs(cfg, mode: str) -> Iterator[tuple]:
    """``(config key, dataset dict)`` of every dataset the mode builds
    (wrappers such as ``ConcatDataset`` are opened)."""
    loaders = ('train', 'val') if mode == 'train' else ('test', )
    for split in loaders:
        if split == 'val' and cfg.get('val_cfg') is None:
            continue  # no validation loop
        stack = [(f'{split}_dataloader.dataset',
                  _get(cfg, f'{split}_dataloader.dataset'))]
        while stack:
            key, ds = stack.pop(0)
            if not isinstance(ds, dict):
                continue
            if isinstance(ds.get('dataset'), dict):
                stack.append((key + '.dataset', ds['dataset']))
            for i, sub in enumerate(ds.get('datasets') or []):
                stack.append((f'{key}.datasets.{i}', sub))
            if 'data_root' in ds or 'ann_file' in ds:
                yield key, ds


def _layout_defaults(ds: dict) -> dict:
    from mmseg.registry import DATASETS

    from mmhierseg.datasets.layouts import get_layout
    cls = DATASETS.get(ds.get('type')) if isinstance(ds.get('type'),
                                                      str) else None
    name = getattr(cls, 'LAYOUT', None)
    if name is None:
        return {}
    lay = get_layout(name)
    return dict(img_path=lay['img_dir'], seg_map_path=lay['mask_dir'])


def check_data(cfg, ctx: Context) -> List[Missing]:
    """Dataset roots, split files and image/mask folders of the mode's
    datasets."""
    out = []
    for key, ds in dataset_cfgs(cfg, ctx.mode):
        root = ds.get('data_root') or ''
        loaders = ' '.join(f'{k}_dataloader.dataset.data_root=DIR'
                           for k in ('train', 'val', 'test'))
        if root and not osp.isdir(root):
            out.append(Missing(
                f'dataset root {root}', f'{key}.data_root',
                f'not found (working directory {os.getcwd()})',
                f'put the dataset there (python tools/check_dataset.py '
                f'{root} checks it), edit data_root in the config, or pass '
                f'--cfg-options {loaders} '
                '(python tools/make_synthetic_dataset.py DIR writes a small '
                'synthetic dataset in the Pascal-part layout)'))
            continue
        prefix = dict(_layout_defaults(ds), **(ds.get('data_prefix') or {}))
        items = [('split file', 'ann_file', ds.get('ann_file'), osp.isfile)]
        items += [(f'{what} folder', f'data_prefix.{k}', prefix.get(k),
                   osp.isdir) for what, k in (('image', 'img_path'),
                                              ('mask', 'seg_map_path'))]
        for what, sub, rel, exists in items:
            path = osp.join(root, rel) if rel else None
            if path and not exists(path):
                out.append(Missing(
                    f'{what} {path}', f'{key}.{sub}', 'not found',
                    f'check data_root ({root}) and {sub}; '
                    f'python tools/check_dataset.py {root} lists what the '
                    'dataset holds'))
    unique = {m.what: m for m in reversed(out)}  # val == test: once
    return [m for m in out if unique[m.what] is m]


def _hf_cached(repo_id: str, revision: Optional[str]) -> bool:
    from huggingface_hub import try_to_load_from_cache
    for name in ('model.safetensors', 'pytorch_model.bin'):
        hit = try_to_load_from_cache(repo_id, name, revision=revision)
        if isinstance(hit, str) and osp.isfile(hit):
            return True
    return False


def check_encoder_weights(cfg, ctx: Context) -> List[Missing]:
    """``model.backbone.weights`` of an ``SMPEncoder``: a local file must
    exist; an smp weight name needs the Hugging Face cache or the Hub."""
    backbone = _get(cfg, 'model.backbone') or {}
    weights = backbone.get('weights')
    if backbone.get('type') != 'SMPEncoder' or not isinstance(weights, str):
        return []
    key, name = 'model.backbone.weights', backbone.get('name', '?')
    scratch = f'or --cfg-options {key}=None to start from random weights'
    if osp.sep in weights or '/' in weights or \
            weights.lower().endswith(_WEIGHT_SUFFIXES):
        if osp.isfile(osp.expanduser(weights)):
            return []
        return [Missing(f'encoder weights {weights}', key, 'file not found',
                        f'pass the path of the file, {scratch}')]
    try:
        from segmentation_models_pytorch.encoders import encoders
        setting = encoders[name]['pretrained_settings'][weights]
    except Exception:  # not an smp hub name (timm, PyPI, ...): not ours
        return []
    repo, rev = setting.get('repo_id'), setting.get('revision')
    if not repo or _hf_cached(repo, rev) or ctx.can_download(
            'huggingface.co'):
        return []
    url = f'https://huggingface.co/{repo}/resolve/{rev or "main"}/' \
        'model.safetensors'
    return [Missing(
        f"encoder weights '{weights}' of {name}", key,
        'not in the Hugging Face cache and the Hub cannot be reached '
        '(offline, or MMHIERSEG_OFFLINE=1)',
        f'download {url} on a machine with internet and pass '
        f'--cfg-options {key}=/path/to/model.safetensors, {scratch}')]


def _ultralytics_missing(weights, what: str, key: str,
                         ctx: Context) -> List[Missing]:
    weights = str(weights)
    path = osp.expanduser(weights)
    if osp.isfile(path) or path.lower().endswith(('.yaml', '.yml')):
        return []
    looked = [osp.abspath(path)]
    if osp.basename(path) == path:
        try:
            from ultralytics.utils import SETTINGS
            stored = osp.join(str(SETTINGS['weights_dir']), path)
            looked.append(stored)
            if osp.isfile(stored):
                return []
        except Exception:  # settings unreadable
            pass
        if ctx.can_download('github.com'):
            return []
        why = ('not found (looked at ' + ', '.join(looked) + ') and it '
               'cannot be downloaded (offline, or MMHIERSEG_OFFLINE=1)')
    else:
        why = 'file not found'
    name = osp.basename(path)
    return [Missing(
        f"{what} weights '{weights}'", key, why,
        f'download {name} on a machine with internet ({_ASSETS}) and pass '
        f'--cfg-options {key}=/path/to/{name}')]


def _prior_splits(mode: str) -> tuple:
    return ('train', 'val') if mode == 'train' else ('test', )


def check_stem_weights(cfg, ctx: Context) -> List[Missing]:
    """Pose (ultralytics or mmpose) and FastSAM weights of ``model.stem``
    (the stem's defaults when the config leaves them out); not needed when
    every dataset of the mode carries precomputed priors."""
    stem = _get(cfg, 'model.stem')
    if not isinstance(stem, dict):
        return []
    from mmhierseg.datasets.transforms.priors import prior_datasets
    splits = [
        s for s in _prior_splits(ctx.mode) if cfg.get(f'{s}_dataloader')
    ]
    if splits and all(prior_datasets(cfg, [s]) for s in splits):
        return []
    from mmseg.registry import MODELS
    cls = MODELS.get(stem.get('type')) if isinstance(stem.get('type'),
                                                     str) else None
    defaults = {} if cls is None else {
        k: p.default
        for k, p in inspect.signature(cls).parameters.items()
        if p.default is not inspect.Parameter.empty
    }

    def part(name):
        value = stem[name] if name in stem else defaults.get(name)
        return dict(value) if isinstance(value, dict) else None

    out = []
    pose = part('pose')
    if pose and pose.get('backend', 'ultralytics') == 'ultralytics':
        out += _ultralytics_missing(pose.get('weights'), 'pose',
                                    'model.stem.pose.weights', ctx)
    elif pose:  # mmpose: local config and checkpoint, ultralytics detector
        for sub in ('config', 'checkpoint'):
            value = str(pose.get(sub))
            if value.startswith(('http://', 'https://')) and \
                    ctx.can_download(value.split('/')[2]):
                continue
            if not osp.isfile(osp.expanduser(value)):
                out.append(Missing(
                    f"mmpose {sub} '{value}'", f'model.stem.pose.{sub}',
                    'not found', f'pass the path of the local file: '
                    f'--cfg-options model.stem.pose.{sub}=/path/to/file'))
        det = (pose.get('det') or {}).get('weights')
        if det:
            out += _ultralytics_missing(det, 'person detector',
                                        'model.stem.pose.det.weights', ctx)
    sam = part('sam')
    channels = stem.get('channels', defaults.get('channels', ()))
    if sam and 'mask' in tuple(channels or ()):
        out += _ultralytics_missing(sam.get('weights'), 'FastSAM',
                                    'model.stem.sam.weights', ctx)
    return out


def check_pose_priors(cfg, ctx: Context) -> List[Missing]:
    """Prior files of the datasets whose pipeline loads them: present,
    made by ``model.stem``'s weights and settings, drawn as it expects."""
    if check_data(cfg, ctx):
        return []  # reported there
    from mmhierseg.datasets.transforms.priors import check_priors
    try:
        check_priors(cfg, _prior_splits(ctx.mode))
    except (OSError, ValueError, RuntimeError) as e:
        return [Missing('pose priors', 'LoadPoseAnnotations', str(e),
                        'python tools/precompute_priors.py CONFIG (with '
                        'the same --cfg-options)')]
    return []


def check_checkpoint(cfg, ctx: Context) -> List[Missing]:
    """``load_from`` (the checkpoint of tools/test.py, ``--resume PATH``,
    or a config's initial weights)."""
    ckpt = cfg.get('load_from')
    if not ckpt:
        return []
    ckpt = str(ckpt)
    if ckpt.startswith(('http://', 'https://')):
        if ctx.can_download(ckpt.split('/')[2]):
            return []
        why = 'is a URL and cannot be downloaded (offline)'
    elif osp.isfile(osp.expanduser(ckpt)):
        return []
    else:
        why = 'file not found'
    return [Missing(f'checkpoint {ckpt}', 'load_from', why,
                    'give the path of an existing .pth file (e.g. '
                    'work_dirs/<config>/best_*.pth or the file named in '
                    'work_dirs/<config>/last_checkpoint)')]


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
