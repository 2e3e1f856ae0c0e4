"""The blocks that made the 1x1 convolution famous, built from the library's layers.

- ``DepthwiseSeparable`` (MobileNet v1; Howard et al. 2017, "MobileNets: Efficient Convolutional Neural
  Networks for Mobile Vision Applications", arXiv:1704.04861): a 3x3 depthwise convolution filters each
  channel alone, then a 1x1 (pointwise) convolution mixes the channels. The 1x1 half does most of the
  multiply-adds.
- ``Bottleneck`` (ResNet-50; He et al. 2015, "Deep Residual Learning for Image Recognition",
  arXiv:1512.03385): a 1x1 convolution reduces the depth 4x, a 3x3 works at the reduced depth, a 1x1
  expands it back, and the input is added.
- ``Fire`` (SqueezeNet; Iandola et al. 2016, "SqueezeNet: AlexNet-level accuracy with 50x fewer parameters
  and <0.5MB model size", arXiv:1602.07360): a 1x1 "squeeze" layer, then 1x1 and 3x3 "expand" layers side
  by side.
- ``ShuffleUnit`` (ShuffleNet; Zhang, Zhou, Lin, Sun 2017, "ShuffleNet: An Extremely Efficient Convolutional
  Neural Network for Mobile Devices", arXiv:1707.01083): ResNet's bottleneck with grouped 1x1 convolutions,
  a channel shuffle between them, and a depthwise 3x3.

Each block is a container (``Sequential``), so forward, backward, params and
cost come from its layers; the weights are drawn on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, cast

import numpy as np

from .._checks import check_choice, check_positive_int, check_rng
from ..containers import Concat, Residual, Sequential
from ..layers import AvgPool2d, BatchNorm2d, ChannelShuffle, Conv1x1, Conv2d, Layer, ReLU

__all__ = ["DepthwiseSeparable", "Bottleneck", "Fire", "ShuffleUnit"]

FloatDType = type[np.floating[Any]] | np.dtype[Any]   # np.float32, np.float64, ... or np.dtype(...)


class DepthwiseSeparable(Sequential):
    """MobileNet's depthwise-separable convolution: 3x3 depthwise -> BN -> ReLU -> 1x1 pointwise -> BN -> ReLU.

    Versus a dense 3x3 convolution from C_in to C_out channels on an H x W output,
    it needs ``H*W*C_in*9 + H*W*C_in*C_out`` multiply-adds instead of
    ``H*W*C_in*C_out*9``: a fraction ``1/C_out + 1/9`` (MobileNet, eq. 5).
    No convolution has a bias (batch norm's beta plays its part).

    Parameters
    ----------
    in_channels, out_channels : int
    stride : int, default 1
        The depthwise convolution's stride (padding 1).
    rng : numpy.random.Generator, int or None
    dtype : float16, float32 or float64, default float64

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> block = C.DepthwiseSeparable(512, 512)
    >>> [layer.category for layer in block.cost(14, 14).layers if layer.macs]
    ['depthwise', '1x1']
    >>> block.cost(14, 14).macs        # 14*14*512*9 + 14*14*512*512
    52283392
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1,
                 rng: np.random.Generator | int | None = None, dtype: FloatDType = np.float64) -> None:
        c_in = check_positive_int(in_channels, "in_channels")
        c_out = check_positive_int(out_channels, "out_channels")
        rng = check_rng(rng)
        depthwise = Conv2d(c_in, c_in, 3, stride=stride, padding=1, groups=c_in, bias=False, rng=rng, dtype=dtype)
        super().__init__(
            depthwise, BatchNorm2d(c_in, dtype=dtype), ReLU(),
            Conv1x1(c_in, c_out, bias=False, rng=rng, dtype=dtype),
            BatchNorm2d(c_out, dtype=dtype), ReLU())
        self.in_channels, self.out_channels, self.stride = c_in, c_out, depthwise.stride

    def __repr__(self) -> str:
        return f"DepthwiseSeparable({self.in_channels}, {self.out_channels}, stride={self.stride})"


