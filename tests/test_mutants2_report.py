"""Tests written to kill mutants of conv1x1/report.py that survived the suite (second mutation run).

Every expected number is worked by hand next to the assertion (1 MAC = 2 FLOPs; counts per image unless a
batch is given, params never scaled).
"""

import pytest

from conv1x1.cost import conv_cost, elementwise_cost
from conv1x1.cost.report import Comparison, Report
from conv1x1.timing import MachinePeaks


def small():
    # conv 2 -> 4 on 3x3, K=1, bias: params 4*2 + 4 = 12, MACs 3*3*4*2 = 72, outputs 4*3*3 = 36
    # relu on (4, 3, 3): 36 activation ops
    return Report([conv_cost(2, 4, 3, 3, 1, name="c"), elementwise_cost("relu", 4, 3, 3, name="r")], title="net")


@pytest.mark.parametrize("batch, error", [(0, ValueError), (-2, ValueError), (2.0, TypeError), (True, TypeError)])
def test_rows_and_to_dict_check_batch(batch, error):
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
def test_markdown_html_summary_check_depth(depth, error):
    for method in (small().to_markdown, small().to_html, small().summary):
        with pytest.raises(error, match="depth"):
            method(depth=depth)


def test_rows_scale_counts_but_not_params():
    rows = small().rows(batch=3)
    assert [r["path"] for r in rows] == ["c", "r"]
    assert rows[0]["macs"] == 3 * 72 and rows[0]["flops"] == 3 * 144 and rows[0]["params"] == 12
    assert rows[0]["bias_adds"] == 3 * 36 and rows[1]["activation_ops"] == 3 * 36


def test_html_cells_without_a_formula_show_the_exact_count_as_title():
    # conv 2 -> 4, K=1 on 30x30: MACs 30*30*4*2 = 7,200, FLOPs 14,400 (human: 7.2K, 14.4K)
    html = Report([conv_cost(2, 4, 30, 30, 1, name="c")]).to_html()
    assert '<td title="14,400" style="text-align:right">14.4K</td>' in html      # leaf FLOPs: no formula
    assert '<th title="7,200" style="text-align:right">7.2K</th>' in html        # Total MACs


def test_markdown_header_and_alignment_row():
    # 8 columns: Layer, Kind, Output, Params, MACs, FLOPs, Bias adds (the conv), Activation ops (the relu);
    # the first three left-aligned, the numbers right-aligned
    lines = small().to_markdown().splitlines()
    assert lines[:4] == ["**net**", "",
                         "| Layer | Kind | Output (C, H, W) | Params | MACs | FLOPs (= 2 x MACs) | Bias adds | Activation ops |",
                         "|---|---|---|---:|---:|---:|---:|---:|"]
    assert lines[4] == "| c | conv 1x1 | (4, 3, 3) | 12 | 72 | 144 | 36 | 0 |"


def test_html_ops_cells_show_their_ops_formula():
    # bias adds = H_out*W_out*C_out = 30*30*4 = 3,600 (human 3.6K)
    html = Report([conv_cost(2, 4, 30, 30, 1, name="c")]).to_html()
    assert '<td title="bias adds = H_out·W_out·C_out = 30·30·4 = 3,600" style="text-align:right">3.6K</td>' in html


def test_html_batch_titles_say_how_many_images():
    # MACs per image 30*30*4*2 = 7,200; for 2 images 14,400 (human 14.4K)
    html = Report([conv_cost(2, 4, 30, 30, 1, name="c")]).to_html(batch=2)
    assert ('<td title="H_out·W_out·C_out·C_in·K·K = 30·30·4·2·1·1 = 7,200; x 2 images = 14,400" '
            'style="text-align:right">14.4K</td>') in html


def test_by_kind_adds_up_layers_of_the_same_kind():
    # 1x1 convs on 3x3: 2 -> 4 (MACs 9*4*2 = 72, params 8 + 4 = 12) and 4 -> 4 (MACs 9*4*4 = 144, params 16 + 4 = 20)
    # a 3x3 conv 4 -> 2, padding 1, no bias: MACs 9*2*4*9 = 648, params 2*4*9 = 72
    report = Report([conv_cost(2, 4, 3, 3, 1), conv_cost(4, 4, 3, 3, 1), conv_cost(4, 2, 3, 3, 3, padding=1, bias=False)])
    kinds = report.by_kind()
    assert kinds["1x1"]["macs"] == 216 and kinds["1x1"]["params"] == 32
    assert kinds["kxk"]["macs"] == 648 and kinds["kxk"]["params"] == 72
    assert kinds["1x1"]["macs_share"] == pytest.approx(216 / 864)
    assert kinds["kxk"]["params_share"] == pytest.approx(72 / 104)
    assert kinds["depthwise"] == {"macs": 0, "params": 0, "macs_share": 0.0, "params_share": 0.0}


