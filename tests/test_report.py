"""The report shows its working (formulas whose numbers multiply out to the counts), counts the
non-MAC operations apart, and lays the tree out in every format."""

import csv
import io
import json
import math
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import conv1x1 as C
from conv1x1.cost import (
    Report,
    add_cost,
    batchnorm_cost,
    bottleneck_comparison,
    concat_cost,
    conv_cost,
    exact,
    global_pool_cost,
    human,
    pool_cost,
)


def _numbers_of(formula):
    """'names = 28·28·32 = 25,088' -> ([28, 28, 32], 25088): the factors shown and the result shown."""
    _, numbers, result = formula.split(" = ")
    return [int(n.strip("()")) for n in numbers.split("·")], int(result.replace(",", ""))


@st.composite
def convolutions(draw):
    groups = draw(st.integers(1, 6))
    c_in = groups * draw(st.integers(1, 8))
    c_out = groups * draw(st.integers(1, 8))
    k = draw(st.integers(1, 7))
    padding = draw(st.integers(0, k - 1))
    height = draw(st.integers(max(1, k - 2 * padding), 40))
    width = draw(st.integers(max(1, k - 2 * padding), 40))
    return c_in, c_out, height, width, k, draw(st.integers(1, 4)), padding, draw(st.booleans()), groups


