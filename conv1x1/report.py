"""Cost tables: a ``Report`` of ``LayerCost`` rows (a tree for containers), a ``Comparison`` of two,
and a roofline ``Prediction``.

``str(report)`` is an aligned text table with subtotals at every level of the
tree; ``report.summary(depth=2)`` stops at a depth (torchinfo-like),
``report.explain()`` writes out every row's working, ``report._repr_html_()``
renders in Jupyter (collapsible ``<details>`` levels, formulas as tooltips),
``report.to_dict()`` feeds ``pandas.DataFrame`` (one row per layer, with its
``path`` in the tree), and ``to_markdown()``, ``to_csv()`` and ``to_json()``
write the other formats. The numbers come from ``conv1x1.cost``; this module
only adds them up and lays them out.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ._validation import check_float_dtype, check_positive_int, check_str
from .cost import KINDS, OP_KEYS, ROW_KEYS, LayerCost, MacUnits, exact, human

__all__ = ["Report", "Comparison", "Prediction", "units_note"]

OP_HEADERS = {"bias_adds": "Bias adds", "bn_ops": "BN ops", "activation_ops": "Activation ops",
              "pooling_ops": "Pooling ops", "add_ops": "Add ops"}
_COUNT_KEYS = ("macs", "flops", "activations") + OP_KEYS   # the keys a batch multiplies (params stay)


def units_note(batch=None) -> str:
    """The line under every table: per image or per batch, and what a MAC is."""
    per = "per image" if batch is None else f"per batch of {batch} (params: once)"
    return (f"{per}; 1 MAC = 1 multiply-accumulate = 2 FLOPs; MACs count convolutions and FC layers only\n"
            "(bias adds, batch norm, activations, pooling and residual adds are counted apart, never in MACs)")


def _shape_text(shape) -> str:
    return "(" + ", ".join("?" if s is None else str(s) for s in shape) + ")" if shape else ""


def _check_batch(batch):
    return None if batch is None else check_positive_int(batch, "batch")


def _scaled(value, key, batch):
    """``value`` for a whole batch: counts times ``batch``; params, names and shapes unchanged."""
    if batch is None or key not in _COUNT_KEYS or value is None:
        return value
    return value * batch


def _sum(values):
    """The sum, or None if any value is unknown (None)."""
    values = list(values)
    return None if any(v is None for v in values) else sum(values)


class Report(MacUnits):
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
    bias_adds, bn_ops, activation_ops, pooling_ops, add_ops : int or None
        Totals of the counts kept apart from MACs (None if a row's depth is unknown).
        ``counts()`` gives them under the symbols of docs/cost.md.

    Examples
    --------
    >>> import conv1x1 as C
    >>> report = C.Inception(192, 64, 96, 128, 16, 32, 32).cost(28, 28)
    >>> report.macs, report.bias_adds, report.activation_ops, report.pooling_ops
    (128049152, 288512, 288512, 150528)
    """

    def __init__(self, layers: Iterable = (), title: str = ""):
        self.children = tuple(layers)
        for child in self.children:
            if not isinstance(child, (LayerCost, Report)):
                raise TypeError(f"a Report holds LayerCost rows or Reports, got {type(child).__name__}")
        self.title = check_str(title, "title")

    # -- totals
    @property
    def layers(self) -> tuple:
        rows = []
        for child in self.children:
            rows.extend(child.layers if isinstance(child, Report) else [child])
        return tuple(rows)

    @property
    def name(self) -> str:
        """The title: what this node is called as a row of its parent's table."""
        return self.title

    @property
    def kind(self) -> str:
        return ""

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)


    @property
    def activations(self) -> int:
        return sum(layer.activations or 0 for layer in self.layers)

    @property
    def bias_adds(self) -> int:
        """B: one addition per output element of every layer with a bias."""
        return sum(layer.bias_adds for layer in self.layers)

    @property
    def bn_ops(self):
        """N: batch-norm elements (one ``y = a·x + c`` each at inference)."""
        return _sum(layer.bn_ops for layer in self.layers)

    @property
    def activation_ops(self):
        """R: elements of every activation layer's output."""
        return _sum(layer.activation_ops for layer in self.layers)

    @property
    def pooling_ops(self):
        """Pin + Gin: input elements of every pooling layer (K x K and global)."""
        return _sum(layer.pooling_ops for layer in self.layers)

    @property
    def add_ops(self):
        """A: elements of every residual addition."""
        return _sum(layer.add_ops for layer in self.layers)

    def counts(self) -> dict:
        """The counts of docs/cost.md ("Reading other counters"), under its symbols, for one image.

        ``M`` MACs; ``B = Bc + Bf`` bias adds of convolutions / of FC layers (a 1x1
        convolution on a 1x1 map, category "fc"); ``N`` batch-norm elements and
        ``Nc`` batch-norm channels; ``R`` activation elements; ``Pin`` K x K pooling
        input elements; ``Gin``, ``Gout`` global-pool input / output elements;
        ``A`` residual-add elements. Every other tool's number is a formula in these.

        Examples
        --------
        >>> from conv1x1.cost import conv_cost
        >>> Report([conv_cost(192, 32, 28, 28, 5, padding=2)]).counts()["B"]
        25088
        """
        layers = self.layers
        fc = [layer for layer in layers if layer.category == "fc"]
        global_pools = [layer for layer in layers if layer.kind.startswith("global")]
        pools = [layer for layer in layers if layer.pooling_ops and not layer.kind.startswith("global")]
        batchnorms = [layer for layer in layers if layer.bn_ops]
        return {
            "M": self.macs, "B": self.bias_adds,
            "Bc": self.bias_adds - sum(layer.bias_adds for layer in fc), "Bf": sum(layer.bias_adds for layer in fc),
            "N": self.bn_ops, "Nc": sum(layer.out_shape[0] for layer in batchnorms),
            "R": self.activation_ops, "Pin": _sum(layer.pooling_ops for layer in pools),
            "Gin": _sum(layer.pooling_ops for layer in global_pools),
            "Gout": _sum(layer.activations for layer in global_pools), "A": self.add_ops,
        }

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

    def by_kind_table(self) -> str:
        """``by_kind()`` as a text table (kinds with neither MACs nor params left out)."""
        rows = [[kind, human(entry["params"]), f"{entry['params_share']:.1%}", human(entry["macs"]),
                 f"{entry['macs_share']:.1%}"]
                for kind, entry in self.by_kind().items() if entry["macs"] or entry["params"]]
        return _text_table(["Kind", "Params", "share", "MACs", "share"], rows, left=1,
                           title=f"{self.title}: MACs and params by kind" if self.title else "",
                           note="per image; 1 MAC = 2 FLOPs; shares of the totals")

    # -- the tree, walked
    def _walk(self, depth=None, level=0, path=()):
        """Yield ``(level, node, path, open)`` for each row shown, depth first; ``open`` for expanded reports."""
        for child in self.children:
            child_path = path + (child.name,)
            if isinstance(child, Report):
                expanded = depth is None or level + 1 < depth
                yield level, child, child_path, expanded
                if expanded:
                    yield from child._walk(depth, level + 1, child_path)
            else:
                yield level, child, child_path, False

    def _columns(self):
        """(header, key) of each column shown: the ops columns only where some row has such ops."""
        columns = [("Layer", "name"), ("Kind", "kind"), ("Output (C, H, W)", "out_shape"), ("Params", "params"),
                   ("MACs", "macs"), ("FLOPs (= 2 x MACs)", "flops")]
        return columns + [(OP_HEADERS[key], key) for key in OP_KEYS
                          if any(getattr(layer, key) != 0 for layer in self.layers)]

    def _cells(self, node, columns, batch, text=human):
        cells = []
        for _, key in columns:
            value = _scaled(getattr(node, key), key, batch)
            if key == "out_shape":
                cells.append(_shape_text(value))
            elif key in ("name", "kind"):
                cells.append(value)
            else:
                cells.append(text(value))
        return cells

    def summary(self, depth=None, batch=None) -> str:
        """The table as text, with containers as indented subtotal rows down to ``depth`` levels.

        Parameters
        ----------
        depth : int or None
            How many levels of the tree to open: 1 shows only this report's
            children (containers as one subtotal row each); None opens all.
        batch : int or None
            Multiply every count except params by ``batch`` (the table then says "per batch").

        Examples
        --------
        >>> import conv1x1 as C
        >>> print(C.Inception(192, 64, 96, 128, 16, 32, 32).cost(28, 28).summary(depth=1))  # doctest: +ELLIPSIS
        Inception
        Layer         Kind    Output (C, H, W)  Params    MACs  FLOPs (= 2 x MACs)  Bias adds  Activation ops  Pooling ops
        ------------------------------------------------------------------------------------------------------------------
        0 (2 layers)          (64, 28, 28)       12.4K    9.6M               19.3M      50.2K           50.2K            0
        1 (4 layers)          (128, 28, 28)     129.2K  101.2M              202.3M     175.6K          175.6K            0
        2 (4 layers)          (32, 28, 28)       15.9K   12.4M               24.9M      37.6K           37.6K            0
        3 (3 layers)          (32, 28, 28)        6.2K    4.8M                9.6M      25.1K           25.1K       150.5K
        concat        concat  (256, 28, 28)          0       0                   0          0               0            0
        ------------------------------------------------------------------------------------------------------------------
        Total                 (256, 28, 28)     163.7K  128.0M              256.1M     288.5K          288.5K       150.5K
        per image; ...
        """
        depth = None if depth is None else check_positive_int(depth, "depth")
        batch = _check_batch(batch)
        columns = self._columns()
        body = []
        for level, node, _, expanded in self._walk(depth):
            cells = self._cells(node, columns, batch)
            if isinstance(node, Report) and not expanded:
                cells[0] += f" ({len(node.layers)} layers)"
            cells[0] = "  " * level + cells[0]
            body.append(cells)
        total = self._cells(self, columns, batch)
        total[0], total[1] = "Total", ""
        return _text_table([h for h, _ in columns], body, left=3, title=self.title, total=total,
                           note=units_note(batch))

    def __str__(self):
        return self.summary()

    def __repr__(self):
        return (f"Report({len(self.layers)} layers, params={self.params:,}, macs={self.macs:,}, "
                f"flops={self.flops:,})")

    def explain(self) -> str:
        """Every row with its working (output size, params, MACs, other counts), then the totals.

        Examples
        --------
        >>> from conv1x1.cost import conv_cost
        >>> print(Report([conv_cost(192, 16, 28, 28, 1, name="1x1 reduce")]).explain())  # doctest: +ELLIPSIS
        The working, per image
        1x1 reduce (conv 1x1): (192, 28, 28) -> (16, 28, 28)
            output  H_out = W_out = floor((H + 2p - K)/s) + 1 = floor((28 + 2·0 - 1)/1) + 1 = 28
            params  C_out·C_in·K·K + C_out = 16·192·1·1 + 16 = 3,088
            MACs    H_out·W_out·C_out·C_in·K·K = 28·28·16·192·1·1 = 2,408,448
            other   bias adds = H_out·W_out·C_out = 28·28·16 = 12,544  (not in MACs)
        Total params 3,088; MACs 2,408,448 (FLOPs = 2 x MACs = 4,816,896); ...
        """
        lines = [f"{self.title}: the working, per image" if self.title else "The working, per image"]
        lines += [layer.explain() for layer in self.layers]
        lines.append(f"Total params {_sum_text([layer.params for layer in self.layers])}; "
                     f"MACs {_sum_text([layer.macs for layer in self.layers])} "
                     f"(FLOPs = 2 x MACs = {exact(self.flops)}); "
                     + ", ".join(f"{OP_HEADERS[key].lower()} {exact(getattr(self, key))}" for key in OP_KEYS)
                     + " (each counted apart, not in MACs)")
        return "\n".join(lines)

    # -- other formats
    def rows(self, batch=None) -> list:
        """One dict of exact numbers per leaf layer, with its ``path`` in the tree ("1/1.2")."""
        batch = _check_batch(batch)
        rows = []
        for _, node, path, _ in self._walk():
            if isinstance(node, LayerCost):
                row = {key: _scaled(value, key, batch) for key, value in node.row().items()}
                rows.append({"path": "/".join(path), **row})
        return rows

    def to_dict(self, batch=None) -> dict:
        """Columns of exact numbers, one entry per leaf layer: ``pandas.DataFrame(report.to_dict())``.

        The ``path`` column names each layer's place in the tree (containers' titles
        joined by "/"), so ``df.groupby(df.path.str.split("/").str[0]).sum()`` gives subtotals.
        """
        rows = self.rows(batch)
        return {key: [row[key] for row in rows] for key in ("path",) + ROW_KEYS}

    def to_csv(self, batch=None) -> str:
        """``to_dict()`` as CSV text (shapes written "(C, H, W)")."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        keys = ("path",) + ROW_KEYS
        writer.writerow(keys)
        for row in self.rows(batch):
            writer.writerow([_shape_text(row[k]) if k.endswith("shape") else ("" if row[k] is None else row[k])
                             for k in keys])
        return buffer.getvalue()

    def tree(self, batch=None) -> dict:
        """The report as nested dicts: totals at every level, ``children`` below (exact ints)."""
        batch = _check_batch(batch)
        node = {"title": self.title, "per": "image" if batch is None else f"batch of {batch}",
                "out_shape": self.out_shape}
        node.update({key: _scaled(getattr(self, key), key, batch) for key in ("params",) + _COUNT_KEYS})
        node["children"] = [child.tree(batch) if isinstance(child, Report)
                            else {key: _scaled(v, key, batch) for key, v in child.row().items()}
                            for child in self.children]
        return node

    def to_json(self, batch=None, indent=2) -> str:
        """``tree()`` as JSON text."""
        return json.dumps(self.tree(batch), indent=indent, ensure_ascii=False)

    def to_markdown(self, depth=None, batch=None) -> str:
        """The summary table in Markdown (GitHub-flavoured): containers in bold, levels marked with "·"."""
        depth = None if depth is None else check_positive_int(depth, "depth")
        batch = _check_batch(batch)
        columns = self._columns()

        def line(cells):
            return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

        lines = [f"**{self.title}**", ""] if self.title else []
        lines += [line([h for h, _ in columns]), "|" + "|".join("---" if i < 3 else "---:" for i in range(len(columns))) + "|"]
        for level, node, _, _ in self._walk(depth):
            cells = self._cells(node, columns, batch, exact)
            cells[0] = "· " * level + (f"**{cells[0]}**" if isinstance(node, Report) else cells[0])
            lines.append(line(cells))
        total = self._cells(self, columns, batch, exact)
        lines.append(line(["**Total**", ""] + [f"**{c}**" if c else c for c in total[2:]]))
        return "\n".join(lines + ["", units_note(batch)])

    def _repr_html_(self):
        return self.to_html()

    def to_html(self, depth=None, batch=None) -> str:
        """HTML: one table per level, containers as collapsible ``<details>`` (open down to ``depth``).

        Hover a cell to see its working: the MACs, params and output-size formulas.
        """
        depth = None if depth is None else check_positive_int(depth, "depth")
        batch = _check_batch(batch)
        columns = self._columns()
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        return (self._html_table(columns, depth, batch, 0, caption)
                + f"<p><small>{html.escape(units_note(batch))}; hover a number for its working</small></p>")

    def _html_table(self, columns, depth, batch, level, caption=""):
        head = "".join(f"<th>{html.escape(h)}</th>" for h, _ in columns)
        rows = []
        for child in self.children:
            if isinstance(child, Report):
                totals = ", ".join(f"{h} {human(_scaled(getattr(child, k), k, batch))}"
                                   for h, k in columns[3:6])
                opened = " open" if depth is None or level + 1 < depth else ""
                inner = child._html_table(columns, depth, batch, level + 1)
                rows.append(f'<tr><td colspan="{len(columns)}"><details{opened}><summary><b>'
                            f"{html.escape(child.title)}</b> {html.escape(_shape_text(child.out_shape))}: "
                            f"{html.escape(totals)}</summary>{inner}</details></td></tr>")
            else:
                rows.append(_html_row(child, columns, batch, "td"))
        total = _html_row(self, columns, batch, "th", name="Total")
        indent = ' style="margin-left:1.5em"' if level else ""
        return (f"<table{indent}>{caption}<thead><tr>{head}</tr></thead>"
                f"<tbody>{''.join(rows)}</tbody><tfoot>{total}</tfoot></table>")

    # -- the roofline
    def predict(self, peaks, dtype=np.float32, batch=1) -> Prediction:
        """Each layer's roofline time on a machine with ``peaks`` (``conv1x1.cost.machine_peaks()``).

        ``time = max(batch x MACs / GEMM rate, traffic bytes / copy bandwidth)``, with
        ``LayerCost.traffic_bytes(dtype, batch)`` = itemsize x (batch x (input + output
        elements) + parameters). A layer is "compute"-bound when the first term is the
        larger, "memory"-bound otherwise.

        Parameters
        ----------
        peaks : MachinePeaks
            Anything with ``macs_per_second(dtype)`` and ``gb_per_second``.
        dtype : float32 or float64, default float32
        batch : int, default 1

        Returns
        -------
        Prediction
        """
        dtype = check_float_dtype(dtype)
        batch = check_positive_int(batch, "batch")
        rate, bandwidth = peaks.macs_per_second(dtype), peaks.gb_per_second * 1e9
        rows = []
        for row, layer in zip(self.rows(), self.layers):
            layer_bytes = layer.traffic_bytes(dtype, batch)
            compute, memory = batch * row["macs"] / rate, layer_bytes / bandwidth
            rows.append({"path": row["path"], "name": row["name"], "kind": row["kind"], "macs": batch * row["macs"],
                         "bytes": layer_bytes, "intensity": batch * row["macs"] / layer_bytes,
                         "seconds": max(compute, memory), "bound": "compute" if compute > memory else "memory"})
        return Prediction(tuple(rows), peaks, dtype.name, batch, self.title)


def _html_row(node, columns, batch, tag, name=None):
    cells = []
    for i, (header, key) in enumerate(columns):
        value = _scaled(getattr(node, key), key, batch)
        working = {"macs": "formula", "params": "params_formula", "out_shape": "shape_formula"}.get(key)
        if key in OP_KEYS:
            working = "ops_formula"
        if i == 0 and name is not None:
            text = name
        elif key in ("name", "kind"):
            text = value
        elif key == "out_shape":
            text = _shape_text(value)
        else:
            text = human(value)
        title = getattr(node, working, "") if working and isinstance(node, LayerCost) else ""
        if not title and key not in ("name", "kind", "out_shape") and value is not None:
            title = exact(value)
        if batch is not None and isinstance(node, LayerCost) and key in _COUNT_KEYS and title:
            title = f"{title}; x {batch} images = {exact(value)}"
        attributes = (f' title="{html.escape(title)}"' if title else "") + (
            ' style="text-align:right"' if i >= 3 else "")
        cells.append(f"<{tag}{attributes}>{html.escape(text)}</{tag}>")
    return "<tr>" + "".join(cells) + "</tr>"


def _sum_text(values) -> str:
    """``'3,088 + 12,832 = 15,920'`` (non-zero terms; just the total past 8 terms)."""
    terms = [v for v in values if v]
    total = sum(values)
    if 1 < len(terms) <= 8:
        return " + ".join(exact(v) for v in terms) + f" = {exact(total)}"
    return exact(total)


def _text_table(headers, body, left=1, title="", total=None, note="") -> str:
    """Aligned columns: the first ``left`` left-aligned, the rest right-aligned."""
    everything = [headers, *body] + ([total] if total else [])
    widths = [max(len(row[i]) for row in everything) for i in range(len(headers))]

    def line(cells):
        return "  ".join(c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    rule = "-" * len(line(headers))
    parts = [title] if title else []
    parts += [line(headers), rule, *map(line, body)]
    if total:
        parts += [rule, line(total)]
    if note:
        parts.append(note)
    return "\n".join(parts)


@dataclass(frozen=True)
class Prediction:
    """Roofline times of a report's layers on one machine (``Report.predict``).

    Attributes
    ----------
    rows : tuple of dict
        Per layer: ``path``, ``name``, ``kind``, ``macs`` and ``bytes`` (for the
        batch), ``intensity`` (MACs per byte), ``seconds`` (the roofline time) and
        ``bound`` ("compute" or "memory").
    peaks : MachinePeaks
    dtype : str
    batch : int
    title : str
    """

    rows: tuple
    peaks: object
    dtype: str
    batch: int
    title: str = ""

    @property
    def seconds(self) -> float:
        """The whole report's roofline time: the sum over its layers (they run one after another)."""
        return sum(row["seconds"] for row in self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)

    def __str__(self):
        body = [[row["path"], row["kind"], human(row["macs"]), human(row["bytes"]), f"{row['intensity']:.2f}",
                 row["bound"], f"{row['seconds'] * 1e6:,.1f}"] for row in self.rows]
        total = ["Total", "", human(sum(r["macs"] for r in self.rows)), human(sum(r["bytes"] for r in self.rows)),
                 "", "", f"{self.seconds * 1e6:,.1f}"]
        ridge = self.peaks.ridge(self.dtype)
        per = "one image" if self.batch == 1 else f"a batch of {self.batch}"
        title = (f"Roofline prediction{' for ' + self.title if self.title else ''}, {self.dtype}, {per}: "
                 f"time = max(MACs / {self.peaks.gmacs[self.dtype]:.1f} GMAC/s, bytes / "
                 f"{self.peaks.gb_per_second:.1f} GB/s); compute-bound above {ridge:.1f} MACs/byte")
        return _text_table(["Layer", "Kind", "MACs", "Bytes", "MACs/byte", "Bound", "Predicted (us)"], body,
                           left=2, title=title, total=total,
                           note="bytes = itemsize x (batch x (input + output elements) + parameters)")


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
        headers = ["", "Params", "MACs", "FLOPs (= 2 x MACs)"]
        rows = [[report.title, human(report.params), f"{exact(report.macs)} ({human(report.macs)})",
                 human(report.flops)] for report in (self.baseline, self.candidate)]
        ratio = f"{self.macs_ratio:.1f}x"
        rows.append(["ratio (baseline / candidate)", f"{self.params_ratio:.1f}x", ratio, ratio])
        return headers, rows

    def __str__(self):
        headers, rows = self._summary()
        table = _text_table(headers, rows, left=1, note="per image; 1 MAC = 2 FLOPs")
        return "\n\n".join([table, str(self.baseline), str(self.candidate)])

    def explain(self) -> str:
        """Both reports' working, then the ratio written out."""
        return "\n\n".join([self.baseline.explain(), self.candidate.explain(),
                            f"MACs ratio (baseline / candidate) = {exact(self.baseline.macs)} / "
                            f"{exact(self.candidate.macs)} = {self.macs_ratio:.2f}x fewer MACs"])

    def as_report(self) -> Report:
        """Both reports as the two children of one ``Report`` (for the tree formats)."""
        return Report([self.baseline, self.candidate], title=f"{self.baseline.title} versus {self.candidate.title}")

    def _repr_html_(self):
        headers, rows = self._summary()
        head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
        return (f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
                f'<div style="display:flex;gap:2em">{self.baseline._repr_html_()}'
                f"{self.candidate._repr_html_()}</div>")
