"""Timing helpers: the median of repeated calls, and the rate reached. Used by the examples and benchmarks.

Machines are noisy (other programs, BLAS threads competing for 2 cores), so a
single timing can be off by a factor of ten. Time many calls, keep the median,
and look at the spread before believing a ratio.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import NamedTuple

from ._validation import check_callable, check_non_negative_int, check_positive_int

__all__ = ["Measurement", "measure", "median_times"]


class Measurement(NamedTuple):
    """A timed call: every repeat's seconds, their median, and the rate achieved."""

    seconds: float
    macs: int
    times: tuple = ()

    @property
    def spread(self) -> tuple:
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

    def __str__(self):
        low, high = self.spread
        return (f"{self.seconds * 1e3:.2f} ms (median; {low * 1e3:.2f}-{high * 1e3:.2f} ms), "
                f"{self.gmacs_per_second:.1f} GMAC/s ({self.gflops_per_second:.1f} GFLOP/s)")


def measure(fn: Callable[[], object], macs, repeat=5, warmup=1) -> Measurement:
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
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return Measurement(statistics.median(times), macs, tuple(times))


def median_times(candidates: dict, repeats: int, min_seconds: float = 0.02) -> dict:
    """Median seconds per call of each candidate, over interleaved repeats.

    Each repeat runs every candidate once (in a loop long enough to last
    ``min_seconds``), so a noisy machine slows all of them alike.
    """
    loops = {}
    for name, fn in candidates.items():  # warm up, and pick a loop count per candidate
        fn()
        start = time.perf_counter()
        fn()
        one = time.perf_counter() - start
        loops[name] = max(1, int(min_seconds / max(one, 1e-9)))
    times = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, fn in candidates.items():
            start = time.perf_counter()
            for _ in range(loops[name]):
                fn()
            times[name].append((time.perf_counter() - start) / loops[name])
    return {name: statistics.median(values) for name, values in times.items()}
