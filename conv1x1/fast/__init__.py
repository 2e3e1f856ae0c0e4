"""The engine room: faster versions of the plain functions, with the same signatures and results.

The layers and the examples use the plain functions of ``conv1x1.functional``,
which read like their formulas. This package keeps the tricks that make the same
computations faster, each only because ``benchmarks/bench_networks.py`` shows it
buys at least 10% on a whole network's training step (``--tricks``: the step
without the trick over the step with all; float32, one thread, CPU time); the
figures are in docs/performance.md. The functional, layer and network tests run
over both versions, so they give the same numbers, up to rounding: the sums run
in another order (in float16 the depthwise route, which rounds after each of its
K*K terms, has a larger error than the plain route).

Using it
--------
Call a function directly (``conv1x1.fast.conv2d_forward(x, w, ...)``), or run
whole layers, containers and networks on it::

    with C.fast.enabled():
        out = model.forward(x)
        dx = model.backward(dout)

One module per family, as in ``conv1x1.functional``:

- ``conv2d``: the depthwise convolution (``groups == C_in == C_out``), any
  stride, on stride-phase grids (``_grids``): the input is copied once into its
  stride phases, where every kernel offset is a slice of one flat array, and the
  K*K multiply-adds run on contiguous memory, a block of channels per NumPy
  call (MobileNet v1's step). Every other KxK convolution takes the plain im2col
  route.
- ``pooling``: max pooling on the same phase grids, -inf in the padding, and its
  gradient as one scatter-add, ``np.bincount`` (SqueezeNet 1.0's step).
- ``activations``: ReLU's backward pass as a product with a mask, no branch per
  element (NiN's and ResNet-50's steps).

``conv1x1``, ``conv1x1_forward`` and ``conv1x1_backward`` are the plain ones: a
view and one ``np.matmul`` per formula leave nothing to gain.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

from .. import functional
from ..functional.pointwise import conv1x1, conv1x1_backward, conv1x1_forward
from . import timing
from .activations import relu_backward
from .conv2d import DepthwiseCache, conv2d_backward, conv2d_forward
from .pooling import maxpool2d_backward, maxpool2d_forward

__all__ = ["enabled", "timing", "conv1x1", "conv1x1_forward", "conv1x1_backward", "conv2d_forward",
           "conv2d_backward", "DepthwiseCache", "maxpool2d_forward", "maxpool2d_backward", "relu_backward"]

# The functions of conv1x1.functional that this package replaces under enabled().
FUNCTIONS = ("conv2d_forward", "conv2d_backward", "maxpool2d_forward", "maxpool2d_backward", "relu_backward")

_lock = threading.Lock()
_users = 0          # how many enabled() blocks are open, in every thread
_plain: dict[str, Callable[..., Any]] = {}   # conv1x1.functional's functions as they were when the first block opened


@contextlib.contextmanager
def enabled() -> Iterator[None]:
    """Run every layer on the engine room's functions inside the ``with`` block, the plain ones after it.

    The layers call their stateless function through the module ``conv1x1.functional``
    at call time (``F.conv2d_forward(...)``); inside the block that module's
    ``FUNCTIONS`` are this package's versions, so every layer, container, block and
    network built from them takes the fast path. On the way out (an exception too) the
    plain functions are put back. Blocks may nest and overlap: the plain functions
    come back when the last open block closes.

    It is process-wide, not thread-local: while a block is open in one thread, layers
    running in every other thread take the fast path too. ``conv1x1.conv2d_forward`` &
    co. (the names at the top of the package) and ``conv1x1.functional.conv2d.conv2d_forward``
    stay the plain functions throughout.

    Run a layer's forward and its backward under the same setting. Every cache the fast
    functions make is the plain one, and the fast backward passes read every plain cache,
    with one exception: a depthwise convolution's fast cache (``DepthwiseCache``) holds its
    input, not the im2col matrix the plain backward reads (the fast route never builds it),
    so the plain ``conv2d_backward`` refuses it with a TypeError.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> block = C.DepthwiseSeparable(8, 16, rng=0)
    >>> x = np.random.default_rng(0).standard_normal((2, 8, 6, 6))
    >>> plain = block.forward(x)
    >>> with C.fast.enabled():
    ...     fast = block.forward(x)
    >>> bool(np.allclose(fast, plain))
    True
    >>> C.functional.conv2d_forward is C.functional.conv2d.conv2d_forward   # the plain one again
    True
    """
    global _users
    with _lock:
        if _users == 0:
            _plain.update({name: getattr(functional, name) for name in FUNCTIONS})
            for name in FUNCTIONS:
                setattr(functional, name, globals()[name])
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                for name in FUNCTIONS:
                    setattr(functional, name, _plain[name])
