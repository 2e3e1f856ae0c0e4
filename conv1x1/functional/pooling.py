"""Pooling: max pooling (the Inception module's fourth branch), average pooling (ShuffleNet's shortcut)
and global average pooling (NiN's classifier).

``out[n, c, i, j] = max over the KH x KW window of x[n, c]`` starting at
``(i*SH - PH, j*SW - PW)`` for stride (SH, SW) and padding (PH, PW). Padding positions never win: a
window's maximum is always one of its real input elements. It has no
parameters and does no multiply-adds; the backward pass routes each upstream
gradient to the input element that held its window's maximum.

Special values follow PyTorch: on ties the first maximum in row-major order
wins (topmost, then leftmost); a window with a NaN outputs NaN and its gradient
goes to its *last* NaN; a window of -inf sends its gradient to its first real element.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from .._checks import (
    FloatArray,
    Geometry,
    Pair,
    as_pair,
    check_cache,
    check_dout,
    check_flag,
    check_has_pixels,
    check_image_batch,
    window_geometry,
)

__all__ = ["maxpool2d_forward", "maxpool2d_backward", "MaxPool2dCache", "avgpool2d_forward", "avgpool2d_backward",
           "AvgPool2dCache", "global_avg_pool_forward", "global_avg_pool_backward", "GlobalAvgPoolCache"]


def maxpool2d_forward(x: ArrayLike, kernel_size: int | Pair, stride: int | Pair | None = None,
                      padding: int | Pair = 0, ceil_mode: bool = False) -> tuple[FloatArray, MaxPool2dCache]:
    """Max pooling: ``out[n, c, i, j]`` is the maximum of the KH x KW window of x at (i*SH - PH, j*SW - PW).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    kernel_size : int or (int, int)
        K for K x K windows, or (KH, KW).
    stride : int or (int, int), optional
        Defaults to ``kernel_size`` (non-overlapping windows), as in PyTorch.
    padding : int or (int, int), default 0
        Padding on each side that never wins the max; at most ``kernel_size // 2`` along each axis.
    ceil_mode : bool, default False
        Round the output size up instead of down (PyTorch's rule: a last, partial
        window is kept if it starts inside the input or its left padding).

    Returns
    -------
    out : ndarray, shape (N, C, out_H, out_W)
        ``out_H = floor((H + 2*PH - KH) / SH) + 1`` (ceil with ``ceil_mode``), likewise out_W.
    cache : MaxPool2dCache

    Raises
    ------
    TypeError, ValueError
        For a non-float x, a bad kernel size or stride, or a padding above ``kernel_size // 2``.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> C.maxpool2d_forward(x, 2)[0][0, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    """
    x = check_image_batch(x, layout="(N, C, H, W)")
    (kh, kw), (sh, sw), padding, out_h, out_w = check_pool_args(kernel_size, stride, padding, ceil_mode, x.shape)
    n, c = x.shape[:2]
    xp = padded(x, (kh, kw), (sh, sw), padding, (out_h, out_w), fill=-np.inf)
    # Walk the K*K positions of a window in row-major order; each strided view holds that position
    # of every window at once. A position takes over where it is strictly larger (ties keep the
    # first) or NaN (so the last NaN wins). The best starts at each window's first real element,
    # so padding, -inf, never wins.
    out = np.full((n, c, out_h, out_w), -np.inf, dtype=x.dtype)
    best = np.broadcast_to(first_real((kh, kw), (sh, sw), padding, out_h, out_w), out.shape).copy()
    for offset in range(kh * kw):
        p, q = divmod(offset, kw)
        view = xp[:, :, p:p + sh * out_h:sh, q:q + sw * out_w:sw]
        better = (view > out) | np.isnan(view)
        np.copyto(best, offset, where=better)   # best[better] = offset
        out = np.maximum(out, view)             # the winner's value (np.maximum keeps NaN)
    return out, MaxPool2dCache(x.shape, best, (kh, kw), (sh, sw), padding, x.dtype)


def first_real(kernel_size: int | Pair, stride: int | Pair, padding: int | Pair, out_h: int,
               out_w: int) -> np.ndarray:
    """(out_H, out_W) positions ``p * KW + q`` of each window's first element inside the input."""
    (_, kw), (sh, sw), (ph, pw) = as_pair(kernel_size), as_pair(stride), as_pair(padding)
    first_row = np.array([max(ph - sh * i, 0) for i in range(out_h)])  # Python ints: no overflow
    first_col = np.array([max(pw - sw * j, 0) for j in range(out_w)])
    return first_row[:, None] * kw + first_col[None, :]


