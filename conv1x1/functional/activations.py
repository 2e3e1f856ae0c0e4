"""Element-wise activations with the (out, cache) / (dout, cache) -> dx contract.

After a 1x1 convolution, an activation makes the per-pixel dense layer a
per-pixel *non-linear* map: Conv1x1 -> ReLU -> Conv1x1 is a small multilayer
perceptron run at every pixel (the "Network in Network" idea).

Each ``*_forward(x)`` returns ``(out, cache)`` and each ``*_backward(dout, cache)``
returns ``dx`` with the shape and dtype of ``x``. They work on arrays of any shape.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import FloatArray, check_cache, check_dout, check_float_array, check_real

__all__ = [
    "relu_forward", "relu_backward",
    "leaky_relu_forward", "leaky_relu_backward",
    "sigmoid_forward", "sigmoid_backward",
    "tanh_forward", "tanh_backward",
    "relu6_forward", "relu6_backward", "gelu_forward", "gelu_backward", "silu_forward", "silu_backward",
]


def relu_forward(x: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """ReLU: ``out = max(x, 0)``.

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    out : ndarray, same shape and dtype as x
    cache : ndarray
        The input x.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> C.relu_forward(np.array([-2.0, 0.0, 3.0]))[0]
    array([0., 0., 3.])
    """
    x = check_float_array(x, "x")
    return np.maximum(x, 0), x  # np.maximum propagates NaN


def relu_backward(dout: ArrayLike, cache: FloatArray) -> FloatArray:
    """ReLU backward: ``dx = dout`` where x > 0, else 0.

    At the kink x = 0 the gradient is taken as 0 (PyTorch's choice too); where x
    is NaN, dout passes through unchanged (as in PyTorch: NaN is not ``<= 0``).

    Parameters
    ----------
    dout : ndarray, shape of x
    cache : ndarray
        From ``relu_forward``.

    Returns
    -------
    dx : ndarray, shape and dtype of x
    """
    x = check_cache(cache, np.ndarray, "relu_backward", "relu_forward")
    dout = check_dout(dout, x.shape, x.dtype)
    return np.where(x <= 0, 0, dout).astype(x.dtype, copy=False)


class LeakyReLUCache(NamedTuple):
    """The input of ``leaky_relu_forward`` and its slope for x <= 0."""

    x: FloatArray
    negative_slope: float


def leaky_relu_forward(x: ArrayLike, negative_slope: float = 0.01) -> tuple[FloatArray, LeakyReLUCache]:
    """Leaky ReLU: ``out = x`` where x > 0, ``negative_slope * x`` elsewhere.

    Parameters
    ----------
    x : ndarray, any shape
    negative_slope : float, default 0.01

    Returns
    -------
    out : ndarray, same shape and dtype as x
    cache : LeakyReLUCache

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> C.leaky_relu_forward(np.array([-2.0, 3.0]), negative_slope=0.1)[0]
    array([-0.2,  3. ])
    """
    x = check_float_array(x, "x")
    slope = check_real(negative_slope, "negative_slope")
    out = np.where(x > 0, x, x * slope)  # x * slope keeps x's dtype (a Python float is "weak")
    return out, LeakyReLUCache(x, slope)


def leaky_relu_backward(dout: ArrayLike, cache: LeakyReLUCache) -> FloatArray:
    """Leaky ReLU backward: ``dx = dout`` where x > 0, ``negative_slope * dout`` elsewhere.

    At the kink x = 0 the slope is ``negative_slope`` (PyTorch's choice too).

    Parameters
    ----------
    dout : ndarray, shape of x
    cache : LeakyReLUCache
        From ``leaky_relu_forward``.

    Returns
    -------
    dx : ndarray, shape and dtype of x
    """
    x, slope = check_cache(cache, LeakyReLUCache, "leaky_relu_backward", "leaky_relu_forward")
    dout = check_dout(dout, x.shape, x.dtype)
    return np.where(x > 0, dout, dout * slope)


def sigmoid_forward(x: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Logistic sigmoid ``out = 1 / (1 + exp(-x))``, computed without overflow.

    ``exp(-x)`` overflows for x = -1000. With ``z = exp(-|x|)``, which lies in
    (0, 1], the two algebraically equal forms ``1 / (1 + z)`` (for x >= 0) and
    ``z / (1 + z)`` (for x < 0) never overflow and give 1.0 and 0.0 at the
    extremes.

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    out : ndarray, same shape and dtype as x
    cache : ndarray
        The output ``out`` (the backward pass needs only that).

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> C.sigmoid_forward(np.array([-1000.0, 0.0, 1000.0]))[0]
    array([0. , 0.5, 1. ])
    """
    x = check_float_array(x, "x")
    z = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1 / (1 + z), z / (1 + z))
    return out, out


def sigmoid_backward(dout: ArrayLike, cache: FloatArray) -> FloatArray:
    """Sigmoid backward: ``dx = dout * s * (1 - s)`` with ``s = sigmoid(x)``.

    Parameters
    ----------
    dout : ndarray, shape of x
    cache : ndarray
        The forward output ``s``.

    Returns
    -------
    dx : ndarray, shape and dtype of x
    """
    s = check_cache(cache, np.ndarray, "sigmoid_backward", "sigmoid_forward")
    dout = check_dout(dout, s.shape, s.dtype)
    return dout * s * (1 - s)


def tanh_forward(x: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Hyperbolic tangent ``out = tanh(x)``.

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    out : ndarray, same shape and dtype as x
    cache : ndarray
        The output (the backward pass needs only that).
    """
    x = check_float_array(x, "x")
    out = np.tanh(x)
    return out, out


def tanh_backward(dout: ArrayLike, cache: FloatArray) -> FloatArray:
    """Tanh backward: ``dx = dout * (1 - tanh(x)**2)``.

    Parameters
    ----------
    dout : ndarray, shape of x
    cache : ndarray
        The forward output ``tanh(x)``.

    Returns
    -------
    dx : ndarray, shape and dtype of x
    """
    t = check_cache(cache, np.ndarray, "tanh_backward", "tanh_forward")
    dout = check_dout(dout, t.shape, t.dtype)
    return dout * (1 - t * t)


# ---------------------------------------------------------------- the activations of today's networks

def relu6_forward(x: ArrayLike) -> tuple[NDArray[np.floating], NDArray[np.floating]]:
    """ReLU6 (MobileNetV2): ``out = min(max(x, 0), 6)``.

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    out : ndarray, same shape and dtype as x
    cache : ndarray
        The input x.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> C.relu6_forward(np.array([-1.0, 3.0, 9.0]))[0]
    array([0., 3., 6.])
    """
    x = check_float_array(x, "x")
    return np.minimum(np.maximum(x, 0), 6), x   # both propagate NaN


def relu6_backward(dout: ArrayLike, cache: NDArray[np.floating]) -> NDArray[np.floating]:
    """ReLU6 backward: ``dx = dout`` where 0 < x < 6, else 0 (0 at both kinks, as in PyTorch).

    Parameters
    ----------
    dout : ndarray, shape of x
    cache : ndarray
        From ``relu6_forward``.

    Returns
    -------
    dx : ndarray, shape and dtype of x
    """
    x = check_cache(cache, np.ndarray, "relu6_backward", "relu6_forward")
    dout = check_dout(dout, x.shape, x.dtype)
    return np.where((x <= 0) | (x >= 6), 0, dout).astype(x.dtype, copy=False)


_ERF = np.frompyfunc(math.erf, 1, 1)


def erf(x: NDArray[np.floating]) -> NDArray[np.floating]:
    """The error function ``erf(x) = 2 / sqrt(pi) * integral from 0 to x of exp(-t**2) dt``, element by element.

    NumPy has no erf: this applies Python's ``math.erf`` (the C library's, accurate to the last bit
    of a float64) to every element, and returns x's dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from conv1x1.functional.activations import erf
    >>> erf(np.array([0.0, 1.0, -np.inf]))
    array([ 0.        ,  0.84270079, -1.        ])
    """
    return np.asarray(_ERF(x)).astype(x.dtype) if x.size else np.zeros_like(x)


class GELUCache(NamedTuple):
    """The input of ``gelu_forward`` and the standard normal CDF at it, ``Phi(x)``."""

    x: np.ndarray
    cdf: np.ndarray


def gelu_forward(x: ArrayLike) -> tuple[NDArray[np.floating], GELUCache]:
    """GELU, the exact form (PyTorch's default, ConvNeXt's MLP): ``out = x * Phi(x)``.

    ``Phi(x) = (1 + erf(x / sqrt(2))) / 2`` is the standard normal CDF: each value is kept
    in proportion to how likely a standard normal variable is to lie below it (Hendrycks
    and Gimpel 2016, "Gaussian Error Linear Units (GELUs)", arXiv:1606.08415).

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    out : ndarray, same shape and dtype as x
    cache : GELUCache

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> C.gelu_forward(np.array([-3.0, 0.0, 1.0]))[0]
    array([-0.00404969,  0.        ,  0.84134475])
    """
    x = check_float_array(x, "x")
    cdf = 0.5 * (1 + erf(x * np.sqrt(0.5).astype(x.dtype)))
    return x * cdf, GELUCache(x, cdf)


def gelu_backward(dout: ArrayLike, cache: GELUCache) -> NDArray[np.floating]:
    """GELU backward: ``dx = dout * (Phi(x) + x * phi(x))``, with ``phi(x) = exp(-x**2 / 2) / sqrt(2 pi)``.

    The product rule on ``x * Phi(x)``: Phi's derivative is the normal density phi.

    Parameters
    ----------
    dout : ndarray, shape of x
    cache : GELUCache
        From ``gelu_forward``.

    Returns
    -------
    dx : ndarray, shape and dtype of x
    """
    x, cdf = check_cache(cache, GELUCache, "gelu_backward", "gelu_forward")
    dout = check_dout(dout, x.shape, x.dtype)
    pdf = np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi).astype(x.dtype)
    return dout * (cdf + x * pdf)


class SiLUCache(NamedTuple):
    """The input of ``silu_forward`` and its sigmoid."""

    x: np.ndarray
    s: np.ndarray


def silu_forward(x: ArrayLike) -> tuple[NDArray[np.floating], SiLUCache]:
    """SiLU, or swish (EfficientNet): ``out = x * sigmoid(x)``.

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    out : ndarray, same shape and dtype as x
    cache : SiLUCache

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> C.silu_forward(np.array([-1000.0, 0.0, 2.0]))[0]
    array([-0.        ,  0.        ,  1.76159416])
    """
    x = check_float_array(x, "x")
    s, _ = sigmoid_forward(x)
    return x * s, SiLUCache(x, s)


def silu_backward(dout: ArrayLike, cache: SiLUCache) -> NDArray[np.floating]:
    """SiLU backward: ``dx = dout * s * (1 + x * (1 - s))`` with ``s = sigmoid(x)`` (the product rule).

    Parameters
    ----------
    dout : ndarray, shape of x
    cache : SiLUCache
        From ``silu_forward``.

    Returns
    -------
    dx : ndarray, shape and dtype of x
    """
    x, s = check_cache(cache, SiLUCache, "silu_backward", "silu_forward")
    dout = check_dout(dout, x.shape, x.dtype)
    return dout * s * (1 + x * (1 - s))
