"""conv1x1.cost.render: the report shows its working (formulas whose numbers multiply out to the counts), names
its units, leaves out empty columns, scales by the batch, and lays the tree out in every format (text, explain,
markdown, HTML, JSON, CSV, by-kind, comparison and prediction tables), each cell where it belongs."""

import csv
import io
import json
import re
from html.parser import HTMLParser

import pytest

import conv1x1 as C
from conv1x1.cost import (
    Comparison,
    Report,
    bottleneck_comparison,
    conv_cost,
    elementwise_cost,
)
from conv1x1.fast.timing import MachinePeaks


def test_tables_name_the_units_in_str_and_html():
    report = bottleneck_comparison(192, 16, 32, 28, 28).candidate
    for text in (str(report), report._repr_html_()):
        assert "Params" in text and "MACs" in text and "FLOPs (= 2 x MACs)" in text
        assert "Output (C, H, W)" in text and "2 FLOPs" in text
    assert "<table>" in report._repr_html_() and "10,035,200" in report._repr_html_()
    assert "<table>" in bottleneck_comparison(192, 16, 32, 28, 28)._repr_html_()


def test_tables_leave_out_columns_that_would_hold_only_zeros():
    alone = str(Report([conv_cost(192, 32, 28, 28, 1)]))
    assert "Bias adds" in alone and "BN ops" not in alone and "Activation ops" not in alone
    assert "Bias adds" not in str(Report([conv_cost(192, 32, 28, 28, 1, bias=False)]))


def test_tables_show_the_scaled_totals():
    report = Report([conv_cost(2, 3, 4, 4, 1)], title="T")
    assert "96" in report.summary() and "480" in report.summary(batch=5)        # 4*4*3*2 MACs, x 5
    assert "**480**" in report.to_markdown(batch=5)
    assert 'title="96; x 5 images = 480"' in report.to_html(batch=5) or "480" in report.to_html(batch=5)
    assert "Bias adds" in report.summary() and "BN ops" not in report.summary()


def small():
    # conv 2 -> 4 on 3x3, K=1, bias: params 4*2 + 4 = 12, MACs 3*3*4*2 = 72, outputs 4*3*3 = 36
    # relu on (4, 3, 3): 36 activation ops
    return Report([conv_cost(2, 4, 3, 3, 1, name="c"), elementwise_cost("relu", 4, 3, 3, name="r")], title="net")


@pytest.mark.parametrize("batch, error", [(0, ValueError), (-2, ValueError), (2.0, TypeError), (True, TypeError)])
def test_every_table_and_rows_check_batch(batch, error):
    with pytest.raises(error, match="batch"):
        small().rows(batch)
    with pytest.raises(error, match="batch"):
        small().to_dict(batch)
    with pytest.raises(error, match="batch"):
        small().to_csv(batch)
    with pytest.raises(error, match="batch"):
        small().to_markdown(batch=batch)
    with pytest.raises(error, match="batch"):
        small().to_html(batch=batch)
    with pytest.raises(error, match="batch"):
        small().summary(batch=batch)
    with pytest.raises(error, match="batch"):
        small().tree(batch=batch)
    with pytest.raises(error, match="batch"):
        small().to_json(batch=batch)
    with pytest.raises(error, match="batch"):
        small().predict(MachinePeaks({"float32": 2.0, "float64": 1.0}, 4.0, "made up"), batch=batch)


@pytest.mark.parametrize("depth, error", [(0, ValueError), (-1, ValueError), (1.0, TypeError), (True, TypeError)])
def test_markdown_html_and_summary_check_depth(depth, error):
    for method in (small().to_markdown, small().to_html, small().summary):
        with pytest.raises(error, match="depth"):
            method(depth=depth)


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


def test_explain_writes_every_row_with_its_working():
    text = bottleneck_comparison(192, 16, 32, 28, 28).explain()
    for line in ("MACs    H_out·W_out·C_out·C_in·K·K = 28·28·32·192·5·5 = 120,422,400",
                 "params  C_out·C_in·K·K + C_out = 16·192·1·1 + 16 = 3,088",
                 "MACs 2,408,448 + 10,035,200 = 12,443,648",
                 "120,422,400 / 12,443,648 = 9.68x"):
        assert line in text
    assert _inception().explain().count("    MACs    ") == 14


def _ones(n):
    # n convs 1 -> 1 on 1x1 with bias: params 2 each, MACs 1 each, one bias add each
    return Report([conv_cost(1, 1, 1, 1, 1, name=str(i)) for i in range(n)])


def test_explain_writes_out_sums_of_up_to_eight_terms():
    last = _ones(8).explain().splitlines()[-1]
    assert last == ("Total params 2 + 2 + 2 + 2 + 2 + 2 + 2 + 2 = 16; MACs 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 = 8 "
                    "(FLOPs = 2 x MACs = 16); bias adds 8, bn ops 0, activation ops 0, pooling ops 0, add ops 0 "
                    "(each counted apart, not in MACs)")


