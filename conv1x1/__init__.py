"""conv1x1: the 1x1 convolution, taught in plain NumPy.

A 1x1 convolution is a fully connected layer applied at every pixel::

    out[n, o, h, w] = sum_c w[o, c] * x[n, c, h, w] + b[o]
                    = np.einsum('oc,nchw->nohw', w, x) + b[None, :, None, None]

Quick start::

    import numpy as np
    import conv1x1 as C

    x = np.random.default_rng(0).standard_normal((1, 192, 28, 28))
    layer = C.Conv1x1(192, 32)            # 32 filters: output depth 32
    out = layer.forward(x)                # (1, 32, 28, 28): H and W unchanged
    dx = layer.backward(np.ones_like(out))

The house, from the maths up (each module imports only those above it):
``conv1x1.functional`` (the stateless ``(out, cache)`` functions; every one is also
``C.<name>``), ``conv1x1.layers`` (the Layer contract and the layers that call them),
``conv1x1.containers`` (Sequential, Concat, Residual), ``conv1x1.models`` (blocks,
Inception and whole networks), ``conv1x1.cost`` (parameters, MACs and FLOPs; 1 MAC =
2 FLOPs; it knows no layer), ``conv1x1.losses``, ``conv1x1.optim``, ``conv1x1.train``,
``conv1x1.data`` and ``conv1x1.checkpoint`` (training), ``conv1x1.gradcheck``
(numerical gradient checks), ``conv1x1.reference`` (slow, obvious implementations
to learn from), ``conv1x1.fast`` (the engine room: the same functions, tuned) and
``conv1x1.timing`` (measurements); on top of them all, ``conv1x1.exercises`` (write the
pieces yourself and be told what is wrong with them) and ``conv1x1.torch_bridge``
(``to_torch`` / ``from_torch``: the same network in PyTorch and back; it imports
PyTorch only when called).
"""

from . import checkpoint, cost, data, exercises, fast, functional, gradcheck, models, optim, reference, timing, train
from .checkpoint import load, save
from .containers import Concat, Residual, Sequential
from .cost import report
from .functional import (
                         avgpool2d_backward,
                         avgpool2d_forward,
                         batchnorm_backward,
                         batchnorm_forward,
                         channel_shuffle_backward,
                         channel_shuffle_forward,
                         conv1x1,
                         conv1x1_backward,
                         conv1x1_forward,
                         conv2d_backward,
                         conv2d_forward,
                         global_avg_pool_backward,
                         global_avg_pool_forward,
                         leaky_relu_backward,
                         leaky_relu_forward,
                         maxpool2d_backward,
                         maxpool2d_forward,
                         relu_backward,
                         relu_forward,
                         sigmoid_backward,
                         sigmoid_forward,
                         tanh_backward,
                         tanh_forward,
)
from .layers import (
                         AvgPool2d,
                         BatchNorm2d,
                         ChannelShuffle,
                         Conv1x1,
                         Conv2d,
                         GlobalAvgPool2d,
                         Layer,
                         LeakyReLU,
                         MaxPool2d,
                         ReLU,
                         Sigmoid,
                         Tanh,
)
from .losses import softmax_cross_entropy
from .models import Bottleneck, DepthwiseSeparable, Fire, Inception, ShuffleUnit
from .optim import SGD
from .torch_bridge import from_torch, to_torch

__version__ = "0.2.0"

__all__ = [
    "__version__",
    "conv1x1", "conv1x1_forward", "conv1x1_backward", "conv2d_forward", "conv2d_backward",
    "maxpool2d_forward", "maxpool2d_backward", "avgpool2d_forward", "avgpool2d_backward",
    "global_avg_pool_forward", "global_avg_pool_backward",
    "relu_forward", "relu_backward", "leaky_relu_forward", "leaky_relu_backward",
    "sigmoid_forward", "sigmoid_backward", "tanh_forward", "tanh_backward",
    "batchnorm_forward", "batchnorm_backward", "channel_shuffle_forward", "channel_shuffle_backward",
    "Layer", "Conv1x1", "Conv2d", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "MaxPool2d", "AvgPool2d", "GlobalAvgPool2d",
    "Sequential",
    "Concat", "Residual", "Inception", "BatchNorm2d", "ChannelShuffle", "DepthwiseSeparable", "Bottleneck", "Fire",
    "ShuffleUnit",
    "softmax_cross_entropy", "SGD", "save", "load", "to_torch", "from_torch",
    "checkpoint", "cost", "data", "exercises", "fast", "functional", "gradcheck", "models", "optim", "reference",
    "report", "timing", "train",
]
