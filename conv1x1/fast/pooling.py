"""Max pooling in the engine room: K*K maxima on stride-phase grids, and the gradient as one scatter-add."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._checks import as_pair, check_cache, check_dout, check_image_batch
from ..functional import pooling as plain_pooling
from ._grids import _PhaseGrids

__all__ = ["maxpool2d_forward", "maxpool2d_backward"]

FloatArray = NDArray[np.floating[Any]]   # an array of float16, float32 or float64


def maxpool2d_forward(x: FloatArray, kernel_size: int, stride: int | None = None, padding: int = 0,
                      ceil_mode: bool = False) -> tuple[FloatArray, plain_pooling.MaxPool2dCache]:
    """``conv1x1.maxpool2d_forward`` on stride-phase grids: each window offset is a slice of one flat array.

    Channel block by channel block, the input is copied into its stride phases,
    padding holding -inf (``_PhaseGrids``); then ``out`` is the running
    ``np.maximum`` of the K*K shifted slices, and ``best`` (where each maximum
    sits) the first offset, in row-major order, whose slice equals it: ties keep
    the first, as PyTorch and the plain function do. A window with no real
    maximum (all -inf) points at its first real element. An x holding NaN takes
    the plain function, whose rules for NaN (the last NaN wins) this one has not;
    so do windows whose kernel, stride or padding differ along H and W.
    ``best`` takes one byte per output pixel (uint8) for windows up to 16x16,
    whose 256 offsets a byte holds, and a full-size integer beyond.

    Why: the plain function reads every window offset as a strided view, where
    NumPy's loops run several times slower than on contiguous memory, and its
    ``best[better] = offset`` branches on every element. The trick is measured
    on SqueezeNet 1.0's training step by ``benchmarks/bench_networks.py --tricks``
    (its numbers are in docs/performance.md).
    """
    x = check_image_batch(x, layout="(N, C, H, W)")
    (k, kw), (stride, sw), (padding, pw), out_h, out_w = plain_pooling.check_pool_args(kernel_size, stride, padding,
                                                                                      ceil_mode, x.shape)
    if np.isnan(x).any() or (k, stride, padding) != (kw, sw, pw):    # the phase grids take square windows only
        return plain_pooling.maxpool2d_forward(x, (k, kw), (stride, sw), (padding, pw), ceil_mode)
    layout = _PhaseGrids(x.shape, x.itemsize, k, stride, padding, (out_h, out_w))
    n, c = x.shape[:2]
    out = np.empty((n, c, out_h, out_w), dtype=x.dtype)
    best = np.empty((n, c, out_h, out_w), dtype=np.uint8 if k * k <= 256 else np.intp)
    phases = layout.buffer(x.dtype, phases=True, fill=-np.inf)
    grid, index = layout.buffer(x.dtype, phases=False), layout.buffer(best.dtype, phases=False)
    for block in layout.blocks():
        channels = block.stop - block.start
        length = layout.length(channels)
        layout.split(x[:, block], phases)
        shifted = [phases[phase, offset:offset + length] for _, _, phase, offset, _ in layout.taps]
        np.copyto(grid[:length], shifted[0])
        for term in shifted[1:]:
            np.maximum(grid[:length], term, out=grid[:length])
        _first_equal(shifted, grid[:length], index[:length])
        np.copyto(out[:, block].transpose(1, 0, 2, 3), layout.output(grid, channels))
        np.copyto(best[:, block].transpose(1, 0, 2, 3), layout.output(index, channels))
    empty = out == -np.inf
    if empty.any():
        best[empty] = np.broadcast_to(plain_pooling.first_real(k, stride, padding, out_h, out_w), best.shape)[empty]
    return out, plain_pooling.MaxPool2dCache(x.shape, best, (k, k), (stride, stride), (padding, padding), x.dtype)


def _first_equal(shifted: list[FloatArray], maximum: FloatArray, index: NDArray[np.integer[Any]]) -> None:
    """``index[m]`` = the first t with ``shifted[t][m] == maximum[m]``, by whole-array steps (no branch per element)."""
    found = np.equal(shifted[0], maximum)
    hit = np.empty_like(found)
    index[...] = 0
    for tap, term in enumerate(shifted[1:], start=1):
        np.equal(term, maximum, out=hit)
        np.greater(hit, found, out=hit)         # a hit where none came before (True > False)
        found |= hit
        index += hit * index.dtype.type(tap)    # in index's own dtype: uint8 for windows up to 16x16


def maxpool2d_backward(dout: FloatArray, cache: plain_pooling.MaxPool2dCache) -> FloatArray:
    """``conv1x1.maxpool2d_backward`` as one scatter-add: ``np.bincount`` over the flat index of each maximum."""
    x_shape, best, kernel, stride, padding, dtype = check_cache(cache, plain_pooling.MaxPool2dCache,
                                                                "maxpool2d_backward", "maxpool2d_forward")
    (kh, kw), (sh, sw), (ph, pw) = as_pair(kernel), as_pair(stride), as_pair(padding)
    dout = check_dout(dout, best.shape, dtype)
    n, c, height, width = x_shape
    out_h, out_w = best.shape[2:]
    _, _, padded_h, padded_w = plain_pooling.padded_shape(x_shape, (kh, kw), (sh, sw), (ph, pw), (out_h, out_w))
    # Flat index of each maximum in the padded input = start of its (n, c) plane
    # + start of its window + its offset inside the window (best = p * KW + q).
    plane = np.arange(n * c).reshape(n, c, 1, 1) * (padded_h * padded_w)
    window = np.arange(out_h)[:, None] * sh * padded_w + np.arange(out_w)[None, :] * sw
    inside = np.arange(kh * kw) // kw * padded_w + np.arange(kh * kw) % kw
    flat_index = (plane + window + inside[best]).ravel()
    sums = np.bincount(flat_index, weights=dout.ravel(), minlength=n * c * padded_h * padded_w)
    dx: FloatArray = sums.reshape(n, c, padded_h, padded_w).astype(dtype, copy=False)  # bincount sums in float64
    return dx[:, :, ph:ph + height, pw:pw + width]
