"""Timing helpers: the median of repeated calls, and the rate reached. Used by the examples and benchmarks.

Machines are noisy (other programs, BLAS threads competing for 2 cores), so a
single timing can be off by a factor of ten. Time many calls, keep the median,
and look at the spread before believing a ratio.
"""

from __future__ import annotations

import functools
import statistics
import time
import tracemalloc
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, Protocol

import numpy as np
from numpy.typing import DTypeLike

from .._checks import check_callable, check_float_dtype, check_non_negative_int, check_positive_int

__all__ = ["Measurement", "measure", "median_times", "peak_over_output", "MachinePeaks", "machine_peaks"]


class HasMacs(Protocol):
    """A cost with a ``macs`` count (``Report``, ``LayerCost``)."""

    @property
    def macs(self) -> int:
        """Multiply-accumulates."""
        ...


class Measurement(NamedTuple):
    """A timed call: every repeat's seconds, their median, and the rate achieved."""

    seconds: float
    macs: int
    times: tuple[float, ...] = ()

    @property
    def spread(self) -> tuple[float, float]:
        """(fastest, slowest) seconds over the repeats."""
        return (min(self.times), max(self.times)) if self.times else (self.seconds, self.seconds)

    @property
    def gmacs_per_second(self) -> float:
        """Billions of multiply-accumulates per second."""
        return self.macs / self.seconds / 1e9

    @property
    def gflops_per_second(self) -> float:
        """Billions of FLOPs per second (2 per MAC)."""
        return 2 * self.gmacs_per_second

    def __str__(self) -> str:
        low, high = self.spread
        return (f"{self.seconds * 1e3:.2f} ms (median; {low * 1e3:.2f}-{high * 1e3:.2f} ms), "
                f"{self.gmacs_per_second:.1f} GMAC/s ({self.gflops_per_second:.1f} GFLOP/s)")


def measure(fn: Callable[[], object], macs: int | HasMacs, repeat: int = 5, warmup: int = 1) -> Measurement:
    """Time ``fn()`` (the median of ``repeat`` runs after ``warmup``) and relate it to its MACs.

    Parameters
    ----------
    fn : callable
        Called without arguments, e.g. ``lambda: layer.forward(x)``.
    macs : int or Report or LayerCost
        The predicted multiply-accumulates of one call.
    repeat : int, default 5
    warmup : int, default 1

    Returns
    -------
    Measurement
        ``.seconds`` (median), ``.times`` (every repeat), ``.spread`` and ``.gmacs_per_second``.
    """
    check_callable(fn, "fn", "lambda: layer.forward(x), taking no arguments")
    macs = check_non_negative_int(getattr(macs, "macs", macs), "macs")
    repeat = check_positive_int(repeat, "repeat")
    warmup = check_non_negative_int(warmup, "warmup")
    for _ in range(warmup):
        fn()
    times: list[float] = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return Measurement(statistics.median(times), macs, tuple(times))


def peak_over_output(forward: Callable[[], tuple[Any, Any]]) -> float:
    """Peak memory allocated (tracemalloc) during one ``forward()`` call, over the size of its output.

    ``forward`` returns ``(out, cache)``, as the library's ``*_forward`` functions do.
    """
    tracemalloc.start()
    tracemalloc.reset_peak()
    out, _cache = forward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return float(peak / out.nbytes)


# Seconds to pause before timing a candidate from another library (``median_times(..., pause=)``):
# longer than an idle OpenBLAS worker spins after a call (2**28 processor cycles). Without it the
# worker, still spinning after our NumPy candidates, takes a core from PyTorch's next timing on a
# 2-core machine (docs/performance.md, "Whole networks", gives what that did to the figures).
# The untimed call between the sleep and the timed loop wakes the cores and refills the caches,
# which a sleeping virtual core may have lost to another program.
LIBRARY_PAUSE = 0.25


def median_times(candidates: Mapping[str, Callable[[], object]], repeats: int, min_seconds: float = 0.02,
                 pause: float | Mapping[str, float] = 0.0) -> dict[str, float]:
    """Median seconds per call of each candidate, over interleaved repeats.

    Each repeat runs every candidate once (in a loop long enough to last
    ``min_seconds``), so a noisy machine slows all of them alike.

    With ``pause`` (seconds for every candidate, or ``{name: seconds}`` for some),
    a candidate's timed loop comes after that sleep and one untimed call. Give
    one to the candidates of another library than the rest: a
    library's worker threads keep spinning on the cores after its call returns
    (OpenBLAS's, behind NumPy's matmul) and would take a core from
    the next candidate; the untimed call then brings the processor and its caches
    back from the sleep, so each library is timed as if it ran alone.
    """
    pauses = dict(pause) if isinstance(pause, Mapping) else dict.fromkeys(candidates, pause)
    if any(seconds < 0 for seconds in pauses.values()):
        raise ValueError(f"pause must be a number of seconds >= 0 (or a dict of them), got {pause!r}")
    loops = {}
    for name, fn in candidates.items():  # warm up, and pick a loop count per candidate
        fn()
        start = time.perf_counter()
        fn()
        one = time.perf_counter() - start
        loops[name] = max(1, int(min_seconds / max(one, 1e-9)))
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, fn in candidates.items():
            if pauses.get(name):
                time.sleep(pauses[name])
                fn()
            start = time.perf_counter()
            for _ in range(loops[name]):
                fn()
            times[name].append((time.perf_counter() - start) / loops[name])
    return {name: statistics.median(values) for name, values in times.items()}


