"""What a layer costs: parameters, multiply-accumulates and memory, in plain integers.

Units, named everywhere in this module:

- **MAC**: one multiply-accumulate, ``acc += a * b``. A convolution's forward
  pass does ``out_H * out_W * C_out * C_in * K * K`` of them.
- **FLOP**: one floating-point operation. One MAC is a multiply and an add, so
  **FLOPs = 2 x MACs**. Many tools (fvcore, thop, ptflops, torchinfo) print
  MACs under the name "FLOPs"; here the two are never mixed.
- Bias additions are *not* counted as MACs (they are one add per output, a
  K*K*C_in-th of the work). Some tools count them; the difference is small.
- Max pooling and activations cost zero MACs: they compare or map values and
  multiply nothing. Their (cheap) comparisons are not counted.
- ``backward_macs``: the backward pass of a convolution computes the input
  gradient and the weight gradient, each as many MACs as the forward pass,
  so ``backward_macs = 2 * macs`` (the bias gradient is a sum, not counted).

Example: the classic Inception bottleneck on a 28x28x192 input::

    >>> from conv1x1.cost import bottleneck_comparison
    >>> comparison = bottleneck_comparison(192, 16, 32, 28, 28, kernel_size=5)
    >>> comparison.baseline.macs, comparison.candidate.macs
    (120422400, 12443648)
    >>> round(comparison.macs_ratio, 2)
    9.68
"""

from __future__ import annotations

import html
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._geometry import window_geometry
from ._validation import positive_int

__all__ = [
    "LayerCost", "Report", "Comparison", "Measurement",
    "conv_cost", "pool_cost", "elementwise_cost", "concat_cost",
    "bottleneck_comparison", "inception_cost", "measure", "human",
]

UNITS_NOTE = "1 MAC = 1 multiply-accumulate = 2 FLOPs; bias adds, pooling and activations count 0 MACs"


def human(count: float | None) -> str:
    """A count in human units: 120_422_400 -> '120.4M', 2_400 -> '2.4K', 37 -> '37'."""
    if count is None:
        return "?"
    for size, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(count) >= size:
            return f"{count / size:.1f}{suffix}"
    return f"{count:g}"


def _shape_text(shape) -> str:
    return "(" + ", ".join("?" if s is None else str(s) for s in shape) + ")"


@dataclass(frozen=True)
class LayerCost:
    """The cost of one layer for one input image (batch size 1).

    Attributes
    ----------
    name : str
        What the layer is called in a table ("1x1 reduce", "0", ...).
    kind : str
        What it does: "conv 1x1", "conv 5x5", "maxpool 3x3", "relu", "concat".
    in_shape, out_shape : tuple
        (C, H, W) of the input and of the output. C is None where a layer
        keeps whatever depth it receives and was asked about on its own.
    params : int
        Learned numbers: weights plus biases.
    macs : int
        Forward multiply-accumulates. ``flops == 2 * macs``.
    backward_macs : int
        Multiply-accumulates of the input gradient plus the weight gradient.
    activations : int or None
        Elements of the output (what the forward pass keeps for backward).
    """

    name: str
    kind: str
    in_shape: tuple
    out_shape: tuple
    params: int
    macs: int
    backward_macs: int
    activations: int | None

    @property
    def flops(self) -> int:
        """Forward floating-point operations: 2 x MACs (a multiply and an add each)."""
        return 2 * self.macs

    def param_bytes(self, dtype=np.float32) -> int:
        """Bytes to store the parameters in ``dtype`` (4 per number for float32)."""
        return self.params * np.dtype(dtype).itemsize

    def activation_bytes(self, dtype=np.float32) -> int:
        """Bytes of the output in ``dtype`` for one image (0 if the depth is unknown)."""
        return (self.activations or 0) * np.dtype(dtype).itemsize

    def row(self) -> dict:
        """This layer as a flat dict of exact numbers (one row of a table)."""
        return {key: getattr(self, key) for key in _ROW_KEYS}


_ROW_KEYS = ("name", "kind", "in_shape", "out_shape", "params", "macs", "flops", "backward_macs", "activations")

_COLUMNS = [  # (header, how to get the cell): the headers name the units
    ("Layer", lambda c: c.name),
    ("Kind", lambda c: c.kind),
    ("Output (C, H, W)", lambda c: _shape_text(c.out_shape)),
    ("Params", lambda c: human(c.params)),
    ("MACs", lambda c: human(c.macs)),
    ("FLOPs (= 2 x MACs)", lambda c: human(c.flops)),
    ("Backward MACs", lambda c: human(c.backward_macs)),
]


