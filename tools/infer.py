"""Run a trained hierarchical segmentor on images; write every level.

A thin command-line wrapper over :class:`mmhierseg.apis.HierSegInferencer`.
For each input image it writes, under ``--out-dir``:

- ``<name>_<level>.png``: the label map of each level (uint8, class ids of
  that level, e.g. ``_body.png`` 0/1, ``_half.png`` 0..2, ``_part.png`` leaf
  ids), exactly the model's (consistent by default) prediction, at the size
  of the upright image;
- ``vis/<name>.png``: a panel (unless ``--no-vis``): the input and each
  level's overlay side by side, titled with the level names, under a legend
  of the classes present;
- with ``--areas-json FILE``: per image and level, the pixel area of every
  class.

``<name>`` is the file name without extension; when two inputs share it
(``p.jpg`` and ``p.png``) the extension is added (``p_jpg``, ``p_png``), and
identical file names from different folders get ``_1``, ``_2``, ... An
image that cannot be read (or whose outputs cannot be written) is reported
and skipped; the others are processed and the exit code is 1 at the end.
Bad arguments (missing config, checkpoint or inputs, an output folder that
cannot be written, a pose model that cannot be loaded) are refused before
any image is processed: one line naming the argument and the fix, exit 2.

Examples::

    python tools/infer.py CONFIG CHECKPOINT demo.jpg --out-dir out/
    python tools/infer.py WORK_DIR photos/ 'more/**/*.jpg' --out-dir out/
"""
import argparse
import json
import os.path as osp
import sys

_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from mmhierseg.utils import register_all_modules, set_offline_env  # noqa: E402

set_offline_env()

register_all_modules()
import numpy as np  # noqa: E402

EPILOG = """\
Inputs: image files, folders (their .jpg/.jpeg/.png/.bmp/.webp/.tif files)
and glob patterns (quote them: 'photos/**/*.jpg').
EXIF orientation: photos carrying an EXIF orientation tag (phones, cameras)
are turned upright first, as photo viewers show them; the label maps and
panels have the upright size. (Training data follows the dataset's own
policy, see tools/check_dataset.py.)
Pose priors (models with a pose prior stem, model.stem): computed online
by the stem's pose model (model.stem.pose.weights; checked before the first
image). With --priors-dir DIR, an image whose DIR/<name>.npz exists (made
by tools/precompute_priors.py) uses that file and never runs the pose
model; the other images fall back to online priors, with a message.
Output: --out-dir and its vis/ are checked for writing before the model is
built.
Exit code: 0 when every image was processed; 1 when some could not be read
or their outputs could not be written (each is reported and skipped; all
others are written); 2 on bad arguments (one line naming the argument and
the fix, before any image is processed), including a model, checkpoint or
pose model that cannot be loaded.
"""


