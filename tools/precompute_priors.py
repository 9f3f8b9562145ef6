"""Precompute the pose priors of a dataset, once per image.

Runs the config's pose backend (``model.stem.pose``) and, when the stem has
the ``mask`` channel, its mask maker (FastSAM, ``model.stem.sam``; the
person mask drawn from the keypoints when ``sam=None`` or the FastSAM
weights are absent, see ``mmhierseg.priors.person_mask``) on every whole
original photo of the chosen splits, in batches, and writes one file per
image, ``<data_root>/priors/<id>.npz`` (the folder is the
``LoadPoseAnnotations``' ``prior_dir``): boxes, COCO-17 keypoints in
original pixels with their confidences, the people's mask, and what made
them (settings and weight hashes). Training then reads them
(``LoadPoseAnnotations``) and refuses missing or stale files.

Any folder of photos too (``--images``, e.g. for ``tools/infer.py
--priors-dir``): folders, files or quoted glob patterns, read upright as
the inferencer reads them, written to ``<out>/<name>.npz`` (the photo's
file name without its extension); the config is optional there (default:
the stem's own settings, the packaged YOLO11n-pose).

Each file is written atomically; a rerun skips the finished images (an
interrupted run resumes), refuses files made by other weights or settings
unless ``--overwrite``, and retries the images where FastSAM raised. The
progress is a bar on a terminal, else one line per ``--log-every`` images.

Examples::

    python tools/precompute_priors.py configs/hierseg_deeplabv3.py
    python tools/precompute_priors.py --images photos/ --out photo_priors/
    python tools/precompute_priors.py CONFIG --images 'shots/**/*.jpg' \\
        --out shot_priors/ --batch-size 16
    python tools/precompute_priors.py CONFIG --device cuda:0 --batch-size 16
    # four processes (or machines sharing the data folder)
    for i in 0 1 2 3; do
        CUDA_VISIBLE_DEVICES=$i python tools/precompute_priors.py CONFIG \\
            --shard $i/4 --device cuda &
    done; wait
"""
import argparse
import os
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
from mmseg.registry import DATASETS  # noqa: E402

from mmhierseg.priors import (DEFAULT_POSE, DEFAULT_SAM,  # noqa: E402
                              PRIOR_CHANNELS, PriorDetector,
                              StalePriorsError, check_source, mask_maker,
                              prior_path, prior_source, read_source,
                              save_priors)
from mmhierseg.priors.precompute import Progress, photo_jobs  # noqa: E402
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
    p.add_argument(
        'config',
        nargs='?',
        help='config with model.stem (PosePriorStem); optional with '
        "--images (default: the stem's own settings)")
    p.add_argument(
        '--images',
        nargs='+',
        help='photos instead of the splits: folders, files, glob patterns')
    p.add_argument('--out', help='with --images: folder of the prior files')
    p.add_argument(
        '--log-every',
        type=_positive,
        default=50,
        help='without a terminal: one progress line per N images')
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
    args = p.parse_args(argv)
    if args.images and not args.out:
        p.error('--images needs --out (the folder of the prior files)')
    if args.out and not args.images:
        p.error('--out goes with --images (a dataset writes its priors '
                'next to its images)')
    if not args.config and not args.images:
        p.error('give a CONFIG (its splits), or --images and --out')
    return args


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


def _stem_settings(cfg, name):
    """``(pose, mask maker)`` of the config's stem, with the stem's own
    defaults where it leaves them out (mask maker: FastSAM's config, the
    keypoint mask's settings, or None without the ``mask`` channel; see
    :func:`~mmhierseg.priors.mask_maker`)."""
    stem = cfg.model.get('stem')
    if not stem or stem.get('type') != 'PosePriorStem':
        raise SystemExit(f'{name}: model.stem is not a PosePriorStem')
    channels = tuple(stem.get('channels', PRIOR_CHANNELS))
    pose = dict(stem.get('pose', DEFAULT_POSE) or {})
    return pose, mask_maker(channels, stem.get('sam', DEFAULT_SAM))


def main(argv=None):
    args = parse_args(argv)
    shard, num_shards = args.shard
    register_all_modules(init_default_scope=True)
    if args.config:
        cfg = Config.fromfile(args.config)
    else:  # the stem's own settings
        cfg = Config(dict(model=dict(stem=dict(type='PosePriorStem'))))
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    pose, sam = _stem_settings(cfg, args.config or 'the default stem')
    source = prior_source(pose, sam)
    device = torch.device(args.device or (
        'cuda' if torch.cuda.is_available() else 'cpu'))

    if args.images:
        jobs = photo_jobs(args.images, args.out)
    else:
        jobs = [(path, prior_path(path, prior_dir),
                 lambda d=dataset, i=index: d[i]['img'])
                for path, prior_dir, dataset, index in prior_jobs(
                    cfg, args.splits)]
        if not jobs:
            raise SystemExit(f'{args.config}: no {"/".join(args.splits)} '
                             'pipeline has LoadPoseAnnotations')
    jobs = jobs[shard::num_shards]
    todo, stale = [], []
    for img_path, target, read in jobs:
        if osp.isfile(target) and not args.overwrite:
            try:
                check_source(read_source(target), source, target)
                continue
            except StalePriorsError as e:
                stale.append(str(e))
                continue
            except ValueError:
                pass  # unreadable: redo
        todo.append((img_path, target, read))
    if stale:
        raise SystemExit(
            f'{len(stale)} existing prior files were made by other weights '
            f'or settings, e.g. {stale[0]}\nRerun with --overwrite to '
            'replace them.')
    print(f'shard {shard}/{num_shards}: {len(jobs)} images, '
          f'{len(jobs) - len(todo)} already done, {len(todo)} to do on '
          f'{device}')
    detector = PriorDetector(pose, sam, mask=sam is not None)
    counts = dict(empty=0, failed=0)
    unreadable = []
    progress = Progress(len(todo), args.log_every)
    start = time.perf_counter()
    for b in range(0, len(todo), args.batch_size):
        batch, images = [], []
        for img_path, target, read in todo[b:b + args.batch_size]:
            try:
                images.append(read())
                batch.append(target)
            except (OSError, ValueError) as e:  # one bad photo, not the run
                unreadable.append(f'{img_path}: {e}')
                progress.update()
        people, status = detector.detect(images, device) if images \
            else ([], [])
        for target, found, st in zip(batch, people, status):
            if found is None:
                counts['failed'] += 1  # FastSAM raised: retried next run
            else:
                counts['empty'] += st != ''
                save_priors(target, found, source)
            progress.update()
    progress.close()
    elapsed = time.perf_counter() - start
    if todo:
        print(f'{len(todo)} images in {elapsed:.1f} s '
              f'({1000 * elapsed / len(todo):.0f} ms/image); '
              f"{counts['empty']} with nobody (or no mask) found; "
              f"{counts['failed']} failed in FastSAM (not written: rerun to "
              'retry)')
    if args.images and todo:
        print(f'prior files in {osp.abspath(args.out)}{os.sep}')
    if unreadable:
        print(f'{len(unreadable)} images could not be read (no prior file):'
              '\n  ' + '\n  '.join(unreadable), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
