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
image that cannot be read is reported and skipped; the others are processed
and the exit code is 1 at the end.

Examples::

    python tools/infer.py CONFIG CHECKPOINT demo.jpg --out-dir out/
    python tools/infer.py WORK_DIR photos/ 'more/**/*.jpg' --out-dir out/
"""
import argparse
import json
import os
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
Exit code: 0 when every image was processed, 1 when some could not be read
(each is reported and skipped; all others are written), 2 on bad arguments.
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
    args = p.parse_args(argv)
    args.config, args.checkpoint = args.model, None
    if osp.isdir(args.model):
        args.config = None
    elif not args.inputs[1:]:
        p.error('with a config, give the CHECKPOINT and then the images')
    else:
        args.checkpoint = args.inputs.pop(0)
    return args


def _areas(hier, levels: dict) -> dict:
    """Per level, class name -> pixel count (every class listed)."""
    out = {}
    for k, level in enumerate(hier.level_names):
        counts = np.bincount(levels[level].ravel(), minlength=256).tolist()
        out[level] = {n: counts[i] for i, n in enumerate(hier.classes(k))}
    return out


def main(argv=None):
    """Entry point.

    Args:
        argv (list[str], optional): Arguments.

    Returns:
        int: 0 if every image was processed, 1 if some were skipped.
    """
    args = parse_args(argv)
    import mmcv

    from mmhierseg.apis import HierSegInferencer
    from mmhierseg.apis.inputs import expand_inputs

    if args.checkpoint is not None and not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} does not exist')
    expand_inputs(args.inputs)  # bad inputs fail before the model is built
    inferencer = HierSegInferencer(
        args.model if args.config is None else args.config, args.checkpoint,
        device=args.device, show_progress=not args.no_progress)
    hier = inferencer.hierarchy
    os.makedirs(args.out_dir, exist_ok=True)
    if not args.no_vis:
        os.makedirs(osp.join(args.out_dir, 'vis'), exist_ok=True)
    done, failed, areas = 0, [], {}
    for res in inferencer.iter_predictions(
            args.inputs, args.batch_size, return_vis=not args.no_vis):
        if 'error' in res:
            print(f'\nerror: {res["error"]} -- skipped, the other images are '
                  'processed', file=sys.stderr, flush=True)
            failed.append(res)
            continue
        for level, lm in res['levels'].items():
            mmcv.imwrite(lm, osp.join(args.out_dir,
                                      f'{res["name"]}_{level}.png'))
        if not args.no_vis:
            mmcv.imwrite(mmcv.rgb2bgr(res['visualization']),
                         osp.join(args.out_dir, 'vis', f'{res["name"]}.png'))
        if args.areas_json:
            areas[res['name']] = dict(input=res['input'],
                                      levels=_areas(hier, res['levels']))
        done += 1
    if args.areas_json:
        with open(args.areas_json, 'w') as f:
            json.dump(areas, f, indent=1)
    print(f'\nwrote {done} x {hier.num_levels} label maps to {args.out_dir}')
    if failed:
        print(f'error: {len(failed)} image(s) could not be read and were '
              'skipped: ' + ', '.join(r['input'] or r['name'] for r in failed),
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
