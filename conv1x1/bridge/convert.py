"""Carry a model to PyTorch and back: ``to_torch(model)`` and ``from_torch(module)``.

``to_torch`` takes any layer, container, block or network of the library and
returns a ``torch.nn.Module`` of the same structure, with copies of the same
weights and buffers (batch norm's running statistics), the same train/eval mode
of every layer and the same dtype (float64 becomes ``torch.float64``). In both
modes its forward and backward compute what the library computes (the tests check
outputs and every gradient to 1e-10 in float64). Its parameters are ordinary
trainable ``nn.Parameter``s, so ``torch.optim`` trains it::

    library                      PyTorch
    Conv1x1(C, K, groups=g,      nn.Conv2d(C, K, 1, stride=s,      w (K, C/g) -> weight (K, C/g, 1, 1)
            stride=s)                      groups=g)
    Conv2d, BatchNorm2d          nn.Conv2d, nn.BatchNorm2d         gamma, beta -> weight, bias
    ReLU, LeakyReLU, Sigmoid,    the modules of the same names
      Tanh, MaxPool2d, AvgPool2d
    GlobalAvgPool2d              nn.AdaptiveAvgPool2d(1)
    ChannelShuffle(g)            nn.ChannelShuffle(g)
    Linear, Flatten, ReLU6,      the modules of the same names     Linear's w (O, F) is nn.Linear's weight
      GELU, SiLU, Dropout
    Sequential                   nn.Sequential
    Concat, Residual, blocks,    conv1x1.bridge.modules' classes of the same names
      Inception, Network,        (LayerNorm2d and LayerScale hold gamma, beta as weight, bias)
      LayerNorm2d, LayerScale,
      DropPath, SqueezeExcite

Shapes stay the library's: a network's classifier is a 1x1 convolution on the
pooled 1x1 map, so both sides give scores of shape (N, K, 1, 1), where
torchvision's networks give (N, K) (``out.flatten(1)`` on the PyTorch side).

``from_torch`` goes the other way, for a module built from what the library has:
``nn.Sequential`` trees of ``Conv2d`` (any kernel, stride and padding, square or not,
``"same"`` too, groups, bias), ``BatchNorm2d``, ``ReLU``, ``LeakyReLU``, ``Sigmoid``,
``Tanh``, ``MaxPool2d`` (``ceil_mode`` too), ``AvgPool2d``, ``AdaptiveAvgPool2d(1)``,
``ChannelShuffle``, ``ReLU6``, ``GELU`` (exact), ``SiLU``, ``Flatten`` followed by ``Linear``
(a Linear on a 1x1 map is a 1x1 convolution), ``Dropout``, ``Identity``; a ``Linear`` or
``Flatten`` on its own; every module ``to_torch`` builds; and torchvision's ``ResNet``
(``Bottleneck`` and ``BasicBlock``), ``SqueezeNet`` (``Fire``), ``Inception3`` (its
``InceptionA``-``E`` and, when built, ``InceptionAux``), ``MobileNetV2``
(``InvertedResidual``), ``EfficientNet`` (``MBConv``, ``SqueezeExcitation``,
``StochasticDepth``) and ``ConvNeXt`` (``CNBlock``, ``LayerNorm2d``: the block's
``Linear`` layers on the channels-last tensor between its two ``Permute`` s become
``Conv1x1`` s, the same numbers). Round trips keep the classes: ``from_torch(to_torch(m))`` has ``m``'s
classes and weights (one exception: a ``Conv2d`` with a 1x1 kernel and padding 0
comes back as the ``Conv1x1`` with the same stride, which computes the same).
Anything else is refused with a TypeError naming its type and its path
(``features.3: Weird is not supported; supported: ...``).

PyTorch is imported only when one of the two functions runs (``import conv1x1``
never imports it); without it they raise an ImportError that says how to install it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..containers import Concat, Residual, Sequential
from ..layers import (
    GELU,
    AvgPool2d,
    BatchNorm2d,
    ChannelShuffle,
    Conv1x1,
    Conv2d,
    Dropout,
    DropPath,
    Flatten,
    GlobalAvgPool2d,
    LayerNorm2d,
    LayerScale,
    LeakyReLU,
    Linear,
    MaxPool2d,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Tanh,
)
from ..models import (
    AuxiliaryClassifier,
    Bottleneck,
    ConvNeXtBlock,
    DepthwiseSeparable,
    Fire,
    Inception,
    InvertedResidual,
    MBConv,
    Network,
    ShuffleUnit,
    SqueezeExcite,
)

if TYPE_CHECKING:
    from torch import nn

    from ..layers import Layer

__all__ = ["to_torch", "from_torch", "INSTALL_HINT"]

# A torch module and its path in the model -> the library layer it becomes (torch is not type-checked here)
Converter = Callable[[Any, str], Any]

INSTALL_HINT = ("PyTorch is not installed, and conv1x1.to_torch / conv1x1.from_torch need it (nothing else in "
                "conv1x1 does). Install the CPU build: `pip install torch==2.13.0` (the version the tests use; on "
                "Linux add `--index-url https://download.pytorch.org/whl/cpu` to get the CPU-only wheel), or "
                "choose a build at https://pytorch.org/get-started/locally/")

SUPPORTED = ("Sequential, Conv2d, BatchNorm2d, ReLU, LeakyReLU, Sigmoid, Tanh, MaxPool2d, AvgPool2d, "
             "AdaptiveAvgPool2d(1), ChannelShuffle, ReLU6, GELU, SiLU, Flatten, Linear, Dropout, Identity, "
             "conv1x1.bridge.modules' Concat, Residual, DepthwiseSeparable, Bottleneck, Fire, ShuffleUnit, Inception, "
             "LayerNorm2d, LayerScale, DropPath, SqueezeExcite, InvertedResidual, MBConv, ConvNeXtBlock, "
             "AuxiliaryClassifier and Network, torchvision's ResNet (Bottleneck, BasicBlock), SqueezeNet (Fire), "
             "Inception3, MobileNetV2 (InvertedResidual), EfficientNet (MBConv, SqueezeExcitation, StochasticDepth) "
             "and ConvNeXt (CNBlock, LayerNorm2d)")

BLOCK_ARGUMENTS = {  # what rebuilds each block: its constructor's arguments, read off the block
    DepthwiseSeparable: ("in_channels", "out_channels", "stride"),
    Bottleneck: ("in_channels", "mid_channels", "out_channels", "stride", "stride_on"),
    Fire: ("in_channels", "squeeze", "expand1x1", "expand3x3"),
    ShuffleUnit: ("in_channels", "out_channels", "groups", "stride", "mid_channels", "first_groups"),
    SqueezeExcite: ("channels", "squeeze_channels", "activation"),
    InvertedResidual: ("in_channels", "out_channels", "stride", "expand_ratio"),
    MBConv: ("in_channels", "out_channels", "kernel_size", "stride", "expand_ratio", "drop_path"),
    ConvNeXtBlock: ("channels", "layer_scale", "drop_path"),
    AuxiliaryClassifier: ("in_channels", "num_classes"),
}
BLOCKS = (DepthwiseSeparable, Bottleneck, Fire, ShuffleUnit, Inception, SqueezeExcite, InvertedResidual, MBConv,
          ConvNeXtBlock, AuxiliaryClassifier)


def _torch_modules() -> Any:
    """PyTorch's ``nn`` and ``conv1x1.bridge.modules``, imported now; an ImportError with the install hint if absent."""
    try:
        import torch
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    from . import modules
    return torch.nn, modules


