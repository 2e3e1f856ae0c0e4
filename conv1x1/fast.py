"""The engine room: faster versions of the plain functions, with the same signatures and results.

The layers and the examples use the plain functions in ``core``, ``conv2d`` and
``pooling``, which read like their formulas. This module keeps the tricks that
make the same computations faster, each only because the benchmark
(``benchmarks/bench_conv1x1.py``, table in the README's "Performance" section)
shows it buys at least 10% on one of its shapes. The whole functional test
suite runs over both versions, so they give the same numbers.

What is here, and what each trick buys:

- ``conv2d_forward`` / ``conv2d_backward`` at stride 1: K*K shifted 1x1
  convolutions on a flat padded input, with no im2col copy (strides above 1
  use the plain im2col route); grouped too, with a group axis on each product.
- the depthwise convolution (``groups == C_in == C_out``) at stride 1: K*K
  whole-array multiply-adds of shifted views, one per kernel offset (never a
  loop over channels), with no padded copy and no im2col matrix, so the
  forward pass holds its output and a buffer half its size (the plain route
  holds a K*K times larger im2col matrix). Measured (``benchmarks/bench_blocks.py``):
  forward alone it is slower than the plain grouped product, forward + backward
  it is faster at stride 1 on large maps; at stride 2 it lost, so strides above
  1 take the plain route.
- ``maxpool2d_forward`` / ``maxpool2d_backward``: K*K whole-array comparisons
  of strided views instead of an argmax over a copy of every window, and a
  vectorised scatter-add (``np.bincount``) for the gradient.

``conv1x1_forward`` and ``conv1x1_backward`` are the plain ones: a view and one
``np.matmul`` per formula leave nothing to gain. Two tricks were measured and
deleted: folding the bias into the GEMM (0-12%, once slower) and accumulating
the weight gradient image by image with the bias gradient as a matrix-vector
product (0.97-1.04x the plain backward, single-threaded, on the benchmark's six
shape/dtype rows).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import conv2d as plain_conv2d
from . import pooling as plain_pooling
from ._validation import check_cache, check_dout, check_image_batch
from .core import by_group, conv1x1, conv1x1_backward, conv1x1_forward

__all__ = ["conv1x1", "conv1x1_forward", "conv1x1_backward", "conv2d_forward", "conv2d_backward",
           "maxpool2d_forward", "maxpool2d_backward", "ShiftedCache", "DepthwiseCache"]


# ---------------------------------------------------------------- helpers of the shifted KxK route

def _weight_gradient(dout_mat: np.ndarray, x_mat: np.ndarray, groups: int = 1) -> np.ndarray:
    """``dw = sum_n dout[n] @ x[n].T`` for dout (N, C_out, P), x (N, C_in, P): one GEMM per image, accumulated.

    With groups, one (C_out/G, C_in/G) product per group: the result is (C_out, C_in // groups).
    """
    c_out, c_in = dout_mat.shape[1], x_mat.shape[1]
    dw = np.zeros((groups, c_out // groups, c_in // groups), dtype=x_mat.dtype)
    for dout_n, x_n in zip(dout_mat, x_mat):
        dw += by_group(dout_n, groups) @ by_group(x_n, groups).transpose(0, 2, 1)
    return dw.reshape(c_out, c_in // groups)


# ---------------------------------------------------------------- KxK convolution

class ShiftedCache(NamedTuple):
    """What ``conv2d_backward`` needs after the shifted-1x1 forward pass (stride 1).

    ``x_flat`` is each padded channel flattened row after row, (N, C_in, (H_p + 1) * W_p):
    one spare zero row at the end keeps the last shifted slice in bounds.
    """

    x_shape: tuple
    x_flat: np.ndarray
    w: np.ndarray
    has_bias: bool
    padding: int
    out_hw: tuple
    groups: int = 1


def conv2d_forward(x, w, b=None, stride=1, padding=0, groups=1):
    """``conv1x1.conv2d_forward``; at stride 1 as a sum of K*K shifted 1x1 convolutions (no im2col copy).

    On the flat padded input, output pixel (i, j) sits at ``i * W_p + j`` and its
    window element (p, q) at ``i * W_p + j + p * W_p + q``: the same flat layout
    shifted by ``s = p * W_p + q``. So, with L = out_H * W_p output positions
    (out_W real ones per row; the rest wrap around and are dropped)::

        out[n, :, 0:L] = sum_{p,q} w[:, :, p, q] @ x_flat[n, :, s:s + L]

    (with groups, each product gets a group axis). A depthwise convolution
    (groups == C_in == C_out) at stride 1 takes the route of ``_depthwise_forward``.
    """
    x, w, b, groups, (k, stride, padding, out_h, out_w) = plain_conv2d.check_conv2d_args(x, w, b, stride, padding,
                                                                                         groups)
    if groups > 1 and groups == x.shape[1] == w.shape[0] and stride == 1:
        return _depthwise_forward(x, w, b, stride, padding, (out_h, out_w))
    if stride != 1:
        return plain_conv2d.conv2d_forward(x, w, b, stride, padding, groups)
    n, c_out = x.shape[0], w.shape[0]
    x_flat = _flat_padded(x, padding)
    padded_width = x.shape[3] + 2 * padding
    length = out_h * padded_width
    out = np.zeros((n, c_out, length), dtype=x.dtype)
    term = np.empty_like(out)  # one reused buffer for each 1x1 convolution's result
    for p, q, s in _shift_offsets(k, padded_width):
        np.matmul(by_group(w[:, :, p, q], groups), by_group(x_flat[:, :, s:s + length], groups),
                  out=by_group(term, groups))
        out += term
    if b is not None:
        out += b[:, None]
    out = out.reshape(n, c_out, out_h, padded_width)[:, :, :, :out_w]  # drop the wrapped columns
    cache = ShiftedCache(x.shape, x_flat, w, b is not None, padding, (out_h, out_w), groups)
    return np.ascontiguousarray(out), cache


def conv2d_backward(dout, cache):
    """``conv1x1.conv2d_backward`` for either forward route; the shifted one runs each term's gradients::

        dw[:, :, p, q]          = sum_n dout[n] @ x_flat[n, :, s:s + L].T
        dx_flat[n, :, s:s + L] += w[:, :, p, q].T @ dout[n]

    with ``dout`` laid out like the forward's output grid (zeros in the dropped columns).
    """
    if isinstance(cache, plain_conv2d.Conv2dCache):
        return plain_conv2d.conv2d_backward(dout, cache)
    if isinstance(cache, DepthwiseCache):
        return _depthwise_backward(dout, cache)
    x_shape, x_flat, w, has_bias, padding, (out_h, out_w), groups = check_cache(
        cache, ShiftedCache, "conv2d_backward", "conv2d_forward")
    n, c_in, height, width = x_shape
    c_out, k = w.shape[0], w.shape[2]
    dout = check_dout(dout, (n, c_out, out_h, out_w), x_flat.dtype)
    padded_width = width + 2 * padding
    length = out_h * padded_width
    dout_grid = np.zeros((n, c_out, out_h, padded_width), dtype=x_flat.dtype)
    dout_grid[:, :, :, :out_w] = dout
    dout_grid = dout_grid.reshape(n, c_out, length)

    dw = np.empty_like(w)
    dx_flat = np.zeros_like(x_flat)
    term = np.empty((n, c_in, length), dtype=x_flat.dtype)
    for p, q, s in _shift_offsets(k, padded_width):
        dw[:, :, p, q] = _weight_gradient(dout_grid, x_flat[:, :, s:s + length], groups)
        np.matmul(by_group(w[:, :, p, q], groups).transpose(0, 2, 1), by_group(dout_grid, groups),
                  out=by_group(term, groups))
        dx_flat[:, :, s:s + length] += term
    dx = dx_flat.reshape(n, c_in, height + 2 * padding + 1, padded_width)
    dx = dx[:, :, padding:padding + height, padding:padding + width]  # explicit ends: padding may be 0
    db = dout_grid.sum(axis=(0, 2)) if has_bias else None
    return np.ascontiguousarray(dx), dw, db


# ---------------------------------------------------------------- depthwise convolution

class DepthwiseCache(NamedTuple):
    """What ``_depthwise_backward`` needs: the input itself (a reference, not a copy) and the settings."""

    x: np.ndarray
    w: np.ndarray
    has_bias: bool
    stride: int
    padding: int
    out_hw: tuple

    @property
    def groups(self) -> int:
        """A depthwise convolution has one group per channel."""
        return self.x.shape[1]


def _depthwise_forward(x, w, b, stride, padding, out_hw):
    """A depthwise KxK convolution (``conv2d_forward`` with groups = C_in = C_out) by shifted views.

    Each channel has its own K x K filter ``w[c, 0]``, so for each of the K*K
    kernel offsets (p, q) the whole batch does one broadcast multiply-add::

        out[:, :, i, j] += w[:, 0, p, q] * x[:, :, i*stride + p - padding, j*stride + q - padding]

    over the output pixels (i, j) whose input pixel is inside x (the rest read
    padding, which is zero). No padded copy and no im2col matrix: the output and
    a buffer for half of it (the channels run in two halves) are all the memory it takes.

    Parameters (already checked by ``conv2d_forward``)
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (C, 1, K, K)
    b : ndarray, shape (C,), or None
    stride, padding : int
    out_hw : tuple
        (out_H, out_W).

    Returns
    -------
    out : ndarray, shape (N, C, out_H, out_W)
    cache : DepthwiseCache
    """
    n, c, k = x.shape[0], x.shape[1], w.shape[2]
    out = np.zeros((n, c, *out_hw), dtype=x.dtype)
    half = (c + 1) // 2
    term = np.empty((n, half, *out_hw), dtype=x.dtype)   # a buffer for half the channels at a time
    for first in range(0, c, half):                       # two halves (not a loop over channels)
        part = slice(first, min(first + half, c))
        size = part.stop - part.start
        for p, q, out_rows, out_cols, in_rows, in_cols in _depthwise_slices(x.shape, k, stride, padding, out_hw):
            buffer = term[:, :size, :out_rows.stop - out_rows.start, :out_cols.stop - out_cols.start]
            np.multiply(x[:, part, in_rows, in_cols], w[part, 0, p, q][:, None, None], out=buffer)
            out[:, part, out_rows, out_cols] += buffer
    if b is not None:
        out += b[:, None, None]
    return out, DepthwiseCache(x, w, b is not None, stride, padding, tuple(out_hw))


def _depthwise_backward(dout, cache):
    """Backward pass of ``_depthwise_forward``, offset by offset::

        dx[:, :, in pixels] += w[:, 0, p, q] * dout[:, :, out pixels]
        dw[c, 0, p, q]       = sum_{n,i,j} dout[n, c, i, j] * x[n, c, in pixel of (i, j)]
        db[c]                = sum_{n,i,j} dout[n, c, i, j]

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dw : ndarray, shape (C, 1, K, K)
    db : ndarray, shape (C,), or None
    """
    x, w, has_bias, stride, padding, out_hw = check_cache(cache, DepthwiseCache, "conv2d_backward",
                                                          "conv2d_forward")
    dout = check_dout(dout, (x.shape[0], x.shape[1], *out_hw), x.dtype)
    k = w.shape[2]
    dx = np.zeros_like(x)
    dw = np.zeros_like(w)
    for p, q, out_rows, out_cols, in_rows, in_cols in _depthwise_slices(x.shape, k, stride, padding, out_hw):
        dout_part = dout[:, :, out_rows, out_cols]
        dx[:, :, in_rows, in_cols] += w[:, 0, p, q][:, None, None] * dout_part
        dw[:, 0, p, q] = np.einsum("nchw,nchw->c", dout_part, x[:, :, in_rows, in_cols])
    db = dout.sum(axis=(0, 2, 3)) if has_bias else None
    return dx, dw, db


def _depthwise_slices(x_shape, k, stride, padding, out_hw):
    """Yield, per kernel offset (p, q), the output pixels whose input pixel is inside x, and those input pixels."""
    for p in range(k):
        rows = _valid_range(x_shape[2], out_hw[0], p, stride, padding)
        for q in range(k):
            cols = _valid_range(x_shape[3], out_hw[1], q, stride, padding)
            if rows is not None and cols is not None:
                yield p, q, rows[0], cols[0], rows[1], cols[1]


def _valid_range(size, out_size, offset, stride, padding):
    """Output indices i with ``0 <= i*stride + offset - padding < size``, and the input indices they read."""
    first = max(0, -(-(padding - offset) // stride))
    last = min(out_size, (size - 1 + padding - offset) // stride + 1)
    if last <= first:
        return None
    start = first * stride + offset - padding
    return slice(first, last), slice(start, start + stride * (last - first - 1) + 1, stride)


def _flat_padded(x: np.ndarray, padding: int) -> np.ndarray:
    """x zero-padded, plus one spare zero row, each channel flattened: (N, C, (H_p + 1) * W_p)."""
    n, c, height, width = x.shape
    padded = np.zeros((n, c, height + 2 * padding + 1, width + 2 * padding), dtype=x.dtype)
    padded[:, :, padding:padding + height, padding:padding + width] = x
    return padded.reshape(n, c, -1)


def _shift_offsets(k: int, padded_width: int):
    """Yield (p, q, s): the kernel offset and where its shifted slice starts in the flat input."""
    for p in range(k):
        for q in range(k):
            yield p, q, p * padded_width + q


# ---------------------------------------------------------------- max pooling

def maxpool2d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    """``conv1x1.maxpool2d_forward`` by K*K strided whole-array comparisons instead of a window copy.

    Running over the window offsets in row-major order, an offset replaces the
    best so far where it is strictly larger (ties keep the first) or NaN (the
    last NaN wins), as PyTorch does. Padding holds -inf and the best starts at
    each window's first real element, so padding never wins.
    """
    x = check_image_batch(x, layout="(N, C, H, W)")
    k, stride, padding, out_h, out_w = plain_pooling.check_pool_args(kernel_size, stride, padding, ceil_mode, x.shape)
    n, c, height, width = x.shape
    xp = np.full(plain_pooling.padded_shape(x.shape, k, stride, padding, (out_h, out_w)), -np.inf, dtype=x.dtype)
    xp[:, :, padding:padding + height, padding:padding + width] = x
    has_nan = bool(np.isnan(x).any())  # one cheap pass spares the NaN bookkeeping below when clean
    best = np.broadcast_to(plain_pooling.first_real(k, stride, padding, out_h, out_w).astype(np.int32),
                           (n, c, out_h, out_w)).copy()
    out = np.full((n, c, out_h, out_w), -np.inf, dtype=x.dtype)
    for offset in range(k * k):
        p, q = divmod(offset, k)
        view = xp[:, :, p:p + stride * out_h:stride, q:q + stride * out_w:stride]
        better = view > out                        # strict: on ties the earlier position stays
        if has_nan:
            better |= np.isnan(view)               # any NaN replaces: the last NaN wins
            out = np.where(better, view, out)
        else:
            np.maximum(out, view, out=out)
        best[better] = offset
    return out, plain_pooling.MaxPool2dCache(x.shape, best, k, stride, padding, x.dtype)


def maxpool2d_backward(dout, cache):
    """``conv1x1.maxpool2d_backward`` as one scatter-add: ``np.bincount`` over the flat index of each maximum."""
    x_shape, best, k, stride, padding, dtype = check_cache(cache, plain_pooling.MaxPool2dCache,
                                                           "maxpool2d_backward", "maxpool2d_forward")
    dout = check_dout(dout, best.shape, dtype)
    n, c, height, width = x_shape
    out_h, out_w = best.shape[2:]
    _, _, padded_h, padded_w = plain_pooling.padded_shape(x_shape, k, stride, padding, (out_h, out_w))
    # Flat index of each maximum in the padded input = start of its (n, c) plane
    # + start of its window + its offset inside the window.
    plane = np.arange(n * c).reshape(n, c, 1, 1) * (padded_h * padded_w)
    window = (np.arange(out_h)[:, None] * padded_w + np.arange(out_w)[None, :]) * stride
    inside = np.arange(k * k) // k * padded_w + np.arange(k * k) % k
    flat_index = (plane + window + inside[best]).ravel()
    dx = np.bincount(flat_index, weights=dout.ravel(), minlength=n * c * padded_h * padded_w)
    dx = dx.reshape(n, c, padded_h, padded_w).astype(dtype, copy=False)  # bincount sums in float64
    return dx[:, :, padding:padding + height, padding:padding + width]