class Report:
    """A sequence of ``LayerCost`` rows with totals, printable as a table.

    ``str(report)`` is an aligned text table, ``report._repr_html_()`` renders
    in Jupyter, ``report.to_dict()`` feeds ``pandas.DataFrame``, and ``a + b``
    concatenates two reports.

    Attributes
    ----------
    layers : tuple of LayerCost
    title : str
    params, macs, flops, backward_macs, activations : int
        Totals over the layers (for one image).
    """

    def __init__(self, layers: Iterable[LayerCost] = (), title: str = ""):
        self.layers = tuple(layers)
        for layer in self.layers:
            if not isinstance(layer, LayerCost):
                raise TypeError(f"a Report holds LayerCost rows, got {type(layer).__name__}")
        self.title = title

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
        return sum(layer.backward_macs for layer in self.layers)

    @property
    def activations(self) -> int:
        return sum(layer.activations or 0 for layer in self.layers)

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
        return Report(self.layers + other.layers, title)

    def rows(self) -> list:
        """One dict of exact numbers per layer."""
        return [layer.row() for layer in self.layers]

    def to_dict(self) -> dict:
        """Columns of exact numbers: ``pandas.DataFrame(report.to_dict())`` gives the table."""
        rows = self.rows()
        return {key: [row[key] for row in rows] for key in _ROW_KEYS}

    def _table(self):
        headers = [header for header, _ in _COLUMNS]
        body = [[cell(layer) for _, cell in _COLUMNS] for layer in self.layers]
        total = ["Total", "", "", human(self.params), human(self.macs), human(self.flops),
                 human(self.backward_macs)]
        return headers, body, total

    def __str__(self):
        headers, body, total = self._table()
        widths = [max(len(row[i]) for row in [headers, *body, total]) for i in range(len(headers))]

        def line(cells):
            # text columns to the left, numbers to the right
            return "  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

        rule = "-" * len(line(headers))
        parts = [self.title] if self.title else []
        parts += [line(headers), rule, *map(line, body), rule, line(total), UNITS_NOTE]
        return "\n".join(parts)

    def __repr__(self):
        return (f"Report({len(self.layers)} layers, params={self.params:,}, macs={self.macs:,}, "
                f"flops={self.flops:,})")

    def _repr_html_(self):
        headers, body, total = self._table()
        exact = [[layer.params, layer.macs, layer.flops, layer.backward_macs] for layer in self.layers]

        def cells(row, tag, titles=None):
            out = []
            for i, value in enumerate(row):
                title = f' title="{titles[i - 3]:,}"' if titles is not None and i >= 3 else ""
                align = ' style="text-align:right"' if i >= 3 else ""
                out.append(f"<{tag}{title}{align}>{html.escape(value)}</{tag}>")
            return "<tr>" + "".join(out) + "</tr>"

        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        rows = "".join(cells(row, "td", titles) for row, titles in zip(body, exact))
        totals = [self.params, self.macs, self.flops, self.backward_macs]
        return (f"<table>{caption}<thead>{cells(headers, 'th')}</thead><tbody>{rows}</tbody>"
                f"<tfoot>{cells(total, 'th', totals)}</tfoot></table>"
                f"<p><small>{html.escape(UNITS_NOTE)}</small></p>")


def conv_cost(in_channels, out_channels, height, width, kernel_size, stride=1, padding=0, bias=True,
              name=None) -> LayerCost:
    """Cost of a KxK convolution on one (C_in, H, W) image.

    Parameters
    ----------
    in_channels, out_channels, height, width, kernel_size : int
    stride : int, default 1
    padding : int or "same", default 0
    bias : bool, default True
    name : str, optional
        Defaults to the kind, e.g. "conv 5x5".

    Returns
    -------
    LayerCost
        ``params = C_out*C_in*K*K (+ C_out)``,
        ``macs = out_H*out_W*C_out*C_in*K*K`` (bias adds not counted),
        ``backward_macs = 2 * macs`` (input gradient + weight gradient),
        ``activations = C_out*out_H*out_W``.

    Examples
    --------
    >>> cost = conv_cost(192, 32, 28, 28, 5, padding="same")
    >>> cost.macs, cost.flops, cost.params, cost.out_shape
    (120422400, 240844800, 153632, (32, 28, 28))
    """
    in_channels = positive_int(in_channels, "in_channels")
    out_channels = positive_int(out_channels, "out_channels")
    height, width = positive_int(height, "height"), positive_int(width, "width")
    k, stride, padding, out_h, out_w = window_geometry(height, width, kernel_size, stride, padding)
    weights = out_channels * in_channels * k * k
    macs = out_h * out_w * weights
    kind = f"conv {k}x{k}" + (f" /{stride}" if stride > 1 else "")
    return LayerCost(name or kind, kind, (in_channels, height, width), (out_channels, out_h, out_w),
                     weights + (out_channels if bias else 0), macs, 2 * macs, out_channels * out_h * out_w)


