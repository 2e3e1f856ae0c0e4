"""The channel gate of squeeze-and-excitation: ``out = x * s[:, :, None, None]``.

Hu, Shen, Sun 2018 ("Squeeze-and-Excitation Networks", arXiv:1709.01507): a network
computes one number per channel and image, ``s`` (N, C), from the globally pooled
input (two 1x1 convolutions on a 1x1 map: a small MLP), squashes it into (0, 1) and
multiplies every pixel of the channel by it. The gate is the one operation here with
two inputs that both need a gradient: x and s.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_cache, check_dout, check_float_array, check_image_batch

__all__ = ["channel_gate_forward", "channel_gate_backward", "ChannelGateCache"]


class ChannelGateCache(NamedTuple):
    """Both inputs of ``channel_gate_forward``: x (N, C, H, W) and s (N, C)."""

    x: np.ndarray
    s: np.ndarray


def channel_gate_forward(x: ArrayLike, s: ArrayLike
                         ) -> tuple[NDArray[np.floating], ChannelGateCache]:
    """Scale every channel of every image by its own number: ``out[n, c, h, w] = x[n, c, h, w] * s[n, c]``.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    s : ndarray, shape (N, C)
        One gate per image and channel (SE's sigmoid output, flattened); a (N, C, 1, 1) array is taken too.

    Returns
    -------
    out : ndarray, shape (N, C, H, W)
    cache : ChannelGateCache

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> out, _ = C.channel_gate_forward(np.ones((1, 2, 2, 2)), np.array([[0.0, 0.5]]))
    >>> out[0, :, 0, 0]
    array([0. , 0.5])
    """
    x = check_image_batch(x, layout="(N, C, H, W)")
    s = check_float_array(s, "s")
    if s.shape == x.shape[:2] + (1, 1):
        s = s.reshape(x.shape[:2])
    if s.shape != x.shape[:2]:
        raise ValueError(f"s must have shape {x.shape[:2]}, one gate per image and channel of x (shape {x.shape}), "
                         f"got {s.shape}")
    dtype = np.result_type(x, s)
    x, s = x.astype(dtype, copy=False), s.astype(dtype, copy=False)
    return x * s[:, :, None, None], ChannelGateCache(x, s)


def channel_gate_backward(dout: ArrayLike, cache: ChannelGateCache
                          ) -> tuple[NDArray[np.floating], NDArray[np.floating]]:
    """Backward pass of the channel gate::

        dx[n, c, h, w] = dout[n, c, h, w] * s[n, c]
        ds[n, c]       = sum over (h, w) of dout[n, c, h, w] * x[n, c, h, w]

    ``s[n, c]`` touched every pixel of its channel, so its gradient sums over them.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H, W)
    cache : ChannelGateCache

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    ds : ndarray, shape (N, C)
    """
    x, s = check_cache(cache, ChannelGateCache, "channel_gate_backward", "channel_gate_forward")
    dout = check_dout(dout, x.shape, x.dtype)
    return dout * s[:, :, None, None], np.einsum("nchw,nchw->nc", dout, x)
