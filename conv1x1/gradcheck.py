"""Numerical gradient checks: the judge of every backward pass.

The idea: for a scalar loss ``L = sum(f(x) * dout)`` the analytic gradient
``dL/dx`` is what ``backward(dout)`` returns, and each entry can also be
estimated by nudging that entry of x both ways (central differences)::

    dL/dx[i] ~= (L(x + eps e_i) - L(x - eps e_i)) / (2 eps)

whose error shrinks like eps**2. In float64 with eps = 1e-6 a correct backward
pass agrees to a relative error of about 1e-8 or better; 1e-7 is the bound our
tests use. Always use float64 here (float32 cannot resolve differences of 1e-6)
and a random ``dout``, never all ones, which can hide transposed gradients.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._checks import FloatArray, check_callable, check_float64, check_float_array, check_real

__all__ = ["numerical_gradient", "rel_error", "check_layer"]


class Checkable(Protocol):
    """What ``check_layer`` needs of a layer: the Layer contract's forward, backward, params and grads."""

    @property
    def params(self) -> Mapping[str, FloatArray]: ...

    @property
    def grads(self) -> Mapping[str, FloatArray]: ...

    def forward(self, x: ArrayLike) -> FloatArray: ...

    def backward(self, dout: ArrayLike) -> FloatArray: ...


def numerical_gradient(f: Callable[[NDArray[np.float64]], ArrayLike], x: NDArray[np.float64], dout: ArrayLike,
                       eps: float = 1e-6) -> NDArray[np.float64]:
    """Central-difference gradient of ``sum(f(x) * dout)`` with respect to x.

    Parameters
    ----------
    f : callable
        Takes x and returns an array of the shape of ``dout``.
    x : ndarray, float64
        The point to differentiate at. Each entry is nudged in place and
        restored afterwards (even if ``f`` raises), so x is unchanged on return.
        float32 and float16 are refused: they cannot resolve a nudge of 1e-6.
    dout : ndarray
        The upstream gradient, exactly the shape of ``f(x)`` (never broadcast).
    eps : float, default 1e-6
        The nudge.

    Returns
    -------
    grad : ndarray, shape of x

    Examples
    --------
    >>> import numpy as np
    >>> from conv1x1.gradcheck import numerical_gradient
    >>> x = np.array([1.0, 2.0])
    >>> np.round(numerical_gradient(lambda v: v ** 2, x, np.ones(2)), 6)  # d(x^2)/dx = 2x
    array([2., 4.])
    """
    check_callable(f, "f", "lambda v: C.conv1x1(v, w)")
    x = check_float64(x, "x", "numerical_gradient nudges x in place")
    x = check_writeable(x, "x", "numerical_gradient nudges it in place and restores it")
    eps = check_step(eps, "eps", "1e-6")
    dout = check_float_array(dout, "dout")
    dout = check_loss_weights(dout, np.shape(f(x)))
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        try:
            x[index] = original + eps
            out_plus = np.array(f(x), dtype=np.float64)  # a copy, in case f reuses a buffer
            x[index] = original - eps
            out_minus = np.array(f(x), dtype=np.float64)
        finally:
            x[index] = original
        # Difference the outputs before weighting them: subtracting two whole
        # losses of size ~1 would lose more digits to cancellation.
        grad[index] = np.sum((out_plus - out_minus) * dout) / (2 * eps)
    return grad


def rel_error(a: ArrayLike, b: ArrayLike, floor: float = 1e-8) -> float:
    """Largest relative error ``|a - b| / max(floor, |a| + |b|)`` over all entries.

    The floor keeps entries where both gradients are zero (a dead ReLU, say)
    from giving 0 / 0. A NaN or infinity in either gives ``inf``, so a check
    ``rel_error(a, b) < bound`` can never pass on NaN.

    Examples
    --------
    >>> from conv1x1.gradcheck import rel_error
    >>> float(rel_error(1.0, 1.0 + 2e-9)) < 1e-8
    True
    >>> rel_error([1.0, float("nan")], [1.0, 2.0])
    inf
    """
    a = check_real_array(a, "a")
    b = check_real_array(b, "b")
    if a.shape != b.shape:   # compared entry by entry: broadcasting would hide a transposed gradient
        hint = " (one is the other transposed?)" if a.shape == b.shape[::-1] else ""
        raise ValueError(f"rel_error(a, b) compares two arrays entry by entry, so a and b must have the same "
                         f"shape; got a of shape {a.shape} and b of shape {b.shape}{hint}")
    if a.size == 0:
        return 0.0
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return float("inf")
    return float(np.max(np.abs(a - b) / np.maximum(floor, np.abs(a) + np.abs(b))))


