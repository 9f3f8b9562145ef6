"""Run a trained hierarchical segmentor from Python: HierSegInferencer."""
import os.path as osp
import re
import sys
import time
import warnings
from typing import Iterator, List, Optional

import numpy as np
import torch
from mmcv.transforms import Compose
from mmengine.runner import load_state_dict
from mmengine.utils import ProgressBar
from mmseg.apis import MMSegInferencer

from ..hierarchy import ClassHierarchy
from ..utils.checkpoint import register_checkpoint_safe_globals
from ..visualization import HierSegLocalVisualizer
from .inputs import expand_inputs, read_input
from .work_dir import resolve_work_dir

__all__ = ['HierSegInferencer', 'resolve_work_dir']


class HierSegInferencer(MMSegInferencer):
    """Every level of a hierarchical segmentor on users' images.

    Built on mmseg's ``MMSegInferencer`` (model building, checkpoint loading,
    SyncBN reversion on CPU, batching through ``test_step``); adds the
    hierarchy: per-level label maps and probabilities, the panel drawing of
    :class:`HierSegLocalVisualizer`, mixed-size batches, per-image error
    reports and unique output names.

    Example::

        >>> inferencer = HierSegInferencer('work_dirs/hierseg')  # a work dir
        >>> out = inferencer(['bus.jpg', 'photos/'], batch_size=4)
        >>> out['predictions'][0]['levels']['part'].shape  # == image size

    Args:
        model (str | Config): A config file or a work dir (see
            :func:`resolve_work_dir`).
        weights (str, optional): Checkpoint. Required with a config file
            (without it the weights are random, with a warning).
        device (str, optional): ``'cpu'``, ``'cuda:0'``...; None: CUDA if
            available.
        show_progress (bool): Show a progress bar. Defaults to False.
    """

    def __init__(self, model, weights: Optional[str] = None,
                 device: Optional[str] = None, show_progress: bool = False):
        if isinstance(model, str) and osp.isdir(model):
            model, weights = resolve_work_dir(model, weights)
        if isinstance(model, str) and not osp.isfile(model):
            raise FileNotFoundError(f'config {model} does not exist')
        if weights is not None and not osp.isfile(weights):
            raise FileNotFoundError(f'checkpoint {weights} does not exist')
        register_checkpoint_safe_globals()  # torch >= 2.6: weights_only
        super().__init__(model=model, weights=weights, device=device)
        self.show_progress = show_progress
        self.visualizer.dataset_meta = self.model.dataset_meta

    @property
    def hierarchy(self) -> ClassHierarchy:
        """ClassHierarchy: The model's tree."""
        return ClassHierarchy.build(self.model.dataset_meta['hierarchy'])

    def _load_weights_to_model(self, model, checkpoint, cfg) -> None:
        """Load the weights; the tree comes from the model (or the config).

        Args:
            model (nn.Module): The built model.
            checkpoint (dict, optional): The loaded checkpoint.
            cfg (Config): The config.
        """
        if checkpoint is not None:
            state = checkpoint.get('state_dict', checkpoint)
            load_state_dict(model, {  # checkpoints of wrapped (DDP) models
                k[7:] if k.startswith('module.') else k: v
                for k, v in state.items()}, logger='current')
        else:
            warnings.warn('no checkpoint given: the model has random weights')
        tree = getattr(model, 'hierarchy', None)
        if tree is None:
            meta = (checkpoint or {}).get('meta', {}).get('dataset_meta', {})
            tree = meta.get('hierarchy') or cfg.get('hierarchy')
            if tree is None:
                raise ValueError('the model has no class tree: use a '
                                 'HierEncoderDecoder or set `hierarchy` in '
                                 'the config')
        model.dataset_meta = ClassHierarchy.build(tree).metainfo()

    def _init_pipeline(self, cfg) -> Compose:
        """The test pipeline after image loading, without annotations."""
        pipeline = cfg.get('test_pipeline') or \
            cfg.test_dataloader.dataset.pipeline
        return Compose([
            t for t in pipeline
            if not re.search(r'Load.*(Image|Annotation)', str(t['type']))
        ])

    def _init_visualizer(self, cfg) -> HierSegLocalVisualizer:
        """A backend-free :class:`HierSegLocalVisualizer` (no logging)."""
        return HierSegLocalVisualizer(
            name=f'hierseg_inferencer_{id(self)}_{time.time_ns()}',
            hierarchy=self.model.dataset_meta['hierarchy'])

    def probabilities(self, sample) -> dict:
        """Per-level class probabilities ``(C_k, H, W)`` of one prediction.

        ``'consistent'`` decoding: the softmax of the leaf scores, summed
        over each coarse class's leaves (the label maps are the tree-derived
        argmax of the leaf, which the summed probabilities of a coarse level
        may rank differently). ``'independent'``: each level's softmax.

        Args:
            sample (SegDataSample): A prediction.

        Returns:
            dict[str, np.ndarray]: Level name -> float32 probabilities.
        """
        h = self.hierarchy
        leaf = torch.softmax(sample.seg_logits.data.float(), dim=0)
        out = {}
        for k, level in enumerate(h.level_names):
            field = h.field(k, 'seg_logits')
            if k != h.leaf_level and field in sample:
                p = torch.softmax(sample.get(field).data.float(), dim=0)
            elif k != h.leaf_level:
                idx = torch.tensor(h.lut(k), device=leaf.device)
                p = leaf.new_zeros((h.num_classes[k], ) + leaf.shape[1:])
                p.index_add_(0, idx, leaf)
            else:
                p = leaf
            out[level] = p.cpu().numpy()
        return out

    def iter_predictions(self, inputs, batch_size: int = 1,
                         return_probs: bool = False,
                         return_vis: bool = False,
                         return_datasamples: bool = False) -> Iterator[dict]:
        """Predict image by image (memory stays bounded for many images).

        Args:
            inputs: Paths, folders, glob patterns, numpy arrays (BGR) or PIL
                images, or a list of them (see :func:`expand_inputs`).
            batch_size (int): Images per forward pass (>= 1); images of
                different sizes in one batch run as separate passes.
            return_probs (bool): Add ``probabilities`` (see
                :meth:`probabilities`).
            return_vis (bool): Add ``visualization`` (the RGB panel).
            return_datasamples (bool): Add ``data_sample``.

        Yields:
            dict: Per image, in input order: ``name`` (unique output name),
            ``input`` (the path or None), and either ``levels`` (level name
            -> ``HxW`` uint8 label map at the image's upright size) or
            ``error`` (why the image could not be processed; it is skipped).
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) \
                or batch_size < 1:
            raise ValueError(f'batch_size must be an integer >= 1, got '
                             f'{batch_size!r}')
        items = expand_inputs(inputs)
        bar = ProgressBar(len(items), file=sys.stdout) \
            if self.show_progress else None
        for start in range(0, len(items), batch_size):
            chunk, loaded = items[start:start + batch_size], {}
            for i, item in enumerate(chunk):
                try:
                    img = read_input(item)
                    loaded[i] = (img, self.pipeline(dict(
                        img=img, img_path=item.path,
                        img_shape=img.shape[:2], ori_shape=img.shape[:2])))
                except Exception as e:  # noqa: BLE001 - skip, report
                    loaded[i] = e
            preds = {}
            by_shape = {}
            for i, v in loaded.items():
                if not isinstance(v, Exception):
                    by_shape.setdefault(tuple(v[1]['inputs'].shape),
                                        []).append(i)
            for idx in by_shape.values():  # one size per test batch (mmseg)
                outs = self.forward(self.collate_fn([loaded[i][1]
                                                     for i in idx]))
                preds.update(zip(idx, outs))
            for i, item in enumerate(chunk):
                if bar is not None:
                    bar.update()
                res = dict(name=item.name, input=item.path)
                if i not in preds:
                    err, where = loaded[i], item.path or item.name
                    msg = str(err) if isinstance(err, (OSError, ValueError)) \
                        else f'{type(err).__name__}: {err}'
                    res['error'] = msg if where in msg else f'{where}: {msg}'
                    yield res
                    continue
                yield self._result(res, loaded[i][0], preds[i], return_probs,
                                   return_vis, return_datasamples)

    def _result(self, res, img, sample, probs, vis, datasample) -> dict:
        maps = self.visualizer.level_maps(sample, 'pred_sem_seg')
        res['levels'] = {
            lvl: m.astype(np.uint8)
            for lvl, m in zip(self.hierarchy.level_names, maps)
        }
        if probs:
            res['probabilities'] = self.probabilities(sample)
        if vis:
            res['visualization'] = self.draw(img[..., ::-1], sample,
                                             res['name'])
        if datasample:
            res['data_sample'] = sample
        return res

    def draw(self, image_rgb: np.ndarray, sample, name: str = 'image',
             out_file: Optional[str] = None) -> np.ndarray:
        """The panel of one prediction (:class:`HierSegLocalVisualizer`).

        Args:
            image_rgb (np.ndarray): The RGB image.
            sample (SegDataSample): Its prediction.
            name (str): Identifier.
            out_file (str, optional): Also write the panel there.

        Returns:
            np.ndarray: The RGB panel.
        """
        self.visualizer.add_datasample(
            name, image_rgb, sample, draw_gt=False, out_file=out_file)
        return self.visualizer.get_image()

    def __call__(self, inputs, batch_size: int = 1,
                 return_probs: bool = False, return_vis: bool = False,
                 return_datasamples: bool = False) -> dict:
        """Predict every image (see :meth:`iter_predictions`).

        Returns:
            dict: ``predictions`` (one dict per readable image, see
            :meth:`iter_predictions`) and ``errors`` (``input`` and
            ``error`` of every image that could not be read; each is also
            warned about).
        """
        preds: List[dict] = []
        errors: List[dict] = []
        for res in self.iter_predictions(inputs, batch_size, return_probs,
                                         return_vis, return_datasamples):
            if 'error' in res:
                warnings.warn(f'skipped: {res["error"]}')
                errors.append(res)
            else:
                preds.append(res)
        return dict(predictions=preds, errors=errors)
