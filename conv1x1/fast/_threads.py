"""Independent pieces of work on several cores: NumPy's element-wise loops run on one core each.

NumPy lets go of Python's global lock inside its loops over arrays, so threads run
them side by side. The engine room hands each thread a share of the channels (the
depthwise convolution's channel blocks, max pooling's) or of the images (ReLU's
backward pass): shares that write disjoint parts of one output array.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

THREADS = os.cpu_count() or 1       # threads the element-wise work runs on (1: all in the calling thread)
PARALLEL_SIZE = 1 << 18             # elements (1 MB of float32) below which ReLU stays on one thread
_pool = {}                          # the worker threads of this process (a fork's child starts its own)


def in_parallel(work, pieces) -> None:
    """Call ``work(piece)`` for every piece, the first in this thread and the rest on the pool.

    Each call runs under this thread's ``np.errstate`` (NumPy keeps it per thread), and an
    exception in any piece is raised here once every piece has finished.
    """
    pieces = list(pieces)
    if len(pieces) == 1:
        work(pieces[0])
        return
    settings = np.geterr()

    def run(piece):
        with np.errstate(**settings):
            work(piece)
    pool = _pool.get(os.getpid())
    if pool is None:
        pool = _pool[os.getpid()] = ThreadPoolExecutor(max(1, THREADS - 1), thread_name_prefix="conv1x1.fast")
    futures = [pool.submit(run, piece) for piece in pieces[1:]]
    try:
        run(pieces[0])
    finally:
        for future in futures:
            future.result()


def shares(count: int, minimum: int = 1) -> list:
    """``range(count)`` cut into up to ``THREADS`` contiguous slices of at least ``minimum`` items each."""
    parts = max(1, min(THREADS, count // max(minimum, 1)))
    bounds = [count * i // parts for i in range(parts + 1)]
    return [slice(start, stop) for start, stop in zip(bounds, bounds[1:])]