def pool_cost(channels, height, width, kernel_size, stride=None, padding=0, name=None) -> LayerCost:
    """Cost of K x K max pooling: no parameters and no MACs (it compares, it does not multiply).

    ``channels`` may be None when unknown (then ``activations`` is None too).

    Examples
    --------
    >>> pool_cost(192, 28, 28, 3, stride=1, padding=1).out_shape
    (192, 28, 28)
    """
    height, width = positive_int(height, "height"), positive_int(width, "width")
    stride = kernel_size if stride is None else stride
    k, stride, padding, out_h, out_w = window_geometry(height, width, kernel_size, stride, padding)
    channels = None if channels is None else positive_int(channels, "channels")
    kind = f"maxpool {k}x{k}" + (f" /{stride}" if stride > 1 else "")
    return LayerCost(name or kind, kind, (channels, height, width), (channels, out_h, out_w), 0, 0, 0,
                     None if channels is None else channels * out_h * out_w)


def elementwise_cost(kind, channels, height, width, name=None) -> LayerCost:
    """Cost of an activation: same shape out as in, no parameters, no MACs."""
    height, width = positive_int(height, "height"), positive_int(width, "width")
    channels = None if channels is None else positive_int(channels, "channels")
    shape = (channels, height, width)
    return LayerCost(name or kind, kind, shape, shape, 0, 0, 0,
                     None if channels is None else channels * height * width)


def concat_cost(branches, name="concat") -> LayerCost:
    """Joining branch outputs along channels: no MACs; the output depth is the sum."""
    shapes = [branch.out_shape for branch in branches]
    if len({shape[1:] for shape in shapes}) != 1:
        raise ValueError(f"branches to concatenate must share H and W, got output shapes {shapes}")
    channels = sum(shape[0] for shape in shapes)
    out_shape = (channels,) + shapes[0][1:]
    return LayerCost(name, "concat", out_shape, out_shape, 0, 0, 0, channels * out_shape[1] * out_shape[2])


def _check_sizes(**sizes) -> None:
    """Check that every size is a positive integer, naming the argument that is not."""
    for name, value in sizes.items():
        positive_int(value, name)


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
        return "\n\n".join(["\n".join(lines), str(self.baseline), str(self.candidate)])

    def _repr_html_(self):
        headers, rows = self._summary()
        head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
        return (f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
                f'<div style="display:flex;gap:2em">{self.baseline._repr_html_()}'
                f"{self.candidate._repr_html_()}</div>")


def bottleneck_comparison(in_channels, reduce_channels, out_channels, height, width, kernel_size=5,
                          bias=True) -> Comparison:
    """A direct KxK "same" convolution versus a 1x1 reduction followed by the KxK convolution.

    Parameters
    ----------
    in_channels, reduce_channels, out_channels, height, width : int
    kernel_size : int, default 5 (odd)
    bias : bool, default True

    Returns
    -------
    Comparison
        ``.baseline``: the direct KxK conv, in_channels -> out_channels.
        ``.candidate``: 1x1 conv in_channels -> reduce_channels, then KxK conv -> out_channels.

    Examples
    --------
    >>> c = bottleneck_comparison(192, 16, 32, 28, 28)
    >>> [layer.macs for layer in c.candidate]
    [2408448, 10035200]
    """
    _check_sizes(in_channels=in_channels, reduce_channels=reduce_channels, out_channels=out_channels,
                 height=height, width=width)
    k = positive_int(kernel_size, "kernel_size")
    baseline = Report([conv_cost(in_channels, out_channels, height, width, k, padding="same", bias=bias,
                                 name=f"direct {k}x{k}")], title=f"direct {k}x{k}")
    candidate = Report([
        conv_cost(in_channels, reduce_channels, height, width, 1, bias=bias, name="1x1 reduce"),
        conv_cost(reduce_channels, out_channels, height, width, k, padding="same", bias=bias, name=f"{k}x{k}"),
    ], title=f"1x1 reduce to {reduce_channels}, then {k}x{k}")
    return Comparison(baseline, candidate)


