"""The 1x1 convolution: a fully connected layer applied at every pixel.

For an input ``x`` of shape (N, C_in, H, W) and weights ``w`` of shape
(C_out, C_in), every pixel's channel vector ``x[n, :, h, w]`` goes through the
same dense layer::

    out[n, o, h, w] = sum_c w[o, c] * x[n, c, h, w] + b[o]
                    = np.einsum('oc,nchw->nohw', w, x) + b[None, :, None, None]

The number of filters C_out sets the output depth; H and W never change.

The einsum is the definition. The code below computes the same contraction as
a matrix multiply on the (N, C_in, H*W) view of ``x``: that view is free for a
contiguous array, and a matrix multiply goes through NumPy's BLAS, which is
several times faster than ``np.einsum`` without ``optimize``
(``benchmarks/bench_conv1x1.py`` measures it). ``conv1x1.reference`` keeps the
slow, obvious versions, and the tests prove every version gives the same result.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validation import as_float_array, check_dout, check_image_batch, check_ndim, common_float_arrays

__all__ = ["conv1x1_forward", "conv1x1_backward", "conv1x1", "Conv1x1Cache"]


class Conv1x1Cache(NamedTuple):
    """What ``conv1x1_backward`` needs from the forward pass.

    Attributes
    ----------
    x : ndarray, shape (N, C_in, H, W)
        The input (a reference, not a copy: never modify it in between).
    w : ndarray, shape (C_out, C_in)
        The weights used by the forward pass.
    has_bias : bool
        Whether the forward pass added a bias (then ``db`` is computed).
    """

    x: np.ndarray
    w: np.ndarray
    has_bias: bool


def check_conv1x1_args(x, w, b=None):
    """Validate the arguments of a 1x1 convolution; return them as arrays.

    Parameters
    ----------
    x : array_like, shape (N, C_in, H, W)
    w : array_like, shape (C_out, C_in)
    b : array_like, shape (C_out,), or None

    Returns
    -------
    x, w, b : ndarray
        ``w`` and ``b`` share one floating dtype with ``x`` (NumPy's usual
        promotion: float32 with float32 stays float32).

    Raises
    ------
    TypeError
        If an argument is not a floating-point array.
    ValueError
        If a shape is wrong; the message says what was expected and received.
    """
    x = as_float_array(x, "x")
    w = as_float_array(w, "w")
    check_image_batch(x)
    if w.ndim == 4:
        c_out, c_in, kh, kw = w.shape
        if (kh, kw) == (1, 1):
            raise ValueError(
                f"w must be 2-D (C_out, C_in), got shape {w.shape}, PyTorch's (C_out, C_in, 1, 1) "
                f"layout. Use w.reshape({c_out}, {c_in})."
            )
        raise ValueError(
            f"w must be 2-D (C_out, C_in), got a {kh}x{kw} kernel of shape {w.shape}. "
            "A kernel larger than 1x1 needs the direct convolution: conv1x1.conv2d_forward(x, w, b)."
        )
    check_ndim(w, 2, "w", "(C_out, C_in)")
    if w.shape[1] != x.shape[1]:
        raise ValueError(
            f"w expects {w.shape[1]} input channels but x has {x.shape[1]} channels "
            f"(w has shape {w.shape}, x has shape {x.shape}; w must be (C_out, C_in))"
        )
    return common_float_arrays(x, w, b, w.shape[0])


def conv1x1_forward(x, w, b=None):
    """Forward pass of a 1x1 convolution: one dense layer applied at every pixel.

    ``out = np.einsum('oc,nchw->nohw', w, x) + b[None, :, None, None]``: each
    output pixel is the weight matrix ``w`` times that pixel's channel vector,
    plus the bias. Height and width are unchanged; the depth becomes C_out.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
        Input batch (float32 or float64). It is not modified.
    w : ndarray, shape (C_out, C_in)
        One row of C_in weights per filter.
    b : ndarray, shape (C_out,), optional
        One bias per filter; ``None`` for no bias.

    Returns
    -------
    out : ndarray, shape (N, C_out, H, W)
    cache : Conv1x1Cache
        What ``conv1x1_backward`` needs.

    Raises
    ------
    TypeError
        If an argument is not a floating-point array.
    ValueError
        If a shape does not fit (the message says expected versus received).

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
    """
    x, w, b = check_conv1x1_args(x, w, b)
    out = _forward_matmul(x, w, b)
    return out, Conv1x1Cache(x, w, b is not None)


def _forward_matmul(x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """``einsum('oc,nchw->nohw', w, x) + b`` as a matmul on the (N, C_in, H*W) view.

    For each image n, ``out[n] = w @ x[n]`` with x[n] seen as a (C_in, H*W)
    matrix: a plain GEMM that BLAS runs at full speed. The reshape is a view
    (no copy) whenever x is C-contiguous.
    """
    n, c_in, height, width = x.shape
    c_out = w.shape[0]
    if b is not None and c_out > c_in:
        out = _forward_bias_in_gemm(x, w, b)
    else:
        out = np.matmul(w, x.reshape(n, c_in, height * width))
        if b is not None:
            out += b[:, None]  # in place: no second output-sized array
    return out.reshape(n, c_out, height, width)


def _forward_bias_in_gemm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``out[n] = [w | b] @ [x[n]; 1]``: the bias rides inside the matrix multiply.

    Why it is faster when C_out > C_in: adding b after the GEMM is one more pass
    over the output, C_out * H*W numbers per image. Copying x[n] into a buffer
    whose last row is ones is a pass over C_in * H*W numbers, fewer, and the
    GEMM's extra row of MACs is nearly free. The buffer is reused image after
    image, so memory stays at one image's worth (and a non-contiguous x is
    copied one image at a time, never whole).
    """
    n, c_in, height, width = x.shape
    w_with_bias = np.concatenate([w, b[:, None]], axis=1)            # (C_out, C_in + 1)
    out = np.empty((n, w.shape[0], height * width), dtype=x.dtype)
    for out_n, x_n_with_ones in zip(out, _with_ones_row(x)):
        np.matmul(w_with_bias, x_n_with_ones, out=out_n)
    return out


