"""ReLU's backward pass in the engine room: one multiplication by a mask instead of a branch per element."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._checks import check_cache, check_dout
from ..functional import activations as plain_activations

__all__ = ["relu_backward"]

FloatArray = NDArray[np.floating[Any]]   # an array of float16, float32 or float64


def relu_backward(dout: FloatArray, cache: FloatArray) -> FloatArray:
    """``conv1x1.relu_backward``: ``dx = dout * (not x <= 0)``, one multiplication by a boolean mask.

    ``np.where(x <= 0, 0, dout)`` picks one of two values per element, a branch the
    processor mispredicts half the time on a ReLU's input; this product has none
    (NiN's and ResNet-50's training steps, ``bench_networks.py --tricks``; the
    figures are in docs/performance.md). "not x <= 0"
    rather than "x > 0" lets dout through where x is NaN, as the plain function
    does. Where x <= 0 the product is dout * 0, which is NaN for an inf or NaN in
    dout where the plain function gives 0: then (one cheap check) the plain
    function computes dx. It may also be -0.0 where the plain one gives 0.0:
    equal numbers.
    """
    x = check_cache(cache, np.ndarray, "relu_backward", "relu_forward")
    dout = check_dout(dout, x.shape, x.dtype)
    if not np.isfinite(dout).all():
        return plain_activations.relu_backward(dout, x)
    passes = np.less_equal(x, 0)
    np.logical_not(passes, out=passes)
    return np.multiply(dout, passes, dtype=x.dtype)
