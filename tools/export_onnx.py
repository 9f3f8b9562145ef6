"""Export a trained hierarchical segmentor to ONNX.

The graph takes the photo as it is read, at any size: ``image`` (float32
N x 3 x H x W, pixel values 0..255, RGB for configs whose data preprocessor
has ``bgr_to_rgb=True``) and, for models with a pose-prior stem, ``priors``
(float32 N x P x H x W, at the image's size). Inside it runs what
``tools/infer.py`` runs: the test pipeline's ``Resize``, the normalization
and padding to the size divisor, the network, and the resize of the scores
back to H x W. It returns one int64 N x H x W label map per level (named by
the level names, consistent decoding included) and ``scores``. Batch,
height and width are dynamic.

The stem's pose and FastSAM models are not part of the graph: compute the
priors with mmhierseg at the photo's size (docs/GUIDE.md, ONNX export) or
feed zeros (what the stem itself uses when nobody is found).

Examples::

    python tools/export_onnx.py CONFIG CHECKPOINT hierseg.onnx
    python tools/export_onnx.py CONFIG CHECKPOINT hierseg.onnx --opset 17

After export the model is run once in onnxruntime (when installed) and
compared with PyTorch on the same input. Exit code: 0 on success, 2 on a
bad argument (one line on stderr saying which and what to do).
"""
import argparse
import os
import os.path as osp
import sys
import zipfile

_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from mmhierseg.utils import register_all_modules, set_offline_env  # noqa: E402

set_offline_env()

register_all_modules()

from mmhierseg.apis.onnx_export import OPSET_RANGE  # noqa: E402


class BadArgument(ValueError):
    """An argument the export cannot work with (message: which, and why)."""


def fail(message: str) -> int:
    """Refuse a bad argument: one line on stderr.

    Args:
        message (str): What is wrong and what to do.

    Returns:
        int: The exit code, 2.
    """
    print(f'export_onnx.py: error: {message}', file=sys.stderr, flush=True)
    return 2


def parse_args(argv=None):
    """Command-line arguments.

    Args:
        argv (list[str], optional): Arguments; defaults to ``sys.argv[1:]``.

    Returns:
        argparse.Namespace: Parsed arguments.
    """
    low, high = OPSET_RANGE
    p = argparse.ArgumentParser(
        description='Export a hierarchical segmentor to ONNX (one output '
        'per level; the test pipeline\'s resize is in the graph)',
        epilog='Exit code: 0 on success, 2 on a bad argument.')
    p.add_argument('config', help='model config')
    p.add_argument('checkpoint', help='checkpoint (.pth)')
    p.add_argument('out', help='output .onnx file')
    p.add_argument('--opset', type=int, default=17,
                   help=f'ONNX opset, {low} to {high} (default: 17)')
    p.add_argument('--no-verify', action='store_true',
                   help='skip the onnxruntime vs PyTorch comparison')
    return p.parse_args(argv)


def check_checkpoint(path: str) -> dict:
    """Load a checkpoint the safe way, or say in one line why it cannot be.

    Args:
        path (str): The checkpoint file.

    Returns:
        dict: The checkpoint, with a ``state_dict`` (parameter name ->
        tensor) or itself one.

    Raises:
        BadArgument: A missing file, one that is no PyTorch checkpoint, a
            truncated one, one refused by the safe loader, or one without
            weights.
    """
    import pickle

    import torch

    from mmhierseg.utils.checkpoint import register_checkpoint_safe_globals
    if not osp.isfile(path):
        raise BadArgument(f'CHECKPOINT {path} does not exist: give the .pth '
                          'file tools/train.py wrote')
    with open(path, 'rb') as f:
        head = f.read(2)
    is_zip = head == b'PK'  # even when truncated (is_zipfile says no then)
    if not is_zip and head[:1] != b'\x80':  # neither zip nor pickle
        raise BadArgument(
            f'CHECKPOINT {path} is not a PyTorch checkpoint (neither the zip '
            'archive torch.save writes nor a pickle): give the .pth file '
            'tools/train.py wrote (work_dir/iter_*.pth or best_*.pth)')
    register_checkpoint_safe_globals()
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True,
                          mmap=is_zip and zipfile.is_zipfile(path))
    except pickle.UnpicklingError as e:
        if 'weights only' in str(e).lower():
            raise BadArgument(
                f'CHECKPOINT {path} refused: it holds objects other than '
                'tensors and MMEngine\'s plain data, and loading it could run'
                ' code; export only checkpoints you trained') from None
        raise BadArgument(f'CHECKPOINT {path} does not load ('
                          f'{_first_line(e)}): it is probably truncated; '
                          'copy it again or use another') from None
    except Exception as e:  # noqa: BLE001 - any other reason
        raise BadArgument(f'CHECKPOINT {path} does not load ('
                          f'{_first_line(e)}): it is probably truncated; '
                          'copy it again or use another') from None
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict) or not any(
            isinstance(v, torch.Tensor) for v in state.values()):
        raise BadArgument(f'CHECKPOINT {path} holds no weights (no state '
                          'dict of tensors): give the .pth file '
                          'tools/train.py wrote')
    return ckpt if 'state_dict' in ckpt else dict(state_dict=ckpt)


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return f'{type(err).__name__}: {lines[0]}' if lines else \
        type(err).__name__


