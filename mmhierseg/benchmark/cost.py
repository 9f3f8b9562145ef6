"""What a model costs to train and to run, side by side, from its config.

Every model is built from a config (a study config's ``model``, random or
offline weights alike) and fed batches of its own data pipeline; the plain
mmseg baseline is derived from the first config: ``EncoderDecoder`` with the
same data preprocessor, encoder and leaf decoder, one class per leaf, no
stem. Timings take turns (:func:`interleaved`); peak memory is probed in a
fresh process per model.
"""
import copy
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Dict, List

import torch
from mmengine.structures import PixelData

from .timing import interleaved, peak_memory_mb

__all__ = ['PLAIN', 'model_cfgs', 'build', 'cost_rows']

#: name of the derived plain-mmseg baseline
PLAIN = 'plain mmseg'


def plain_cfg(model_cfg):
    """mmseg's ``EncoderDecoder`` twin of a hierarchical model config.

    Args:
        model_cfg (ConfigDict): A ``HierEncoderDecoder`` config.

    Returns:
        ConfigDict: The flat model: same preprocessor, encoder and leaf
        decoder, ``num_leaves`` classes, no stem.
    """
    from mmengine.config import ConfigDict

    from mmhierseg import ClassHierarchy
    hier = ClassHierarchy.build(model_cfg.hierarchy)
    return ConfigDict(
        type='EncoderDecoder',
        data_preprocessor=model_cfg.data_preprocessor,
        backbone=model_cfg.backbone,
        decode_head=dict(
            model_cfg.decode_head.decoder, num_classes=hier.num_leaves,
            loss_decode=dict(type='CrossEntropyLoss', avg_non_ignore=True)),
        test_cfg=dict(mode='whole'))


def model_cfgs(configs: Dict[str, str], data_root: str, batch: int,
               plain: bool = True) -> Dict[str, object]:
    """The full configs to compare, by display name.

    Args:
        configs (dict[str, str]): Display name -> config path.
        data_root (str): Dataset root of every config's loaders.
        batch (int): Batch size of every loader.
        plain (bool): Add the derived plain-mmseg baseline first.

    Returns:
        dict[str, Config]: Configs with one-process loaders.
    """
    from mmengine.config import Config
    out = {}
    for name, path in configs.items():
        cfg = Config.fromfile(path)
        cfg.train_dataloader.update(batch_size=batch, num_workers=0,
                                    persistent_workers=False)
        cfg.train_dataloader.dataset.data_root = data_root
        out[name] = cfg
    if plain:
        first = copy.deepcopy(next(iter(out.values())))
        first.model = plain_cfg(first.model)
        out = {PLAIN: first, **out}
    return out


def build(cfg, device: str = 'cpu'):
    """A model in train mode, its optimizer wrapper and one training batch
    (AMP on CUDA). Inference is timed on the same batch: its crops share
    one size, as a batch must.

    Args:
        cfg (Config): A full config.
        device (str): Where to run.

    Returns:
        tuple: ``(model, optim_wrapper, batch)``.
    """
    from mmengine.optim import build_optim_wrapper
    from mmengine.runner import Runner
    from mmseg.registry import MODELS
    model = MODELS.build(copy.deepcopy(cfg.model)).to(device)
    model.init_weights()
    optim = copy.deepcopy(cfg.optim_wrapper)
    if str(device).startswith('cuda'):
        optim.type = 'AmpOptimWrapper'
    optim = build_optim_wrapper(model, optim)
    batch = next(iter(Runner.build_dataloader(cfg.train_dataloader, seed=0)))
    return model.train(), optim, batch


def _same_size(batch):
    """The batch cropped to its smallest image (inference wants one size;
    training crops can be smaller than the crop size)."""
    h = min(i.shape[-2] for i in batch['inputs'])
    w = min(i.shape[-1] for i in batch['inputs'])
    samples = []
    for s in batch['data_samples']:
        s = s.clone()
        s.set_metainfo(dict(img_shape=(h, w), ori_shape=(h, w)))
        for key in s.keys():
            if isinstance(s.get(key), PixelData):
                s.set_data({key: PixelData(data=s.get(key).data[..., :h, :w],
                                           metainfo=s.get(key).metainfo)})
        samples.append(s)
    return dict(inputs=[i[..., :h, :w] for i in batch['inputs']],
                data_samples=samples)


