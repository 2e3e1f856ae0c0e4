"""The 1x1 convolution: a fully connected layer applied at every pixel.

For an input ``x`` of shape (N, C_in, H, W) and weights ``w`` of shape
(C_out, C_in), every pixel's channel vector ``x[n, :, h, w]`` goes through the
same dense layer::

    out[n, o, h, w] = sum_c w[o, c] * x[n, c, h, w] + b[o]
                    = np.einsum('oc,nchw->nohw', w, x) + b[None, :, None, None]

The number of filters C_out sets the output depth; at stride 1, H and W stay the
same. A strided 1x1 convolution (``stride=s``, ResNet's projection shortcut) keeps
every s-th row and column, ``x[:, :, ::s, ::s]``, then does the same per-pixel product.

Seen as matrices, image n is a (C_in, H*W) matrix with one column per pixel,
and the whole convolution is one matrix product per image: ``out[n] = w @ x[n]``.
That is the line below. ``np.matmul`` hands it to BLAS, the tuned linear-algebra
library under NumPy, so it runs at the speed of NumPy's own matrix multiply
(``benchmarks/bench_conv1x1.py`` measures it; ``examples/07_einsum_paths.py``
times the other ways of writing it). ``conv1x1.reference`` keeps the slow,
obvious versions; the tests prove every version gives the same numbers.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._checks import (
    DEPTHWISE_HINT,
    check_bias,
    check_cache,
    check_dout,
    check_float_array,
    check_groups,
    check_image_batch,
    check_positive_int,
    check_weight,
    common_dtype,
)

__all__ = ["conv1x1_forward", "conv1x1_backward", "conv1x1", "Conv1x1Cache"]


def conv1x1_forward(x, w, b=None, groups=1, stride=1):
    """Forward pass of a 1x1 convolution: one dense layer applied at every pixel.

    ``out = np.einsum('oc,nchw->nohw', w, x) + b[None, :, None, None]``, computed
    as ``out[n] = w @ x[n]`` with each image seen as a (C_in, H*W) matrix.

    With ``groups = G`` the channels split into G groups that never mix
    (ShuffleNet's grouped 1x1): group g's C_out/G filters see only group g's
    C_in/G input channels, ``out[n, g] = w[g] @ x[n, g]``; that is the same
    matmul with one more axis, (G, C_out/G, C_in/G) @ (N, G, C_in/G, H*W).

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
        Input batch (float16, float32 or float64). It is not modified.
    w : ndarray, shape (C_out, C_in // groups)
        One row of weights per filter (C_in of them when groups=1).
    b : ndarray, shape (C_out,), optional
        One bias per filter; ``None`` for no bias.
    groups : int, default 1
        Must divide C_in and C_out.
    stride : int, default 1
        Use every ``stride``-th pixel: ``x[:, :, ::stride, ::stride]``, so
        H_out = ceil(H / stride) (PyTorch's floor((H - 1) / stride) + 1).

    Returns
    -------
    out : ndarray, shape (N, C_out, H_out, W_out)
        In the common dtype of x, w and b (NumPy's promotion); H_out = H at stride 1.
    cache : Conv1x1Cache
        What ``conv1x1_backward`` needs.

    Raises
    ------
    TypeError
        If an argument is not a floating-point array.
    ValueError
        If a shape does not fit (the message says expected versus received), or
        groups does not divide the channels.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> x = np.ones((2, 192, 28, 28))
    >>> w = np.full((32, 192), 0.5)
    >>> out, cache = C.conv1x1_forward(x, w)
    >>> out.shape
    (2, 32, 28, 28)
    >>> float(out[0, 0, 0, 0])  # 192 channels * 1.0 * 0.5
    96.0
    >>> out, _ = C.conv1x1_forward(x, np.full((32, 48), 0.5), groups=4)  # each filter sees 192 / 4 channels
    >>> float(out[0, 0, 0, 0])
    24.0
    >>> C.conv1x1_forward(x, w, stride=2)[0].shape          # every other pixel: 28 -> 14
    (2, 32, 14, 14)
    """
    x, w, b, groups, stride = check_conv1x1_args(x, w, b, groups, stride)
    seen = x[:, :, ::stride, ::stride] if stride > 1 else x    # a view: the pixels the filters see
    n, c_in, height, width = seen.shape
    x_mat = seen.reshape(n, c_in, height * width)
    if groups == 1:
        out = np.matmul(w, x_mat)                             # (C_out, C_in) @ (N, C_in, H*W)
    else:
        out = np.matmul(by_group(w, groups), by_group(x_mat, groups))  # (G, C_out/G, C_in/G) @ (N, G, C_in/G, H*W)
    out = out.reshape(n, w.shape[0], height * width)
    if b is not None:
        out += b[:, None]                                     # one bias per output row
    return out.reshape(n, w.shape[0], height, width), Conv1x1Cache(x, w, b is not None, groups, stride)


def by_group(a, groups):
    """Split the channel axis (axis -2) into (groups, channels per group): a view, no copy.

    (C, P) -> (G, C/G, P) and (N, C, P) -> (N, G, C/G, P).
    """
    return a.reshape(*a.shape[:-2], groups, a.shape[-2] // groups, a.shape[-1])


def conv1x1_backward(dout, cache):
    """Backward pass of a 1x1 convolution.

    With ``out[n] = w @ x[n] + b`` per image (x[n] a (C_in, H*W) matrix), the
    chain rule gives three matrix formulas::

        dx[n] = w.T @ dout[n]                    # einsum('oc,nohw->nchw', w, dout)
        dw    = sum_n dout[n] @ x[n].T           # einsum('nohw,nchw->oc', dout, x)
        db    = dout.sum((0, 2, 3))              # one bias per output channel

    With groups, the same formulas hold group by group (``w[g]``, ``x[n, g]``, ``dout[n, g]``).
    With a stride, x[n] is the strided view ``x[n, :, ::s, ::s]`` and dx is zero at the
    pixels the filters never saw: the gradient is scattered back into every s-th place.

    Parameters
    ----------
    dout : ndarray, shape (N, C_out, H, W)
        Gradient of the loss with respect to ``out``; cast to the forward dtype.
    cache : Conv1x1Cache
        From ``conv1x1_forward``.

    Returns
    -------
    dx : ndarray, shape (N, C_in, H, W)
        The shape of the forward input (zero off the strided pixels).
    dw : ndarray, shape (C_out, C_in // groups)
    db : ndarray, shape (C_out,), or None
        ``None`` when the forward pass had no bias.

    Raises
    ------
    TypeError
        If ``cache`` is not a ``Conv1x1Cache`` or ``dout`` not a float array.
    ValueError
        If ``dout`` does not have the shape of the forward output.
    """
    x, w, has_bias, groups, stride = check_cache(cache, Conv1x1Cache, "conv1x1_backward", "conv1x1_forward")
    seen = x[:, :, ::stride, ::stride] if stride > 1 else x
    n, c_in, height, width = seen.shape
    c_out = w.shape[0]
    dout = check_dout(dout, (n, c_out, height, width), x.dtype).reshape(n, c_out, height * width)
    x_mat = seen.reshape(n, c_in, height * width)
    db = dout.sum(axis=(0, 2)) if has_bias else None
    if groups == 1:
        dx = np.matmul(w.T, dout)                                       # (N, C_in, H*W)
        dw = np.matmul(dout, x_mat.transpose(0, 2, 1)).sum(axis=0)      # (C_out, C_in)
    else:
        w_g, dout_g, x_g = by_group(w, groups), by_group(dout, groups), by_group(x_mat, groups)
        dx = np.matmul(w_g.transpose(0, 2, 1), dout_g)                  # (N, G, C_in/G, H*W)
        dw = np.matmul(dout_g, x_g.transpose(0, 1, 3, 2)).sum(axis=0)   # (G, C_out/G, C_in/G)
    return _scatter(dx.reshape(seen.shape), x.shape, stride), dw.reshape(w.shape), db


def _scatter(dx_seen, x_shape, stride):
    """The gradient of the strided pixels, put back in place in a zero array of x's shape."""
    if stride == 1:
        return dx_seen
    dx = np.zeros(x_shape, dtype=dx_seen.dtype)
    dx[:, :, ::stride, ::stride] = dx_seen
    return dx


class Conv1x1Cache(NamedTuple):
    """What ``conv1x1_backward`` needs from the forward pass.

    Attributes
    ----------
    x : ndarray, shape (N, C_in, H, W)
        The input, all of it (a reference, not a copy: never modify it in between).
    w : ndarray, shape (C_out, C_in // groups)
        The weights used by the forward pass.
    has_bias : bool
        Whether the forward pass added a bias (then ``db`` is computed).
    groups : int
        How many channel groups the forward pass used.
    stride : int
        The forward pass's stride (1: every pixel).

    A cache built by hand without ``groups`` or ``stride`` means 1 for both.
    """

    x: np.ndarray
    w: np.ndarray
    has_bias: bool
    groups: int = 1
    stride: int = 1


def check_conv1x1_args(x, w, b=None, groups=1, stride=1):
    """Validate the arguments of a 1x1 convolution; return x, w, b (one float dtype), groups and stride.

    The common case, arrays that are already right, is recognised by one test
    (``_ready``) and returned as they are; anything else goes through the checks
    of ``conv1x1._checks``, which convert lists and say exactly what is wrong.

    Raises
    ------
    TypeError
        If an argument is not a floating-point array, or groups / stride not an int.
    ValueError
        If a shape is wrong; the message says what was expected and received.
    """
    if _ready(x, w, b, groups, stride):
        return x, w, b, groups, stride
    w = check_float_array(w, "w")
    x = check_image_batch(x, channels=w.shape[1] if w.ndim == 2 and groups == 1 else None, owner="w")
    groups = check_groups(groups, x.shape[1], hint=DEPTHWISE_HINT)
    stride = check_positive_int(stride, "stride")
    w = check_weight(w, 2, x.shape[1], groups)
    b = check_bias(b, w.shape[0])
    return (*common_dtype(x, w, b), groups, stride)


def _ready(x, w, b, groups, stride) -> bool:
    """True when x, w and b are float ndarrays of one dtype and every shape fits: nothing to convert or say."""
    return (type(x) is np.ndarray and type(w) is np.ndarray and x.dtype.kind == "f" and w.dtype == x.dtype
            and x.ndim == 4 and w.ndim == 2 and type(groups) is int and type(stride) is int
            and groups >= 1 and stride >= 1 and w.shape[0] >= 1 and w.shape[0] % groups == 0
            and w.shape[1] * groups == x.shape[1]
            and (b is None or (type(b) is np.ndarray and b.dtype == x.dtype and b.shape == (w.shape[0],))))


def conv1x1(x, w, b=None, groups=1, stride=1):
    """A 1x1 convolution without the cache: ``conv1x1_forward(x, w, b, groups, stride)[0]``.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    w : ndarray, shape (C_out, C_in // groups)
    b : ndarray, shape (C_out,), optional
    groups : int, default 1
    stride : int, default 1

    Returns
    -------
    out : ndarray, shape (N, C_out, H_out, W_out)

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> C.conv1x1(np.zeros((1, 192, 28, 28)), np.zeros((32, 192))).shape
    (1, 32, 28, 28)
    """
    return conv1x1_forward(x, w, b, groups, stride)[0]
