"""Layer objects: the functions of the library with their state kept for you.

The contract every layer follows (and a layer of your own too; see docs/gradients.md,
"Writing your own layer"):

- ``forward(x) -> out`` keeps what backward needs in ``self.cache``;
  ``layer(x)`` is ``forward``.
- ``backward(dout) -> dx`` fills ``self.grads`` **in place** (``store_grads``),
  overwriting the last gradients: it does not accumulate, so there is no ``zero_grad``.
- ``params``: a dict of the live parameter arrays (``{}`` for activations);
  ``grads``: a dict with the same keys. ``parameters()`` yields ``(param, grad)``
  pairs, the one way a training loop reaches every parameter:
  ``param -= lr * grad`` is one SGD step.
- ``buffers``: state that is saved but not trained (batch norm's running statistics).
- ``train()`` / ``eval()`` set ``training`` (they return the layer); only layers
  that behave differently at evaluation, such as batch norm, look at it.
- ``cost(height, width)`` prices the layer for one image (``conv1x1.cost``),
  from ``cost_node(in_shape, name)``.

Weights are drawn on first use (the first look at ``params``), not when a
layer is built, so a large network can be built and priced without the memory
for its weights. Each layer takes its own seed from ``rng`` when it is built,
so the weights do not depend on the order in which they are first used.
Containers (``Sequential``, ``Concat``, ``Residual``) live in ``conv1x1.containers``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from . import functional as F
from ._checks import (
    DEPTHWISE_HINT,
    FloatArray,
    Pair,
    as_pair,
    check_flag,
    check_float_array,
    check_float_dtype,
    check_grad_shape,
    check_groups,
    check_image_batch,
    check_in_channels,
    check_padding,
    check_pair,
    check_positive_int,
    check_real,
    check_rng,
    compact,
)
from .cost.formulas import (
    LayerCost,
    batchnorm_cost,
    channel_scale_cost,
    conv_cost,
    elementwise_cost,
    flatten_cost,
    global_pool_cost,
    identity_cost,
    layernorm_cost,
    linear_cost,
    pool_cost,
)
from .cost.report import Report
from .functional.dropout import check_drop_probability

__all__ = ["Layer", "Conv1x1", "Conv2d", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "MaxPool2d", "AvgPool2d",
           "GlobalAvgPool2d", "BatchNorm2d", "ChannelShuffle", "Linear", "Flatten", "LayerNorm2d", "ReLU6", "GELU",
           "SiLU", "Dropout", "DropPath", "LayerScale"]

Params = dict[str, FloatArray]
Shape3 = tuple[Any, int, int]
"""A (C, H, W) input shape for a cost query; C is None where a layer keeps whatever depth it gets."""


class Layer:
    """Base class of the contract above: subclasses define ``forward``, ``backward`` and, with parameters,
    ``init_params`` (called on first use)."""

    def __init__(self) -> None:
        self._params: Params | None = None   # drawn by init_params() on first use
        self._grads: Params | None = None
        self._buffers: Params = {}
        self.cache: Any = None
        self.training = True

    @property
    def params(self) -> Params:
        """Parameter arrays by name (live: updating them in place changes the layer)."""
        if self._params is None:
            self._params = self.init_params()
        return self._params

    @params.setter
    def params(self, value: Params) -> None:
        self._params, self._grads = dict(value), None

    @property
    def grads(self) -> Params:
        """One gradient per parameter, same names and shapes, filled by ``backward``."""
        if self._grads is None:
            self._grads = {name: np.zeros_like(p) for name, p in self.params.items()}
        return self._grads

    @grads.setter
    def grads(self, value: Params) -> None:
        self._grads = dict(value)

    @property
    def buffers(self) -> Params:
        """State that is saved but not trained, by name (batch norm's running statistics)."""
        return self._buffers

    @buffers.setter
    def buffers(self, value: Params) -> None:
        self._buffers = value

    def init_params(self) -> Params:
        """The initial parameters (drawn on first use). Layers without parameters return ``{}``."""
        return {}

    def parameters(self) -> Iterator[tuple[FloatArray, FloatArray]]:
        """Yield ``(param, grad)`` pairs of live arrays, e.g. for an SGD step::

            for p, g in model.parameters():
                p -= lr * g
        """
        grads = self.grads
        for name, param in self.params.items():
            yield param, grads[name]

    def store_grads(self, **grads: ArrayLike) -> None:
        """Write fresh gradients into ``self.grads`` in place (an optimiser's references stay live), shapes checked."""
        for name, value in grads.items():
            check_grad_shape(self, name, value, self.grads[name].shape)
            self.grads[name][...] = value

    def forward(self, x: ArrayLike) -> FloatArray:
        raise NotImplementedError(f"{type(self).__name__} must define forward(self, x)")

    def backward(self, dout: ArrayLike) -> FloatArray:
        raise NotImplementedError(f"{type(self).__name__} must define backward(self, dout)")

    def __call__(self, x: ArrayLike) -> FloatArray:
        return self.forward(x)

    def require_cache(self) -> Any:
        """``self.cache``, or a RuntimeError explaining the order of calls if forward has not run."""
        if self.cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward was called before forward: forward must run "
                               "first (call layer.forward(x), then layer.backward(dout)).")
        return self.cache

    # -- modes
    @property
    def children(self) -> tuple[Layer, ...]:
        """The sub-layers (none for a leaf layer)."""
        return ()

    def train(self, mode: bool = True) -> Layer:
        """Set training mode (``mode=False``: evaluation) on this layer and every sub-layer; return self."""
        mode = check_flag(mode, "mode")
        self.training = mode
        for child in self.children:
            child.train(mode)
        return self

    def eval(self) -> Layer:
        """Set evaluation mode (batch norm uses its running statistics); return self."""
        return self.train(False)

    # -- cost
    def cost(self, height: int, width: int, in_channels: int | None = None) -> Report:
        """Parameters, MACs and output sizes for one (in_channels, height, width) image.

        Layers that fix their input depth (convolutions, blocks) know ``in_channels``
        and use their own when none is given; element-wise layers keep whatever depth
        they get, so pass it to count their activations (it shows as "?" otherwise).
        See ``conv1x1.cost``.
        """
        height, width = check_positive_int(height, "height"), check_positive_int(width, "width")
        if in_channels is None:
            in_channels = getattr(self, "in_channels", None)
        if in_channels is not None:
            in_channels = check_positive_int(in_channels, "in_channels")
        node = self.cost_node((in_channels, height, width), None)
        title = repr(self) if "\n" not in repr(self) else type(self).__name__
        return node if isinstance(node, Report) else Report([node], title=title)

    def cost_node(self, in_shape: Shape3, name: str | None) -> LayerCost | Report:
        """This layer's cost on a (C, H, W) input: a ``LayerCost`` row (a ``Report`` for containers)."""
        raise NotImplementedError(
            f"{type(self).__name__} has no cost: define cost_node(self, in_shape, name) returning a "
            "conv1x1.cost.LayerCost, e.g. conv1x1.cost.elementwise_cost('mine', *in_shape, name=name) "
            "for a shape-keeping layer without parameters or MACs.")


