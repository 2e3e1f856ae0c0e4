"""The fully connected (Linear) layer and Flatten: the 1x1 convolution's other name.

A Linear layer maps each row of an (N, F) batch by one matrix::

    out[n, o] = sum_f w[o, f] * x[n, f] + b[o]          out = x @ w.T + b

A 1x1 convolution is this map at every pixel: ``conv1x1_forward(x, w, b)`` equals
``linear_forward(x.transpose(0, 2, 3, 1).reshape(-1, C), w, b)`` reshaped back (the
channels-last Linear of ConvNeXt's MLP). On a 1x1 map, after global pooling, it *is*
the classifier: ``flatten_forward`` turns (N, C, 1, 1) into the (N, C) rows it takes.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_bias, check_cache, check_dout, check_float_array, check_ndim, common_dtype

__all__ = ["linear_forward", "linear_backward", "LinearCache", "flatten_forward", "flatten_backward"]


class LinearCache(NamedTuple):
    """What ``linear_backward`` needs: the input rows, the weights, and whether a bias was added."""

    x: np.ndarray
    w: np.ndarray
    has_bias: bool


def linear_forward(x: ArrayLike, w: ArrayLike, b: ArrayLike | None = None
                   ) -> tuple[NDArray[np.floating], LinearCache]:
    """Forward pass of a fully connected layer: ``out = x @ w.T + b``.

    Parameters
    ----------
    x : ndarray, shape (N, F)
        One row of F features per example (``flatten_forward`` makes them from images).
    w : ndarray, shape (O, F)
        One row of weights per output, PyTorch's ``nn.Linear.weight`` layout.
    b : ndarray, shape (O,), optional

    Returns
    -------
    out : ndarray, shape (N, O)
    cache : LinearCache

    Raises
    ------
    TypeError
        If an argument is not a floating-point array.
    ValueError
        If x is not 2-D, or w does not take x's F features.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> out, _ = C.linear_forward(np.ones((2, 3)), np.full((4, 3), 0.5), np.zeros(4))
    >>> out
    array([[1.5, 1.5, 1.5, 1.5],
           [1.5, 1.5, 1.5, 1.5]])
    """
    x = check_float_array(x, "x")
    hint = "Flatten images first: C.flatten_forward(x)[0]." if x.ndim == 4 else ""
    check_ndim(x, 2, "x", "(N, F)", hint)
    w = check_ndim(check_float_array(w, "w"), 2, "w", "(O, F)")
    if w.shape[1] != x.shape[1]:
        raise ValueError(f"w expects {w.shape[1]} features per row but x has {x.shape[1]} (w has shape {w.shape}, "
                         f"x has shape {x.shape})")
    b = check_bias(b, w.shape[0])
    x, w, b = common_dtype(x, w, b)
    out = x @ w.T
    if b is not None:
        out += b
    return out, LinearCache(x, w, b is not None)


def linear_backward(dout: ArrayLike, cache: LinearCache
                    ) -> tuple[NDArray[np.floating], NDArray[np.floating], NDArray[np.floating] | None]:
    """Backward pass of a fully connected layer.

    ::

        dx = dout @ w          (N, O) @ (O, F)
        dw = dout.T @ x        (O, N) @ (N, F): summed over the batch
        db = dout.sum(0)

    Parameters
    ----------
    dout : ndarray, shape (N, O)
    cache : LinearCache

    Returns
    -------
    dx : ndarray, shape (N, F)
    dw : ndarray, shape (O, F)
    db : ndarray, shape (O,), or None without a bias
    """
    x, w, has_bias = check_cache(cache, LinearCache, "linear_backward", "linear_forward")
    dout = check_dout(dout, (x.shape[0], w.shape[0]), x.dtype)
    return dout @ w, dout.T @ x, dout.sum(axis=0) if has_bias else None


def flatten_forward(x: ArrayLike) -> tuple[NDArray[np.floating], tuple[int, ...]]:
    """Flatten every axis after the first: (N, C, H, W) -> (N, C*H*W), PyTorch's ``nn.Flatten()``.

    Parameters
    ----------
    x : ndarray, shape (N, ...)
        At least 2-D.

    Returns
    -------
    out : ndarray, shape (N, product of the other axes)
        A view of x when x is contiguous.
    cache : tuple of int
        x's shape, to restore in backward.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> C.flatten_forward(np.zeros((2, 512, 1, 1)))[0].shape
    (2, 512)
    """
    x = check_float_array(x, "x")
    if x.ndim < 2:
        raise ValueError(f"x must have a batch axis and at least one more, got shape {x.shape}")
    return x.reshape(x.shape[0], -1), x.shape


def flatten_backward(dout: ArrayLike, cache: tuple[int, ...]) -> NDArray[np.floating]:
    """Flatten backward: dout (N, F) reshaped to the input's shape (N, C, H, W).

    Parameters
    ----------
    dout : ndarray, shape (N, F)
    cache : tuple of int
        From ``flatten_forward``.

    Returns
    -------
    dx : ndarray, the input's shape
    """
    shape = check_cache(cache, tuple, "flatten_backward", "flatten_forward")
    dout = check_float_array(dout, "dout")
    expected = (shape[0], int(np.prod(shape[1:])))
    if dout.shape != expected:
        raise ValueError(f"dout must have the shape of the forward output {expected}, got {dout.shape}")
    return dout.reshape(shape)