def torch_pauses(candidates: Mapping[str, object]) -> dict[str, float]:
    """``median_times``'s ``pause`` for the benchmarks: ``LIBRARY_PAUSE`` before each candidate whose
    name starts with "torch" (PyTorch's, timed beside NumPy's), none before the others."""
    return {name: LIBRARY_PAUSE for name in candidates if name.startswith("torch")}


class MachinePeaks(NamedTuple):
    """What this machine reached: GEMM multiply-accumulates per second, and memory copy bandwidth.

    Attributes
    ----------
    gmacs : dict
        ``{"float32": GMAC/s, "float64": GMAC/s}``: the best rate of ``np.matmul`` on
        large square matrices (billions of multiply-accumulates per second).
    gb_per_second : float
        The best rate of ``np.copyto`` on arrays far larger than the caches, counting
        the bytes read and the bytes written (1 GB = 1e9 bytes).
    how : str
        How they were measured, in words.
    """

    gmacs: dict[str, float]
    gb_per_second: float
    how: str

    def macs_per_second(self, dtype: DTypeLike) -> float:
        """The GEMM rate for ``dtype`` in MACs per second; ValueError if it was not measured."""
        name = check_measured_dtype(check_float_dtype(dtype).name, self.gmacs)
        return self.gmacs[name] * 1e9

    def ridge(self, dtype: DTypeLike) -> float:
        """The intensity (MACs per byte) above which a layer is compute-bound: peak / bandwidth."""
        return self.macs_per_second(dtype) / (self.gb_per_second * 1e9)

    def __str__(self) -> str:
        rates = ", ".join(f"{name} {rate:.1f} GMAC/s" for name, rate in self.gmacs.items())
        return f"GEMM {rates}; memory copy {self.gb_per_second:.1f} GB/s ({self.how})"


_PEAKS: dict[str, MachinePeaks] = {}


def machine_peaks(seconds: float = 1.0) -> MachinePeaks:
    """Measure this machine's GEMM rate (float32, float64) and copy bandwidth, once per process.

    Takes about ``seconds`` the first time (a third on each GEMM, a third on
    copies); later calls return the cached result. Each rate is the best of its
    repeats: a roofline is an upper bound, and a busy machine only ever slows a run down.

    Returns
    -------
    MachinePeaks
    """
    if "peaks" not in _PEAKS:
        budget = float(seconds) / 3
        n, size = 1024, 2**24   # 1024x1024 GEMM: 1,073,741,824 MACs; copies of 2**24 float32 (64 MiB)
        gmacs: dict[str, float] = {}
        runs: list[str] = []
        for dtype in (np.float32, np.float64):
            a = np.random.default_rng(0).standard_normal((n, n)).astype(dtype)
            best, count = _best_time(functools.partial(np.matmul, a, a), budget)   # a @ a
            gmacs[np.dtype(dtype).name] = n**3 / best / 1e9
            runs.append(f"{count} in {np.dtype(dtype).name}")
        src, dst = np.ones(size, np.float32), np.empty(size, np.float32)
        best_copy, copies = _best_time(lambda: np.copyto(dst, src), budget)
        how = (f"fastest of repeated np.matmul of two {n}x{n} matrices ({n**3:,} MACs each; "
               f"{' and '.join(runs)} runs) and of {copies} np.copyto of a {src.nbytes // 2**20} MiB float32 "
               "array, counting bytes read + bytes written")
        _PEAKS["peaks"] = MachinePeaks(gmacs, 2 * src.nbytes / best_copy / 1e9, how)
    return _PEAKS["peaks"]


def _best_time(fn: Callable[[], object], budget: float) -> tuple[float, int]:
    """(fastest seconds, runs) of ``fn()`` called after one warm-up until ``budget`` seconds have passed (3+ runs)."""
    fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < 3 or time.perf_counter() - start < budget:
        begin = time.perf_counter()
        fn()
        times.append(time.perf_counter() - begin)
    return min(times), len(times)


# ---------------------------------------------------------------- checks that belong here

def check_measured_dtype(dtype_name: str, measured: Mapping[str, float]) -> str:
    """Return ``dtype_name`` (e.g. "float32") if it is a key of ``measured`` (rates per dtype), else ValueError."""
    if dtype_name not in measured:
        raise ValueError(f"no GEMM rate was measured for {dtype_name}; measured: {', '.join(measured)}")
    return dtype_name
