"""Whole networks built from the library's layers, to see where the 1x1 convolution does the work.

- ``mobilenet_v1``: Howard et al. 2017, "MobileNets: Efficient Convolutional Neural Networks for Mobile
  Vision Applications", arXiv:1704.04861 (Table 1's body; width multiplier alpha).
- ``resnet50``: He, Zhang, Ren, Sun 2015, "Deep Residual Learning for Image Recognition", arXiv:1512.03385
  (Table 1's 50-layer column), with the stride on the first 1x1 (the paper) or on the 3x3 (torchvision).
- ``squeezenet1_0``: Iandola et al. 2016, "SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and
  <0.5MB model size", arXiv:1602.07360, with torchvision's geometry (max pools with ``ceil_mode``).
- ``shufflenet_v1``: Zhang, Zhou, Lin, Sun 2017, "ShuffleNet: An Extremely Efficient Convolutional Neural
  Network for Mobile Devices", arXiv:1707.01083 (Table 1; groups g and scale factor s).
- ``googlenet``: Szegedy et al. 2014, "Going Deeper with Convolutions", arXiv:1409.4842 (Table 1): 5x5
  branches, biases, no batch norm, no local response normalisation, no auxiliary classifiers.
- ``mobilenet_v2``: Sandler et al. 2018, "MobileNetV2: Inverted Residuals and Linear Bottlenecks",
  arXiv:1801.04381 (Table 2), as torchvision defines it.
- ``efficientnet_b0``: Tan and Le 2019, "EfficientNet: Rethinking Model Scaling for Convolutional Neural
  Networks", arXiv:1905.11946 (Table 1), as torchvision defines it.
- ``convnext_tiny``: Liu et al. 2022, "A ConvNet for the 2020s", arXiv:2201.03545, as torchvision defines it.
- ``inception_v3``: Szegedy et al. 2016, "Rethinking the Inception Architecture for Computer Vision",
  arXiv:1512.00567, as torchvision defines it (299 x 299 input).
- ``nin``: the small Network in Network (Lin, Chen, Yan 2013, arXiv:1312.4400) of the digits examples.

Every network ends in global average pooling and, where the paper has a fully
connected classifier, a ``Conv1x1`` on the 1x1 map (an FC layer *is* a 1x1
convolution on a 1x1 map, and ``by_kind`` files it under "fc"); the scores come
out as (N, num_classes, 1, 1), without a flatten. The networks of 2014-2017 leave
dropout out (it is the identity at evaluation and costs nothing); today's keep it,
and stochastic depth, where torchvision has them, so that they convert layer for layer.

Weights are drawn on first use, so ``model.cost(224, 224)`` prices a network
without allocating them: the cost comes from the same layer objects that run.
Conventions of the counts (``conv1x1.cost``): MACs are the multiply-adds of
convolutions and FC layers only; params counts every trainable array (weights,
biases, batch norm's gamma and beta), as PyTorch's ``sum(p.numel())`` does.

``MODELS`` maps each name to its builder (the command line uses it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import DTypeLike

from .._checks import check_choice, check_flag, check_positive_int, check_real, check_rng
from ..containers import Sequential
from ..cost import Report
from ..functional.dropout import check_drop_probability
from ..layers import (
    BatchNorm2d,
    Conv1x1,
    Conv2d,
    Dropout,
    GlobalAvgPool2d,
    Layer,
    LayerNorm2d,
    MaxPool2d,
    ReLU,
    ReLU6,
    SiLU,
)
from .blocks import Bottleneck, DepthwiseSeparable, Fire, ShuffleUnit, check_group_widths
from .inception import Inception
from .inception_v3 import (
    AuxiliaryClassifier,
    basic_conv,
    inception_a,
    inception_b,
    inception_c,
    inception_d,
    inception_e,
)
from .modern import ConvNeXtBlock, InvertedResidual, MBConv

Seed = np.random.Generator | int | None

__all__ = ["Network", "mobilenet_v1", "resnet50", "squeezenet1_0", "shufflenet_v1", "googlenet", "mobilenet_v2",
           "efficientnet_b0", "convnext_tiny", "nin", "inception_v3", "MODELS"]

FloatDType = type[np.floating[Any]] | np.dtype[Any]   # np.float32, np.float64, ... or np.dtype(...)


class Network(Sequential):
    """A ``Sequential`` whose layers have names ("conv1", "fire2", "inception_3a"), used in its cost report.

    Parameters
    ----------
    name : str
        The network's name, the title of its report.
    named_layers : list of (str, Layer)

    Attributes
    ----------
    names : tuple of str
        One per layer, in order; ``network[names.index("fc")]`` is the classifier.
    """

    def __init__(self, name: str, named_layers: Sequence[tuple[str, Layer]], in_channels: int = 3) -> None:
        super().__init__(*[layer for _, layer in named_layers])
        self.name = name
        self.names = tuple(label for label, _ in named_layers)
        self.in_channels = in_channels

    def __repr__(self) -> str:
        return f"{self.name}({len(self)} layers)"

    def layer(self, name: str) -> Layer:
        """The layer called ``name``."""
        return self[self.names.index(name)]

    def cost(self, height: int = 224, width: int = 224, in_channels: int | None = None) -> Report:
        """The cost of one (3, height, width) image: a Report with one child per named layer."""
        return super().cost(height, width, self.in_channels if in_channels is None else in_channels)

    @property
    def title(self) -> str:
        return self.name

    def child_names(self, name: str | None) -> list[str]:
        """The layers' own names ("conv1", "fire2", ...): a network's rows are named as its paper names them."""
        return list(self.names)


def _conv_bn_relu(c_in: int, c_out: int, k: int, stride: int, rng: np.random.Generator,
                  dtype: FloatDType) -> list[Layer]:
    """A dense KxK convolution without bias, batch norm and ReLU (padding K // 2)."""
    return [Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, bias=False, rng=rng, dtype=dtype),
            BatchNorm2d(c_out, dtype=dtype), ReLU()]


