"""The input checks that several modules share, in one place, so every error reads alike.

A rule that belongs to one thing lives beside it instead (SGD's pairs in
``optim``, labels in ``losses``, ShuffleNet's widths in ``models.blocks``,
batch norm's statistics in ``functional.normalization``, ...), built on these.

Each ``check_*`` helper returns the checked value (converted where that is its
job: an array, an int, a bool) and raises ``TypeError`` for the wrong kind of
object or ``ValueError`` for the wrong shape or value. Every message names the
argument, what was expected and what was received, and where it can, how to
fix it.

The sliding-window geometry (output sizes of convolutions and pooling) lives
here too: it is where kernel sizes, strides and paddings are checked, and both
the layers and the cost counter use it, so the shape the counter predicts is
the shape the layer returns.
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Sequence
from typing import Any, NamedTuple, TypeVar

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

FLOAT_DTYPES = "float16, float32 or float64"

FloatArray = NDArray[np.floating[Any]]
"""A floating-point ndarray (float16, float32 or float64): what every function here computes with."""

T = TypeVar("T")


# ---------------------------------------------------------------- arrays

def check_float_array(value: ArrayLike, name: str) -> FloatArray:
    """Return ``value`` as a floating-point ndarray (float16, float32 or float64).

    Lists and tuples go through ``np.asarray``. Integer, boolean, complex and
    object arrays are refused: gradients only make sense in floating point.
    Masked arrays are refused too, because every computation here would drop
    the mask silently. The array is not copied, so callers must not write into it.
    """
    masked = sys.modules.get("numpy.ma")   # not np.ma: that would import numpy.ma (1 MB) on the first call
    if masked is not None and isinstance(value, masked.MaskedArray):
        raise TypeError(f"{name} is a masked array; its mask would be silently ignored. "
                        f"Fill the masked entries first, e.g. {name}.filled(0.0), or pass {name}.data")
    if not isinstance(value, np.ndarray):
        try:
            value = np.asarray(value)
        except (ValueError, TypeError) as error:  # ragged lists and the like
            raise TypeError(f"{name} must be a floating-point array ({FLOAT_DTYPES}); could not convert "
                            f"{type(value).__name__} to an array ({error})") from None
    if value.dtype.kind != "f" or value.dtype.itemsize > 8:    # float128 too: BLAS has no such type
        raise TypeError(f"{name} must be a floating-point array ({FLOAT_DTYPES}), got dtype {value.dtype}. "
                        f"Convert it first, e.g. {name}.astype(np.float64).")
    return value


def check_callable(value: T, name: str, example: str) -> T:
    """Return ``value`` if it can be called, else a TypeError showing an ``example``."""
    if not callable(value):
        raise TypeError(f"{name} must be a callable, e.g. {example}, got {value!r} ({type(value).__name__})")
    return value


def check_float64(array: object, name: str, why: str, fix: str = "Use .astype(np.float64).") -> NDArray[np.float64]:
    """Return ``array`` if it is a float64 ndarray, else a TypeError saying ``why`` it must be one.

    The gradient checks need it: central differences with eps ~1e-6 need
    float64's 16 digits (float32 has 7). Nothing is converted.
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{name} must be a float64 ndarray ({why}), got {type(array).__name__}")
    if array.dtype != np.float64:
        raise TypeError(f"{name} must be float64, got dtype {array.dtype}: {why}, and central differences "
                        f"with eps ~1e-6 need float64's 16 digits (float32 has 7). {fix}")
    return array


def check_ndim(array: FloatArray, ndim: int, name: str, layout: str, hint: str = "") -> FloatArray:
    """Return ``array`` if it has ``ndim`` axes (``layout`` names them), else raise ValueError."""
    if array.ndim != ndim:
        message = f"{name} must be {ndim}-D {layout}, got shape {array.shape}."
        raise ValueError(f"{message} {hint}".rstrip())
    return array