def check_layer(layer: Checkable, x: ArrayLike, seed: int = 0, eps: float = 1e-5) -> dict[str, float]:
    """Compare a layer's backward pass with numerical gradients.

    Parameters
    ----------
    layer : Layer
        Any layer of this library (or anything with ``forward``, ``backward``,
        ``params`` and ``grads``). Its parameters must be float64 (build it with
        ``dtype=np.float64``, the default): float32 cannot resolve the nudges.
    x : ndarray
        An input for the layer; a float64 copy is used, so it is not modified.
    seed : int, default 0
        Seeds the random upstream gradient ``dout``.
    eps : float, default 1e-5
        Larger than ``numerical_gradient``'s default on purpose: a deep layer
        sums many terms, and its rounding error, divided by 2 * eps, dominates
        the estimate for small eps; the truncation error, about eps**2 for smooth
        activations and zero for piecewise-linear ones, stays far below 1e-7.

    Returns
    -------
    dict
        The max relative error of the input gradient under ``"x"`` and of each
        parameter's gradient under its name (``"w"``, ``"b"``, ``"0.w"`` ...).
        Below 1e-7 means the backward pass is right; NaN anywhere gives ``inf``.
        Check them all: ``all(e < 1e-7 for e in errors.values())``.

    Notes
    -----
    Check at a generic point: ReLU and max pooling have kinks, where no
    derivative exists. Zero biases after a dead ReLU put the next ReLU exactly
    on its kink, so give biases random values before checking a deep network.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> rng = np.random.default_rng(0)
    >>> errors = C.gradcheck.check_layer(C.Conv1x1(3, 2, rng=rng), rng.standard_normal((2, 3, 4, 5)))
    >>> sorted(errors), all(e < 1e-7 for e in errors.values())
    (['b', 'w', 'x'], True)
    """
    params = {name: check_float64(param, f"the layer's parameter {name!r}", "check_layer nudges it by eps",
                                  "Build the layer with dtype=np.float64 (the default).")
              for name, param in layer.params.items()}
    x = np.array(check_float_array(x, "x"), dtype=np.float64)  # our own copy: the caller's x is never touched
    out = layer.forward(x)
    dout = np.random.default_rng(seed).standard_normal(np.shape(out))
    dx = layer.backward(dout)
    analytic = {"x": dx, **{name: grad.copy() for name, grad in layer.grads.items()}}

    numeric = {"x": numerical_gradient(layer.forward, x, dout, eps)}
    for name, param in params.items():
        numeric[name] = numerical_gradient(lambda _: layer.forward(x), param, dout, eps)
    return {name: rel_error(analytic[name], numeric[name]) for name in analytic}


# ---------------------------------------------------------------- checks that belong here

def check_real_array(value: ArrayLike, name: str) -> NDArray[np.float64]:
    """Return ``value`` as a float64 array if it holds real numbers (int, float or bool), else a TypeError."""
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:
        raise TypeError(f"{name} must be an array of real numbers, could not convert {type(value).__name__} "
                        f"({error})") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be an array of real numbers, got dtype {array.dtype}")
    return array.astype(np.float64)



def check_writeable(array: NDArray[np.float64], name: str, why: str) -> NDArray[np.float64]:
    """Return ``array`` if it can be written into (``why`` says who writes), else a ValueError."""
    if not array.flags.writeable:
        raise ValueError(f"{name} must be a writeable array ({why}); pass a copy: np.array({name})")
    return array



def check_step(value: object, name: str, example: str) -> float:
    """Return ``value`` as a float if it is a finite step > 0, such as a finite-difference nudge (``example``)."""
    value = check_real(value, name)
    if value <= 0:
        raise ValueError(f"{name} must be a positive step such as {example}, got {value}")
    return value



def check_loss_weights(dout: FloatArray, out_shape: tuple[int, ...]) -> FloatArray:
    """Return ``dout`` if it has exactly the shape of f(x): the weights of the loss ``sum(f(x) * dout)``."""
    if dout.shape != out_shape:
        raise ValueError(f"dout must have the shape of f(x), {out_shape}, got {dout.shape}: it weights each "
                         "output in the loss sum(f(x) * dout), so it must not be broadcast")
    return dout
