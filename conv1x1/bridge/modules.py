"""The ``torch.nn`` modules that ``conv1x1.to_torch`` builds where PyTorch has no module of its own.

Importing this module imports PyTorch (it is never a dependency of the library:
``conv1x1.bridge.convert`` imports this module only when a conversion runs).

Each class is an ``nn.Sequential`` whose children are the library object's
children, in the same order, so PyTorch's parameter names follow the library's:
the library's ``"0.0.3.w"`` is PyTorch's ``"0.0.3.weight"`` (``b`` is ``bias``; batch
norm's ``gamma`` and ``beta`` are ``weight`` and ``bias``). ``Concat`` and ``Residual``
change what ``forward`` does with the children; the blocks (``DepthwiseSeparable``,
``Bottleneck``, ``Fire``, ``ShuffleUnit``, ``Inception``) and ``Network`` run them as
``nn.Sequential`` does and keep the arguments that rebuild them in the library
(``config``), so ``conv1x1.from_torch`` gives the same class back.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

import torch
from torch import nn

__all__ = ["Concat", "Residual", "DepthwiseSeparable", "Bottleneck", "Fire", "ShuffleUnit", "Inception", "Network",
           "LayerNorm2d", "LayerScale", "DropPath", "SqueezeExcite", "InvertedResidual", "MBConv", "ConvNeXtBlock"]


class Concat(nn.Sequential):
    """``conv1x1.Concat``: every child (branch) sees x; their outputs are joined along channels."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self], dim=1)


class Residual(nn.Sequential):
    """``conv1x1.Residual``: ``self[0](x) + x``, or ``self[0](x) + self[1](x)`` when there is a shortcut."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self[0](x)
        return out + (self[1](x) if len(self) > 1 else x)


class _Block(nn.Sequential):
    """A block of the library: its children in order, and ``config``, the arguments of its constructor."""

    def __init__(self, *modules: nn.Module, config: Mapping[str, Any]) -> None:
        super().__init__(*modules)
        self.config = dict(config)

    def extra_repr(self) -> str:
        return ", ".join(f"{name}={value!r}" for name, value in self.config.items())


class DepthwiseSeparable(_Block):
    """``conv1x1.DepthwiseSeparable`` (MobileNet): 3x3 depthwise -> BN -> ReLU -> 1x1 -> BN -> ReLU."""


class Bottleneck(_Block):
    """``conv1x1.Bottleneck`` (ResNet): ``self[0]`` is a ``Residual``, ``self[1]`` the final ReLU."""


class Fire(_Block):
    """``conv1x1.Fire`` (SqueezeNet): squeeze 1x1 -> ReLU -> ``Concat`` of the two expand branches."""


class ShuffleUnit(_Block):
    """``conv1x1.ShuffleUnit`` (ShuffleNet): a ``Residual`` (stride 1) or ``Concat`` (stride 2), then ReLU."""


class Inception(Concat):
    """``conv1x1.Inception`` (GoogLeNet): four branches joined along channels; ``config`` rebuilds it."""

    def __init__(self, *branches: nn.Module, config: Mapping[str, Any]) -> None:
        super().__init__(*branches)
        self.config = dict(config)

    def extra_repr(self) -> str:
        return ", ".join(f"{name}={value!r}" for name, value in self.config.items())


class Network(nn.Sequential):
    """``conv1x1.models.Network``: layers under the network's own names (``conv1``, ``fire2``, ``fc``).

    Its output has the library's shape: (N, num_classes, 1, 1) from the 1x1
    convolution ``fc`` (torchvision's networks flatten to (N, num_classes);
    ``out.flatten(1)`` gives that shape).
    """

    def __init__(self, name: str, named_modules: Iterable[tuple[str, nn.Module]], in_channels: int = 3) -> None:
        named_modules = list(named_modules)
        # PyTorch's module names cannot hold a dot: torchvision's "features.1.0" is kept as "features_1_0",
        # and the library's names in ``names``
        super().__init__(OrderedDict((label.replace(".", "_"), module) for label, module in named_modules))
        self.name = name
        self.names = [label for label, _ in named_modules]
        self.in_channels = in_channels

    def extra_repr(self) -> str:
        return f"name={self.name!r}, in_channels={self.in_channels}"


# ---------------------------------------------------------------- the modules of today's networks


class LayerNorm2d(nn.LayerNorm):
    """``conv1x1.LayerNorm2d``: ``nn.LayerNorm`` over the channels of every pixel of an (N, C, H, W) tensor."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        x = nn.functional.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class LayerScale(nn.Module):
    """``conv1x1.LayerScale``: ``x * weight[c]``, one learned scale per channel."""

    def __init__(self, channels: int, dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels, dtype=dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight[:, None, None]


class DropPath(nn.Module):
    """``conv1x1.DropPath``: stochastic depth, each image zeroed with probability p in training, else scaled by
    ``1 / (1 - p)``; the identity at evaluation (torchvision's ``StochasticDepth(p, "row")``)."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        keep = torch.empty((x.shape[0],) + (1,) * (x.ndim - 1), dtype=x.dtype).bernoulli_(1 - self.p)
        return x * keep / (1 - self.p) if self.p < 1 else x * keep

    def extra_repr(self) -> str:
        return f"p={self.p}"


class SqueezeExcite(_Block):
    """``conv1x1.SqueezeExcite``: ``x * self(x)``, the children (pool, 1x1, act, 1x1, sigmoid) giving the gate."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * super().forward(x)


class InvertedResidual(_Block):
    """``conv1x1.InvertedResidual`` (MobileNetV2): its layers, or a ``Residual`` of them."""


class MBConv(_Block):
    """``conv1x1.MBConv`` (EfficientNet): its layers, or a ``Residual`` of them ending in a ``DropPath``."""


class ConvNeXtBlock(_Block):
    """``conv1x1.ConvNeXtBlock``: a ``Residual`` of dw 7x7, LayerNorm2d, 1x1, GELU, 1x1, LayerScale, DropPath."""


class AuxiliaryClassifier(_Block):
    """``conv1x1.models.AuxiliaryClassifier`` (Inception v3): returns x; in training, the head's output on x is kept
    in ``logits`` (torchvision's ``InceptionAux``, whose network returns it beside the main output)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.logits = super().forward(x) if self.training else None
        return x
