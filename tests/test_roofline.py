"""The roofline: this machine's peaks measured once, and each layer's time as max(compute, memory)."""

import time

import numpy as np
import pytest

import conv1x1 as C
from conv1x1.cost import MachinePeaks, Report, conv_cost, machine_peaks


def test_machine_peaks_are_measured_once_and_say_how():
    first = machine_peaks()
    start = time.perf_counter()
    again = machine_peaks()
    assert again is first and time.perf_counter() - start < 0.01        # cached for the process
    assert set(first.gmacs) == {"float32", "float64"} and all(rate > 0 for rate in first.gmacs.values())
    assert first.gb_per_second > 0 and "np.matmul" in first.how and "np.copyto" in first.how
    assert "GMAC/s" in str(first) and "GB/s" in str(first)
    assert first.macs_per_second(np.float32) == first.gmacs["float32"] * 1e9
    with pytest.raises(ValueError, match="float16"):
        first.macs_per_second(np.float16)
    assert C.timing.machine_peaks is machine_peaks


# A made-up machine: 10 GMAC/s, 5 GB/s, so a layer is compute-bound above 2 MACs per byte.
SLOW = MachinePeaks({"float32": 10.0, "float64": 5.0}, 5.0, "made up for the test")
