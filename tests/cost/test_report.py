"""conv1x1.cost.report: a Report's totals against independent counts (the loops' MACs, the layers' arrays, hand
arithmetic), its other operations counted apart from MACs (and rebuilt into every counter's number of
docs/cost.md), by_kind, rows, addition and batch scaling; a Comparison's ratios. 1 MAC = 2 FLOPs; counts are
per image unless a batch is given, params never scaled."""

import json

import pytest

import conv1x1 as C
from conv1x1 import reference
from conv1x1.cost import (
    Comparison,
    Report,
    add_cost,
    batchnorm_cost,
    bottleneck_comparison,
    conv_cost,
    elementwise_cost,
    global_pool_cost,
    pool_cost,
)


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


def small():
    # conv 2 -> 4 on 3x3, K=1, bias: params 4*2 + 4 = 12, MACs 3*3*4*2 = 72, outputs 4*3*3 = 36
    # relu on (4, 3, 3): 36 activation ops
    return Report([conv_cost(2, 4, 3, 3, 1, name="c"), elementwise_cost("relu", 4, 3, 3, name="r")], title="net")


def test_report_rows_scale_counts_but_not_params():
    rows = small().rows(batch=3)
    assert [r["path"] for r in rows] == ["c", "r"]
    assert rows[0]["macs"] == 3 * 72 and rows[0]["flops"] == 3 * 144 and rows[0]["params"] == 12
    assert rows[0]["bias_adds"] == 3 * 36 and rows[1]["activation_ops"] == 3 * 36


def test_report_sums_of_op_counts_are_unknown_when_one_is_unknown():
    report = Report([elementwise_cost("relu", None, 2, 2), elementwise_cost("relu", 3, 2, 2)])
    assert report.activation_ops is None
    assert report.activations == 12  # unknown counts as 0 in the memory total
    assert Report().in_shape is None and Report().out_shape is None and Report().macs == 0


def test_report_counts_other_operations_apart_from_macs():
    report = Report([conv_cost(3, 4, 8, 8, 3, padding=1), batchnorm_cost(4, 8, 8), C.ReLU().cost_node((4, 8, 8), "r"),
                     add_cost((4, 8, 8)), pool_cost(4, 8, 8, 2), global_pool_cost(4, 4, 4),
                     conv_cost(4, 10, 1, 1, 1, name="fc")])
    assert report.macs == 8 * 8 * 4 * 3 * 9 + 10 * 4
    counts = report.counts()
    assert counts == {"M": report.macs, "B": 4 * 64 + 10, "Bc": 4 * 64, "Bf": 10, "N": 4 * 64, "Nc": 4,
                      "R": 4 * 64, "Pin": 4 * 64, "Gin": 4 * 16, "Gout": 4, "A": 4 * 64}
    assert report.pooling_ops == counts["Pin"] + counts["Gin"]
    assert report.layers[1].ops_formula == "bn ops = C·H·W = 4·8·8 = 256 (one y = a·x + c per element)"
    unknown = C.ReLU().cost(5, 5)
    assert unknown.activation_ops is None and "?" in unknown.layers[0].ops_formula


def test_report_counts_of_inception_3a_equal_the_counters_table():
    # docs/cost.md, measured by forward hooks on torch.nn modules: B = R = 288,512, Pin = 150,528
    counts = C.Inception(192, 64, 96, 128, 16, 32, 32).cost(28, 28).counts()
    assert counts == {"M": 128_049_152, "B": 288_512, "Bc": 288_512, "Bf": 0, "N": 0, "Nc": 0, "R": 288_512,
                      "Pin": 150_528, "Gin": 0, "Gout": 0, "A": 0}
    assert 28 * 28 * (64 + 96 + 128 + 16 + 32 + 32) == 288_512


def _inception():
    return C.Inception(192, 64, 96, 128, 16, 32, 32).cost(28, 28)


def test_report_by_kind_shares_are_fractions_of_the_totals():
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


def test_report_by_kind_adds_up_layers_of_the_same_kind():
    # 1x1 convs on 3x3: 2 -> 4 (MACs 9*4*2 = 72, params 8 + 4 = 12) and 4 -> 4 (MACs 9*4*4 = 144, params 16 + 4 = 20)
    # a 3x3 conv 4 -> 2, padding 1, no bias: MACs 9*2*4*9 = 648, params 2*4*9 = 72
    report = Report([conv_cost(2, 4, 3, 3, 1), conv_cost(4, 4, 3, 3, 1),
                     conv_cost(4, 2, 3, 3, 3, padding=1, bias=False)])
    kinds = report.by_kind()
    assert kinds["1x1"]["macs"] == 216 and kinds["1x1"]["params"] == 32
    assert kinds["kxk"]["macs"] == 648 and kinds["kxk"]["params"] == 72
    assert kinds["1x1"]["macs_share"] == pytest.approx(216 / 864)
    assert kinds["kxk"]["params_share"] == pytest.approx(72 / 104)
    assert kinds["depthwise"] == {"macs": 0, "params": 0, "macs_share": 0.0, "params_share": 0.0}


def test_report_repr_gives_exact_totals():
    # conv 2 -> 4, K=1 on 30x30: params 12, MACs 7,200, FLOPs 14,400
    assert repr(Report([conv_cost(2, 4, 30, 30, 1)])) == "Report(1 layers, params=12, macs=7,200, flops=14,400)"


@pytest.mark.parametrize("title", [5, None, b"net"])
def test_report_title_must_be_a_str(title):
    from conv1x1.cost.report import Report
    with pytest.raises(TypeError, match="title"):
        Report([], title=title)


def test_report_refuses_rows_that_are_not_layer_costs():
    with pytest.raises(TypeError, match="LayerCost"):
        Report([1, 2])


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


def test_comparison_as_report_keeps_both_trees():
    comparison = bottleneck_comparison(192, 16, 32, 28, 28)
    both = comparison.as_report()
    assert [child.macs for child in both.children] == [120_422_400, 12_443_648]


def test_comparison_is_immutable():
    import dataclasses
    comparison = Comparison(small(), small())
    with pytest.raises(dataclasses.FrozenInstanceError):
        comparison.baseline = small()


def test_report_walk_opens_the_reports_it_expands_and_never_a_layer():
    """walk yields (level, node, path, open): open is True for a nested report shown expanded, False for one shown
    closed (below ``depth``) and for every layer, which has nothing to open."""
    report = C.Sequential(C.Conv1x1(3, 4), C.Sequential(C.Conv1x1(4, 4), C.ReLU())).cost(3, 3)

    def shown(depth):
        return [(level, type(node).__name__, "/".join(path), is_open)
                for level, node, path, is_open in report.walk(depth)]
    assert shown(None) == [(0, "LayerCost", "0", False), (0, "Report", "1", True),
                           (1, "LayerCost", "1/1.0", False), (1, "LayerCost", "1/1.1", False)]
    assert shown(1) == [(0, "LayerCost", "0", False), (0, "Report", "1", False)]