def maxpool2d_backward(dout: ArrayLike, cache: MaxPool2dCache) -> FloatArray:
    """Each window's gradient goes to the position of its maximum (overlapping windows add up there).

    ::

        dx[n, c, i*SH + p - PH, j*SW + q - PW] += dout[n, c, i, j]   where best[n, c, i, j] = p*KW + q

    Parameters
    ----------
    dout : ndarray, shape (N, C, out_H, out_W)
    cache : MaxPool2dCache

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> out, cache = C.maxpool2d_forward(np.array([[[[1.0, 3.0], [2.0, 0.0]]]]), 2)
    >>> C.maxpool2d_backward(np.ones(out.shape), cache)[0, 0]
    array([[0., 1.],
           [0., 0.]])
    """
    x_shape, best, kernel, stride, padding, dtype = check_cache(cache, MaxPool2dCache, "maxpool2d_backward",
                                                                "maxpool2d_forward")
    (kh, kw), (sh, sw), (ph, pw) = as_pair(kernel), as_pair(stride), as_pair(padding)
    dout = check_dout(dout, best.shape, dtype)
    n, c, height, width = x_shape
    out_h, out_w = best.shape[2:]
    dxp = np.zeros(padded_shape(x_shape, (kh, kw), (sh, sw), (ph, pw), (out_h, out_w)), dtype=dtype)
    for p in range(kh):
        for q in range(kw):  # every window position at once, for one offset (p, q) inside the window
            dxp[:, :, p:p + sh * out_h:sh, q:q + sw * out_w:sw] += np.where(best == p * kw + q, dout, 0)
    return dxp[:, :, ph:ph + height, pw:pw + width]


class MaxPool2dCache(NamedTuple):
    """What ``maxpool2d_backward`` needs: where each window's maximum was.

    Attributes
    ----------
    x_shape : tuple
        (N, C, H, W) of the input.
    best : ndarray of ints, shape (N, C, out_H, out_W)
        Where each window's maximum is inside its window: ``p * KW + q`` for row p, column q.
    kernel_size, stride, padding : (int, int)
        Along (H, W).
    dtype : numpy.dtype
        The input's dtype, which the gradient keeps.
    """

    x_shape: tuple[int, ...]
    best: np.ndarray
    kernel_size: int | Pair
    stride: int | Pair
    padding: int | Pair
    dtype: np.dtype


def padded(x: np.ndarray, kernel_size: Pair, stride: Pair, padding: Pair, out_hw: tuple[int, int],
           fill: float) -> np.ndarray:
    """x in a border of ``fill`` (``padding`` wide, more on the bottom/right if ceil mode needs it)."""
    height, width = x.shape[2:]
    ph, pw = padding
    xp = np.full(padded_shape(x.shape, kernel_size, stride, padding, out_hw), fill, dtype=x.dtype)
    xp[:, :, ph:ph + height, pw:pw + width] = x
    return xp


def padded_shape(x_shape: tuple[int, ...], kernel_size: Pair, stride: Pair, padding: Pair,
                 out_hw: tuple[int, int]) -> tuple[int, int, int, int]:
    """Shape of x padded so that every window fits (ceil mode may need more on the bottom/right)."""
    n, c, height, width = x_shape
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    return (n, c, max(height + 2 * ph, (out_hw[0] - 1) * sh + kh), max(width + 2 * pw, (out_hw[1] - 1) * sw + kw))


def check_pool_args(kernel_size: int | Pair, stride: int | Pair | None, padding: int | Pair, ceil_mode: bool,
                    x_shape: tuple[int, ...]) -> Geometry:
    """Validate pooling settings (stride defaults to the kernel size, as in PyTorch)."""
    stride = kernel_size if stride is None else stride
    ceil_mode = check_flag(ceil_mode, "ceil_mode")
    return window_geometry(x_shape[2], x_shape[3], kernel_size, stride, padding, pool=True, ceil_mode=ceil_mode)


# ---------------------------------------------------------------- average pooling

def avgpool2d_forward(x: ArrayLike, kernel_size: int | Pair, stride: int | Pair | None = None,
                      padding: int | Pair = 0) -> tuple[FloatArray, AvgPool2dCache]:
    """Average pooling over KH x KW windows, padding counted as zeros (PyTorch's ``count_include_pad=True``)::

        out[n, c, i, j] = (1 / (KH*KW)) * sum_{p,q} x_pad[n, c, i*SH + p, j*SW + q]

    It is a depthwise convolution with a fixed 1/(KH*KW) filter, so it has no
    parameters and, by this library's convention, no MACs (``pooling_ops`` counts it).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    kernel_size : int or (int, int)
        K for K x K windows, or (KH, KW).
    stride : int or (int, int), optional
        Defaults to ``kernel_size``, as in PyTorch.
    padding : int or (int, int), default 0
        Zeros on each side; at most ``kernel_size // 2`` along each axis.

    Returns
    -------
    out : ndarray, shape (N, C, out_H, out_W)
        ``out_H = floor((H + 2*PH - KH) / SH) + 1``, likewise out_W.
    cache : AvgPool2dCache

    Raises
    ------
    TypeError, ValueError
        For a non-float x, a bad kernel size or stride, or a padding above ``kernel_size // 2``.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> C.avgpool2d_forward(x, 2)[0][0, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    """
    x = check_image_batch(x, layout="(N, C, H, W)")
    (kh, kw), (sh, sw), padding, out_h, out_w = check_pool_args(kernel_size, stride, padding, False, x.shape)
    n, c = x.shape[:2]
    xp = padded(x, (kh, kw), (sh, sw), padding, (out_h, out_w), fill=0)
    total = np.zeros((n, c, out_h, out_w), dtype=np.promote_types(x.dtype, np.float32))  # float16 sums overflow
    for p in range(kh):
        for q in range(kw):  # the window element (p, q) of every window at once
            total += xp[:, :, p:p + sh * out_h:sh, q:q + sw * out_w:sw]
    out = (total / (kh * kw)).astype(x.dtype, copy=False)
    return out, AvgPool2dCache(x.shape, (kh, kw), (sh, sw), padding, x.dtype)


