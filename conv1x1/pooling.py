"""Max pooling: the Inception module's fourth branch (3x3 max pool, then a 1x1 projection).

``out[n, c, i, j] = max over the K x K window of xp[n, c]`` starting at ``(i*stride, j*stride)``,
where ``xp`` is x padded with -inf (so padding never wins a max). It has no
parameters and does no multiply-adds; the backward pass routes each upstream
gradient to the one input position that held its window's maximum.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._geometry import window_geometry
from ._validation import as_float_array, check_dout, check_image_batch

__all__ = ["maxpool2d_forward", "maxpool2d_backward", "MaxPool2dCache"]


class MaxPool2dCache(NamedTuple):
    """What ``maxpool2d_backward`` needs: where each window's maximum was.

    Attributes
    ----------
    x_shape : tuple
        (N, C, H, W) of the input.
    best : ndarray of small ints, shape (N, C, out_H, out_W)
        Where each window's maximum is inside its window: ``p * K + q`` for row p, column q.
    kernel_size, stride, padding : int
    dtype : numpy.dtype
        The input's dtype, which the gradient keeps.
    """

    x_shape: tuple
    best: np.ndarray
    kernel_size: int
    stride: int
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
    the window in row-major order: the topmost, then leftmost (as ``np.argmax``
    and PyTorch pick it). The first NaN in a window counts as its maximum, so
    NaN propagates.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> C.maxpool2d_forward(x, 2)[0][0, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    """
    x = as_float_array(x, "x")
    check_image_batch(x, "(N, C, H, W)")
    k, stride, padding, out_h, out_w = check_pool_args(kernel_size, stride, padding, x.shape)
    if padding:
        n, c, height, width = x.shape
        x_padded = np.full((n, c, height + 2 * padding, width + 2 * padding), -np.inf, dtype=x.dtype)
        x_padded[:, :, padding:padding + height, padding:padding + width] = x
    else:
        x_padded = x
    # The max over a K x K window is the max over K*K shifted, strided views of the input: each
    # view holds one window position for every output pixel. K*K whole-array passes are much
    # faster than an argmax over a (..., K*K) copy of every window.
    has_nan = bool(np.isnan(x).any())  # one cheap pass spares the NaN bookkeeping below when clean
    index_dtype = np.min_scalar_type(-k * k)  # int8 for K <= 11: less memory to stream through
    out, best = None, None
    for offset in range(k * k):
        p, q = divmod(offset, k)                 # row-major order inside the window
        view = x_padded[:, :, p:p + stride * (out_h - 1) + 1:stride, q:q + stride * (out_w - 1) + 1:stride]
        if out is None:
            out, best = view.copy(), np.zeros(view.shape, dtype=index_dtype)
            continue
        better = view > out                       # strict: on ties the earlier position stays
        if has_nan:
            better |= np.isnan(view) & ~np.isnan(out)  # the first NaN wins, so NaN propagates
        np.maximum(out, view, out=out)
        # best = where(better, offset, best), as arithmetic: a boolean mask costs a branch per
        # element, this costs none and is several times faster.
        best += better * (index_dtype.type(offset) - best)
    return out, MaxPool2dCache(x.shape, best, k, stride, padding, x.dtype)


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
    x_shape, best, k, stride, padding, dtype = cache
    n, c, height, width = x_shape
    dout = check_dout(dout, best.shape, dtype)
    out_h, out_w = best.shape[2:]
    padded_h, padded_w = height + 2 * padding, width + 2 * padding
    # Flat index of each maximum in the padded input = start of its (n, c) plane
    # + start of its window + its offset inside the window (a lookup table over the K*K offsets).
    plane = np.arange(n * c).reshape(n, c, 1, 1) * (padded_h * padded_w)
    window = (np.arange(out_h)[:, None] * padded_w + np.arange(out_w)[None, :]) * stride
    inside = np.arange(k * k) // k * padded_w + np.arange(k * k) % k
    flat_index = (plane + window + inside[best]).ravel()
    # bincount adds every weight that lands on the same index: a vectorised scatter-add.
    dx = np.bincount(flat_index, weights=dout.ravel(), minlength=n * c * padded_h * padded_w)
    dx = dx.reshape(n, c, padded_h, padded_w).astype(dtype, copy=False)  # bincount sums in float64
    return dx[:, :, padding:padding + height, padding:padding + width]
