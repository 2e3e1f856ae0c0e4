"""The cost counter, checked against real arrays and hand-computed published numbers."""

import itertools

import numpy as np
import pytest

import conv1x1 as C
from conv1x1.cost import Report, bottleneck_comparison, conv_cost, human, inception_cost, measure, pool_cost
from conv1x1.reference import conv2d_loops


@pytest.mark.parametrize("k, stride, padding", list(itertools.product([1, 2, 3, 5], [1, 2, 3], [0, 1, 2]))
                         + [(3, 1, "same"), (5, 1, "same"), (1, 1, "same")])
@pytest.mark.parametrize("h, w", [(7, 9), (5, 5)])
def test_out_shape_matches_the_real_convolution(rng, k, stride, padding, h, w):
    x = rng.standard_normal((1, 2, h, w))
    out, _ = C.conv2d_forward(x, rng.standard_normal((3, 2, k, k)), stride=stride, padding=padding)
    cost = conv_cost(2, 3, h, w, k, stride, padding)
    assert cost.out_shape == out.shape[1:]
    assert cost.activations == out[0].size


@pytest.mark.parametrize("k, stride, padding", [(1, 1, 0), (3, 1, 1), (3, 2, 0), (5, 1, "same"), (2, 3, 1)])
def test_macs_equal_a_count_made_by_the_loop_reference(rng, k, stride, padding):
    x = rng.standard_normal((1, 3, 6, 7))
    _, counted = conv2d_loops(x, rng.standard_normal((4, 3, k, k)), None, stride, padding)
    cost = conv_cost(3, 4, 6, 7, k, stride, padding)
    # The loop reference multiplies padded zeros too, as every dense convolution does.
    assert cost.macs == counted
    assert cost.flops == 2 * counted and cost.backward_macs == 2 * counted


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


def test_the_classic_bottleneck_numbers_exactly():
    comparison = bottleneck_comparison(192, 16, 32, 28, 28, kernel_size=5)
    assert comparison.baseline.macs == 120_422_400            # 28*28*32 * 192*5*5
    assert [layer.macs for layer in comparison.candidate] == [2_408_448, 10_035_200]  # 28*28*16*192, 28*28*32*16*25
    assert comparison.candidate.macs == 12_443_648
    assert comparison.macs_ratio == pytest.approx(120_422_400 / 12_443_648)
    assert 9.6 < comparison.macs_ratio < 9.7
    assert comparison.baseline.params == 192 * 32 * 25 + 32
    assert comparison.candidate.params == (192 * 16 + 16) + (16 * 32 * 25 + 32)
    text = str(comparison)
    for fact in ("120.4M", "12.4M", "9.7x", "120,422,400", "12,443,648"):
        assert fact in text


def test_googlenet_3a_and_3b_against_the_published_table():
    # Szegedy et al. 2015, table 1: inception (3a) 128M ops, (3b) 304M ops ("ops" are multiply-adds).
    a = inception_cost(192, 28, 28, 64, 96, 128, 16, 32, 32)
    b = inception_cost(256, 28, 28, 128, 128, 192, 32, 96, 64)
    assert round(a.macs / 1e6) == 128 and round(b.macs / 1e6) == 304
    assert a.out_shape == (256, 28, 28) and b.out_shape == (480, 28, 28)
    assert a.macs == 28 * 28 * (192 * 64 + 192 * 96 + 96 * 128 * 9 + 192 * 16 + 16 * 32 * 25 + 192 * 32)


def test_naive_inception_is_more_expensive_and_wider():
    reduced = inception_cost(192, 28, 28, 64, 96, 128, 16, 32, 32)
    naive = inception_cost(192, 28, 28, 64, 96, 128, 16, 32, 32, reductions=False)
    assert naive.macs == 28 * 28 * (192 * 64 + 192 * 128 * 9 + 192 * 32 * 25)
    assert naive.out_shape == (64 + 128 + 32 + 192, 28, 28)  # the pool branch passes all 192 channels on
    assert naive.macs > 2 * reduced.macs
    assert [layer.kind for layer in reduced] == ["conv 1x1", "relu", "conv 1x1", "relu", "conv 3x3", "relu",
                                                 "conv 1x1", "relu", "conv 5x5", "relu", "maxpool 3x3", "conv 1x1",
                                                 "relu", "concat"]
    pool = reduced[10]
    assert pool.macs == 0 and pool.params == 0 and pool.name == "3.0"
    # the tree: one child report per branch, each with its own totals, then the concatenation
    branches = reduced.children[:4]
    assert [b.macs for b in branches] == [28 * 28 * 192 * 64, 28 * 28 * (192 * 96 + 96 * 128 * 9),
                                          28 * 28 * (192 * 16 + 16 * 32 * 25), 28 * 28 * 192 * 32]
    assert sum(b.params for b in branches) == reduced.params and reduced.children[4].kind == "concat"