def check_image_batch(x: ArrayLike, channels: int | None = None, layout: str = "(N, C_in, H, W)",
                      owner: str = "") -> FloatArray:
    """Return x as a float array of shape (N, C, H, W), with C == ``channels`` when given.

    The hints cover the two commonest mistakes: a single image without its batch
    axis, and channels-last data (N, H, W, C), as images are often stored.
    """
    x = check_float_array(x, "x")
    if x.ndim == 3:
        if channels is not None and x.shape[2] == channels and x.shape[0] != channels:
            hint = (f"It looks like one channels-last (H, W, C) image: use x.transpose(2, 0, 1)[None] "
                    f"to get (1, {channels}, {x.shape[0]}, {x.shape[1]}).")
        else:
            hint = "Add a batch axis: x[None]."
        check_ndim(x, 4, "x", layout, hint)
    check_ndim(x, 4, "x", layout)
    if channels is not None and x.shape[1] != channels:
        hint = ""
        if x.shape[3] == channels:
            hint = " It looks channels-last (N, H, W, C): use x.transpose(0, 3, 1, 2)."
        who = f"{owner} expects" if owner else "expected"
        raise ValueError(f"{who} {channels} input channels but x has {x.shape[1]} channels on axis 1 "
                         f"(x has shape {x.shape}, layout {layout}).{hint}")
    return x


def check_weight(w: ArrayLike, ndim: int, in_channels: int, groups: int = 1) -> FloatArray:
    """Return w as a float array (C_out, C_in // groups[, KH, KW]) matching x's C_in.

    One check for the 1x1 (``ndim=2``) and the KH x KW (``ndim=4``) convolutions.
    """
    w = check_float_array(w, "w")
    per_group = in_channels // groups
    if ndim == 2 and w.ndim == 4:
        c_out, c_in, kh, kw = w.shape
        if (kh, kw) == (1, 1):
            raise ValueError(f"w must be 2-D (C_out, C_in), got shape {w.shape}, PyTorch's (C_out, C_in, 1, 1) "
                             f"layout. Use w.reshape({c_out}, {c_in}).")
        raise ValueError(f"w must be 2-D (C_out, C_in), got a {kh}x{kw} kernel of shape {w.shape}. "
                         "A kernel larger than 1x1 needs the direct convolution: conv1x1.conv2d_forward(x, w, b).")
    if ndim == 4 and w.ndim == 2:
        raise ValueError(f"w must be 4-D (C_out, C_in, KH, KW), got shape {w.shape}. For a 1x1 convolution use "
                         f"conv1x1.conv1x1_forward(x, w, b), or w.reshape({w.shape[0]}, {w.shape[1]}, 1, 1) here.")
    layout = "(C_out, C_in // groups)" if ndim == 2 else "(C_out, C_in // groups, KH, KW)"
    check_ndim(w, ndim, "w", layout if groups > 1 else layout.replace(" // groups", ""))
    if w.shape[0] == 0:
        raise ValueError(f"w must have at least one filter (C_out >= 1), got shape {w.shape}")
    if w.shape[0] % groups:
        raise ValueError(f"w's {w.shape[0]} filters (C_out) must split evenly into groups={groups}")
    if w.shape[1] != per_group:
        what = f"{in_channels} // groups={groups} = {per_group}" if groups > 1 else f"{in_channels}"
        raise ValueError(f"w expects {w.shape[1]} input channels per filter but x has {what} "
                         f"(w has shape {w.shape}, x has {in_channels} channels)")
    return w


def check_in_channels(owner: object, in_channels: int | None, expected: int) -> int | None:
    """Return ``in_channels`` if it is None (unknown) or ``expected``, else a ValueError naming ``owner``.

    For a cost query's input depth, where ``check_image_batch`` checks an array's.
    """
    if in_channels not in (None, expected):
        raise ValueError(f"{owner!r} expects {expected} input channels, got {in_channels}")
    return in_channels


def check_grad_shape(owner: object, name: str, grad: ArrayLike, expected: tuple[int, ...]) -> None:
    """Refuse a gradient whose shape is not its parameter's, naming ``owner`` (a layer) and the parameter."""
    shape = np.shape(grad)
    if shape != expected:
        hint = " (transposed?)" if shape == expected[::-1] else ""
        raise ValueError(f"{owner!r}.store_grads: the gradient {name!r} must have the shape of params[{name!r}], "
                         f"{expected}, got {shape}{hint}")


