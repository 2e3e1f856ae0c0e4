"""GoogLeNet's Inception module as layers that run: four branches on one input, joined along channels.

Szegedy et al. 2014, "Going Deeper with Convolutions", arXiv:1409.4842. The
branches are described once, by ``conv1x1.cost.inception_branches`` (whose
docstring draws them): ``Inception`` builds its layers from that description,
and ``conv1x1.cost.inception_cost`` prices the same description, so the two
cannot disagree (a test checks that the layers' own cost equals it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._checks import FloatArray, check_flag, check_in_channels, check_positive_int, check_rng
from ..containers import Concat, Sequential
from ..cost import Report
from ..cost.inception import WIDTH_NAMES, Step, inception_branches
from ..layers import Conv1x1, Conv2d, Layer, MaxPool2d, ReLU, Shape3, input_error

__all__ = ["Inception"]

FloatDType = type[np.floating[Any]] | np.dtype[Any]   # np.float32, np.float64, ... or np.dtype(...)


def _build(step: Step, bias: bool, rng: np.random.Generator, dtype: FloatDType) -> Layer:
    """One layer from one step of a branch description ("same" padding for every convolution)."""
    if step[0] == "relu":
        return ReLU()
    if step[0] == "pool":
        return MaxPool2d(3, stride=1, padding=1)
    _, c_in, c_out, k = step
    if k == 1:
        return Conv1x1(c_in, c_out, bias=bias, rng=rng, dtype=dtype)
    return Conv2d(c_in, c_out, k, padding=k // 2, bias=bias, rng=rng, dtype=dtype)


class Inception(Concat):
    """The GoogLeNet Inception module: four branches side by side, joined along channels.

    See the module docstring for the branches. Every branch keeps H and W, so the
    output has ``n1x1 + n3x3 + n5x5 + pool_proj`` channels (``n1x1 + n3x3 + n5x5 +
    in_channels`` for the naive module).

    Parameters
    ----------
    in_channels, n1x1, n3x3_reduce, n3x3, n5x5_reduce, n5x5, pool_proj : int
    reductions : bool, default True
        False builds the naive module (no 1x1 reductions, no pool projection).
    bias : bool, default True
    rng : numpy.random.Generator, int or None
    dtype : float16, float32 or float64, default float64

    Attributes
    ----------
    branches : tuple of Sequential
        The four branches, in the order above.
    params, grads : dict
        Dotted names: ``"1.2.w"`` is the 3x3 convolution's weight (branch 1, layer 2).

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> block = C.Inception(192, 64, 96, 128, 16, 32, 32, rng=0)  # GoogLeNet 3a
    >>> block.forward(np.zeros((1, 192, 28, 28))).shape
    (1, 256, 28, 28)
    >>> block.cost(28, 28).macs
    128049152
    """

    def __init__(self, in_channels: int, n1x1: int, n3x3_reduce: int, n3x3: int, n5x5_reduce: int, n5x5: int,
                 pool_proj: int, reductions: bool = True, bias: bool = True,
                 rng: np.random.Generator | int | None = None, dtype: FloatDType = np.float64) -> None:
        self.in_channels = check_positive_int(in_channels, "in_channels")
        values = (n1x1, n3x3_reduce, n3x3, n5x5_reduce, n5x5, pool_proj)
        self.widths: dict[str, int] = {name: check_positive_int(v, name) for name, v in zip(WIDTH_NAMES, values)}
        self.reductions = check_flag(reductions, "reductions")
        bias = check_flag(bias, "bias")
        rng = check_rng(rng)
        w = self.widths
        description = inception_branches(self.in_channels, w["n1x1"], w["n3x3_reduce"], w["n3x3"], w["n5x5_reduce"],
                                         w["n5x5"], w["pool_proj"], reductions=self.reductions)
        super().__init__(*[Sequential(*[_build(step, bias, rng, dtype) for step in branch])
                           for branch in description])

    @property
    def out_channels(self) -> int:
        w = self.widths
        last = w["pool_proj"] if self.reductions else self.in_channels
        return w["n1x1"] + w["n3x3"] + w["n5x5"] + last

    def forward(self, x: ArrayLike) -> FloatArray:
        """x: (N, C_in, H, W) -> out: (N, out_channels, H, W)."""
        try:
            return super().forward(x)
        except ValueError as error:   # in the module's own words when x is the culprit
            raise input_error(self, x, self.in_channels, error) from None

    def cost_node(self, in_shape: Shape3, name: str | None) -> Report:
        check_in_channels(self, in_shape[0], self.in_channels)
        return super().cost_node((self.in_channels, in_shape[1], in_shape[2]), name)

    def __repr__(self) -> str:
        args = ", ".join(str(value) for value in self.widths.values())
        naive = ", reductions=False" if not self.reductions else ""
        return f"Inception({self.in_channels}, {args}{naive})"
