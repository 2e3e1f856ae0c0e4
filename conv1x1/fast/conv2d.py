"""The KxK convolution in the engine room: the depthwise convolution on stride-phase grids.

A depthwise convolution (``groups == C_in == C_out``, MobileNet's and ShuffleNet's 3x3) takes the
route below at any stride: with the plain route MobileNet v1's training step took 1.59x as long
(``benchmarks/bench_networks.py --tricks``; 3x3 on 8x128x56x56 float32, forward + backward,
``bench_blocks.py``: 4.8x at stride 1, 3.4x at stride 2). Every other KxK convolution takes the plain
im2col route, whose one GEMM NumPy hands to BLAS.

A route that ran dense KxK convolutions at stride 1 as K*K shifted 1x1 convolutions (no im2col copy)
was measured and deleted: on the layers of the four networks of ``benchmarks/bench_networks.py``
(float32, one thread, forward + backward) it took 0.53-0.96x the plain route's speed at C_in = C_out
(ResNet-50's 3x3 on 7x7 to 28x28 maps: 0.53x, 0.71x, 0.89x) and 0.5x on SqueezeNet's 16 -> 64, and
1.05x on the 5x5 192 -> 32 layer it was written for; its K*K passes over the output and K*K small
GEMMs cost more than the copy they save.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._checks import check_cache, check_dout
from ..functional import conv2d as plain_conv2d
from ._grids import _PhaseGrids

__all__ = ["conv2d_forward", "conv2d_backward", "DepthwiseCache"]


def conv2d_forward(x, w, b=None, stride=1, padding=0, groups=1):
    """``conv1x1.conv2d_forward``; a depthwise convolution (groups == C_in == C_out) on phase grids.

    The phase grids take square settings (K x K kernel, one stride, one padding);
    any other convolution, non-square ones included, takes the plain function.
    Returns a ``DepthwiseCache`` for the phase-grid route, the plain ``Conv2dCache`` otherwise.
    """
    x, w, b, groups, (kernel, strides, pads, out_h, out_w) = plain_conv2d.check_conv2d_args(x, w, b, stride,
                                                                                            padding, groups)
    square = kernel[0] == kernel[1] and strides[0] == strides[1] and pads[0] == pads[1]
    if square and groups > 1 and groups == x.shape[1] == w.shape[0]:
        return _depthwise_forward(x, w, b, strides[0], pads[0], (out_h, out_w))
    return plain_conv2d.conv2d_forward(x, w, b, strides, pads, groups)


def conv2d_backward(dout, cache):
    """``conv1x1.conv2d_backward`` for either forward: a ``DepthwiseCache`` or the plain ``Conv2dCache``."""
    if isinstance(cache, DepthwiseCache):
        return _depthwise_backward(dout, cache)
    return plain_conv2d.conv2d_backward(dout, cache)


class DepthwiseCache(NamedTuple):
    """What ``_depthwise_backward`` needs: the input itself (a reference, not a copy) and the settings.

    It holds x, not the plain route's im2col matrix (K*K times x's size, which this route never builds),
    so only this module's ``conv2d_backward`` reads it: the plain one refuses it with a TypeError.
    """

    x: np.ndarray
    w: np.ndarray
    has_bias: bool
    stride: int
    padding: int
    out_hw: tuple

    @property
    def groups(self) -> int:
        """A depthwise convolution has one group per channel."""
        return self.x.shape[1]


def _depthwise_forward(x, w, b, stride, padding, out_hw):
    """A depthwise KxK convolution (``conv2d_forward`` with groups = C_in = C_out), on phase grids.

    Each channel has its own K x K filter ``w[c, 0]``::

        out[n, c, i, j] = sum_{p,q} w[c, 0, p, q] * x_pad[n, c, i*stride + p, j*stride + q]  (+ b[c])

    Channel block by channel block, the input is copied once into its stride
    phases (``_PhaseGrids``), where every kernel offset is a slice of one flat
    array; then K*K whole-block multiply-adds on contiguous memory, each one
    NumPy call for the whole block, never a loop over channels or pixels.

    Parameters (already checked by ``conv2d_forward``)
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (C, 1, K, K)
    b : ndarray, shape (C,), or None
    stride, padding : int
    out_hw : tuple
        (out_H, out_W).

    Returns
    -------
    out : ndarray, shape (N, C, out_H, out_W)
    cache : DepthwiseCache
    """
    layout = _PhaseGrids(x.shape, x.itemsize, w.shape[2], stride, padding, out_hw)
    out = np.empty((x.shape[0], x.shape[1], *out_hw), dtype=x.dtype)
    phases = layout.buffer(x.dtype, phases=True)
    grid, term = layout.buffer(x.dtype, phases=False), layout.buffer(x.dtype, phases=False)
    for block in layout.blocks():
        channels = block.stop - block.start
        length = layout.length(channels)
        layout.split(x[:, block], phases)
        for tap, (p, q, phase, offset, _) in enumerate(layout.taps):
            shifted = phases[phase, offset:offset + length].reshape(channels, -1)   # every grid, shifted
            product = grid if tap == 0 else term    # the first term is the grid's start: no zeroing pass
            np.multiply(shifted, w[block, 0, p, q][:, None], out=product[:length].reshape(channels, -1))
            if tap > 0:
                grid[:length] += term[:length]
        bias = 0 if b is None else b[block, None, None, None]
        np.add(layout.output(grid, channels), bias, out=out[:, block].transpose(1, 0, 2, 3))
    return out, DepthwiseCache(x, w, b is not None, stride, padding, tuple(out_hw))


def _depthwise_backward(dout, cache):
    """Backward pass of ``_depthwise_forward``, on the same phase grids, per kernel offset (p, q)::

        dx_pad[n, c, i*stride + p, j*stride + q] += w[c, 0, p, q] * dout[n, c, i, j]
        dw[c, 0, p, q] = sum_{n,i,j} dout[n, c, i, j] * x_pad[n, c, i*stride + p, j*stride + q]
        db[c]          = sum_{n,i,j} dout[n, c, i, j]

    ``dout`` sits on the output grid with zeros in the dropped rows and columns,
    so they add nothing, unless x or w holds inf or NaN (``_not_finite``): then
    the plain route recomputes the gradients from the real pixels alone.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dw : ndarray, shape (C, 1, K, K)
    db : ndarray, shape (C,), or None
    """
    x, w, has_bias, stride, padding, out_hw = check_cache(cache, DepthwiseCache, "conv2d_backward",
                                                          "conv2d_forward")
    dout = check_dout(dout, (x.shape[0], x.shape[1], *out_hw), x.dtype)
    layout = _PhaseGrids(x.shape, x.itemsize, w.shape[2], stride, padding, out_hw)
    dx, dw = np.zeros_like(x), np.empty_like(w)
    phases, dphases = layout.buffer(x.dtype, phases=True), layout.buffer(x.dtype, phases=True)
    dout_grid, term = layout.buffer(x.dtype, phases=False), layout.buffer(x.dtype, phases=False)
    with np.errstate(invalid="ignore"):         # 0 * inf in a dropped column: handled by _not_finite below
        for block in layout.blocks():
            channels = block.stop - block.start
            length = layout.length(channels)
            layout.split(x[:, block], phases)
            layout.output(dout_grid, channels)[...] = dout[:, block].transpose(1, 0, 2, 3)
            d = dout_grid[:length].reshape(channels, -1)
            for p, q, phase, offset, first in layout.taps:
                target = dphases[phase, offset:offset + length]
                if first:                       # the phase's first term writes its slice; zero only the ends
                    np.multiply(d, w[block, 0, p, q][:, None], out=target.reshape(channels, -1))
                    dphases[phase, :offset] = 0
                    dphases[phase, offset + length:length + layout.spare] = 0
                else:
                    np.multiply(d, w[block, 0, p, q][:, None], out=term[:length].reshape(channels, -1))
                    target += term[:length]
                shifted = phases[phase, offset:offset + length].reshape(channels, 1, -1)
                dw[block, 0, p, q] = np.matmul(shifted, d[:, :, None])[:, 0, 0]   # one dot per channel
            layout.merge(dphases, dx[:, block])
    if _not_finite(w, dw):
        dx, dw = _plain_gradients(x, w, dout, stride, padding, x.shape[1])
    db = dout.sum(axis=(0, 2, 3)) if has_bias else None
    return dx, dw, db


def _not_finite(w, dw):
    """Whether the phase-grid gradients may be wrong: its dropped columns have a zero dout,
    so they add ``0 * x = 0`` and ``0 * w = 0``, except where x or w holds inf or NaN (0 * inf is NaN).
    An inf or NaN that x holds there makes dw non-finite; one in w shows in w itself. Then the plain
    route recomputes the gradients, with the warnings (or errors, under ``np.errstate``) it gives."""
    return not (np.isfinite(dw).all() and np.isfinite(w).all())


def _plain_gradients(x, w, dout, stride, padding, groups):
    """(dx, dw) by the plain im2col route, which reads real pixels only: for inputs holding inf or NaN."""
    dx, dw, _ = plain_conv2d.conv2d_backward(dout, plain_conv2d.conv2d_forward(x, w, None, stride, padding,
                                                                                groups)[1])
    return dx, dw