def positive_int(text: str) -> int:
    """``argparse`` type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f'must be an integer >= 1 (images per forward pass), got {text}')
    return value


def parse_args(argv=None):
    """Command-line arguments.

    Args:
        argv (list[str], optional): Arguments; defaults to ``sys.argv[1:]``.

    Returns:
        argparse.Namespace: Parsed arguments (``config`` is None when the
        first argument is a work dir).
    """
    p = argparse.ArgumentParser(
        description='Hierarchical segmentation of images: every level '
        'written as a PNG label map, plus a readable panel per image.',
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('model', help='model config (.py) followed by the '
                   'CHECKPOINT, or a training work dir (its config and best '
                   'checkpoint are used)')
    p.add_argument('inputs', nargs='+', help='[CHECKPOINT] then image files, '
                   'folders or glob patterns')
    p.add_argument('--out-dir', required=True, help='output folder')
    p.add_argument('--device', default=None,
                   help='cpu, cuda, cuda:1... (default: cuda if available, '
                   'else cpu)')
    p.add_argument('--no-vis', action='store_true',
                   help='skip the panels (vis/<name>.png)')
    p.add_argument('--batch-size', type=positive_int, default=4,
                   help='images per forward pass (>= 1; default 4)')
    p.add_argument('--areas-json', default=None,
                   help='write per-class pixel areas per level to this JSON')
    p.add_argument('--no-progress', action='store_true',
                   help='no progress bar')
    p.add_argument('--priors-dir', default=None, metavar='DIR',
                   help='folder of precomputed prior files (<name>.npz, '
                   'e.g. data/synthetic_pascal_part/priors): images with a '
                   'file there skip the pose model; the others get online '
                   'priors (default: online priors for every image)')
    args = p.parse_args(argv)
    args.config, args.checkpoint = args.model, None
    if osp.isdir(args.model):
        args.config = None
    elif not osp.exists(args.model):
        fail(f'MODEL {args.model} does not exist: give a model config (.py) '
             'and its CHECKPOINT, or a training work dir')
    elif not args.inputs[1:]:
        fail('with a config, give the CHECKPOINT and then the images')
    else:
        args.checkpoint = args.inputs.pop(0)
    return args


def fail(message: str) -> None:
    """Refuse a bad argument: one line on stderr, exit code 2."""
    print(f'infer.py: error: {message}', file=sys.stderr, flush=True)
    raise SystemExit(2)


def _areas(hier, levels: dict) -> dict:
    """Per level, class name -> pixel count (every class listed)."""
    out = {}
    for k, level in enumerate(hier.level_names):
        counts = np.bincount(levels[level].ravel(), minlength=256).tolist()
        out[level] = {n: counts[i] for i, n in enumerate(hier.classes(k))}
    return out


def _check_args(args):
    """Everything that can be checked before the model is built.

    Returns:
        Config: The config (``args.checkpoint`` is resolved in place).
    """
    from mmhierseg.apis import infer_args as checks
    try:
        cfg, args.checkpoint = checks.resolve_model(args.model,
                                                    args.checkpoint)
        checks.check_inputs(args.inputs)
        checks.check_device(args.device)
        args.priors_dir = checks.check_prior_dir(args.priors_dir)
        checks.writable_dir(args.out_dir, '--out-dir',
                            'choose another --out-dir')
        if not args.no_vis:
            checks.writable_dir(
                osp.join(args.out_dir, 'vis'), '--out-dir',
                'fix its permissions, choose another --out-dir or pass '
                '--no-vis')
        if args.areas_json:
            checks.writable_file(args.areas_json, '--areas-json')
    except checks.BadArgument as e:
        fail(str(e))
    return cfg


def _build(args, cfg):
    """The inferencer; a model that cannot be built is a bad argument."""
    from mmhierseg.apis import HierSegInferencer
    from mmhierseg.apis.infer_args import first_line
    try:
        return HierSegInferencer(
            cfg, args.checkpoint, device=args.device,
            show_progress=not args.no_progress, prior_dir=args.priors_dir)
    except Exception as e:  # noqa: BLE001 - a bad config or checkpoint
        if args.priors_dir is not None and 'prior_dir=' in str(e):
            fail(f'--priors-dir: {e}')
        fail(f'cannot build the model of {args.model} with CHECKPOINT '
             f'{args.checkpoint} ({first_line(e)}): give a config and a '
             'checkpoint (.pth) that tools/train.py wrote for it')


def _write(args, res) -> None:
    """Write one image's label maps (and panel); raises OSError."""
    import mmcv
    for level, lm in res['levels'].items():
        mmcv.imwrite(lm, osp.join(args.out_dir, f'{res["name"]}_{level}.png'))
    if not args.no_vis:
        mmcv.imwrite(mmcv.rgb2bgr(res['visualization']),
                     osp.join(args.out_dir, 'vis', f'{res["name"]}.png'))


def main(argv=None):
    """Entry point.

    Args:
        argv (list[str], optional): Arguments.

    Returns:
        int: 0 if every image was processed, 1 if some were skipped.

    Raises:
        SystemExit: 2 on a bad argument (one line on stderr).
    """
    from mmhierseg.apis import PriorModelError
    args = parse_args(argv)
    cfg = _check_args(args)
    inferencer = _build(args, cfg)
    hier = inferencer.hierarchy
    done, failed, areas = 0, [], {}
    results = inferencer.iter_predictions(
        args.inputs, args.batch_size, return_vis=not args.no_vis)
    try:
        for res in results:
            if 'error' not in res:
                try:
                    _write(args, res)
                except OSError as e:
                    res['error'] = f'cannot write the outputs of ' \
                        f'{res["input"] or res["name"]}: {e}'
            if 'error' in res:
                print(f'\nerror: {res["error"]} -- skipped, the other '
                      'images are processed', file=sys.stderr, flush=True)
                failed.append(res)
                continue
            if args.areas_json:
                areas[res['name']] = dict(input=res['input'],
                                          levels=_areas(hier, res['levels']))
            done += 1
    except PriorModelError as e:
        fail(str(e))
    if args.areas_json:
        try:
            with open(args.areas_json, 'w') as f:
                json.dump(areas, f, indent=1)
        except OSError as e:
            failed.append(dict(input=f'--areas-json ({e})', name=''))
    print(f'\nwrote {done} x {hier.num_levels} label maps to {args.out_dir}')
    if failed:
        print(f'error: {len(failed)} image(s) could not be processed and '
              'were skipped: ' + ', '.join(r['input'] or r['name']
                                           for r in failed), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
