"""Networks and the blocks they are built from, to see where the 1x1 convolution does the work.

``blocks`` holds the repeated units (MobileNet's depthwise-separable pair,
ResNet's bottleneck, SqueezeNet's Fire module, ShuffleNet's unit),
``inception`` GoogLeNet's Inception module, ``modern`` today's blocks (MobileNetV2's
inverted residual, squeeze-and-excitation, EfficientNet's MBConv, ConvNeXt's block),
``inception_v3`` Inception v3's modules, and ``zoo`` the whole networks:
``mobilenet_v1``, ``resnet50``, ``squeezenet1_0``, ``shufflenet_v1``, ``googlenet``,
``mobilenet_v2``, ``efficientnet_b0``, ``convnext_tiny``, ``inception_v3`` and the
examples' small ``nin``, each a ``Network`` whose ``cost`` reproduces its paper's
table (or torchvision's definition, for today's networks) without allocating weights.
``MODELS`` maps each registered name to its builder.
"""

from .blocks import Bottleneck, DepthwiseSeparable, Fire, ShuffleUnit
from .inception import Inception
from .inception_v3 import AuxiliaryClassifier
from .modern import ConvNeXtBlock, InvertedResidual, MBConv, SqueezeExcite
from .zoo import (
    MODELS,
    Network,
    convnext_tiny,
    efficientnet_b0,
    googlenet,
    inception_v3,
    mobilenet_v1,
    mobilenet_v2,
    nin,
    resnet50,
    shufflenet_v1,
    squeezenet1_0,
)

__all__ = ["Network", "mobilenet_v1", "resnet50", "squeezenet1_0", "shufflenet_v1", "googlenet", "mobilenet_v2",
           "efficientnet_b0", "convnext_tiny", "nin", "inception_v3", "MODELS",
           "Bottleneck", "DepthwiseSeparable", "Fire", "ShuffleUnit", "Inception", "SqueezeExcite", "InvertedResidual",
           "MBConv", "ConvNeXtBlock", "AuxiliaryClassifier"]
