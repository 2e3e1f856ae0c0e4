"""The 1x1 convolution: a fully connected layer applied at every pixel.

::

    out[n, o, h, w] = sum_c w[o, c] * x[n, c, h, w] + b[o]

Seen as matrices, image n is a (C_in, H*W) matrix with one column per pixel, and
the convolution is one matrix product per image, ``out[n] = w @ x[n] + b``; its
backward pass is three more. ``conv1x1.reference`` keeps the literal versions.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._checks import (
    DEPTHWISE_HINT,
    FloatArray,
    check_bias,
    check_cache,
    check_dout,
    check_float_array,
    check_groups,
    check_image_batch,
    check_positive_int,
    check_weight,
    common_dtype,
)

__all__ = ["conv1x1_forward", "conv1x1_backward", "conv1x1", "Conv1x1Cache"]


def conv1x1_forward(x: FloatArray, w: FloatArray, b: FloatArray | None = None, groups: int = 1,
                    stride: int = 1) -> tuple[FloatArray, Conv1x1Cache]:
    """A 1x1 convolution, ``out[n] = w @ x[n] + b`` for each image ``x[n]`` seen as a (C_in, H*W) matrix.

    With ``groups = G`` the channels split into G groups that never mix, ``out[n, g] = w[g] @ x[n, g]``;
    with a stride s the filters see every s-th row and column, ``x[:, :, ::s, ::s]``.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    w : ndarray, shape (C_out, C_in // groups)
    b : ndarray, shape (C_out,), optional
    groups, stride : int, default 1

    Returns
    -------
    out : ndarray, shape (N, C_out, ceil(H / stride), ceil(W / stride))
    cache : Conv1x1Cache

    Raises
    ------
    TypeError, ValueError
        For an array that is not floating point, a shape that does not fit, or groups that do not divide C_in.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> out, cache = C.conv1x1_forward(np.ones((2, 192, 28, 28)), np.full((32, 192), 0.5))
    >>> out.shape, float(out[0, 0, 0, 0])     # 192 channels * 1.0 * 0.5
    ((2, 32, 28, 28), 96.0)
    """
    x, w, b, groups, stride = check_conv1x1_args(x, w, b, groups, stride)
    seen = x[:, :, ::stride, ::stride]                             # the pixels the filters see (a view)
    n, c_in, height, width = seen.shape
    x_g = by_group(seen.reshape(n, c_in, height * width), groups)  # (N, G, C_in/G, H*W)
    out = np.matmul(by_group(w, groups), x_g)                      # (G, C_out/G, C_in/G) @ x_g
    out = out.reshape(n, w.shape[0], height, width)
    if b is not None:
        out += b[:, None, None]
    return out, Conv1x1Cache(x, w, b is not None, groups, stride)


def conv1x1_backward(dout: FloatArray, cache: Conv1x1Cache) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    """The gradients of ``out[n] = w @ x[n] + b``, group by group with groups::

        dx[n] = w.T @ dout[n]            (zero at the pixels a stride skipped)
        dw    = sum_n dout[n] @ x[n].T
        db    = dout summed over (n, h, w)

    Parameters
    ----------
    dout : ndarray, shape (N, C_out, H_out, W_out)
    cache : Conv1x1Cache
        From ``conv1x1_forward``.

    Returns
    -------
    dx : ndarray, shape (N, C_in, H, W)
    dw : ndarray, shape (C_out, C_in // groups)
    db : ndarray, shape (C_out,), or None without a bias

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> out, cache = C.conv1x1_forward(np.ones((2, 3, 4, 4)), np.ones((5, 3)), np.zeros(5))
    >>> dx, dw, db = C.conv1x1_backward(np.ones(out.shape), cache)
    >>> float(dx[0, 0, 0, 0]), float(dw[0, 0]), float(db[0])    # 5 filters; 2*4*4 pixels
    (5.0, 32.0, 32.0)
    """
    x, w, has_bias, groups, stride = check_cache(cache, Conv1x1Cache, "conv1x1_backward", "conv1x1_forward")
    seen = x[:, :, ::stride, ::stride]
    n, c_in, height, width = seen.shape
    dout = check_dout(dout, (n, w.shape[0], height, width), x.dtype)
    dout_g = by_group(dout.reshape(n, w.shape[0], height * width), groups)   # (N, G, C_out/G, H*W)
    x_g = by_group(seen.reshape(n, c_in, height * width), groups)            # (N, G, C_in/G, H*W)
    dx_seen = np.matmul(by_group(w, groups).transpose(0, 2, 1), dout_g).reshape(seen.shape)
    dw = np.matmul(dout_g, x_g.transpose(0, 1, 3, 2)).sum(axis=0).reshape(w.shape)
    db = dout.sum(axis=(0, 2, 3)) if has_bias else None
    if stride == 1:
        return dx_seen, dw, db
    dx = np.zeros(x.shape, dtype=x.dtype)                # zero at the pixels the filters never saw
    dx[:, :, ::stride, ::stride] = dx_seen
    return dx, dw, db


class Conv1x1Cache(NamedTuple):
    """What ``conv1x1_backward`` needs: x (a reference, not a copy), w and the settings (groups, stride default 1)."""

    x: FloatArray
    w: FloatArray
    has_bias: bool
    groups: int = 1
    stride: int = 1


def by_group(a: FloatArray, groups: int) -> FloatArray:
    """Split the channel axis (axis -2) into (groups, channels per group), a view: (N, C, P) -> (N, G, C/G, P)."""
    return a.reshape(*a.shape[:-2], groups, a.shape[-2] // groups, a.shape[-1])


def check_conv1x1_args(x, w, b=None, groups=1, stride=1) -> tuple[FloatArray, FloatArray, FloatArray | None, int,
                                                                   int]:
    """Validate a 1x1 convolution's arguments; return x, w, b (in one float dtype), groups and stride."""
    w = check_float_array(w, "w")
    x = check_image_batch(x, channels=w.shape[1] if w.ndim == 2 and groups == 1 else None, owner="w")
    groups = check_groups(groups, x.shape[1], hint=DEPTHWISE_HINT)
    stride = check_positive_int(stride, "stride")
    w = check_weight(w, 2, x.shape[1], groups)
    return (*common_dtype(x, w, check_bias(b, w.shape[0])), groups, stride)


def conv1x1(x: FloatArray, w: FloatArray, b: FloatArray | None = None, groups: int = 1, stride: int = 1) -> FloatArray:
    """A 1x1 convolution without the cache: ``conv1x1_forward(x, w, b, groups, stride)[0]``.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> C.conv1x1(np.zeros((1, 192, 28, 28)), np.zeros((32, 192))).shape
    (1, 32, 28, 28)
    """
    return conv1x1_forward(x, w, b, groups, stride)[0]
