"""The 1x1 convolution: a fully connected layer applied at every pixel.

For an input ``x`` of shape (N, C_in, H, W) and weights ``w`` of shape
(C_out, C_in), every pixel's channel vector ``x[n, :, h, w]`` goes through the
same dense layer::

    out[n, o, h, w] = sum_c w[o, c] * x[n, c, h, w] + b[o]
                    = np.einsum('oc,nchw->nohw', w, x) + b[None, :, None, None]

The number of filters C_out sets the output depth; H and W never change.

Seen as matrices, image n is a (C_in, H*W) matrix with one column per pixel,
and the whole convolution is one matrix product per image: ``out[n] = w @ x[n]``.
That is the line below. ``np.matmul`` hands it to BLAS, the tuned linear-algebra
library under NumPy, so it runs at the speed of NumPy's own matrix multiply
(``benchmarks/bench_conv1x1.py`` measures it; ``examples/07_einsum_paths.py``
times the other ways of writing it). ``conv1x1.reference`` keeps the slow,
obvious versions; the tests prove every version gives the same numbers.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validation import (DEPTHWISE_HINT, check_cache, check_dout, check_float_array, check_groups, check_image_batch, check_weight,
                          common_dtype)

__all__ = ["conv1x1_forward", "conv1x1_backward", "conv1x1", "Conv1x1Cache"]


def conv1x1_forward(x, w, b=None, groups=1):
    """Forward pass of a 1x1 convolution: one dense layer applied at every pixel.

    ``out = np.einsum('oc,nchw->nohw', w, x) + b[None, :, None, None]``, computed
    as ``out[n] = w @ x[n]`` with each image seen as a (C_in, H*W) matrix.

    With ``groups = G`` the channels split into G groups that never mix
    (ShuffleNet's grouped 1x1): group g's C_out/G filters see only group g's
    C_in/G input channels, ``out[n, g] = w[g] @ x[n, g]``; that is the same
    matmul with one more axis, (G, C_out/G, C_in/G) @ (N, G, C_in/G, H*W).

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
        Input batch (float16, float32 or float64). It is not modified.
    w : ndarray, shape (C_out, C_in // groups)
        One row of weights per filter (C_in of them when groups=1).
    b : ndarray, shape (C_out,), optional
        One bias per filter; ``None`` for no bias.
    groups : int, default 1
        Must divide C_in and C_out.

    Returns
    -------
    out : ndarray, shape (N, C_out, H, W)
        In the common dtype of x, w and b (NumPy's promotion).
    cache : Conv1x1Cache
        What ``conv1x1_backward`` needs.

    Raises
    ------
    TypeError
        If an argument is not a floating-point array.
    ValueError
        If a shape does not fit (the message says expected versus received), or
        groups does not divide the channels.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> x = np.ones((2, 192, 28, 28))
    >>> w = np.full((32, 192), 0.5)
    >>> out, cache = C.conv1x1_forward(x, w)
    >>> out.shape
    (2, 32, 28, 28)
    >>> float(out[0, 0, 0, 0])  # 192 channels * 1.0 * 0.5
    96.0
    >>> out, _ = C.conv1x1_forward(x, np.full((32, 48), 0.5), groups=4)  # each filter sees 192 / 4 channels
    >>> float(out[0, 0, 0, 0])
    24.0
    """
    x, w, b, groups = check_conv1x1_args(x, w, b, groups)
    n, c_in, height, width = x.shape
    x_mat = x.reshape(n, c_in, height * width)
    if groups == 1:
        out = np.matmul(w, x_mat)                             # (C_out, C_in) @ (N, C_in, H*W)
    else:
        out = np.matmul(by_group(w, groups), by_group(x_mat, groups))  # (G, C_out/G, C_in/G) @ (N, G, C_in/G, H*W)
    out = out.reshape(n, w.shape[0], height * width)
    if b is not None:
        out += b[:, None]                                     # one bias per output row
    return out.reshape(n, w.shape[0], height, width), Conv1x1Cache(x, w, b is not None, groups)


def by_group(a, groups):
    """Split the channel axis (axis -2) into (groups, channels per group): a view, no copy.

    (C, P) -> (G, C/G, P) and (N, C, P) -> (N, G, C/G, P).
    """
    return a.reshape(*a.shape[:-2], groups, a.shape[-2] // groups, a.shape[-1])


def conv1x1_backward(dout, cache):
    """Backward pass of a 1x1 convolution.

    With ``out[n] = w @ x[n] + b`` per image (x[n] a (C_in, H*W) matrix), the
    chain rule gives three matrix formulas::

        dx[n] = w.T @ dout[n]                    # einsum('oc,nohw->nchw', w, dout)
        dw    = sum_n dout[n] @ x[n].T           # einsum('nohw,nchw->oc', dout, x)
        db    = dout.sum((0, 2, 3))              # one bias per output channel

    With groups, the same formulas hold group by group (``w[g]``, ``x[n, g]``, ``dout[n, g]``).

    Parameters
    ----------
    dout : ndarray, shape (N, C_out, H, W)
        Gradient of the loss with respect to ``out``; cast to the forward dtype.
    cache : Conv1x1Cache
        From ``conv1x1_forward``.

    Returns
    -------
    dx : ndarray, shape (N, C_in, H, W)
    dw : ndarray, shape (C_out, C_in // groups)
    db : ndarray, shape (C_out,), or None
        ``None`` when the forward pass had no bias.

    Raises
    ------
    TypeError
        If ``cache`` is not a ``Conv1x1Cache`` or ``dout`` not a float array.
    ValueError
        If ``dout`` does not have the shape of the forward output.
    """
    x, w, has_bias, groups = check_cache(cache, Conv1x1Cache, "conv1x1_backward", "conv1x1_forward")
    n, c_in, height, width = x.shape
    c_out = w.shape[0]
    dout = check_dout(dout, (n, c_out, height, width), x.dtype).reshape(n, c_out, height * width)
    x_mat = x.reshape(n, c_in, height * width)
    db = dout.sum(axis=(0, 2)) if has_bias else None
    if groups == 1:
        dx = np.matmul(w.T, dout)
        dw = np.matmul(dout, x_mat.transpose(0, 2, 1)).sum(axis=0)
        return dx.reshape(x.shape), dw, db
    w_g, dout_g, x_g = by_group(w, groups), by_group(dout, groups), by_group(x_mat, groups)
    dx = np.matmul(w_g.transpose(0, 2, 1), dout_g)                  # (N, G, C_in/G, H*W)
    dw = np.matmul(dout_g, x_g.transpose(0, 1, 3, 2)).sum(axis=0)   # (G, C_out/G, C_in/G)
    return dx.reshape(x.shape), dw.reshape(w.shape), db


class Conv1x1Cache(NamedTuple):
    """What ``conv1x1_backward`` needs from the forward pass.

    Attributes
    ----------
    x : ndarray, shape (N, C_in, H, W)
        The input (a reference, not a copy: never modify it in between).
    w : ndarray, shape (C_out, C_in // groups)
        The weights used by the forward pass.
    has_bias : bool
        Whether the forward pass added a bias (then ``db`` is computed).
    groups : int
        How many channel groups the forward pass used.
    """

    x: np.ndarray
    w: np.ndarray
    has_bias: bool
    groups: int = 1


def check_conv1x1_args(x, w, b=None, groups=1):
    """Validate the arguments of a 1x1 convolution; return x, w, b (one float dtype) and groups.

    Raises
    ------
    TypeError
        If an argument is not a floating-point array.
    ValueError
        If a shape is wrong; the message says what was expected and received.
    """
    w = check_float_array(w, "w")
    x = check_image_batch(x, channels=w.shape[1] if w.ndim == 2 and groups == 1 else None, owner="w")
    groups = check_groups(groups, x.shape[1], hint=DEPTHWISE_HINT)
    w = check_weight(w, 2, x.shape[1], groups)
    return (*common_dtype(x, w, b, w.shape[0]), groups)


def conv1x1(x, w, b=None, groups=1):
    """A 1x1 convolution without the cache: ``conv1x1_forward(x, w, b, groups)[0]``.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    w : ndarray, shape (C_out, C_in // groups)
    b : ndarray, shape (C_out,), optional
    groups : int, default 1

    Returns
    -------
    out : ndarray, shape (N, C_out, H, W)

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> C.conv1x1(np.zeros((1, 192, 28, 28)), np.zeros((32, 192))).shape
    (1, 32, 28, 28)
    """
    return conv1x1_forward(x, w, b, groups)[0]
