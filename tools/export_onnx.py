"""Export a trained hierarchical segmentor to ONNX.

The graph takes ``image`` (float32 N x 3 x H x W, pixel values 0..255, RGB
for configs whose data preprocessor has ``bgr_to_rgb=True``) and, for models
with a pose-prior stem, ``priors`` (float32 N x P x H x W). It returns one
int64 N x H x W label map per level (named by the level names, consistent
decoding included) and ``scores``. Batch, height and width are dynamic.

The stem's pose and FastSAM models are not part of the graph: compute the
priors with mmhierseg (``model.stem.compute_priors(normalized_images)``, see
the README) or feed zeros (what the stem itself uses when nobody is found).

Examples::

    python tools/export_onnx.py CONFIG CHECKPOINT hierseg.onnx
    python tools/export_onnx.py CONFIG CHECKPOINT hierseg.onnx --opset 17

After export the model is run once in onnxruntime (when installed) and
compared with PyTorch on the same random input.
"""
import argparse
import os.path as osp
import sys

_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from mmhierseg.utils import register_all_modules, set_offline_env  # noqa: E402

set_offline_env()

register_all_modules()


def parse_args(argv=None):
    """Command-line arguments.

    Args:
        argv (list[str], optional): Arguments; defaults to ``sys.argv[1:]``.

    Returns:
        argparse.Namespace: Parsed arguments.
    """
    p = argparse.ArgumentParser(description='Export a hierarchical '
                                'segmentor to ONNX (one output per level)')
    p.add_argument('config', help='model config')
    p.add_argument('checkpoint', help='checkpoint (.pth)')
    p.add_argument('out', help='output .onnx file')
    p.add_argument('--opset', type=int, default=17, help='ONNX opset')
    p.add_argument('--no-verify', action='store_true',
                   help='skip the onnxruntime vs PyTorch comparison')
    return p.parse_args(argv)


def verify(wrapper, out_file: str, height: int = 90, width: int = 75):
    """Run PyTorch and onnxruntime on one random input; compare.

    Args:
        wrapper (HierSegONNXWrapper): The exported module.
        out_file (str): The ONNX file.
        height (int): Test height (not a multiple of the size divisor, so
            the padding path is exercised).
        width (int): Test width.

    Returns:
        dict: ``max_abs_diff`` of the scores and ``label_agreement`` (the
        fraction of equal pixels, over every level).
    """
    import numpy as np
    import onnxruntime as ort
    import torch
    g = torch.Generator().manual_seed(0)
    feeds = {'image': torch.rand(2, 3, height, width, generator=g) * 255}
    if wrapper.with_priors:
        feeds['priors'] = torch.rand(
            2, len(wrapper.model.stem.channels), height, width, generator=g)
    with torch.no_grad():
        ref = [t.numpy() for t in wrapper(*feeds.values())]
    sess = ort.InferenceSession(out_file, providers=['CPUExecutionProvider'])
    got = sess.run(None, {k: v.numpy() for k, v in feeds.items()})
    diff = float(np.abs(got[-1] - ref[-1]).max())
    same = np.mean([np.mean(a == b) for a, b in zip(got[:-1], ref[:-1])])
    return dict(max_abs_diff=diff, label_agreement=float(same))


def main(argv=None):
    """Entry point.

    Args:
        argv (list[str], optional): Arguments.

    Returns:
        int: Exit code (0 on success).
    """
    args = parse_args(argv)
    from mmhierseg.apis import HierSegInferencer
    from mmhierseg.apis.onnx_export import export_onnx
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} does not exist')
    model = HierSegInferencer(args.config, args.checkpoint,
                              device='cpu').model
    if model.test_cfg.get('mode', 'whole') != 'whole':
        print(f'note: the config infers in {model.test_cfg.mode!r} mode; '
              'the ONNX graph runs whole images')
    wrapper = export_onnx(model, args.out, opset=args.opset)
    inputs = 'image' + (', priors' if wrapper.with_priors else '')
    print(f'wrote {args.out}: inputs {inputs}; outputs '
          f'{", ".join(wrapper.output_names)}')
    if not args.no_verify:
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            print('onnxruntime not installed: not verified')
            return 0
        res = verify(wrapper, args.out)
        print(f'onnxruntime vs PyTorch: max |score diff| '
              f'{res["max_abs_diff"]:.2e}, equal labels '
              f'{100 * res["label_agreement"]:.3f} %')
    return 0


if __name__ == '__main__':
    sys.exit(main())
