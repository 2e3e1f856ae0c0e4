"""The cost formulas: one function per kind of layer, each returning a ``LayerCost`` row
(parameters, MACs, output shape and the other counts) that also shows its working:
``formula``, ``params_formula``, ``shape_formula``, ``ops_formula``. The units are
described in ``conv1x1.cost``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np
from numpy.typing import DTypeLike

from .._checks import (
    DEPTHWISE_HINT,
    Pair,
    check_branches,
    check_flag,
    check_float_dtype,
    check_groups,
    check_positive_int,
    compact,
    window_geometry,
)

__all__ = ["LayerCost", "MacUnits", "conv_cost", "pool_cost", "elementwise_cost", "concat_cost", "batchnorm_cost",
           "add_cost", "global_pool_cost", "human", "exact", "KINDS", "ROW_KEYS", "OP_KEYS", "linear_cost",
           "layernorm_cost", "channel_scale_cost", "identity_cost", "flatten_cost"]

KINDS = ("1x1", "kxk", "depthwise", "grouped", "fc", "other")


def human(count: float | None) -> str:
    """A count in human units: 120_422_400 -> '120.4M', 2_400 -> '2.4K', 37 -> '37'; None -> '?'.

    Exact integer arithmetic, so huge counts print without float noise (or overflow).

    Examples
    --------
    >>> human(120_422_400), human(1000), human(999), human(10**30)
    ('120.4M', '1.0K', '999', '1.0e30')
    """
    check_count(count)
    if count is None:
        return "?"
    if isinstance(count, (float, np.floating)):
        if not np.isfinite(count):
            return str(count)
        if count != int(count):
            return f"{count:.3g}"
        count = int(count)
    count, sign = abs(int(count)), "-" if count < 0 else ""
    if count >= 10**15:
        digits = _digit_count(count)
        first_two = count // 10 ** (digits - 2)   # exact, however many digits
        return f"{sign}{first_two // 10}.{first_two % 10}e{digits - 1}"
    if count < 1000:
        return f"{sign}{count}"
    for power, suffix in ((3, "K"), (6, "M"), (9, "G"), (12, "T")):
        tenths = (count * 10 + 10**power // 2) // 10**power   # rounded to one decimal
        if tenths < 10_000:                                    # 999.96K rounds to 1000.0K: that is 1.0M
            return f"{sign}{tenths // 10}.{tenths % 10}{suffix}"
    return f"{sign}1.0e15"                                     # 999.95T and up round to 10**15


def exact(count: int | None) -> str:
    """A count written out exactly with thousands separators: 120422400 -> '120,422,400'; None -> '?'.

    Python refuses to turn an int of more than ``sys.get_int_max_str_digits()``
    digits (4300 by default) into text; such a count is written as its size instead.

    Examples
    --------
    >>> exact(120_422_400), exact(None), exact(10**5000)
    ('120,422,400', '?', '(a number of 5001 digits)')
    """
    if count is None:
        return "?"
    try:
        return f"{count:,}"
    except ValueError:  # too many digits to print
        return f"(a number of {_digit_count(count)} digits)"


def _digit_count(count: int) -> int:
    """How many decimal digits ``count`` has, without converting it to text."""
    count = abs(int(count))
    digits = max(1, int(math.log10(count)) + 1) if count else 1
    while digits > 1 and count < 10 ** (digits - 1):   # log10 may round up just below a power of ten
        digits -= 1
    while count >= 10 ** digits:
        digits += 1
    return digits


def _num(value: int | None) -> str:
    """One factor of a formula: its digits, or '?' when unknown (never fails on huge numbers)."""
    if value is None:
        return "?"
    try:
        return str(value)
    except ValueError:
        return f"(a number of {_digit_count(value)} digits)"


def _product(names: Sequence[str], values: Sequence[int | None], total: int | None) -> str:
    """``'H_out·W_out = 28·28 = 784'``: the named factors, then their values, then the product."""
    return f"{'·'.join(names)} = {'·'.join(_num(v) for v in values)} = {exact(total)}"


Shape = tuple[Any, int, int]
"""A (C, H, W) shape; C is None where a layer keeps whatever depth it gets."""


def _elements(shape: Shape) -> int | None:
    """C*H*W of a (C, H, W) shape, or None when C is unknown."""
    channels, height, width = shape
    return None if channels is None else channels * height * width


class _Counted(Protocol):
    @property
    def macs(self) -> int: ...


class MacUnits:
    """What follows from ``macs`` alone, for a layer's row and for a report's total alike (both have ``macs``)."""

    @property
    def flops(self: _Counted) -> int:
        """Forward floating-point operations: 2 x MACs (a multiply and an add each)."""
        return 2 * self.macs

    @property
    def backward_macs(self: _Counted) -> int:
        """MACs of the backward pass: input gradient + weight gradient, each as many as the forward."""
        return 2 * self.macs


@dataclass(frozen=True)
class LayerCost(MacUnits):
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
    formula, params_formula, shape_formula : str
        The working: MACs, params and the output size written as named factors,
        then the numbers, then the result, e.g.
        ``"H_out·W_out·C_out·C_in·K·K = 28·28·32·192·5·5 = 120,422,400"``.
    bias_adds : int
        One addition per output element of a layer with a bias (not in ``macs``).
    bn_ops : int or None
        Batch-norm elements: one per output element of a batch norm. At inference
        batch norm is one multiply and one add per element, ``y = a·x + c`` with
        per-channel ``a = gamma / sqrt(var + eps)`` and ``c = beta - a·mean``:
        count 2 x ``bn_ops`` FLOPs if you want FLOPs (not in ``macs``).
    activation_ops : int or None
        Elements an activation (ReLU, sigmoid, ...) is applied to: its output elements.
    pooling_ops : int or None
        Input elements of a pooling layer (each is read once per window it falls in;
        the count here is one per input element, the definition other counters use).
    add_ops : int or None
        Element additions of a residual add: its output elements.
    ops_formula : str
        The working of whichever of the five counts above the layer has.
    """

    name: str
    kind: str
    in_shape: Shape
    out_shape: Shape
    params: int
    macs: int
    activations: int | None
    category: str = "other"
    formula: str = ""
    params_formula: str = ""
    shape_formula: str = ""
    bias_adds: int = 0
    bn_ops: int | None = 0
    activation_ops: int | None = 0
    pooling_ops: int | None = 0
    add_ops: int | None = 0
    ops_formula: str = ""


    def param_bytes(self, dtype: DTypeLike = np.float32) -> int:
        """Bytes to store the parameters in ``dtype`` (4 per number for float32)."""
        return self.params * np.dtype(dtype).itemsize

    def activation_bytes(self, dtype: DTypeLike = np.float32) -> int:
        """Bytes of the output in ``dtype`` for one image (0 if the depth is unknown)."""
        return (self.activations or 0) * np.dtype(dtype).itemsize

    def traffic_bytes(self, dtype: DTypeLike = np.float32, batch: int = 1) -> int:
        """Compulsory memory traffic: itemsize x (batch x (input + output elements) + parameters).

        Each input element is read once, each output element written once, and the
        parameters read once per batch (they are shared by its images). Caches make
        real traffic larger (im2col copies, re-reads), never smaller.

        Raises
        ------
        ValueError
            If the input or output depth is unknown (an element-wise layer priced on its own).
        """
        batch = check_positive_int(batch, "batch")
        inputs, outputs = _elements(self.in_shape), _elements(self.out_shape)
        if inputs is None or outputs is None:
            raise ValueError(f"{self.name!r} has an unknown depth ({self.in_shape} -> {self.out_shape}), so its "
                             "memory traffic is unknown: pass in_channels to cost(height, width, in_channels)")
        return check_float_dtype(dtype).itemsize * (batch * (inputs + outputs) + self.params)

    def intensity(self, dtype: DTypeLike = np.float32) -> float:
        """Arithmetic intensity: MACs per byte of compulsory traffic (``traffic_bytes``), one image.

        Examples
        --------
        >>> layer = conv_cost(192, 32, 28, 28, 1)   # 28x28x192 -> 32, a 1x1 convolution
        >>> layer.macs, layer.traffic_bytes(np.float32)   # 4 x (150,528 + 6,176 + 25,088)
        (4816896, 727168)
        >>> round(layer.intensity(np.float32), 2)
        6.62
        """
        return self.macs / self.traffic_bytes(dtype)

    def explain(self) -> str:
        """This row with its working: output size, params, MACs and the other counts."""
        lines = [f"{self.name} ({self.kind}): {_shape(self.in_shape)} -> {_shape(self.out_shape)}",
                 f"    output  {self.shape_formula}",
                 f"    params  {self.params_formula}",
                 f"    MACs    {self.formula}"]
        if self.ops_formula:
            lines.append(f"    other   {self.ops_formula}  (not in MACs)")
        return "\n".join(lines)

    def row(self) -> dict[str, Any]:
        """This layer as a flat dict of exact numbers (one row of a table)."""
        return {key: getattr(self, key) for key in ROW_KEYS}


