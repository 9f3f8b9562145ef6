"""Run a trained hierarchical segmentor on images; write every level.

For each input image it writes, under ``--out-dir``:

- ``<name>_<level>.png``: the label map of each level (uint8, class ids of
  that level, e.g. ``_body.png`` 0/1, ``_half.png`` 0..2, ``_part.png`` leaf
  ids), exactly the model's (consistent by default) prediction;
- ``vis/<name>.png``: the image with one coloured overlay per level
  (unless ``--no-vis``).

Examples::

    python tools/infer.py CONFIG CHECKPOINT demo.jpg --out-dir out/
    python tools/infer.py CONFIG CHECKPOINT images/ --out-dir out/ --device cuda:0
"""
import argparse
import os
import os.path as osp
import sys

_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from mmhierseg.utils import set_offline_env  # noqa: E402

set_offline_env()

import mmhierseg  # noqa: E402,F401
import numpy as np  # noqa: E402

IMG_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff')


def parse_args(argv=None):
    """Command-line arguments.

    Args:
        argv (list[str], optional): Arguments; defaults to ``sys.argv[1:]``.

    Returns:
        argparse.Namespace: Parsed arguments.
    """
    p = argparse.ArgumentParser(description='Hierarchical segmentation of '
                                'images (every level written as PNG)')
    p.add_argument('config', help='model config')
    p.add_argument('checkpoint', help='checkpoint (.pth)')
    p.add_argument('inputs', nargs='+', help='image files or folders')
    p.add_argument('--out-dir', required=True, help='output folder')
    p.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    p.add_argument('--no-vis', action='store_true',
                   help='skip the overlay images')
    p.add_argument('--batch-size', type=int, default=4)
    return p.parse_args(argv)


def collect_images(inputs):
    """Expand files and folders into a sorted list of image paths.

    Args:
        inputs (list[str]): Files or folders.

    Returns:
        list[str]: Image paths.

    Raises:
        FileNotFoundError: If an input does not exist or a folder holds no
            image.
    """
    paths = []
    for item in inputs:
        if osp.isdir(item):
            found = sorted(
                osp.join(item, f) for f in os.listdir(item)
                if f.lower().endswith(IMG_EXTS))
            if not found:
                raise FileNotFoundError(
                    f'no image ({", ".join(IMG_EXTS)}) in folder {item}')
            paths.extend(found)
        elif osp.isfile(item):
            paths.append(item)
        else:
            raise FileNotFoundError(f'input {item} does not exist')
    return paths


def inference_pipeline(cfg):
    """The config's test pipeline without annotation loading.

    Args:
        cfg (Config): Model config.

    Returns:
        list[dict]: Pipeline configs for images without masks.
    """
    pipeline = cfg.get('test_pipeline') or \
        cfg.test_dataloader.dataset.pipeline
    return [
        t for t in pipeline if 'Annotations' not in str(t.get('type', ''))
    ]


def main(argv=None):
    """Entry point.

    Args:
        argv (list[str], optional): Arguments.

    Returns:
        int: Exit code (0 on success).
    """
    args = parse_args(argv)
    from mmcv.transforms import Compose
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import init_default_scope
    from mmseg.apis import init_model

    from mmhierseg.hierarchy import ClassHierarchy
    from mmhierseg.visualization import HierSegLocalVisualizer, level_field

    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} does not exist')
    paths = collect_images(args.inputs)
    init_default_scope('mmseg')
    from mmengine.runner import load_checkpoint
    # build without weights, then load: mmseg's init_model requires a
    # `meta` entry that exported or converted checkpoints may lack
    model = init_model(args.config, None, device='cpu')
    ckpt = load_checkpoint(model, args.checkpoint, map_location='cpu')
    meta = (ckpt.get('meta') or {}).get('dataset_meta') \
        if isinstance(ckpt, dict) else None
    if meta:
        model.dataset_meta = meta
    model.to(args.device)
    model.eval()
    hier = getattr(model, 'hierarchy', None)
    if hier is None:
        meta = getattr(model, 'dataset_meta', None) or {}
        hier = ClassHierarchy.build(meta.get('hierarchy'))
    pipeline = Compose(inference_pipeline(model.cfg))
    os.makedirs(args.out_dir, exist_ok=True)
    vis = None
    if not args.no_vis:
        os.makedirs(osp.join(args.out_dir, 'vis'), exist_ok=True)
        vis = HierSegLocalVisualizer(
            name=f'infer_{id(model)}', hierarchy=hier, alpha=0.6)
        vis.dataset_meta = dict(hierarchy=hier.to_dict(),
                                classes=hier.classes(hier.leaf_level),
                                palette=hier.palette(hier.leaf_level))
    import mmcv
    for start in range(0, len(paths), args.batch_size):
        chunk = paths[start:start + args.batch_size]
        items = [pipeline(dict(img_path=p)) for p in chunk]
        # mmseg's data preprocessor needs one image size per test batch:
        # run each size of this chunk as its own batch, keeping the order
        results = [None] * len(items)
        by_shape = {}
        for i, item in enumerate(items):
            by_shape.setdefault(tuple(item['inputs'].shape), []).append(i)
        for idx in by_shape.values():
            outs = model.test_step(pseudo_collate([items[i] for i in idx]))
            for i, out in zip(idx, outs):
                results[i] = out
        for path, res in zip(chunk, results):
            name = osp.splitext(osp.basename(path))[0]
            for k, level in enumerate(hier.level_names):
                field = level_field(hier, k, 'pred_sem_seg')
                if field in res:
                    lm = res.get(field).data[0].cpu().numpy()
                else:
                    lm = hier.to_level(
                        res.pred_sem_seg.data[0].cpu().numpy(), k)
                mmcv.imwrite(lm.astype(np.uint8),
                             osp.join(args.out_dir, f'{name}_{level}.png'))
            if vis is not None:
                img = mmcv.imread(path, channel_order='rgb')
                vis.add_datasample(
                    name, img, res, draw_gt=False, with_labels=False,
                    out_file=osp.join(args.out_dir, 'vis', f'{name}.png'))
        print(f'{min(start + args.batch_size, len(paths))}/{len(paths)} '
              'images done')
    print(f'wrote {len(paths)} x {hier.num_levels} label maps to '
          f'{args.out_dir}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