def check_branches(branches: T, owner: str) -> T:
    """Return ``branches`` if there is at least one (``owner`` names the container or function), else ValueError."""
    if not branches:
        raise ValueError(f"{owner} needs at least one branch, got none")
    return branches


def check_groups(groups: int, in_channels: int, out_channels: int | None = None, hint: str = "") -> int:
    """Return ``groups`` if it is a positive int that divides ``in_channels`` (and ``out_channels`` when given).

    ``hint`` ends the message (convolutions remind that depthwise is ``groups = C_in``).
    """
    groups = check_positive_int(groups, "groups")
    for name, channels in (("input channels, got C_in", in_channels), ("output channels, got C_out", out_channels)):
        if channels is not None and channels % groups:
            raise ValueError(f"groups={groups} must divide the {name}={channels} ({channels} % {groups} = "
                             f"{channels % groups}){hint}")
    return groups


DEPTHWISE_HINT = "; a depthwise convolution uses groups = C_in"


def check_bias(b: ArrayLike | None, out_channels: int) -> FloatArray | None:
    """Return ``b`` as a float array of shape (out_channels,): one bias per filter; None stays None."""
    if b is None:
        return None
    b = check_float_array(b, "b")
    if b.shape != (out_channels,):
        raise ValueError(f"b must have shape ({out_channels},), one bias per filter of w (C_out = "
                         f"{out_channels}), got {b.shape}")
    return b


def common_dtype(x: FloatArray, w: FloatArray, b: FloatArray | None,
                 ) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    """Return x, w and b (b may be None) in one floating dtype by NumPy's promotion (float32 with float32 stays)."""
    dtype = np.result_type(x, w) if b is None else np.result_type(x, w, b)
    return x.astype(dtype, copy=False), w.astype(dtype, copy=False), None if b is None else b.astype(dtype, copy=False)


def check_conv1x1_args(x: ArrayLike, w: ArrayLike, b: ArrayLike | None = None, groups: int = 1, stride: int = 1,
                       ) -> tuple[FloatArray, FloatArray, FloatArray | None, int, int]:
    """Validate a 1x1 convolution's arguments; return x, w, b (in one float dtype), groups and stride."""
    w = check_float_array(w, "w")
    # Without groups, a 2-D w gives x's depth, C_in = w.shape[1]: check x against it, so that a wrong x gets
    # check_image_batch's hints (channels-last data, a missing batch axis). With groups, check_weight checks C_in.
    in_channels = w.shape[1] if w.ndim == 2 and groups == 1 else None
    x = check_image_batch(x, in_channels, owner="w")
    groups = check_groups(groups, x.shape[1], hint=DEPTHWISE_HINT)
    stride = check_positive_int(stride, "stride")
    w = check_weight(w, 2, x.shape[1], groups)
    return (*common_dtype(x, w, check_bias(b, w.shape[0])), groups, stride)


def check_dout(dout: ArrayLike, expected_shape: Sequence[int], dtype: DTypeLike) -> FloatArray:
    """Validate an upstream gradient against the forward output it belongs to; cast it to ``dtype``."""
    dout = check_float_array(dout, "dout")
    if dout.shape != tuple(expected_shape):
        raise ValueError(f"dout must have the shape of the forward output {tuple(expected_shape)}, got {dout.shape} "
                         "(the gradient of the loss with respect to out: one number per output element)")
    return dout.astype(dtype, copy=False)


def check_cache(cache: object, cache_type: type[T], backward: str, forward: str) -> T:
    """Return ``cache`` if it is what ``forward`` returned, else a TypeError naming the order of calls.

    An activation's cache is an array (its input or output): it must be a float one, or dout would be
    cast to its integer dtype and the gradient silently truncated.
    """
    if not isinstance(cache, cache_type):
        raise TypeError(f"cache must be the {cache_type.__name__} returned by {forward}, got "
                        f"{type(cache).__name__}. Call `out, cache = {forward}(...)` first, then "
                        f"`{backward}(dout, cache)`.")
    if isinstance(cache, np.ndarray):
        check_float_array(cache, "cache")
    return cache


# ---------------------------------------------------------------- numbers and flags

