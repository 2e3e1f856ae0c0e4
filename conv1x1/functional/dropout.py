"""Dropout and stochastic depth: random zeros in training, the identity at evaluation.

- **Dropout** (Srivastava et al. 2014, "Dropout: A Simple Way to Prevent Neural Networks from
  Overfitting"; Network in Network uses it too) zeroes each element with probability p.
- **Stochastic depth** (Huang et al. 2016, "Deep Networks with Stochastic Depth", arXiv:1603.09382;
  ``DropPath``) zeroes a residual branch's whole output for each image with probability p, so the
  image skips the block: EfficientNet and ConvNeXt train with it.

Both divide what they keep by ``1 - p`` (PyTorch's "inverted" dropout), so the expected output
equals the input and evaluation needs no rescaling: there, both are the identity. The random
draws come from a ``numpy.random.Generator`` the caller passes, so a run can be repeated.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_cache, check_dout, check_float_array, check_real, check_rng

__all__ = ["dropout_forward", "dropout_backward", "drop_path_forward", "drop_path_backward"]


def check_drop_probability(p: float) -> float:
    """Return ``p`` as a float if it is a probability in [0, 1]."""
    p = check_real(p, "p", minimum=0.0)
    if p > 1:
        raise ValueError(f"p must be a probability between 0 and 1 (the chance of dropping), got {p}")
    return p


def _keep_mask(shape: tuple[int, ...], p: float, rng: np.random.Generator, dtype: np.dtype) -> NDArray[np.floating]:
    """Ones kept with probability 1 - p, scaled by 1 / (1 - p); zeros elsewhere (all zeros when p = 1)."""
    keep = rng.random(shape) >= p
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    return (keep * scale).astype(dtype)


def dropout_forward(x: ArrayLike, p: float = 0.5, rng: np.random.Generator | int | None = None
                    ) -> tuple[NDArray[np.floating], NDArray[np.floating]]:
    """Dropout in training: ``out = x * mask``, each element of mask 0 with probability p, else ``1 / (1 - p)``.

    Parameters
    ----------
    x : ndarray, any shape
    p : float in [0, 1], default 0.5
        The probability of dropping an element.
    rng : numpy.random.Generator, int or None
        Where the mask is drawn from.

    Returns
    -------
    out : ndarray, shape and dtype of x
    cache : ndarray
        The mask (0 or ``1 / (1 - p)``), shape of x.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> out, mask = C.dropout_forward(np.ones(8), p=0.5, rng=0)
    >>> sorted(set(out.tolist()))               # dropped, or kept and doubled
    [0.0, 2.0]
    """
    x = check_float_array(x, "x")
    mask = _keep_mask(x.shape, check_drop_probability(p), check_rng(rng), x.dtype)
    return x * mask, mask


def dropout_backward(dout: ArrayLike, cache: NDArray[np.floating]) -> NDArray[np.floating]:
    """Dropout backward: ``dx = dout * mask``, the same elements dropped and scaled.

    Parameters
    ----------
    dout : ndarray, shape of x
    cache : ndarray
        The mask from ``dropout_forward``.

    Returns
    -------
    dx : ndarray, shape and dtype of x
    """
    mask = check_cache(cache, np.ndarray, "dropout_backward", "dropout_forward")
    return check_dout(dout, mask.shape, mask.dtype) * mask


def drop_path_forward(x: ArrayLike, p: float, rng: np.random.Generator | int | None = None
                      ) -> tuple[NDArray[np.floating], NDArray[np.floating]]:
    """Stochastic depth in training: each image's whole x is zeroed with probability p, else scaled by 1 / (1 - p).

    Put at the end of a residual branch, ``x + drop_path(branch(x))`` lets a dropped image
    skip the block; torchvision's ``StochasticDepth(p, "row")``.

    Parameters
    ----------
    x : ndarray, shape (N, ...)
    p : float in [0, 1]
    rng : numpy.random.Generator, int or None

    Returns
    -------
    out : ndarray, shape and dtype of x
    cache : ndarray, shape (N, 1, ..., 1)
        One mask value per image (0 or ``1 / (1 - p)``).

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> out, mask = C.drop_path_forward(np.ones((6, 2, 3, 3)), p=0.5, rng=1)
    >>> mask.ravel().tolist() == out[:, 0, 0, 0].tolist()    # whole images kept (x 2) or dropped
    True
    """
    x = check_float_array(x, "x")
    if x.ndim < 1:
        raise ValueError("x must have a batch axis, got a 0-D array")
    shape = (x.shape[0],) + (1,) * (x.ndim - 1)
    mask = _keep_mask(shape, check_drop_probability(p), check_rng(rng), x.dtype)
    return x * mask, mask


def drop_path_backward(dout: ArrayLike, cache: NDArray[np.floating]) -> NDArray[np.floating]:
    """Stochastic depth backward: ``dx = dout * mask``, each image's mask value broadcast over its elements.

    Parameters
    ----------
    dout : ndarray, shape of x
    cache : ndarray, shape (N, 1, ..., 1)
        From ``drop_path_forward``.

    Returns
    -------
    dx : ndarray, shape and dtype of x
    """
    mask = check_cache(cache, np.ndarray, "drop_path_backward", "drop_path_forward")
    dout = check_float_array(dout, "dout")
    if dout.ndim != mask.ndim or dout.shape[:1] != mask.shape[:1]:
        raise ValueError(f"dout must have the shape of the forward output, ({mask.shape[0]}, ...) with "
                         f"{mask.ndim} axes, got {dout.shape}")
    return dout.astype(mask.dtype, copy=False) * mask