def avgpool2d_backward(dout: ArrayLike, cache: AvgPool2dCache) -> FloatArray:
    """Each window's gradient, divided by KH*KW, goes to every element of the window::

        dx_pad[n, c, i*SH + p, j*SW + q] += dout[n, c, i, j] / (KH*KW)     for every (p, q)

    (overlapping windows add up); the padding's share is dropped.

    Parameters
    ----------
    dout : ndarray, shape (N, C, out_H, out_W)
    cache : AvgPool2dCache

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> out, cache = C.avgpool2d_forward(np.zeros((1, 1, 2, 4)), 2)
    >>> C.avgpool2d_backward(np.array([[[[4.0, 8.0]]]]), cache)[0, 0]
    array([[1., 1., 2., 2.],
           [1., 1., 2., 2.]])
    """
    x_shape, kernel, stride, padding, dtype = check_cache(cache, AvgPool2dCache, "avgpool2d_backward",
                                                          "avgpool2d_forward")
    n, c, height, width = x_shape
    (kh, kw), (sh, sw), (ph, pw), out_h, out_w = window_geometry(height, width, kernel, stride, padding, pool=True)
    dout = check_dout(dout, (n, c, out_h, out_w), dtype)
    share = dout / (kh * kw)
    dxp = np.zeros(padded_shape(x_shape, (kh, kw), (sh, sw), (ph, pw), (out_h, out_w)), dtype=dtype)
    for p in range(kh):
        for q in range(kw):
            dxp[:, :, p:p + sh * out_h:sh, q:q + sw * out_w:sw] += share
    return dxp[:, :, ph:ph + height, pw:pw + width]


class AvgPool2dCache(NamedTuple):
    """What ``avgpool2d_backward`` needs: the geometry, not the values (the average is linear)."""

    x_shape: tuple[int, ...]
    kernel_size: int | Pair
    stride: int | Pair
    padding: int | Pair
    dtype: np.dtype


# ---------------------------------------------------------------- global average pooling

def global_avg_pool_forward(x: ArrayLike) -> tuple[FloatArray, GlobalAvgPoolCache]:
    """Average every channel over its H x W positions: ``out[n, c, 0, 0] = mean_{h,w} x[n, c, h, w]``.

    Network in Network (Lin, Chen, Yan 2013, arXiv:1312.4400) ends with a 1x1
    convolution to one channel per class and this average, instead of a fully
    connected classifier.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)

    Returns
    -------
    out : ndarray, shape (N, C, 1, 1)
        The channel means, in the dtype of x (NaN in a channel makes its mean NaN).
    cache : GlobalAvgPoolCache

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> x = np.arange(8.0).reshape(1, 2, 2, 2)      # channel 0: 0..3, channel 1: 4..7
    >>> C.global_avg_pool_forward(x)[0].ravel()
    array([1.5, 5.5])
    """
    x = check_image_batch(x, layout="(N, C, H, W)")
    check_has_pixels(x.shape[2], x.shape[3], "there is nothing to average")
    return x.mean(axis=(2, 3), keepdims=True), GlobalAvgPoolCache(x.shape, x.dtype)


def global_avg_pool_backward(dout: ArrayLike, cache: GlobalAvgPoolCache) -> FloatArray:
    """Every pixel counts 1 / (H*W) in its channel's mean: ``dx[n, c, h, w] = dout[n, c, 0, 0] / (H * W)``.

    Parameters
    ----------
    dout : ndarray, shape (N, C, 1, 1)
    cache : GlobalAvgPoolCache

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> out, cache = C.global_avg_pool_forward(np.zeros((1, 1, 2, 2)))
    >>> C.global_avg_pool_backward(np.ones(out.shape), cache)[0, 0]
    array([[0.25, 0.25],
           [0.25, 0.25]])
    """
    x_shape, dtype = check_cache(cache, GlobalAvgPoolCache, "global_avg_pool_backward", "global_avg_pool_forward")
    n, c, height, width = x_shape
    dout = check_dout(dout, (n, c, 1, 1), dtype)
    return np.broadcast_to(dout / (height * width), x_shape).copy()


class GlobalAvgPoolCache(NamedTuple):
    """What ``global_avg_pool_backward`` needs: the input's shape and dtype (not its values)."""

    x_shape: tuple[int, ...]
    dtype: np.dtype