def mobilenet_v1(width_multiplier: float = 1.0, num_classes: int = 1000,
                 rng: np.random.Generator | int | None = None, dtype: FloatDType = np.float64) -> Network:
    """MobileNet v1: a 3x3 convolution, 13 depthwise-separable blocks, global pooling, an FC layer.

    Table 1 of the paper, with every channel count times ``width_multiplier``
    (rounded down). At 224 x 224 and alpha = 1 it costs 569M multiply-adds and
    has 4.2M parameters, as the paper says.

    Parameters
    ----------
    width_multiplier : float in (0, 1], default 1.0
        The paper's alpha (0.75, 0.5 and 0.25 in its Table 6).
    num_classes : int, default 1000
    rng : numpy.random.Generator, int or None
    dtype : float16, float32 or float64, default float64

    Examples
    --------
    >>> from conv1x1 import models
    >>> report = models.mobilenet_v1().cost(224, 224)
    >>> report.macs, report.params
    (568740352, 4231976)
    """
    alpha = check_width_multiplier(width_multiplier)
    num_classes = check_positive_int(num_classes, "num_classes")
    rng = check_rng(rng)

    def width(channels: int) -> int:
        return max(1, int(channels * alpha))

    stem = _conv_bn_relu(3, width(32), 3, 2, rng, dtype)
    layers: list[tuple[str, Layer]] = list(zip(("conv1", "bn1", "relu1"), stem))
    plan = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    c_in = width(32)
    for i, (c_out, stride) in enumerate(plan, start=2):
        layers.append((f"block{i}", DepthwiseSeparable(c_in, width(c_out), stride, rng=rng, dtype=dtype)))
        c_in = width(c_out)
    layers += [("pool", GlobalAvgPool2d()), ("fc", Conv1x1(c_in, num_classes, rng=rng, dtype=dtype))]
    name = "mobilenet_v1" + (f" (width {alpha:g})" if alpha != 1 else "")
    return Network(name, layers)


def resnet50(stride_on: Literal["3x3", "1x1"] = "3x3", num_classes: int = 1000,
             rng: np.random.Generator | int | None = None, dtype: FloatDType = np.float64) -> Network:
    """ResNet-50: a 7x7 convolution, a max pool, 16 bottleneck blocks in four stages, pooling, an FC layer.

    Parameters
    ----------
    stride_on : "3x3" or "1x1", default "3x3"
        Where the first block of stages 2-4 subsamples: on its first 1x1 (the
        paper: 3.86 billion multiply-adds) or on its 3x3 (torchvision's "v1.5":
        4.09 billion, because that first 1x1 then runs on the larger, not yet
        subsampled map; every 3x3 costs the same either way).
    num_classes : int, default 1000
    rng : numpy.random.Generator, int or None
    dtype : float16, float32 or float64, default float64

    Examples
    --------
    >>> from conv1x1 import models
    >>> models.resnet50().cost(224, 224).macs, models.resnet50("1x1").cost(224, 224).macs
    (4089184256, 3857973248)
    """
    num_classes = check_positive_int(num_classes, "num_classes")
    rng = check_rng(rng)
    layers: list[tuple[str, Layer]] = list(zip(("conv1", "bn1", "relu1"), _conv_bn_relu(3, 64, 7, 2, rng, dtype)))
    layers.append(("maxpool", MaxPool2d(3, stride=2, padding=1)))
    c_in = 64
    for stage, (mid, blocks, stride) in enumerate([(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)], start=2):
        for j in range(blocks):
            block = Bottleneck(c_in, mid, 4 * mid, stride if j == 0 else 1, stride_on, rng=rng, dtype=dtype)
            layers.append((f"conv{stage}_{j + 1}", block))
            c_in = 4 * mid
    layers += [("pool", GlobalAvgPool2d()), ("fc", Conv1x1(c_in, num_classes, rng=rng, dtype=dtype))]
    return Network(f"resnet50 (stride on {stride_on})", layers)