def _join(path: str, name: object) -> str:
    return f"{path}.{name}" if path else str(name)


def _refuse(path: str, thing: object) -> TypeError:
    return TypeError(f"{path or '(top level)'}: {type(thing).__name__} is not supported; supported: {SUPPORTED}")


# ---------------------------------------------------------------------------------------------- to PyTorch


def to_torch(model: Layer) -> nn.Module:
    """The ``torch.nn.Module`` that computes what ``model`` computes, with copies of its weights.

    Parameters
    ----------
    model : Layer
        A layer, container, block or network of the library (``Conv1x1``, ``Sequential``,
        ``Bottleneck``, ``conv1x1.models.resnet50()``, a ``Sequential`` of your own, ...).

    Returns
    -------
    torch.nn.Module
        Same structure (see the module docstring for each class), weights and buffers
        copied (later changes on one side do not reach the other), each layer's
        train/eval mode, the layer's dtype. Input and output shapes are the library's:
        (N, C, H, W) in, and (N, K, 1, 1) scores out of a network's classifier.

    Raises
    ------
    ImportError
        If PyTorch is not installed (the message says how to install it).
    TypeError
        If a layer has no PyTorch counterpart here (a layer class of your own), naming
        its path in the model.

    Examples
    --------
    >>> import numpy as np, torch, conv1x1 as C
    >>> layer = C.Conv1x1(4, 2, rng=0)
    >>> module = C.to_torch(layer)
    >>> module
    Conv2d(4, 2, kernel_size=(1, 1), stride=(1, 1))
    >>> x = np.random.default_rng(0).standard_normal((1, 4, 3, 3))
    >>> bool(np.allclose(module(torch.tensor(x)).detach().numpy(), layer.forward(x), rtol=0, atol=1e-12))
    True
    """
    _torch_modules()
    return _to_torch(model, "")


def _to_torch(layer: Any, path: str) -> Any:
    convert = TO_TORCH.get(type(layer))
    if convert is None and _plain_sequential(layer):
        convert = _sequential_to_torch
    if convert is None:
        raise TypeError(f"{path or '(top level)'}: {type(layer).__name__} has no PyTorch counterpart here; "
                        f"supported: {', '.join(sorted(cls.__name__ for cls in TO_TORCH))} (and subclasses of "
                        "Sequential that keep its forward and backward)")
    module = convert(layer, path)
    module.training = layer.training  # this node only: each child's mode was copied from its own layer
    return module


def _plain_sequential(layer: Any) -> bool:
    """A subclass of Sequential that runs its layers as Sequential does (a user's ``class MyNet(C.Sequential)``)."""
    return (isinstance(layer, Sequential) and type(layer).forward is Sequential.forward
            and type(layer).backward is Sequential.backward)


def _tensor(array: Any) -> Any:
    """A PyTorch copy of a NumPy array (same dtype)."""
    import torch
    return torch.tensor(np.ascontiguousarray(array))


def _load(module: Any, **arrays: np.ndarray) -> None:
    """Copy NumPy arrays into the module's parameters and buffers of those names (reshaped to theirs)."""
    import torch
    with torch.no_grad():
        for name, array in arrays.items():
            target = getattr(module, name)
            target.copy_(_tensor(array).reshape(target.shape))


def _torch_dtype(dtype: Any) -> Any:
    import torch
    return {np.dtype(np.float16): torch.float16, np.dtype(np.float32): torch.float32,
            np.dtype(np.float64): torch.float64}[np.dtype(dtype)]


def _conv_to_torch(layer: Any, path: str) -> Any:
    nn, _ = _torch_modules()
    params = layer.params
    module = nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, stride=layer.stride,
                       padding=layer.padding, groups=layer.groups, bias=layer.bias, dtype=_torch_dtype(layer.dtype))
    _load(module, weight=params["w"], **({"bias": params["b"]} if layer.bias else {}))
    return module


def _batchnorm_to_torch(layer: Any, path: str) -> Any:
    nn, _ = _torch_modules()
    module = nn.BatchNorm2d(layer.num_features, eps=layer.eps, momentum=layer.momentum,
                            dtype=_torch_dtype(layer.dtype))
    _load(module, weight=layer.params["gamma"], bias=layer.params["beta"], running_mean=layer.running_mean,
          running_var=layer.running_var)
    return module


def _leaf_to_torch(layer: Any, path: str) -> Any:
    """The parameter-free layers: one PyTorch module each, with the same settings."""
    nn, _ = _torch_modules()
    if isinstance(layer, MaxPool2d):
        return nn.MaxPool2d(layer.kernel_size, layer.stride, layer.padding, ceil_mode=layer.ceil_mode)
    if isinstance(layer, AvgPool2d):   # padding counted as zeros, as the library does (count_include_pad)
        return nn.AvgPool2d(layer.kernel_size, layer.stride, layer.padding, count_include_pad=True)
    if isinstance(layer, LeakyReLU):
        return nn.LeakyReLU(layer.negative_slope)
    if isinstance(layer, ChannelShuffle):
        return nn.ChannelShuffle(layer.groups)
    if isinstance(layer, Dropout):
        return nn.Dropout(layer.p)
    if isinstance(layer, DropPath):
        return _torch_modules()[1].DropPath(layer.p)
    return {ReLU: nn.ReLU, Sigmoid: nn.Sigmoid, Tanh: nn.Tanh, GlobalAvgPool2d: lambda: nn.AdaptiveAvgPool2d(1),
            ReLU6: nn.ReLU6, GELU: nn.GELU, SiLU: nn.SiLU, Flatten: nn.Flatten}[type(layer)]()


def _linear_to_torch(layer: Any, path: str) -> Any:
    nn, _ = _torch_modules()
    module = nn.Linear(layer.in_features, layer.out_features, bias=layer.bias, dtype=_torch_dtype(layer.dtype))
    _load(module, weight=layer.params["w"], **({"bias": layer.params["b"]} if layer.bias else {}))
    return module


