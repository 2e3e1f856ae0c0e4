"""Slow and obvious implementations, to learn from and to test against.

A ladder for the 1x1 convolution, from the most literal rung to the library's
function; the tests prove that every rung gives the same numbers:

1. ``conv1x1_loops``: explicit Python loops over images, filters and channels.
2. ``conv1x1_einsum``: the definition, one ``np.einsum('oc,nchw->nohw', ...)``.
3. ``conv1x1_as_dense``: channels last, one dense layer on a (N*H*W, C_in)
   matrix, channels back: the "fully connected layer at every pixel" view.
4. ``conv1x1.conv1x1`` (the library): a matmul on the (N, C_in, H*W) view.

And the literal loops the tests hold the other functions to:

- ``conv2d_loops``: loops over images, filters and output pixels, the sum over
  each KH x KW x C_in window (it counts its multiply-adds too, for the cost formulas);
- ``maxpool2d_loops`` and ``avgpool2d_loops``: loops over output pixels, the
  maximum or the mean of each window.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import ArrayLike

from ._checks import FloatArray, Pair, check_conv1x1_args, check_image_batch
from .functional.conv2d import check_conv2d_args
from .functional.pooling import check_pool_args

__all__ = ["conv1x1_loops", "conv1x1_einsum", "conv1x1_as_dense", "conv2d_loops", "maxpool2d_loops",
           "avgpool2d_loops"]


def conv1x1_loops(x: ArrayLike, w: ArrayLike, b: ArrayLike | None = None, groups: int = 1) -> FloatArray:
    """1x1 convolution with explicit loops over n, o and c.

    ``out[n, o] = sum_c w[o, c] * x[n, c] (+ b[o])`` where ``x[n, c]`` is a whole
    (H, W) image plane: each filter is a weighted sum of the input planes.
    With groups, filter o belongs to group ``g = o // (C_out / G)`` and its
    c-th weight meets input channel ``g * (C_in / G) + c``.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    w : ndarray, shape (C_out, C_in // groups)
    b : ndarray, shape (C_out,), optional
    groups : int, default 1

    Returns
    -------
    out : ndarray, shape (N, C_out, H, W)
    """
    x, w, b, groups, _ = check_conv1x1_args(x, w, b, groups)
    n_images = x.shape[0]
    c_out, c_per_group = w.shape
    out = np.zeros((n_images, c_out) + x.shape[2:], dtype=x.dtype)
    for n in range(n_images):
        for o in range(c_out):
            first = (o // (c_out // groups)) * c_per_group  # the first input channel of o's group
            for c in range(c_per_group):
                out[n, o] += w[o, c] * x[n, first + c]
            if b is not None:
                out[n, o] += b[o]
    return out


def conv1x1_einsum(x: ArrayLike, w: ArrayLike, b: ArrayLike | None = None) -> FloatArray:
    """1x1 convolution as the literal einsum ``'oc,nchw->nohw'`` (plus the bias).

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    w : ndarray, shape (C_out, C_in)
    b : ndarray, shape (C_out,), optional

    Returns
    -------
    out : ndarray, shape (N, C_out, H, W)
    """
    x, w, b, _, _ = check_conv1x1_args(x, w, b)
    out = np.einsum("oc,nchw->nohw", w, x)
    if b is not None:
        out = out + b[None, :, None, None]
    return out


def conv1x1_as_dense(x: ArrayLike, w: ArrayLike, b: ArrayLike | None = None) -> FloatArray:
    """1x1 convolution as one dense layer applied to every pixel's channel vector.

    Move channels last, (N, C_in, H, W) -> (N, H, W, C_in); flatten the pixels
    into rows, (N*H*W, C_in); apply the dense layer ``rows @ w.T + b``; put the
    channels back, (N, C_out, H, W).

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    w : ndarray, shape (C_out, C_in)
    b : ndarray, shape (C_out,), optional

    Returns
    -------
    out : ndarray, shape (N, C_out, H, W)
    """
    x, w, b, _, _ = check_conv1x1_args(x, w, b)
    n_images, c_in, height, width = x.shape
    pixels = x.transpose(0, 2, 3, 1).reshape(-1, c_in)  # one row per pixel
    rows = pixels @ w.T
    if b is not None:
        rows = rows + b
    return rows.reshape(n_images, height, width, w.shape[0]).transpose(0, 3, 1, 2)


def conv2d_loops(x: ArrayLike, w: ArrayLike, b: ArrayLike | None = None, stride: int | Pair = 1,
                 padding: int | Pair | str = 0, groups: int = 1) -> tuple[FloatArray, int]:
    """Direct KxK convolution with explicit loops over n, o and every output pixel.

    ``out[n, o, i, j] = sum(w[o] * xp[n, :, i*SH:i*SH+KH, j*SW:j*SW+KW]) + b[o]``: each output
    pixel is one filter laid over one KH x KW x C_in window of the padded input.
    With groups, filter o's window covers only its group's C_in / G channels
    (one channel for a depthwise convolution, groups = C_in).
    Also counts the multiply-accumulates it performs, so the cost formulas can be
    checked against an actual count.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    w : ndarray, shape (C_out, C_in // groups, KH, KW)
    b : ndarray, shape (C_out,), optional
    stride : int or (int, int), default 1
    padding : int, (int, int) or "same", default 0
    groups : int, default 1

    Returns
    -------
    out : ndarray, shape (N, C_out, out_H, out_W)
    macs : int
        Multiply-accumulates performed, for one image (N = 1).
    """
    x, w, b, groups, ((kh, kw), (sh, sw), (ph, pw), out_h, out_w) = check_conv2d_args(x, w, b, stride, padding,
                                                                                       groups)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n_images, c_out, c_per_group = x.shape[0], w.shape[0], w.shape[1]
    out = np.zeros((n_images, c_out, out_h, out_w), dtype=x.dtype)
    macs = 0
    for n in range(n_images):
        for o in range(c_out):
            first = (o // (c_out // groups)) * c_per_group  # the first input channel of o's group
            for i in range(out_h):
                for j in range(out_w):
                    window = xp[n, first:first + c_per_group, i * sh:i * sh + kh, j * sw:j * sw + kw]
                    out[n, o, i, j] = np.sum(w[o] * window) + (b[o] if b is not None else 0)
                    macs += window.size
    return out, macs // max(n_images, 1)


def maxpool2d_loops(x: ArrayLike, kernel_size: int | Pair, stride: int | Pair | None = None, padding: int | Pair = 0,
                    ceil_mode: bool = False) -> FloatArray:
    """Max pooling with explicit loops over every output pixel.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    kernel_size : int or (int, int)
    stride : int or (int, int), optional (defaults to kernel_size)
    padding : int or (int, int), default 0 (padding never wins the max)
    ceil_mode : bool, default False

    Returns
    -------
    out : ndarray, shape (N, C, out_H, out_W)
    """
    x = check_image_batch(x, layout="(N, C, H, W)")
    geometry = check_pool_args(kernel_size, stride, padding, ceil_mode, x.shape)
    out = np.empty(x.shape[:2] + geometry[3:], dtype=x.dtype)
    for i, j, window in _windows(x, *geometry):
        out[:, :, i, j] = window.max(axis=(2, 3))
    return out


def _windows(x: FloatArray, kernel: Pair, stride: Pair, padding: Pair, out_h: int,
             out_w: int) -> Iterator[tuple[int, int, FloatArray]]:
    """Yield (i, j, the real part of output pixel (i, j)'s KH x KW window): the window clipped to x."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    for i in range(out_h):
        for j in range(out_w):
            top, left = i * sh - ph, j * sw - pw
            yield i, j, x[:, :, max(top, 0):top + kh, max(left, 0):left + kw]


def avgpool2d_loops(x: ArrayLike, kernel_size: int | Pair, stride: int | Pair | None = None,
                    padding: int | Pair = 0) -> FloatArray:
    """Average pooling with explicit loops over every output pixel; padding counts as zeros (divisor KH*KW).

    Returns
    -------
    out : ndarray, shape (N, C, out_H, out_W)
    """
    x = check_image_batch(x, layout="(N, C, H, W)")
    geometry = check_pool_args(kernel_size, stride, padding, False, x.shape)
    kh, kw = geometry.kernel
    out = np.empty(x.shape[:2] + geometry[3:], dtype=x.dtype)
    for i, j, window in _windows(x, *geometry):
        total = window.sum(axis=(2, 3), dtype=np.promote_types(x.dtype, np.float32))   # the padding adds 0
        out[:, :, i, j] = total / (kh * kw)
    return out
