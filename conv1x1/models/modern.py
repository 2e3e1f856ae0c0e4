"""The blocks of today's networks, where the 1x1 convolution does most of the work.

- ``InvertedResidual`` (MobileNetV2; Sandler et al. 2018, "MobileNetV2: Inverted Residuals and Linear
  Bottlenecks", arXiv:1801.04381): a 1x1 expands the channels t times, a 3x3 depthwise filters them,
  a 1x1 projects them back down, *without* a ReLU after it (the linear bottleneck: a ReLU in the
  narrow space would destroy information), and the input is added when the shapes allow.
- ``SqueezeExcite`` (Hu, Shen, Sun 2018, "Squeeze-and-Excitation Networks", arXiv:1709.01507):
  two 1x1 convolutions on the globally pooled input, a small MLP, give one gate per channel.
- ``MBConv`` (EfficientNet; Tan and Le 2019, "EfficientNet: Rethinking Model Scaling for Convolutional
  Neural Networks", arXiv:1905.11946): MobileNetV2's block with SiLU, a KxK depthwise (3 or 5),
  squeeze-and-excitation before the projection, and stochastic depth on the residual branch.
- ``ConvNeXtBlock`` (Liu et al. 2022, "A ConvNet for the 2020s", arXiv:2201.03545): a 7x7 depthwise
  convolution, layer norm, then a 1x1 "MLP" that expands 4x with GELU and projects back, a learned
  layer scale, stochastic depth, and the input added.

Each block is a ``Sequential`` (``SqueezeExcite`` runs its two inputs by hand), so forward,
backward, params and cost come from its layers; the weights are drawn on first use.
Every block follows torchvision's definition, layer for layer, so ``conv1x1.from_torch`` reads
torchvision's modules into these classes.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from .. import functional as F
from .._checks import FloatArray, check_choice, check_image_batch, check_positive_int, check_rng
from ..containers import Residual, Sequential
from ..cost.formulas import channel_scale_cost
from ..cost.report import Report
from ..functional.dropout import check_drop_probability
from ..layers import (
    GELU,
    BatchNorm2d,
    Conv1x1,
    Conv2d,
    DropPath,
    GlobalAvgPool2d,
    Layer,
    LayerNorm2d,
    LayerScale,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
)

__all__ = ["SqueezeExcite", "InvertedResidual", "MBConv", "ConvNeXtBlock"]

Seed = np.random.Generator | int | None


class SqueezeExcite(Sequential):
    """Squeeze-and-excitation: ``out = x * gate(x)``, one gate in (0, 1) per image and channel.

    ``self`` runs, as a ``Sequential``, the squeeze and the excitation that give the gate s::

        s = sigmoid(fc2(act(fc1(global_avg_pool(x)))))      (N, C, 1, 1): fc1, fc2 are 1x1 convolutions
        out = x * s                                         the channel gate, channel_gate_forward

    x feeds both the gate and the product, so backward adds the two paths::

        dx = dout * s  +  (the squeeze's backward of ds),  ds = sum over (h, w) of dout * x

    Parameters
    ----------
    channels : int
        C, the depth of x (and of the gate).
    squeeze_channels : int
        The MLP's hidden width (EfficientNet: a quarter of the block's input channels).
    activation : "silu" or "relu", default "silu"
        Between the two 1x1 convolutions (EfficientNet's SiLU; the SE paper's ReLU).
    rng : numpy.random.Generator, int or None
    dtype : float16, float32 or float64, default float64

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> se = C.SqueezeExcite(96, 4, rng=0)
    >>> se.forward(np.ones((2, 96, 7, 7))).shape
    (2, 96, 7, 7)
    >>> se.cost(7, 7).macs                      # the two 1x1s on a 1x1 map: 96*4 + 4*96
    768
    """

    def __init__(self, channels: int, squeeze_channels: int, activation: str = "silu", rng: Seed = None,
                 dtype: DTypeLike = np.float64) -> None:
        c = check_positive_int(channels, "channels")
        s = check_positive_int(squeeze_channels, "squeeze_channels")
        self.activation = check_choice(activation, "activation", ("silu", "relu"), '"silu" or "relu"')
        rng = check_rng(rng)
        super().__init__(GlobalAvgPool2d(), Conv1x1(c, s, rng=rng, dtype=dtype),
                         SiLU() if self.activation == "silu" else ReLU(), Conv1x1(s, c, rng=rng, dtype=dtype),
                         Sigmoid())
        self.in_channels = self.out_channels = self.channels = c
        self.squeeze_channels = s

    def forward(self, x: ArrayLike) -> FloatArray:
        """x: (N, C, H, W) -> out: (N, C, H, W), every channel scaled by its gate."""
        x = check_image_batch(x, self.in_channels, owner=repr(self))
        s = super().forward(x)                                    # (N, C, 1, 1)
        out, self.gate_cache = F.channel_gate_forward(x, s)
        return out

    def backward(self, dout: ArrayLike) -> FloatArray:
        """dout: (N, C, H, W) -> dx: (N, C, H, W), through the product and through the gate."""
        self.require_cache()
        dx, ds = F.channel_gate_backward(dout, self.gate_cache)
        return dx + super().backward(ds[:, :, None, None])

    def cost_node(self, in_shape: tuple, name: str | None) -> Report:
        squeeze = super().cost_node(in_shape, name)
        gate = channel_scale_cost("channel gate", self.in_channels, in_shape[1], in_shape[2],
                                  name=f"{name}.gate" if name else "gate")
        return Report([*squeeze.children, gate], title=name or repr(self))

    def __repr__(self) -> str:
        act = "" if self.activation == "silu" else f", activation={self.activation!r}"
        return f"SqueezeExcite({self.in_channels}, {self.squeeze_channels}{act})"


def _residual_or_not(layers: list[Layer], use_residual: bool) -> list[Layer]:
    """The block's children: the layers in a ``Residual`` when the input is added, else the layers themselves."""
    return [Residual(Sequential(*layers))] if use_residual else layers