def _layernorm_to_torch(layer: Any, path: str) -> Any:
    _, tm = _torch_modules()
    module = tm.LayerNorm2d(layer.num_channels, eps=layer.eps, dtype=_torch_dtype(layer.dtype))
    _load(module, weight=layer.params["gamma"], bias=layer.params["beta"])
    return module


def _layer_scale_to_torch(layer: Any, path: str) -> Any:
    _, tm = _torch_modules()
    module = tm.LayerScale(layer.num_channels, dtype=_torch_dtype(layer.dtype))
    _load(module, weight=layer.params["gamma"])
    return module


def _children_to_torch(layer: Any, path: str) -> Any:
    return [_to_torch(child, _join(path, i)) for i, child in enumerate(layer.children)]


def _sequential_to_torch(layer: Any, path: str) -> Any:
    nn, _ = _torch_modules()
    return nn.Sequential(*_children_to_torch(layer, path))


def _container_to_torch(layer: Any, path: str) -> Any:
    _, tm = _torch_modules()
    return {Concat: tm.Concat, Residual: tm.Residual}[type(layer)](*_children_to_torch(layer, path))


def _block_to_torch(layer: Any, path: str) -> Any:
    _, tm = _torch_modules()
    config = {name: getattr(layer, name) for name in BLOCK_ARGUMENTS[type(layer)]}
    return getattr(tm, type(layer).__name__)(*_children_to_torch(layer, path), config=config)


def _inception_to_torch(layer: Any, path: str) -> Any:
    _, tm = _torch_modules()
    config = {"in_channels": layer.in_channels, **layer.widths, "reductions": layer.reductions,
              "bias": layer[0][0].bias}
    return tm.Inception(*_children_to_torch(layer, path), config=config)


def _network_to_torch(layer: Any, path: str) -> Any:
    _, tm = _torch_modules()
    named = [(name, _to_torch(child, _join(path, name))) for name, child in zip(layer.names, layer)]
    return tm.Network(layer.name, named, in_channels=layer.in_channels)


TO_TORCH = {Conv1x1: _conv_to_torch, Conv2d: _conv_to_torch, BatchNorm2d: _batchnorm_to_torch,
            ReLU: _leaf_to_torch, LeakyReLU: _leaf_to_torch, Sigmoid: _leaf_to_torch, Tanh: _leaf_to_torch,
            MaxPool2d: _leaf_to_torch, AvgPool2d: _leaf_to_torch, GlobalAvgPool2d: _leaf_to_torch,
            ChannelShuffle: _leaf_to_torch, Sequential: _sequential_to_torch,
            Concat: _container_to_torch, Residual: _container_to_torch, Inception: _inception_to_torch,
            DepthwiseSeparable: _block_to_torch, Bottleneck: _block_to_torch, Fire: _block_to_torch,
            ShuffleUnit: _block_to_torch, Network: _network_to_torch,
            Linear: _linear_to_torch, Flatten: _leaf_to_torch, ReLU6: _leaf_to_torch, GELU: _leaf_to_torch,
            SiLU: _leaf_to_torch, Dropout: _leaf_to_torch, DropPath: _leaf_to_torch, LayerNorm2d: _layernorm_to_torch,
            LayerScale: _layer_scale_to_torch, SqueezeExcite: _block_to_torch, InvertedResidual: _block_to_torch,
            MBConv: _block_to_torch, ConvNeXtBlock: _block_to_torch, AuxiliaryClassifier: _block_to_torch}


# -------------------------------------------------------------------------------------------- from PyTorch


def _refuse_a_changed_forward(module: Any) -> None:
    """ValueError if anything makes the module compute other than its layers: forward hooks or pre-hooks (its
    own, a submodule's or PyTorch's global ones), an instance-level ``forward``, or the parameters that the old
    ``weight_norm``, ``spectral_norm`` and ``prune`` utilities leave (``weight_orig``, ``weight_g``, ``weight_v``)."""
    from torch.nn.modules import module as torch_module
    hint = "; remove it, or convert the module it wraps"
    for kind in ("_global_forward_hooks", "_global_forward_pre_hooks"):
        if getattr(torch_module, kind, None):
            raise ValueError(f"a global forward {'pre-' if 'pre' in kind else ''}hook is registered (torch.nn.modules."
                             f"module.{kind}): it changes what every module computes, which from_torch cannot copy"
                             + hint)
    for path, sub in module.named_modules():
        where = path or type(module).__name__
        altered = [name for name, _ in sub.named_parameters(recurse=False) if name.endswith(("_orig", "_g", "_v"))]
        if altered:
            raise ValueError(f"{where} has the parameter {altered[0]!r} of weight_norm, spectral_norm or prune: its "
                             "weight is computed from it at every call, which from_torch cannot copy; call "
                             "torch.nn.utils.remove_weight_norm / remove_spectral_norm / prune.remove first")
        if sub._forward_hooks or sub._forward_pre_hooks:
            raise ValueError(f"{where} has a forward hook or pre-hook: it changes what the module computes, which "
                             "from_torch cannot copy" + hint)
        if "forward" in vars(sub):
            raise ValueError(f"{where} has a forward of its own, set on the instance: from_torch copies the "
                             f"layers of {type(sub).__name__}, not that function" + hint)


def from_torch(module: nn.Module) -> Layer:
    """The library's model for a PyTorch module, with copies of its weights and buffers.

    Parameters
    ----------
    module : torch.nn.Module
        Built from the modules listed in this module's docstring: ``nn.Sequential``
        trees of convolutions, batch norms, activations and pools, ``Flatten`` then
        ``Linear``, what ``to_torch`` builds, and torchvision's ResNet, SqueezeNet,
        Inception v3, MobileNetV2, EfficientNet and ConvNeXt.

    Returns
    -------
    Layer
        The same classes ``to_torch`` maps from (``Conv2d`` with a 1x1 kernel and padding 0
        becomes ``Conv1x1``, strided too; ``Linear`` after ``Flatten`` becomes a
        ``Conv1x1`` on the 1x1 map; ``Identity`` and that ``Flatten`` become an empty
        ``Sequential``, the identity, so the layers keep PyTorch's indices; ``Dropout``
        becomes the library's ``Dropout``). torchvision's networks become a
        ``conv1x1.models.Network`` named after them, whose layers carry torchvision's names
        (``layer1.0``, ``features.3``, ``features.2.1``), its blocks the library's
        (``Bottleneck``, ``Fire``, ``InvertedResidual``, ``MBConv``, ``ConvNeXtBlock``);
        priced with ``.cost(224, 224)`` like every network. Each layer keeps its module's
        train/eval mode and dtype. Scores come out as (N, K, 1, 1) where torchvision's come
        out as (N, K).

    Raises
    ------
    ImportError
        If PyTorch is not installed.
    TypeError
        If ``module`` is not a ``torch.nn.Module``, or holds a module of a type the library
        has no counterpart for: ``features.3: Weird is not supported; supported: ...``.
    ValueError
        If a supported module has a setting the library lacks (dilation, an even kernel
        with ``padding="same"``, ``AvgPool2d(ceil_mode=True)``,
        batch norm without affine weights or running statistics, a ``Linear`` without a
        ``Flatten`` before it in an ``nn.Sequential``, the tanh approximation of GELU,
        stochastic depth by batch, ...), naming its path and the setting; or if something makes a
        module compute other than its layers: a forward hook or pre-hook (the module's, a
        submodule's or a global one), a ``forward`` set on an instance, or the ``weight_orig``,
        ``weight_g`` / ``weight_v`` parameters of the old ``weight_norm``, ``spectral_norm`` and
        ``prune`` utilities.

    Examples
    --------
    >>> import torch, conv1x1 as C
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding="same"), torch.nn.ReLU(),
    ...                           torch.nn.Conv2d(8, 4, 1))
    >>> C.from_torch(net)
    Sequential(
      (0): Conv2d(3, 8, kernel_size=3, stride=1, padding=1, bias=True)
      (1): ReLU()
      (2): Conv1x1(8, 4, bias=True)
    )
    """
    nn, _ = _torch_modules()
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}. To convert a conv1x1 "
                        "model to PyTorch, call conv1x1.to_torch(model).")
    _refuse_a_changed_forward(module)
    return _from_torch(module, "")