def inception_cost(in_channels, height, width, n1x1, n3x3_reduce, n3x3, n5x5_reduce, n5x5, pool_proj,
                   bias=True, reductions=True) -> Report:
    """Cost of a GoogLeNet Inception module, branch by branch ("same" padding throughout).

    The four branches, concatenated along channels:

    1. 1x1 conv -> n1x1
    2. 1x1 reduce -> n3x3_reduce, then 3x3 conv -> n3x3
    3. 1x1 reduce -> n5x5_reduce, then 5x5 conv -> n5x5
    4. 3x3 max pool (stride 1), then 1x1 projection -> pool_proj

    With ``reductions=False`` this is the naive module of the paper's figure 2(a):
    the 3x3 and 5x5 convolutions run straight on the input, and the pool branch
    has no projection (it passes all in_channels on). The reduce widths and
    pool_proj are then ignored. Pooling and the concatenation count 0 MACs.

    Examples
    --------
    >>> report = inception_cost(192, 28, 28, 64, 96, 128, 16, 32, 32)   # GoogLeNet "3a"
    >>> report.out_shape, report.params, report.macs
    ((256, 28, 28), 163696, 128049152)
    """
    _check_sizes(in_channels=in_channels, height=height, width=width, n1x1=n1x1, n3x3_reduce=n3x3_reduce,
                 n3x3=n3x3, n5x5_reduce=n5x5_reduce, n5x5=n5x5, pool_proj=pool_proj)
    def conv(c_in, c_out, k, name):
        return conv_cost(c_in, c_out, height, width, k, padding="same", bias=bias, name=name)
    pool = pool_cost(in_channels, height, width, 3, stride=1, padding=1, name="pool 3x3")
    if reductions:
        branches = [
            [conv(in_channels, n1x1, 1, "1x1")],
            [conv(in_channels, n3x3_reduce, 1, "3x3 reduce"), conv(n3x3_reduce, n3x3, 3, "3x3")],
            [conv(in_channels, n5x5_reduce, 1, "5x5 reduce"), conv(n5x5_reduce, n5x5, 5, "5x5")],
            [pool, conv(in_channels, pool_proj, 1, "pool proj")],
        ]
        title = "Inception module with 1x1 reductions"
    else:
        branches = [[conv(in_channels, n1x1, 1, "1x1")], [conv(in_channels, n3x3, 3, "3x3")],
                    [conv(in_channels, n5x5, 5, "5x5")], [pool]]
        title = "naive Inception module (no 1x1 reductions)"
    layers = [layer for branch in branches for layer in branch]
    return Report(layers + [concat_cost([branch[-1] for branch in branches])], title=title)


class Measurement(NamedTuple):
    """A timed call: the median seconds and the achieved rate."""

    seconds: float
    macs: int

    @property
    def gmacs_per_second(self) -> float:
        """Billions of multiply-accumulates per second."""
        return self.macs / self.seconds / 1e9

    @property
    def gflops_per_second(self) -> float:
        """Billions of FLOPs per second (2 per MAC)."""
        return 2 * self.gmacs_per_second

    def __str__(self):
        return f"{self.seconds * 1e3:.2f} ms, {self.gmacs_per_second:.1f} GMAC/s ({self.gflops_per_second:.1f} GFLOP/s)"


def measure(fn: Callable[[], object], macs, repeat=5, warmup=1) -> Measurement:
    """Time ``fn()`` (the median of ``repeat`` runs after ``warmup``) and relate it to its MACs.

    Parameters
    ----------
    fn : callable
        Called without arguments, e.g. ``lambda: layer.forward(x)``.
    macs : int or Report or LayerCost
        The predicted multiply-accumulates of one call.
    repeat : int, default 5
    warmup : int, default 1

    Returns
    -------
    Measurement
        ``.seconds`` and ``.gmacs_per_second``.
    """
    macs = getattr(macs, "macs", macs)
    repeat = positive_int(repeat, "repeat")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return Measurement(statistics.median(times), int(macs))
