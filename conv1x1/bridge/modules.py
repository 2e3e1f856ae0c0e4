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

__all__ = ["Concat", "Residual", "DepthwiseSeparable", "Bottleneck", "Fire", "ShuffleUnit", "Inception", "Network"]


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
        super().__init__(OrderedDict(named_modules))
        self.name = name
        self.in_channels = in_channels

    def extra_repr(self) -> str:
        return f"name={self.name!r}, in_channels={self.in_channels}"