def test_explain_gives_only_the_total_past_eight_terms():
    last = _ones(9).explain().splitlines()[-1]
    assert last.startswith("Total params 18; MACs 9 (FLOPs = 2 x MACs = 18); bias adds 9,")


def test_to_dict_and_to_csv_have_a_path_per_layer():
    report = _inception()
    table = report.to_dict()
    assert table["path"][:3] == ["0/0.0", "0/0.1", "1/1.0"] and table["path"][-1] == "concat"
    assert sum(table["macs"]) == report.macs and len(table["path"]) == len(report)
    rows = list(csv.DictReader(io.StringIO(report.to_csv(batch=2))))
    assert [int(r["macs"]) for r in rows] == [2 * m for m in table["macs"]]
    assert rows[0]["out_shape"] == "(64, 28, 28)" and int(rows[0]["params"]) == table["params"][0]


def test_to_json_is_the_tree_with_totals_at_every_level():
    tree = json.loads(_inception().to_json())
    assert tree["macs"] == 128_049_152 and tree["per"] == "image"
    assert [child["macs"] for child in tree["children"][:4]] == [9_633_792, 101_154_816, 12_443_648, 4_816_896]
    assert tree["children"][1]["children"][2]["formula"].endswith("= 86,704,128")


def test_to_json_keeps_unicode_and_indents_by_two():
    text = small().to_json()
    assert "·" in text and "\\u00b7" not in text          # the formulas' middle dots, as written
    assert text.splitlines()[1] == '  "title": "net",'


def test_to_markdown_marks_levels_and_names_the_unit():
    text = _inception().to_markdown(depth=2)
    assert "| · 1.2 | conv 3x3 | (128, 28, 28) | 110,720 | 86,704,128 |" in text
    assert "| **1** |" in text and "per image" in text and "**128,049,152**" in text


def test_to_markdown_header_and_alignment_row():
    # 8 columns: Layer, Kind, Output, Params, MACs, FLOPs, Bias adds (the conv), Activation ops (the relu);
    # the first three left-aligned, the numbers right-aligned
    lines = small().to_markdown().splitlines()
    assert lines[:4] == ["**net**", "",
                         "| Layer | Kind | Output (C, H, W) | Params | MACs | FLOPs (= 2 x MACs) | Bias adds "
                         "| Activation ops |",
                         "|---|---|---|---:|---:|---:|---:|---:|"]
    assert lines[4] == "| c | conv 1x1 | (4, 3, 3) | 12 | 72 | 144 | 36 | 0 |"


def test_to_markdown_total_row_bolds_every_cell_from_the_shape_on():
    # totals of small(): output (4, 3, 3), params 12, MACs 72, FLOPs 144, bias adds 36, activation ops 36
    lines = small().to_markdown().splitlines()
    total = [line for line in lines if line.startswith("| **Total**")]
    assert total == ["| **Total** |  | **(4, 3, 3)** | **12** | **72** | **144** | **36** | **36** |"]


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


def test_to_html_nests_collapsible_levels_with_the_formulas_as_tooltips():
    parser = _Details()
    parser.feed(_inception().to_html(depth=1))
    assert parser.deepest == 1 and parser.opened == 0 and parser.depth == 0
    assert "H_out·W_out·C_out·C_in·K·K = 28·28·128·96·3·3 = 86,704,128" in parser.titles
    parser = _Details()
    parser.feed(_inception()._repr_html_())
    assert parser.opened == 4


def test_to_html_depth_counts_levels_of_nesting():
    top = Report([Report([small()], title="mid")], title="top")
    html = top.to_html(depth=2)                       # open "mid" (level 1), close "net" (level 2)
    assert "<details open><summary><b>mid</b>" in html
    assert "<details><summary><b>net</b>" in html
    assert top.to_html(depth=3).count("<details open>") == 2


def test_to_html_nested_report_summary_line():
    # the child "net": params 12, MACs 72, FLOPs 144, output (4, 3, 3)
    outer = Report([small()], title="outer")
    assert ("<details open><summary><b>net</b> (4, 3, 3): Params 12, MACs 72, FLOPs (= 2 x MACs) 144</summary>"
            in outer.to_html())
    assert "<details><summary><b>net</b>" in outer.to_html(depth=1)     # depth 1: children closed
    assert "<details open><summary><b>net</b>" in outer.to_html(depth=2)


def test_to_html_cells_without_a_formula_show_the_exact_count_as_title():
    # conv 2 -> 4, K=1 on 30x30: MACs 30*30*4*2 = 7,200, FLOPs 14,400 (human: 7.2K, 14.4K)
    html = Report([conv_cost(2, 4, 30, 30, 1, name="c")]).to_html()
    assert '<td title="14,400" style="text-align:right">14.4K</td>' in html      # leaf FLOPs: no formula
    assert '<th title="7,200" style="text-align:right">7.2K</th>' in html        # Total MACs