def squeezenet1_0(num_classes: int = 1000,
                  rng: np.random.Generator | int | None = None, dtype: FloatDType = np.float64) -> Network:
    """SqueezeNet 1.0 with torchvision's geometry: 1,248,424 parameters for 1000 classes.

    conv1 (7x7/2, 96) -> max pool -> fire2-4 -> max pool -> fire5-8 -> max pool
    -> fire9 -> conv10 (1x1 to the classes, ReLU) -> global average pooling.
    The max pools are 3x3/2 with ``ceil_mode``. There is no FC layer: conv10 is
    a 1x1 convolution on the 13x13 map (so ``by_kind`` files it under "1x1").

    Examples
    --------
    >>> from conv1x1 import models
    >>> models.squeezenet1_0().cost(224, 224).params
    1248424
    """
    num_classes = check_positive_int(num_classes, "num_classes")
    rng = check_rng(rng)

    def pool() -> MaxPool2d:
        return MaxPool2d(3, stride=2, ceil_mode=True)

    def fire(in_channels: int, squeeze: int, expand1x1: int, expand3x3: int) -> Fire:
        return Fire(in_channels, squeeze, expand1x1, expand3x3, rng=rng, dtype=dtype)

    layers = [("conv1", Conv2d(3, 96, 7, stride=2, rng=rng, dtype=dtype)), ("relu1", ReLU()), ("maxpool1", pool()),
              ("fire2", fire(96, 16, 64, 64)), ("fire3", fire(128, 16, 64, 64)), ("fire4", fire(128, 32, 128, 128)),
              ("maxpool4", pool()),
              ("fire5", fire(256, 32, 128, 128)), ("fire6", fire(256, 48, 192, 192)),
              ("fire7", fire(384, 48, 192, 192)), ("fire8", fire(384, 64, 256, 256)),
              ("maxpool8", pool()), ("fire9", fire(512, 64, 256, 256)),
              ("conv10", Conv1x1(512, num_classes, rng=rng, dtype=dtype)), ("relu10", ReLU()),
              ("pool", GlobalAvgPool2d())]
    return Network("squeezenet1_0", layers)


SHUFFLENET_WIDTHS = {1: 144, 2: 200, 3: 240, 4: 272, 8: 384}  # Table 1: Stage 2's output channels per g


