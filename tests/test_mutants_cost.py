"""Tests written to kill mutants that survived a mutation run over cost.py and report.py (issue 10, section 7).

Every count, total and ratio is checked against an independent count: the MACs that conv1x1.reference's loops
actually perform, the shapes the layers actually produce, the parameters the layers actually hold, and
hand-worked arithmetic. 1 MAC = 1 multiply-accumulate = 2 FLOPs.
"""

import json

import numpy as np
import pytest

import conv1x1 as C
from conv1x1 import reference
from conv1x1.cost import (
    Comparison,
    Report,
    add_cost,
    batchnorm_cost,
    concat_cost,
    conv_cost,
    elementwise_cost,
    exact,
    global_pool_cost,
    human,
    pool_cost,
)
from conv1x1.timing import MachinePeaks

CONVS = [  # (C_in, C_out, H, W, K, stride, padding, groups, bias)
    (3, 4, 5, 6, 1, 1, 0, 1, True),
    (4, 6, 7, 5, 3, 1, 1, 1, True),
    (4, 8, 7, 7, 3, 2, 1, 2, False),
    (6, 6, 9, 8, 5, 2, 2, 6, True),
    (4, 4, 6, 6, 3, 3, 0, 4, False),
    (5, 7, 1, 1, 1, 1, 0, 1, True),   # a fully connected layer
]


@pytest.mark.parametrize("c_in, c_out, h, w, k, stride, padding, groups, bias", CONVS)
def test_conv_cost_equals_an_independent_count(rng, c_in, c_out, h, w, k, stride, padding, groups, bias):
    layer = C.Conv2d(c_in, c_out, k, stride=stride, padding=padding, groups=groups, bias=bias, rng=rng)
    x = rng.standard_normal((1, c_in, h, w))
    out = layer.forward(x)
    _, loop_macs = reference.conv2d_loops(x, layer.params["w"], layer.params.get("b"), stride, padding, groups)
    row = conv_cost(c_in, c_out, h, w, k, stride, padding, bias, groups=groups)
    assert row.macs == loop_macs
    assert row.flops == 2 * loop_macs
    assert row.backward_macs == 2 * loop_macs           # dx and dw: one product each
    assert row.params == sum(p.size for p in layer.params.values())
    assert row.out_shape == out.shape[1:]
    assert row.in_shape == (c_in, h, w)
    assert row.activations == out.size
    assert row.bias_adds == (out.size if bias else 0)
    assert (row.bn_ops, row.activation_ops, row.pooling_ops, row.add_ops) == (0, 0, 0, 0)
    assert row.param_bytes(np.float64) == 8 * row.params
    assert row.param_bytes() == 4 * row.params
    assert row.activation_bytes(np.float16) == 2 * out.size
    assert row.traffic_bytes(np.float64, batch=3) == 8 * (3 * (x.size + out.size) + row.params)
    assert row.traffic_bytes() == 4 * (x.size + out.size + row.params)
    assert row.intensity(np.float64) == row.macs / (8 * (x.size + out.size + row.params))
    assert str(row.macs) in row.formula.replace(",", "")
    report = layer.cost(h, w)
    assert (report.macs, report.params, report.activations) == (row.macs, row.params, row.activations)


def test_conv_categories():
    assert conv_cost(8, 8, 4, 4, 1).category == "1x1"
    assert conv_cost(8, 8, 1, 1, 1).category == "fc"
    assert conv_cost(8, 8, 4, 4, 3).category == "kxk"
    assert conv_cost(8, 8, 4, 4, 3, groups=8).category == "depthwise"
    assert conv_cost(8, 8, 4, 4, 3, groups=2).category == "grouped"
    assert conv_cost(8, 16, 4, 4, 1, groups=2).category == "grouped"
    with pytest.raises(ValueError, match="divide"):
        conv_cost(8, 6, 4, 4, 1, groups=4)


@pytest.mark.parametrize("k, stride, padding, ceil_mode", [(2, None, 0, False), (3, 2, 1, False), (3, 2, 0, True),
                                                           (3, 1, 1, False), (2, 3, 1, True)])
