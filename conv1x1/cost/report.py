"""Cost reports: ``LayerCost`` rows grouped as the network is (a ``Report``), and a ``Comparison`` of two.

A report adds the numbers up: totals at every level of the tree, by kind of
layer, per image or per batch. ``conv1x1.cost.render`` lays it out (text,
Markdown, HTML, CSV, JSON) and ``conv1x1.cost.roofline`` predicts its time;
the methods below call them. ``report.to_dict()`` returns a dict of columns,
one entry per leaf layer with its ``path`` in the tree, ready for
``pandas.DataFrame``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from . import render, roofline
from .formulas import KINDS, ROW_KEYS, LayerCost, MacUnits, Shape, exact

if TYPE_CHECKING:
    from numpy.typing import DTypeLike

    from .roofline import Peaks

__all__ = ["Report", "Comparison"]


def _sum(values: Iterable[int | None]) -> int | None:
    """The sum, or None if any value is unknown (None)."""
    listed = list(values)
    known = [v for v in listed if v is not None]
    return sum(known) if len(known) == len(listed) else None


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
        ``counts()`` gives them under the symbols of docs/cost.md ("Reading other counters").

    Examples
    --------
    >>> import conv1x1 as C
    >>> report = C.Inception(192, 64, 96, 128, 16, 32, 32).cost(28, 28)
    >>> report.macs, report.bias_adds, report.activation_ops, report.pooling_ops
    (128049152, 288512, 288512, 150528)
    """

    def __init__(self, layers: Iterable[LayerCost | Report] = (), title: str = "") -> None:
        self.children: tuple[LayerCost | Report, ...] = tuple(layers)
        for child in self.children:
            if not isinstance(child, (LayerCost, Report)):
                raise TypeError(f"a Report holds LayerCost rows or Reports, got {type(child).__name__}")
        self.title = check_str(title, "title")

    # -- totals
    @property
    def layers(self) -> tuple[LayerCost, ...]:
        rows: list[LayerCost] = []
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
    def bn_ops(self) -> int | None:
        """N: batch-norm elements (one ``y = a·x + c`` each at inference)."""
        return _sum(layer.bn_ops for layer in self.layers)

    @property
    def activation_ops(self) -> int | None:
        """R: elements of every activation layer's output."""
        return _sum(layer.activation_ops for layer in self.layers)

    @property
    def pooling_ops(self) -> int | None:
        """Pin + Gin: input elements of every pooling layer (K x K and global)."""
        return _sum(layer.pooling_ops for layer in self.layers)

    @property
    def add_ops(self) -> int | None:
        """A: elements of every residual addition."""
        return _sum(layer.add_ops for layer in self.layers)

    def counts(self) -> dict[str, int | None]:
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
    def in_shape(self) -> tuple[int, ...] | None:
        """The input shape of the first layer, or None for an empty report."""
        return self.layers[0].in_shape if self.layers else None

    @property
    def out_shape(self) -> Shape | None:
        """The output shape of the last layer, or None for an empty report."""
        return self.layers[-1].out_shape if self.layers else None

    def __len__(self) -> int:
        return len(self.layers)

    @overload
    def __getitem__(self, index: int) -> LayerCost: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[LayerCost, ...]: ...

    def __getitem__(self, index: int | slice) -> LayerCost | tuple[LayerCost, ...]:
        return self.layers[index]

    def __iter__(self) -> Iterator[LayerCost]:
        return iter(self.layers)

    def __add__(self, other: Report | LayerCost) -> Report:
        if isinstance(other, LayerCost):
            other = Report([other])
        if not isinstance(other, Report):
            return NotImplemented
        title = " + ".join(t for t in (self.title, other.title) if t)
        return Report(self.children + other.children, title)

    def by_kind(self) -> dict[str, dict[str, float]]:
        """MACs and params by layer kind: ``{kind: {"macs", "params", "macs_share", "params_share"}}``.

        Kinds (``conv1x1.cost.KINDS``): "1x1" (pointwise), "kxk" (dense KxK),
        "depthwise", "grouped", "fc" (an FC layer is a 1x1 convolution on a 1x1
        map) and "other" (batch norm and anything else with parameters). Shares
        are fractions of the totals (0 when the total is 0).
        """
        totals: dict[str, dict[str, float]] = {kind: {"macs": 0, "params": 0} for kind in KINDS}
        for layer in self.layers:
            totals[layer.category]["macs"] += layer.macs
            totals[layer.category]["params"] += layer.params
        for entry in totals.values():
            entry["macs_share"] = entry["macs"] / self.macs if self.macs else 0.0
            entry["params_share"] = entry["params"] / self.params if self.params else 0.0
        return totals

    def by_kind_table(self) -> str:
        """``by_kind()`` as a text table (kinds with neither MACs nor params left out)."""
        return render.by_kind_table(self)

    # -- the tree, walked
    def walk(self, depth: int | None = None, level: int = 0,
             path: tuple[str, ...] = ()) -> Iterator[tuple[int, LayerCost | Report, tuple[str, ...], bool]]:
        """Yield ``(level, node, path, open)`` for each row shown, depth first; ``open`` for expanded reports."""
        for child in self.children:
            child_path = path + (child.name,)
            if isinstance(child, Report):
                expanded = depth is None or level + 1 < depth
                yield level, child, child_path, expanded
                if expanded:
                    yield from child.walk(depth, level + 1, child_path)
            else:
                yield level, child, child_path, False

    def rows(self, batch: int | None = None) -> list[dict[str, Any]]:
        """One dict of exact numbers per leaf layer, with its ``path`` in the tree ("1/1.2")."""
        batch = render.check_batch(batch)
        rows = []
        for _, node, path, _ in self.walk():
            if isinstance(node, LayerCost):
                row = {key: render.scaled(value, key, batch) for key, value in node.row().items()}
                rows.append({"path": "/".join(path), **row})
        return rows

    def to_dict(self, batch: int | None = None) -> dict[str, list[Any]]:
        """Columns of exact numbers, one entry per leaf layer: ``pandas.DataFrame(report.to_dict())``.

        The ``path`` column names each layer's place in the tree (containers' titles
        joined by "/"), so ``df.groupby(df.path.str.split("/").str[0]).sum()`` gives subtotals.
        """
        rows = self.rows(batch)
        return {key: [row[key] for row in rows] for key in ("path",) + ROW_KEYS}

    def tree(self, batch: int | None = None) -> dict[str, Any]:
        """The report as nested dicts: totals at every level, ``children`` below (exact ints)."""
        batch = render.check_batch(batch)
        node: dict[str, Any] = {"title": self.title, "per": "image" if batch is None else f"batch of {batch}",
                "out_shape": self.out_shape}
        node.update({key: render.scaled(getattr(self, key), key, batch) for key in ("params",) + render.COUNT_KEYS})
        node["children"] = [child.tree(batch) if isinstance(child, Report)
                            else {key: render.scaled(v, key, batch) for key, v in child.row().items()}
                            for child in self.children]
        return node

    # -- the formats (conv1x1.cost.render)
    def summary(self, depth: int | None = None, batch: int | None = None) -> str:
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
        """  # noqa: E501 (the table as printed)
        return render.summary(self, depth, batch)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
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
        return render.explain(self)

    def to_csv(self, batch: int | None = None) -> str:
        """``to_dict()`` as CSV text (shapes written "(C, H, W)")."""
        return render.to_csv(self, batch)

    def to_json(self, batch: int | None = None, indent: int | None = 2) -> str:
        """``tree()`` as JSON text."""
        return render.to_json(self, batch, indent)

    def to_markdown(self, depth: int | None = None, batch: int | None = None) -> str:
        """The summary table in Markdown (GitHub-flavoured): containers in bold, levels marked with "·"."""
        return render.to_markdown(self, depth, batch)

    def to_html(self, depth: int | None = None, batch: int | None = None) -> str:
        """HTML: one table per level, containers as collapsible ``<details>`` (open down to ``depth``).

        Hover a cell to see its working: the MACs, params and output-size formulas.
        """
        return render.to_html(self, depth, batch)

    def _repr_html_(self) -> str:
        return self.to_html()

    # -- the roofline (conv1x1.cost.roofline)
    def predict(self, peaks: Peaks, dtype: DTypeLike = np.float32, batch: int = 1) -> roofline.Prediction:
        """Each layer's roofline time on a machine with ``peaks`` (``conv1x1.fast.timing.machine_peaks()``).

        See ``conv1x1.cost.roofline.predict``: ``time = max(batch x MACs / GEMM rate,
        traffic bytes / copy bandwidth)`` per layer.
        """
        return roofline.predict(self, peaks, dtype, batch)


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

    def __str__(self) -> str:
        return render.comparison_text(self)

    def explain(self) -> str:
        """Both reports' working, then the ratio written out."""
        return "\n\n".join([self.baseline.explain(), self.candidate.explain(),
                            f"MACs ratio (baseline / candidate) = {exact(self.baseline.macs)} / "
                            f"{exact(self.candidate.macs)} = {self.macs_ratio:.2f}x fewer MACs"])

    def as_report(self) -> Report:
        """Both reports as the two children of one ``Report`` (for the tree formats)."""
        return Report([self.baseline, self.candidate], title=f"{self.baseline.title} versus {self.candidate.title}")

    def _repr_html_(self) -> str:
        return render.comparison_html(self)


# ---------------------------------------------------------------- checks that belong here

def check_str(value: object, name: str) -> str:
    """Return ``value`` if it is a str, else a TypeError."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    return value