ROW_KEYS = ("name", "kind", "category", "in_shape", "out_shape", "params", "macs", "flops", "activations",
            "bias_adds", "bn_ops", "activation_ops", "pooling_ops", "add_ops",
            "formula", "params_formula", "shape_formula", "ops_formula")
OP_KEYS = ("bias_adds", "bn_ops", "activation_ops", "pooling_ops", "add_ops")


def _shape(shape: Shape) -> str:
    return "(" + ", ".join(_num(s) for s in shape) + ")"


def _size_formula(height: int, width: int, kernel: Pair, stride: Pair, padding: Pair, out_h: int, out_w: int,
                  ceil_mode: bool = False) -> str:
    """``'H_out = W_out = floor((H + 2p - K)/s) + 1 = floor((28 + 2·2 - 5)/1) + 1 = 28'``.

    Settings that differ along H and W name each axis: ``KH``, ``sH``, ``pH`` and ``KW``, ``sW``, ``pW``.
    """
    rounding = "ceil" if ceil_mode else "floor"
    square = kernel[0] == kernel[1] and stride[0] == stride[1] and padding[0] == padding[1]

    def one(size: int, out: int, axis: int) -> str:
        k, s, p = kernel[axis], stride[axis], padding[axis]
        text = f"{rounding}(({_num(size)} + 2·{p} - {k})/{s}) + 1"
        raw = (-(-(size + 2 * p - k) // s) if ceil_mode else (size + 2 * p - k) // s) + 1
        if raw != out:  # ceil_mode drops a last window that would start in the right padding
            text += " - 1 (a last window may not start in the padding)"
        return f"{text} = {_num(out)}"

    if square and height == width:
        return f"H_out = W_out = {rounding}((H + 2p - K)/s) + 1 = {one(height, out_h, 0)}"
    h, w = ("", "") if square else ("H", "W")
    return (f"H_out = {rounding}((H + 2p{h} - K{h})/s{h}) + 1 = {one(height, out_h, 0)}; "
            f"W_out = {rounding}((W + 2p{w} - K{w})/s{w}) + 1 = {one(width, out_w, 1)}")


def _conv_category(c_in: int, c_out: int, groups: int, kernel: Pair, height: int, width: int) -> str:
    """Which ``KINDS`` entry a convolution belongs to."""
    if groups > 1:
        return "depthwise" if groups == c_in else "grouped"
    if kernel == (1, 1):
        return "fc" if (height, width) == (1, 1) else "1x1"
    return "kxk"


def _window_kind(kind: str, kernel: Pair, stride: Pair) -> str:
    """``'conv 5x5'``, ``'maxpool 3x3 /2'``, ``'conv 1x7'``, ``'conv 3x3 /(2, 1)'``."""
    strides = "" if stride == (1, 1) else f" /{compact(stride)}"
    return f"{kind} {kernel[0]}x{kernel[1]}{strides}"


def conv_cost(in_channels: int, out_channels: int, height: int, width: int, kernel_size: int | Pair,
              stride: int | Pair = 1, padding: int | Pair | str = 0, bias: bool = True, name: str | None = None,
              groups: int = 1) -> LayerCost:
    """Cost of a KH x KW convolution (grouped when ``groups > 1``) on one (C_in, H, W) image.

    Parameters
    ----------
    in_channels, out_channels, height, width : int
    kernel_size : int or (int, int)
        K for a K x K kernel, or (KH, KW).
    stride : int or (int, int), default 1
    padding : int, (int, int) or "same", default 0
    bias : bool, default True
    name : str, optional
        Defaults to the kind, e.g. "conv 5x5".
    groups : int, default 1
        Each group of ``C_in / groups`` input channels feeds ``C_out / groups``
        filters; ``groups == in_channels`` is a depthwise convolution.

    Returns
    -------
    LayerCost
        ``params = C_out*(C_in/groups)*KH*KW (+ C_out)``,
        ``macs = out_H*out_W*C_out*(C_in/groups)*KH*KW`` (bias adds not counted: they are ``bias_adds``),
        ``activations = C_out*out_H*out_W``, with the working in ``formula``,
        ``params_formula`` and ``shape_formula``.

    Examples
    --------
    >>> cost = conv_cost(192, 32, 28, 28, 5, padding="same")
    >>> cost.macs, cost.flops, cost.params, cost.out_shape
    (120422400, 240844800, 153632, (32, 28, 28))
    >>> cost.formula
    'H_out·W_out·C_out·C_in·K·K = 28·28·32·192·5·5 = 120,422,400'
    >>> conv_cost(32, 32, 112, 112, 3, padding=1, groups=32, bias=False).formula
    'H_out·W_out·C_out·(C_in/groups)·K·K = 112·112·32·1·3·3 = 3,612,672'
    >>> conv_cost(128, 128, 17, 17, (1, 7), padding=(0, 3), bias=False).formula   # Inception v3's 1x7
    'H_out·W_out·C_out·C_in·KH·KW = 17·17·128·128·1·7 = 33,144,832'
    """
    in_channels = check_positive_int(in_channels, "in_channels")
    out_channels = check_positive_int(out_channels, "out_channels")
    height, width = check_positive_int(height, "height"), check_positive_int(width, "width")
    groups = check_groups(groups, in_channels, out_channels, hint=DEPTHWISE_HINT)
    bias = check_flag(bias, "bias")
    (kh, kw), stride, padding, out_h, out_w = window_geometry(height, width, kernel_size, stride, padding)
    per_group = in_channels // groups
    weights = out_channels * per_group * kh * kw
    params = weights + (out_channels if bias else 0)
    outputs = out_channels * out_h * out_w
    category = _conv_category(in_channels, out_channels, groups, (kh, kw), height, width)
    kind = {"depthwise": "depthwise", "grouped": "grouped conv", "fc": "fc"}.get(category, "conv")
    kind = _window_kind(kind, (kh, kw), stride) + (f" g={groups}" if category == "grouped" else "")
    c_in = "(C_in/groups)" if groups > 1 else "C_in"
    k_names = ["K", "K"] if kh == kw else ["KH", "KW"]
    params_formula = f"C_out·{c_in}·{'·'.join(k_names)} = {out_channels}·{per_group}·{kh}·{kw}"
    if bias:
        params_formula = (f"C_out·{c_in}·{'·'.join(k_names)} + C_out = {out_channels}·{per_group}·{kh}·{kw} + "
                          f"{out_channels}")
    return LayerCost(
        name or kind, kind, (in_channels, height, width), (out_channels, out_h, out_w), params,
        out_h * out_w * weights, outputs, category,
        formula=_product(["H_out", "W_out", "C_out", c_in, *k_names],
                         [out_h, out_w, out_channels, per_group, kh, kw], out_h * out_w * weights),
        params_formula=f"{params_formula} = {exact(params)}",
        shape_formula=_size_formula(height, width, (kh, kw), stride, padding, out_h, out_w),
        bias_adds=outputs if bias else 0,
        ops_formula=("bias adds = " + _product(["H_out", "W_out", "C_out"], [out_h, out_w, out_channels], outputs)
                     if bias else ""))


def _no_params_row(name: str, kind: str, in_shape: Shape, out_shape: Shape, shape_formula: str,
                   ops: dict[str, Any] | None = None, ops_formula: str = "",
                   category: str = "other") -> LayerCost:
    """A row without parameters or MACs (pooling, activations, adds, concatenation)."""
    ops = ops or {}
    return LayerCost(name, kind, in_shape, out_shape, 0, 0, _elements(out_shape), category,
                     formula="0 (no multiply-accumulates)", params_formula="0 (no parameters)",
                     shape_formula=shape_formula, ops_formula=ops_formula, **ops)


def _elements_formula(label: str, shape: Shape, what: str = "") -> str:
    """``'activation ops = C·H·W = 16·28·28 = 12,544'``."""
    return f"{label} = " + _product(["C", "H", "W"], shape, _elements(shape)) + what


def pool_cost(channels: int | None, height: int, width: int, kernel_size: int | Pair,
              stride: int | Pair | None = None, padding: int | Pair | str = 0, name: str | None = None,
              ceil_mode: bool = False, kind: str = "maxpool") -> LayerCost:
    """Cost of KH x KW max (or average) pooling: no parameters and no MACs (it compares, it does not multiply).

    ``kernel_size``, ``stride`` and ``padding`` are ints or (along H, along W)
    pairs; ``stride`` defaults to ``kernel_size``. ``pooling_ops`` counts the input
    elements. ``channels`` may be None when unknown (then ``activations`` and
    ``pooling_ops`` are None too).

    Examples
    --------
    >>> pool = pool_cost(192, 28, 28, 3, stride=1, padding=1)
    >>> pool.out_shape, pool.pooling_ops
    ((192, 28, 28), 150528)
    >>> pool.ops_formula
    'pooling ops = C·H·W = 192·28·28 = 150,528 (input elements)'
    """
    height, width = check_positive_int(height, "height"), check_positive_int(width, "width")
    stride = kernel_size if stride is None else stride
    ceil_mode = check_flag(ceil_mode, "ceil_mode")
    kernel, stride, padding, out_h, out_w = window_geometry(height, width, kernel_size, stride, padding, pool=True,
                                                            ceil_mode=ceil_mode)
    channels = None if channels is None else check_positive_int(channels, "channels")
    kind = _window_kind(kind, kernel, stride)
    in_shape = (channels, height, width)
    return _no_params_row(name or kind, kind, in_shape, (channels, out_h, out_w),
                          _size_formula(height, width, kernel, stride, padding, out_h, out_w, ceil_mode),
                          {"pooling_ops": _elements(in_shape)},
                          _elements_formula("pooling ops", in_shape, " (input elements)"))


def global_pool_cost(channels: int | None, height: int, width: int, name: str | None = None) -> LayerCost:
    """Global average pooling (C, H, W) -> (C, 1, 1): no parameters, no MACs; ``pooling_ops`` = C·H·W inputs."""
    height, width = check_positive_int(height, "height"), check_positive_int(width, "width")
    channels = None if channels is None else check_positive_int(channels, "channels")
    in_shape = (channels, height, width)
    return _no_params_row(name or "global avgpool", "global avgpool", in_shape, (channels, 1, 1),
                          "H_out = W_out = 1 (one average per channel)", {"pooling_ops": _elements(in_shape)},
                          _elements_formula("pooling ops", in_shape, " (input elements)"))


def elementwise_cost(kind: str, channels: int | None, height: int, width: int, name: str | None = None) -> LayerCost:
    """Cost of an activation (or any shape-keeping map without parameters): no parameters, no MACs.

    ``activation_ops`` counts its elements (None when ``channels`` is unknown).
    """
    height, width = check_positive_int(height, "height"), check_positive_int(width, "width")
    channels = None if channels is None else check_positive_int(channels, "channels")
    shape = (channels, height, width)
    return _no_params_row(name or kind, kind, shape, shape, "same as the input",
                          {"activation_ops": _elements(shape)}, _elements_formula("activation ops", shape))


def batchnorm_cost(channels: int, height: int, width: int, name: str | None = None) -> LayerCost:
    """Cost of batch norm: 2 parameters per channel (gamma, beta), no MACs (by the convention above).

    ``bn_ops`` counts its elements, C·H·W: one ``y = a·x + c`` each at inference.
    """
    channels = check_positive_int(channels, "channels")
    height, width = check_positive_int(height, "height"), check_positive_int(width, "width")
    shape = (channels, height, width)
    elements = _elements(shape)
    return LayerCost(name or "batchnorm", "batchnorm", shape, shape, 2 * channels, 0, elements,
                     formula="0 (no multiply-accumulates counted)",
                     params_formula=f"2·C = 2·{channels} = {exact(2 * channels)} (gamma and beta)",
                     shape_formula="same as the input", bn_ops=elements,
                     ops_formula=_elements_formula("bn ops", shape, " (one y = a·x + c per element)"))


def add_cost(shape: Iterable[Any], name: str = "add") -> LayerCost:
    """A residual addition of two (C, H, W) maps: no parameters, no MACs; ``add_ops`` = C·H·W."""
    shape = tuple(shape)
    return _no_params_row(name, "add", shape, shape, "same as the input", {"add_ops": _elements(shape)},
                          _elements_formula("add ops", shape))


def concat_cost(branches: Iterable[Shape | Any], name: str = "concat") -> LayerCost:
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
    shapes = check_branch_shapes(branches)
    depths = [shape[0] for shape in shapes]
    channels = None if None in depths else sum(depths)
    out_shape = (channels,) + shapes[0][1:]
    working = f"C = {' + '.join(_num(d) for d in depths)} = {_num(channels)}"
    return _no_params_row(name, "concat", out_shape, out_shape, working)


# ---------------------------------------------------------------- checks that belong here

def check_branch_shapes(branches: Iterable[Shape | Any]) -> list[Shape]:
    """Return the (C, H, W) output shape of each branch to concatenate, checking they share H and W.

    A branch is a (C, H, W) tuple or anything with such an ``out_shape`` (a
    ``LayerCost`` or ``Report``); C may be None (unknown).
    """
    if isinstance(branches, (str, bytes)) or not hasattr(branches, "__iter__"):
        raise TypeError(f"branches must be a list of (C, H, W) shapes or LayerCost rows, got {type(branches).__name__}")
    shapes = []
    for i, branch in enumerate(branches):
        shape = branch if isinstance(branch, tuple) else getattr(branch, "out_shape", None)
        if not (isinstance(shape, tuple) and len(shape) == 3):
            raise TypeError(f"branches[{i}] must be a (C, H, W) tuple or a LayerCost / Report with an out_shape, "
                            f"got {branch!r}")
        shapes.append(shape)
    check_branches(shapes, "concat_cost")
    if len({shape[1:] for shape in shapes}) != 1:
        raise ValueError(f"branches to concatenate must share H and W, got output shapes {shapes}")
    return shapes



def check_count(count: float | None) -> float | None:
    """Return ``count`` if it is None (unknown) or a number (int or float, NumPy's too; not a bool)."""
    if count is not None and (isinstance(count, (bool, np.bool_))
                              or not isinstance(count, (int, np.integer, float, np.floating))):
        raise TypeError(f"count must be a number or None, got {count!r} ({type(count).__name__})")
    return count


# ---------------------------------------------------------------- the pieces of today's networks

def linear_cost(in_features: int, out_features: int, bias: bool = True, name: str | None = None) -> LayerCost:
    """Cost of a fully connected layer on one example's F features: a 1x1 convolution on a 1x1 map.

    ``macs = F·O`` and ``params = F·O (+ O)``, exactly ``conv_cost(F, O, 1, 1, 1)``'s
    (category "fc"): a Linear layer and a 1x1 convolution count alike.

    Examples
    --------
    >>> row = linear_cost(1280, 1000)
    >>> row.macs, row.params, row.kind, row.category, row.out_shape
    (1280000, 1281000, 'linear', 'fc', (1000, 1, 1))
    """
    row = conv_cost(in_features, out_features, 1, 1, 1, bias=bias)
    return replace(row, name=name or "linear", kind="linear")


def layernorm_cost(channels: int, height: int, width: int, name: str | None = None) -> LayerCost:
    """Cost of layer norm over the channels of every pixel: 2 parameters per channel, no MACs.

    Its C·H·W elements are counted with batch norm's (``bn_ops``, the normalisation
    elements): unlike batch norm's, its statistics are the pixel's own, so at inference
    it cannot be folded into the convolution before it.

    Examples
    --------
    >>> row = layernorm_cost(96, 56, 56)
    >>> row.params, row.macs, row.bn_ops
    (192, 0, 301056)
    """
    row = batchnorm_cost(channels, height, width, name=name or "layernorm")
    return replace(row, kind="layernorm",
                   ops_formula=_elements_formula("norm ops", row.in_shape, " (statistics over C at every pixel)"))


def channel_scale_cost(kind: str, channels: int | None, height: int, width: int, params: int = 0,
                       name: str | None = None) -> LayerCost:
    """A per-channel multiply (SE's gate, ConvNeXt's layer scale): one multiply per element, no MACs.

    Its C·H·W multiplies are counted as element-wise operations (``activation_ops``), as
    an activation's are: they are not multiply-adds of a convolution. ``params`` is the
    layer scale's C (0 for the gate, whose scales are computed).

    Examples
    --------
    >>> channel_scale_cost("layer scale", 96, 56, 56, params=96).activation_ops
    301056
    """
    row = elementwise_cost(kind, channels, height, width, name=name)
    if not params:
        return row
    return replace(row, params=params, params_formula=f"C = {exact(params)} (one scale per channel)")


def identity_cost(kind: str, channels: int | None, height: int, width: int, name: str | None = None) -> LayerCost:
    """Dropout and stochastic depth: the identity at evaluation, so no parameters, MACs or operations."""
    height, width = check_positive_int(height, "height"), check_positive_int(width, "width")
    shape = (None if channels is None else check_positive_int(channels, "channels"), height, width)
    return _no_params_row(name or kind, kind, shape, shape, "same as the input",
                          ops_formula="0 (the identity at evaluation)")


def flatten_cost(channels: int | None, height: int, width: int, name: str | None = None) -> LayerCost:
    """Flatten (C, H, W) -> (C·H·W, 1, 1): the features of one example as a column, no cost."""
    height, width = check_positive_int(height, "height"), check_positive_int(width, "width")
    in_shape = (None if channels is None else check_positive_int(channels, "channels"), height, width)
    features = _elements(in_shape)
    return _no_params_row(name or "flatten", "flatten", in_shape, (features, 1, 1),
                          f"F = C·H·W = {_num(channels)}·{height}·{width} = {_num(features)}")