def test_pool_cost_counts_outputs_as_activations_and_inputs_as_pooling_ops(rng, k, stride, padding, ceil_mode):
    x = rng.standard_normal((1, 3, 7, 8))
    out, _ = C.maxpool2d_forward(x, k, stride, padding, ceil_mode)
    row = pool_cost(3, 7, 8, k, stride, padding, ceil_mode=ceil_mode)
    assert row.out_shape == out.shape[1:]
    assert row.activations == out.size                 # what the layer stores: its output
    assert row.pooling_ops == x.size                   # every input element is read once per window it is in
    assert (row.macs, row.params, row.flops, row.bias_adds) == (0, 0, 0, 0)
    layer_row = C.MaxPool2d(k, stride, padding, ceil_mode).cost(7, 8, 3)
    assert (layer_row.activations, layer_row.pooling_ops) == (out.size, x.size)


def test_unknown_depth_rows_say_unknown():
    row = pool_cost(None, 8, 8, 2)
    assert row.out_shape == (None, 4, 4) and row.activations is None and row.pooling_ops is None
    with pytest.raises(ValueError, match="unknown depth"):
        row.traffic_bytes()
    assert elementwise_cost("relu", None, 2, 2).activation_ops is None
    assert human(None) == "?" and exact(None) == "?"


def test_global_pool_elementwise_batchnorm_add_and_concat_counts():
    g = global_pool_cost(5, 3, 4)
    assert (g.out_shape, g.activations, g.pooling_ops, g.macs, g.params) == ((5, 1, 1), 5, 60, 0, 0)
    e = elementwise_cost("relu", 5, 3, 4)
    assert (e.out_shape, e.activations, e.activation_ops, e.macs) == ((5, 3, 4), 60, 60, 0)
    bn = batchnorm_cost(5, 3, 4)
    assert (bn.params, bn.bn_ops, bn.activations, bn.macs) == (2 * 5, 60, 60, 0)
    assert bn.params == sum(p.size for p in C.BatchNorm2d(5).params.values())
    a = add_cost((5, 3, 4))
    assert (a.add_ops, a.activations, a.macs, a.params) == (60, 60, 0, 0)
    c = concat_cost([(2, 3, 4), (5, 3, 4), conv_cost(1, 7, 3, 4, 1)])
    assert (c.out_shape, c.activations, c.macs) == ((14, 3, 4), 14 * 12, 0)
    assert concat_cost([(None, 3, 4), (2, 3, 4)]).out_shape == (None, 3, 4)
    with pytest.raises(ValueError):
        concat_cost([(2, 3, 4), (2, 4, 3)])
    with pytest.raises(ValueError):
        concat_cost([])
    with pytest.raises(TypeError):
        concat_cost("abc")


def _network():
    return C.Sequential(C.Conv2d(3, 8, 3, padding=1), C.BatchNorm2d(8), C.ReLU(), C.MaxPool2d(2),
                        C.Residual(C.Sequential(C.Conv1x1(8, 8), C.ReLU())), C.Conv1x1(8, 4, bias=False),
                        C.GlobalAvgPool2d(), C.Conv1x1(4, 10))


def test_report_totals_equal_the_sum_of_independent_counts(rng):
    net = _network()
    x = rng.standard_normal((1, 3, 8, 8))
    net.forward(x)
    report = net.cost(8, 8, 3)
    # independent: params held by the layers; MACs from the loops
    assert report.params == sum(p.size for p in net.params.values())
    macs = (reference.conv2d_loops(x, net[0].params["w"], None, 1, 1)[1] + 8 * 8 * 4 * 4 + 4 * 8 * 4 * 4 + 10 * 4)
    assert report.macs == macs
    assert report.flops == 2 * macs and report.backward_macs == 2 * macs
    assert report.bias_adds == 8 * 64 + 8 * 16 + 10
    assert report.bn_ops == 8 * 64
    assert report.activation_ops == 8 * 64 + 8 * 16
    assert report.pooling_ops == 8 * 64 + 4 * 16
    assert report.add_ops == 8 * 16
    counts = report.counts()
    assert counts == {"M": macs, "B": 8 * 64 + 8 * 16 + 10, "Bc": 8 * 64 + 8 * 16, "Bf": 10, "N": 8 * 64, "Nc": 8,
                      "R": 8 * 64 + 8 * 16, "Pin": 8 * 64, "Gin": 4 * 16, "Gout": 4, "A": 8 * 16}
    assert report.activations == sum(layer.activations for layer in report.layers)
    assert report.in_shape == (3, 8, 8) and report.out_shape == (10, 1, 1)
    assert len(report) == len(report.layers) == 10  # conv bn relu pool conv relu add conv gap fc
    assert report[0].in_shape == (3, 8, 8) and list(report)[-1].out_shape == (10, 1, 1)