def _with_ones_row(x: np.ndarray):
    """Yield each image of x (N, C_in, H, W) as a (C_in + 1, H*W) matrix whose last row is ones.

    One buffer serves every image (it is overwritten on each step), so the memory
    cost is one image, whatever N.
    """
    n, c_in, height, width = x.shape
    buffer = np.empty((c_in + 1, height * width), dtype=x.dtype)
    buffer[c_in] = 1
    pixels = buffer[:c_in].reshape(c_in, height, width)   # a view into the buffer
    for image in x:
        pixels[...] = image
        yield buffer


def conv1x1_backward(dout, cache: Conv1x1Cache):
    """Backward pass of a 1x1 convolution.

    With ``out = einsum('oc,nchw->nohw', w, x) + b``, the chain rule gives::

        dx = np.einsum('oc,nohw->nchw', w, dout)     # w.T applied at every pixel
        dw = np.einsum('nohw,nchw->oc', dout, x)     # summed over images and pixels
        db = dout.sum((0, 2, 3))                      # one bias per output channel

    Parameters
    ----------
    dout : ndarray, shape (N, C_out, H, W)
        Gradient of the loss with respect to ``out``.
    cache : Conv1x1Cache
        From ``conv1x1_forward``.

    Returns
    -------
    dx : ndarray, shape (N, C_in, H, W)
    dw : ndarray, shape (C_out, C_in)
    db : ndarray, shape (C_out,), or None
        ``None`` when the forward pass had no bias.

    Raises
    ------
    ValueError
        If ``dout`` does not have the shape of the forward output.
    """
    x, w, has_bias = cache
    n, c_in, height, width = x.shape
    c_out = w.shape[0]
    dout = check_dout(dout, (n, c_out, height, width), x.dtype)
    dout_mat = dout.reshape(n, c_out, height * width)
    dx = np.matmul(w.T, dout_mat).reshape(x.shape)
    if not has_bias:
        return dx, weight_gradient(dout_mat, x.reshape(n, c_in, height * width)), None
    if c_out > c_in:
        dw, db = _weight_and_bias_gradient_in_gemm(dout_mat, x)
    else:
        dw = weight_gradient(dout_mat, x.reshape(n, c_in, height * width))
        db = bias_gradient(dout_mat)
    return dx, dw, db


def bias_gradient(dout_mat: np.ndarray) -> np.ndarray:
    """``db[o] = sum over images n and pixels p of dout[n, o, p]`` for dout (N, C_out, P).

    Written as a matrix-vector product with a vector of ones: it runs in BLAS and
    is about twice as fast as ``dout.sum(axis=(0, 2))``.
    """
    return np.matmul(dout_mat, np.ones(dout_mat.shape[2], dtype=dout_mat.dtype)).sum(axis=0)


def _weight_and_bias_gradient_in_gemm(dout_mat: np.ndarray, x: np.ndarray):
    """``[dw | db] = sum_n dout[n] @ [x[n]; 1].T``: the bias gradient as one more GEMM column.

    The mirror of ``_forward_bias_in_gemm``, faster when C_out > C_in for the same
    reason: it copies x (C_in rows per image) instead of making a separate pass
    over the larger dout (C_out rows per image).
    """
    c_in = x.shape[1]
    grads = np.zeros((dout_mat.shape[1], c_in + 1), dtype=x.dtype)
    for dout_n, x_n_with_ones in zip(dout_mat, _with_ones_row(x)):
        grads += dout_n @ x_n_with_ones.T
    return grads[:, :c_in].copy(), grads[:, c_in].copy()


def weight_gradient(dout_mat: np.ndarray, x_mat: np.ndarray) -> np.ndarray:
    """``dw = sum_n dout[n] @ x[n].T`` for dout (N, C_out, P) and x (N, C_in, P).

    The weight gradient of any layer computed as ``out[n] = w @ x[n]``: the 1x1
    convolution here, and each term of the KxK convolution in ``conv2d``.
    """
    dw = np.zeros((dout_mat.shape[1], x_mat.shape[1]), dtype=x_mat.dtype)
    for dout_n, x_n in zip(dout_mat, x_mat):
        dw += dout_n @ x_n.T  # a (C_out, C_in) GEMM per image; no (N, C_out, C_in) stack
    return dw


def conv1x1(x, w, b=None):
    """A 1x1 convolution without the cache: ``conv1x1_forward(x, w, b)[0]``.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    w : ndarray, shape (C_out, C_in)
    b : ndarray, shape (C_out,), optional

    Returns
    -------
    out : ndarray, shape (N, C_out, H, W)

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> C.conv1x1(np.zeros((1, 192, 28, 28)), np.zeros((32, 192))).shape
    (1, 32, 28, 28)
    """
    return conv1x1_forward(x, w, b)[0]