class Bottleneck(Sequential):
    """ResNet's bottleneck block: ReLU(block(x) + shortcut(x)).

    ``block``: 1x1 reduce -> BN -> ReLU -> 3x3 (padding 1) -> BN -> ReLU -> 1x1 expand -> BN.
    ``shortcut``: the identity when the shape is kept, else a strided 1x1 projection -> BN.
    No convolution has a bias.

    Parameters
    ----------
    in_channels, mid_channels, out_channels : int
        E.g. 256, 64, 256 in ResNet-50's first stage.
    stride : int, default 1
    stride_on : "3x3" or "1x1", default "3x3"
        Which convolution takes the stride. "1x1" is the paper's ResNet-50 (the
        first 1x1 subsamples, so the 3x3 runs on the smaller map); "3x3" is
        torchvision's "ResNet v1.5", which costs more multiply-adds.
    rng : numpy.random.Generator, int or None
    dtype : float16, float32 or float64, default float64

    Attributes
    ----------
    residual : Residual
        ``self[0]``; its ``block`` and ``shortcut`` (None for the identity).

    Examples
    --------
    >>> import conv1x1 as C
    >>> C.Bottleneck(256, 64, 256).cost(56, 56).macs   # 56*56*(256*64 + 64*64*9 + 64*256)
    218365952
    """

    def __init__(self, in_channels: int, mid_channels: int, out_channels: int, stride: int = 1,
                 stride_on: Literal["3x3", "1x1"] = "3x3", rng: np.random.Generator | int | None = None,
                 dtype: FloatDType = np.float64) -> None:
        c_in = check_positive_int(in_channels, "in_channels")
        mid = check_positive_int(mid_channels, "mid_channels")
        c_out = check_positive_int(out_channels, "out_channels")
        stride = check_positive_int(stride, "stride")
        stride_on = check_choice(stride_on, "stride_on", ("1x1", "3x3"), '"1x1" (the paper) or "3x3" (torchvision)')
        rng = check_rng(rng)
        s1, s3 = (stride, 1) if stride_on == "1x1" else (1, stride)
        reduce = (Conv1x1(c_in, mid, bias=False, rng=rng, dtype=dtype) if s1 == 1
                  else Conv2d(c_in, mid, 1, stride=s1, bias=False, rng=rng, dtype=dtype))
        block = Sequential(reduce, BatchNorm2d(mid, dtype=dtype), ReLU(),
                           Conv2d(mid, mid, 3, stride=s3, padding=1, bias=False, rng=rng, dtype=dtype),
                           BatchNorm2d(mid, dtype=dtype), ReLU(),
                           Conv1x1(mid, c_out, bias=False, rng=rng, dtype=dtype), BatchNorm2d(c_out, dtype=dtype))
        shortcut: Sequential | None = None
        if stride != 1 or c_in != c_out:
            projection = (Conv1x1(c_in, c_out, bias=False, rng=rng, dtype=dtype) if stride == 1
                          else Conv2d(c_in, c_out, 1, stride=stride, bias=False, rng=rng, dtype=dtype))
            shortcut = Sequential(projection, BatchNorm2d(c_out, dtype=dtype))
        super().__init__(Residual(block, shortcut), ReLU())
        self.in_channels, self.mid_channels, self.out_channels = c_in, mid, c_out
        self.stride, self.stride_on = stride, stride_on

    @property
    def residual(self) -> Residual:
        return cast(Residual, self[0])

    def __repr__(self) -> str:
        return (f"Bottleneck({self.in_channels}, {self.mid_channels}, {self.out_channels}, stride={self.stride}, "
                f"stride_on={self.stride_on!r})")