def shufflenet_v1(groups: int = 3, width_multiplier: float = 1.0, num_classes: int = 1000,
                  rng: np.random.Generator | int | None = None, dtype: FloatDType = np.float64) -> Network:
    """ShuffleNet (v1) as in the paper's Table 1: a 3x3 convolution, a max pool, 16 ShuffleUnits, pooling, FC.

    conv1 (3x3/2, 24 channels) -> BN -> ReLU -> max pool 3x3/2 -> Stage 2 (4 units), Stage 3 (8 units),
    Stage 4 (4 units) -> global average pooling -> FC. Each stage's first unit has stride 2 and widens:
    Stage 2's from 24 to the table's width for g (e.g. 240 for g = 3), Stages 3 and 4's to twice the
    last; the first unit of Stage 2 does not group its first 1x1 (the paper: 24 input channels are too
    few). The bottleneck is a quarter of each unit's output.

    Table 1's complexities for g = 1, 2, 3, 4, 8 (143, 140, 137, 133 and 137 "MFLOPs", which in the
    paper are multiply-adds) are this network's MACs at 224 x 224 *without* the final FC layer, to the
    nearest million; with it (0.6M to 1.5M MACs) they are 143, 141, 137, 134 and 138. That is a fit,
    not the paper's stated rule: its other tables and the official code's README match the count
    *with* the FC layer (0.5x, g = 3: 37.6M here, 38M in Table 2). Its 0.25x row (13M) is not
    reproduced (11.0M here; the widths it used are not published), nor its 1.5x and 2x (Table 5).
    The official code's FC has no bias: 1,000 parameters fewer than here.

    Parameters
    ----------
    groups : 1, 2, 3, 4 or 8, default 3
        The grouped 1x1 convolutions' g.
    width_multiplier : float in (0, 1], default 1.0
        The paper's scale factor s ("ShuffleNet 0.5x"): every width, conv1's too, times s,
        rounded down (the official code's widths at 0.5x for g = 3); each grouped layer's
        width must stay divisible by ``groups``.
    num_classes : int, default 1000
    rng : numpy.random.Generator, int or None
    dtype : float16, float32 or float64, default float64

    Examples
    --------
    >>> from conv1x1 import models
    >>> reports = [models.shufflenet_v1(g).cost(224, 224) for g in (1, 2, 3, 4, 8)]
    >>> [round((r.macs - r.layers[-1].macs) / 1e6) for r in reports]      # without the FC layer
    [143, 140, 137, 133, 137]
    >>> [round(r.macs / 1e6) for r in reports]
    [143, 141, 137, 134, 138]
    """
    groups = check_choice(groups, "groups", tuple(SHUFFLENET_WIDTHS), "one of Table 1's 1, 2, 3, 4, 8")
    scale = check_width_multiplier(width_multiplier, "ShuffleNet's Table 2 uses 1, 0.5, 0.25; its 1.5x and 2x "
                                                     "(Table 5) are not built here")
    num_classes = check_positive_int(num_classes, "num_classes")
    rng = check_rng(rng)
    widths = [max(1, int(24 * scale))] + [int(SHUFFLENET_WIDTHS[groups] * 2 ** i * scale) for i in range(3)]
    check_group_widths({f"Stage {stage}'s {what}": width for stage, c_in, c_out in zip((2, 3, 4), widths, widths[1:])
                        for what, width in (("width", c_out), ("bottleneck", c_out // 4), ("new channels",
                                                                                             c_out - c_in))},
                       groups, f"shufflenet_v1 at width_multiplier {scale:g}", "groups")
    c_in = widths[0]
    layers: list[tuple[str, Layer]] = list(zip(("conv1", "bn1", "relu1"), _conv_bn_relu(3, c_in, 3, 2, rng, dtype)))
    layers.append(("maxpool", MaxPool2d(3, stride=2, padding=1)))
    for stage, units, c_out in zip((2, 3, 4), (4, 8, 4), widths[1:]):
        for j in range(units):
            first_groups = 1 if (stage, j) == (2, 0) else groups
            unit = ShuffleUnit(c_in, c_out, groups, stride=2 if j == 0 else 1, first_groups=first_groups, rng=rng,
                               dtype=dtype)
            layers.append((f"stage{stage}_{j + 1}", unit))
            c_in = c_out
    layers += [("pool", GlobalAvgPool2d()), ("fc", Conv1x1(c_in, num_classes, rng=rng, dtype=dtype))]
    name = f"shufflenet_v1 (g={groups}" + (f", {scale:g}x)" if scale != 1 else ")")
    return Network(name, layers)


GOOGLENET_MODULES = {  # Table 1: in_channels, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj
    "inception_3a": (192, 64, 96, 128, 16, 32, 32),
    "inception_3b": (256, 128, 128, 192, 32, 96, 64),
    "inception_4a": (480, 192, 96, 208, 16, 48, 64),
    "inception_4b": (512, 160, 112, 224, 24, 64, 64),
    "inception_4c": (512, 128, 128, 256, 24, 64, 64),
    "inception_4d": (512, 112, 144, 288, 32, 64, 64),
    "inception_4e": (528, 256, 160, 320, 32, 128, 128),
    "inception_5a": (832, 256, 160, 320, 32, 128, 128),
    "inception_5b": (832, 384, 192, 384, 48, 128, 128),
}


def googlenet(num_classes: int = 1000,
              rng: np.random.Generator | int | None = None, dtype: FloatDType = np.float64) -> Network:
    """GoogLeNet as in the paper's Table 1 (no batch norm, no LRN, no auxiliary classifiers).

    conv 7x7/2 -> max pool -> conv 1x1 (reduce, 64) -> conv 3x3 (192) -> max pool -> inception 3a, 3b
    -> max pool -> 4a-4e -> max pool -> 5a, 5b -> global average pooling -> FC. Every convolution has a
    bias and a ReLU; the max pools are 3x3/2 with ``ceil_mode`` (224 -> 112 -> 56 -> 28 -> 14 -> 7).

    Examples
    --------
    >>> from conv1x1 import models
    >>> models.googlenet().cost(224, 224).out_shape
    (1000, 1, 1)
    """
    num_classes = check_positive_int(num_classes, "num_classes")
    rng = check_rng(rng)

    def pool() -> MaxPool2d:
        return MaxPool2d(3, stride=2, ceil_mode=True)

    layers: list[tuple[str, Layer]] = [
        ("conv1", Conv2d(3, 64, 7, stride=2, padding=3, rng=rng, dtype=dtype)), ("relu1", ReLU()), ("maxpool1", pool()),
        ("conv2_reduce", Conv1x1(64, 64, rng=rng, dtype=dtype)), ("relu2_reduce", ReLU()),
        ("conv2", Conv2d(64, 192, 3, padding=1, rng=rng, dtype=dtype)), ("relu2", ReLU()), ("maxpool2", pool())]
    for name, widths in GOOGLENET_MODULES.items():
        layers.append((name, Inception(*widths, rng=rng, dtype=dtype)))
        if name in ("inception_3b", "inception_4e"):
            layers.append((f"maxpool{name[-2]}", pool()))
    layers += [("pool", GlobalAvgPool2d()), ("fc", Conv1x1(1024, num_classes, rng=rng, dtype=dtype))]
    return Network("googlenet", layers)