def input_error(layer: Layer, x: ArrayLike, channels: int, error: ValueError) -> Exception:
    """The error a layer raises when its function refused an input: in the layer's own words when x is the culprit."""
    try:
        check_image_batch(x, channels, owner=repr(layer))
    except (ValueError, TypeError) as own:
        return own
    return ValueError(f"{layer!r}: {error}")


class _Conv(Layer):
    """What Conv1x1 and Conv2d share: sizes, groups, a He-normal weight drawn on first use, a zero bias."""

    def __init__(self, in_channels: int, out_channels: int, bias: bool, rng: np.random.Generator | int | None,
                 dtype: DTypeLike, groups: int) -> None:
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.out_channels = check_positive_int(out_channels, "out_channels")
        self.groups = check_groups(groups, self.in_channels, self.out_channels, hint=DEPTHWISE_HINT)
        self.bias = check_flag(bias, "bias")
        self.dtype = check_float_dtype(dtype)
        self.seed = int(check_rng(rng).integers(2**63 - 1))  # this layer's own seed, for init_params

    def weight_shape(self) -> tuple[int, ...]:
        raise NotImplementedError

    def init_params(self) -> Params:
        """He initialisation (He et al. 2015, arXiv:1502.01852): ``w ~ normal(0, sqrt(2 / fan_in))`` with
        ``fan_in = C_in / groups * KH * KW``, which keeps signals their size through ReLU layers; ``b = 0``."""
        shape = self.weight_shape()
        fan_in = int(np.prod(shape[1:]))
        try:
            w = np.random.default_rng(self.seed).standard_normal(shape) * np.sqrt(2.0 / fan_in)
        except (MemoryError, ValueError) as error:  # numpy: "array is too big", "Maximum allowed dimension"
            raise ValueError(f"the weights of {self!r} do not fit in memory: shape {shape}, out_channels x in_channels "
                             f"x KH x KW = {int(np.prod(shape, dtype=object)):,} numbers ({error})") from None
        params = {"w": w.astype(self.dtype)}
        if self.bias:
            params["b"] = np.zeros(self.out_channels, dtype=self.dtype)
        return params


