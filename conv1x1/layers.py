"""Layer objects: the functions of the library with their state kept for you.

Every layer has

- ``.params``: a dict of the live parameter arrays (``{}`` for activations).
  Updating them in place changes the layer:
  ``layer.params["w"] -= lr * layer.grads["w"]`` is one SGD step;
- ``.grads``: a dict with the same keys, filled (in place) by ``backward``;
- ``.forward(x) -> out`` and ``.backward(dout) -> dx``; ``layer(x)`` is ``forward``;
- ``.parameters()``: yields ``(param, grad)`` pairs, the one way a training loop
  reaches every parameter, the same on every layer and container.

Containers (``Sequential``, ``Concat``, ``Inception``) name their parameters with dotted
paths, ``"0.w"``, ``"2.b"``, like PyTorch's ``state_dict``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from . import activations as act
from ._geometry import resolve_padding
from ._validation import check_dout, check_rng, positive_int
from .conv2d import conv2d_backward, conv2d_forward
from .core import conv1x1_backward, conv1x1_forward
from .cost import Report, concat_cost, conv_cost, elementwise_cost, pool_cost
from .pooling import maxpool2d_backward, maxpool2d_forward

__all__ = ["Layer", "Conv1x1", "Conv2d", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "MaxPool2d", "Sequential",
           "Concat", "Inception"]


class Layer:
    """Base class: the params / grads / forward / backward contract."""

    def __init__(self):
        self.params: dict = {}
        self.grads: dict = {}
        self._cache = None

    def forward(self, x):  # pragma: no cover - every layer overrides it
        raise NotImplementedError

    def backward(self, dout):  # pragma: no cover - every layer overrides it
        raise NotImplementedError

    def __call__(self, x):
        return self.forward(x)

    def parameters(self) -> Iterator[tuple]:
        """Yield ``(param, grad)`` pairs of live arrays, e.g. for an SGD step::

            for p, g in model.parameters():
                p -= lr * g
        """
        for name, param in self.params.items():
            yield param, self.grads[name]

    def zero_grad(self) -> None:
        """Set every gradient to zero (in place)."""
        for _, grad in self.parameters():
            grad[...] = 0

    def cost(self, height, width, in_channels=None) -> Report:
        """Parameters, MACs and output sizes for one (in_channels, height, width) image.

        Layers that fix their input depth (convolutions) know ``in_channels``;
        element-wise layers keep whatever depth they get, so pass it to count
        their activations (it shows as "?" otherwise). See ``conv1x1.cost``.
        """
        title = repr(self) if "\n" not in repr(self) else type(self).__name__
        return Report(self._cost_rows((in_channels, height, width), None), title=title)

    def _cost_rows(self, in_shape: tuple, name) -> list:  # pragma: no cover - every layer overrides it
        raise NotImplementedError

    def _require_cache(self):
        """The forward cache, or a RuntimeError explaining the order of calls."""
        if self._cache is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward was called before forward: forward must run first "
                "(call layer.forward(x), then layer.backward(dout))."
            )
        return self._cache

    def _store_grads(self, **grads) -> None:
        """Write fresh gradients into ``self.grads`` in place, so held references stay live."""
        for name, value in grads.items():
            self.grads[name][...] = value


def _he_normal(rng: np.random.Generator, shape: tuple, fan_in: int, dtype) -> np.ndarray:
    """He initialisation: normal with std = sqrt(2 / fan_in), suited to ReLU networks."""
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)


def _check_bias_flag(bias) -> bool:
    if not isinstance(bias, (bool, np.bool_)):
        raise TypeError(f"bias must be True or False, got {bias!r}")
    return bool(bias)


class Conv1x1(Layer):
    """A 1x1 convolution layer: ``out = einsum('oc,nchw->nohw', w, x) + b``.

    Parameters
    ----------
    in_channels : int
        C_in, the depth of the input.
    out_channels : int
        C_out, the number of filters: the depth of the output.
    bias : bool, default True
        Whether to learn a bias ``b`` of shape (C_out,). Without it there is no "b" key.
    rng : numpy.random.Generator, int or None
        Source of the He-normal initial weights (std = sqrt(2 / C_in)).
    dtype : float32 or float64, default float64

    Attributes
    ----------
    params : dict
        ``{"w": (C_out, C_in), "b": (C_out,)}``; ``b`` starts at zero.
    grads : dict
        Same keys and shapes, filled by ``backward``.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> layer = C.Conv1x1(192, 32, rng=np.random.default_rng(0))
    >>> layer
    Conv1x1(192, 32, bias=True)
    >>> layer.forward(np.ones((1, 192, 28, 28))).shape
    (1, 32, 28, 28)
    """

    def __init__(self, in_channels, out_channels, bias=True, rng=None, dtype=np.float64):
        super().__init__()
        _init_conv(self, in_channels, out_channels, 1, bias, rng, dtype)

    def __repr__(self):
        return f"Conv1x1({self.in_channels}, {self.out_channels}, bias={self.bias})"

    def _cost_rows(self, in_shape, name):
        _check_cost_channels(self, in_shape)
        return [conv_cost(self.in_channels, self.out_channels, in_shape[1], in_shape[2], 1,
                          bias=self.bias, name=name or "Conv1x1")]

    def forward(self, x):
        """x: (N, C_in, H, W) -> out: (N, C_out, H, W)."""
        _check_layer_channels(self, x, self.in_channels)
        out, self._cache = conv1x1_forward(x, self.params["w"], self.params.get("b"))
        return out

    def backward(self, dout):
        """dout: (N, C_out, H, W) -> dx: (N, C_in, H, W); fills ``grads``."""
        dx, dw, db = conv1x1_backward(dout, self._require_cache())
        self._store_grads(w=dw, **({"b": db} if self.bias else {}))
        return dx


class Conv2d(Layer):
    """A direct KxK convolution layer (im2col + matmul); see ``conv2d_forward``.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int
        K, for square K x K kernels.
    stride : int, default 1
    padding : int or "same", default 0
    bias : bool, default True
    rng : numpy.random.Generator, int or None
        He-normal initial weights, std = sqrt(2 / (C_in * K * K)).
    dtype : float32 or float64, default float64

    Attributes
    ----------
    params, grads : dict
        ``{"w": (C_out, C_in, K, K), "b": (C_out,)}``.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> layer = C.Conv2d(16, 32, 5, padding="same")
    >>> layer
    Conv2d(16, 32, kernel_size=5, stride=1, padding=2, bias=True)
    >>> layer.forward(np.zeros((1, 16, 28, 28))).shape
    (1, 32, 28, 28)
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, rng=None,
                 dtype=np.float64):
        super().__init__()
        self.kernel_size = positive_int(kernel_size, "kernel_size")
        self.stride = positive_int(stride, "stride")
        self.padding = resolve_padding(padding, self.kernel_size, self.stride)
        _init_conv(self, in_channels, out_channels, self.kernel_size, bias, rng, dtype)

    def __repr__(self):
        return (f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, bias={self.bias})")

    def forward(self, x):
        """x: (N, C_in, H, W) -> out: (N, C_out, out_H, out_W)."""
        _check_layer_channels(self, x, self.in_channels)
        out, self._cache = conv2d_forward(x, self.params["w"], self.params.get("b"), self.stride, self.padding)
        return out

    def backward(self, dout):
        """dout: (N, C_out, out_H, out_W) -> dx: (N, C_in, H, W); fills ``grads``."""
        dx, dw, db = conv2d_backward(dout, self._require_cache())
        self._store_grads(w=dw, **({"b": db} if self.bias else {}))
        return dx

    def _cost_rows(self, in_shape, name):
        _check_cost_channels(self, in_shape)
        return [conv_cost(self.in_channels, self.out_channels, in_shape[1], in_shape[2], self.kernel_size,
                          self.stride, self.padding, self.bias, name=name or "Conv2d")]