# ---------------------------------------------------------------- today's networks, as torchvision defines them

def _conv_bn_act(c_in: int, c_out: int, k: int, stride: int, act: type[Layer], rng: np.random.Generator,
                 dtype: DTypeLike, groups: int = 1, eps: float = 1e-5) -> Sequential:
    """torchvision's ``Conv2dNormActivation``: a KxK convolution without bias (padding (K - 1) // 2), BN, act."""
    conv = (Conv1x1(c_in, c_out, bias=False, rng=rng, dtype=dtype) if k == 1 and stride == 1 and groups == 1
            else Conv2d(c_in, c_out, k, stride=stride, padding=(k - 1) // 2, groups=groups, bias=False, rng=rng,
                        dtype=dtype))
    return Sequential(conv, BatchNorm2d(c_out, eps=eps, dtype=dtype), act())


# MobileNetV2, Table 2 of the paper: expansion t, output channels c, repeats n, first stride s.
MOBILENET_V2_SETTING = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                        (6, 320, 1, 1)]


def mobilenet_v2(num_classes: int = 1000, dropout: float = 0.2, rng: Seed = None,
                 dtype: DTypeLike = np.float64) -> Network:
    """MobileNetV2 (width 1.0), as the paper's Table 2 and torchvision's ``mobilenet_v2()`` build it.

    A 3x3/2 convolution to 32 channels, 17 inverted residual blocks (``InvertedResidual``: 1x1 expand,
    3x3 depthwise, linear 1x1 projection), a 1x1 convolution to 1280, global average pooling, dropout
    and the FC layer; ReLU6 throughout. 3,504,872 parameters (torchvision's count; the paper's Table 4
    says 3.4M) and, at 224 x 224, 300,774,272 multiply-adds (the paper: 300M), of which the 1x1
    convolutions do 89% (pointwise / depthwise in a block is (C_in + C_out) / 9).

    Layer names are torchvision's (``features.0`` ... ``features.18``, ``classifier.1``).

    Parameters
    ----------
    num_classes : int, default 1000
    dropout : float, default 0.2
        p of the dropout before the classifier (the identity at evaluation).
    rng : numpy.random.Generator, int or None
    dtype : float16, float32 or float64, default float64

    Examples
    --------
    >>> from conv1x1 import models
    >>> report = models.mobilenet_v2().cost(224, 224)
    >>> report.params, report.macs
    (3504872, 300774272)
    """
    num_classes = check_positive_int(num_classes, "num_classes")
    rng = check_rng(rng)
    layers: list[tuple[str, Layer]] = [("features.0", _conv_bn_act(3, 32, 3, 2, ReLU6, rng, dtype))]
    c_in = 32
    for t, c, n, s in MOBILENET_V2_SETTING:
        for i in range(n):
            layers.append((f"features.{len(layers)}", InvertedResidual(c_in, c, s if i == 0 else 1, t, rng=rng,
                                                                       dtype=dtype)))
            c_in = c
    layers.append(("features.18", _conv_bn_act(320, 1280, 1, 1, ReLU6, rng, dtype)))
    layers += [("avgpool", GlobalAvgPool2d()), ("classifier.0", Dropout(dropout, rng=rng)),
               ("classifier.1", Conv1x1(1280, num_classes, rng=rng, dtype=dtype))]
    return Network("mobilenet_v2", layers)


# EfficientNet-B0, Table 1 of the paper: expansion, kernel, first stride, input and output channels, repeats.
EFFICIENTNET_B0_SETTING = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
                           (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)]


