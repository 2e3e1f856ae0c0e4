"""The 1x1 convolution: a fully connected layer applied at every pixel.

::

    out[n, o, i, j] = sum_c w[o, c] * x[n, c, i, j] + b[o]        (pixel (i, j): row i, column j)

Seen as matrices, image n is a (C_in, H*W) matrix with one column per pixel, and
the convolution is one matrix product per image, ``out[n] = w @ x[n] + b``; its
backward pass is two matrix products and a sum. ``conv1x1.reference`` computes the
same forward pass as loops, as an einsum and as a dense layer at every pixel.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from .._checks import FloatArray, check_cache, check_conv1x1_args, check_dout

__all__ = ["conv1x1_forward", "conv1x1_backward", "conv1x1", "Conv1x1Cache"]


class Conv1x1Cache(NamedTuple):
    """What ``conv1x1_backward`` needs: x (kept, not copied), w and the settings (groups, stride)."""
    x: FloatArray
    w: FloatArray
    has_bias: bool
    groups: int = 1
    stride: int = 1


def conv1x1_forward(x: ArrayLike, w: ArrayLike, b: ArrayLike | None = None, groups: int = 1,
                    stride: int = 1) -> tuple[FloatArray, Conv1x1Cache]:
    """A 1x1 convolution: at each pixel (i, j), ``out[n, :, i, j] = w @ x[n, :, i, j] + b``.

    With ``groups = G`` the channels split into G groups that never mix, ``out[n, g] = w[g] @ x[n, g]``.
    With ``stride = s`` the filters see ``x[:, :, ::s, ::s]``: H_out = ceil(H / s), W_out = ceil(W / s).

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    w : ndarray, shape (C_out, C_in // groups)
    b : ndarray, shape (C_out,), optional
    groups, stride : int, default 1

    Returns
    -------
    out : ndarray, shape (N, C_out, H_out, W_out)
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
    seen = x[:, :, ::stride, ::stride]                  # the pixels the filters see (a view)
    n, c_in, height, width = seen.shape
    x_mat = seen.reshape(n, c_in, height * width)       # image n as a (C_in, H*W) matrix
    # w @ x[n] group by group: (G, C_out/G, C_in/G) @ (N, G, C_in/G, H*W); one group is the plain w @ x[n]
    out = np.matmul(by_group(w, groups), by_group(x_mat, groups)).reshape(n, w.shape[0], height, width)
    if b is not None:
        out += b[:, None, None]
    return out, Conv1x1Cache(x, w, b is not None, groups, stride)


def conv1x1_backward(dout: ArrayLike, cache: Conv1x1Cache) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    """The gradients of ``out[n] = w @ x[n] + b``, image n as a (C_in, H*W) matrix, group by group.

    ::

        dx[n] = w.T @ dout[n]            (zero at the pixels a stride skipped)
        dw    = sum_n dout[n] @ x[n].T
        db    = dout summed over (n, i, j)

    Parameters
    ----------
    dout : ndarray, shape (N, C_out, H_out, W_out)
    cache : Conv1x1Cache, from ``conv1x1_forward``

    Returns
    -------
    dx : ndarray, shape (N, C_in, H, W)
    dw : ndarray, shape (C_out, C_in // groups)
    db : ndarray, shape (C_out,), or None without a bias

    Raises
    ------
    TypeError, ValueError
        For a cache that is not a Conv1x1Cache, or a dout that is not floating point or not of out's shape.

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
    x_g = by_group(seen.reshape(n, c_in, height * width), groups)            # (N, G, C_in/G, H*W)
    dout_g = by_group(dout.reshape(n, w.shape[0], height * width), groups)   # (N, G, C_out/G, H*W)
    dx_seen = np.matmul(by_group(w, groups).transpose(0, 2, 1), dout_g).reshape(seen.shape)  # dx[n] = w.T @ dout[n]
    dw = np.matmul(dout_g, x_g.transpose(0, 1, 3, 2)).sum(axis=0).reshape(w.shape)   # sum_n dout[n] @ x[n].T
    db = dout.sum(axis=(0, 2, 3)) if has_bias else None
    if stride == 1:
        return dx_seen, dw, db
    dx = np.zeros(x.shape, dtype=x.dtype)                # zero at the pixels the filters never saw
    dx[:, :, ::stride, ::stride] = dx_seen
    return dx, dw, db


def by_group(a: FloatArray, groups: int) -> FloatArray:
    """Split the channel axis (axis -2) into (groups, channels per group), a view: (N, C, P) -> (N, G, C/G, P)."""
    return a.reshape(*a.shape[:-2], groups, a.shape[-2] // groups, a.shape[-1])


def conv1x1(x: ArrayLike, w: ArrayLike, b: ArrayLike | None = None, groups: int = 1, stride: int = 1) -> FloatArray:
    """A 1x1 convolution without the cache: ``conv1x1_forward(x, w, b, groups, stride)[0]``.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> C.conv1x1(np.zeros((1, 192, 28, 28)), np.zeros((32, 192))).shape
    (1, 32, 28, 28)
    """
    return conv1x1_forward(x, w, b, groups, stride)[0]
