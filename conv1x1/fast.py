"""The engine room: faster versions of the plain functions, with the same signatures and results.

The layers and the examples use the plain functions in ``core``, ``conv2d`` and
``pooling``, which read like their formulas. This module keeps the tricks that
make the same computations faster, each only because the benchmark
(``benchmarks/bench_conv1x1.py``, table in docs/performance.md)
shows it buys at least 10% on one of its shapes. The whole functional test
suite runs over both versions, so they give the same numbers, up to rounding:
the sums run in another order (in float16 the depthwise route, which rounds
after each of its K*K terms, measured 2-3x the plain route's error).

What is here, and what each trick buys:

- ``conv2d_forward`` / ``conv2d_backward`` at stride 1: K*K shifted 1x1
  convolutions on a flat padded input, with no im2col copy (strides above 1
  use the plain im2col route); grouped too, with a group axis on each product.
- the depthwise convolution (``groups == C_in == C_out``), any stride: the
  input is copied once into its stride phases (``_PhaseGrids``), where every
  kernel offset becomes a slice of one flat array, and the K*K multiply-adds
  run on contiguous memory, a block of channels per NumPy call (never a loop
  over channels). A forward's buffers stay within half its output or 1 MB,
  whichever is larger, but never below one channel's (so with 2-4 channels on
  a large map the peak can reach 2.5-5.5x the output). Measured
  (``benchmarks/bench_blocks.py``, 3x3 on 8x128x56x56 float32, plain / fast
  forward + backward): 4.8x at stride 1, 3.4x at stride 2 (the plain route
  builds a K*K times larger im2col matrix), and 1.3x at stride 2 on a small
  1x240x14x14 layer. NumPy's loops ran 3-4x faster on one contiguous array
  than on a strided view of the same size (an add of 52K float32: 4 us
  against 13-17 us), which is what the copy buys.
- ``maxpool2d_forward`` / ``maxpool2d_backward``: K*K whole-array comparisons
  of strided views instead of an argmax over a copy of every window, and a
  vectorised scatter-add (``np.bincount``) for the gradient.

``conv1x1_forward`` and ``conv1x1_backward`` are the plain ones: a view and one
``np.matmul`` per formula leave nothing to gain. Two tricks were measured and
deleted: folding the bias into the GEMM (0-12%, once slower) and accumulating
the weight gradient image by image with the bias gradient as a matrix-vector
product (0.97-1.04x the plain backward, single-threaded, on the benchmark's six
shape/dtype rows).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import check_cache, check_dout, check_image_batch
from .functional import conv2d as plain_conv2d
from .functional import pooling as plain_pooling
from .functional.pointwise import by_group, conv1x1, conv1x1_backward, conv1x1_forward

__all__ = ["conv1x1", "conv1x1_forward", "conv1x1_backward", "conv2d_forward", "conv2d_backward",
           "maxpool2d_forward", "maxpool2d_backward", "ShiftedCache", "DepthwiseCache"]


# ---------------------------------------------------------------- helpers of the shifted KxK route

def _weight_gradient(dout_mat: np.ndarray, x_mat: np.ndarray, groups: int = 1) -> np.ndarray:
    """``dw = sum_n dout[n] @ x[n].T`` for dout (N, C_out, P), x (N, C_in, P): one GEMM per image, accumulated.

    With groups, one (C_out/G, C_in/G) product per group: the result is (C_out, C_in // groups).
    """
    c_out, c_in = dout_mat.shape[1], x_mat.shape[1]
    dw = np.zeros((groups, c_out // groups, c_in // groups), dtype=x_mat.dtype)
    for dout_n, x_n in zip(dout_mat, x_mat):
        dw += by_group(dout_n, groups) @ by_group(x_n, groups).transpose(0, 2, 1)
    return dw.reshape(c_out, c_in // groups)


# ---------------------------------------------------------------- KxK convolution

class ShiftedCache(NamedTuple):
    """What ``conv2d_backward`` needs after the shifted-1x1 forward pass (stride 1).

    ``x_flat`` is each padded channel flattened row after row, (N, C_in, (H_p + 1) * W_p):
    one spare zero row at the end keeps the last shifted slice in bounds.
    """

    x_shape: tuple
    x_flat: np.ndarray
    w: np.ndarray
    has_bias: bool
    padding: int
    out_hw: tuple
    groups: int = 1


def conv2d_forward(x, w, b=None, stride=1, padding=0, groups=1):
    """``conv1x1.conv2d_forward``; at stride 1 as a sum of K*K shifted 1x1 convolutions (no im2col copy).

    On the flat padded input, output pixel (i, j) sits at ``i * W_p + j`` and its
    window element (p, q) at ``i * W_p + j + p * W_p + q``: the same flat layout
    shifted by ``s = p * W_p + q``. So, with L = out_H * W_p output positions
    (out_W real ones per row; the rest wrap around and are dropped)::

        out[n, :, 0:L] = sum_{p,q} w[:, :, p, q] @ x_flat[n, :, s:s + L]

    (with groups, each product gets a group axis). A depthwise convolution
    (groups == C_in == C_out), at any stride, takes the route of ``_depthwise_forward``.
    """
    x, w, b, groups, (k, stride, padding, out_h, out_w) = plain_conv2d.check_conv2d_args(x, w, b, stride, padding,
                                                                                         groups)
    if groups > 1 and groups == x.shape[1] == w.shape[0]:
        return _depthwise_forward(x, w, b, stride, padding, (out_h, out_w))
    if stride != 1:
        return plain_conv2d.conv2d_forward(x, w, b, stride, padding, groups)
    n, c_out = x.shape[0], w.shape[0]
    x_flat = _flat_padded(x, padding)
    padded_width = x.shape[3] + 2 * padding
    length = out_h * padded_width
    out = np.zeros((n, c_out, length), dtype=x.dtype)
    term = np.empty_like(out)  # one reused buffer for each 1x1 convolution's result
    for p, q, s in _shift_offsets(k, padded_width):
        np.matmul(by_group(w[:, :, p, q], groups), by_group(x_flat[:, :, s:s + length], groups),
                  out=by_group(term, groups))
        out += term
    if b is not None:
        out += b[:, None]
    out = out.reshape(n, c_out, out_h, padded_width)[:, :, :, :out_w]  # drop the wrapped columns
    cache = ShiftedCache(x.shape, x_flat, w, b is not None, padding, (out_h, out_w), groups)
    return np.ascontiguousarray(out), cache


def conv2d_backward(dout, cache):
    """``conv1x1.conv2d_backward`` for either forward route; the shifted one runs each term's gradients::

        dw[:, :, p, q]          = sum_n dout[n] @ x_flat[n, :, s:s + L].T
        dx_flat[n, :, s:s + L] += w[:, :, p, q].T @ dout[n]

    with ``dout`` laid out like the forward's output grid (zeros in the dropped columns, which add
    nothing unless x or w holds inf or NaN: then ``_plain_gradients`` recomputes them).
    """
    if isinstance(cache, plain_conv2d.Conv2dCache):
        return plain_conv2d.conv2d_backward(dout, cache)
    if isinstance(cache, DepthwiseCache):
        return _depthwise_backward(dout, cache)
    x_shape, x_flat, w, has_bias, padding, (out_h, out_w), groups = check_cache(
        cache, ShiftedCache, "conv2d_backward", "conv2d_forward")
    n, c_in, height, width = x_shape
    c_out, k = w.shape[0], w.shape[2]
    dout = check_dout(dout, (n, c_out, out_h, out_w), x_flat.dtype)
    padded_width = width + 2 * padding
    length = out_h * padded_width
    dout_grid = np.zeros((n, c_out, out_h, padded_width), dtype=x_flat.dtype)
    dout_grid[:, :, :, :out_w] = dout
    dout_grid = dout_grid.reshape(n, c_out, length)

    dw = np.empty_like(w)
    dx_flat = np.zeros_like(x_flat)
    term = np.empty((n, c_in, length), dtype=x_flat.dtype)
    with np.errstate(invalid="ignore"):         # 0 * inf in a dropped column: handled by _not_finite below
        for p, q, s in _shift_offsets(k, padded_width):
            dw[:, :, p, q] = _weight_gradient(dout_grid, x_flat[:, :, s:s + length], groups)
            np.matmul(by_group(w[:, :, p, q], groups).transpose(0, 2, 1), by_group(dout_grid, groups),
                      out=by_group(term, groups))
            dx_flat[:, :, s:s + length] += term
    dx = dx_flat.reshape(n, c_in, height + 2 * padding + 1, padded_width)
    dx = np.ascontiguousarray(dx[:, :, padding:padding + height, padding:padding + width])  # padding may be 0
    if _not_finite(w, dw):
        x = x_flat.reshape(n, c_in, height + 2 * padding + 1, padded_width)
        dx, dw = _plain_gradients(x[:, :, padding:padding + height, padding:padding + width], w, dout, 1,
                                  padding, groups)
    db = dout_grid.sum(axis=(0, 2)) if has_bias else None
    return dx, dw, db


def _not_finite(w, dw):
    """Whether the shifted or phase-grid gradients may be wrong: their dropped columns have a zero dout,
    so they add ``0 * x = 0`` and ``0 * w = 0``, except where x or w holds inf or NaN (0 * inf is NaN).
    An inf or NaN that x holds there makes dw non-finite; one in w shows in w itself. Then the plain
    route recomputes the gradients, with the warnings (or errors, under ``np.errstate``) it gives."""
    return not (np.isfinite(dw).all() and np.isfinite(w).all())


def _plain_gradients(x, w, dout, stride, padding, groups):
    """(dx, dw) by the plain im2col route, which reads real pixels only: for inputs holding inf or NaN."""
    dx, dw, _ = plain_conv2d.conv2d_backward(dout, plain_conv2d.conv2d_forward(x, w, None, stride, padding,
                                                                                groups)[1])
    return dx, dw


# ---------------------------------------------------------------- depthwise convolution

# The depthwise route works a block of channels at a time (``_PhaseGrids.channels_per_block``). Its
# buffers (input phases, output grid, one term; the backward adds gradient phases) take at most
# _BLOCK_BYTES, and a forward's at most half its output or _SMALL_BYTES, whichever is larger: so the
# forward's peak memory stays within twice its output on large layers, and small layers are not cut
# into tiny NumPy calls. Measured forward + backward, float32, 3x3, median of 7:
# - 8x128x56x56, stride 1 / stride 2: blocks of 1 channel 31.6 / 25.6 ms (each call too small), of 8 to
#   19 channels 22-27 / 13-14 ms (within this machine's run-to-run noise), all 128 at once 56.3 / 16.9 ms
#   (out of cache). The rules pick 19 channels at stride 1; at stride 2 the half-the-output rule picks 9.
# - 1x240x14x14 at stride 2: without the _SMALL_BYTES floor (blocks of 15 channels) 2.08 ms, the plain
#   im2col route 1.15 ms, with the floor (one block of all 240) 0.46 ms.
_BLOCK_BYTES = 8 << 20
_SMALL_BYTES = 1 << 20


class DepthwiseCache(NamedTuple):
    """What ``_depthwise_backward`` needs: the input itself (a reference, not a copy) and the settings."""

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


class _PhaseGrids:
    """The layout of the depthwise route: each stride phase of the padded input, as flat grids.

    At stride s, output pixel (i, j) reads the padded input at (s*i + p, s*j + q)
    for kernel offset (p, q). Write p = s*dp + a and q = s*dq + c (a, c < s):
    that is pixel (i + dp, j + dq) of the *phase* (a, c), the padded input's
    rows a, a + s, a + 2s, ... and columns c, c + s, ... In its phase every
    kernel offset is a plain shift by (dp, dq), as at stride 1 (one phase).
    Only phases with a, c < K are ever read, so only those are stored.

    Each phase of each (channel, image) is stored as a ``rows x cols`` grid,
    ``(out_H + e) x (out_W + e)`` with e = (K - 1) // s the largest shift, and
    the grids of a block of channels lie one after another in one flat array,
    channel by channel (so one channel's weight covers N grids in a row). A
    shift by (dp, dq) is then the offset ``dp * cols + dq``, and one slice of
    the flat array shifts every grid of the block at once::

        grid[m, i, j] += w[c, p, q] * phase_ac[m, i + dp, j + dq]     (all grids m: one 1-D product)

    The output uses the same grid; its last e rows and columns are not output
    pixels and are dropped. Their reads run past their own grid, into the next
    grid's pixels or, for the last grid, into up to ``spare`` elements that a
    larger earlier block left there: harmless, because the forward pass drops
    those positions and the backward pass multiplies them by a zero ``dout``.
    Harmless unless they hold inf or NaN (0 * inf is NaN): hence ``_not_finite``.
    """

    def __init__(self, x_shape, itemsize, k, stride, padding, out_hw):
        self.n, self.channels, self.height, self.width = x_shape
        self.itemsize = itemsize
        self.stride, self.padding, self.out_hw = stride, padding, tuple(out_hw)
        self.sides = min(stride, k)                 # phases read per axis: a = p % s < K
        shift = (k - 1) // stride
        self.rows, self.cols = out_hw[0] + shift, out_hw[1] + shift
        self.spare = shift * self.cols + shift      # the last slice runs this far past the last grid
        # (p, q, phase index, offset, whether it is its phase's first) for each kernel offset
        self.taps, seen = [], set()
        for p in range(k):
            for q in range(k):
                phase = (p % stride) * self.sides + q % stride
                self.taps.append((p, q, phase, (p // stride) * self.cols + q // stride, phase not in seen))
                seen.add(phase)
        self.block_channels = self.channels_per_block()

    def channels_per_block(self):
        """How many channels one block takes (see _BLOCK_BYTES): the buffers of one channel are
        ``phases + 2`` grids (phases, output grid, term) forward, ``2 * phases + 2`` backward."""
        phases = self.sides ** 2
        grid = self.n * self.rows * self.cols * self.itemsize                   # bytes of one channel's grid
        output = self.n * self.out_hw[0] * self.out_hw[1] * self.itemsize       # bytes of one channel's output
        by_cache = _BLOCK_BYTES // ((2 * phases + 2) * grid)
        by_memory = max(self.channels * output // 2, _SMALL_BYTES) // ((phases + 2) * grid)
        return max(1, min(self.channels, by_cache, by_memory))

    def blocks(self):
        """Yield slices of ``block_channels`` channels (the last one may be smaller)."""
        for first in range(0, self.channels, self.block_channels):
            yield slice(first, min(first + self.block_channels, self.channels))

    def length(self, channels):
        """Elements of the grids of ``channels`` channels: one grid per image and channel."""
        return channels * self.n * self.rows * self.cols

    def buffer(self, dtype, phases):
        """Zeros for one block: ``(phases read, length + spare)`` phase grids, or one flat grid."""
        length = self.length(self.block_channels)
        return np.zeros((self.sides ** 2, length + self.spare) if phases else length, dtype=dtype)

    def grids(self, flat, channels):
        """The flat buffer's first ``channels`` channels as grids: (..., channels, N, rows, cols)."""
        return flat[..., :self.length(channels)].reshape(flat.shape[:-1] + (channels, self.n, self.rows, self.cols))

    def split(self, x_block, phases):
        """Copy x[:, block] (N, c, H, W) into its phase grids; grid pixels in the padding stay zero."""
        grids = self.grids(phases, x_block.shape[1])
        for index, grid_part, x_part in self._phase_parts():
            grids[index][grid_part] = x_block[x_part].transpose(1, 0, 2, 3)

    def merge(self, phases, x_block):
        """The inverse of ``split``: write the phase grids back to x[:, block] (N, c, H, W)."""
        grids = self.grids(phases, x_block.shape[1])
        for index, grid_part, x_part in self._phase_parts():
            x_block[x_part] = grids[index][grid_part].transpose(1, 0, 2, 3)

    def output(self, flat, channels):
        """The output pixels of a flat grid: (channels, N, out_H, out_W), the dropped rows and columns cut."""
        return self.grids(flat, channels)[..., :self.out_hw[0], :self.out_hw[1]]

    def _phase_parts(self):
        """Per phase read: (index, its grid pixels inside x, those pixels of x)."""
        for a in range(self.sides):
            rows = _valid_range(self.height, self.rows, a, self.stride, self.padding)
            for c in range(self.sides):
                cols = _valid_range(self.width, self.cols, c, self.stride, self.padding)
                if rows is not None and cols is not None:
                    yield (a * self.sides + c, (..., rows[0], cols[0]),
                           (slice(None), slice(None), rows[1], cols[1]))


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


def _valid_range(size, out_size, offset, stride, padding):
    """Indices i < out_size with ``0 <= i*stride + offset - padding < size``, and the input indices they read."""
    first = max(0, -(-(padding - offset) // stride))
    last = min(out_size, (size - 1 + padding - offset) // stride + 1)
    if last <= first:
        return None
    start = first * stride + offset - padding
    return slice(first, last), slice(start, start + stride * (last - first - 1) + 1, stride)


def _flat_padded(x: np.ndarray, padding: int) -> np.ndarray:
    """x zero-padded, plus one spare zero row, each channel flattened: (N, C, (H_p + 1) * W_p)."""
    n, c, height, width = x.shape
    padded = np.zeros((n, c, height + 2 * padding + 1, width + 2 * padding), dtype=x.dtype)
    padded[:, :, padding:padding + height, padding:padding + width] = x
    return padded.reshape(n, c, -1)


def _shift_offsets(k: int, padded_width: int):
    """Yield (p, q, s): the kernel offset and where its shifted slice starts in the flat input."""
    for p in range(k):
        for q in range(k):
            yield p, q, p * padded_width + q


# ---------------------------------------------------------------- max pooling

def maxpool2d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    """``conv1x1.maxpool2d_forward`` by K*K strided whole-array comparisons instead of a window copy.

    Running over the window offsets in row-major order, an offset replaces the
    best so far where it is strictly larger (ties keep the first) or NaN (the
    last NaN wins), as PyTorch does. Padding holds -inf and the best starts at
    each window's first real element, so padding never wins.
    """
    x = check_image_batch(x, layout="(N, C, H, W)")
    k, stride, padding, out_h, out_w = plain_pooling.check_pool_args(kernel_size, stride, padding, ceil_mode, x.shape)
    n, c = x.shape[:2]
    xp = plain_pooling.padded(x, k, stride, padding, (out_h, out_w), fill=-np.inf)
    has_nan = bool(np.isnan(x).any())  # one cheap pass spares the NaN bookkeeping below when clean
    best = np.broadcast_to(plain_pooling.first_real(k, stride, padding, out_h, out_w).astype(np.int32),
                           (n, c, out_h, out_w)).copy()
    out = np.full((n, c, out_h, out_w), -np.inf, dtype=x.dtype)
    for offset in range(k * k):
        p, q = divmod(offset, k)
        view = xp[:, :, p:p + stride * out_h:stride, q:q + stride * out_w:stride]
        better = view > out                        # strict: on ties the earlier position stays
        if has_nan:
            better |= np.isnan(view)               # any NaN replaces: the last NaN wins
            out = np.where(better, view, out)
        else:
            np.maximum(out, view, out=out)
        best[better] = offset
    return out, plain_pooling.MaxPool2dCache(x.shape, best, k, stride, padding, x.dtype)


def maxpool2d_backward(dout, cache):
    """``conv1x1.maxpool2d_backward`` as one scatter-add: ``np.bincount`` over the flat index of each maximum."""
    x_shape, best, k, stride, padding, dtype = check_cache(cache, plain_pooling.MaxPool2dCache,
                                                           "maxpool2d_backward", "maxpool2d_forward")
    dout = check_dout(dout, best.shape, dtype)
    n, c, height, width = x_shape
    out_h, out_w = best.shape[2:]
    _, _, padded_h, padded_w = plain_pooling.padded_shape(x_shape, k, stride, padding, (out_h, out_w))
    # Flat index of each maximum in the padded input = start of its (n, c) plane
    # + start of its window + its offset inside the window.
    plane = np.arange(n * c).reshape(n, c, 1, 1) * (padded_h * padded_w)
    window = (np.arange(out_h)[:, None] * padded_w + np.arange(out_w)[None, :]) * stride
    inside = np.arange(k * k) // k * padded_w + np.arange(k * k) % k
    flat_index = (plane + window + inside[best]).ravel()
    dx = np.bincount(flat_index, weights=dout.ravel(), minlength=n * c * padded_h * padded_w)
    dx = dx.reshape(n, c, padded_h, padded_w).astype(dtype, copy=False)  # bincount sums in float64
    return dx[:, :, padding:padding + height, padding:padding + width]