def efficientnet_b0(num_classes: int = 1000, dropout: float = 0.2, stochastic_depth: float = 0.2, rng: Seed = None,
                    dtype: DTypeLike = np.float64) -> Network:
    """EfficientNet-B0, as the paper's Table 1 and torchvision's ``efficientnet_b0()`` build it.

    A 3x3/2 convolution to 32 channels, 16 ``MBConv`` blocks (squeeze-and-excitation, SiLU,
    3x3 or 5x5 depthwise) in 7 stages, a 1x1 convolution to 1280, global average pooling,
    dropout and the FC layer. 5,288,548 parameters (the paper: 5.3M) and, at 224 x 224,
    385,814,752 multiply-adds (the paper: 0.39B), the SE's 1x1 convolutions on their 1x1 maps
    included (627,200 of them, 0.16%); the 1x1 convolutions do 88% of the work.

    Layer names are torchvision's (``features.2.1`` is stage 2's second block).

    Parameters
    ----------
    num_classes : int, default 1000
    dropout : float, default 0.2
    stochastic_depth : float, default 0.2
        The last block's drop-path p; block i of 16 gets ``stochastic_depth * i / 16``.
    rng : numpy.random.Generator, int or None
    dtype : float16, float32 or float64, default float64

    Examples
    --------
    >>> from conv1x1 import models
    >>> report = models.efficientnet_b0().cost(224, 224)
    >>> report.params, report.macs
    (5288548, 385814752)
    """
    num_classes = check_positive_int(num_classes, "num_classes")
    p_last = check_drop_probability(stochastic_depth)
    rng = check_rng(rng)
    layers: list[tuple[str, Layer]] = [("features.0", _conv_bn_act(3, 32, 3, 2, SiLU, rng, dtype))]
    total, block = sum(setting[-1] for setting in EFFICIENTNET_B0_SETTING), 0
    for stage, (t, k, s, c_in, c_out, n) in enumerate(EFFICIENTNET_B0_SETTING, start=1):
        for i in range(n):
            layers.append((f"features.{stage}.{i}", MBConv(c_in if i == 0 else c_out, c_out, k, s if i == 0 else 1, t,
                                                           p_last * block / total, rng=rng, dtype=dtype)))
            block += 1
    layers.append(("features.8", _conv_bn_act(320, 1280, 1, 1, SiLU, rng, dtype)))
    layers += [("avgpool", GlobalAvgPool2d()), ("classifier.0", Dropout(dropout, rng=rng)),
               ("classifier.1", Conv1x1(1280, num_classes, rng=rng, dtype=dtype))]
    return Network("efficientnet_b0", layers)


def convnext_tiny(num_classes: int = 1000, stochastic_depth: float = 0.1, layer_scale: float = 1e-6,
                  rng: Seed = None, dtype: DTypeLike = np.float64) -> Network:
    """ConvNeXt-T, as the paper and torchvision's ``convnext_tiny()`` build it.

    A 4x4/4 "patchify" convolution to 96 channels and a layer norm, four stages of
    ``ConvNeXtBlock`` (3, 3, 9, 3 blocks at 96, 192, 384, 768 channels) with a layer norm and a
    2x2/2 convolution between stages, global average pooling, a layer norm and the FC layer.
    28,589,128 parameters (the paper: 28M) and, at 224 x 224, 4,455,531,264 multiply-adds (the
    paper: 4.5G); the 1x1 convolutions of the blocks' MLPs do 93% of them.

    Layer names are torchvision's (``features.1.0`` ... ``features.7.2``, ``classifier.0`` the
    layer norm, ``classifier.2`` the FC layer, a 1x1 convolution on the pooled map).

    Parameters
    ----------
    num_classes : int, default 1000
    stochastic_depth : float, default 0.1
        The last block's drop-path p; block i of 18 gets ``stochastic_depth * i / 17``.
    layer_scale : float, default 1e-6
    rng : numpy.random.Generator, int or None
    dtype : float16, float32 or float64, default float64

    Examples
    --------
    >>> from conv1x1 import models
    >>> report = models.convnext_tiny().cost(224, 224)
    >>> report.params, report.macs
    (28589128, 4455531264)
    """
    num_classes = check_positive_int(num_classes, "num_classes")
    p_last = check_drop_probability(stochastic_depth)
    rng = check_rng(rng)
    widths, depths = (96, 192, 384, 768), (3, 3, 9, 3)
    layers: list[tuple[str, Layer]] = [("features.0", Sequential(Conv2d(3, 96, 4, stride=4, rng=rng, dtype=dtype),
                                                                 LayerNorm2d(96, dtype=dtype)))]
    total, block = sum(depths), 0
    for stage, (width, depth) in enumerate(zip(widths, depths)):
        if stage:
            layers.append((f"features.{2 * stage}", Sequential(
                LayerNorm2d(widths[stage - 1], dtype=dtype),
                Conv2d(widths[stage - 1], width, 2, stride=2, rng=rng, dtype=dtype))))
        for i in range(depth):
            layers.append((f"features.{2 * stage + 1}.{i}",
                           ConvNeXtBlock(width, layer_scale, p_last * block / (total - 1), rng=rng, dtype=dtype)))
            block += 1
    layers += [("avgpool", GlobalAvgPool2d()), ("classifier.0", LayerNorm2d(768, dtype=dtype)),
               ("classifier.2", Conv1x1(768, num_classes, rng=rng, dtype=dtype))]
    return Network("convnext_tiny", layers)


