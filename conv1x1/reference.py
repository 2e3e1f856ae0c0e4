"""Slow and obvious implementations, to learn from and to test against.

A ladder from the most literal to the fast path in ``conv1x1.core``; the tests
prove that every rung gives the same numbers:

1. ``conv1x1_loops``: explicit Python loops over images, filters and channels.
2. ``conv1x1_einsum``: the definition, one ``np.einsum('oc,nchw->nohw', ...)``.
3. ``conv1x1_as_dense``: channels last, one dense layer on a (N*H*W, C_in)
   matrix, channels back: the "fully connected layer at every pixel" view.
4. ``conv1x1.conv1x1`` (the library): a matmul on the (N, C_in, H*W) view.
"""

from __future__ import annotations

import numpy as np

from .core import check_conv1x1_args

__all__ = ["conv1x1_loops", "conv1x1_einsum", "conv1x1_as_dense"]


def conv1x1_loops(x, w, b=None):
    """1x1 convolution with explicit loops over n, o and c.

    ``out[n, o] = sum_c w[o, c] * x[n, c] (+ b[o])`` where ``x[n, c]`` is a whole
    (H, W) image plane: each filter is a weighted sum of the input planes.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    w : ndarray, shape (C_out, C_in)
    b : ndarray, shape (C_out,), optional

    Returns
    -------
    out : ndarray, shape (N, C_out, H, W)
    """
    x, w, b = check_conv1x1_args(x, w, b)
    n_images, c_in, height, width = x.shape
    c_out = w.shape[0]
    out = np.zeros((n_images, c_out, height, width), dtype=x.dtype)
    for n in range(n_images):
        for o in range(c_out):
            for c in range(c_in):
                out[n, o] += w[o, c] * x[n, c]
            if b is not None:
                out[n, o] += b[o]
    return out


def conv1x1_einsum(x, w, b=None):
    """1x1 convolution as the literal einsum ``'oc,nchw->nohw'`` (plus the bias).

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    w : ndarray, shape (C_out, C_in)
    b : ndarray, shape (C_out,), optional

    Returns
    -------
    out : ndarray, shape (N, C_out, H, W)
    """
    x, w, b = check_conv1x1_args(x, w, b)
    out = np.einsum("oc,nchw->nohw", w, x)
    if b is not None:
        out = out + b[None, :, None, None]
    return out


def conv1x1_as_dense(x, w, b=None):
    """1x1 convolution as one dense layer applied to every pixel's channel vector.

    Move channels last, (N, C_in, H, W) -> (N, H, W, C_in); flatten the pixels
    into rows, (N*H*W, C_in); apply the dense layer ``rows @ w.T + b``; put the
    channels back, (N, C_out, H, W).

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    w : ndarray, shape (C_out, C_in)
    b : ndarray, shape (C_out,), optional

    Returns
    -------
    out : ndarray, shape (N, C_out, H, W)
    """
    x, w, b = check_conv1x1_args(x, w, b)
    n_images, c_in, height, width = x.shape
    pixels = x.transpose(0, 2, 3, 1).reshape(-1, c_in)  # one row per pixel
    rows = pixels @ w.T
    if b is not None:
        rows = rows + b
    return rows.reshape(n_images, height, width, w.shape[0]).transpose(0, 3, 1, 2)