def test_comparison_is_immutable():
    import dataclasses
    comparison = Comparison(small(), small())
    with pytest.raises(dataclasses.FrozenInstanceError):
        comparison.baseline = small()


def test_report_repr_gives_exact_totals():
    # conv 2 -> 4, K=1 on 30x30: params 12, MACs 7,200, FLOPs 14,400
    assert repr(Report([conv_cost(2, 4, 30, 30, 1)])) == "Report(1 layers, params=12, macs=7,200, flops=14,400)"


def test_html_shape_cells_and_the_total_row():
    # conv 2 -> 4, K=1 on 30x30: output (4, 30, 30), (30 + 0 - 1)//1 + 1 = 30; params 4*2 + 4 = 12
    html = Report([conv_cost(2, 4, 30, 30, 1, name="c")], title="net").to_html()
    assert ('<td title="H_out = W_out = floor((H + 2p - K)/s) + 1 = floor((30 + 2·0 - 1)/1) + 1 = 30">'
            '(4, 30, 30)</td>') in html                                  # shapes are left-aligned, with working
    assert '<td title="C_out·C_in·K·K + C_out = 4·2·1·1 + 4 = 12" style="text-align:right">12</td>' in html
    assert "<tfoot><tr><th>Total</th><th></th><th>(4, 30, 30)</th>" in html


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


def test_by_kind_table_right_aligns_the_numbers():
    # 1x1: params 12 + 20 = 32 of 104 (30.8%), MACs 216 of 864 (25.0%); kxk: 72 (69.2%), 648 (75.0%)
    report = Report([conv_cost(2, 4, 3, 3, 1), conv_cost(4, 4, 3, 3, 1), conv_cost(4, 2, 3, 3, 3, padding=1, bias=False)])
    lines = report.by_kind_table().splitlines()
    assert lines[0] == "Kind  Params  share  MACs  share"
    assert lines[2] == "1x1       32  30.8%   216  25.0%"
    assert lines[3] == "kxk       72  69.2%   648  75.0%"


def test_to_json_keeps_unicode_and_indents_by_two():
    text = small().to_json()
    assert "·" in text and "\\u00b7" not in text          # the formulas' middle dots, as written
    assert text.splitlines()[1] == '  "title": "net",'


def test_prediction_table_left_aligns_layer_and_kind_only():
    # float32, 2 GMAC/s, 4 GB/s. conv: 72 MACs, bytes 4*(18 + 36 + 12) = 264; relu: 0 MACs, 4*(36 + 36) = 288
    prediction = small().predict(MachinePeaks({"float32": 2.0, "float64": 1.0}, 4.0, "made up"))
    lines = str(prediction).splitlines()
    assert lines[1].startswith("Layer  Kind      MACs  Bytes")
    assert lines[3].startswith("c      conv 1x1    72    264")
    assert lines[4].startswith("r      relu         0    288")


def test_prediction_is_immutable():
    import dataclasses
    prediction = small().predict(MachinePeaks({"float32": 2.0, "float64": 1.0}, 4.0, "made up"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        prediction.batch = 2


def test_html_nested_report_summary_line():
    # the child "net": params 12, MACs 72, FLOPs 144, output (4, 3, 3)
    outer = Report([small()], title="outer")
    assert ("<details open><summary><b>net</b> (4, 3, 3): Params 12, MACs 72, FLOPs (= 2 x MACs) 144</summary>"
            in outer.to_html())
    assert "<details><summary><b>net</b>" in outer.to_html(depth=1)     # depth 1: children closed
    assert "<details open><summary><b>net</b>" in outer.to_html(depth=2)


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


def test_html_depth_counts_levels_of_nesting():
    top = Report([Report([small()], title="mid")], title="top")
    html = top.to_html(depth=2)                       # open "mid" (level 1), close "net" (level 2)
    assert "<details open><summary><b>mid</b>" in html
    assert "<details><summary><b>net</b>" in html
    assert top.to_html(depth=3).count("<details open>") == 2


def test_predict_checks_batch_even_without_layers():
    peaks = MachinePeaks({"float32": 2.0, "float64": 1.0}, 4.0, "made up")
    with pytest.raises(ValueError, match="batch"):
        Report([]).predict(peaks, batch=0)
    assert Report([]).predict(peaks, batch=2).seconds == 0


def test_markdown_total_row_bolds_every_cell_from_the_shape_on():
    # totals of small(): output (4, 3, 3), params 12, MACs 72, FLOPs 144, bias adds 36, activation ops 36
    lines = small().to_markdown().splitlines()
    total = [line for line in lines if line.startswith("| **Total**")]
    assert total == ["| **Total** |  | **(4, 3, 3)** | **12** | **72** | **144** | **36** | **36** |"]
