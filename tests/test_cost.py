"""The cost counter, checked against real arrays and hand-computed published numbers."""

import itertools

import numpy as np
import pytest

import conv1x1 as C
from conv1x1.cost import Report, bottleneck_comparison, conv_cost, human, inception_cost, measure, pool_cost
from conv1x1.reference import conv2d_loops


@pytest.mark.parametrize("layer", [
    C.Conv1x1(5, 3), C.Conv1x1(5, 3, bias=False), C.Conv2d(4, 6, 3, padding=1), C.Conv2d(2, 7, 5, bias=False),
    C.Sequential(C.Conv1x1(4, 2), C.ReLU(), C.Conv2d(2, 3, 3, padding="same"), C.Sigmoid()),
])
def test_params_equal_the_size_of_the_layer_arrays(layer):
    report = layer.cost(9, 9)
    assert report.params == sum(p.size for p in layer.params.values())


def test_layer_cost_matches_the_functions_and_the_output_shape(rng):
    net = C.Sequential(C.Conv1x1(192, 16, rng=rng), C.ReLU(), C.Conv2d(16, 32, 5, padding=2, rng=rng))
    report = net.cost(28, 28)
    comparison = bottleneck_comparison(192, 16, 32, 28, 28)
    assert report.macs == comparison.candidate.macs and report.params == comparison.candidate.params
    assert report.out_shape == net.forward(np.zeros((1, 192, 28, 28))).shape[1:]
    assert report[1].kind == "relu" and report[1].out_shape == (16, 28, 28)
    assert C.Conv1x1(192, 32).cost(28, 28).macs == 28 * 28 * 192 * 32


def test_bad_input_to_the_other_counters():
    with pytest.raises(ValueError, match="reduce_channels"):
        bottleneck_comparison(192, 0, 32, 28, 28)
    with pytest.raises(ValueError, match="odd kernel"):
        bottleneck_comparison(192, 16, 32, 28, 28, kernel_size=4)
    with pytest.raises(ValueError, match="in_channels"):
        inception_cost(-192, 28, 28, 64, 96, 128, 16, 32, 32)
    with pytest.raises(ValueError, match=r"Conv1x1\(5, 3, bias=True\) expects 5 input channels"):
        C.Conv1x1(5, 3).cost(4, 4, in_channels=6)
    with pytest.raises(TypeError, match="LayerCost"):
        Report([1, 2])


def test_measure_relates_time_to_macs():
    calls = []
    m = measure(lambda: calls.append(1), macs=1_000_000, repeat=3, warmup=2)
    assert len(calls) == 5 and m.seconds > 0 and m.macs == 1_000_000
    assert m.gmacs_per_second == pytest.approx(1e-3 / m.seconds)
    assert m.gflops_per_second == pytest.approx(2 * m.gmacs_per_second)
    assert "GMAC/s" in str(m)
    assert measure(lambda: None, conv_cost(4, 2, 3, 3, 1), repeat=1).macs == 4 * 2 * 9