def _init_conv(layer, in_channels, out_channels, kernel_size, bias, rng, dtype) -> None:
    """Shared set-up of Conv1x1 and Conv2d: checked sizes, He-normal w, zero b, zero grads."""
    layer.in_channels = positive_int(in_channels, "in_channels")
    layer.out_channels = positive_int(out_channels, "out_channels")
    layer.bias = _check_bias_flag(bias)
    _check_float_dtype(dtype)
    shape = (layer.out_channels, layer.in_channels) + ((kernel_size, kernel_size) if kernel_size > 1 else ())
    fan_in = layer.in_channels * kernel_size * kernel_size
    layer.params["w"] = _he_normal(check_rng(rng), shape, fan_in, dtype)
    if layer.bias:
        layer.params["b"] = np.zeros(layer.out_channels, dtype=dtype)
    layer.grads = {name: np.zeros_like(p) for name, p in layer.params.items()}


def _check_float_dtype(dtype) -> None:
    try:
        is_float = np.issubdtype(np.dtype(dtype), np.floating)
    except TypeError:
        is_float = False
    if not is_float:
        raise TypeError(f"dtype must be a floating-point type such as np.float32 or np.float64, got {dtype!r}")


def _check_cost_channels(layer, in_shape) -> None:
    if in_shape[0] not in (None, layer.in_channels):
        raise ValueError(f"{layer!r} expects {layer.in_channels} input channels, got in_channels={in_shape[0]}")