class Conv1x1(_Conv):
    """A 1x1 convolution layer: at each pixel (i, j), ``out[n, :, i, j] = w @ x[n, :, i, j] + b`` (``conv1x1_forward``).

    With ``stride = s`` it sees every s-th row and column: H_out = ceil(H / s), W_out = ceil(W / s).

    Parameters
    ----------
    in_channels, out_channels : int
        C_in, the input's depth, and C_out, the number of filters.
    bias : bool, default True
    rng : numpy.random.Generator, int or None
        Seeds the He-normal weights w, shape (C_out, C_in // groups); b, shape (C_out,), starts at 0.
    dtype : float16, float32 or float64, default float64
    groups, stride : int, default 1

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> C.Conv1x1(192, 32, rng=0).forward(np.ones((1, 192, 28, 28))).shape
    (1, 32, 28, 28)
    """

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True,
                 rng: np.random.Generator | int | None = None, dtype: DTypeLike = np.float64, groups: int = 1,
                 stride: int = 1) -> None:
        super().__init__(in_channels, out_channels, bias, rng, dtype, groups)
        self.stride = check_positive_int(stride, "stride")
        self.kernel_size, self.padding = 1, 0

    def weight_shape(self) -> tuple[int, ...]:
        return (self.out_channels, self.in_channels // self.groups)

    def forward(self, x: ArrayLike) -> FloatArray:
        """x: (N, C_in, H, W) -> out: (N, C_out, H_out, W_out)."""
        x = check_image_batch(x, self.in_channels, owner=repr(self))    # a wrong x, in the layer's own words
        out, self.cache = F.conv1x1_forward(x, self.params["w"], self.params.get("b"), self.groups, self.stride)
        return out

    def backward(self, dout: ArrayLike) -> FloatArray:
        """dout: (N, C_out, H_out, W_out) -> dx: (N, C_in, H, W); fills grads["w"] (and grads["b"])."""
        dx, dw, db = F.conv1x1_backward(dout, self.require_cache())
        grads = {"w": dw} if db is None else {"w": dw, "b": db}
        self.store_grads(**grads)
        return dx

    def __repr__(self) -> str:
        groups = f", groups={self.groups}" if self.groups > 1 else ""
        stride = f", stride={self.stride}" if self.stride > 1 else ""
        return f"Conv1x1({self.in_channels}, {self.out_channels}{groups}{stride}, bias={self.bias})"

    def cost_node(self, in_shape: Shape3, name: str | None) -> LayerCost:
        check_in_channels(self, in_shape[0], self.in_channels)
        return conv_cost(self.in_channels, self.out_channels, in_shape[1], in_shape[2], 1, self.stride, 0,
                         self.bias, name=name or type(self).__name__, groups=self.groups)


class Conv2d(_Conv):
    """A convolution layer with KH x KW kernels, grouped or depthwise; see ``conv2d_forward``.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (int, int)
        K for K x K kernels, or (KH, KW).
    stride : int or (int, int), default 1
    padding : int, (int, int) or "same", default 0
        ``"same"`` keeps H and W: stride 1 and an odd kernel along each axis.
    groups : int, default 1
        Must divide C_in and C_out; ``groups = in_channels`` is a depthwise convolution.
    bias : bool, default True
    rng : numpy.random.Generator, int or None
        Seeds the He-normal weights, std = sqrt(2 / (C_in / groups * KH * KW)).
    dtype : float16, float32 or float64, default float64

    ``params`` is ``{"w": (C_out, C_in // groups, KH, KW), "b": (C_out,)}``; ``grads`` alike.
    ``kernel_size``, ``stride`` and ``padding`` are kept as ints when square, else as (along H, along W).

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> layer = C.Conv2d(16, 32, 5, padding="same")
    >>> layer
    Conv2d(16, 32, kernel_size=5, stride=1, padding=2, bias=True)
    >>> layer.forward(np.zeros((1, 16, 28, 28))).shape
    (1, 32, 28, 28)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Pair, stride: int | Pair = 1,
                 padding: int | Pair | str = 0, groups: int = 1, bias: bool = True,
                 rng: np.random.Generator | int | None = None, dtype: DTypeLike = np.float64) -> None:
        super().__init__(in_channels, out_channels, bias, rng, dtype, groups)
        kernel, strides = check_pair(kernel_size, "kernel_size"), check_pair(stride, "stride")
        self.kernel_size: int | Pair = compact(kernel)
        self.stride: int | Pair = compact(strides)
        self.padding: int | Pair = compact(check_padding(padding, kernel, strides))

    def weight_shape(self) -> tuple[int, ...]:
        return (self.out_channels, self.in_channels // self.groups, *as_pair(self.kernel_size))

    def forward(self, x: ArrayLike) -> FloatArray:
        """x: (N, C_in, H, W) -> out: (N, C_out, out_H, out_W)."""
        params = self.params
        try:
            out, self.cache = F.conv2d_forward(x, params["w"], params.get("b"), self.stride, self.padding,
                                               self.groups)
        except ValueError as error:
            raise input_error(self, x, self.in_channels, error) from None
        return out

    def backward(self, dout: ArrayLike) -> FloatArray:
        """dout: (N, C_out, out_H, out_W) -> dx: (N, C_in, H, W); fills grads["w"] (and grads["b"])."""
        dx, dw, db = F.conv2d_backward(dout, self.require_cache())
        self.store_grads(w=dw, **({} if db is None else {"b": db}))
        return dx

    def __repr__(self) -> str:
        groups = f", groups={self.groups}" if self.groups > 1 else ""
        return (f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}{groups}, bias={self.bias})")

    def cost_node(self, in_shape: Shape3, name: str | None) -> LayerCost:
        check_in_channels(self, in_shape[0], self.in_channels)
        return conv_cost(self.in_channels, self.out_channels, in_shape[1], in_shape[2], self.kernel_size,
                         self.stride, self.padding, self.bias, name=name or type(self).__name__, groups=self.groups)


class _Activation(Layer):
    """An element-wise layer: no parameters, the output has the input's shape."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def cost_node(self, in_shape: Shape3, name: str | None) -> LayerCost:
        kind = type(self).__name__.lower()
        return elementwise_cost(kind, *in_shape, name=name or type(self).__name__)


class ReLU(_Activation):
    """``out = max(x, 0)``; see ``relu_forward``."""

    def forward(self, x: ArrayLike) -> FloatArray:
        """x: any shape -> out: same shape."""
        out, self.cache = F.relu_forward(x)
        return out

    def backward(self, dout: ArrayLike) -> FloatArray:
        """dout: shape of out -> dx: dout where x > 0, else 0."""
        return F.relu_backward(dout, self.require_cache())


class Sigmoid(_Activation):
    """``out = 1 / (1 + exp(-x))``, overflow-free; see ``sigmoid_forward``."""

    def forward(self, x: ArrayLike) -> FloatArray:
        """x: any shape -> out: same shape, in (0, 1)."""
        out, self.cache = F.sigmoid_forward(x)
        return out

    def backward(self, dout: ArrayLike) -> FloatArray:
        """dout: shape of out -> dx = dout * out * (1 - out)."""
        return F.sigmoid_backward(dout, self.require_cache())


class Tanh(_Activation):
    """``out = tanh(x)``; see ``tanh_forward``."""

    def forward(self, x: ArrayLike) -> FloatArray:
        """x: any shape -> out: same shape, in (-1, 1)."""
        out, self.cache = F.tanh_forward(x)
        return out

    def backward(self, dout: ArrayLike) -> FloatArray:
        """dout: shape of out -> dx = dout * (1 - out**2)."""
        return F.tanh_backward(dout, self.require_cache())


class LeakyReLU(_Activation):
    """``out = x`` for x > 0, ``negative_slope * x`` otherwise; see ``leaky_relu_forward``."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = check_real(negative_slope, "negative_slope")

    def forward(self, x: ArrayLike) -> FloatArray:
        """x: any shape -> out: same shape."""
        out, self.cache = F.leaky_relu_forward(x, self.negative_slope)
        return out

    def backward(self, dout: ArrayLike) -> FloatArray:
        """dout: shape of out -> dx: dout where x > 0, negative_slope * dout elsewhere."""
        return F.leaky_relu_backward(dout, self.require_cache())

    def __repr__(self) -> str:
        return f"LeakyReLU(negative_slope={self.negative_slope})"


class _Pool2d(Layer):
    """What max and average pooling share: a KH x KW window, its stride (default the window) and padding."""

    def __init__(self, kernel_size: int | Pair, stride: int | Pair | None = None, padding: int | Pair = 0) -> None:
        super().__init__()
        kernel = check_pair(kernel_size, "kernel_size")
        strides = kernel if stride is None else check_pair(stride, "stride")
        # An int for a square setting, else (along H, along W), as the user wrote it.
        self.kernel_size: int | Pair = compact(kernel)
        self.stride: int | Pair = compact(strides)
        self.padding: int | Pair = compact(check_padding(padding, kernel, strides, pool=True))

    def _settings(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Max pooling layer, the maximum of every KH x KW window; see ``maxpool2d_forward``. No parameters.

    Parameters
    ----------
    kernel_size : int or (int, int)
        K for K x K windows, or (KH, KW).
    stride : int or (int, int), optional
        Defaults to ``kernel_size``, as in PyTorch.
    padding : int or (int, int), default 0
        At most ``kernel_size // 2`` along each axis; padding never wins the max.
    ceil_mode : bool, default False
        Round the output size up (PyTorch's rule), as GoogLeNet and SqueezeNet do.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> C.MaxPool2d(3, stride=1, padding=1).forward(np.zeros((1, 192, 28, 28))).shape
    (1, 192, 28, 28)
    """

    def __init__(self, kernel_size: int | Pair, stride: int | Pair | None = None, padding: int | Pair = 0,
                 ceil_mode: bool = False) -> None:
        super().__init__(kernel_size, stride, padding)
        self.ceil_mode = check_flag(ceil_mode, "ceil_mode")

    def __repr__(self) -> str:
        return f"MaxPool2d({self._settings()}{', ceil_mode=True' if self.ceil_mode else ''})"

    def forward(self, x: ArrayLike) -> FloatArray:
        """x: (N, C, H, W) -> out: (N, C, out_H, out_W)."""
        out, self.cache = F.maxpool2d_forward(x, self.kernel_size, self.stride, self.padding, self.ceil_mode)
        return out

    def backward(self, dout: ArrayLike) -> FloatArray:
        """dout: (N, C, out_H, out_W) -> dx: (N, C, H, W), each window's gradient at its maximum."""
        return F.maxpool2d_backward(dout, self.require_cache())

    def cost_node(self, in_shape: Shape3, name: str | None) -> LayerCost:
        return pool_cost(*in_shape, self.kernel_size, self.stride, self.padding, name=name or "MaxPool2d",
                         ceil_mode=self.ceil_mode)


class AvgPool2d(_Pool2d):
    """Average pooling layer, the mean of every KH x KW window with padding counted as zeros (PyTorch's
    ``count_include_pad=True``); see ``avgpool2d_forward``. No parameters, no ``ceil_mode``.

    Parameters
    ----------
    kernel_size : int or (int, int)
        K for K x K windows, or (KH, KW).
    stride : int or (int, int), optional
        Defaults to ``kernel_size``, as in PyTorch.
    padding : int or (int, int), default 0
        At most ``kernel_size // 2`` along each axis.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> C.AvgPool2d(3, stride=2, padding=1).forward(np.zeros((1, 24, 56, 56))).shape   # ShuffleNet's shortcut
    (1, 24, 28, 28)
    """

    def __repr__(self) -> str:
        return f"AvgPool2d({self._settings()})"

    def forward(self, x: ArrayLike) -> FloatArray:
        """x: (N, C, H, W) -> out: (N, C, out_H, out_W)."""
        out, self.cache = F.avgpool2d_forward(x, self.kernel_size, self.stride, self.padding)
        return out

    def backward(self, dout: ArrayLike) -> FloatArray:
        """dout: (N, C, out_H, out_W) -> dx: (N, C, H, W), each window's gradient shared by its KH*KW places."""
        return F.avgpool2d_backward(dout, self.require_cache())

    def cost_node(self, in_shape: Shape3, name: str | None) -> LayerCost:
        return pool_cost(*in_shape, self.kernel_size, self.stride, self.padding, name=name or "AvgPool2d",
                         kind="avgpool")


class GlobalAvgPool2d(Layer):
    """Global average pooling layer, (N, C, H, W) -> (N, C, 1, 1); see ``global_avg_pool_forward``.

    After a 1x1 convolution to K channels its output is one score per class
    (Network in Network's classifier, with no fully connected layer).

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> head = C.Sequential(C.Conv1x1(32, 10), C.GlobalAvgPool2d())
    >>> head.forward(np.zeros((4, 32, 8, 8))).shape
    (4, 10, 1, 1)
    """

    def __repr__(self) -> str:
        return "GlobalAvgPool2d()"

    def forward(self, x: ArrayLike) -> FloatArray:
        """x: (N, C, H, W) -> out: (N, C, 1, 1)."""
        out, self.cache = F.global_avg_pool_forward(x)
        return out

    def backward(self, dout: ArrayLike) -> FloatArray:
        """dout: (N, C, 1, 1) -> dx: (N, C, H, W)."""
        return F.global_avg_pool_backward(dout, self.require_cache())

    def cost_node(self, in_shape: Shape3, name: str | None) -> LayerCost:
        return global_pool_cost(*in_shape, name=name or "GlobalAvgPool2d")


class BatchNorm2d(Layer):
    """Batch norm over the channels of (N, C, H, W) batches, ``out = gamma * x_hat + beta``; see
    ``batchnorm_forward``.

    In training mode (the default) it normalises with the batch's statistics and
    updates its running estimates, PyTorch's rule (m = N*H*W)::

        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var  = (1 - momentum) * running_var  + momentum * var * m / (m - 1)

    After ``layer.eval()`` it normalises with the running estimates and leaves them alone.

    Parameters
    ----------
    num_features : int
        C, the number of channels.
    eps : float, default 1e-5
    momentum : float, default 0.1
        Weight of the newest batch in the running estimates.
    dtype : float16, float32 or float64, default float64

    ``params`` is ``{"gamma": (C,), "beta": (C,)}`` (1 and 0 at first, trained); ``buffers`` is
    ``{"running_mean": (C,), "running_var": (C,)}`` (0 and 1 at first, saved, not trained).

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> bn = C.BatchNorm2d(3)
    >>> out = bn.forward(np.random.default_rng(0).standard_normal((4, 3, 5, 5)) * 2 + 7)
    >>> bool(abs(out.mean()) < 1e-12), sorted(bn.params), sorted(bn.buffers)
    (True, ['beta', 'gamma'], ['running_mean', 'running_var'])
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 dtype: DTypeLike = np.float64) -> None:
        super().__init__()
        self.num_features = check_positive_int(num_features, "num_features")
        self.eps = check_real(eps, "eps", minimum=0.0)
        self.momentum = check_unit_interval(momentum, "momentum", "the newest batch's weight")
        self.dtype = check_float_dtype(dtype)
        self.buffers = {"running_mean": np.zeros(self.num_features, dtype=self.dtype),
                        "running_var": np.ones(self.num_features, dtype=self.dtype)}

    @property
    def running_mean(self) -> FloatArray:
        return self.buffers["running_mean"]

    @property
    def running_var(self) -> FloatArray:
        return self.buffers["running_var"]

    def init_params(self) -> Params:
        return {"gamma": np.ones(self.num_features, dtype=self.dtype),
                "beta": np.zeros(self.num_features, dtype=self.dtype)}

    def __repr__(self) -> str:
        return f"BatchNorm2d({self.num_features}, eps={self.eps}, momentum={self.momentum})"

    def forward(self, x: ArrayLike) -> FloatArray:
        """x: (N, C, H, W) -> out: (N, C, H, W)."""
        params = self.params
        running = (self.running_mean, self.running_var) if not self.training else (None, None)
        try:
            out, self.cache = F.batchnorm_forward(x, params["gamma"], params["beta"], self.eps, *running)
        except ValueError as error:
            raise input_error(self, x, self.num_features, error) from None
        if not self.training:
            return out
        n, _, height, width = out.shape
        m = n * height * width
        self.running_mean[...] = (1 - self.momentum) * self.running_mean + self.momentum * self.cache.mean
        self.running_var[...] = (1 - self.momentum) * self.running_var + self.momentum * self.cache.var * m / (m - 1)
        return out

    def backward(self, dout: ArrayLike) -> FloatArray:
        """dout: (N, C, H, W) -> dx: (N, C, H, W); fills grads["gamma"], grads["beta"]."""
        dx, dgamma, dbeta = F.batchnorm_backward(dout, self.require_cache())
        self.store_grads(gamma=dgamma, beta=dbeta)
        return dx

    def cost_node(self, in_shape: Shape3, name: str | None) -> LayerCost:
        check_in_channels(self, in_shape[0], self.num_features)
        return batchnorm_cost(self.num_features, in_shape[1], in_shape[2], name=name or "BatchNorm2d")


class ChannelShuffle(Layer):
    """ShuffleNet's channel shuffle: interleave G channel groups; see ``channel_shuffle_forward``. No parameters.

    Parameters
    ----------
    groups : int

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> C.ChannelShuffle(3).forward(np.arange(6.0).reshape(1, 6, 1, 1)).ravel()
    array([0., 2., 4., 1., 3., 5.])
    """

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = check_positive_int(groups, "groups")

    def __repr__(self) -> str:
        return f"ChannelShuffle({self.groups})"

    def forward(self, x: ArrayLike) -> FloatArray:
        """x: (N, C, H, W) -> out: (N, C, H, W), channels interleaved."""
        out, self.cache = F.channel_shuffle_forward(x, self.groups)
        return out

    def backward(self, dout: ArrayLike) -> FloatArray:
        """dout: (N, C, H, W) -> dx: (N, C, H, W), the inverse permutation."""
        return F.channel_shuffle_backward(dout, self.require_cache())

    def cost_node(self, in_shape: Shape3, name: str | None) -> LayerCost:
        if in_shape[0] is not None:
            check_groups(self.groups, in_shape[0])
        return elementwise_cost("channel shuffle", *in_shape, name=name or repr(self))


# ---------------------------------------------------------------- checks that belong here

def check_unit_interval(value: float, name: str, meaning: str) -> float:
    """Return ``value`` as a float if it is a real number in [0, 1] (``meaning`` says what it weighs)."""
    value = check_real(value, name, minimum=0.0)
    if value > 1:
        raise ValueError(f"{name} must be between 0 and 1 ({meaning}), got {value}")
    return value




# ---------------------------------------------------------------- the pieces of today's networks

class Linear(_Conv):
    """A fully connected layer on (N, F) rows: ``out = x @ w.T + b``; see ``linear_forward``.

    The 1x1 convolution's other name: ``Conv1x1(F, O)`` on an (N, F, 1, 1) map computes
    the same numbers with the same (O, F) weight, and both cost F·O MACs per example.

    Parameters
    ----------
    in_features, out_features : int
    bias : bool, default True
    rng : numpy.random.Generator, int or None
        He-normal initial weights, std = sqrt(2 / in_features).
    dtype : float16, float32 or float64, default float64

    Attributes
    ----------
    params, grads : dict
        ``{"w": (out_features, in_features), "b": (out_features,)}``, PyTorch's ``nn.Linear`` layout.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> C.Linear(512, 10).forward(np.zeros((4, 512))).shape
    (4, 10)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 rng: np.random.Generator | int | None = None, dtype: DTypeLike = np.float64) -> None:
        super().__init__(in_features, out_features, bias, rng, dtype, 1)

    @property
    def in_features(self) -> int:
        return self.in_channels

    @property
    def out_features(self) -> int:
        return self.out_channels

    def weight_shape(self) -> tuple[int, ...]:
        return (self.out_channels, self.in_channels)

    def forward(self, x: ArrayLike) -> FloatArray:
        """x: (N, in_features) -> out: (N, out_features)."""
        params = self.params
        try:
            out, self.cache = F.linear_forward(x, params["w"], params.get("b"))
        except ValueError as error:
            raise ValueError(f"{self!r}: {error}") from None
        return out

    def backward(self, dout: ArrayLike) -> FloatArray:
        """dout: (N, out_features) -> dx: (N, in_features); fills grads["w"] (and grads["b"])."""
        dx, dw, db = F.linear_backward(dout, self.require_cache())
        self.store_grads(w=dw, **({"b": db} if db is not None else {}))
        return dx

    def cost_node(self, in_shape: Shape3, name: str | None) -> LayerCost:
        """One example's F features arrive as (F, 1, 1), the shape ``Flatten`` gives."""
        if in_shape[0] is not None and tuple(in_shape) != (self.in_features, 1, 1):
            raise ValueError(f"{self!r} takes {self.in_features} features, as (F, 1, 1) after a Flatten, got an "
                             f"input of shape {tuple(in_shape)}")
        return linear_cost(self.in_features, self.out_features, self.bias, name=name or "Linear")

    def __repr__(self) -> str:
        return f"Linear({self.in_features}, {self.out_features}, bias={self.bias})"


