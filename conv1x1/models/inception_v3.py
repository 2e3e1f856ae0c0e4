"""Inception v3 (Szegedy et al. 2016, "Rethinking the Inception Architecture for Computer Vision",
arXiv:1512.00567), as torchvision's ``inception_v3()`` builds it: 1x1 reductions before factorized
convolutions (a 3x3 as 1x3 then 3x1, a 7x7 as 1x7 then 7x1), every convolution followed by batch norm
(eps 1e-3) and ReLU.

The modules are named after the paper's figures, as torchvision names them:

- ``inception_a`` (Figure 5, Mixed_5b-d): 1x1 | 1x1 -> 5x5 | 1x1 -> 3x3 -> 3x3 | avg pool -> 1x1.
- ``inception_b`` (Figure 10, Mixed_6a): the grid reduction 35 -> 17, stride-2 3x3s beside a max pool.
- ``inception_c`` (Figure 6, Mixed_6b-e): 1x1 | 1x1 -> 1x7 -> 7x1 | 1x1 -> 7x1 -> 1x7 -> 7x1 -> 1x7
  | avg pool -> 1x1, with c7 channels inside the 7-wide branches.
- ``inception_d`` (Mixed_7a): the grid reduction 17 -> 8.
- ``inception_e`` (Figure 7, Mixed_7b-c): the 1x3 and 3x1 of a branch side by side (expanded outputs).
- ``AuxiliaryClassifier``: the side head on Mixed_6e's output, used in training only.

Each module is a ``Concat`` of ``Sequential`` branches; a branch's split end (``inception_e``) is a
``Concat`` of its own.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from .._checks import FloatArray, check_float_array, check_positive_int, check_rng
from ..containers import Concat, Sequential
from ..cost.formulas import identity_cost
from ..cost.report import Report
from ..layers import AvgPool2d, BatchNorm2d, Conv1x1, Conv2d, GlobalAvgPool2d, Layer, MaxPool2d, ReLU, Shape3

__all__ = ["basic_conv", "inception_a", "inception_b", "inception_c", "inception_d", "inception_e",
           "AuxiliaryClassifier"]

Seed = np.random.Generator | int | None
Pair = int | tuple[int, int]
T = TypeVar("T", bound=Layer)


def _widths(layer: T, in_channels: int, out_channels: int) -> T:
    """``layer`` with the depths it takes and gives as attributes, as every block of the library has them."""
    vars(layer).update(in_channels=in_channels, out_channels=out_channels)
    return layer


def basic_conv(c_in: int, c_out: int, kernel_size: Pair, rng: np.random.Generator, dtype: DTypeLike,
               stride: int = 1, padding: Pair = 0) -> Sequential:
    """torchvision's ``BasicConv2d``: a convolution without bias, batch norm (eps 1e-3) and ReLU."""
    conv = (Conv1x1(c_in, c_out, bias=False, rng=rng, dtype=dtype) if kernel_size == 1 and stride == 1
            else Conv2d(c_in, c_out, kernel_size, stride=stride, padding=padding, bias=False, rng=rng, dtype=dtype))
    return _widths(Sequential(conv, BatchNorm2d(c_out, eps=1e-3, dtype=dtype), ReLU()), c_in, c_out)


def _pool_branch(c_in: int, c_out: int, rng: np.random.Generator, dtype: DTypeLike) -> Sequential:
    return Sequential(AvgPool2d(3, stride=1, padding=1), basic_conv(c_in, c_out, 1, rng, dtype))


def inception_a(c_in: int, pool_features: int, rng: Seed = None, dtype: DTypeLike = np.float64) -> Concat:
    """Figure 5 (Mixed_5b-d): 64 + 64 + 96 + ``pool_features`` channels out, H and W kept."""
    rng = check_rng(rng)
    return _widths(Concat(basic_conv(c_in, 64, 1, rng, dtype),
                  Sequential(basic_conv(c_in, 48, 1, rng, dtype), basic_conv(48, 64, 5, rng, dtype, padding=2)),
                  Sequential(basic_conv(c_in, 64, 1, rng, dtype), basic_conv(64, 96, 3, rng, dtype, padding=1),
                             basic_conv(96, 96, 3, rng, dtype, padding=1)),
                  _pool_branch(c_in, pool_features, rng, dtype)), c_in, 224 + pool_features)


def inception_b(c_in: int, rng: Seed = None, dtype: DTypeLike = np.float64) -> Concat:
    """Mixed_6a, the grid reduction 35x35 -> 17x17: 384 + 96 channels and the max-pooled input."""
    rng = check_rng(rng)
    return _widths(Concat(basic_conv(c_in, 384, 3, rng, dtype, stride=2),
                  Sequential(basic_conv(c_in, 64, 1, rng, dtype), basic_conv(64, 96, 3, rng, dtype, padding=1),
                             basic_conv(96, 96, 3, rng, dtype, stride=2)),
                  MaxPool2d(3, stride=2)), c_in, 480 + c_in)


