"""How a cost report looks: aligned text, Markdown, HTML, CSV and JSON.

``conv1x1.cost.report`` adds the numbers up; this module only lays them out.
Every function takes a ``Report`` (or a ``Comparison``, a ``Prediction``) and
returns text; the report's own methods (``summary``, ``to_markdown``, ...) call
them. Every table ends with the units: 1 MAC = 2 FLOPs.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .._checks import check_positive_int
from .formulas import OP_KEYS, ROW_KEYS, LayerCost, exact, human

if TYPE_CHECKING:
    from .report import Comparison, Report
    from .roofline import Prediction


OP_HEADERS = {"bias_adds": "Bias adds", "bn_ops": "BN ops", "activation_ops": "Activation ops",
              "pooling_ops": "Pooling ops", "add_ops": "Add ops"}
COUNT_KEYS = ("macs", "flops", "activations") + OP_KEYS   # the keys a batch multiplies (params stay)


def units_note(batch: int | None = None) -> str:
    """The line under every table: per image or per batch, and what a MAC is."""
    per = "per image" if batch is None else f"per batch of {batch} (params: once)"
    return (f"{per}; 1 MAC = 1 multiply-accumulate = 2 FLOPs; MACs count convolutions and FC layers only\n"
            "(bias adds, batch norm, activations, pooling and residual adds are counted apart, never in MACs)")


def check_batch(batch: int | None) -> int | None:
    return None if batch is None else check_positive_int(batch, "batch")


def check_depth(depth: int | None) -> int | None:
    return None if depth is None else check_positive_int(depth, "depth")


def shape_text(shape: Sequence[int | None] | None) -> str:
    return "(" + ", ".join("?" if s is None else str(s) for s in shape) + ")" if shape else ""


def scaled(value: Any, key: str, batch: int | None) -> Any:
    """``value`` for a whole batch: counts times ``batch``; params, names and shapes unchanged."""
    if batch is None or key not in COUNT_KEYS or value is None:
        return value
    return value * batch


def sum_text(values: Sequence[int]) -> str:
    """``'3,088 + 12,832 = 15,920'`` (non-zero terms; just the total past 8 terms)."""
    terms = [v for v in values if v]
    total = sum(values)
    if 1 < len(terms) <= 8:
        return " + ".join(exact(v) for v in terms) + f" = {exact(total)}"
    return exact(total)


def text_table(headers: Sequence[str], body: Sequence[Sequence[str]], left: int = 1, title: str = "",
               total: Sequence[str] | None = None, note: str = "") -> str:
    """Aligned columns: the first ``left`` left-aligned, the rest right-aligned."""
    everything = [headers, *body] + ([total] if total else [])
    widths = [max(len(row[i]) for row in everything) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    rule = "-" * len(line(headers))
    parts = [title] if title else []
    parts += [line(headers), rule, *map(line, body)]
    if total:
        parts += [rule, line(total)]
    if note:
        parts.append(note)
    return "\n".join(parts)


# ---------------------------------------------------------------- a report's columns and cells

def columns(report: Report) -> list[tuple[str, str]]:
    """(header, key) of each column shown: the ops columns only where some row has such ops."""
    shown = [("Layer", "name"), ("Kind", "kind"), ("Output (C, H, W)", "out_shape"), ("Params", "params"),
             ("MACs", "macs"), ("FLOPs (= 2 x MACs)", "flops")]
    return shown + [(OP_HEADERS[key], key) for key in OP_KEYS
                    if any(getattr(layer, key) != 0 for layer in report.layers)]


def cells(node: LayerCost | Report, shown: Sequence[tuple[str, str]], batch: int | None,
          text: Callable[[Any], str] = human) -> list[str]:
    """One row of text cells for ``node`` (a LayerCost or a Report's subtotal)."""
    row = []
    for _, key in shown:
        value = scaled(getattr(node, key), key, batch)
        if key == "out_shape":
            row.append(shape_text(value))
        elif key in ("name", "kind"):
            row.append(value)
        else:
            row.append(text(value))
    return row


def summary(report: Report, depth: int | None = None, batch: int | None = None) -> str:
    """The text table of ``Report.summary``."""
    depth, batch = check_depth(depth), check_batch(batch)
    shown = columns(report)
    body = []
    for level, node, _, expanded in report.walk(depth):
        row = cells(node, shown, batch)
        if not isinstance(node, LayerCost) and not expanded:
            row[0] += f" ({len(node.layers)} layers)"
        row[0] = "  " * level + row[0]
        body.append(row)
    total = cells(report, shown, batch)
    total[0], total[1] = "Total", ""
    return text_table([h for h, _ in shown], body, left=3, title=report.title, total=total, note=units_note(batch))


def explain(report: Report) -> str:
    """Every row's working, then the totals written out."""
    lines = [f"{report.title}: the working, per image" if report.title else "The working, per image"]
    lines += [layer.explain() for layer in report.layers]
    lines.append(f"Total params {sum_text([layer.params for layer in report.layers])}; "
                 f"MACs {sum_text([layer.macs for layer in report.layers])} "
                 f"(FLOPs = 2 x MACs = {exact(report.flops)}); "
                 + ", ".join(f"{OP_HEADERS[key].lower()} {exact(getattr(report, key))}" for key in OP_KEYS)
                 + " (each counted apart, not in MACs)")
    return "\n".join(lines)


def by_kind_table(report: Report) -> str:
    """``report.by_kind()`` as a text table (kinds with neither MACs nor params left out)."""
    rows = [[kind, human(entry["params"]), f"{entry['params_share']:.1%}", human(entry["macs"]),
             f"{entry['macs_share']:.1%}"]
            for kind, entry in report.by_kind().items() if entry["macs"] or entry["params"]]
    return text_table(["Kind", "Params", "share", "MACs", "share"], rows, left=1,
                      title=f"{report.title}: MACs and params by kind" if report.title else "",
                      note="per image; 1 MAC = 2 FLOPs; shares of the totals")


# ---------------------------------------------------------------- the other formats

def to_csv(report: Report, batch: int | None = None) -> str:
    """``report.to_dict()`` as CSV text (shapes written "(C, H, W)")."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    keys = ("path",) + ROW_KEYS
    writer.writerow(keys)
    for row in report.rows(batch):
        writer.writerow([shape_text(row[k]) if k.endswith("shape") else ("" if row[k] is None else row[k])
                         for k in keys])
    return buffer.getvalue()


def to_json(report: Report, batch: int | None = None, indent: int | None = 2) -> str:
    """``report.tree()`` as JSON text."""
    return json.dumps(report.tree(batch), indent=indent, ensure_ascii=False)


def to_markdown(report: Report, depth: int | None = None, batch: int | None = None) -> str:
    """The summary table in Markdown (GitHub-flavoured): containers in bold, levels marked with "·"."""
    depth, batch = check_depth(depth), check_batch(batch)
    shown = columns(report)

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in row) + " |"

    lines = [f"**{report.title}**", ""] if report.title else []
    lines += [line([h for h, _ in shown]), "|" + "|".join("---" if i < 3 else "---:" for i in range(len(shown))) + "|"]
    for level, node, _, _ in report.walk(depth):
        row = cells(node, shown, batch, exact)
        row[0] = "· " * level + (row[0] if isinstance(node, LayerCost) else f"**{row[0]}**")
        lines.append(line(row))
    total = cells(report, shown, batch, exact)
    lines.append(line(["**Total**", ""] + [f"**{c}**" if c else c for c in total[2:]]))
    return "\n".join(lines + ["", units_note(batch)])


def to_html(report: Report, depth: int | None = None, batch: int | None = None) -> str:
    """HTML: one table per level, containers as collapsible ``<details>`` (open down to ``depth``)."""
    depth, batch = check_depth(depth), check_batch(batch)
    shown = columns(report)
    caption = f"<caption>{html.escape(report.title)}</caption>" if report.title else ""
    return (_html_table(report, shown, depth, batch, 0, caption)
            + f"<p><small>{html.escape(units_note(batch))}; hover a number for its working</small></p>")


def _html_table(report: Report, shown: Sequence[tuple[str, str]], depth: int | None, batch: int | None, level: int,
                caption: str = "") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h, _ in shown)
    rows = []
    for child in report.children:
        if isinstance(child, LayerCost):
            rows.append(_html_row(child, shown, batch, "td"))
            continue
        totals = ", ".join(f"{h} {human(scaled(getattr(child, k), k, batch))}" for h, k in shown[3:6])
        opened = " open" if depth is None or level + 1 < depth else ""
        inner = _html_table(child, shown, depth, batch, level + 1)
        rows.append(f'<tr><td colspan="{len(shown)}"><details{opened}><summary><b>'
                    f"{html.escape(child.title)}</b> {html.escape(shape_text(child.out_shape))}: "
                    f"{html.escape(totals)}</summary>{inner}</details></td></tr>")
    total = _html_row(report, shown, batch, "th", name="Total")
    indent = ' style="margin-left:1.5em"' if level else ""
    return (f"<table{indent}>{caption}<thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody><tfoot>{total}</tfoot></table>")


def _html_row(node: LayerCost | Report, shown: Sequence[tuple[str, str]], batch: int | None, tag: str,
              name: str | None = None) -> str:
    row = []
    for i, (_, key) in enumerate(shown):
        value = scaled(getattr(node, key), key, batch)
        working = {"macs": "formula", "params": "params_formula", "out_shape": "shape_formula"}.get(key)
        if key in OP_KEYS:
            working = "ops_formula"
        if i == 0 and name is not None:
            text = name
        elif key in ("name", "kind"):
            text = value
        elif key == "out_shape":
            text = shape_text(value)
        else:
            text = human(value)
        title = getattr(node, working, "") if working and isinstance(node, LayerCost) else ""
        if not title and key not in ("name", "kind", "out_shape") and value is not None:
            title = exact(value)
        if batch is not None and isinstance(node, LayerCost) and key in COUNT_KEYS and title:
            title = f"{title}; x {batch} images = {exact(value)}"
        attributes = (f' title="{html.escape(title)}"' if title else "") + (
            ' style="text-align:right"' if i >= 3 else "")
        row.append(f"<{tag}{attributes}>{html.escape(text)}</{tag}>")
    return "<tr>" + "".join(row) + "</tr>"


# ---------------------------------------------------------------- comparisons and predictions

def _comparison_rows(comparison: Comparison) -> tuple[list[str], list[list[str]]]:
    headers = ["", "Params", "MACs", "FLOPs (= 2 x MACs)"]
    rows = [[report.title, human(report.params), f"{exact(report.macs)} ({human(report.macs)})",
             human(report.flops)] for report in (comparison.baseline, comparison.candidate)]
    ratio = f"{comparison.macs_ratio:.1f}x"
    rows.append(["ratio (baseline / candidate)", f"{comparison.params_ratio:.1f}x", ratio, ratio])
    return headers, rows


def comparison_text(comparison: Comparison) -> str:
    """The two totals and their ratio, then both reports' tables."""
    headers, rows = _comparison_rows(comparison)
    table = text_table(headers, rows, left=1, note="per image; 1 MAC = 2 FLOPs")
    return "\n\n".join([table, summary(comparison.baseline), summary(comparison.candidate)])


def comparison_html(comparison: Comparison) -> str:
    """The ratio table, then both reports side by side."""
    headers, rows = _comparison_rows(comparison)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return (f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            f'<div style="display:flex;gap:2em">{to_html(comparison.baseline)}{to_html(comparison.candidate)}</div>')


def prediction_text(prediction: Prediction) -> str:
    """A roofline prediction as a table: each layer's MACs, bytes, intensity, bound and time."""
    rows = prediction.rows
    body = [[row["path"], row["kind"], human(row["macs"]), human(row["bytes"]), f"{row['intensity']:.2f}",
             row["bound"], f"{row['seconds'] * 1e6:,.1f}"] for row in rows]
    total = ["Total", "", human(sum(r["macs"] for r in rows)), human(sum(r["bytes"] for r in rows)),
             "", "", f"{prediction.seconds * 1e6:,.1f}"]
    peaks = prediction.peaks
    per = "one image" if prediction.batch == 1 else f"a batch of {prediction.batch}"
    title = (f"Roofline prediction{' for ' + prediction.title if prediction.title else ''}, {prediction.dtype}, "
             f"{per}: time = max(MACs / {peaks.gmacs[prediction.dtype]:.1f} GMAC/s, bytes / "
             f"{peaks.gb_per_second:.1f} GB/s); compute-bound above {peaks.ridge(prediction.dtype):.1f} MACs/byte")
    return text_table(["Layer", "Kind", "MACs", "Bytes", "MACs/byte", "Bound", "Predicted (us)"], body,
                      left=2, title=title, total=total,
                      note="bytes = itemsize x (batch x (input + output elements) + parameters)")