def _from_torch(module: Any, path: str) -> Any:
    convert = _converter(module)
    if convert is None:
        raise _refuse(path, module)
    layer = convert(module, path)
    layer.training = module.training  # this node only: each child's mode was copied from its own module
    return layer


def _converter(module: Any) -> Converter | None:
    """The function that converts this module (exact classes only: a subclass may compute something else), or None."""
    nn, tm = _torch_modules()
    kind = type(module)
    if (kind.__module__, kind.__name__) in TORCHVISION:
        return TORCHVISION[kind.__module__, kind.__name__]
    if kind in tuple(getattr(tm, cls.__name__) for cls in BLOCKS):
        return _block_from_torch
    if kind in (tm.LayerNorm2d, tm.LayerScale, tm.DropPath):
        return _leaf_from_torch
    if kind in (tm.Concat, tm.Residual):
        return _container_from_torch
    if kind is tm.Network:
        return _network_from_torch
    if kind in tuple(getattr(nn, name) for name in LEAVES):
        return _leaf_from_torch
    if isinstance(module, nn.Sequential) and kind.forward is nn.Sequential.forward:
        return _sequential_from_torch
    return None


LEAVES = ("Conv2d", "BatchNorm2d", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "MaxPool2d", "AvgPool2d",
          "AdaptiveAvgPool2d", "ChannelShuffle", "Dropout", "Identity", "Flatten", "Linear", "ReLU6", "GELU", "SiLU")