def test_units_are_named_in_str_and_html():
    report = bottleneck_comparison(192, 16, 32, 28, 28).candidate
    for text in (str(report), report._repr_html_()):
        assert "Params" in text and "MACs" in text and "FLOPs (= 2 x MACs)" in text
        assert "Output (C, H, W)" in text and "2 FLOPs" in text
    assert "<table>" in report._repr_html_() and "10,035,200" in report._repr_html_()
    assert "<table>" in bottleneck_comparison(192, 16, 32, 28, 28)._repr_html_()


def test_report_totals_concatenation_and_dict():
    first = Report([conv_cost(8, 4, 5, 5, 1)], title="a")
    second = Report([conv_cost(4, 2, 5, 5, 3, padding=1)], title="b")
    both = first + second
    assert len(both) == 2 and both.title == "a + b"
    assert both.macs == first.macs + second.macs and both.flops == 2 * both.macs
    assert both.params == 8 * 4 + 4 + 4 * 2 * 9 + 2
    assert both.activations == 4 * 25 + 2 * 25
    table = both.to_dict()
    assert table["macs"] == [first.macs, second.macs] and table["flops"] == [2 * first.macs, 2 * second.macs]
    assert both.rows()[1]["out_shape"] == (2, 5, 5)
    assert (first + conv_cost(4, 2, 5, 5, 1)).macs == first.macs + 4 * 2 * 25
    assert Report().to_dict()["macs"] == [] and Report().macs == 0


def test_bytes_for_a_dtype():
    cost = conv_cost(192, 32, 28, 28, 1)
    assert cost.param_bytes(np.float32) == 4 * (192 * 32 + 32)
    assert cost.activation_bytes(np.float64) == 8 * 32 * 28 * 28


@pytest.mark.parametrize("count, text", [(120_422_400, "120.4M"), (12_443_648, "12.4M"), (2_400, "2.4K"),
                                         (37, "37"), (0, "0"), (3.2e9, "3.2G"), (None, "?")])
def test_human_units(count, text):
    assert human(count) == text


@pytest.mark.parametrize("args, kwargs, error, match", [
    ((0, 32, 28, 28, 5), {}, ValueError, "in_channels"),
    ((192, -1, 28, 28, 5), {}, ValueError, "out_channels"),
    ((192, 32, 28.0, 28, 5), {}, TypeError, "height"),
    ((192, 32, 28, 0, 5), {}, ValueError, "width"),
    ((192, 32, 28, 28, 0), {}, ValueError, "kernel_size"),
    ((192, 32, 4, 4, 7), {}, ValueError, "larger than the padded input"),
    ((192, 32, 28, 28, 4), {"padding": "same"}, ValueError, "odd kernel"),
    ((192, 32, 28, 28, 5), {"padding": "same", "stride": 2}, ValueError, "stride=1"),
    ((192, 32, 28, 28, 5), {"stride": 0}, ValueError, "stride"),
    ((192, 32, 28, 28, 5), {"padding": -2}, ValueError, "padding"),
    (("192", 32, 28, 28, 5), {}, TypeError, "in_channels"),
])
def test_bad_sizes(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        conv_cost(*args, **kwargs)


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


def test_pool_and_activation_rows():
    pool = pool_cost(192, 28, 28, 3, stride=1, padding=1)
    assert (pool.macs, pool.params, pool.out_shape) == (0, 0, (192, 28, 28))
    assert pool_cost(8, 28, 28, 2).out_shape == (8, 14, 14)  # stride defaults to the kernel size
    relu = C.ReLU().cost(28, 28)
    assert relu.macs == 0 and relu[0].out_shape == (None, 28, 28) and "?" in str(relu)
    assert C.ReLU().cost(28, 28, in_channels=3).activations == 3 * 28 * 28


def test_measure_relates_time_to_macs():
    calls = []
    m = measure(lambda: calls.append(1), macs=1_000_000, repeat=3, warmup=2)
    assert len(calls) == 5 and m.seconds > 0 and m.macs == 1_000_000
    assert m.gmacs_per_second == pytest.approx(1e-3 / m.seconds)
    assert m.gflops_per_second == pytest.approx(2 * m.gmacs_per_second)
    assert "GMAC/s" in str(m)
    assert measure(lambda: None, conv_cost(4, 2, 3, 3, 1), repeat=1).macs == 4 * 2 * 9