def _check_layer_channels(layer: Layer, x, in_channels: int) -> None:
    """Name the layer when the input's depth does not match it."""
    shape = np.shape(x)
    if len(shape) == 4 and shape[1] != in_channels:
        raise ValueError(
            f"{layer!r} expects {in_channels} input channels but x has {shape[1]} channels "
            f"(x has shape {shape}, layout (N, C_in, H, W))"
        )


class _Activation(Layer):
    """An element-wise layer built from a ``*_forward`` / ``*_backward`` pair."""

    _forward_fn = None
    _backward_fn = None

    def forward(self, x):
        """x: any shape -> out: same shape."""
        out, self._cache = type(self)._forward_fn(x)
        return out

    def backward(self, dout):
        """dout: shape of out -> dx: shape of x."""
        return type(self)._backward_fn(dout, self._require_cache())

    def __repr__(self):
        return f"{type(self).__name__}()"

    def _cost_rows(self, in_shape, name):
        kind = type(self).__name__.lower()
        return [elementwise_cost(kind, in_shape[0], in_shape[1], in_shape[2], name=name or type(self).__name__)]


class ReLU(_Activation):
    """``out = max(x, 0)``; see ``relu_forward``."""

    _forward_fn = staticmethod(act.relu_forward)
    _backward_fn = staticmethod(act.relu_backward)


class Sigmoid(_Activation):
    """``out = 1 / (1 + exp(-x))``, overflow-free; see ``sigmoid_forward``."""

    _forward_fn = staticmethod(act.sigmoid_forward)
    _backward_fn = staticmethod(act.sigmoid_backward)


class Tanh(_Activation):
    """``out = tanh(x)``; see ``tanh_forward``."""

    _forward_fn = staticmethod(act.tanh_forward)
    _backward_fn = staticmethod(act.tanh_backward)


class LeakyReLU(_Activation):
    """``out = x`` for x > 0, ``negative_slope * x`` otherwise; see ``leaky_relu_forward``."""

    _backward_fn = staticmethod(act.leaky_relu_backward)

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = act._check_slope(negative_slope)

    def forward(self, x):
        out, self._cache = act.leaky_relu_forward(x, self.negative_slope)
        return out

    def __repr__(self):
        return f"LeakyReLU(negative_slope={self.negative_slope})"


