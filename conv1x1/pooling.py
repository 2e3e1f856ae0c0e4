"""Max pooling: the Inception module's fourth branch (3x3 max pool, then a 1x1 projection).

``out[n, c, i, j] = max over the K x K window of xp[n, c]`` starting at ``(i*stride, j*stride)``,
where ``xp`` is x padded with -inf (so padding never wins a max). It has no
parameters and does no multiply-adds; the backward pass routes each upstream
gradient to the one input position that held its window's maximum.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._geometry import window_geometry
from ._validation import as_float_array, check_dout, check_ndim

__all__ = ["maxpool2d_forward", "maxpool2d_backward", "MaxPool2dCache"]


class MaxPool2dCache(NamedTuple):
    """What ``maxpool2d_backward`` needs: where each window's maximum was.

    Attributes
    ----------
    x_shape : tuple
        (N, C, H, W) of the input.
    rows, cols : ndarray, shape (N, C, out_H, out_W)
        Coordinates of each window's maximum in the *padded* input.
    padding : int
    dtype : numpy.dtype
        The input's dtype, which the gradient keeps.
    """

    x_shape: tuple
    rows: np.ndarray
    cols: np.ndarray
    padding: int
    dtype: np.dtype


def check_pool_args(kernel_size, stride, padding, x_shape):
    """Validate pooling settings (stride defaults to the kernel size, as in PyTorch)."""
    stride = kernel_size if stride is None else stride
    k, stride, padding, out_h, out_w = window_geometry(x_shape[2], x_shape[3], kernel_size, stride, padding)
    if padding > k // 2:
        raise ValueError(f"padding must be at most half the kernel size ({k // 2} for kernel_size={k}), "
                         f"got {padding}: a window made only of padding has no maximum")
    return k, stride, padding, out_h, out_w


def maxpool2d_forward(x, kernel_size, stride=None, padding=0):
    """Max pooling over K x K windows.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    kernel_size : int
    stride : int, optional
        Defaults to ``kernel_size`` (non-overlapping windows), as in PyTorch.
    padding : int, default 0
        Padded with -inf on each side; at most ``kernel_size // 2``.

    Returns
    -------
    out : ndarray, shape (N, C, out_H, out_W)
        ``out_H = floor((H + 2*padding - K) / stride) + 1``.
    cache : MaxPool2dCache

    Notes
    -----
    On ties the maximum (and so the gradient) goes to the *first* position of
    the window in row-major order: the topmost, then leftmost, as
    ``np.argmax`` picks it. A NaN in a window counts as its maximum, so NaN
    propagates.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> C.maxpool2d_forward(x, 2)[0][0, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    """
    x = as_float_array(x, "x")
    check_ndim(x, 4, "x", "(N, C, H, W)", "Add a batch axis: x[None]." if x.ndim == 3 else "")
    k, stride, padding, out_h, out_w = check_pool_args(kernel_size, stride, padding, x.shape)
    if padding:
        pad = ((0, 0), (0, 0), (padding, padding), (padding, padding))
        x_padded = np.pad(x, pad, constant_values=-np.inf)
    else:
        x_padded = x
    windows = sliding_window_view(x_padded, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]
    flat = windows.reshape(windows.shape[:4] + (k * k,))  # (N, C, out_H, out_W, K*K)
    best = np.argmax(flat, axis=-1)                       # first maximum in row-major order
    out = np.take_along_axis(flat, best[..., None], axis=-1)[..., 0]
    # Where in the padded input each maximum sits: window origin + offset inside the window.
    rows = np.arange(out_h)[:, None] * stride + best // k
    cols = np.arange(out_w)[None, :] * stride + best % k
    return out, MaxPool2dCache(x.shape, rows, cols, padding, x.dtype)


def maxpool2d_backward(dout, cache: MaxPool2dCache):
    """Max pooling backward: each window's gradient goes to the position of its maximum.

    Overlapping windows (stride < kernel_size) can share a maximum; their
    gradients add up there.

    Parameters
    ----------
    dout : ndarray, shape (N, C, out_H, out_W)
    cache : MaxPool2dCache

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    """
    x_shape, rows, cols, padding, dtype = cache
    n, c, height, width = x_shape
    dout = check_dout(dout, rows.shape, dtype)
    padded_h, padded_w = height + 2 * padding, width + 2 * padding
    plane = np.arange(n * c).reshape(n, c, 1, 1) * (padded_h * padded_w)  # start of each (n, c) plane
    flat_index = (plane + rows * padded_w + cols).ravel()
    # bincount adds every weight that lands on the same index: a vectorised scatter-add.
    dx = np.bincount(flat_index, weights=dout.ravel(), minlength=n * c * padded_h * padded_w)
    dx = dx.reshape(n, c, padded_h, padded_w).astype(dtype, copy=False)  # bincount sums in float64
    return dx[:, :, padding:padding + height, padding:padding + width]