def _whole_number(value: object, name: str, minimum: int, kind: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a {kind} integer, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be a {kind} integer (>= {minimum}), got {value}")
    return int(value)


def check_positive_int(value: object, name: str) -> int:
    """Return ``value`` as an int if it is a whole number >= 1 (not a bool, not a float)."""
    return _whole_number(value, name, 1, "positive")


def check_non_negative_int(value: object, name: str) -> int:
    """Return ``value`` as an int if it is a whole number >= 0 (not a bool, not a float)."""
    return _whole_number(value, name, 0, "non-negative")


def check_flag(value: object, name: str) -> bool:
    """Return ``value`` if it is True or False; refuse "no", None, 0 and the like."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")
    return bool(value)


def check_real(value: object, name: str, minimum: float | None = None, finite: bool = True) -> float:
    """Return ``value`` as a float if it is a real number (finite, and >= ``minimum`` when given)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if finite and not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_choice(value: T, name: str, choices: tuple[object, ...], described: str) -> T:
    """Return ``value`` if it is one of ``choices`` (``described`` lists them for the message), else ValueError."""
    if value not in choices:
        raise ValueError(f"{name} must be {described}, got {value!r}")
    return value


def check_float_dtype(dtype: DTypeLike, name: str = "dtype") -> np.dtype[Any]:
    """Return ``np.dtype(dtype)`` if it is a floating type (float16, float32 or float64)."""
    try:
        result = np.dtype(dtype)
    except TypeError:
        result = None
    if result is None or result.kind != "f":
        raise TypeError(f"{name} must be a floating-point type ({FLOAT_DTYPES}), e.g. np.float64, got {dtype!r}")
    return result


def check_rng(rng: object) -> np.random.Generator:
    """Return a Generator: ``None`` gives a fresh one, a non-negative int seeds one."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng)
    if not isinstance(rng, (bool, np.bool_)) and isinstance(rng, numbers.Integral):
        return np.random.default_rng(check_non_negative_int(rng, "rng"))
    raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), a non-negative int "
                    f"seed or None, got {rng!r} ({type(rng).__name__})")


# ---------------------------------------------------------------- training: labels, examples, optimisers


# ---------------------------------------------------------------- sliding windows

Pair = tuple[int, int]
"""A window setting along (height, width): ``(3, 3)``, or ``(1, 7)`` for Inception v3's 1x7 kernels."""


def check_pair(value: object, name: str, minimum: int = 1) -> Pair:
    """Return a kernel size, stride or padding as ``(along H, along W)``: an int n means ``(n, n)``.

    A pair (a tuple or list of two whole numbers) keeps its order, as in PyTorch:
    ``kernel_size=(5, 3)`` is 5 rows by 3 columns.
    """
    kind = "positive" if minimum == 1 else "non-negative"
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be a {kind} integer or a pair (along H, along W), got {value!r} "
                             f"({len(value)} values)")
        return _whole_number(value[0], f"{name}[0]", minimum, kind), _whole_number(value[1], f"{name}[1]", minimum,
                                                                                 kind)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a {kind} integer or a pair (along H, along W) of them, got {value!r} "
                        f"({type(value).__name__})")
    size = _whole_number(value, name, minimum, kind)
    return size, size


def as_pair(value: int | Pair) -> Pair:
    """``(n, n)`` for an int n, the pair itself otherwise: for settings already checked."""
    return (value, value) if isinstance(value, (int, np.integer)) else (int(value[0]), int(value[1]))


def compact(pair: Pair) -> int | Pair:
    """The int n for a square ``(n, n)``, the pair otherwise: how a layer shows its settings (``kernel_size=3``)."""
    return pair[0] if pair[0] == pair[1] else pair


def _show(pair: Pair) -> str:
    """A pair in a message as the user wrote it: ``3`` for (3, 3), ``(1, 7)`` otherwise."""
    return str(compact(pair))