class InvertedResidual(Sequential):
    """MobileNetV2's block: 1x1 expand -> BN -> ReLU6 -> 3x3 depthwise -> BN -> ReLU6 -> 1x1 project -> BN.

    The projecting 1x1 has no activation: the linear bottleneck. The first 1x1 is left out when
    ``expand_ratio`` is 1; the input is added (a ``Residual``) when stride is 1 and the widths agree.
    No convolution has a bias.

    Of its multiply-adds, the two 1x1s do ``H·W·C·t·(C_in + C_out)`` and the depthwise 3x3
    ``H·W·C_in·t·9``: pointwise / depthwise = (C_in + C_out) / 9, tens to one in every block.

    Parameters
    ----------
    in_channels, out_channels : int
    stride : 1 or 2, default 1
    expand_ratio : int, default 6
        t: the expanded width is ``in_channels * t``.
    rng : numpy.random.Generator, int or None
    dtype : float16, float32 or float64, default float64

    Examples
    --------
    >>> import conv1x1 as C
    >>> block = C.InvertedResidual(32, 32, expand_ratio=6)
    >>> [row.category for row in block.cost(28, 28).layers if row.macs]
    ['1x1', 'depthwise', '1x1']
    >>> block.cost(28, 28).macs                  # 28*28*(32*192 + 192*9 + 192*32)
    10988544
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, expand_ratio: int = 6,
                 rng: Seed = None, dtype: DTypeLike = np.float64) -> None:
        c_in, c_out = check_positive_int(in_channels, "in_channels"), check_positive_int(out_channels, "out_channels")
        stride = check_choice(stride, "stride", (1, 2), "1 or 2")
        t = check_positive_int(expand_ratio, "expand_ratio")
        rng = check_rng(rng)
        hidden = c_in * t
        layers = _expansion(c_in, t, ReLU6, rng, dtype)
        layers += [Conv2d(hidden, hidden, 3, stride=stride, padding=1, groups=hidden, bias=False, rng=rng,
                          dtype=dtype), BatchNorm2d(hidden, dtype=dtype), ReLU6(),
                   Conv1x1(hidden, c_out, bias=False, rng=rng, dtype=dtype), BatchNorm2d(c_out, dtype=dtype)]
        super().__init__(*_residual_or_not(layers, stride == 1 and c_in == c_out))
        self.in_channels, self.out_channels, self.stride, self.expand_ratio = c_in, c_out, stride, t

    def __repr__(self) -> str:
        return (f"InvertedResidual({self.in_channels}, {self.out_channels}, stride={self.stride}, "
                f"expand_ratio={self.expand_ratio})")


def _expansion(c_in: int, t: int, act: type[Layer], rng: np.random.Generator, dtype: DTypeLike) -> list[Layer]:
    """The expanding 1x1 convolution of an inverted residual, with its BN and activation; none when ``t`` is 1."""
    if t == 1:
        return []
    return [Conv1x1(c_in, c_in * t, bias=False, rng=rng, dtype=dtype), BatchNorm2d(c_in * t, dtype=dtype), act()]


class MBConv(Sequential):
    """EfficientNet's block: [1x1 expand -> BN -> SiLU] -> KxK depthwise -> BN -> SiLU -> squeeze-and-excite
    -> 1x1 project -> BN, with the input added (after stochastic depth) when stride is 1 and the widths agree.

    As torchvision builds it: the expansion is left out when ``expand_ratio`` is 1, the SE's hidden
    width is ``max(1, in_channels // 4)``, and no convolution but the SE's has a bias.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : 3 or 5
    stride : 1 or 2
    expand_ratio : int
    drop_path : float in [0, 1], default 0.0
        Stochastic depth's p on the residual branch (unused without a residual).
    rng : numpy.random.Generator, int or None
    dtype : float16, float32 or float64, default float64

    Examples
    --------
    >>> import conv1x1 as C
    >>> C.MBConv(16, 24, kernel_size=3, stride=2, expand_ratio=6).cost(112, 112).params   # torchvision's 6,004
    6004
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int, expand_ratio: int,
                 drop_path: float = 0.0, rng: Seed = None, dtype: DTypeLike = np.float64) -> None:
        c_in, c_out = check_positive_int(in_channels, "in_channels"), check_positive_int(out_channels, "out_channels")
        k = check_choice(kernel_size, "kernel_size", (3, 5), "3 or 5 (EfficientNet's depthwise kernels)")
        stride = check_choice(stride, "stride", (1, 2), "1 or 2")
        t = check_positive_int(expand_ratio, "expand_ratio")
        p = check_drop_probability(drop_path)
        rng = check_rng(rng)
        hidden = c_in * t
        layers = _expansion(c_in, t, SiLU, rng, dtype)
        layers += [Conv2d(hidden, hidden, k, stride=stride, padding=k // 2, groups=hidden, bias=False, rng=rng,
                          dtype=dtype), BatchNorm2d(hidden, dtype=dtype), SiLU(),
                   SqueezeExcite(hidden, max(1, c_in // 4), rng=rng, dtype=dtype),
                   Conv1x1(hidden, c_out, bias=False, rng=rng, dtype=dtype), BatchNorm2d(c_out, dtype=dtype)]
        residual = stride == 1 and c_in == c_out
        if residual:
            layers.append(DropPath(p, rng=rng))
        super().__init__(*_residual_or_not(layers, residual))
        self.in_channels, self.out_channels, self.kernel_size = c_in, c_out, k
        self.stride, self.expand_ratio, self.drop_path = stride, t, p

    def __repr__(self) -> str:
        return (f"MBConv({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, expand_ratio={self.expand_ratio}, drop_path={self.drop_path:g})")


class ConvNeXtBlock(Sequential):
    """ConvNeXt's block: ``x + drop_path(gamma * pw2(GELU(pw1(LayerNorm(dw7x7(x))))))``.

    pw1 and pw2 are 1x1 convolutions (C -> 4C -> C), the "MLP" that torchvision writes as
    ``nn.Linear`` layers on the channels-last tensor between two permutes: the same numbers.
    They hold 8·C² of the block's 8·C² + 49·C weights.

    Parameters
    ----------
    channels : int
    layer_scale : float, default 1e-6
        The starting value of gamma (``LayerScale``).
    drop_path : float in [0, 1], default 0.0
    rng : numpy.random.Generator, int or None
    dtype : float16, float32 or float64, default float64

    Examples
    --------
    >>> import conv1x1 as C
    >>> block = C.ConvNeXtBlock(96)
    >>> block.cost(56, 56).params                # 96*49 + 96 + 2*96 + 96*384 + 384 + 384*96 + 96 + 96
    79296
    """

    def __init__(self, channels: int, layer_scale: float = 1e-6, drop_path: float = 0.0, rng: Seed = None,
                 dtype: DTypeLike = np.float64) -> None:
        c = check_positive_int(channels, "channels")
        p = check_drop_probability(drop_path)
        rng = check_rng(rng)
        super().__init__(Residual(Sequential(
            Conv2d(c, c, 7, padding=3, groups=c, rng=rng, dtype=dtype), LayerNorm2d(c, dtype=dtype),
            Conv1x1(c, 4 * c, rng=rng, dtype=dtype), GELU(), Conv1x1(4 * c, c, rng=rng, dtype=dtype),
            LayerScale(c, layer_scale, dtype=dtype), DropPath(p, rng=rng))))
        self.in_channels = self.out_channels = self.channels = c
        self.layer_scale, self.drop_path = layer_scale, p

    def __repr__(self) -> str:
        return f"ConvNeXtBlock({self.channels}, drop_path={self.drop_path:g})"
