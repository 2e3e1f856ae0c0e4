"""The stateless layer functions: each forward returns ``(out, cache)``, each backward takes ``(dout, cache)``.

One module per family, as CS231n's ``layers.py`` pairs them: ``pointwise`` (the
1x1 convolution), ``conv2d`` (K x K, grouped and depthwise), ``pooling`` (max,
average, global average), ``normalization`` (batch norm), ``activations``
(ReLU, leaky ReLU, sigmoid, tanh) and ``shuffle`` (ShuffleNet's channel shuffle).
The layers of ``conv1x1.layers`` call these functions through this module,
once per forward and once per backward; ``conv1x1.fast.enabled()`` swaps them
for the engine room's versions for a while.
"""

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
from .conv2d import conv2d_backward, conv2d_forward
from .normalization import batchnorm_backward, batchnorm_forward
from .pointwise import conv1x1, conv1x1_backward, conv1x1_forward
from .pooling import (
                          avgpool2d_backward,
                          avgpool2d_forward,
                          global_avg_pool_backward,
                          global_avg_pool_forward,
                          maxpool2d_backward,
                          maxpool2d_forward,
)
from .shuffle import channel_shuffle_backward, channel_shuffle_forward

__all__ = [
    "conv1x1", "conv1x1_forward", "conv1x1_backward", "conv2d_forward", "conv2d_backward",
    "maxpool2d_forward", "maxpool2d_backward", "avgpool2d_forward", "avgpool2d_backward",
    "global_avg_pool_forward", "global_avg_pool_backward", "batchnorm_forward", "batchnorm_backward",
    "relu_forward", "relu_backward", "leaky_relu_forward", "leaky_relu_backward",
    "sigmoid_forward", "sigmoid_backward", "tanh_forward", "tanh_backward",
    "channel_shuffle_forward", "channel_shuffle_backward",
]
