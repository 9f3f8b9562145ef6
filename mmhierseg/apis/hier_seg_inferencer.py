"""Run a trained hierarchical segmentor from Python: HierSegInferencer."""
import os.path as osp
import re
import sys
import time
import warnings
from typing import Iterator, List, Optional

import numpy as np
from mmcv.transforms import Compose
from mmengine.runner import load_state_dict
from mmengine.utils import ProgressBar
from mmseg.apis import MMSegInferencer

from ..hierarchy import ClassHierarchy
from ..utils.checkpoint import register_checkpoint_safe_globals
from ..visualization import HierSegLocalVisualizer
from .inputs import expand_inputs, read_input
from .probabilities import level_probabilities
from .prior_inputs import (LOADING, prepare_priors, prior_pipeline,
                           prior_stem, test_pipeline)
from .work_dir import resolve_work_dir

__all__ = ['HierSegInferencer', 'resolve_work_dir']


class HierSegInferencer(MMSegInferencer):
    """Every level of a hierarchical segmentor on users' images.

    Built on mmseg's ``MMSegInferencer`` (model building, checkpoint loading,
    SyncBN reversion on CPU, batching through ``test_step``); adds the
    hierarchy: per-level label maps and probabilities, the panel drawing of
    :class:`HierSegLocalVisualizer`, mixed-size batches, per-image error
    reports and unique output names.

    Pose priors (a ``PosePriorStem``): online, or from prior files with
    ``prior_dir`` (see :mod:`mmhierseg.apis.prior_inputs`).

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
        prior_dir (str, optional): The images' prior files (``<name>.npz``),
            as ``LoadPoseAnnotations``'s ``prior_dir``: a folder name next
            to the image folder (``'priors'``) or an absolute path; images
            without one get online priors. None: online for every image.
    """

    def __init__(self, model, weights: Optional[str] = None,
                 device: Optional[str] = None, show_progress: bool = False,
                 prior_dir: Optional[str] = None):
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
        self.prior_dir = prior_dir
        self.prior_pipeline = None if prior_dir is None else Compose(
            prior_pipeline(self.model, self.cfg, prior_dir))

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
        """The test pipeline after image loading, without annotations (nor
        prior files: see ``prior_dir``)."""
        return Compose([t for t in test_pipeline(cfg)
                        if not re.search(LOADING, str(t['type']))])

    def _init_visualizer(self, cfg) -> HierSegLocalVisualizer:
        """A backend-free :class:`HierSegLocalVisualizer` (no logging)."""
        return HierSegLocalVisualizer(
            name=f'hierseg_inferencer_{id(self)}_{time.time_ns()}',
            hierarchy=self.model.dataset_meta['hierarchy'])

    def probabilities(self, sample) -> dict:
        """Per-level class probabilities ``(C_k, H, W)`` of one prediction
        (see :func:`~mmhierseg.apis.probabilities.level_probabilities`).

        Args:
            sample (SegDataSample): A prediction.

        Returns:
            dict[str, np.ndarray]: Level name -> float32 probabilities.
        """
        return level_probabilities(self.hierarchy, sample)

    def iter_predictions(self, inputs, batch_size: int = 1,
                         return_probs: bool = False,
                         return_vis: bool = False,
                         return_datasamples: bool = False) -> Iterator[dict]:
        """Predict image by image (memory stays bounded for many images).

        Args:
            inputs: Paths, folders, glob patterns, numpy arrays (BGR) or PIL
                images, or a list of them (see :func:`expand_inputs`). 16-bit
                and float images are scaled as a 16-bit file is read, never
                clipped (:mod:`mmhierseg.apis.pixels`).
            batch_size (int): Images per forward pass (>= 1); images of
                different sizes in one batch run as separate passes.
            return_probs (bool): Add ``probabilities`` (see
                :meth:`probabilities`).
            return_vis (bool): Add ``visualization`` (the RGB panel).
            return_datasamples (bool): Add ``data_sample``.

        Yields:
            dict: Per image, in input order: ``name`` (unique output name),
            ``input`` (the path or None), and either ``levels`` (level name
            -> ``HxW`` uint8 label map at the image's upright size; with a
            pose prior stem, ``priors``: the prior file used or
            ``'online'``) or ``error`` (why the image could not be
            processed; it is skipped).

        Raises:
            PriorModelError: Before the first image, when some images need
                online priors and the stem's pose model cannot be loaded.
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) \
                or batch_size < 1:
            raise ValueError(f'batch_size must be an integer >= 1, got '
                             f'{batch_size!r}')
        items = expand_inputs(inputs)
        files = prepare_priors(self.model, items, self.prior_dir)
        bar = ProgressBar(len(items), file=sys.stdout) \
            if self.show_progress else None
        for start in range(0, len(items), batch_size):
            chunk, loaded = items[start:start + batch_size], {}
            for i, item in enumerate(chunk):
                try:
                    loaded[i] = self._load(item, files.get(start + i))
                except Exception as e:  # noqa: BLE001 - skip, report
                    loaded[i] = e
            preds, groups = {}, {}
            for i, v in loaded.items():  # one size per test batch (mmseg),
                if not isinstance(v, Exception):  # priors for all or none
                    groups.setdefault((tuple(v[1]['inputs'].shape),
                                       start + i in files), []).append(i)
            for idx in groups.values():
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
                if prior_stem(self.model) is not None:
                    res['priors'] = files.get(start + i, 'online')
                yield self._result(res, loaded[i][0], preds[i], return_probs,
                                   return_vis, return_datasamples)

    def _load(self, item, priors: Optional[str]) -> tuple:
        """The image and its packed test-pipeline output (with its prior
        file ``priors`` loaded, if given)."""
        img = read_input(item)
        pipeline = self.pipeline if priors is None else self.prior_pipeline
        return img, pipeline(dict(img=img, img_path=item.path,
                                  img_shape=img.shape[:2],
                                  ori_shape=img.shape[:2]))

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