class Fire(Sequential):
    """SqueezeNet's Fire module: squeeze 1x1 -> ReLU, then [expand 1x1 -> ReLU | expand 3x3 -> ReLU] joined.

    The output has ``expand1x1 + expand3x3`` channels and the input's H and W.
    The convolutions have biases; there is no batch norm.

    Parameters
    ----------
    in_channels, squeeze, expand1x1, expand3x3 : int
    rng : numpy.random.Generator, int or None
    dtype : float16, float32 or float64, default float64

    Examples
    --------
    >>> import conv1x1 as C
    >>> C.Fire(96, 16, 64, 64).cost(55, 55).params   # SqueezeNet's fire2, Table 1: 11,920
    11920
    """

    def __init__(self, in_channels: int, squeeze: int, expand1x1: int, expand3x3: int,
                 rng: np.random.Generator | int | None = None, dtype: FloatDType = np.float64) -> None:
        c_in = check_positive_int(in_channels, "in_channels")
        s = check_positive_int(squeeze, "squeeze")
        e1, e3 = check_positive_int(expand1x1, "expand1x1"), check_positive_int(expand3x3, "expand3x3")
        rng = check_rng(rng)
        super().__init__(
            Conv1x1(c_in, s, rng=rng, dtype=dtype), ReLU(),
            Concat(Sequential(Conv1x1(s, e1, rng=rng, dtype=dtype), ReLU()),
                   Sequential(Conv2d(s, e3, 3, padding=1, rng=rng, dtype=dtype), ReLU())))
        self.in_channels, self.squeeze, self.expand1x1, self.expand3x3 = c_in, s, e1, e3
        self.out_channels = e1 + e3

    def __repr__(self) -> str:
        return f"Fire({self.in_channels}, {self.squeeze}, {self.expand1x1}, {self.expand3x3})"


class ShuffleUnit(Sequential):
    """ShuffleNet's unit (the paper's Figure 2 b and c): a bottleneck whose 1x1 convolutions are grouped.

    ``branch``: grouped 1x1 (to ``mid_channels``) -> BN -> ReLU -> channel shuffle -> 3x3 depthwise
    (padding 1, ``stride``) -> BN -> grouped 1x1 -> BN. Then

    - stride 1: ``ReLU(branch(x) + x)``, and the branch ends with ``out_channels`` (= in_channels);
    - stride 2: ``ReLU(concat(avgpool(x), branch(x)))`` with a 3x3/2 average pool (padding 1), so the
      branch ends with ``out_channels - in_channels`` channels.

    A grouped 1x1 with g groups costs 1/g of a dense one; the shuffle deals each
    group's channels of the first 1x1 out to the groups of the second, which
    otherwise would never exchange information: with at least g channels per
    group (true in every ShuffleNet stage) every group of the second reads every
    group of the first. No convolution has a bias.

    Parameters
    ----------
    in_channels, out_channels : int
    groups : int
        Groups of the two 1x1 convolutions (1, 2, 3, 4 or 8 in the paper).
    stride : 1 or 2, default 1
    mid_channels : int, optional
        The bottleneck's width; the paper's is a quarter of ``out_channels`` (the default).
    first_groups : int, optional
        Groups of the first 1x1 only (default ``groups``). The paper's first unit
        uses 1: its 24 input channels are too few to split. The shuffle follows it
        when it is grouped.
    rng : numpy.random.Generator, int or None
    dtype : float16, float32 or float64, default float64

    Examples
    --------
    >>> import conv1x1 as C
    >>> C.ShuffleUnit(240, 240, groups=3).cost(28, 28).macs    # 28*28*(240*60/3 + 60*9 + 60*240/3)
    7949760
    """

    def __init__(self, in_channels: int, out_channels: int, groups: int, stride: int = 1,
                 mid_channels: int | None = None, first_groups: int | None = None,
                 rng: np.random.Generator | int | None = None, dtype: FloatDType = np.float64) -> None:
        c_in = check_positive_int(in_channels, "in_channels")
        c_out = check_positive_int(out_channels, "out_channels")
        groups = check_positive_int(groups, "groups")
        stride = check_choice(stride, "stride", (1, 2), "1 (added to the input) or 2 (concatenated with its "
                                                        "average pool)")
        mid, first = check_shuffle_unit(c_in, c_out, groups, stride, mid_channels, first_groups)
        rng = check_rng(rng)
        branch_out = c_out if stride == 1 else c_out - c_in
        layers: list[Layer] = [Conv1x1(c_in, mid, bias=False, groups=first, rng=rng, dtype=dtype),
                               BatchNorm2d(mid, dtype=dtype), ReLU()]
        if first > 1:
            layers.append(ChannelShuffle(first))
        layers += [Conv2d(mid, mid, 3, stride=stride, padding=1, groups=mid, bias=False, rng=rng, dtype=dtype),
                   BatchNorm2d(mid, dtype=dtype),
                   Conv1x1(mid, branch_out, bias=False, groups=groups, rng=rng, dtype=dtype),
                   BatchNorm2d(branch_out, dtype=dtype)]
        branch = Sequential(*layers)
        joined: Layer = Residual(branch) if stride == 1 else Concat(AvgPool2d(3, stride=2, padding=1), branch)
        super().__init__(joined, ReLU())
        self.in_channels, self.out_channels, self.mid_channels = c_in, c_out, mid
        self.groups, self.first_groups, self.stride = groups, first, stride

    def __repr__(self) -> str:
        first = f", first_groups={self.first_groups}" if self.first_groups != self.groups else ""
        return (f"ShuffleUnit({self.in_channels}, {self.out_channels}, groups={self.groups}, stride={self.stride}"
                f"{first})")