AFTER_FLATTEN = ("Linear", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Dropout", "Identity")


def _made(layer: Any, module: Any) -> Any:
    """A library layer this bridge made for ``module`` (a container torchvision does not have), in its mode."""
    layer.training = module.training
    return layer


def _array(tensor: Any) -> Any:
    """A NumPy copy of a tensor (float16, float32 or float64)."""
    import torch
    if tensor.dtype not in (torch.float16, torch.float32, torch.float64):
        raise ValueError(f"the library computes in float16, float32 or float64, got a {tensor.dtype} tensor: "
                         "convert the module first, e.g. module.double()")
    return tensor.detach().cpu().numpy().copy()


def _pair(value: Any) -> tuple[int, int]:
    """(along H, along W) from PyTorch's int-or-pair settings."""
    return (int(value), int(value)) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _square(value: Any, name: str, path: str, module: Any) -> int:
    """An int from an int-or-pair setting that the library keeps square (a torchvision block's stride)."""
    pair = _pair(value)
    if pair[0] != pair[1]:
        raise ValueError(f"{path or '(top level)'}: {module!r} has {name}={value}: the library's {name} is the same "
                         "along H and W here")
    return pair[0]


def _setting(ok: bool, path: str, module: Any, what: str) -> None:
    """A ValueError naming the path and the module when one of its settings has no counterpart in the library."""
    if not ok:
        raise ValueError(f"{path or '(top level)'}: {module!r} cannot be converted: {what}")


def _conv_from_torch(module: Any, path: str) -> Any:
    k, stride = _pair(module.kernel_size), _pair(module.stride)
    _setting(_pair(module.dilation) == (1, 1), path, module, "the library's convolutions have dilation 1")
    _setting(module.padding_mode == "zeros", path, module, "the library pads with zeros (padding_mode='zeros')")
    if isinstance(module.padding, str):   # "valid" is 0; "same" is (K - 1) / 2 when K is odd (PyTorch: stride 1)
        _setting(module.padding == "valid" or (k[0] % 2 == 1 and k[1] % 2 == 1), path, module,
                 'padding="same" with an even kernel pads one side more than the other; the library pads both '
                 "sides alike")
        padding = (0, 0) if module.padding == "valid" else (k[0] // 2, k[1] // 2)
    else:
        padding = _pair(module.padding)
    w = _array(module.weight)
    bias = module.bias is not None
    settings: dict[str, Any] = dict(bias=bias, groups=module.groups, dtype=w.dtype)
    if k == (1, 1) and padding == (0, 0) and stride[0] == stride[1]:
        layer: Conv1x1 | Conv2d = Conv1x1(module.in_channels, module.out_channels, stride=stride[0], **settings)
    else:
        layer = Conv2d(module.in_channels, module.out_channels, k, stride=stride, padding=padding, **settings)
    layer.params = {"w": w.reshape(layer.weight_shape()), **({"b": _array(module.bias)} if bias else {})}
    return layer


def _linear_from_torch(module: Any) -> Any:
    """A Linear on the flattened 1x1 map: the 1x1 convolution with the same weights."""
    w = _array(module.weight)
    layer = Conv1x1(module.in_features, module.out_features, bias=module.bias is not None, dtype=w.dtype)
    layer.params = {"w": w, **({"b": _array(module.bias)} if module.bias is not None else {})}
    return layer


def _batchnorm_from_torch(module: Any, path: str) -> Any:
    _setting(module.affine, path, module, "affine=False: the library's batch norm always learns gamma and beta")
    _setting(module.track_running_stats, path, module, "track_running_stats=False: the library's batch norm "
                                                       "keeps running statistics for evaluation")
    _setting(module.momentum is not None, path, module, "momentum=None (a cumulative average): the library's "
                                                        "running statistics use a momentum in [0, 1]")
    gamma = _array(module.weight)
    layer = BatchNorm2d(module.num_features, eps=module.eps, momentum=module.momentum, dtype=gamma.dtype)
    layer.params = {"gamma": gamma, "beta": _array(module.bias)}
    layer.buffers = {"running_mean": _array(module.running_mean), "running_var": _array(module.running_var)}
    return layer


def _pool_from_torch(module: Any, path: str) -> Any:
    nn, _ = _torch_modules()
    k, stride, padding = _pair(module.kernel_size), _pair(module.stride), _pair(module.padding)
    if isinstance(module, nn.MaxPool2d):
        _setting(_pair(module.dilation) == (1, 1), path, module, "the library's max pooling has dilation 1")
        _setting(not module.return_indices, path, module, "return_indices=True: the library returns the pooled "
                                                          "map only")
        return MaxPool2d(k, stride, padding, ceil_mode=module.ceil_mode)
    _setting(not module.ceil_mode, path, module, "ceil_mode=True: the library's average pooling rounds down")
    _setting(module.count_include_pad or padding == (0, 0), path, module,
             "count_include_pad=False: the library counts padding as zeros in every window's average")
    _setting(module.divisor_override is None, path, module, "divisor_override: the library divides by KH * KW")
    return AvgPool2d(k, stride, padding)


def _leaf_from_torch(module: Any, path: str) -> Any:
    nn, _ = _torch_modules()
    kind = type(module)
    if kind is nn.Conv2d:
        return _conv_from_torch(module, path)
    if kind is nn.BatchNorm2d:
        return _batchnorm_from_torch(module, path)
    if kind in (nn.MaxPool2d, nn.AvgPool2d):
        return _pool_from_torch(module, path)
    if kind is nn.AdaptiveAvgPool2d:
        size = module.output_size
        _setting(tuple(size) == (1, 1) if isinstance(size, (tuple, list)) else size == 1, path, module,
                 "only output_size=1 is global average pooling (GlobalAvgPool2d)")
        return GlobalAvgPool2d()
    if kind is nn.LeakyReLU:
        return LeakyReLU(module.negative_slope)
    if kind is nn.ChannelShuffle:
        return ChannelShuffle(module.groups)
    if kind is nn.Flatten:   # on its own; in an nn.Sequential before Linear layers, see _sequential_from_torch
        _setting((module.start_dim, module.end_dim) == (1, -1), path, module, "only Flatten(start_dim=1, end_dim=-1)")
        return Flatten()
    if kind is nn.Linear:
        w = _array(module.weight)
        layer = Linear(module.in_features, module.out_features, bias=module.bias is not None, dtype=w.dtype)
        layer.params = {"w": w, **({"b": _array(module.bias)} if module.bias is not None else {})}
        return layer
    return _new_leaf_from_torch(module, path)


def _new_leaf_from_torch(module: Any, path: str) -> Any:
    """Dropout, Identity, the activations, and the bridge's own LayerNorm2d, LayerScale and DropPath."""
    nn, tm = _torch_modules()
    kind = type(module)
    if kind is nn.Dropout:
        return Dropout(module.p)
    if kind is nn.Identity:
        return Sequential()
    if kind is nn.GELU:
        _setting(module.approximate == "none", path, module, "approximate='tanh': the library's GELU is the exact "
                                                             "(erf) form")
    if kind is tm.LayerNorm2d:
        return _layernorm_from_torch(module, path)
    if kind is tm.LayerScale:
        weight = _array(module.weight)
        layer = LayerScale(weight.shape[0], dtype=weight.dtype)
        layer.params = {"gamma": weight}
        return layer
    if kind is tm.DropPath:
        return DropPath(module.p)
    return {nn.ReLU: ReLU, nn.Sigmoid: Sigmoid, nn.Tanh: Tanh, nn.ReLU6: ReLU6, nn.GELU: GELU, nn.SiLU: SiLU}[kind]()


def _layernorm_from_torch(module: Any, path: str) -> Any:
    """A LayerNorm over channels (torchvision's LayerNorm2d, or nn.LayerNorm on channels-last between Permutes)."""
    _setting(len(module.normalized_shape) == 1, path, module, "a layer norm over one axis, the channels")
    _setting(module.elementwise_affine and module.bias is not None, path, module,
             "elementwise_affine=False or bias=False: the library's layer norm learns gamma and beta")
    gamma = _array(module.weight)
    layer = LayerNorm2d(module.normalized_shape[0], eps=module.eps, dtype=gamma.dtype)
    layer.params = {"gamma": gamma, "beta": _array(module.bias)}
    return layer


def _sequential_from_torch(module: Any, path: str, flattened: bool = False) -> Any:
    """An nn.Sequential: each child converted; after a Flatten, Linear layers become 1x1 convolutions."""
    nn, _ = _torch_modules()
    children = list(module.named_children())
    layers = []
    for i, (name, child) in enumerate(children):
        where = _join(path, name)
        if type(child) is nn.Flatten:
            rest = [type(later).__name__ for _, later in children[i + 1:]]
            _setting((child.start_dim, child.end_dim) == (1, -1), where, child,
                     "only Flatten(start_dim=1, end_dim=-1), the flatten before a classifier")
            _setting("Linear" in rest and all(kind in AFTER_FLATTEN for kind in rest), where, child,
                     "a Flatten converts only when Linear layers follow it on a 1x1 map (with activations, Dropout "
                     f"or Identity between); after it come {rest}")
            flattened = True
            layers.append(_made(Sequential(), child))
        elif type(child) is nn.Linear:
            _setting(flattened, where, child, "a Linear converts only after a Flatten in the same nn.Sequential (or "
                                              "as the fc of a torchvision ResNet): on a 1x1 map it is a 1x1 "
                                              "convolution")
            layers.append(_made(_linear_from_torch(child), child))
        else:
            layers.append(_from_torch(child, where))
    return Sequential(*layers)


def _children_from_torch(module: Any, path: str) -> Any:
    return [_from_torch(child, _join(path, name)) for name, child in module.named_children()]


def _container_from_torch(module: Any, path: str) -> Any:
    _, tm = _torch_modules()
    children = _children_from_torch(module, path)
    return Concat(*children) if type(module) is tm.Concat else Residual(*children)


def _block_from_torch(module: Any, path: str) -> Any:
    """One of to_torch's blocks: the library's block rebuilt from its config, holding the module's weights."""
    children = _children_from_torch(module, path)
    generic = Concat(*children) if type(module).__name__ == "Inception" else Sequential(*children)
    block_class = {cls.__name__: cls for cls in BLOCKS}[type(module).__name__]
    return _as_block(block_class(**module.config, dtype=_dtype(generic)), generic)


def _network_from_torch(module: Any, path: str) -> Any:
    names = getattr(module, "names", None) or [name for name, _ in module.named_children()]
    named = [(label, _from_torch(child, _join(path, name)))
             for label, (name, child) in zip(names, module.named_children())]
    return Network(module.name, named, in_channels=module.in_channels)


# ------------------------------------------------------------------ blocks: the library's class when it fits


def _dtype(layer: Any) -> Any:
    """The dtype of a layer's first parameter (float64 if it has none)."""
    params = list(layer.params.values())
    return params[0].dtype if params else np.dtype(np.float64)


def _signature(layer: Any) -> Any:
    """What a layer computes, as a nested tuple: equal signatures, equal functions of x and the weights."""
    if isinstance(layer, (Conv1x1, Conv2d)):
        return ("conv", layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride, layer.padding,
                layer.groups, layer.bias, np.dtype(layer.dtype))
    if isinstance(layer, BatchNorm2d):
        return ("batchnorm", layer.num_features, layer.eps, layer.momentum, np.dtype(layer.dtype))
    if isinstance(layer, (Sequential, Concat, Residual)):
        kind = next(cls for cls in (Sequential, Concat, Residual) if isinstance(layer, cls)).__name__
        return (kind, tuple(_signature(child) for child in layer.children))
    return repr(layer)


def _nodes(layer: Any) -> Any:
    """The layer and every layer inside it, parents before children (PyTorch's ``modules()`` order)."""
    yield layer
    for child in layer.children:
        yield from _nodes(child)


def _as_block(block: Any, generic: Any) -> Any:
    """``block`` (a library block) holding ``generic``'s weights, buffers and modes, if both compute the same.

    ``generic`` is the module converted layer by layer (Sequential, Concat, Residual and leaves);
    when its signature differs from the block's (a torchvision block with grouped convolutions,
    say), ``generic`` itself is returned: it computes what the module computes.
    """
    if _signature(block) != _signature(generic):
        return generic
    for target, source in zip(_nodes(block), _nodes(generic)):
        target.training = source.training
        if isinstance(target, (Conv1x1, Conv2d)):
            target.params = {name: array.reshape(target.weight_shape()) if name == "w" else array
                             for name, array in source.params.items()}
        elif not target.children and source.params:   # batch norm, layer norm, layer scale
            target.params = source.params
        if not target.children and source.buffers:
            target.buffers = source.buffers
    return block


# -------------------------------------------------------------------------------------------- torchvision


def _tv_bottleneck(module: Any, path: str) -> Any:
    """torchvision's ResNet Bottleneck: relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + shortcut(x)).

    Its one ``relu`` module runs three times; the library needs one layer per use.
    """
    def sub(name: str) -> Any:
        return _from_torch(getattr(module, name), _join(path, name))
    block = _made(Sequential(sub("conv1"), sub("bn1"), sub("relu"), sub("conv2"), sub("bn2"), sub("relu"),
                             sub("conv3"), sub("bn3")), module)
    shortcut = sub("downsample") if module.downsample is not None else None
    generic = _made(Sequential(_made(Residual(block, shortcut), module), sub("relu")), module)
    stride = _square(module.conv2.stride, "stride", _join(path, "conv2"), module.conv2)
    candidate = Bottleneck(module.conv1.in_channels, module.conv1.out_channels, module.conv3.out_channels,
                           stride=stride, stride_on="3x3", dtype=_dtype(generic))
    return _as_block(candidate, generic)


def _tv_basic_block(module: Any, path: str) -> Any:
    """torchvision's ResNet BasicBlock: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); no library class."""
    def sub(name: str) -> Any:
        return _from_torch(getattr(module, name), _join(path, name))
    block = _made(Sequential(sub("conv1"), sub("bn1"), sub("relu"), sub("conv2"), sub("bn2")), module)
    shortcut = sub("downsample") if module.downsample is not None else None
    return Sequential(_made(Residual(block, shortcut), module), sub("relu"))


def _tv_resnet(module: Any, path: str) -> Any:
    """torchvision's ResNet: conv1, bn1, relu, maxpool, layer1-4, avgpool, then flatten and the Linear fc."""
    nn, _ = _torch_modules()
    stages = [getattr(module, f"layer{i}") for i in (1, 2, 3, 4)]
    named = [(name, getattr(module, name)) for name in ("conv1", "bn1", "relu", "maxpool")]
    named += [(f"layer{i}.{j}", block) for i, stage in enumerate(stages, start=1)
              for j, block in stage.named_children()]
    named.append(("avgpool", module.avgpool))
    layers = [(name, _from_torch(child, _join(path, name))) for name, child in named]
    fc, where = module.fc, _join(path, "fc")   # it runs after torch.flatten(x, 1): a Linear on the 1x1 map
    if type(fc) is nn.Linear:
        head = _made(_linear_from_torch(fc), fc)
    elif isinstance(fc, nn.Sequential) and type(fc).forward is nn.Sequential.forward:
        head = _made(_sequential_from_torch(fc, where, flattened=True), fc)
    else:
        head = _from_torch(fc, where)
    convs = sum(type(child) is nn.Conv2d for stage in stages for block in stage for child in block.children())
    return Network(f"resnet{convs + 2} (torchvision)", layers + [("fc", head)], in_channels=module.conv1.in_channels)


def _tv_fire(module: Any, path: str) -> Any:
    """torchvision's Fire: squeeze -> act -> [expand1x1 -> act | expand3x3 -> act], joined along channels."""
    def sub(name: str) -> Any:
        return _from_torch(getattr(module, name), _join(path, name))
    expand = _made(Concat(_made(Sequential(sub("expand1x1"), sub("expand1x1_activation")), module),
                          _made(Sequential(sub("expand3x3"), sub("expand3x3_activation")), module)), module)
    generic = Sequential(sub("squeeze"), sub("squeeze_activation"), expand)
    candidate = Fire(module.squeeze.in_channels, module.squeeze.out_channels, module.expand1x1.out_channels,
                     module.expand3x3.out_channels, dtype=_dtype(generic))
    return _as_block(candidate, generic)


def _tv_squeezenet(module: Any, path: str) -> Any:
    """torchvision's SqueezeNet: ``features``, then ``classifier`` (Dropout, 1x1 conv, ReLU, pool), then flatten."""
    named = [(f"{part}.{name}", child) for part in ("features", "classifier")
             for name, child in getattr(module, part).named_children()]
    layers = [(name, _from_torch(child, _join(path, name))) for name, child in named]
    return Network("squeezenet (torchvision)", layers, in_channels=module.features[0].in_channels)


# (module of a torchvision class, class name) -> the converter of its instances
TORCHVISION: dict[tuple[str, str], Converter] = {
    ("torchvision.models.resnet", "ResNet"): _tv_resnet,
    ("torchvision.models.resnet", "Bottleneck"): _tv_bottleneck,
    ("torchvision.models.resnet", "BasicBlock"): _tv_basic_block,
    ("torchvision.models.squeezenet", "SqueezeNet"): _tv_squeezenet,
    ("torchvision.models.squeezenet", "Fire"): _tv_fire,
}


# ------------------------------------------------------------- torchvision: MobileNetV2, EfficientNet, ConvNeXt


def _spliced(module: Any, path: str) -> Any:
    """The layers of an nn.Sequential, with torchvision's Conv2dNormActivation children spliced in (one list)."""
    layers: list[Layer] = []
    for name, child in module.named_children():
        converted = _from_torch(child, _join(path, name))
        is_plain = type(converted) is Sequential and len(converted) > 0
        layers.extend(converted.children if is_plain else [converted])
    return layers


def _residual_block(layers: list[Layer], module: Any, use_residual: bool) -> Any:
    """The children a library block has: the layers, or one ``Residual`` of them (in the module's mode)."""
    if not use_residual:
        return layers
    return [_made(Residual(_made(Sequential(*layers), module)), module)]


def _tv_inverted_residual(module: Any, path: str) -> Any:
    """torchvision's MobileNetV2 InvertedResidual: ``x + conv(x)`` when ``use_res_connect``, else ``conv(x)``."""
    layers = _spliced(module.conv, _join(path, "conv"))
    generic = _made(Sequential(*_residual_block(layers, module, module.use_res_connect)), module)
    convs = [layer for layer in layers if isinstance(layer, (Conv1x1, Conv2d))]
    c_in, hidden, stride = convs[0].in_channels, convs[-1].in_channels, convs[-2].stride
    if hidden % c_in or len(convs) != (2 if hidden == c_in else 3) or not isinstance(stride, int):
        return generic
    candidate = InvertedResidual(c_in, module.out_channels, stride, hidden // c_in, dtype=_dtype(generic))
    return _as_block(candidate, generic)


def _tv_squeeze_excitation(module: Any, path: str) -> Any:
    """torchvision's SqueezeExcitation: ``x * scale_activation(fc2(activation(fc1(avgpool(x)))))``."""
    nn, _ = _torch_modules()
    _setting(type(module.scale_activation) is nn.Sigmoid, path, module, "the library's gate is a sigmoid")
    _setting(type(module.activation) in (nn.SiLU, nn.ReLU), path, module, "the activation must be SiLU or ReLU")
    parts = {name: _from_torch(getattr(module, name), _join(path, name))
             for name in ("avgpool", "fc1", "activation", "fc2", "scale_activation")}
    fc1 = parts["fc1"]
    activation = "silu" if type(module.activation) is nn.SiLU else "relu"
    block = SqueezeExcite(fc1.in_channels, fc1.out_channels, activation=activation, dtype=_dtype(fc1))
    return _as_block(block, _made(Sequential(*parts.values()), module))


def _tv_stochastic_depth(module: Any, path: str) -> Any:
    """torchvision's StochasticDepth in "row" mode (one draw per image) is the library's DropPath."""
    _setting(module.mode == "row", path, module, 'only mode="row": the library drops whole images')
    return DropPath(module.p)


def _tv_mbconv(module: Any, path: str) -> Any:
    """torchvision's MBConv: ``block(x)``, plus x after stochastic depth when ``use_res_connect``."""
    layers = _spliced(module.block, _join(path, "block"))
    if module.use_res_connect:
        layers.append(_from_torch(module.stochastic_depth, _join(path, "stochastic_depth")))
    generic = _made(Sequential(*_residual_block(layers, module, module.use_res_connect)), module)
    convs = [layer for layer in layers if isinstance(layer, (Conv1x1, Conv2d)) and not layer.bias]
    c_in, depthwise = convs[0].in_channels, convs[-2]
    if depthwise.in_channels % c_in or depthwise.kernel_size not in (3, 5) or depthwise.stride not in (1, 2):
        return generic
    candidate = MBConv(c_in, module.out_channels, depthwise.kernel_size, depthwise.stride,
                       depthwise.in_channels // c_in, module.stochastic_depth.p, dtype=_dtype(generic))
    return _as_block(candidate, generic)


def _tv_cnblock(module: Any, path: str) -> Any:
    """torchvision's CNBlock: ``x + drop_path(layer_scale * block(x))``, its block a depthwise 7x7, a Permute to
    channels-last, LayerNorm, Linear, GELU, Linear, and a Permute back. On the channels-last tensor each Linear
    mixes the channels of one pixel: it is a 1x1 convolution, and becomes the library's ``Conv1x1``."""
    nn, _ = _torch_modules()
    children = list(module.block.named_children())
    kinds = [type(child).__name__ for _, child in children]
    _setting(kinds == ["Conv2d", "Permute", "LayerNorm", "Linear", "GELU", "Linear", "Permute"]
             and list(children[1][1].dims) == [0, 2, 3, 1] and list(children[6][1].dims) == [0, 3, 1, 2],
             path, module, f"a ConvNeXt block is Conv2d, Permute to channels-last, LayerNorm, Linear, GELU, Linear, "
                           f"Permute back; got {kinds}")
    where = {name: _join(path, f"block.{name}") for name, _ in children}
    (n0, dw), (_, _), (n2, norm), (n3, fc1), (n4, gelu), (n5, fc2), _ = children
    layers = [_from_torch(dw, where[n0]), _made(_layernorm_from_torch(norm, where[n2]), norm),
              _made(_linear_from_torch(fc1), fc1), _from_torch(gelu, where[n4]), _made(_linear_from_torch(fc2), fc2)]
    scale = _array(module.layer_scale)
    _setting(scale.shape == (scale.shape[0], 1, 1), path, module, "layer_scale must have shape (C, 1, 1)")
    gamma = _made(LayerScale(scale.shape[0], dtype=scale.dtype), module)
    gamma.params = {"gamma": scale.reshape(-1)}
    layers += [gamma, _from_torch(module.stochastic_depth, _join(path, "stochastic_depth"))]
    generic = _made(Sequential(*_residual_block(layers, module, True)), module)
    candidate = ConvNeXtBlock(scale.shape[0], drop_path=module.stochastic_depth.p, dtype=_dtype(generic))
    return _as_block(candidate, generic)


def _tv_layernorm2d(module: Any, path: str) -> Any:
    return _layernorm_from_torch(module, path)


def _tv_features_network(module: Any, path: str, name: str, pooled: bool) -> Any:
    """MobileNetV2, EfficientNet and ConvNeXt: ``features``, global average pooling, ``flatten``, ``classifier``.

    Blocks inside a stage (an nn.Sequential of blocks) are named ``features.<stage>.<block>``; the classifier's
    Flatten is left out and its Linear becomes a 1x1 convolution on the pooled 1x1 map.
    """
    nn, _ = _torch_modules()
    named = []
    for stage, child in module.features.named_children():
        where = f"features.{stage}"
        is_stage = type(child) is nn.Sequential and all(type(b).__name__ in STAGE_BLOCKS for b in child)
        named += ([(f"{where}.{i}", block) for i, block in child.named_children()] if is_stage
                  else [(where, child)])
    layers = [(label, _from_torch(child, _join(path, label))) for label, child in named]
    layers.append(("avgpool", _from_torch(module.avgpool, _join(path, "avgpool")) if pooled
                   else _made(GlobalAvgPool2d(), module)))
    for index, child in module.classifier.named_children():
        where = _join(path, f"classifier.{index}")
        if type(child) is nn.Linear:
            layers.append((f"classifier.{index}", _made(_linear_from_torch(child), child)))
        elif type(child) is not nn.Flatten:
            layers.append((f"classifier.{index}", _from_torch(child, where)))
    first = named[0][1]
    conv = first if isinstance(first, nn.Conv2d) else first[0]
    return Network(f"{name} (torchvision)", layers, in_channels=conv.in_channels)


def _tv_mobilenet_v2(module: Any, path: str) -> Any:
    return _tv_features_network(module, path, "mobilenet_v2", pooled=False)


def _tv_efficientnet(module: Any, path: str) -> Any:
    return _tv_features_network(module, path, "efficientnet", pooled=True)


def _tv_convnext(module: Any, path: str) -> Any:
    return _tv_features_network(module, path, "convnext", pooled=True)


STAGE_BLOCKS = ("MBConv", "CNBlock")

TORCHVISION.update({
    ("torchvision.models.mobilenetv2", "MobileNetV2"): _tv_mobilenet_v2,
    ("torchvision.models.mobilenetv2", "InvertedResidual"): _tv_inverted_residual,
    ("torchvision.models.efficientnet", "EfficientNet"): _tv_efficientnet,
    ("torchvision.models.efficientnet", "MBConv"): _tv_mbconv,
    ("torchvision.ops.misc", "SqueezeExcitation"): _tv_squeeze_excitation,
    ("torchvision.ops.stochastic_depth", "StochasticDepth"): _tv_stochastic_depth,
    ("torchvision.models.convnext", "ConvNeXt"): _tv_convnext,
    ("torchvision.models.convnext", "CNBlock"): _tv_cnblock,
    ("torchvision.models.convnext", "LayerNorm2d"): _tv_layernorm2d,
})


# ------------------------------------------------------------------------------------ torchvision: Inception v3


def _tv_basic_conv(module: Any, path: str) -> Any:
    """torchvision's BasicConv2d: ``relu(bn(conv(x)))``, the ReLU a function call, here a layer of its own."""
    def sub(name: str) -> Any:
        return _from_torch(getattr(module, name), _join(path, name))
    return _made(Sequential(sub("conv"), sub("bn"), _made(ReLU(), module)), module)


def _tv_inception_module(module: Any, path: str) -> Any:
    """torchvision's InceptionA-E: branches of BasicConv2d (named ``branch...``) and a pooling, joined."""
    def sub(name: str) -> Any:
        return _from_torch(getattr(module, name), _join(path, name))

    def chain(*names: str) -> Any:
        return _made(Sequential(*[sub(name) for name in names]), module)

    def pooled(name: str) -> Any:   # F.avg_pool2d(x, 3, stride=1, padding=1), counting the padding, then the 1x1
        return _made(Sequential(_made(AvgPool2d(3, 1, 1), module), sub(name)), module)

    def split(a: str, b: str) -> Any:    # InceptionE's 1x3 and 3x1 side by side
        return _made(Concat(sub(a), sub(b)), module)

    kind = type(module).__name__
    if kind == "InceptionA":
        branches = [sub("branch1x1"), chain("branch5x5_1", "branch5x5_2"),
                    chain("branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"), pooled("branch_pool")]
    elif kind == "InceptionB":
        branches = [sub("branch3x3"), chain("branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"),
                    _made(MaxPool2d(3, 2), module)]
    elif kind == "InceptionC":
        branches = [sub("branch1x1"), chain("branch7x7_1", "branch7x7_2", "branch7x7_3"),
                    chain(*[f"branch7x7dbl_{i}" for i in range(1, 6)]), pooled("branch_pool")]
    elif kind == "InceptionD":
        branches = [chain("branch3x3_1", "branch3x3_2"), chain(*[f"branch7x7x3_{i}" for i in range(1, 5)]),
                    _made(MaxPool2d(3, 2), module)]
    else:
        branches = [sub("branch1x1"),
                    _made(Sequential(sub("branch3x3_1"), split("branch3x3_2a", "branch3x3_2b")), module),
                    _made(Sequential(sub("branch3x3dbl_1"), sub("branch3x3dbl_2"),
                                     split("branch3x3dbl_3a", "branch3x3dbl_3b")), module),
                    pooled("branch_pool")]
    return Concat(*branches)


def _tv_inception_aux(module: Any, path: str) -> Any:
    """torchvision's InceptionAux: avg pool 5x5/3, conv0 (1x1), conv1 (5x5), global average pool, fc."""
    def sub(name: str) -> Any:
        return _from_torch(getattr(module, name), _join(path, name))
    generic = _made(Sequential(_made(AvgPool2d(5, 3), module), sub("conv0"), sub("conv1"),
                               _made(GlobalAvgPool2d(), module), _made(_linear_from_torch(module.fc), module.fc)),
                    module)
    head = AuxiliaryClassifier(module.conv0.conv.in_channels, module.fc.out_features, dtype=_dtype(generic))
    return _as_block(head, generic)


def _tv_inception3(module: Any, path: str) -> Any:
    """torchvision's Inception3, in its forward's order (the auxiliary head, when present, after Mixed_6e)."""
    _setting(not module.transform_input, path, module, "transform_input=True rescales the input channels first; "
                                                       "build it with transform_input=False")
    names = ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
             "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
             "Mixed_6e"] + (["AuxLogits"] if module.AuxLogits is not None else []) + [
             "Mixed_7a", "Mixed_7b", "Mixed_7c", "avgpool", "dropout"]
    layers = [(name, _from_torch(getattr(module, name), _join(path, name))) for name in names]
    layers.append(("fc", _made(_linear_from_torch(module.fc), module.fc)))
    aux = " (with the auxiliary head)" if module.AuxLogits is not None else ""
    return Network(f"inception_v3{aux} (torchvision)", layers, in_channels=module.Conv2d_1a_3x3.conv.in_channels)


TORCHVISION.update({("torchvision.models.inception", "Inception3"): _tv_inception3,
                    ("torchvision.models.inception", "InceptionAux"): _tv_inception_aux,
                    ("torchvision.models.inception", "BasicConv2d"): _tv_basic_conv,
                    **{("torchvision.models.inception", f"Inception{letter}"): _tv_inception_module
                       for letter in "ABCDE"}})