def check_padding(padding: int | Pair | str, kernel_size: int | Pair, stride: int | Pair, name: str = "padding",
                  pool: bool = False) -> Pair:
    """Return the padding as ``(along H, along W)``; ``"same"`` means ``((KH - 1) // 2, (KW - 1) // 2)``.

    ``"same"`` keeps the input size: it needs stride 1 and an odd kernel along
    each axis (an even one cannot be centred on a pixel). Pooling (``pool=True``)
    takes at most ``K // 2`` per axis, as in PyTorch, so that every window holds
    a real element.
    """
    kernel, strides = as_pair(kernel_size), as_pair(stride)
    if isinstance(padding, str):
        if padding != "same":
            raise ValueError(f"{name} must be a non-negative integer or a pair of them (along H, along W), or "
                             f'"same", got {padding!r}')
        if kernel[0] % 2 == 0 or kernel[1] % 2 == 0:
            raise ValueError(f'{name}="same" needs an odd kernel size along each axis, got kernel_size='
                             f"{_show(kernel)}: an even kernel cannot be centred on a pixel")
        if strides != (1, 1):
            raise ValueError(f'{name}="same" needs stride=1, got stride={_show(strides)}: a stride shrinks the '
                             "output")
        return (kernel[0] - 1) // 2, (kernel[1] - 1) // 2
    pads = check_pair(padding, name, minimum=0)
    if pool and (pads[0] > kernel[0] // 2 or pads[1] > kernel[1] // 2):
        most = (kernel[0] // 2, kernel[1] // 2)
        raise ValueError(f"{name} must be at most {_show(most)} (kernel_size // 2) for kernel_size={_show(kernel)}, "
                         f"got {_show(pads)}: a wider padding would make windows of nothing but padding")
    return pads


def output_size(size: int, kernel_size: int, stride: int, padding: int, axis: str = "height",
                ceil_mode: bool = False) -> int:
    """``floor((size + 2 * padding - kernel_size) / stride) + 1`` along one axis (``ceil`` with ``ceil_mode``).

    With ``ceil_mode`` (PyTorch's rule for pooling) a last, partial window is kept
    only if it starts inside the input or its left padding, never in the right padding.
    """
    padded = size + 2 * padding
    if kernel_size > padded:
        raise ValueError(f"kernel_size {kernel_size} is larger than the padded input {axis} {padded} "
                         f"({axis} {size} + 2 * padding {padding}); use a smaller kernel or more padding")
    if not ceil_mode:
        return (padded - kernel_size) // stride + 1
    out = -(-(padded - kernel_size) // stride) + 1
    if (out - 1) * stride >= size + padding:
        out -= 1
    return out


def check_has_pixels(height: int, width: int, why: str) -> None:
    """Refuse an input with no pixels (H or W = 0), saying ``why`` it cannot be computed."""
    if height == 0 or width == 0:
        raise ValueError(f"x has no pixels (height {height}, width {width}): {why}. An input needs at least 1 x 1.")


class Geometry(NamedTuple):
    """A sliding window's checked settings, each ``(along H, along W)``, and the output size."""

    kernel: Pair
    stride: Pair
    padding: Pair
    out_h: int
    out_w: int


def window_geometry(height: int, width: int, kernel_size: int | Pair, stride: int | Pair,
                    padding: int | Pair | str, pool: bool = False, ceil_mode: bool = False) -> Geometry:
    """Validate a sliding window's settings and return them as pairs with the output size.

    Each setting is an int (the same along H and W) or a pair (along H, along W).
    Convolutions take any padding up to the input plus the kernel; pooling
    (``pool=True``) at most K // 2 per axis, PyTorch's limit, so that every window
    holds at least one real element.
    """
    kernel = check_pair(kernel_size, "kernel_size")
    strides = check_pair(stride, "stride")
    pads = check_padding(padding, kernel, strides, pool=pool)
    check_has_pixels(height, width, "every window would hold padding only")
    largest = max(height, width)
    if pads[0] > largest + kernel[0] or pads[1] > largest + kernel[1]:
        raise ValueError(f"padding {_show(pads)} is larger than the input ({height} x {width}) plus the kernel "
                         f"({_show(kernel)}): the output would be almost all padding. Padding is added on each "
                         "side; a K x K convolution that keeps the size needs (K - 1) // 2.")
    out_h = output_size(height, kernel[0], strides[0], pads[0], "height", ceil_mode)
    out_w = output_size(width, kernel[1], strides[1], pads[1], "width", ceil_mode)
    return Geometry(kernel, strides, pads, out_h, out_w)