# ---------------------------------------------------------------- checks that belong here

def check_shuffle_unit(in_channels: int, out_channels: int, groups: int, stride: int,
                       mid_channels: int | None = None, first_groups: int | None = None) -> tuple[int, int]:
    """Return ``(mid_channels, first_groups)`` of a ShuffleNet unit, defaults filled in (a quarter of
    ``out_channels``; ``groups``), once they and the widths are known to fit.

    The unit adds its input (stride 1: same width) or concatenates it (stride 2: wider), and its 1x1
    convolutions split their channels into groups: the first into ``first_groups``, the last into
    ``groups``. The messages name what the user passed."""
    mid_name, first_name = "mid_channels", "first_groups"
    if mid_channels is None:
        mid_channels, mid_name = out_channels // 4, "mid_channels (out_channels // 4)"
    else:
        mid_channels = check_positive_int(mid_channels, "mid_channels")
    if first_groups is None:
        first_groups, first_name = groups, "groups"
    else:
        first_groups = check_positive_int(first_groups, "first_groups")
    if stride == 1 and out_channels != in_channels:
        raise ValueError(f"a stride-1 ShuffleUnit adds its input to its output, so out_channels must equal "
                         f"in_channels ({in_channels}), got {out_channels}. Use stride=2 to widen.")
    if stride == 2 and out_channels <= in_channels:
        raise ValueError(f"a stride-2 ShuffleUnit concatenates its pooled input ({in_channels} channels) with its "
                         f"branch, so out_channels must exceed in_channels, got {out_channels}")
    branch = out_channels if stride == 1 else out_channels - in_channels
    check_group_widths({"in_channels": in_channels, mid_name: mid_channels}, first_groups,
                       "ShuffleUnit's first 1x1", first_name)
    out = "out_channels" if stride == 1 else "the branch's out_channels - in_channels"
    check_group_widths({mid_name: mid_channels, out: branch}, groups, "ShuffleUnit's last 1x1", "groups")
    return mid_channels, first_groups


def check_group_widths(widths: Mapping[str, int], groups: int, context: str, name: str = "groups") -> None:
    """Every width in ``widths`` (a dict: what -> channels) must be at least 1 and split into ``groups``."""
    empty = [f"{what} is {width}" for what, width in widths.items() if width < 1]
    if empty:
        raise ValueError(f"{context}: {', '.join(empty)}; every layer needs at least one channel. "
                         "Choose a larger width (or width_multiplier).")
    bad = [f"{what} {width}" for what, width in widths.items() if width % groups]
    if bad:
        raise ValueError(f"{context}: {', '.join(bad)} not divisible by {name}={groups}. "
                         f"Choose widths that {groups} divides, or another {name}.")
