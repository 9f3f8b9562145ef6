"""Precompute the pose priors of a dataset, once per image.

Runs the config's pose backend (``model.stem.pose``) and FastSAM
(``model.stem.sam``, when the stem has the ``mask`` channel) on every whole
original photo of the chosen splits, in batches, and writes one file per
image, ``<data_root>/priors/<id>.npz`` (the folder is the
``LoadPoseAnnotations``' ``prior_dir``): boxes, COCO-17 keypoints in
original pixels with their confidences, the people's mask, and what made
them (settings and weight hashes). Training then reads them
(``LoadPoseAnnotations``) and refuses missing or stale files.

Each file is written atomically; a rerun skips the finished images (an
interrupted run resumes), refuses files made by other weights or settings
unless ``--overwrite``, and retries the images where FastSAM raised.

Examples::

    python tools/precompute_priors.py configs/hierseg_deeplabv3.py
    python tools/precompute_priors.py CONFIG --device cuda:0 --batch-size 16
    # four processes (or machines sharing the data folder)
    for i in 0 1 2 3; do
        CUDA_VISIBLE_DEVICES=$i python tools/precompute_priors.py CONFIG \\
            --shard $i/4 --device cuda &
    done; wait
"""
import argparse
import inspect
import os.path as osp
import sys
import time

_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from mmhierseg.utils.offline import set_offline_env  # noqa: E402

set_offline_env()

import mmhierseg  # noqa: E402,F401
import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.utils import ProgressBar  # noqa: E402
from mmseg.registry import DATASETS  # noqa: E402

from mmhierseg.priors import (PriorDetector, StalePriorsError,  # noqa: E402
                              check_source, prior_path, prior_source,
                              read_source, save_priors)
from mmhierseg.models.stems import PosePriorStem  # noqa: E402
from mmhierseg.utils import register_all_modules  # noqa: E402
from mmhierseg.utils.prior_checks import prior_datasets  # noqa: E402


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f'want an integer >= 1, got {text!r}')
    return value


def _shard(text):
    try:
        shard, num = (int(v) for v in text.split('/'))
    except ValueError:
        shard, num = -1, 0
    if not 0 <= shard < num:
        raise argparse.ArgumentTypeError(
            f'want i/n with 0 <= i < n (e.g. 0/4), got {text!r}')
    return shard, num


def parse_args(argv=None):
    """Command-line arguments (``argv`` defaults to ``sys.argv[1:]``)."""
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config', help='config with model.stem (PosePriorStem)')
    p.add_argument(
        '--splits',
        nargs='+',
        default=['train', 'val', 'test'],
        help='dataloaders whose images get priors')
    p.add_argument('--device', default=None, help='default: cuda if any')
    p.add_argument('--batch-size', type=_positive, default=8)
    p.add_argument(
        '--shard',
        default='0/1',
        type=_shard,
        help='i/n: this process does every n-th image from the i-th')
    p.add_argument(
        '--overwrite',
        action='store_true',
        help='redo every image, replacing existing (stale) files')
    p.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. model.stem.pose.weights=X')
    return p.parse_args(argv)


def prior_jobs(cfg, splits):
    """The images of the splits whose pipeline loads priors, each once.

    Returns:
        list[tuple]: ``(img_path, prior_dir, dataset, index)`` sorted by
        path; the dataset is built with its own image loading only, so
        ``dataset[index]['img']`` is the photo exactly as training reads it
        (EXIF policy included).
    """
    jobs = {}
    for ds_cfg, load in prior_datasets(cfg, splits):
        read = [t for t in ds_cfg['pipeline'] if 'Image' in str(t['type'])]
        dataset = DATASETS.build(dict(ds_cfg, pipeline=read[:1]))
        for i in range(len(dataset)):
            path = dataset.get_data_info(i)['img_path']
            jobs.setdefault(
                path, (path, load.get('prior_dir', 'priors'), dataset, i))
    return [jobs[k] for k in sorted(jobs)]


def main(argv=None):
    args = parse_args(argv)
    shard, num_shards = args.shard
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    stem = cfg.model.get('stem')
    if not stem or stem.get('type') != 'PosePriorStem':
        raise SystemExit(f'{args.config}: model.stem is not a PosePriorStem')
    # what the stem itself would use where the config leaves it out
    defaults = {k: v.default for k, v in inspect.signature(
        PosePriorStem).parameters.items()}
    channels = tuple(stem.get('channels', defaults['channels']))
    pose = dict(stem.get('pose', defaults['pose']) or {})
    sam = dict(stem.get('sam', defaults['sam']) or {}) \
        if 'mask' in channels else None
    source = prior_source(pose, sam)
    device = torch.device(args.device or (
        'cuda' if torch.cuda.is_available() else 'cpu'))

    jobs = prior_jobs(cfg, args.splits)
    if not jobs:
        raise SystemExit(f'{args.config}: no {"/".join(args.splits)} '
                         'pipeline has LoadPoseAnnotations')
    jobs = jobs[shard::num_shards]
    todo, stale = [], []
    for img_path, prior_dir, dataset, index in jobs:
        target = prior_path(img_path, prior_dir)
        if osp.isfile(target) and not args.overwrite:
            try:
                check_source(read_source(target), source, target)
                continue
            except StalePriorsError as e:
                stale.append(str(e))
                continue
            except ValueError:
                pass  # unreadable: redo
        todo.append((dataset, index, target))
    if stale:
        raise SystemExit(
            f'{len(stale)} existing prior files were made by other weights '
            f'or settings, e.g. {stale[0]}\nRerun with --overwrite to '
            'replace them.')
    print(f'shard {shard}/{num_shards}: {len(jobs)} images, '
          f'{len(jobs) - len(todo)} already done, {len(todo)} to do on '
          f'{device}')
    detector = PriorDetector(pose, sam)
    counts = dict(empty=0, failed=0)
    bar = ProgressBar(len(todo)) if todo else None
    start = time.perf_counter()
    for b in range(0, len(todo), args.batch_size):
        batch = todo[b:b + args.batch_size]
        images = [dataset[index]['img'] for dataset, index, _ in batch]
        people, status = detector.detect(images, device)
        for (_, _, target), found, st in zip(batch, people, status):
            if found is None:
                counts['failed'] += 1  # FastSAM raised: retried next run
            else:
                counts['empty'] += st != ''
                save_priors(target, found, source)
            bar.update()
    elapsed = time.perf_counter() - start
    if todo:
        print(f'\n{len(todo)} images in {elapsed:.1f} s '
              f'({1000 * elapsed / len(todo):.0f} ms/image); '
              f"{counts['empty']} with nobody (or no mask) found; "
              f"{counts['failed']} failed in FastSAM (not written: rerun to "
              'retry)')


if __name__ == '__main__':
    main()
