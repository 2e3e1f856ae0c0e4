"""conv1x1.cost.roofline: predict gives each layer the larger of its compute time and its memory time on given
peaks (a tie is memory-bound), reads the weights once per batch, and checks its batch. The peaks are made up
here; measuring them is conv1x1.fast.timing's job (test_timing.py)."""

import numpy as np
import pytest

import conv1x1 as C
from conv1x1 import cost
from conv1x1.cost import (
    Report,
    conv_cost,
    elementwise_cost,
)
from conv1x1.fast.timing import MachinePeaks

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


def test_predict_takes_the_slower_of_compute_and_memory_per_batch():
    peaks = MachinePeaks({"float32": 2.0, "float64": 1.0}, 4.0, "made up")
    big = conv_cost(64, 64, 8, 8, 3, padding=1)   # high intensity: compute-bound
    small = elementwise_cost("relu", 64, 8, 8)    # no MACs: memory-bound
    report = Report([big, small], title="net")
    pred = report.predict(peaks, np.float32, batch=2)
    rows = list(pred)
    assert len(pred) == 2
    big_bytes = 4 * (2 * (64 * 64 + 64 * 64) + big.params)
    assert rows[0]["bytes"] == big_bytes and rows[0]["macs"] == 2 * big.macs
    assert rows[0]["seconds"] == max(2 * big.macs / 2e9, big_bytes / 4e9)
    assert rows[0]["bound"] == "compute" and rows[0]["intensity"] == 2 * big.macs / big_bytes
    small_bytes = 4 * 2 * (2 * 64 * 64)
    assert rows[1]["seconds"] == small_bytes / 4e9 and rows[1]["bound"] == "memory"
    assert pred.seconds == rows[0]["seconds"] + rows[1]["seconds"]
    assert peaks.ridge(np.float32) == 2e9 / 4e9
    assert "a batch of 2" in str(pred)


def test_predict_reads_the_weights_once_per_batch():
    layer = conv_cost(192, 32, 28, 28, 1)
    row = Report([layer]).predict(SLOW, np.float64, batch=8).rows[0]
    assert row["macs"] == 8 * layer.macs and row["bytes"] == 8 * (8 * (150_528 + 25_088) + 6_176)
    assert row["seconds"] == pytest.approx(max(8 * layer.macs / 5e9, row["bytes"] / 5e9))


def test_predict_calls_a_layer_exactly_at_the_ridge_memory_bound():
    """Compute-bound only when the compute time is the larger (the docstring's rule), so a tie is memory-bound."""
    from conv1x1.fast.timing import MachinePeaks
    layer = cost.conv_cost(16, 16, 2, 4, 1, bias=False)   # 2,048 MACs; 4 x (128 + 256 + 128) = 2,048 bytes
    prediction = cost.Report([layer]).predict(MachinePeaks({"float32": 1.0, "float64": 1.0}, 1.0, "x"))
    assert prediction.rows[0]["bound"] == "memory"


def test_predict_checks_batch_even_without_layers():
    peaks = MachinePeaks({"float32": 2.0, "float64": 1.0}, 4.0, "made up")
    with pytest.raises(ValueError, match="batch"):
        Report([]).predict(peaks, batch=0)
    assert Report([]).predict(peaks, batch=2).seconds == 0


def small():
    # conv 2 -> 4 on 3x3, K=1, bias: params 4*2 + 4 = 12, MACs 3*3*4*2 = 72, outputs 4*3*3 = 36
    # relu on (4, 3, 3): 36 activation ops
    return Report([conv_cost(2, 4, 3, 3, 1, name="c"), elementwise_cost("relu", 4, 3, 3, name="r")], title="net")


def test_prediction_is_immutable():
    import dataclasses
    prediction = small().predict(MachinePeaks({"float32": 2.0, "float64": 1.0}, 4.0, "made up"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        prediction.batch = 2


def test_predict_prices_one_image_by_default():
    """``conv1x1.cost.roofline.predict(report, peaks)``: batch 1, so each row's MACs are the layer's own."""
    report = Report([conv_cost(192, 32, 28, 28, 1), elementwise_cost("relu", 32, 28, 28)], title="t")
    prediction = cost.roofline.predict(report, SLOW)
    assert prediction.batch == 1
    assert [row["macs"] for row in prediction.rows] == [layer.macs for layer in report.layers] == [4_816_896, 0]
    assert prediction.rows[0]["bytes"] == 4 * (150_528 + 6_176 + 25_088)   # one image in, one out, the weights
