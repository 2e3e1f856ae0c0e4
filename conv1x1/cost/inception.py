"""GoogLeNet's Inception module and the bottleneck, priced from a description of their layers.

Szegedy et al. 2014, "Going Deeper with Convolutions", arXiv:1409.4842. The
module runs four branches on the same input and stacks their outputs along
channels::

    0  1x1 conv -> ReLU                                                 n1x1
    1  1x1 conv (reduce) -> ReLU -> 3x3 conv, padding 1 -> ReLU         n3x3
    2  1x1 conv (reduce) -> ReLU -> 5x5 conv, padding 2 -> ReLU         n5x5
    3  3x3 max pool, stride 1, padding 1 -> 1x1 conv (proj) -> ReLU     pool_proj

The "naive" module of the paper's figure 2(a) has no 1x1 reductions: its 3x3
and 5x5 convolutions run on all C_in channels, and its pool branch passes all
C_in channels on. ``inception_branches`` describes both. The same description
builds the layers of ``conv1x1.Inception`` and is priced here, so the cost and
the layers cannot disagree; pricing needs no layer and no weights.
"""

from __future__ import annotations

from typing import Any

from .._checks import check_flag, check_positive_int
from .formulas import LayerCost, concat_cost, conv_cost, elementwise_cost, pool_cost
from .report import Comparison, Report

__all__ = ["WIDTH_NAMES", "inception_branches", "inception_cost", "bottleneck_comparison"]

WIDTH_NAMES = ("n1x1", "n3x3_reduce", "n3x3", "n5x5_reduce", "n5x5", "pool_proj")

Step = tuple[Any, ...]   # ("conv", c_in, c_out, K), ("relu",) or ("pool",)


def inception_branches(in_channels: int, n1x1: int, n3x3_reduce: int, n3x3: int, n5x5_reduce: int, n5x5: int,
                       pool_proj: int, reductions: bool = True) -> list[list[Step]]:
    """The four branches as lists of steps: ``("conv", c_in, c_out, K)``, ``("relu",)``, ``("pool",)``.

    Every convolution has "same" padding (K // 2); the pool is 3x3, stride 1,
    padding 1. With ``reductions=False`` the reduce widths and pool_proj are not used.

    Examples
    --------
    >>> inception_branches(192, 64, 96, 128, 16, 32, 32)[1]
    [('conv', 192, 96, 1), ('relu',), ('conv', 96, 128, 3), ('relu',)]
    """
    c = in_channels
    if reductions:
        return [
            [("conv", c, n1x1, 1), ("relu",)],
            [("conv", c, n3x3_reduce, 1), ("relu",), ("conv", n3x3_reduce, n3x3, 3), ("relu",)],
            [("conv", c, n5x5_reduce, 1), ("relu",), ("conv", n5x5_reduce, n5x5, 5), ("relu",)],
            [("pool",), ("conv", c, pool_proj, 1), ("relu",)],
        ]
    return [[("conv", c, n1x1, 1), ("relu",)], [("conv", c, n3x3, 3), ("relu",)],
            [("conv", c, n5x5, 5), ("relu",)], [("pool",)]]


def _step_cost(step: Step, in_shape: tuple[int, ...], bias: bool, name: str) -> LayerCost:
    """The LayerCost of one step of a branch on a (C, H, W) input."""
    channels, height, width = in_shape
    if step[0] == "relu":
        return elementwise_cost("relu", channels, height, width, name=name)
    if step[0] == "pool":
        return pool_cost(channels, height, width, 3, stride=1, padding=1, name=name)
    _, c_in, c_out, k = step
    return conv_cost(c_in, c_out, height, width, k, padding=k // 2, bias=bias, name=name)


def inception_cost(in_channels: int, height: int, width: int, n1x1: int, n3x3_reduce: int, n3x3: int,
                   n5x5_reduce: int, n5x5: int, pool_proj: int, bias: bool = True, reductions: bool = True) -> Report:
    """Cost of a GoogLeNet Inception module for one image: the cost of ``Inception(...)`` itself.

    Returns a ``Report`` whose four children are the branches (each a ``Report``
    with its own totals; rows named "branch.step", e.g. "1.2"), then the
    concatenation. With ``reductions=False`` it prices the naive module.
    Pooling and the concatenation count 0 MACs.

    Examples
    --------
    >>> report = inception_cost(192, 28, 28, 64, 96, 128, 16, 32, 32)   # GoogLeNet "3a"
    >>> report.out_shape, report.params, report.macs
    ((256, 28, 28), 163696, 128049152)
    >>> [branch.macs for branch in report.children[:4]]
    [9633792, 101154816, 12443648, 4816896]
    """
    in_channels = check_positive_int(in_channels, "in_channels")
    height, width = check_positive_int(height, "height"), check_positive_int(width, "width")
    n1x1, n3x3_reduce, n3x3, n5x5_reduce, n5x5, pool_proj = (
        check_positive_int(v, name)
        for name, v in zip(WIDTH_NAMES, (n1x1, n3x3_reduce, n3x3, n5x5_reduce, n5x5, pool_proj)))
    reductions, bias = check_flag(reductions, "reductions"), check_flag(bias, "bias")
    description = inception_branches(in_channels, n1x1, n3x3_reduce, n3x3, n5x5_reduce, n5x5, pool_proj,
                                     reductions=reductions)
    branches: list[LayerCost | Report] = []
    for i, branch in enumerate(description):
        shape: tuple[int, ...] = (in_channels, height, width)
        rows: list[LayerCost | Report] = []
        for j, step in enumerate(branch):
            row = _step_cost(step, shape, bias, f"{i}.{j}")
            rows.append(row)
            shape = row.out_shape
        branches.append(Report(rows, title=str(i)))
    concat = concat_cost([branch.out_shape for branch in branches])
    title = "Inception module with 1x1 reductions" if reductions else "naive Inception module (no 1x1 reductions)"
    return Report(branches + [concat], title=title)


def bottleneck_comparison(in_channels: int, reduce_channels: int, out_channels: int, height: int, width: int,
                          kernel_size: int = 5, bias: bool = True) -> Comparison:
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
    >>> round(c.macs_ratio, 2)
    9.68
    """
    for name, value in [("in_channels", in_channels), ("reduce_channels", reduce_channels),
                        ("out_channels", out_channels), ("height", height), ("width", width)]:
        check_positive_int(value, name)
    k = check_positive_int(kernel_size, "kernel_size")
    bias = check_flag(bias, "bias")
    direct = conv_cost(in_channels, out_channels, height, width, k, padding="same", bias=bias, name=f"direct {k}x{k}")
    reduce = conv_cost(in_channels, reduce_channels, height, width, 1, bias=bias, name="1x1 reduce")
    conv = conv_cost(reduce_channels, out_channels, height, width, k, padding="same", bias=bias, name=f"{k}x{k}")
    return Comparison(Report([direct], title=f"direct {k}x{k}"),
                      Report([reduce, conv], title=f"1x1 reduce to {reduce_channels}, then {k}x{k}"))