def nin(num_classes: int = 10, in_channels: int = 1, widths: tuple[int, int] = (32, 64),
        one_by_one: Literal["relu", "linear", "none"] = "relu", rng: Seed = None,
        dtype: DTypeLike = np.float64) -> Network:
    """A small Network in Network (Lin, Chen, Yan 2013, "Network In Network", arXiv:1312.4400) for 8x8 digits.

    Two "mlpconv" layers: a 3x3 convolution, then 1x1 convolutions with ReLUs between, a
    per-pixel MLP; a 2x2 max pool between them; the second ends in one map per class, and
    global average pooling turns each map into its class's score (no fully connected layer)::

        conv 3x3 (C_in -> w1) -> ReLU -> 1x1 (w1 -> w1) -> ReLU -> 1x1 (w1 -> w1) -> ReLU -> max pool 2x2
        conv 3x3 (w1 -> w2)   -> ReLU -> 1x1 (w2 -> w2) -> ReLU -> 1x1 (w2 -> K)  -> global average pool

    The 3x3 convolutions pad to keep the size. With the defaults this is the network of the
    examples "Network in Network on the digits" and "To PyTorch and back", layer for layer and,
    from the same seed, weight for weight.

    Parameters
    ----------
    num_classes : int, default 10
    in_channels : int, default 1
    widths : (int, int), default (32, 64)
        The two mlpconv layers' widths.
    one_by_one : "relu", "linear" or "none", default "relu"
        "relu" is NiN; "linear" leaves out the ReLU between each mlpconv's two 1x1 layers;
        "none" leaves out the 1x1 layers (each mlpconv is its 3x3 convolution alone).
    rng : numpy.random.Generator, int or None
    dtype : float16, float32 or float64, default float64

    Examples
    --------
    >>> import numpy as np
    >>> from conv1x1 import models
    >>> net = models.nin(rng=0)
    >>> net.forward(np.zeros((2, 1, 8, 8))).shape
    (2, 10, 1, 1)
    >>> net.cost(8, 8).params
    25738
    """
    num_classes = check_positive_int(num_classes, "num_classes")
    in_channels = check_positive_int(in_channels, "in_channels")
    w1, w2 = (check_positive_int(w, f"widths[{i}]") for i, w in enumerate(widths))
    one_by_one = check_choice(one_by_one, "one_by_one", ("relu", "linear", "none"), '"relu", "linear" or "none"')
    rng = check_rng(rng)

    def mlpconv(c_in: int, width: int, c_out: int, stage: int) -> list[tuple[str, Layer]]:
        if one_by_one == "none":
            return [(f"mlpconv{stage}.conv3x3", Conv2d(c_in, c_out, 3, padding="same", rng=rng, dtype=dtype))]
        between = [(f"mlpconv{stage}.relu2", ReLU())] if one_by_one == "relu" else []
        return [(f"mlpconv{stage}.conv3x3", Conv2d(c_in, width, 3, padding="same", rng=rng, dtype=dtype)),
                (f"mlpconv{stage}.relu1", ReLU()),
                (f"mlpconv{stage}.conv1x1a", Conv1x1(width, width, rng=rng, dtype=dtype)), *between,
                (f"mlpconv{stage}.conv1x1b", Conv1x1(width, c_out, rng=rng, dtype=dtype))]

    layers = [*mlpconv(in_channels, w1, w1, 1), ("relu1", ReLU()), ("maxpool", MaxPool2d(2)),
              *mlpconv(w1, w2, num_classes, 2), ("pool", GlobalAvgPool2d())]
    name = "nin" + ("" if one_by_one == "relu" else f" (1x1: {one_by_one})")
    return Network(name, layers, in_channels=in_channels)


