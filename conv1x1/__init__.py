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

Modules: ``conv1x1.gradcheck`` (numerical gradient checks),
``conv1x1.reference`` (slow, obvious implementations to learn from),
``conv1x1.fast`` (the engine room: the same functions, tuned),
``conv1x1.cost`` (parameters, MACs and FLOPs; 1 MAC = 2 FLOPs) with
``conv1x1.report`` (its tables) and ``conv1x1.timing`` (measurements),
``conv1x1.torch_bridge`` (``to_torch`` / ``from_torch``: the same network in PyTorch and back),
``conv1x1.models`` (MobileNet v1, ResNet-50, SqueezeNet 1.0, ShuffleNet v1 and GoogLeNet,
priced without allocating their weights).
"""

from . import checkpoint, cost, data, fast, gradcheck, optim, reference, report, timing, train
from .activations import (
    leaky_relu_backward,
    leaky_relu_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from .blocks import Bottleneck, DepthwiseSeparable, Fire, ShuffleUnit
from .checkpoint import load, save
from .containers import Concat, Residual, Sequential
from .conv2d import conv2d_backward, conv2d_forward
from .core import conv1x1, conv1x1_backward, conv1x1_forward
from .inception import Inception
from .layers import (AvgPool2d, BatchNorm2d, ChannelShuffle, Conv1x1, Conv2d, GlobalAvgPool2d, Layer, LeakyReLU,
                     MaxPool2d, ReLU, Sigmoid, Tanh)
from .losses import softmax_cross_entropy
from .normalization import batchnorm_backward, batchnorm_forward
from .optim import SGD
from .pooling import (avgpool2d_backward, avgpool2d_forward, global_avg_pool_backward, global_avg_pool_forward,
                      maxpool2d_backward, maxpool2d_forward)
from .shuffle import channel_shuffle_backward, channel_shuffle_forward
from . import models  # noqa: E402  (after the layers it builds on)
from .torch_bridge import from_torch, to_torch  # noqa: E402  (imports PyTorch only when called)

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
    "Concat", "Residual", "Inception", "BatchNorm2d", "ChannelShuffle", "DepthwiseSeparable", "Bottleneck", "Fire", "ShuffleUnit",
    "softmax_cross_entropy", "SGD", "save", "load", "to_torch", "from_torch",
    "checkpoint", "cost", "data", "fast", "gradcheck", "models", "optim", "reference", "report", "timing", "train",
]