def _flip(batch):
    """The batch mirrored left-right, as flip TTA feeds it."""
    samples = []
    for s in batch['data_samples']:
        s = s.clone()
        s.set_metainfo(dict(flip=True, flip_direction='horizontal'))
        for key in s.keys():
            if isinstance(s.get(key), PixelData) and key != 'gt_sem_seg':
                s.set_data({key: PixelData(data=s.get(key).data.flip(-1),
                                           metainfo=s.get(key).metainfo)})
        samples.append(s)
    return dict(inputs=[i.flip(-1) for i in batch['inputs']],
                data_samples=samples)


def _probe(cfg_text: str, device: str, threads: int) -> float:
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import mmhierseg  # noqa: F401
    init_default_scope('mmseg')
    torch.set_num_threads(threads)
    model, optim, data = build(Config.fromstring(cfg_text, '.py'), device)
    return peak_memory_mb(
        lambda: [model.train_step(data, optim) for _ in range(2)], device)


def cost_rows(cfgs: Dict[str, object], device: str = 'cpu', reps: int = 5,
              warmup: int = 2,
              modes: List[str] = ('whole', 'slide', 'flip TTA')) -> dict:
    """Train step, peak memory and inference speed of every model.

    Args:
        cfgs (dict[str, Config]): :func:`model_cfgs`' configs.
        device (str): Where to run.
        reps (int): Timed repetitions.
        warmup (int): Untimed repetitions first.
        modes (list[str]): Inference modes to time.

    Returns:
        dict[str, dict[str, float]]: ``{row: {model: value}}``.
    """
    from mmengine.config import ConfigDict
    from mmseg.models.segmentors import SegTTAModel

    from mmhierseg.models.segmentors import HierSegTTAModel
    built = {n: build(c, device) for n, c in cfgs.items()}
    step = interleaved({n: (lambda b=b: b[0].train_step(b[2], b[1]))
                        for n, b in built.items()}, reps, warmup, device)
    rows = {'train step (s)': {n: t['wall'] for n, t in step.items()},
            'train step CPU (s)': {n: t['cpu'] for n, t in step.items()}}
    if str(device).startswith('cuda'):
        rows['train peak memory (MB)'] = {n: peak_memory_mb(
            lambda b=b: b[0].train_step(b[2], b[1]), device)
            for n, b in built.items()}
    else:  # a fresh process per model: the peak RSS is the process's
        ctx = multiprocessing.get_context('spawn')
        rows['train peak memory (MB)'] = {}
        for n, c in cfgs.items():
            with ProcessPoolExecutor(1, mp_context=ctx) as pool:
                rows['train peak memory (MB)'][n] = pool.submit(
                    _probe, c.pretty_text, device,
                    torch.get_num_threads()).result()
    for mode in modes:
        fns = {}
        for n, (model, _, data) in built.items():
            model.eval()
            data = _same_size(data)
            side = min(data['inputs'][0].shape[-2:])
            crop = max(32, side * 3 // 4 // 32 * 32)
            model.test_cfg = ConfigDict(
                mode='slide', crop_size=(crop, crop),
                stride=(crop * 2 // 3, ) * 2) if mode == 'slide' else \
                ConfigDict(mode='whole')
            if mode == 'flip TTA':
                tta = (SegTTAModel if n == PLAIN else HierSegTTAModel)(
                    module=model)
                two = {k: [data[k], _flip(data)[k]] for k in data}
                fns[n] = lambda t=tta, d=two: t.test_step(d)
            else:
                fns[n] = lambda m=model, d=data: m.test_step(d)
        with torch.no_grad(), torch.autocast(
                'cuda', enabled=str(device).startswith('cuda')):
            sec = interleaved(fns, reps, warmup, device)
        rows[f'inference {mode} (img/s)'] = {
            n: len(built[n][2]['inputs']) / t['wall'] for n, t in sec.items()}
    return rows


def format_cost(rows: dict, baseline: str) -> str:
    """The rows as text, every value with its ratio to ``baseline``.

    Args:
        rows (dict): :func:`cost_rows`' rows.
        baseline (str): The column every ratio is taken to.

    Returns:
        str: The lines.
    """
    names = list(next(iter(rows.values())))
    width = max(17, max(len(n) for n in names) + 2)
    lines = [f'{"":<27}' + ''.join(f'{n:>{width}}' for n in names)]
    for row, vals in rows.items():
        cells = [f'{vals[n]:7.3g} ({vals[n] / vals[baseline]:4.2f}x)'
                 for n in names]
        lines.append(f'{row:<27}' + ''.join(f'{c:>{width}}' for c in cells))
    return '\n'.join(lines)