def inception_v3(num_classes: int = 1000, aux_logits: bool = False, dropout: float = 0.5, rng: Seed = None,
                 dtype: DTypeLike = np.float64) -> Network:
    """Inception v3 for 299 x 299 images, as torchvision's ``inception_v3()`` builds it (``models.inception_v3``).

    A stem of five convolutions and two max pools (299 -> 35), three ``inception_a`` modules,
    the reduction ``inception_b`` (-> 17), four ``inception_c`` (c7 = 128, 160, 160, 192), the
    reduction ``inception_d`` (-> 8), two ``inception_e``, global average pooling, dropout and the
    FC layer. Without the auxiliary head: 23,834,568 parameters and 5,713,216,096 multiply-adds at
    299 x 299, torchvision's counts (its documentation's 5.71 GFLOPS are these multiply-adds). With
    it (``aux_logits=True``; trained with, evaluated without): 27,161,264 parameters, the head's
    3,326,696 included, and 5,718,899,296 multiply-adds, the head's counted as if it ran. The
    paper's abstract states "a computational cost of 5 billion multiply-adds per inference" and
    "less than 25 million parameters": the parameters agree, the multiply-adds of this definition
    are 14% more, and the paper lists no per-layer costs that would show where its count differs.
    Here the 1x1 convolutions do 22% of the multiply-adds: the factorized 1x7 / 7x1, 1x3 / 3x1 and
    the 3x3 and 5x5 convolutions do the rest.

    Layer names are torchvision's (``Conv2d_1a_3x3``, ``Mixed_6e``, ``AuxLogits``, ``fc``).

    Parameters
    ----------
    num_classes : int, default 1000
    aux_logits : bool, default False
        Whether to build the auxiliary classifier after Mixed_6e (``AuxiliaryClassifier``).
    dropout : float, default 0.5
    rng : numpy.random.Generator, int or None
    dtype : float16, float32 or float64, default float64

    Examples
    --------
    >>> from conv1x1 import models
    >>> report = models.inception_v3().cost(299, 299)
    >>> report.params, report.macs, report.out_shape
    (23834568, 5713216096, (1000, 1, 1))
    """
    num_classes = check_positive_int(num_classes, "num_classes")
    aux_logits = check_flag(aux_logits, "aux_logits")
    rng = check_rng(rng)

    def conv(c_in: int, c_out: int, k: int, **settings: int) -> Sequential:
        return basic_conv(c_in, c_out, k, rng, dtype, **settings)

    layers: list[tuple[str, Layer]] = [
        ("Conv2d_1a_3x3", conv(3, 32, 3, stride=2)), ("Conv2d_2a_3x3", conv(32, 32, 3)),
        ("Conv2d_2b_3x3", conv(32, 64, 3, padding=1)), ("maxpool1", MaxPool2d(3, stride=2)),
        ("Conv2d_3b_1x1", conv(64, 80, 1)), ("Conv2d_4a_3x3", conv(80, 192, 3)), ("maxpool2", MaxPool2d(3, stride=2)),
        ("Mixed_5b", inception_a(192, 32, rng, dtype)), ("Mixed_5c", inception_a(256, 64, rng, dtype)),
        ("Mixed_5d", inception_a(288, 64, rng, dtype)), ("Mixed_6a", inception_b(288, rng, dtype))]
    layers += [(f"Mixed_6{letter}", inception_c(768, c7, rng, dtype))
               for letter, c7 in zip("bcde", (128, 160, 160, 192))]
    if aux_logits:
        layers.append(("AuxLogits", AuxiliaryClassifier(768, num_classes, rng=rng, dtype=dtype)))
    layers += [("Mixed_7a", inception_d(768, rng, dtype)), ("Mixed_7b", inception_e(1280, rng, dtype)),
               ("Mixed_7c", inception_e(2048, rng, dtype)), ("avgpool", GlobalAvgPool2d()),
               ("dropout", Dropout(dropout, rng=rng)), ("fc", Conv1x1(2048, num_classes, rng=rng, dtype=dtype))]
    return Network("inception_v3" + (" (with the auxiliary head)" if aux_logits else ""), layers)


MODELS: dict[str, Callable[..., Network]] = {
    "mobilenet_v1": mobilenet_v1, "resnet50": resnet50, "squeezenet1_0": squeezenet1_0,
    "shufflenet_v1": shufflenet_v1, "googlenet": googlenet, "mobilenet_v2": mobilenet_v2,
    "efficientnet_b0": efficientnet_b0, "convnext_tiny": convnext_tiny, "nin": nin, "inception_v3": inception_v3}


# ---------------------------------------------------------------- checks that belong here

def check_width_multiplier(value: float, papers: str = "MobileNet's paper uses 1, 0.75, 0.5, 0.25") -> float:
    """Return a width multiplier (MobileNet's alpha, ShuffleNet's s) as a float if it is in (0, 1]."""
    alpha = check_real(value, "width_multiplier")
    if not 0 < alpha <= 1:
        raise ValueError(f"width_multiplier must be in (0, 1] ({papers}), got {alpha}")
    return alpha


