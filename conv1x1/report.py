"""Cost tables: a ``Report`` of ``LayerCost`` rows (a tree for containers), and a ``Comparison`` of two.

``str(report)`` is an aligned text table, ``report._repr_html_()`` renders in
Jupyter, ``report.to_dict()`` feeds ``pandas.DataFrame``. The numbers come from
``conv1x1.cost``; this module only adds them up and lays them out.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass

from .cost import KINDS, ROW_KEYS, UNITS_NOTE, LayerCost, human

__all__ = ["Report", "Comparison"]


def _shape_text(shape) -> str:
    return "(" + ", ".join("?" if s is None else str(s) for s in shape) + ")"


_COLUMNS = [  # (header, how to get the cell): the headers name the units
    ("Layer", lambda c: c.name),
    ("Kind", lambda c: c.kind),
    ("Output (C, H, W)", lambda c: _shape_text(c.out_shape)),
    ("Params", lambda c: human(c.params)),
    ("MACs", lambda c: human(c.macs)),
    ("FLOPs (= 2 x MACs)", lambda c: human(c.flops)),
]
_TEXT_COLUMNS = 3  # the first three are text (left-aligned), the rest numbers


class Report:
    """The cost of a network for one image: ``LayerCost`` rows, grouped as the network is.

    A leaf layer gives one ``LayerCost``; a container gives a ``Report`` whose
    children are its layers' costs (rows or nested reports), so totals exist at
    every level of the tree.

    Parameters
    ----------
    layers : iterable of LayerCost or Report
        The children, in order.
    title : str

    Attributes
    ----------
    children : tuple of LayerCost or Report
    layers : tuple of LayerCost
        Every leaf row, depth first: the flat table.
    params, macs, flops, backward_macs, activations : int
        Totals over the leaves (for one image).
    """

    def __init__(self, layers: Iterable = (), title: str = ""):
        self.children = tuple(layers)
        for child in self.children:
            if not isinstance(child, (LayerCost, Report)):
                raise TypeError(f"a Report holds LayerCost rows or Reports, got {type(child).__name__}")
        if not isinstance(title, str):
            raise TypeError(f"title must be a str, got {type(title).__name__}")
        self.title = title

    @property
    def layers(self) -> tuple:
        rows = []
        for child in self.children:
            rows.extend(child.layers if isinstance(child, Report) else [child])
        return tuple(rows)

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def flops(self) -> int:
        """2 x MACs."""
        return 2 * self.macs

    @property
    def backward_macs(self) -> int:
        """2 x MACs: input gradient and weight gradient of every convolution."""
        return 2 * self.macs

    @property
    def activations(self) -> int:
        return sum(layer.activations or 0 for layer in self.layers)

    @property
    def in_shape(self) -> tuple | None:
        """The input shape of the first layer, or None for an empty report."""
        return self.layers[0].in_shape if self.layers else None

    @property
    def out_shape(self) -> tuple | None:
        """The output shape of the last layer, or None for an empty report."""
        return self.layers[-1].out_shape if self.layers else None

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, index):
        return self.layers[index]

    def __iter__(self):
        return iter(self.layers)

    def __add__(self, other):
        if isinstance(other, LayerCost):
            other = Report([other])
        if not isinstance(other, Report):
            return NotImplemented
        title = " + ".join(t for t in (self.title, other.title) if t)
        return Report(self.children + other.children, title)

    def by_kind(self) -> dict:
        """MACs and params by layer kind: ``{kind: {"macs", "params", "macs_share", "params_share"}}``.

        Kinds (``conv1x1.cost.KINDS``): "1x1" (pointwise), "kxk" (dense KxK),
        "depthwise", "grouped", "fc" (an FC layer is a 1x1 convolution on a 1x1
        map) and "other" (batch norm and anything else with parameters). Shares
        are fractions of the totals (0 when the total is 0).
        """
        totals = {kind: {"macs": 0, "params": 0} for kind in KINDS}
        for layer in self.layers:
            totals[layer.category]["macs"] += layer.macs
            totals[layer.category]["params"] += layer.params
        for entry in totals.values():
            entry["macs_share"] = entry["macs"] / self.macs if self.macs else 0.0
            entry["params_share"] = entry["params"] / self.params if self.params else 0.0
        return totals

    def rows(self) -> list:
        """One dict of exact numbers per leaf layer."""
        return [layer.row() for layer in self.layers]

    def to_dict(self) -> dict:
        """Columns of exact numbers: ``pandas.DataFrame(report.to_dict())`` gives the table."""
        rows = self.rows()
        return {key: [row[key] for row in rows] for key in ROW_KEYS}

    def _table(self):
        headers = [header for header, _ in _COLUMNS]
        body = [[cell(layer) for _, cell in _COLUMNS] for layer in self.layers]
        total = ["Total", "", _shape_text(self.out_shape) if self.out_shape else "", human(self.params),
                 human(self.macs), human(self.flops)]
        return headers, body, total

    def __str__(self):
        headers, body, total = self._table()
        widths = [max(len(row[i]) for row in [headers, *body, total]) for i in range(len(headers))]

        def line(cells):
            return "  ".join(c.ljust(w) if i < _TEXT_COLUMNS else c.rjust(w)
                             for i, (c, w) in enumerate(zip(cells, widths)))

        rule = "-" * len(line(headers))
        parts = [self.title] if self.title else []
        parts += [line(headers), rule, *map(line, body), rule, line(total), UNITS_NOTE]
        return "\n".join(parts)

    def __repr__(self):
        return (f"Report({len(self.layers)} layers, params={self.params:,}, macs={self.macs:,}, "
                f"flops={self.flops:,})")

    def _repr_html_(self):
        headers, body, total = self._table()
        exact = [[layer.params, layer.macs, layer.flops] for layer in self.layers]

        def cells(row, tag, titles=None):
            out = []
            for i, value in enumerate(row):
                numeric = i >= _TEXT_COLUMNS
                title = f' title="{titles[i - _TEXT_COLUMNS]:,}"' if titles is not None and numeric else ""
                align = ' style="text-align:right"' if numeric else ""
                out.append(f"<{tag}{title}{align}>{html.escape(value)}</{tag}>")
            return "<tr>" + "".join(out) + "</tr>"

        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        rows = "".join(cells(row, "td", titles) for row, titles in zip(body, exact))
        totals = [self.params, self.macs, self.flops]
        return (f"<table>{caption}<thead>{cells(headers, 'th')}</thead><tbody>{rows}</tbody>"
                f"<tfoot>{cells(total, 'th', totals)}</tfoot></table>"
                f"<p><small>{html.escape(UNITS_NOTE)}</small></p>")


@dataclass(frozen=True)
class Comparison:
    """Two ways to compute the same map, side by side.

    Attributes
    ----------
    baseline, candidate : Report
    macs_ratio : float
        ``baseline.macs / candidate.macs``: how many times fewer MACs the candidate needs.
    params_ratio : float
        ``baseline.params / candidate.params``.
    """

    baseline: Report
    candidate: Report

    @property
    def macs_ratio(self) -> float:
        return self.baseline.macs / self.candidate.macs

    @property
    def params_ratio(self) -> float:
        return self.baseline.params / self.candidate.params

    def _summary(self):
        headers = ["", "Params", "MACs", "MACs (exact)", "FLOPs (= 2 x MACs)"]
        rows = [[report.title, human(report.params), human(report.macs), f"{report.macs:,}", human(report.flops)]
                for report in (self.baseline, self.candidate)]
        ratio = f"{self.macs_ratio:.1f}x"
        rows.append(["ratio (baseline / candidate)", f"{self.params_ratio:.1f}x", ratio, ratio, ratio])
        return headers, rows

    def __str__(self):
        headers, rows = self._summary()
        widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
        lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
                 for r in [headers, *rows]]
        lines.insert(1, "-" * len(lines[0]))
        lines.append("per image; 1 MAC = 2 FLOPs")
        return "\n\n".join(["\n".join(lines), str(self.baseline), str(self.candidate)])

    def _repr_html_(self):
        headers, rows = self._summary()
        head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
        return (f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
                f'<div style="display:flex;gap:2em">{self.baseline._repr_html_()}'
                f"{self.candidate._repr_html_()}</div>")