@settings(max_examples=300, deadline=None)
@given(convolutions())
def test_the_integers_shown_multiply_out_to_the_counts(conv):
    c_in, c_out, height, width, k, stride, padding, bias, groups = conv
    cost = conv_cost(c_in, c_out, height, width, k, stride, padding, bias=bias, groups=groups)
    out_h, out_w = (height + 2 * padding - k) // stride + 1, (width + 2 * padding - k) // stride + 1
    expected = out_h * out_w * c_out * (c_in // groups) * k * k
    factors, shown = _numbers_of(cost.formula)
    assert math.prod(factors) == shown == cost.macs == expected
    assert ("(C_in/groups)" in cost.formula) == (groups > 1)
    # params: C_out·(C_in/groups)·K·K (+ C_out)
    terms = cost.params_formula.split(" = ")[1].split(" + ")
    assert sum(math.prod(int(n) for n in term.split("·")) for term in terms) == cost.params
    assert cost.params == c_out * (c_in // groups) * k * k + (c_out if bias else 0)
    # the output size: evaluate the numbers of floor((H + 2p - K)/s) + 1 as written
    for part in cost.shape_formula.split("; "):
        numeric, value = part.split(" = ")[-2:]
        assert eval(numeric.replace("·", "*"), {"floor": math.floor}) == int(value)  # noqa: S307 - our own text
        assert int(value) in (out_h, out_w)
    assert cost.bias_adds == (c_out * out_h * out_w if bias else 0)


def test_the_issue_examples_word_for_word():
    assert conv_cost(192, 32, 28, 28, 5, padding=2).formula == \
        "H_out·W_out·C_out·C_in·K·K = 28·28·32·192·5·5 = 120,422,400"
    depthwise = conv_cost(32, 32, 112, 112, 3, padding=1, groups=32, bias=False)
    assert depthwise.formula == "H_out·W_out·C_out·(C_in/groups)·K·K = 112·112·32·1·3·3 = 3,612,672"
    assert depthwise.params_formula == "C_out·(C_in/groups)·K·K = 32·1·3·3 = 288"
    assert conv_cost(3, 8, 9, 7, 3, stride=2).shape_formula == (
        "H_out = floor((H + 2p - K)/s) + 1 = floor((9 + 2·0 - 3)/2) + 1 = 4; "
        "W_out = floor((W + 2p - K)/s) + 1 = floor((7 + 2·0 - 3)/2) + 1 = 3")


def test_ceil_mode_pooling_says_when_it_drops_a_window():
    pool = pool_cost(1, 5, 5, 2, stride=2, padding=1, ceil_mode=True)   # PyTorch gives 3, not ceil(5/2) + 1 = 4
    assert pool.out_shape == (1, 3, 3) and "- 1 (a last window" in pool.shape_formula
    assert pool.shape_formula.endswith("= 3")


def test_intensity_of_the_issue_example():
    layer = C.Conv1x1(192, 32).cost(28, 28)[0]
    assert layer.intensity(np.float32) == 4_816_896 / (4 * (150_528 + 6_176 + 25_088))
    assert layer.intensity(np.float64) == pytest.approx(layer.intensity(np.float32) / 2)
    assert layer.traffic_bytes(np.float32, batch=3) == 4 * (3 * (150_528 + 25_088) + 6_176)
    with pytest.raises(ValueError, match="unknown depth"):
        C.ReLU().cost(4, 4)[0].intensity()
    with pytest.raises(TypeError, match="dtype"):
        layer.intensity("int8")


def test_inception_3a_counts_equal_the_counters_table():
    # docs/cost.md, "Reading other counters", measured by forward hooks on torch.nn modules:
    # B = R = 288,512, Pin = 150,528
    counts = C.Inception(192, 64, 96, 128, 16, 32, 32).cost(28, 28).counts()
    assert counts == {"M": 128_049_152, "B": 288_512, "Bc": 288_512, "Bf": 0, "N": 0, "Nc": 0, "R": 288_512,
                      "Pin": 150_528, "Gin": 0, "Gout": 0, "A": 0}
    assert 28 * 28 * (64 + 96 + 128 + 16 + 32 + 32) == 288_512


def test_other_counts_are_named_and_never_in_macs():
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


def _inception():
    return C.Inception(192, 64, 96, 128, 16, 32, 32).cost(28, 28)


def test_summary_depth_keeps_the_totals_and_indents_the_levels():
    report = _inception()
    one, two = report.summary(depth=1), report.summary(depth=2)
    assert "1 (4 layers)" in one and "conv 3x3" not in one
    assert re.search(r"^  1\.2 +conv 3x3 ", two, re.M) and re.search(r"^1 +\(128, 28, 28\)", two, re.M)
    for text in (one, two, str(report)):
        assert re.search(r"^Total .*163\.7K +128\.0M", text, re.M) and "per image" in text
    assert "per batch of 4" in report.summary(batch=4) and "512.2M" in report.summary(batch=4)
    with pytest.raises(ValueError, match="depth"):
        report.summary(depth=0)


def test_tables_leave_out_columns_that_would_hold_only_zeros():
    alone = str(Report([conv_cost(192, 32, 28, 28, 1)]))
    assert "Bias adds" in alone and "BN ops" not in alone and "Activation ops" not in alone
    assert "Bias adds" not in str(Report([conv_cost(192, 32, 28, 28, 1, bias=False)]))


def test_explain_writes_every_row_with_its_working():
    text = bottleneck_comparison(192, 16, 32, 28, 28).explain()
    for line in ("MACs    H_out·W_out·C_out·C_in·K·K = 28·28·32·192·5·5 = 120,422,400",
                 "params  C_out·C_in·K·K + C_out = 16·192·1·1 + 16 = 3,088",
                 "MACs 2,408,448 + 10,035,200 = 12,443,648",
                 "120,422,400 / 12,443,648 = 9.68x"):
        assert line in text
    assert _inception().explain().count("    MACs    ") == 14


class _Details(HTMLParser):
    def __init__(self):
        super().__init__()
        self.depth = self.deepest = self.opened = 0
        self.titles = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "details":
            self.depth += 1
            self.deepest = max(self.deepest, self.depth)
            self.opened += "open" in attrs
        if "title" in attrs:
            self.titles.append(attrs["title"])

    def handle_endtag(self, tag):
        self.depth -= tag == "details"


def test_html_nests_collapsible_levels_with_the_formulas_as_tooltips():
    parser = _Details()
    parser.feed(_inception().to_html(depth=1))
    assert parser.deepest == 1 and parser.opened == 0 and parser.depth == 0
    assert "H_out·W_out·C_out·C_in·K·K = 28·28·128·96·3·3 = 86,704,128" in parser.titles
    parser = _Details()
    parser.feed(_inception()._repr_html_())
    assert parser.opened == 4


def test_flat_formats_have_a_path_per_layer():
    report = _inception()
    table = report.to_dict()
    assert table["path"][:3] == ["0/0.0", "0/0.1", "1/1.0"] and table["path"][-1] == "concat"
    assert sum(table["macs"]) == report.macs and len(table["path"]) == len(report)
    rows = list(csv.DictReader(io.StringIO(report.to_csv(batch=2))))
    assert [int(r["macs"]) for r in rows] == [2 * m for m in table["macs"]]
    assert rows[0]["out_shape"] == "(64, 28, 28)" and int(rows[0]["params"]) == table["params"][0]


def test_json_is_the_tree_with_totals_at_every_level():
    tree = json.loads(_inception().to_json())
    assert tree["macs"] == 128_049_152 and tree["per"] == "image"
    assert [child["macs"] for child in tree["children"][:4]] == [9_633_792, 101_154_816, 12_443_648, 4_816_896]
    assert tree["children"][1]["children"][2]["formula"].endswith("= 86,704,128")


def test_markdown_marks_levels_and_names_the_unit():
    text = _inception().to_markdown(depth=2)
    assert "| · 1.2 | conv 3x3 | (128, 28, 28) | 110,720 | 86,704,128 |" in text
    assert "| **1** |" in text and "per image" in text and "**128,049,152**" in text


def test_huge_counts_print_exactly_or_say_how_long_they_are():
    assert human(10**5000) == "1.0e5000" and human(2 * 10**300 + 5 * 10**299) == "2.5e300"
    assert exact(10**5000) == "(a number of 5001 digits)" and exact(10**4299) == f"{10**4299:,}"
    huge = conv_cost(10**2200, 10**2200, 28, 28, 1)
    assert "digits" in huge.formula and huge.macs == 28 * 28 * 10**4400
    assert "e4402" in str(Report([huge]))


def test_concat_shows_its_sum():
    assert concat_cost([(64, 28, 28), (128, 28, 28)]).shape_formula == "C = 64 + 128 = 192"
