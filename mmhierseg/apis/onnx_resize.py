"""OpenCV's resizes as traced tensor operations, so an ONNX graph resizes
a photo exactly as the test pipeline (``mmcv.imresize``, OpenCV) does:
:func:`cv2_resize_linear` for the uint8 image, :func:`cv2_resize_nearest`
for label-like maps (the priors)."""
import torch
from torch import Tensor

__all__ = ['cv2_resize_linear', 'cv2_resize_nearest']


def _cv2_scale(n_in: Tensor, n_out: Tensor) -> Tensor:
    """OpenCV's source step: ``1 / (n_out / n_in)``, in float64.

    The sizes are made 1-D first: the ONNX exporter divides 0-D tensors
    in float32.
    """
    return 1.0 / (n_out.reshape(1).to(torch.float64) /
                  n_in.reshape(1).to(torch.float64))


def cv2_resize_nearest(x: Tensor, size: Tensor) -> Tensor:
    """``cv2.resize(..., INTER_NEAREST)`` of ``(N, C, H, W)`` to ``size``.

    Source index ``min(floor(i * step), n_in - 1)`` with OpenCV's float64
    step, per axis (what mmseg's ``Resize`` does to prior and label maps).

    Args:
        x (Tensor): ``(N, C, H, W)``.
        size (Tensor): ``(2,)`` int64, the output height and width.

    Returns:
        Tensor: ``(N, C, size[0], size[1])``.
    """
    in_size = torch._shape_as_tensor(x)[2:]
    for axis in (0, 1):
        n_in, n_out = in_size[axis], size[axis]
        step = _cv2_scale(n_in, n_out)
        src = torch.floor(torch.arange(n_out).to(torch.float64) * step)
        x = x.index_select(2 + axis,
                           torch.minimum(src.to(torch.int64), n_in - 1))
    return x


def _linear_taps(n_in: Tensor, n_out: Tensor, edge_weights: bool):
    """OpenCV's bilinear taps for one axis: indices and 11-bit weights.

    Args:
        n_in (Tensor): Input length (0-D int64).
        n_out (Tensor): Output length (0-D int64).
        edge_weights (bool): Outside the image, take the edge pixel with
            weight 1, as OpenCV does along x; along y it keeps both weights
            and clamps the row indices only.

    Returns:
        tuple[Tensor]: First and second index (int64), their weights
        (float32, integers summing to 2048).
    """
    step = _cv2_scale(n_in, n_out)
    pos = ((torch.arange(n_out).to(torch.float64) + 0.5) * step
           - 0.5).to(torch.float32)
    start = torch.floor(pos)
    frac = pos - start
    start = start.to(torch.int64)
    if edge_weights:
        inside = (start >= 0) & (start < n_in - 1)
        frac = torch.where(inside, frac, torch.zeros_like(frac))
    second = torch.minimum(start + 1, n_in - 1)
    second = torch.where(second < 0, torch.zeros_like(second), second)
    start = torch.minimum(torch.where(start < 0, torch.zeros_like(start),
                                      start), n_in - 1)
    # saturate_cast<short>((1 - f) * 2048): rounded half to even
    w0 = torch.round((1.0 - frac) * 2048.0)
    return start, second, w0, 2048.0 - w0


def cv2_resize_linear(x: Tensor, size: Tensor) -> Tensor:
    """``cv2.resize(..., INTER_LINEAR)`` of a uint8-valued image, exactly.

    OpenCV resizes 8-bit images in fixed point: 11-bit weights
    (``saturate_cast<short>((1 - f) * 2048)``), a horizontal pass in
    integers, then, in the SIMD code its optimized builds run,
    ``(((w0 * (a >> 4)) >> 16) + ((w1 * (b >> 4)) >> 16) + 2) >> 2``
    vertically, where rows outside the image are clamped to the edge row
    but keep their weights. Plain float bilinear differs from it by 1 on
    about 10 % of the values; this emulation, in floats that hold the
    integers exactly, gives ``mmcv.imrescale``'s pixels bit for bit on the
    photos and sizes tested (shrinking and enlarging; opencv 5.0 with
    ``cv2.useOptimized()``; ``tests/apis/test_onnx_resize.py``).

    Args:
        x (Tensor): ``(N, C, H, W)`` float, whole values 0..255.
        size (Tensor): ``(2,)`` int64, the output height and width.

    Returns:
        Tensor: ``(N, C, size[0], size[1])`` float32, whole values 0..255.
    """
    in_size = torch._shape_as_tensor(x)[2:]
    x = x.to(torch.float32)
    i0, i1, w0, w1 = _linear_taps(in_size[1], size[1], True)
    # below 2 ** 24: exact in float32
    rows = x.index_select(3, i0) * w0 + x.index_select(3, i1) * w1
    rows = torch.floor(rows / 16.0).to(torch.float64)
    i0, i1, w0, w1 = _linear_taps(in_size[0], size[0], False)
    w0, w1 = w0.to(torch.float64)[:, None], w1.to(torch.float64)[:, None]
    out = torch.floor(rows.index_select(2, i0) * w0 / 65536.0) + \
        torch.floor(rows.index_select(2, i1) * w1 / 65536.0)
    return torch.floor((out + 2.0) / 4.0).to(torch.float32)
