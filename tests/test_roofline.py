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


def test_predict_is_the_larger_of_compute_time_and_memory_time():
    one_by_one = conv_cost(192, 32, 28, 28, 1)             # 4,816,896 MACs on 727,168 bytes: 6.6 MACs/byte
    relu = C.ReLU().cost_node((32, 28, 28), "relu")
    prediction = Report([one_by_one, relu], title="t").predict(SLOW, np.float32)
    conv_row, relu_row = prediction.rows
    assert conv_row["bytes"] == 4 * (150_528 + 6_176 + 25_088)
    assert conv_row["seconds"] == pytest.approx(4_816_896 / 10e9) and conv_row["bound"] == "compute"
    assert relu_row["seconds"] == pytest.approx(4 * 2 * 25_088 / 5e9) and relu_row["bound"] == "memory"
    assert prediction.seconds == pytest.approx(conv_row["seconds"] + relu_row["seconds"])
    text = str(prediction)
    assert "compute-bound above 2.0 MACs/byte" in text and "6.62" in text


def test_a_batch_reads_the_weights_once():
    layer = conv_cost(192, 32, 28, 28, 1)
    row = Report([layer]).predict(SLOW, np.float64, batch=8).rows[0]
    assert row["macs"] == 8 * layer.macs and row["bytes"] == 8 * (8 * (150_528 + 25_088) + 6_176)
    assert row["seconds"] == pytest.approx(max(8 * layer.macs / 5e9, row["bytes"] / 5e9))


def test_a_small_1x1_layer_has_lower_intensity_than_the_5x5_it_feeds():
    reduce, five = C.Inception(192, 64, 96, 128, 16, 32, 32).cost(28, 28).children[2].layers[::2]
    assert reduce.intensity() == pytest.approx(2_408_448 / (4 * (150_528 + 3_088 + 12_544)))    # 3.6
    assert five.intensity() == pytest.approx(10_035_200 / (4 * (12_544 + 12_832 + 25_088)))     # 49.7
    assert reduce.intensity() < five.intensity() / 10
