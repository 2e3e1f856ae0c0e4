"""The stateless layer functions: each forward returns ``(out, cache)``, each backward takes ``(dout, cache)``.

One module per family, as CS231n's ``layers.py`` pairs them: ``pointwise`` (the
1x1 convolution), ``conv2d`` (K x K, grouped and depthwise), ``pooling`` (max,
average, global average), ``normalization`` (batch norm, layer norm over channels),
``activations`` (ReLU, leaky ReLU, sigmoid, tanh, ReLU6, GELU, SiLU), ``shuffle``
(ShuffleNet's channel shuffle), ``linear`` (the fully connected layer and flatten),
``dropout`` (dropout and stochastic depth) and ``gate`` (squeeze-and-excitation's
channel gate).
The layers of ``conv1x1.layers`` call these functions through this module,
once per forward and once per backward; ``conv1x1.fast.enabled()`` swaps them
for the engine room's versions for a while.
"""

from .activations import (
                          gelu_backward,
                          gelu_forward,
                          leaky_relu_backward,
                          leaky_relu_forward,
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
from .conv2d import conv2d_backward, conv2d_forward
from .dropout import drop_path_backward, drop_path_forward, dropout_backward, dropout_forward
from .gate import channel_gate_backward, channel_gate_forward
from .linear import flatten_backward, flatten_forward, linear_backward, linear_forward
from .normalization import batchnorm_backward, batchnorm_forward, layernorm2d_backward, layernorm2d_forward
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
    "linear_forward", "linear_backward", "flatten_forward", "flatten_backward",
    "layernorm2d_forward", "layernorm2d_backward", "relu6_forward", "relu6_backward",
    "gelu_forward", "gelu_backward", "silu_forward", "silu_backward",
    "dropout_forward", "dropout_backward", "drop_path_forward", "drop_path_backward",
    "channel_gate_forward", "channel_gate_backward",
]
