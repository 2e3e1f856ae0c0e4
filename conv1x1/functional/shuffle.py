"""Channel shuffle (Zhang, Zhou, Lin, Sun 2017, "ShuffleNet: An Extremely Efficient Convolutional Neural Network
for Mobile Devices", arXiv:1707.01083).

A grouped 1x1 convolution costs 1/G of a dense one, but its groups never mix:
output group g sees only input group g. ShuffleNet interleaves the groups
between two grouped layers, so every group of the next layer gets channels
from every group of this one. Seen as a (G, C/G) table of channel indices,
the shuffle is a transpose::

    x: (N, C, H, W) -> (N, G, C/G, H, W) -> swap axes 1 and 2 -> (N, C/G, G, H, W) -> (N, C, H, W)

No parameters, no multiply-adds. The backward pass is the inverse
permutation: the same steps with G and C/G exchanged.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from .._checks import FloatArray, check_cache, check_dout, check_groups, check_image_batch

__all__ = ["channel_shuffle_forward", "channel_shuffle_backward", "ChannelShuffleCache"]


def _shuffle(x: FloatArray, rows: int, cols: int) -> FloatArray:
    """Read the channel axis as a (rows, cols) table and transpose it, into a new array."""
    n, c, height, width = x.shape
    out = np.empty_like(x)
    out.reshape(n, cols, rows, height, width)[...] = x.reshape(n, rows, cols, height, width).transpose(0, 2, 1, 3, 4)
    return out


def channel_shuffle_forward(x: ArrayLike, groups: int) -> tuple[FloatArray, ChannelShuffleCache]:
    """Interleave the channel groups: output channel ``j * G + g`` is input channel ``g * (C/G) + j``.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    groups : int
        G, which must divide C.

    Returns
    -------
    out : ndarray, shape (N, C, H, W)
        A new array (x is not modified).
    cache : ChannelShuffleCache

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> x = np.arange(6.0).reshape(1, 6, 1, 1)          # two groups: channels 0 1 2 | 3 4 5
    >>> C.channel_shuffle_forward(x, 2)[0].ravel()
    array([0., 3., 1., 4., 2., 5.])
    """
    x = check_image_batch(x, layout="(N, C, H, W)")
    groups = check_groups(groups, x.shape[1])
    return _shuffle(x, groups, x.shape[1] // groups), ChannelShuffleCache(x.shape, groups, x.dtype)


def channel_shuffle_backward(dout: ArrayLike, cache: ChannelShuffleCache) -> FloatArray:
    """The inverse permutation: ``dx`` is ``dout`` shuffled with C/G groups.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H, W)
    cache : ChannelShuffleCache

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    """
    x_shape, groups, dtype = check_cache(cache, ChannelShuffleCache, "channel_shuffle_backward",
                                         "channel_shuffle_forward")
    dout = check_dout(dout, x_shape, dtype)
    return _shuffle(dout, x_shape[1] // groups, groups)


class ChannelShuffleCache(NamedTuple):
    """The input's shape, the number of groups and the dtype."""

    x_shape: tuple[int, ...]
    groups: int
    dtype: np.dtype