def test_to_html_ops_cells_show_their_ops_formula():
    # bias adds = H_out*W_out*C_out = 30*30*4 = 3,600 (human 3.6K)
    html = Report([conv_cost(2, 4, 30, 30, 1, name="c")]).to_html()
    assert '<td title="bias adds = H_out·W_out·C_out = 30·30·4 = 3,600" style="text-align:right">3.6K</td>' in html


def test_to_html_batch_titles_say_how_many_images():
    # MACs per image 30*30*4*2 = 7,200; for 2 images 14,400 (human 14.4K)
    html = Report([conv_cost(2, 4, 30, 30, 1, name="c")]).to_html(batch=2)
    assert ('<td title="H_out·W_out·C_out·C_in·K·K = 30·30·4·2·1·1 = 7,200; x 2 images = 14,400" '
            'style="text-align:right">14.4K</td>') in html


def test_to_html_shape_cells_and_the_total_row():
    # conv 2 -> 4, K=1 on 30x30: output (4, 30, 30), (30 + 0 - 1)//1 + 1 = 30; params 4*2 + 4 = 12
    html = Report([conv_cost(2, 4, 30, 30, 1, name="c")], title="net").to_html()
    assert ('<td title="H_out = W_out = floor((H + 2p - K)/s) + 1 = floor((30 + 2·0 - 1)/1) + 1 = 30">'
            '(4, 30, 30)</td>') in html                                  # shapes are left-aligned, with working
    assert '<td title="C_out·C_in·K·K + C_out = 4·2·1·1 + 4 = 12" style="text-align:right">12</td>' in html
    assert "<tfoot><tr><th>Total</th><th></th><th>(4, 30, 30)</th>" in html


def test_by_kind_table_right_aligns_the_numbers():
    # 1x1: params 12 + 20 = 32 of 104 (30.8%), MACs 216 of 864 (25.0%); kxk: 72 (69.2%), 648 (75.0%)
    report = Report([conv_cost(2, 4, 3, 3, 1), conv_cost(4, 4, 3, 3, 1),
                     conv_cost(4, 2, 3, 3, 3, padding=1, bias=False)])
    lines = report.by_kind_table().splitlines()
    assert lines[0] == "Kind  Params  share  MACs  share"
    assert lines[2] == "1x1       32  30.8%   216  25.0%"
    assert lines[3] == "kxk       72  69.2%   648  75.0%"


def test_by_kind_table_keeps_kinds_with_params_but_no_macs():
    # conv 2 -> 4 on 3x3 (params 12, MACs 72) + batch norm on 4 channels (params 2*4 = 8, no MACs: kind "other")
    from conv1x1.cost import batchnorm_cost
    lines = Report([conv_cost(2, 4, 3, 3, 1), batchnorm_cost(4, 3, 3)]).by_kind_table().splitlines()
    assert [line.split() for line in lines[2:4]] == [["1x1", "12", "60.0%", "72", "100.0%"],
                                                     ["other", "8", "40.0%", "0", "0.0%"]]


def test_comparison_table_right_aligns_every_number_column():
    # a: params 4*2 + 4 = 12, MACs 30*30*4*2 = 7,200; b: no bias, params 8, same MACs; ratios 12/8 = 1.5, 1.0
    a = Report([conv_cost(2, 4, 30, 30, 1)], title="a")
    b = Report([conv_cost(2, 4, 30, 30, 1, bias=False)], title="b")
    lines = str(Comparison(a, b)).splitlines()
    first = len("ratio (baseline / candidate)")
    assert lines[0] == " " * first + "  Params          MACs  FLOPs (= 2 x MACs)"
    assert lines[2] == "a".ljust(first) + "      12  7,200 (7.2K)" + "14.4K".rjust(20)
    assert lines[3] == "b".ljust(first) + "       8  7,200 (7.2K)" + "14.4K".rjust(20)
    assert lines[4] == "ratio (baseline / candidate)    1.5x          1.0x" + "1.0x".rjust(20)


def test_prediction_table_left_aligns_layer_and_kind_only():
    # float32, 2 GMAC/s, 4 GB/s. conv: 72 MACs, bytes 4*(18 + 36 + 12) = 264; relu: 0 MACs, 4*(36 + 36) = 288
    prediction = small().predict(MachinePeaks({"float32": 2.0, "float64": 1.0}, 4.0, "made up"))
    lines = str(prediction).splitlines()
    assert lines[1].startswith("Layer  Kind      MACs  Bytes")
    assert lines[3].startswith("c      conv 1x1    72    264")
    assert lines[4].startswith("r      relu         0    288")


def test_render_to_json_indents_by_two_by_default():
    """``conv1x1.cost.render.to_json(report)``, called without ``indent``, gives what ``report.to_json()`` gives."""
    from conv1x1.cost import render

    text = render.to_json(small())
    assert text.splitlines()[1] == '  "title": "net",'
    assert text == small().to_json()
