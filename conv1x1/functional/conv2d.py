"""The convolution with KH x KW kernels, to compare the 1x1 convolution against.

It looks at a KH x KW neighbourhood of every output pixel::

    out[n, o, i, j] = sum_{c, p, q} w[o, c, p, q] * xp[n, c, i*SH + p, j*SW + q] + b[o]

where ``xp`` is x zero-padded on each side and (SH, SW) the stride.

**im2col** turns this into the 1x1 convolution's matrix product: copy each
KH x KW x C_in window of the input into one column of a matrix ``cols`` of shape
(C_in*KH*KW, out_H*out_W) ("image to columns"); then ``out[n] = W @ cols[n]`` with
``W = w.reshape(C_out, C_in*KH*KW)``. A 1x1 convolution needs no copy because its
windows *are* the pixels; a KH x KW one copies KH*KW times the input.
``conv1x1.reference.conv2d_loops`` is the literal version.

**Groups**: with ``groups = G`` the input channels split into G groups and each
filter sees only its own group's C_in/G channels (AlexNet's two towers, ResNeXt,
ShuffleNet). ``groups = C_in`` is the **depthwise** convolution of MobileNet:
one filter per channel. The rows of ``cols`` are ordered channel first, so group
g's rows are one block and the product takes one more axis::

    out[n, g] = w[g] @ cols[n, g]      # (G, C_out/G, C_in/G*KH*KW) @ (N, G, C_in/G*KH*KW, P)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike

from .._checks import (
    DEPTHWISE_HINT,
    FloatArray,
    Geometry,
    Pair,
    as_pair,
    check_bias,
    check_cache,
    check_dout,
    check_float_array,
    check_groups,
    check_image_batch,
    check_weight,
    common_dtype,
    window_geometry,
)
from .pointwise import by_group

__all__ = ["conv2d_forward", "conv2d_backward", "Conv2dCache", "im2col", "col2im"]


def conv2d_forward(x: ArrayLike, w: ArrayLike, b: ArrayLike | None = None, stride: int | Pair = 1,
                   padding: int | Pair | str = 0, groups: int = 1) -> tuple[FloatArray, Conv2dCache]:
    """A convolution (cross-correlation, as in deep learning), ``out[n] = W @ cols[n] + b`` per image.

    ``cols = im2col(x)`` holds every KH x KW x C_in window as a column and
    ``W = w.reshape(C_out, C_in*KH*KW)``; group by group with groups.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    w : ndarray, shape (C_out, C_in // groups, KH, KW)
    b : ndarray, shape (C_out,), optional
    stride : int or (int, int), default 1
        Along (H, W); an int is the same along both, as for padding.
    padding : int, (int, int) or "same", default 0
        Zeros added on each side. ``"same"`` keeps H and W (stride 1 and an odd kernel along each axis).
    groups : int, default 1
        Must divide C_in and C_out; ``groups = C_in`` is a depthwise convolution.

    Returns
    -------
    out : ndarray, shape (N, C_out, out_H, out_W)
        ``out_H = floor((H + 2*padding_H - KH) / stride_H) + 1``, likewise out_W.
    cache : Conv2dCache

    Raises
    ------
    TypeError, ValueError
        For non-float arrays, wrong shapes, a kernel larger than the padded
        input, a bad stride or padding, or groups that do not divide the channels.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> out, _ = C.conv2d_forward(np.ones((1, 192, 28, 28)), np.ones((32, 192, 5, 5)), padding="same")
    >>> out.shape, float(out[0, 0, 14, 14]), float(out[0, 0, 0, 0])  # 192*25 taps inside, 192*9 in the corner
    ((1, 32, 28, 28), 4800.0, 1728.0)
    """
    x, w, b, groups, (kernel, stride, padding, out_h, out_w) = check_conv2d_args(x, w, b, stride, padding, groups)
    n, c_out = x.shape[0], w.shape[0]
    cols = im2col(x, kernel, stride, padding)                             # (N, C_in*KH*KW, out_H*out_W)
    out = np.matmul(by_group(w.reshape(c_out, -1), groups), by_group(cols, groups))
    out = out.reshape(n, c_out, out_h, out_w)
    if b is not None:
        out += b[:, None, None]
    return out, Conv2dCache(x.shape, cols, w, b is not None, stride, padding, groups)


def conv2d_backward(dout: ArrayLike, cache: Conv2dCache) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    """The gradients of ``out[n] = W @ cols[n] + b``, as for the 1x1 convolution, then col2im::

        dcols[n] = W.T @ dout[n]            -> dx = col2im(dcols)
        dw       = sum_n dout[n] @ cols[n].T   (reshaped to (C_out, C_in // groups, KH, KW))
        db       = dout summed over (n, i, j)

    group by group with groups.

    Parameters
    ----------
    dout : ndarray, shape (N, C_out, out_H, out_W)
    cache : Conv2dCache
        From ``conv2d_forward``.

    Returns
    -------
    dx : ndarray, shape (N, C_in, H, W)
    dw : ndarray, shape (C_out, C_in // groups, KH, KW)
    db : ndarray, shape (C_out,), or None without a bias

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> out, cache = C.conv2d_forward(np.ones((1, 1, 3, 3)), np.ones((1, 1, 3, 3)), padding=1)
    >>> C.conv2d_backward(np.ones(out.shape), cache)[0][0, 0]     # how many windows hold each pixel
    array([[4., 6., 4.],
           [6., 9., 6.],
           [4., 6., 4.]])
    """
    x_shape, cols, w, has_bias, stride, padding, groups = check_cache(cache, Conv2dCache, "conv2d_backward",
                                                                      "conv2d_forward")
    n, c_out, kernel = x_shape[0], w.shape[0], (w.shape[2], w.shape[3])
    out_h, out_w = _out_hw(x_shape, kernel, stride, padding)
    dout = check_dout(dout, (n, c_out, out_h, out_w), cols.dtype)
    dout_g = by_group(dout.reshape(n, c_out, out_h * out_w), groups)      # (N, G, C_out/G, P)
    dcols = np.matmul(by_group(w.reshape(c_out, -1), groups).transpose(0, 2, 1), dout_g).reshape(cols.shape)
    dw = np.matmul(dout_g, by_group(cols, groups).transpose(0, 1, 3, 2)).sum(axis=0).reshape(w.shape)
    db = dout.sum(axis=(0, 2, 3)) if has_bias else None
    return col2im(dcols, x_shape, kernel, stride, padding), dw, db


class Conv2dCache(NamedTuple):
    """What ``conv2d_backward`` needs from the forward pass.

    Attributes
    ----------
    x_shape : tuple
        (N, C_in, H, W), the shape of the unpadded input.
    cols : ndarray, shape (N, C_in*KH*KW, out_H*out_W)
        The im2col matrix of every image.
    w : ndarray, shape (C_out, C_in // groups, KH, KW)
    has_bias : bool
    stride, padding : (int, int)
        Along (H, W); a cache built by hand may hold an int, the same along both.
    groups : int
        1 when a cache built by hand leaves it out.
    """

    x_shape: tuple[int, ...]
    cols: FloatArray
    w: FloatArray
    has_bias: bool
    stride: int | Pair
    padding: int | Pair
    groups: int = 1


def im2col(x: np.ndarray, kernel_size: int | Pair, stride: int | Pair, padding: int | Pair) -> np.ndarray:
    """Gather every KH x KW x C_in window of the zero-padded input into a column.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    kernel_size, stride, padding : int or (int, int)
        Along (H, W); an int is the same along both.

    Returns
    -------
    cols : ndarray, shape (N, C_in*KH*KW, out_H*out_W)
        ``cols[n, (c, p, q), (i, j)] = xp[n, c, i*SH + p, j*SW + q]``, rows ordered
        like the columns of ``w.reshape(C_out, C_in*KH*KW)``.
    """
    (kh, kw), (sh, sw), (ph, pw) = as_pair(kernel_size), as_pair(stride), as_pair(padding)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    # A view of shape (N, C, out_H, out_W, KH, KW): no copy yet.
    windows = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
    n, c, out_h, out_w = windows.shape[:4]
    # The one copy: reorder to (N, C, KH, KW, out_H, out_W) and flatten to columns.
    return windows.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, out_h * out_w)


def col2im(dcols: np.ndarray, x_shape: tuple[int, ...], kernel_size: int | Pair, stride: int | Pair,
           padding: int | Pair) -> np.ndarray:
    """The adjoint of ``im2col``: add every column entry back to the pixel it came from.

    A pixel belongs to up to KH*KW windows, so its gradient is a sum. The loop runs
    over the KH*KW kernel offsets only; each step adds a whole strided slice.

    Parameters
    ----------
    dcols : ndarray, shape (N, C_in*KH*KW, out_H*out_W)
    x_shape : tuple
        (N, C_in, H, W) of the input that ``im2col`` read.
    kernel_size, stride, padding : int or (int, int)

    Returns
    -------
    dx : ndarray, shape (N, C_in, H, W)
    """
    (kh, kw), (sh, sw), (ph, pw) = as_pair(kernel_size), as_pair(stride), as_pair(padding)
    n, c, height, width = x_shape
    out_h, out_w = _out_hw(x_shape, (kh, kw), (sh, sw), (ph, pw))
    dxp = np.zeros((n, c, height + 2 * ph, width + 2 * pw), dtype=dcols.dtype)
    dcols = dcols.reshape(n, c, kh, kw, out_h, out_w)
    for p in range(kh):
        for q in range(kw):
            dxp[:, :, p:p + sh * out_h:sh, q:q + sw * out_w:sw] += dcols[:, :, p, q]
    return dxp[:, :, ph:ph + height, pw:pw + width]  # explicit ends: padding may be 0


def _out_hw(x_shape: tuple[int, ...], kernel_size: int | Pair, stride: int | Pair,
            padding: int | Pair) -> tuple[int, int]:
    """(out_H, out_W) of a valid convolution geometry."""
    (kh, kw), (sh, sw), (ph, pw) = as_pair(kernel_size), as_pair(stride), as_pair(padding)
    return (x_shape[2] + 2 * ph - kh) // sh + 1, (x_shape[3] + 2 * pw - kw) // sw + 1


def check_conv2d_args(x: ArrayLike, w: ArrayLike, b: ArrayLike | None, stride: int | Pair,
                      padding: int | Pair | str, groups: int = 1,
                      ) -> tuple[FloatArray, FloatArray, FloatArray | None, int, Geometry]:
    """Validate a convolution's arguments.

    Returns
    -------
    x, w, b : ndarray
        In one common floating dtype.
    groups : int
    geometry : Geometry
        ``(kernel, stride, padding, out_H, out_W)``, the first three as (along H, along W) pairs.
    """
    w = check_float_array(w, "w")
    x = check_image_batch(x, channels=w.shape[1] if w.ndim == 4 and groups == 1 else None, owner="w")
    groups = check_groups(groups, x.shape[1], hint=DEPTHWISE_HINT)
    w = check_weight(w, 4, x.shape[1], groups)
    geometry = window_geometry(x.shape[2], x.shape[3], (w.shape[2], w.shape[3]), stride, padding)
    return (*common_dtype(x, w, check_bias(b, w.shape[0])), groups, geometry)