class MaxPool2d(Layer):
    """Max pooling layer; see ``maxpool2d_forward``. No parameters.

    Parameters
    ----------
    kernel_size : int
    stride : int, optional
        Defaults to ``kernel_size``, as in PyTorch.
    padding : int, default 0
        Padded with -inf; at most ``kernel_size // 2``.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> C.MaxPool2d(3, stride=1, padding=1).forward(np.zeros((1, 192, 28, 28))).shape
    (1, 192, 28, 28)
    """

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = positive_int(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else positive_int(stride, "stride")
        self.padding = resolve_padding(padding, self.kernel_size, self.stride)

    def __repr__(self):
        return f"MaxPool2d(kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding})"

    def forward(self, x):
        """x: (N, C, H, W) -> out: (N, C, out_H, out_W)."""
        out, self._cache = maxpool2d_forward(x, self.kernel_size, self.stride, self.padding)
        return out

    def backward(self, dout):
        """dout: (N, C, out_H, out_W) -> dx: (N, C, H, W)."""
        return maxpool2d_backward(dout, self._require_cache())

    def _cost_rows(self, in_shape, name):
        return [pool_cost(in_shape[0], in_shape[1], in_shape[2], self.kernel_size, self.stride, self.padding,
                          name=name or "MaxPool2d")]


class _Container(Layer):
    """A layer made of child layers: params and grads are the children's, under dotted names."""

    children: list

    @property
    def params(self) -> dict:
        return _named(self.children, "params")

    @property
    def grads(self) -> dict:
        return _named(self.children, "grads")

    def __len__(self):
        return len(self.children)

    def __getitem__(self, index):
        return self.children[index]

    def __iter__(self):
        return iter(self.children)

    def __repr__(self):
        inner = "".join(f"\n  ({i}): " + repr(child).replace("\n", "\n  ")
                        for i, child in enumerate(self.children))
        return f"{type(self).__name__}({inner}\n)"


def _check_layers(layers, owner: str) -> list:
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise TypeError(f"{owner} takes Layer objects; argument {i} is {type(layer).__name__}")
    return list(layers)


class Sequential(_Container):
    """Layers applied one after another; backward runs them in reverse.

    Parameters
    ----------
    *layers : Layer

    Attributes
    ----------
    layers : list of Layer
    params, grads : dict
        Every sub-layer's arrays under dotted names, ``"0.w"``, ``"2.b"``: the
        same live arrays, so in-place updates reach the layers.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> rng = np.random.default_rng(0)
    >>> net = C.Sequential(C.Conv1x1(2, 8, rng=rng), C.ReLU(), C.Conv1x1(8, 1, rng=rng))
    >>> sorted(net.params)
    ['0.b', '0.w', '2.b', '2.w']
    >>> net.forward(np.zeros((4, 2, 5, 5))).shape
    (4, 1, 5, 5)
    """

    def __init__(self, *layers):
        # No Layer.__init__: params and grads are derived from the children.
        self.layers = _check_layers(layers, "Sequential")
        self._cache = None

    @property
    def children(self) -> list:
        return self.layers

    def forward(self, x):
        """x -> out through every layer in order."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        """dout -> dx through every layer in reverse order; fills every layer's grads."""
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def _cost_rows(self, in_shape, name):
        rows = []
        for i, layer in enumerate(self.layers):
            rows += layer._cost_rows(in_shape, f"{name}.{i}" if name else str(i))
            in_shape = rows[-1].out_shape
        return rows


class Concat(_Container):
    """Branches that all see the same input, their outputs joined along channels.

    ``out = concatenate([branch.forward(x) for branch in branches], axis=1)``;
    backward splits ``dout`` by channels and sums the branches' input gradients
    (x feeds every branch, so its gradient is the sum of theirs). Every branch
    must keep H and W. ``Inception`` is a ``Concat`` of four fixed branches.

    Parameters
    ----------
    *branches : Layer

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> both = C.Concat(C.Conv1x1(3, 2), C.MaxPool2d(3, stride=1, padding=1))
    >>> both.forward(np.zeros((1, 3, 8, 8))).shape   # 2 + 3 channels
    (1, 5, 8, 8)
    """

    def __init__(self, *branches):
        if not branches:
            raise ValueError(f"{type(self).__name__} needs at least one branch")
        self.branches = _check_layers(branches, type(self).__name__)
        self._cache = None

    @property
    def children(self) -> list:
        return self.branches

    def forward(self, x):
        """x: (N, C_in, H, W) -> out: (N, sum of the branches' channels, H, W)."""
        outs = [branch.forward(x) for branch in self.branches]
        out = np.concatenate(outs, axis=1)
        self._cache = ([o.shape[1] for o in outs], out.shape, out.dtype)  # channels per branch, to split dout
        return out

    def backward(self, dout):
        """dout: (N, C_out, H, W) -> dx: (N, C_in, H, W), the sum of the branches' dx."""
        widths, out_shape, dtype = self._require_cache()
        dout = check_dout(dout, out_shape, dtype)
        pieces = np.split(dout, np.cumsum(widths)[:-1], axis=1)  # views, one per branch
        dx = self.branches[0].backward(pieces[0])
        for branch, piece in zip(self.branches[1:], pieces[1:]):
            dx = dx + branch.backward(piece)
        return dx

    def _cost_rows(self, in_shape, name):
        branch_rows = [branch._cost_rows(in_shape, f"{name}.{i}" if name else str(i))
                       for i, branch in enumerate(self.branches)]
        rows = [row for branch in branch_rows for row in branch]
        concat = concat_cost([branch[-1] for branch in branch_rows], name=f"{name}.concat" if name else "concat")
        return rows + [concat]


class Inception(Concat):
    """The GoogLeNet Inception module: four branches side by side, joined along channels.

    ====  ===========================================================  =============
    0     Conv1x1 -> ReLU                                              n1x1
    1     Conv1x1 (reduce) -> ReLU -> Conv2d 3x3, padding 1 -> ReLU    n3x3
    2     Conv1x1 (reduce) -> ReLU -> Conv2d 5x5, padding 2 -> ReLU    n5x5
    3     MaxPool2d(3, stride=1, padding=1) -> Conv1x1 (proj) -> ReLU  pool_proj
    ====  ===========================================================  =============

    Every branch keeps H and W, so the outputs stack along channels:
    ``n1x1 + n3x3 + n5x5 + pool_proj`` of them. The 1x1 reductions in front of
    the 3x3 and 5x5 convolutions are what keep the module affordable.

    Parameters
    ----------
    in_channels, n1x1, n3x3_reduce, n3x3, n5x5_reduce, n5x5, pool_proj : int
    rng : numpy.random.Generator, int or None
    dtype : float32 or float64, default float64

    Attributes
    ----------
    branches : list of Sequential
        The four branches, in the order above.
    params, grads : dict
        Dotted names: ``"1.2.w"`` is the 3x3 convolution's weight (branch 1, layer 2).

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> block = C.Inception(192, 64, 96, 128, 16, 32, 32, rng=np.random.default_rng(0))  # GoogLeNet 3a
    >>> block.forward(np.zeros((1, 192, 28, 28))).shape
    (1, 256, 28, 28)
    >>> block.cost(28, 28).macs
    128049152
    """

    def __init__(self, in_channels, n1x1, n3x3_reduce, n3x3, n5x5_reduce, n5x5, pool_proj, rng=None,
                 dtype=np.float64):
        self.in_channels = positive_int(in_channels, "in_channels")
        self.widths = {name: positive_int(value, name) for name, value in [
            ("n1x1", n1x1), ("n3x3_reduce", n3x3_reduce), ("n3x3", n3x3), ("n5x5_reduce", n5x5_reduce),
            ("n5x5", n5x5), ("pool_proj", pool_proj)]}
        rng = check_rng(rng)
        c = self.in_channels
        super().__init__(
            Sequential(Conv1x1(c, n1x1, rng=rng, dtype=dtype), ReLU()),
            Sequential(Conv1x1(c, n3x3_reduce, rng=rng, dtype=dtype), ReLU(),
                       Conv2d(n3x3_reduce, n3x3, 3, padding=1, rng=rng, dtype=dtype), ReLU()),
            Sequential(Conv1x1(c, n5x5_reduce, rng=rng, dtype=dtype), ReLU(),
                       Conv2d(n5x5_reduce, n5x5, 5, padding=2, rng=rng, dtype=dtype), ReLU()),
            Sequential(MaxPool2d(3, stride=1, padding=1), Conv1x1(c, pool_proj, rng=rng, dtype=dtype), ReLU()),
        )

    @property
    def out_channels(self) -> int:
        w = self.widths
        return w["n1x1"] + w["n3x3"] + w["n5x5"] + w["pool_proj"]

    def forward(self, x):
        """x: (N, C_in, H, W) -> out: (N, n1x1 + n3x3 + n5x5 + pool_proj, H, W)."""
        _check_layer_channels(self, x, self.in_channels)
        return super().forward(x)

    def __repr__(self):
        args = ", ".join(f"{value}" for value in self.widths.values())
        return f"Inception({self.in_channels}, {args})"

    def _cost_rows(self, in_shape, name):
        _check_cost_channels(self, in_shape)
        return super()._cost_rows((self.in_channels,) + tuple(in_shape[1:]), name)


def _named(children, attribute: str) -> dict:
    """Merge the children's params or grads dicts under dotted names: ``"0.w"``."""
    return {f"{i}.{name}": array
            for i, child in enumerate(children)
            for name, array in getattr(child, attribute).items()}