class Flatten(Layer):
    """(N, C, H, W) -> (N, C*H*W), before a ``Linear``; see ``flatten_forward``. No parameters.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> head = C.Sequential(C.GlobalAvgPool2d(), C.Flatten(), C.Linear(32, 10))
    >>> head.forward(np.zeros((4, 32, 7, 7))).shape
    (4, 10)
    """

    def __repr__(self) -> str:
        return "Flatten()"

    def forward(self, x: ArrayLike) -> FloatArray:
        """x: (N, C, H, W) -> out: (N, C*H*W)."""
        out, self.cache = F.flatten_forward(x)
        return out

    def backward(self, dout: ArrayLike) -> FloatArray:
        """dout: (N, C*H*W) -> dx: (N, C, H, W)."""
        return F.flatten_backward(dout, self.require_cache())

    def cost_node(self, in_shape: Shape3, name: str | None) -> LayerCost:
        return flatten_cost(*in_shape, name=name or "Flatten")


class LayerNorm2d(Layer):
    """Layer norm over the channels of every pixel (ConvNeXt's); see ``layernorm2d_forward``.

    The same computation in training and at evaluation: no running statistics.

    Parameters
    ----------
    num_channels : int
    eps : float, default 1e-6
    dtype : float16, float32 or float64, default float64

    Attributes
    ----------
    params, grads : dict
        ``{"gamma": (C,), "beta": (C,)}``, starting at 1 and 0.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> out = C.LayerNorm2d(3).forward(np.random.default_rng(0).standard_normal((2, 3, 4, 4)) + 5)
    >>> bool(np.allclose(out.mean(axis=1), 0))        # every pixel's channels: mean 0
    True
    """

    def __init__(self, num_channels: int, eps: float = 1e-6, dtype: DTypeLike = np.float64) -> None:
        super().__init__()
        self.num_channels = check_positive_int(num_channels, "num_channels")
        self.eps = check_real(eps, "eps", minimum=0.0)
        self.dtype = check_float_dtype(dtype)

    def init_params(self) -> dict:
        return {"gamma": np.ones(self.num_channels, dtype=self.dtype),
                "beta": np.zeros(self.num_channels, dtype=self.dtype)}

    def __repr__(self) -> str:
        return f"LayerNorm2d({self.num_channels}, eps={self.eps})"

    def forward(self, x: ArrayLike) -> FloatArray:
        """x: (N, C, H, W) -> out: (N, C, H, W)."""
        params = self.params
        try:
            out, self.cache = F.layernorm2d_forward(x, params["gamma"], params["beta"], self.eps)
        except ValueError as error:
            raise input_error(self, x, self.num_channels, error) from None
        return out

    def backward(self, dout: ArrayLike) -> FloatArray:
        """dout: (N, C, H, W) -> dx: (N, C, H, W); fills grads["gamma"], grads["beta"]."""
        dx, dgamma, dbeta = F.layernorm2d_backward(dout, self.require_cache())
        self.store_grads(gamma=dgamma, beta=dbeta)
        return dx

    def cost_node(self, in_shape: Shape3, name: str | None) -> LayerCost:
        check_in_channels(self, in_shape[0], self.num_channels)
        return layernorm_cost(self.num_channels, in_shape[1], in_shape[2], name=name or "LayerNorm2d")


