"""Preflight checks of the data, the encoder weights and the checkpoint, and
what every check of :data:`mmhierseg.utils.preflight.CHECKS` shares."""
import os
import os.path as osp
import socket
import threading
from dataclasses import dataclass
from typing import Dict, List, Optional

from .config_walk import walk_datasets

__all__ = [
    'Missing', 'Context', 'check_data', 'check_encoder_weights',
    'check_checkpoint'
]

_WEIGHT_SUFFIXES = ('.pt', '.pth', '.pth.tar', '.bin', '.safetensors',
                    '.ckpt')


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
        from mmhierseg.priors.model_store import download_allowed
        return download_allowed() and self.reachable(host)

    def splits(self, cfg) -> tuple:
        """The dataloaders the mode builds (``cfg``: the config): test, or
        train and val (no val without a validation loop)."""
        if self.mode == 'test':
            return ('test', )
        val = cfg.get('val_cfg') is not None
        return ('train', 'val') if val else ('train', )


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
    for _, key, ds, _ in walk_datasets(cfg, ctx.splits(cfg)):
        if 'data_root' not in ds and 'ann_file' not in ds:
            continue  # not a dataset of files
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
    backbone = (cfg.get('model') or {}).get('backbone') or {}
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
