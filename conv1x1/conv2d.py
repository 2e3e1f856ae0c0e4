"""The direct KxK convolution, to compare the 1x1 convolution against.

A KxK convolution looks at a K x K neighbourhood of every output pixel::

    out[n, o, i, j] = sum_{c, p, q} w[o, c, p, q] * xp[n, c, i*s + p, j*s + q] + b[o]

where ``xp`` is x zero-padded by ``padding`` on each side and ``s`` is the stride.

Two fast ways to compute it, both matrix multiplies that BLAS runs at full speed:

- **Shifted 1x1 convolutions** (stride 1). Fix one kernel offset (p, q): the
  term ``sum_c w[o, c, p, q] * xp[n, c, i + p, j + q]`` is a 1x1 convolution with
  weights ``w[:, :, p, q]`` of the input shifted by (p, q). A KxK convolution is
  the sum of K*K such 1x1 convolutions. Flatten each padded channel row after
  row: a shift by (p, q) is then an offset of ``p * W_padded + q`` in that flat
  array, so every shifted input is a *slice*, not a copy. (Output columns that
  would wrap past a row's end are computed and thrown away.)
- **im2col** (any stride): copy each K x K x C_in neighbourhood into one column
  of a matrix ``cols`` (C_in*K*K, out_H*out_W); the convolution is one matrix
  multiply per image, ``w.reshape(C_out, -1) @ cols``. The copy is K*K times
  the size of the input, which is why stride 1 takes the shifted route.

With K = 1, stride 1 and no padding both reduce to the 1x1 convolution itself,
which is what runs. ``conv1x1.reference.conv2d_loops`` is the slow, literal version.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._geometry import window_geometry
from ._validation import as_float_array, check_dout, check_image_batch, check_ndim, common_float_arrays
from .core import Conv1x1Cache, bias_gradient, conv1x1_backward, conv1x1_forward, weight_gradient

__all__ = ["conv2d_forward", "conv2d_backward", "Conv2dCache", "ShiftedCache"]


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


class ShiftedCache(NamedTuple):
    """What ``conv2d_backward`` needs after the shifted-1x1 forward pass (stride 1).

    Attributes
    ----------
    x_shape : tuple
        (N, C_in, H, W), the shape of the unpadded input.
    x_flat : ndarray, shape (N, C_in, (H_padded + 1) * W_padded)
        Each padded channel flattened row after row (one spare zero row at the
        end keeps the last shifted slice in bounds).
    w : ndarray, shape (C_out, C_in, K, K)
    has_bias : bool
    padding : int
    out_hw : tuple
        (out_H, out_W).
    """

    x_shape: tuple
    x_flat: np.ndarray
    w: np.ndarray
    has_bias: bool
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
    computed at stride 1 as the sum of K*K shifted 1x1 convolutions (no copy of the
    windows), and at larger strides as ``w.reshape(C_out, C_in*K*K) @ im2col(x)`` per image.

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
    cache : ShiftedCache, Conv2dCache or Conv1x1Cache
        A ``ShiftedCache`` at stride 1, a ``Conv2dCache`` (im2col) above it, and a
        ``Conv1x1Cache`` when K = 1, stride 1 and padding 0: that case runs the
        1x1 convolution itself.

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
    if stride == 1:
        return _forward_shifted(x, w, b, padding, (out_h, out_w))
    cols = im2col(x, k, stride, padding)
    out = np.matmul(w.reshape(c_out, -1), cols)
    if b is not None:
        out += b[:, None]
    cache = Conv2dCache(x.shape, cols, w, b is not None, stride, padding, (out_h, out_w))
    return out.reshape(n, c_out, out_h, out_w), cache


def conv2d_backward(dout, cache: Conv2dCache):
    """Backward pass of the KxK convolution.

    Each forward route has its own backward: the shifted 1x1 terms (stride 1,
    see ``_backward_shifted``), the 1x1 convolution itself, or im2col. For the
    latter, with ``out = W @ cols + b`` per image (``W = w.reshape(C_out, C_in*K*K)``)::

        dcols = W.T @ dout                 -> dx = col2im(dcols)
        dw    = sum_n dout[n] @ cols[n].T  (reshaped to (C_out, C_in, K, K))
        db    = dout.sum((0, 2, 3))

    Parameters
    ----------
    dout : ndarray, shape (N, C_out, out_H, out_W)
    cache : Conv2dCache, ShiftedCache or Conv1x1Cache
        From ``conv2d_forward``.

    Returns
    -------
    dx : ndarray, shape (N, C_in, H, W)
    dw : ndarray, shape (C_out, C_in, K, K)
    db : ndarray, shape (C_out,), or None without a bias
    """
    if isinstance(cache, Conv1x1Cache):  # the forward pass took the 1x1 path
        dx, dw, db = conv1x1_backward(dout, cache)
        return dx, dw.reshape(dw.shape + (1, 1)), db
    if isinstance(cache, ShiftedCache):
        return _backward_shifted(dout, cache)
    x_shape, cols, w, has_bias, stride, padding, out_hw = cache
    n, c_out, k = x_shape[0], w.shape[0], w.shape[2]
    dout = check_dout(dout, (n, c_out) + tuple(out_hw), cols.dtype)
    dout_mat = dout.reshape(n, c_out, -1)
    w_mat = w.reshape(c_out, -1)
    dx = col2im(np.matmul(w_mat.T, dout_mat), x_shape, k, stride, padding, out_hw)
    dw = weight_gradient(dout_mat, cols).reshape(w.shape)
    db: np.ndarray | None = bias_gradient(dout_mat) if has_bias else None
    return dx, dw, db


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


def _forward_shifted(x, w, b, padding, out_hw):
    """Stride-1 convolution as a sum of K*K 1x1 convolutions of shifted inputs.

    On the flat padded input, output pixel (i, j) sits at ``i * W_p + j``, and its
    window element (p, q) at ``i * W_p + j + p * W_p + q``: the same flat layout
    shifted by ``s = p * W_p + q``. So, with L = out_H * W_p output positions
    (out_W real ones per row, the rest wrap and are dropped)::

        out[n, :, 0:L] = sum_{p,q} w[:, :, p, q] @ x_flat[n, :, s:s + L]
    """
    n, c_out, k = x.shape[0], w.shape[0], w.shape[2]
    out_h, out_w = out_hw
    x_flat = _flat_padded(x, padding)
    padded_width = x.shape[3] + 2 * padding
    length = out_h * padded_width
    out = np.zeros((n, c_out, length), dtype=x.dtype)
    term = np.empty_like(out)  # one reused buffer for each 1x1 convolution's result
    for p, q, s in _shift_offsets(k, padded_width):
        np.matmul(w[:, :, p, q], x_flat[:, :, s:s + length], out=term)
        out += term
    if b is not None:
        out += b[:, None]
    out = out.reshape(n, c_out, out_h, padded_width)[:, :, :, :out_w]  # drop the wrapped columns
    return np.ascontiguousarray(out), ShiftedCache(x.shape, x_flat, w, b is not None, padding, out_hw)


def _backward_shifted(dout, cache: ShiftedCache):
    """The backward pass of ``_forward_shifted``: each 1x1 term's gradients, summed.

    With ``dout`` laid out like the forward's output grid (zeros in the dropped
    columns, so they contribute nothing)::

        dw[:, :, p, q]          = sum_n dout[n] @ x_flat[n, :, s:s + L].T
        dx_flat[n, :, s:s + L] += w[:, :, p, q].T @ dout[n]
    """
    x_shape, x_flat, w, has_bias, padding, (out_h, out_w) = cache
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
        dw[:, :, p, q] = weight_gradient(dout_grid, x_flat[:, :, s:s + length])
        np.matmul(w[:, :, p, q].T, dout_grid, out=term)
        dx_flat[:, :, s:s + length] += term
    dx = dx_flat.reshape(n, c_in, height + 2 * padding + 1, padded_width)
    dx = dx[:, :, padding:padding + height, padding:padding + width]  # explicit ends: padding may be 0
    db = bias_gradient(dout_grid) if has_bias else None
    return np.ascontiguousarray(dx), dw, db

