"""The direct KxK convolution, to compare the 1x1 convolution against.

A KxK convolution looks at a K x K neighbourhood of every output pixel::

    out[n, o, i, j] = sum_{c, p, q} w[o, c, p, q] * xp[n, c, i*s + p, j*s + q] + b[o]

where ``xp`` is x zero-padded by ``padding`` on each side and ``s`` is the stride.

The fast way to compute it is *im2col*: copy each K x K x C_in neighbourhood
into one column of a matrix ``cols`` of shape (C_in*K*K, out_H*out_W). The
convolution is then one matrix multiply per image, ``w.reshape(C_out, -1) @ cols``,
which BLAS runs at full speed. With K = 1 the columns are the pixels themselves
and this is exactly the 1x1 convolution: a dense layer applied at every pixel.
``conv1x1.reference.conv2d_loops`` is the slow, literal version.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._geometry import window_geometry
from ._validation import as_float_array, check_dout, check_image_batch, check_ndim, common_float_arrays
from .core import Conv1x1Cache, conv1x1_backward, conv1x1_forward, weight_gradient

__all__ = ["conv2d_forward", "conv2d_backward", "Conv2dCache"]


class Conv2dCache(NamedTuple):
    """What ``conv2d_backward`` needs from the forward pass.

    Attributes
    ----------
    x_shape : tuple
        (N, C_in, H, W), the shape of the unpadded input.
    cols : ndarray, shape (N, C_in*K*K, out_H*out_W)
        The im2col matrix of every image.
    w : ndarray, shape (C_out, C_in, K, K)
    has_bias : bool
    stride, padding : int
    out_hw : tuple
        (out_H, out_W).
    """

    x_shape: tuple
    cols: np.ndarray
    w: np.ndarray
    has_bias: bool
    stride: int
    padding: int
    out_hw: tuple


def check_conv2d_args(x, w, b, stride, padding):
    """Validate a KxK convolution's arguments.

    Returns
    -------
    x, w, b : ndarray
        In one common floating dtype.
    geometry : tuple
        ``(K, stride, padding, out_H, out_W)`` with padding as an int.
    """
    x = as_float_array(x, "x")
    w = as_float_array(w, "w")
    check_image_batch(x)
    if w.ndim == 2:
        raise ValueError(
            f"w must be 4-D (C_out, C_in, K, K), got shape {w.shape}. For a 1x1 convolution use "
            f"conv1x1.conv1x1_forward(x, w, b), or w.reshape({w.shape[0]}, {w.shape[1]}, 1, 1) here."
        )
    check_ndim(w, 4, "w", "(C_out, C_in, K, K)")
    c_out, c_in, kh, kw = w.shape
    if kh != kw:
        raise ValueError(f"w must hold square K x K kernels, got {kh}x{kw} (w has shape {w.shape})")
    if c_in != x.shape[1]:
        raise ValueError(f"w expects {c_in} input channels but x has {x.shape[1]} channels "
                         f"(w has shape {w.shape}, x has shape {x.shape})")
    geometry = window_geometry(x.shape[2], x.shape[3], kh, stride, padding)
    return (*common_float_arrays(x, w, b, c_out), geometry)


def im2col(x: np.ndarray, kernel_size: int, stride: int, padding: int) -> np.ndarray:
    """Gather every K x K x C_in neighbourhood into a column.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)

    Returns
    -------
    cols : ndarray, shape (N, C_in*K*K, out_H*out_W)
        ``cols[n, (c, p, q), (i, j)] = xp[n, c, i*stride + p, j*stride + q]``, rows ordered
        like ``w.reshape(C_out, C_in*K*K)``'s columns.
    """
    if padding:
        x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    # A view of shape (N, C, out_H, out_W, K, K): no copy yet.
    windows = sliding_window_view(x, (kernel_size, kernel_size), axis=(2, 3))[:, :, ::stride, ::stride]
    n, c, out_h, out_w = windows.shape[:4]
    # The one copy: reorder to (N, C, K, K, out_H, out_W) and flatten to columns.
    return windows.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kernel_size * kernel_size, out_h * out_w)


def col2im(dcols: np.ndarray, x_shape: tuple, kernel_size: int, stride: int, padding: int,
           out_hw: tuple) -> np.ndarray:
    """The adjoint of ``im2col``: add every column entry back to the pixel it came from.

    A pixel belongs to up to K*K windows, so its gradient is a sum. The loop runs
    over the K*K kernel offsets only; each step adds a whole strided slice.
    """
    n, c, height, width = x_shape
    out_h, out_w = out_hw
    dx = np.zeros((n, c, height + 2 * padding, width + 2 * padding), dtype=dcols.dtype)
    dcols = dcols.reshape(n, c, kernel_size, kernel_size, out_h, out_w)
    for p in range(kernel_size):
        for q in range(kernel_size):
            rows = slice(p, p + stride * (out_h - 1) + 1, stride)
            columns = slice(q, q + stride * (out_w - 1) + 1, stride)
            dx[:, :, rows, columns] += dcols[:, :, p, q]
    return dx[:, :, padding:padding + height, padding:padding + width]  # explicit ends: padding may be 0


def conv2d_forward(x, w, b=None, stride=1, padding=0):
    """Forward pass of a direct KxK convolution (cross-correlation, as in deep learning).

    ``out[n, o, i, j] = sum_{c,p,q} w[o, c, p, q] * xp[n, c, i*stride + p, j*stride + q] + b[o]``,
    computed as ``w.reshape(C_out, C_in*K*K) @ im2col(x)`` for each image.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    w : ndarray, shape (C_out, C_in, K, K)
    b : ndarray, shape (C_out,), optional
    stride : int, default 1
    padding : int or "same", default 0
        Zeros added on each side. ``"same"`` keeps H and W (odd K and stride 1 only).

    Returns
    -------
    out : ndarray, shape (N, C_out, out_H, out_W)
        ``out_H = floor((H + 2*padding - K) / stride) + 1``, likewise out_W.
    cache : Conv2dCache
        Or a ``Conv1x1Cache`` when K = 1, stride 1 and padding 0: that case runs
        the 1x1 convolution itself.

    Raises
    ------
    TypeError, ValueError
        For non-float arrays, wrong shapes, a kernel larger than the padded
        input, a stride below 1 or a bad padding.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> out, _ = C.conv2d_forward(np.ones((1, 192, 28, 28)), np.ones((32, 192, 5, 5)), padding="same")
    >>> out.shape
    (1, 32, 28, 28)
    >>> float(out[0, 0, 14, 14]), float(out[0, 0, 0, 0])  # 192*25 taps inside, 192*9 in the corner
    (4800.0, 1728.0)
    """
    x, w, b, (k, stride, padding, out_h, out_w) = check_conv2d_args(x, w, b, stride, padding)
    n, c_out = x.shape[0], w.shape[0]
    if (k, stride, padding) == (1, 1, 0):
        # A 1x1 kernel that neither strides nor pads *is* the 1x1 convolution: no im2col copy needed.
        return conv1x1_forward(x, w.reshape(c_out, -1), b)
    cols = im2col(x, k, stride, padding)
    out = np.matmul(w.reshape(c_out, -1), cols)
    if b is not None:
        out += b[:, None]
    cache = Conv2dCache(x.shape, cols, w, b is not None, stride, padding, (out_h, out_w))
    return out.reshape(n, c_out, out_h, out_w), cache


def conv2d_backward(dout, cache: Conv2dCache):
    """Backward pass of the KxK convolution.

    With ``out = W @ cols + b`` per image (``W = w.reshape(C_out, C_in*K*K)``)::

        dcols = W.T @ dout                 -> dx = col2im(dcols)
        dw    = sum_n dout[n] @ cols[n].T  (reshaped to (C_out, C_in, K, K))
        db    = dout.sum((0, 2, 3))

    Parameters
    ----------
    dout : ndarray, shape (N, C_out, out_H, out_W)
    cache : Conv2dCache

    Returns
    -------
    dx : ndarray, shape (N, C_in, H, W)
    dw : ndarray, shape (C_out, C_in, K, K)
    db : ndarray, shape (C_out,), or None without a bias
    """
    if isinstance(cache, Conv1x1Cache):  # the forward pass took the 1x1 path
        dx, dw, db = conv1x1_backward(dout, cache)
        return dx, dw.reshape(dw.shape + (1, 1)), db
    x_shape, cols, w, has_bias, stride, padding, out_hw = cache
    n, c_out, k = x_shape[0], w.shape[0], w.shape[2]
    dout = check_dout(dout, (n, c_out) + tuple(out_hw), cols.dtype)
    dout_mat = dout.reshape(n, c_out, -1)
    w_mat = w.reshape(c_out, -1)
    dx = col2im(np.matmul(w_mat.T, dout_mat), x_shape, k, stride, padding, out_hw)
    dw = weight_gradient(dout_mat, cols).reshape(w.shape)
    db: Optional[np.ndarray] = dout_mat.sum(axis=(0, 2)) if has_bias else None
    return dx, dw, db