class ReLU6(_Activation):
    """``out = min(max(x, 0), 6)`` (MobileNetV2); see ``relu6_forward``."""

    def forward(self, x: ArrayLike) -> FloatArray:
        """x: any shape -> out: same shape, in [0, 6]."""
        out, self.cache = F.relu6_forward(x)
        return out

    def backward(self, dout: ArrayLike) -> FloatArray:
        """dout: shape of out -> dx: dout where 0 < x < 6, else 0."""
        return F.relu6_backward(dout, self.require_cache())


class GELU(_Activation):
    """``out = x * Phi(x)``, the exact (erf) form, PyTorch's default (ConvNeXt); see ``gelu_forward``."""

    def forward(self, x: ArrayLike) -> FloatArray:
        """x: any shape -> out: same shape."""
        out, self.cache = F.gelu_forward(x)
        return out

    def backward(self, dout: ArrayLike) -> FloatArray:
        """dout: shape of out -> dx = dout * (Phi(x) + x * phi(x))."""
        return F.gelu_backward(dout, self.require_cache())


class SiLU(_Activation):
    """``out = x * sigmoid(x)``, also called swish (EfficientNet); see ``silu_forward``."""

    def forward(self, x: ArrayLike) -> FloatArray:
        """x: any shape -> out: same shape."""
        out, self.cache = F.silu_forward(x)
        return out

    def backward(self, dout: ArrayLike) -> FloatArray:
        """dout: shape of out -> dx = dout * s * (1 + x * (1 - s)), s = sigmoid(x)."""
        return F.silu_backward(dout, self.require_cache())


