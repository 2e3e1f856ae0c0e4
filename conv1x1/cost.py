"""What a layer costs: parameters, multiply-accumulates and memory, in plain integers.

Units, named everywhere in this package:

- **MAC**: one multiply-accumulate, ``acc += a * b``. A convolution's forward
  pass does ``out_H * out_W * C_out * (C_in / groups) * K * K`` of them.
- **FLOP**: one floating-point operation. One MAC is a multiply and an add, so
  **FLOPs = 2 x MACs**. (Many tools print MACs under the name "FLOPs": see the
  README, "Reading other tools' numbers".)
- MACs count the multiply-adds of convolutions and fully connected layers only:
  bias additions, batch norm, activations, pooling and residual additions are
  not counted as MACs (they are a K*K*C_in-th of the work or less).
- ``params`` counts every trainable number (weights, biases, batch norm's gamma
  and beta), as PyTorch's ``sum(p.numel() for p in model.parameters())`` does;
  running statistics are not parameters.
- Every count is for **one image** (batch size 1); multiply by N for a batch.
- ``backward_macs``: the backward pass of a convolution computes the input
  gradient and the weight gradient, each as many MACs as the forward pass,
  so ``backward_macs = 2 * macs``.

This module holds the formulas (one function per layer kind, each returning a
``LayerCost``). ``conv1x1.report`` renders them (``Report``, ``Comparison``);
``conv1x1.timing`` measures time (``measure``). Both stay importable from here.

Example: the classic Inception bottleneck on a 28x28x192 input::

    >>> from conv1x1.cost import bottleneck_comparison
    >>> comparison = bottleneck_comparison(192, 16, 32, 28, 28, kernel_size=5)
    >>> comparison.baseline.macs, comparison.candidate.macs
    (120422400, 12443648)
    >>> round(comparison.macs_ratio, 2)
    9.68
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import check_flag, check_groups, check_positive_int, window_geometry

__all__ = [
    "LayerCost", "Report", "Comparison", "Measurement",
    "conv_cost", "pool_cost", "elementwise_cost", "concat_cost", "batchnorm_cost", "add_cost",
    "global_pool_cost", "bottleneck_comparison", "inception_cost", "measure", "human",
]

UNITS_NOTE = ("per image; 1 MAC = 1 multiply-accumulate = 2 FLOPs; MACs count convolutions and FC layers only "
              "(no bias adds, batch norm, activations or pooling)")

KINDS = ("1x1", "kxk", "depthwise", "grouped", "fc", "other")


def human(count) -> str:
    """A count in human units: 120_422_400 -> '120.4M', 2_400 -> '2.4K', 37 -> '37'; None -> '?'.

    Exact integer arithmetic, so huge counts print without float noise (or overflow).

    Examples
    --------
    >>> human(120_422_400), human(1000), human(999), human(10**30)
    ('120.4M', '1.0K', '999', '1.0e30')
    """
    if count is None:
        return "?"
    if isinstance(count, (bool, np.bool_)) or not isinstance(count, (int, np.integer, float, np.floating)):
        raise TypeError(f"count must be a number or None, got {count!r} ({type(count).__name__})")
    if isinstance(count, (float, np.floating)):
        if not np.isfinite(count):
            return str(count)
        if count != int(count):
            return f"{count:.3g}"
        count = int(count)
    count, sign = abs(int(count)), "-" if count < 0 else ""
    if count >= 10**15:
        digits = str(count)
        return f"{sign}{digits[0]}.{digits[1]}e{len(digits) - 1}"
    for power, suffix in ((12, "T"), (9, "G"), (6, "M"), (3, "K")):
        if count >= 10**power:
            tenths = (count * 10 + 10**power // 2) // 10**power   # rounded to one decimal
            return f"{sign}{tenths // 10}.{tenths % 10}{suffix}"
    return f"{sign}{count}"


@dataclass(frozen=True)
class LayerCost:
    """The cost of one layer for one input image (batch size 1).

    Attributes
    ----------
    name : str
        What the layer is called in a table ("1x1 reduce", "0.2", ...).
    kind : str
        What it does: "conv 1x1", "conv 5x5", "depthwise 3x3", "maxpool 3x3", "relu", "concat".
    in_shape, out_shape : tuple
        (C, H, W) of the input and of the output. C is None where a layer
        keeps whatever depth it receives and was asked about on its own.
    params : int
        Trainable numbers: weights, biases, batch norm's gamma and beta.
    macs : int
        Forward multiply-accumulates. ``flops == 2 * macs``.
    activations : int or None
        Elements of the output (what the forward pass keeps for backward).
    category : str
        One of ``KINDS`` for ``Report.by_kind``: "1x1" (pointwise), "kxk" (dense KxK),
        "depthwise", "grouped", "fc" (a 1x1 convolution on a 1x1 map) or "other".
    """

    name: str
    kind: str
    in_shape: tuple
    out_shape: tuple
    params: int
    macs: int
    activations: int | None
    category: str = "other"

    @property
    def flops(self) -> int:
        """Forward floating-point operations: 2 x MACs (a multiply and an add each)."""
        return 2 * self.macs

    @property
    def backward_macs(self) -> int:
        """MACs of the backward pass: input gradient + weight gradient, each as many as the forward."""
        return 2 * self.macs

    def param_bytes(self, dtype=np.float32) -> int:
        """Bytes to store the parameters in ``dtype`` (4 per number for float32)."""
        return self.params * np.dtype(dtype).itemsize

    def activation_bytes(self, dtype=np.float32) -> int:
        """Bytes of the output in ``dtype`` for one image (0 if the depth is unknown)."""
        return (self.activations or 0) * np.dtype(dtype).itemsize

    def row(self) -> dict:
        """This layer as a flat dict of exact numbers (one row of a table)."""
        return {key: getattr(self, key) for key in ROW_KEYS}


ROW_KEYS = ("name", "kind", "category", "in_shape", "out_shape", "params", "macs", "flops", "activations")


def _conv_category(c_in, c_out, groups, k, height, width) -> str:
    """Which ``KINDS`` entry a convolution belongs to."""
    if groups > 1:
        return "depthwise" if groups == c_in else "grouped"
    if k == 1:
        return "fc" if (height, width) == (1, 1) else "1x1"
    return "kxk"


def conv_cost(in_channels, out_channels, height, width, kernel_size, stride=1, padding=0, bias=True,
              name=None, groups=1) -> LayerCost:
    """Cost of a KxK convolution (grouped when ``groups > 1``) on one (C_in, H, W) image.

    Parameters
    ----------
    in_channels, out_channels, height, width, kernel_size : int
    stride : int, default 1
    padding : int or "same", default 0
    bias : bool, default True
    name : str, optional
        Defaults to the kind, e.g. "conv 5x5".
    groups : int, default 1
        Each group of ``C_in / groups`` input channels feeds ``C_out / groups``
        filters; ``groups == in_channels`` is a depthwise convolution.

    Returns
    -------
    LayerCost
        ``params = C_out*(C_in/groups)*K*K (+ C_out)``,
        ``macs = out_H*out_W*C_out*(C_in/groups)*K*K`` (bias adds not counted),
        ``activations = C_out*out_H*out_W``.

    Examples
    --------
    >>> cost = conv_cost(192, 32, 28, 28, 5, padding="same")
    >>> cost.macs, cost.flops, cost.params, cost.out_shape
    (120422400, 240844800, 153632, (32, 28, 28))
    """
    in_channels = check_positive_int(in_channels, "in_channels")
    out_channels = check_positive_int(out_channels, "out_channels")
    height, width = check_positive_int(height, "height"), check_positive_int(width, "width")
    groups = check_groups(groups, in_channels)
    if out_channels % groups:
        raise ValueError(f"groups={groups} must divide out_channels, got {out_channels}")
    bias = check_flag(bias, "bias")
    k, stride, padding, out_h, out_w = window_geometry(height, width, kernel_size, stride, padding)
    weights = out_channels * (in_channels // groups) * k * k
    category = _conv_category(in_channels, out_channels, groups, k, height, width)
    kind = {"depthwise": "depthwise", "grouped": "grouped conv", "fc": "fc"}.get(category, "conv")
    kind = f"{kind} {k}x{k}" + (f" /{stride}" if stride > 1 else "") + (f" g={groups}" if category == "grouped" else "")
    return LayerCost(name or kind, kind, (in_channels, height, width), (out_channels, out_h, out_w),
                     weights + (out_channels if bias else 0), out_h * out_w * weights, out_channels * out_h * out_w,
                     category)


def pool_cost(channels, height, width, kernel_size, stride=None, padding=0, name=None, ceil_mode=False,
              kind="maxpool") -> LayerCost:
    """Cost of K x K max (or average) pooling: no parameters and no MACs (it compares, it does not multiply).

    ``channels`` may be None when unknown (then ``activations`` is None too).

    Examples
    --------
    >>> pool_cost(192, 28, 28, 3, stride=1, padding=1).out_shape
    (192, 28, 28)
    """
    height, width = check_positive_int(height, "height"), check_positive_int(width, "width")
    stride = kernel_size if stride is None else stride
    ceil_mode = check_flag(ceil_mode, "ceil_mode")
    k, stride, padding, out_h, out_w = window_geometry(height, width, kernel_size, stride, padding, pool=True,
                                                       ceil_mode=ceil_mode)
    channels = None if channels is None else check_positive_int(channels, "channels")
    kind = f"{kind} {k}x{k}" + (f" /{stride}" if stride > 1 else "")
    return LayerCost(name or kind, kind, (channels, height, width), (channels, out_h, out_w), 0, 0,
                     None if channels is None else channels * out_h * out_w)


def global_pool_cost(channels, height, width, name=None) -> LayerCost:
    """Global average pooling (C, H, W) -> (C, 1, 1): no parameters, no MACs."""
    height, width = check_positive_int(height, "height"), check_positive_int(width, "width")
    channels = None if channels is None else check_positive_int(channels, "channels")
    return LayerCost(name or "global avgpool", "global avgpool", (channels, height, width), (channels, 1, 1), 0, 0,
                     channels)


def elementwise_cost(kind, channels, height, width, name=None) -> LayerCost:
    """Cost of an activation (or any shape-keeping map without parameters): no parameters, no MACs."""
    height, width = check_positive_int(height, "height"), check_positive_int(width, "width")
    channels = None if channels is None else check_positive_int(channels, "channels")
    shape = (channels, height, width)
    return LayerCost(name or kind, kind, shape, shape, 0, 0, None if channels is None else channels * height * width)


def batchnorm_cost(channels, height, width, name=None) -> LayerCost:
    """Cost of batch norm: 2 parameters per channel (gamma, beta), no MACs (by the convention above)."""
    channels = check_positive_int(channels, "channels")
    height, width = check_positive_int(height, "height"), check_positive_int(width, "width")
    shape = (channels, height, width)
    return LayerCost(name or "batchnorm", "batchnorm", shape, shape, 2 * channels, 0, channels * height * width)


def add_cost(shape, name="add") -> LayerCost:
    """A residual addition of two (C, H, W) maps: no parameters, no MACs."""
    channels, height, width = shape
    return LayerCost(name, "add", tuple(shape), tuple(shape), 0, 0,
                     None if channels is None else channels * height * width)


def concat_cost(branches, name="concat") -> LayerCost:
    """Joining branch outputs along channels: no MACs; the output depth is the sum (None if one is unknown).

    Parameters
    ----------
    branches : sequence of (C, H, W) tuples, or of LayerCost / Report
        Each branch's output shape (or anything with an ``out_shape``).

    Examples
    --------
    >>> concat_cost([(64, 28, 28), (128, 28, 28)]).out_shape
    (192, 28, 28)
    """
    if isinstance(branches, (str, bytes)) or not hasattr(branches, "__iter__"):
        raise TypeError(f"branches must be a list of (C, H, W) shapes or LayerCost rows, got {type(branches).__name__}")
    shapes = [_out_shape(branch, i) for i, branch in enumerate(branches)]
    if not shapes:
        raise ValueError("concat_cost needs at least one branch, got none")
    if len({shape[1:] for shape in shapes}) != 1:
        raise ValueError(f"branches to concatenate must share H and W, got output shapes {shapes}")
    depths = [shape[0] for shape in shapes]
    channels = None if None in depths else sum(depths)
    out_shape = (channels,) + shapes[0][1:]
    activations = None if channels is None else channels * out_shape[1] * out_shape[2]
    return LayerCost(name, "concat", out_shape, out_shape, 0, 0, activations)


def _out_shape(branch, i) -> tuple:
    """A branch's (C, H, W): the tuple itself, or its ``out_shape``."""
    shape = branch if isinstance(branch, tuple) else getattr(branch, "out_shape", None)
    if not (isinstance(shape, tuple) and len(shape) == 3):
        raise TypeError(f"branches[{i}] must be a (C, H, W) tuple or a LayerCost / Report with an out_shape, "
                        f"got {branch!r}")
    return shape


# The renderers and the timer live in their own modules; importable from here as before.
from .report import Comparison, Report  # noqa: E402
from .timing import Measurement, measure  # noqa: E402
from .inception import bottleneck_comparison, inception_cost  # noqa: E402
