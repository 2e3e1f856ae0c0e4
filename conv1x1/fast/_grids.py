"""Stride-phase grids: the layout on which the depthwise convolution and max pooling run their K*K terms.

A K x K window sliding at stride s over a padded input reads, for kernel offset
(p, q), the pixels (s*i + p, s*j + q). Split the padded input into its stride
phases (rows a, a + s, ..., columns c, c + s, ...) and each offset becomes a
plain shift inside one phase. Store each phase as flat grids and the shift is an
offset into one flat array: every term of every window is then one NumPy call
on contiguous memory, where NumPy's loops run several times faster than on
strided views of the same size.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

FloatArray = NDArray[np.floating[Any]]   # an array of float16, float32 or float64

# The depthwise route works a block of channels at a time (``_PhaseGrids.channels_per_block``). Its
# buffers (input phases, output grid, one term; the backward adds gradient phases) take at most
# _BLOCK_BYTES, and a forward's at most half its output or _SMALL_BYTES, whichever is larger: so the
# forward's peak memory stays within twice its output on large layers, and small layers are not cut
# into tiny NumPy calls. Why blocks at all: one channel at a time makes each NumPy call too small to be
# quick, and all the channels of a large layer at once leave the processor's cache; in between, on
# MobileNet's 3x3 layers, the block size matters little. A small layer (MobileNet's and ShuffleNet's late
# ones) runs fastest in one block of all its channels, hence the _SMALL_BYTES floor.
Index = tuple[Any, ...]   # an index into a NumPy array: slices and Ellipsis

_BLOCK_BYTES = 8 << 20
_SMALL_BYTES = 1 << 20


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
    Harmless unless they hold inf or NaN (0 * inf is NaN): hence ``conv2d._not_finite``.
    """

    def __init__(self, x_shape: tuple[int, ...], itemsize: int, k: int, stride: int, padding: int,
                 out_hw: tuple[int, int]) -> None:
        self.n, self.channels, self.height, self.width = x_shape
        self.itemsize = itemsize
        self.stride, self.padding, self.out_hw = stride, padding, tuple(out_hw)
        self.sides = min(stride, k)                 # phases read per axis: a = p % s < K
        shift = (k - 1) // stride
        self.rows, self.cols = out_hw[0] + shift, out_hw[1] + shift
        self.spare = shift * self.cols + shift      # the last slice runs this far past the last grid
        # (p, q, phase index, offset, whether it is its phase's first) for each kernel offset
        self.taps: list[tuple[int, int, int, int, bool]] = []
        seen: set[int] = set()
        for p in range(k):
            for q in range(k):
                phase = (p % stride) * self.sides + q % stride
                self.taps.append((p, q, phase, (p // stride) * self.cols + q // stride, phase not in seen))
                seen.add(phase)
        self.block_channels = self.channels_per_block()

    def channels_per_block(self) -> int:
        """How many channels one block takes (see _BLOCK_BYTES): the buffers of one channel are
        ``phases + 2`` grids (phases, output grid, term) forward, ``2 * phases + 2`` backward."""
        phases = self.sides ** 2
        grid = max(1, self.n * self.rows * self.cols * self.itemsize)           # bytes of one channel's grid
        output = self.n * self.out_hw[0] * self.out_hw[1] * self.itemsize       # bytes of one channel's output
        by_cache = _BLOCK_BYTES // ((2 * phases + 2) * grid)
        by_memory = max(self.channels * output // 2, _SMALL_BYTES) // ((phases + 2) * grid)
        return max(1, min(self.channels, by_cache, by_memory))

    def blocks(self) -> Iterator[slice]:
        """Yield slices of ``block_channels`` channels (the last one may be smaller)."""
        for first in range(0, self.channels, self.block_channels):
            yield slice(first, min(first + self.block_channels, self.channels))

    def length(self, channels: int) -> int:
        """Elements of the grids of ``channels`` channels: one grid per image and channel."""
        return channels * self.n * self.rows * self.cols

    def buffer(self, dtype: DTypeLike, phases: bool, fill: float = 0) -> NDArray[Any]:
        """``fill`` for one block: ``(phases read, length + spare)`` phase grids, or one flat grid."""
        length = self.length(self.block_channels)
        return np.full((self.sides ** 2, length + self.spare) if phases else length, fill, dtype=dtype)

    def grids(self, flat: NDArray[Any], channels: int) -> NDArray[Any]:
        """The flat buffer's first ``channels`` channels as grids: (..., channels, N, rows, cols)."""
        return flat[..., :self.length(channels)].reshape(flat.shape[:-1] + (channels, self.n, self.rows, self.cols))

    def split(self, x_block: FloatArray, phases: FloatArray) -> None:
        """Copy x[:, block] (N, c, H, W) into its phase grids; grid pixels in the padding keep their fill."""
        grids = self.grids(phases, x_block.shape[1])
        for index, grid_part, x_part in self._phase_parts():
            grids[index][grid_part] = x_block[x_part].transpose(1, 0, 2, 3)

    def merge(self, phases: FloatArray, x_block: FloatArray) -> None:
        """The inverse of ``split``: write the phase grids back to x[:, block] (N, c, H, W)."""
        grids = self.grids(phases, x_block.shape[1])
        for index, grid_part, x_part in self._phase_parts():
            x_block[x_part] = grids[index][grid_part].transpose(1, 0, 2, 3)

    def output(self, flat: NDArray[Any], channels: int) -> NDArray[Any]:
        """The output pixels of a flat grid: (channels, N, out_H, out_W), the dropped rows and columns cut."""
        return self.grids(flat, channels)[..., :self.out_hw[0], :self.out_hw[1]]

    def _phase_parts(self) -> Iterator[tuple[int, Index, Index]]:
        """Per phase read: (index, its grid pixels inside x, those pixels of x)."""
        for a in range(self.sides):
            rows = _valid_range(self.height, self.rows, a, self.stride, self.padding)
            for c in range(self.sides):
                cols = _valid_range(self.width, self.cols, c, self.stride, self.padding)
                if rows is not None and cols is not None:
                    yield (a * self.sides + c, (..., rows[0], cols[0]),
                           (slice(None), slice(None), rows[1], cols[1]))


def _valid_range(size: int, out_size: int, offset: int, stride: int,
                 padding: int) -> tuple[slice, slice] | None:
    """Indices i < out_size with ``0 <= i*stride + offset - padding < size``, and the input indices they read."""
    first = max(0, -(-(padding - offset) // stride))
    last = min(out_size, (size - 1 + padding - offset) // stride + 1)
    if last <= first:
        return None
    start = first * stride + offset - padding
    return slice(first, last), slice(start, start + stride * (last - first - 1) + 1, stride)