def test_report_sums_of_op_counts_are_unknown_when_one_is_unknown():
    report = Report([elementwise_cost("relu", None, 2, 2), elementwise_cost("relu", 3, 2, 2)])
    assert report.activation_ops is None
    assert report.activations == 12  # unknown counts as 0 in the memory total
    assert Report().in_shape is None and Report().out_shape is None and Report().macs == 0


def test_by_kind_shares_are_fractions_of_the_totals():
    report = Report([conv_cost(4, 4, 2, 2, 1), conv_cost(4, 4, 2, 2, 3, padding=1, bias=False),
                     conv_cost(4, 4, 2, 2, 3, padding=1, groups=4, bias=False), conv_cost(4, 2, 1, 1, 1)])
    kinds = report.by_kind()
    assert kinds["1x1"]["macs"] == 64 and kinds["1x1"]["params"] == 20
    assert kinds["kxk"]["macs"] == 576 and kinds["kxk"]["params"] == 144
    assert kinds["depthwise"]["macs"] == 144 and kinds["depthwise"]["params"] == 36
    assert kinds["fc"]["macs"] == 8 and kinds["fc"]["params"] == 10
    total_macs, total_params = 64 + 576 + 144 + 8, 20 + 144 + 36 + 10
    assert kinds["kxk"]["macs_share"] == 576 / total_macs
    assert kinds["fc"]["params_share"] == 10 / total_params
    assert kinds["grouped"] == {"macs": 0, "params": 0, "macs_share": 0.0, "params_share": 0.0}
    empty = Report().by_kind()
    assert empty["1x1"]["macs_share"] == 0.0 and empty["1x1"]["params_share"] == 0.0
    table = report.by_kind_table()
    assert "72.7%" in table   # 576 / 792
    assert "grouped" not in table


def test_comparison_ratios_use_macs_for_macs_and_params_for_params():
    baseline = Report([conv_cost(192, 32, 28, 28, 5, padding=2)], title="5x5")
    candidate = Report([conv_cost(192, 16, 28, 28, 1), conv_cost(16, 32, 28, 28, 5, padding=2)], title="1x1 first")
    cmp = Comparison(baseline, candidate)
    base_params, cand_params = 32 * 192 * 25 + 32, (16 * 192 + 16) + (32 * 16 * 25 + 32)
    base_macs, cand_macs = 28 * 28 * 32 * 192 * 25, 28 * 28 * (16 * 192 + 32 * 16 * 25)
    assert cmp.params_ratio == base_params / cand_params
    assert cmp.macs_ratio == base_macs / cand_macs
    text = str(cmp)
    assert f"{base_params / cand_params:.1f}x" in text and f"{base_macs / cand_macs:.1f}x" in text
    assert f"{base_macs / cand_macs:.2f}x fewer MACs" in cmp.explain()
    both = cmp.as_report()
    assert both.macs == base_macs + cand_macs and both.params == base_params + cand_params
    assert f"{base_params / cand_params:.1f}x" in cmp._repr_html_()


