"""Global average pooling: Network in Network's classifier without a fully connected layer.

Lin, Chen and Yan (2013), "Network In Network", arXiv:1312.4400, end their network with a
1x1 convolution to one channel per class and then average each channel over the whole image::

    out[n, c, 0, 0] = mean over h, w of x[n, c, h, w]          (1 / (H * W)) * sum

Every input pixel contributes equally, so the backward pass spreads each upstream gradient
evenly over its channel: ``dx[n, c, h, w] = dout[n, c, 0, 0] / (H * W)``. No parameters; the
H * W additions per channel are not multiply-adds, so the cost counter lists 0 MACs.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validation import as_float_array, check_dout, check_image_batch
from .cost import LayerCost
from .layers import Layer

__all__ = ["global_avg_pool_forward", "global_avg_pool_backward", "GlobalAvgPool2d", "GlobalAvgPoolCache"]


class GlobalAvgPoolCache(NamedTuple):
    """What ``global_avg_pool_backward`` needs: the input's shape and dtype (not its values)."""

    x_shape: tuple
    dtype: np.dtype


def global_avg_pool_forward(x):
    """Average every channel over its H x W positions.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)

    Returns
    -------
    out : ndarray, shape (N, C, 1, 1)
        The channel means, in the dtype of x. NaN in a channel makes its mean NaN.
    cache : GlobalAvgPoolCache

    Raises
    ------
    TypeError
        If x is not a floating-point array.
    ValueError
        If x is not 4-D.

    Examples
    --------
    >>> import numpy as np
    >>> from conv1x1.global_pool import global_avg_pool_forward
    >>> x = np.arange(8.0).reshape(1, 2, 2, 2)      # channel 0: 0..3, channel 1: 4..7
    >>> global_avg_pool_forward(x)[0].ravel()
    array([1.5, 5.5])
    """
    x = as_float_array(x, "x")
    check_image_batch(x, "(N, C, H, W)")
    return x.mean(axis=(2, 3), keepdims=True), GlobalAvgPoolCache(x.shape, x.dtype)


def global_avg_pool_backward(dout, cache: GlobalAvgPoolCache):
    """Spread each channel's gradient evenly over its H x W positions.

    Parameters
    ----------
    dout : ndarray, shape (N, C, 1, 1)
    cache : GlobalAvgPoolCache

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
        ``dout / (H * W)`` broadcast over H and W (a fresh array, safe to write into).

    Examples
    --------
    >>> import numpy as np
    >>> from conv1x1.global_pool import global_avg_pool_forward, global_avg_pool_backward
    >>> _, cache = global_avg_pool_forward(np.zeros((1, 1, 2, 2)))
    >>> global_avg_pool_backward(np.full((1, 1, 1, 1), 4.0), cache)[0, 0]
    array([[1., 1.],
           [1., 1.]])
    """
    n, c, height, width = cache.x_shape
    dout = check_dout(dout, (n, c, 1, 1), cache.dtype)
    return np.broadcast_to(dout / (height * width), cache.x_shape).copy()


class GlobalAvgPool2d(Layer):
    """Global average pooling layer: (N, C, H, W) -> (N, C, 1, 1). No parameters.

    After a 1x1 convolution to K channels, its output is one score per class,
    ready for ``softmax_cross_entropy`` (which accepts (N, K, 1, 1) scores).

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> from conv1x1.global_pool import GlobalAvgPool2d
    >>> head = C.Sequential(C.Conv1x1(32, 10), GlobalAvgPool2d())   # NiN's classifier
    >>> head.forward(np.zeros((4, 32, 8, 8))).shape
    (4, 10, 1, 1)
    """

    def __init__(self):
        super().__init__()
        self._pool_cache = None

    def __repr__(self):
        return "GlobalAvgPool2d()"

    def forward(self, x):
        """x: (N, C, H, W) -> out: (N, C, 1, 1)."""
        out, self._pool_cache = global_avg_pool_forward(x)
        return out

    def backward(self, dout):
        """dout: (N, C, 1, 1) -> dx: (N, C, H, W)."""
        if self._pool_cache is None:
            raise RuntimeError("GlobalAvgPool2d.backward was called before forward: forward must run first "
                               "(call layer.forward(x), then layer.backward(dout)).")
        return global_avg_pool_backward(dout, self._pool_cache)

    def _cost_rows(self, in_shape, name):
        channels = in_shape[0]
        return [LayerCost(name=name or "GlobalAvgPool2d", kind="global avg pool", in_shape=tuple(in_shape),
                          out_shape=(channels, 1, 1), params=0, macs=0, backward_macs=0,
                          activations=channels)]