class _Drop(Layer):
    """What Dropout and DropPath share: p, a Generator for the masks, and the identity at evaluation."""

    def __init__(self, p: float, rng: np.random.Generator | int | None) -> None:
        super().__init__()
        self.p = check_drop_probability(p)
        self.rng = np.random.default_rng(check_rng(rng).integers(2**63 - 1))   # its own stream of masks

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"

    def _masked(self, x: ArrayLike, forward: Callable[..., tuple[FloatArray, Any]]) -> FloatArray:
        if not self.training or self.p == 0:
            x = check_float_array(x, "x")
            self.cache = "identity"
            return x
        out, self.cache = forward(x, self.p, self.rng)
        return out

    def _unmasked(self, dout: ArrayLike, backward: Callable[..., FloatArray]) -> FloatArray:
        cache = self.require_cache()
        return check_float_array(dout, "dout") if isinstance(cache, str) else backward(dout, cache)

    def cost_node(self, in_shape: Shape3, name: str | None) -> LayerCost:
        return identity_cost(type(self).__name__.lower(), *in_shape, name=name or repr(self))


class Dropout(_Drop):
    """Dropout: in training each element is zeroed with probability p and the rest scaled by 1 / (1 - p);
    the identity after ``eval()``. See ``dropout_forward``. No parameters.

    Parameters
    ----------
    p : float in [0, 1], default 0.5
    rng : numpy.random.Generator, int or None
        The source of every mask this layer draws (a seed makes training repeatable).

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> layer = C.Dropout(0.5, rng=0)
    >>> sorted(set(layer.forward(np.ones(10)).tolist()))
    [0.0, 2.0]
    >>> layer.eval().forward(np.ones(3))
    array([1., 1., 1.])
    """

    def __init__(self, p: float = 0.5, rng: np.random.Generator | int | None = None) -> None:
        super().__init__(p, rng)

    def forward(self, x: ArrayLike) -> FloatArray:
        """x: any shape -> out: same shape."""
        return self._masked(x, F.dropout_forward)

    def backward(self, dout: ArrayLike) -> FloatArray:
        """dout: shape of out -> dx = dout * mask (dout itself at evaluation)."""
        return self._unmasked(dout, F.dropout_backward)