def test_report_addition_and_batch_scaling():
    a, b = conv_cost(2, 3, 4, 4, 1), elementwise_cost("relu", 3, 4, 4)
    ra = Report([a], title="A")
    both = ra + b
    assert both.layers == (a, b) and both.title == "A"
    assert (ra + Report([b], title="B")).title == "A + B"
    assert ra.__add__(3) is NotImplemented
    rows = both.rows(batch=5)
    assert rows[0]["macs"] == 5 * a.macs and rows[0]["flops"] == 10 * a.macs
    assert rows[0]["params"] == a.params                   # parameters are stored once, not per image
    assert rows[0]["activations"] == 5 * 48 and rows[0]["bias_adds"] == 5 * 48
    assert rows[1]["activation_ops"] == 5 * 48
    assert both.rows()[0]["macs"] == a.macs
    tree = both.tree(batch=2)
    assert tree["macs"] == 2 * a.macs and tree["params"] == a.params and tree["per"] == "batch of 2"
    assert tree["children"][0]["macs"] == 2 * a.macs
    assert both.tree()["per"] == "image"
    assert json.loads(both.to_json())["macs"] == a.macs
    d = both.to_dict(batch=3)
    assert d["macs"] == [3 * a.macs, 0] and d["path"] == ["conv 1x1", "relu"]
    csv_lines = both.to_csv().splitlines()
    assert len(csv_lines) == 3 and str(a.macs) in csv_lines[1].split(",")


def test_text_tables_show_the_scaled_totals():
    report = Report([conv_cost(2, 3, 4, 4, 1)], title="T")
    assert "96" in report.summary() and "480" in report.summary(batch=5)        # 4*4*3*2 MACs, x 5
    assert "**480**" in report.to_markdown(batch=5)
    assert 'title="96; x 5 images = 480"' in report.to_html(batch=5) or "480" in report.to_html(batch=5)
    assert "Bias adds" in report.summary() and "BN ops" not in report.summary()


def test_prediction_is_the_slower_of_compute_and_memory():
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


@pytest.mark.parametrize("count, text", [
    (0, "0"), (999, "999"), (1000, "1.0K"), (1049, "1.0K"), (1050, "1.1K"), (1500, "1.5K"), (999_949, "999.9K"),
    (1_000_000, "1.0M"), (4_816_896, "4.8M"), (2_500_000_000, "2.5G"), (7 * 10**12, "7.0T"),
    (10**15, "1.0e15"), (123_456_789_012_345_678, "1.2e17"), (-1500, "-1.5K"), (-12, "-12"),
    (2.0, "2"), (1.5, "1.5"), (3000.0, "3.0K"), (np.int64(2000), "2.0K"), (float("inf"), "inf"), (None, "?")])
def test_human_counts(count, text):
    assert human(count) == text


def test_human_refuses_non_numbers_and_exact_has_commas():
    for bad in (True, "12", [1]):
        with pytest.raises(TypeError):
            human(bad)
    assert exact(4_816_896) == "4,816,896"
    assert exact(0) == "0"


def test_unknown_and_huge_numbers_print_as_words_not_errors():
    assert "(?, 8, 8)" in pool_cost(None, 8, 8, 2).explain() and "None" not in pool_cost(None, 8, 8, 2).explain()
    assert exact(10**5000) == "(a number of 5001 digits)"
    assert exact(-10**5000) == "(a number of 5001 digits)"
    assert exact(10**4299 - 1).count(",") == 1432                 # 4299 digits still print in full


def test_every_cost_function_checks_its_arguments():
    with pytest.raises(TypeError, match="ceil_mode"):
        pool_cost(3, 8, 8, 2, ceil_mode="yes")
    for bad in (0, 2.0):
        for call in (lambda c: global_pool_cost(c, 4, 4), lambda c: elementwise_cost("relu", c, 4, 4),
                     lambda c: batchnorm_cost(c, 4, 4), lambda c: pool_cost(c, 4, 4, 2)):
            with pytest.raises((TypeError, ValueError)):
                call(bad)
    for h, w in ((0, 4), (4, 0), (4.0, 4)):
        for call in (global_pool_cost, batchnorm_cost, lambda c, hh, ww: elementwise_cost("relu", c, hh, ww)):
            with pytest.raises((TypeError, ValueError)):
                call(4, h, w)


@pytest.mark.parametrize("count, text", [
    (999_949, "999.9K"), (999_950, "1.0M"), (999_999, "1.0M"), (999_950_000, "1.0G"),
    (999_949_999_999_999, "999.9T"), (999_950_000_000_000, "1.0e15"), (-999_950, "-1.0M"),
])
def test_human_carries_a_rounded_1000_into_the_next_unit(count, text):
    """Rounding 999,950 to one decimal of K gives 1000.0K, which is 1.0M (found by the mutation run)."""
    assert human(count) == text
