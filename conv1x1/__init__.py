"""conv1x1: the 1x1 convolution, taught in plain NumPy.

A 1x1 convolution is a fully connected layer applied at every pixel::

    out[n, o, i, j] = sum_c w[o, c] * x[n, c, i, j] + b[o]        (pixel (i, j): row i, column j)
                    = np.einsum('oc,ncij->noij', w, x) + b[None, :, None, None]

Quick start::

    import numpy as np
    import conv1x1 as C

    x = np.random.default_rng(0).standard_normal((1, 192, 28, 28))
    layer = C.Conv1x1(192, 32)            # 32 filters: output depth 32
    out = layer.forward(x)                # (1, 32, 28, 28): H and W unchanged
    dx = layer.backward(np.ones_like(out))

Read the lesson in this order (``import conv1x1`` loads these and nothing else):

1. ``functional/pointwise.py``: the 1x1 convolution's forward and backward, as ``(out, cache)``
   functions; beside it, one file per family (``conv2d``, ``pooling``, ``activations``,
   ``normalization``, ``shuffle``).
2. ``layers.py``: the ``Layer`` contract (``forward``, ``backward``, ``params``, ``grads``) and
   the layers, each calling its pair of functions.
3. ``containers.py``: ``Sequential``, ``Concat`` and ``Residual``.
4. ``gradcheck.py``: numerical gradients, to check every backward pass yourself.
5. ``reference.py``: the same computations written the slow, obvious way (loops, an einsum, a dense layer).
6. ``cost/``: parameters, MACs and FLOPs (1 MAC = 2 FLOPs), and the roofline.

(``_checks.py`` holds the one validation helper every entry point shares.)

The campus around it, loaded on first use:

- ``models/``: the blocks and networks built on the 1x1 (Inception, ResNet, MobileNet, ...).
- ``training/``: the loss, optimizers, training loop, data and checkpoints.
- ``fast/``: the engine room (the same functions, tuned) and ``timing``.
- ``exercises/``: write the pieces yourself; a checker and a class grader.
- ``bridge/``: ``to_torch`` / ``from_torch``, the same network in PyTorch and back.
- ``course/``: the tour (``python -m conv1x1``) and the command line.

Imports run one way, with no cycle. The lesson imports nothing of the campus, and within it the
order differs from the reading order above: ``_checks``, ``functional``, ``gradcheck``,
``reference``, ``cost``, ``layers`` (a layer prices itself with ``cost``), ``containers``.
This front door imports the lesson and loads the campus only on first use. Each part of the
campus imports only the lesson and the parts listed before it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import cost, functional, gradcheck, reference
from .containers import Concat, Residual, Sequential
from .cost import report
from .functional import (
                         avgpool2d_backward,
                         avgpool2d_forward,
                         batchnorm_backward,
                         batchnorm_forward,
                         channel_gate_backward,
                         channel_gate_forward,
                         channel_shuffle_backward,
                         channel_shuffle_forward,
                         conv1x1,
                         conv1x1_backward,
                         conv1x1_forward,
                         conv2d_backward,
                         conv2d_forward,
                         drop_path_backward,
                         drop_path_forward,
                         dropout_backward,
                         dropout_forward,
                         flatten_backward,
                         flatten_forward,
                         gelu_backward,
                         gelu_forward,
                         global_avg_pool_backward,
                         global_avg_pool_forward,
                         layernorm2d_backward,
                         layernorm2d_forward,
                         leaky_relu_backward,
                         leaky_relu_forward,
                         linear_backward,
                         linear_forward,
                         maxpool2d_backward,
                         maxpool2d_forward,
                         relu6_backward,
                         relu6_forward,
                         relu_backward,
                         relu_forward,
                         sigmoid_backward,
                         sigmoid_forward,
                         silu_backward,
                         silu_forward,
                         tanh_backward,
                         tanh_forward,
)
from .layers import (
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
                         Layer,
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

if TYPE_CHECKING:
    from . import bridge, course, exercises, fast, models, training
    from .bridge import from_torch, to_torch
    from .models import (
        Bottleneck,
        ConvNeXtBlock,
        DepthwiseSeparable,
        Fire,
        Inception,
        InvertedResidual,
        MBConv,
        ShuffleUnit,
        SqueezeExcite,
    )
    from .training import SGD, Adam, AdamW, load, save, softmax_cross_entropy

__version__ = "0.3.0"

# The campus: each name -> the module that defines it, imported on first use (PEP 562).
_SUBPACKAGES = ("bridge", "course", "exercises", "fast", "models", "training")
_LAZY_NAMES = {
    "Bottleneck": "models", "DepthwiseSeparable": "models", "Fire": "models", "Inception": "models",
    "ShuffleUnit": "models", "SqueezeExcite": "models", "InvertedResidual": "models", "MBConv": "models",
    "ConvNeXtBlock": "models", "Adam": "training", "AdamW": "training",
    "softmax_cross_entropy": "training", "SGD": "training", "save": "training", "load": "training",
    "to_torch": "bridge", "from_torch": "bridge",
}


def __getattr__(name: str) -> Any:
    """Import a campus subpackage, or a name from one, the first time it is asked for."""
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _LAZY_NAMES:
        module = importlib.import_module(f"{__name__}.{_LAZY_NAMES[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "__version__",
    "conv1x1", "conv1x1_forward", "conv1x1_backward", "conv2d_forward", "conv2d_backward",
    "maxpool2d_forward", "maxpool2d_backward", "avgpool2d_forward", "avgpool2d_backward",
    "global_avg_pool_forward", "global_avg_pool_backward",
    "relu_forward", "relu_backward", "leaky_relu_forward", "leaky_relu_backward",
    "sigmoid_forward", "sigmoid_backward", "tanh_forward", "tanh_backward",
    "batchnorm_forward", "batchnorm_backward", "channel_shuffle_forward", "channel_shuffle_backward",
    "Layer", "Conv1x1", "Conv2d", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "MaxPool2d", "AvgPool2d", "GlobalAvgPool2d",
    "BatchNorm2d", "ChannelShuffle", "Sequential", "Concat", "Residual",
    "Inception", "DepthwiseSeparable", "Bottleneck", "Fire", "ShuffleUnit",
    "linear_forward", "linear_backward", "flatten_forward", "flatten_backward",
    "layernorm2d_forward", "layernorm2d_backward", "relu6_forward", "relu6_backward",
    "gelu_forward", "gelu_backward", "silu_forward", "silu_backward",
    "dropout_forward", "dropout_backward", "drop_path_forward", "drop_path_backward",
    "channel_gate_forward", "channel_gate_backward",
    "Linear", "Flatten", "LayerNorm2d", "ReLU6", "GELU", "SiLU", "Dropout", "DropPath", "LayerScale",
    "SqueezeExcite", "InvertedResidual", "MBConv", "ConvNeXtBlock",
    "softmax_cross_entropy", "SGD", "Adam", "AdamW", "save", "load", "to_torch", "from_torch",
    "cost", "functional", "gradcheck", "reference", "report",
    "bridge", "course", "exercises", "fast", "models", "training",
]