class DropPath(_Drop):
    """Stochastic depth: in training each image's x is zeroed with probability p, else scaled by 1 / (1 - p);
    the identity after ``eval()``. See ``drop_path_forward``. No parameters.

    At the end of a residual branch it makes a dropped image skip the block
    (EfficientNet's MBConv, ConvNeXt's block; torchvision's ``StochasticDepth(p, "row")``).

    Parameters
    ----------
    p : float in [0, 1]
    rng : numpy.random.Generator, int or None

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> out = C.DropPath(0.5, rng=1).forward(np.ones((6, 2, 3, 3)))
    >>> sorted(set(out.reshape(6, -1).max(axis=1).tolist()))   # whole images: dropped, or kept and doubled
    [0.0, 2.0]
    """

    def __init__(self, p: float, rng: np.random.Generator | int | None = None) -> None:
        super().__init__(p, rng)

    def forward(self, x: ArrayLike) -> FloatArray:
        """x: (N, ...) -> out: same shape."""
        return self._masked(x, F.drop_path_forward)

    def backward(self, dout: ArrayLike) -> FloatArray:
        """dout: shape of out -> dx = dout * each image's mask value (dout itself at evaluation)."""
        return self._unmasked(dout, F.drop_path_backward)


class LayerScale(Layer):
    """A learned scale per channel, ``out = x * gamma[c]`` (ConvNeXt's layer scale, ``gamma`` starting at 1e-6).

    The channel gate with the same gate for every image: ``channel_gate_forward(x, s)``
    with ``s[n] = gamma``, so ``dgamma`` is the gate's ``ds`` summed over the batch.

    Parameters
    ----------
    num_channels : int
    init : float, default 1e-6
        The starting value of every scale (small: a new block starts close to the identity shortcut).
    dtype : float16, float32 or float64, default float64

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> C.LayerScale(2, init=0.5).forward(np.ones((1, 2, 1, 1))).ravel()
    array([0.5, 0.5])
    """

    def __init__(self, num_channels: int, init: float = 1e-6, dtype: DTypeLike = np.float64) -> None:
        super().__init__()
        self.num_channels = check_positive_int(num_channels, "num_channels")
        self.init = check_real(init, "init")
        self.dtype = check_float_dtype(dtype)

    def init_params(self) -> dict:
        return {"gamma": np.full(self.num_channels, self.init, dtype=self.dtype)}

    def __repr__(self) -> str:
        return f"LayerScale({self.num_channels})"

    def forward(self, x: ArrayLike) -> FloatArray:
        """x: (N, C, H, W) -> out: (N, C, H, W)."""
        x = check_image_batch(x, self.num_channels, owner=repr(self))
        gamma = self.params["gamma"]
        out, self.cache = F.channel_gate_forward(x, np.broadcast_to(gamma, (x.shape[0], self.num_channels)))
        return out

    def backward(self, dout: ArrayLike) -> FloatArray:
        """dout: (N, C, H, W) -> dx: (N, C, H, W); fills grads["gamma"]."""
        dx, ds = F.channel_gate_backward(dout, self.require_cache())
        self.store_grads(gamma=ds.sum(axis=0))
        return dx

    def cost_node(self, in_shape: Shape3, name: str | None) -> LayerCost:
        check_in_channels(self, in_shape[0], self.num_channels)
        return channel_scale_cost("layer scale", self.num_channels, in_shape[1], in_shape[2],
                                  params=self.num_channels, name=name or "LayerScale")