def inception_c(c_in: int, c7: int, rng: Seed = None, dtype: DTypeLike = np.float64) -> Concat:
    """Figure 6 (Mixed_6b-e): the 7x7s factorized into 1x7 and 7x1; 4 x 192 = 768 channels out."""
    rng = check_rng(rng)

    def row(a: int, b: int) -> Sequential:     # 1x7: one row of seven pixels
        return basic_conv(a, b, (1, 7), rng, dtype, padding=(0, 3))

    def column(a: int, b: int) -> Sequential:  # 7x1: one column
        return basic_conv(a, b, (7, 1), rng, dtype, padding=(3, 0))

    return _widths(Concat(basic_conv(c_in, 192, 1, rng, dtype),
                  Sequential(basic_conv(c_in, c7, 1, rng, dtype), row(c7, c7), column(c7, 192)),
                  Sequential(basic_conv(c_in, c7, 1, rng, dtype), column(c7, c7), row(c7, c7), column(c7, c7),
                             row(c7, 192)),
                  _pool_branch(c_in, 192, rng, dtype)), c_in, 768)


def inception_d(c_in: int, rng: Seed = None, dtype: DTypeLike = np.float64) -> Concat:
    """Mixed_7a, the grid reduction 17x17 -> 8x8: 320 + 192 channels and the max-pooled input."""
    rng = check_rng(rng)
    return _widths(Concat(Sequential(basic_conv(c_in, 192, 1, rng, dtype),
                                     basic_conv(192, 320, 3, rng, dtype, stride=2)),
                  Sequential(basic_conv(c_in, 192, 1, rng, dtype),
                             basic_conv(192, 192, (1, 7), rng, dtype, padding=(0, 3)),
                             basic_conv(192, 192, (7, 1), rng, dtype, padding=(3, 0)),
                             basic_conv(192, 192, 3, rng, dtype, stride=2)),
                  MaxPool2d(3, stride=2)), c_in, 512 + c_in)


def inception_e(c_in: int, rng: Seed = None, dtype: DTypeLike = np.float64) -> Concat:
    """Figure 7 (Mixed_7b-c): a 1x3 and a 3x1 side by side at the end of two branches; 2048 channels out."""
    rng = check_rng(rng)

    def split(c: int) -> Concat:
        return Concat(basic_conv(c, 384, (1, 3), rng, dtype, padding=(0, 1)),
                      basic_conv(c, 384, (3, 1), rng, dtype, padding=(1, 0)))

    return _widths(Concat(basic_conv(c_in, 320, 1, rng, dtype),
                  Sequential(basic_conv(c_in, 384, 1, rng, dtype), split(384)),
                  Sequential(basic_conv(c_in, 448, 1, rng, dtype), basic_conv(448, 384, 3, rng, dtype, padding=1),
                             split(384)),
                  _pool_branch(c_in, 192, rng, dtype)), c_in, 2048)


class AuxiliaryClassifier(Sequential):
    """Inception v3's auxiliary head: the identity on the main path, a classifier on the side, in training only.

    Its layers (average pool 5x5/3, 1x1 to 128, 5x5 to 768, global average pool, FC) compute
    ``logits`` (N, num_classes, 1, 1) from x during ``forward`` in training mode (None at evaluation,
    as torchvision's head is skipped there), and ``forward`` returns x itself. Before ``backward``,
    set ``dlogits``, the gradient of the loss with respect to ``logits`` (torchvision's training
    recipe adds 0.4 x the auxiliary loss); without it the head adds nothing to dx::

        dx = dout + (the head's backward of dlogits)

    Parameters
    ----------
    in_channels : int
    num_classes : int
    rng : numpy.random.Generator, int or None
    dtype : float16, float32 or float64, default float64

    Attributes
    ----------
    logits : ndarray or None
    dlogits : ndarray or None
    """

    def __init__(self, in_channels: int, num_classes: int, rng: Seed = None, dtype: DTypeLike = np.float64) -> None:
        c_in = check_positive_int(in_channels, "in_channels")
        k = check_positive_int(num_classes, "num_classes")
        rng = check_rng(rng)
        super().__init__(AvgPool2d(5, stride=3), basic_conv(c_in, 128, 1, rng, dtype),
                         basic_conv(128, 768, 5, rng, dtype), GlobalAvgPool2d(),
                         Conv1x1(768, k, rng=rng, dtype=dtype))
        self.in_channels, self.num_classes = c_in, k
        self.logits: NDArray[np.floating] | None = None
        self.dlogits: NDArray[np.floating] | None = None

    def forward(self, x: ArrayLike) -> FloatArray:
        """x: (N, C, H, W) -> x itself; ``logits`` (N, num_classes, 1, 1) in training mode."""
        x = np.asarray(x)
        self.logits, self.dlogits = (super().forward(x) if self.training else None), None
        self.cache = "ran"
        return x

    def backward(self, dout: ArrayLike) -> FloatArray:
        """dout: (N, C, H, W) -> dx = dout + the head's input gradient for ``dlogits`` (when set)."""
        self.require_cache()
        dout = check_float_array(dout, "dout")
        if self.logits is None or self.dlogits is None:
            return dout
        return dout + super().backward(self.dlogits)

    def cost_node(self, in_shape: Shape3, name: str | None) -> Report:
        """The head's rows (its parameters and, run in training, its MACs), then the main path unchanged."""
        head = super().cost_node(in_shape, name)
        through = identity_cost("main path", *in_shape, name=f"{name}.main" if name else "main")
        return Report([*head.children, through], title=name or repr(self))

    def __repr__(self) -> str:
        return f"AuxiliaryClassifier({self.in_channels}, {self.num_classes})"