def check_args(args) -> dict:
    """Everything that can be checked before the model is built.

    Args:
        args (argparse.Namespace): Parsed arguments.

    Returns:
        dict: The checkpoint (see :func:`check_checkpoint`).

    Raises:
        BadArgument: Which argument, and what to do.
    """
    low, high = OPSET_RANGE
    if not low <= args.opset <= high:
        raise BadArgument(f'--opset {args.opset} is not supported: the graph '
                          f'is exported with ONNX opsets {low} to {high} '
                          '(default 17)')
    if not osp.isfile(args.config):
        raise BadArgument(f'CONFIG {args.config} does not exist: give the '
                          'model config (.py) the checkpoint was trained with')
    ckpt = check_checkpoint(args.checkpoint)
    folder = osp.dirname(osp.abspath(args.out))
    if not osp.isdir(folder):
        raise BadArgument(f'OUT {args.out}: folder {folder} does not exist; '
                          'create it or choose another output file')
    if not os.access(folder, os.W_OK) or (osp.exists(args.out) and
                                          not os.access(args.out, os.W_OK)):
        raise BadArgument(f'OUT {args.out} cannot be written: fix the '
                          'permissions or choose another output file')
    return ckpt


def verify(wrapper, out_file: str, height: int = 90, width: int = 75):
    """Run PyTorch and onnxruntime on one random photo-like input; compare.

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
    # whole pixel values, as photos have
    feeds = {'image': torch.randint(0, 256, (2, 3, height, width),
                                    generator=g).float()}
    if wrapper.with_priors:
        feeds['priors'] = (torch.rand(
            2, len(wrapper.model.stem.channels), height, width,
            generator=g) > 0.5).float()
    with torch.no_grad():
        ref = [t.numpy() for t in wrapper(*feeds.values())]
    sess = ort.InferenceSession(out_file, providers=['CPUExecutionProvider'])
    got = sess.run(None, {k: v.numpy() for k, v in feeds.items()})
    diff = float(np.abs(got[-1] - ref[-1]).max())
    same = np.mean([np.mean(a == b) for a, b in zip(got[:-1], ref[:-1])])
    return dict(max_abs_diff=diff, label_agreement=float(same))


def describe(wrapper) -> str:
    """What the graph does before the network, in one line.

    Args:
        wrapper (HierSegONNXWrapper): The exported module.

    Returns:
        str: E.g. ``'resizes it (Resize scale=(640, 160), keep_ratio=True),
        pads to a multiple of 16'``.
    """
    r = wrapper.resize
    if r is None:
        what = 'runs it at its own size (the test pipeline has no Resize)'
    else:
        how = f'scale={r["scale"]}' if r['scale'] is not None else \
            f'scale_factor={r["scale_factor"]}'
        what = f'resizes it as the test pipeline does (Resize {how}, ' \
            f'keep_ratio={r["keep_ratio"]})'
    return f'{what}, pads to a multiple of {wrapper.size_divisor}'


def main(argv=None):
    """Entry point.

    Args:
        argv (list[str], optional): Arguments.

    Returns:
        int: Exit code (0 on success, 2 on a bad argument).
    """
    args = parse_args(argv)
    try:
        ckpt = check_args(args)
    except BadArgument as e:
        return fail(str(e))
    import warnings

    from mmhierseg.apis import HierSegInferencer
    from mmhierseg.apis.onnx_export import export_onnx
    try:  # the weights are loaded below, once they are known to fit
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # deprecations, random weights
            inferencer = HierSegInferencer(args.config, device='cpu')
    except Exception as e:  # noqa: BLE001 - a bad config
        return fail(f'cannot build the model of CONFIG {args.config}: '
                    f'{_first_line(e)}')
    model = inferencer.model
    state = ckpt.get('state_dict', ckpt)
    if not set(model.state_dict()) & {
            k[7:] if k.startswith('module.') else k for k in state}:
        return fail(f'CHECKPOINT {args.checkpoint} holds none of the weights'
                    f' of the model CONFIG {args.config} builds: give the '
                    'checkpoint trained with this config')
    try:
        inferencer._load_weights_to_model(model, ckpt, inferencer.cfg)
    except Exception as e:  # noqa: BLE001 - shapes that do not fit
        return fail(f'CHECKPOINT {args.checkpoint} does not fit the model '
                    f'CONFIG {args.config} builds: {_first_line(e)}')
    if model.test_cfg.get('mode', 'whole') != 'whole':
        print(f'note: the config infers in {model.test_cfg.mode!r} mode; '
              'the ONNX graph runs whole images')
    try:
        wrapper = export_onnx(model, args.out, opset=args.opset)
    except (NotImplementedError, TypeError) as e:
        return fail(f'CONFIG {args.config}: {e}')
    inputs = 'image' + (', priors' if wrapper.with_priors else '')
    print(f'wrote {args.out}: inputs {inputs}; outputs '
          f'{", ".join(wrapper.output_names)}')
    print(f'feed the photo as read, at any size (RGB, 0..255'
          f'{", priors at the same size" if wrapper.with_priors else ""}):'
          f' the graph {describe(wrapper)}, and returns the label maps at '
          'the input\'s size, as tools/infer.py does')
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
