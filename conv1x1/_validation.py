"""One place for input checks, so every error in the library reads alike.

Each helper raises ``TypeError`` for the wrong kind of object and ``ValueError``
for the wrong shape or value, and every message names the argument, what was
expected and what was received.
"""

from __future__ import annotations

import numbers

import numpy as np


def as_float_array(value, name: str) -> np.ndarray:
    """Return ``value`` as a floating-point ndarray, or raise a clear TypeError.

    Python lists and tuples are accepted through ``np.asarray``; integer,
    boolean, complex and object arrays are refused, because the gradients of a
    convolution only make sense in floating point. The array is never copied
    here, so callers must not write into it.
    """
    if not isinstance(value, np.ndarray):
        try:
            value = np.asarray(value)
        except (ValueError, TypeError) as error:  # ragged lists and the like
            raise TypeError(
                f"{name} must be a floating-point array; could not convert "
                f"{type(value).__name__} to an array ({error})"
            ) from None
    if value.dtype.kind != "f":  # float16/32/64/longdouble; a cheaper test than np.issubdtype
        raise TypeError(
            f"{name} must be a floating-point array (float32 or float64), got dtype "
            f"{value.dtype}. Convert it first, e.g. {name}.astype(np.float64)."
        )
    return value


def check_ndim(array: np.ndarray, ndim: int, name: str, layout: str, hint: str = "") -> None:
    """Raise ValueError unless ``array`` has ``ndim`` axes (``layout`` names them)."""
    if array.ndim != ndim:
        message = f"{name} must be {ndim}-D {layout}, got shape {array.shape}."
        raise ValueError(f"{message} {hint}".rstrip())


def _whole_number(value, name: str, minimum: int, kind: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a {kind} integer, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be a {kind} integer (>= {minimum}), got {value}")
    return int(value)


def positive_int(value, name: str) -> int:
    """Return ``value`` as an int if it is a whole number >= 1, else raise."""
    return _whole_number(value, name, 1, "positive")


def non_negative_int(value, name: str) -> int:
    """Return ``value`` as an int if it is a whole number >= 0, else raise."""
    return _whole_number(value, name, 0, "non-negative")


def check_image_batch(x: np.ndarray, layout: str = "(N, C_in, H, W)") -> None:
    """Raise ValueError unless x is a 4-D batch of images; suggest ``x[None]`` for a single image."""
    check_ndim(x, 4, "x", layout, "Add a batch axis: x[None]." if x.ndim == 3 else "")


def common_float_arrays(x: np.ndarray, w: np.ndarray, b, out_channels: int):
    """Check the bias against ``out_channels``; return x, w, b in one floating dtype.

    NumPy's promotion picks the dtype: float32 with float32 stays float32.
    """
    dtype = np.result_type(x, w)
    if b is not None:
        b = as_float_array(b, "b")
        if b.shape != (out_channels,):
            raise ValueError(f"b must have shape ({out_channels},), one bias per output channel, got {b.shape}")
        dtype = np.result_type(dtype, b)
        b = b.astype(dtype, copy=False)
    return x.astype(dtype, copy=False), w.astype(dtype, copy=False), b


def check_dout(dout, expected_shape: tuple, dtype) -> np.ndarray:
    """Validate an upstream gradient against the forward output it belongs to."""
    dout = as_float_array(dout, "dout")
    if dout.shape != tuple(expected_shape):
        raise ValueError(
            f"dout must have the shape of the forward output {tuple(expected_shape)}, got {dout.shape}"
        )
    if dout.dtype != dtype:
        dout = dout.astype(dtype)
    return dout


def check_rng(rng) -> np.random.Generator:
    """Return a Generator: ``None`` gives a fresh one, an int seeds one."""
    if rng is None or isinstance(rng, (numbers.Integral, np.random.SeedSequence)):
        return np.random.default_rng(rng)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), an int seed "
            f"or None, got {type(rng).__name__}"
        )
    return rng
