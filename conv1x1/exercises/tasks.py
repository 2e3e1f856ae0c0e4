"""The exercises: each one's task, cases, answer (the library's own functions) and known mistakes.

An exercise's known mistakes are small functions that return what the mistaken code would return on a
case; the judge names a mistake when the learner's results equal it on every case where it shows. The
cases are chosen so that every mistake shows: a square case (C_in = C_out = H = W) lets a transposed
weight or a bias broadcast along W run instead of raising; batches of two or more images tell a sum over
the batch from one image or a mean; inputs with exact zeros catch ReLU's gradient at x == 0; strides
that do not divide the input tell floor from ceiling; a float32 case in the shapes of a float64 one
catches a cache kept by shape; numerical_gradient's last ``f`` writes every output into one buffer.
A case's function argument is a :class:`.child.Function`, a name the child process can build it from.
This module is the grader's: ``exercises.exercise(name)`` hands out the task, never the answer.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import DTypeLike

from .._checks import FloatArray
from ..cost import conv_cost
from ..functional import (
    conv1x1_backward,
    conv1x1_forward,
    global_avg_pool_backward,
    global_avg_pool_forward,
    relu_backward,
)
from ..gradcheck import numerical_gradient
from ..training.losses import softmax_cross_entropy
from .child import Function
from .judge import Case, Mistake, Part

__all__ = ["Exercise", "EXERCISES"]


@dataclass(frozen=True)
class Exercise:
    """One exercise.

    Attributes
    ----------
    name : str
        Also the name of the function the learner writes.
    params : tuple of str
        Its parameters, in order.
    summary : str
        One line, for the list of exercises.
    task : str
        What to write: the maths, the parameters and what to return, with shapes.
    hints : tuple of str
        A hint or two, without the answer.
    returns : tuple of Part
        What it returns: one part, or the parts of a tuple.
    answer : callable
        The right answer, from the library's own functions.
    cases : callable
        Returns the list of Case to try, in order.
    mistakes : tuple of Mistake
    modified_hints : dict
        Argument name -> what to say if the learner's function changes it (default: work on a copy).
    """

    name: str
    params: tuple
    summary: str
    task: str
    hints: tuple
    returns: tuple
    answer: Callable
    cases: Callable
    mistakes: tuple
    modified_hints: dict = field(default_factory=dict)

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(self.params)})"


def _normal(rng: np.random.Generator, shape: tuple[int, ...], dtype: DTypeLike = np.float64) -> FloatArray:
    return rng.standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------- 1. conv1x1_forward

def _forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    return conv1x1_forward(x, w, b)[0]


def _wx(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The per-pixel matrix product without the bias: (N, C_out, H, W)."""
    return np.einsum("oc,nchw->nohw", w, x)


def _forward_cases() -> list[Case]:
    rng = np.random.default_rng(1)
    cases = []
    for label, (n, c_in, c_out, h, w), dtype in [
            ("the usual shapes", (2, 4, 3, 5, 6), np.float64),
            ("square: C_in = C_out = H = W = 3", (2, 3, 3, 3, 3), np.float64),
            ("one image, more filters than channels", (1, 5, 8, 2, 7), np.float64),
            ("a 1x1 image: a dense layer", (3, 2, 4, 1, 1), np.float64),
            ("float32", (2, 4, 6, 3, 5), np.float32),
            ("float32, the shapes of case 1: a cache kept by shape goes stale", (2, 4, 3, 5, 6), np.float32)]:
        cases.append(Case((_normal(rng, (n, c_in, h, w), dtype), _normal(rng, (c_out, c_in), dtype),
                           _normal(rng, (c_out,), dtype)), label))
    return cases


_BIAS_FIX = "add b[o] to every pixel of output channel o: out + b[None, :, None, None] (or b[:, None, None])."
_RESHAPE_FIX = ("a reshape keeps the order of the numbers in memory; to move the channel axis, transpose: "
                "x.transpose(0, 2, 3, 1) to go channels-last, out.transpose(0, 3, 1, 2) to come back")

FORWARD = Exercise(
    name="conv1x1_forward",
    params=("x", "w", "b"),
    summary="the forward pass: one dense layer applied at every pixel",
    task="""\
Forward pass of a 1x1 convolution: the same dense layer applied to every pixel's channel vector.

    out[n, o, h, w] = sum over c of w[o, c] * x[n, c, h, w] + b[o]

Parameters
    x : ndarray, shape (N, C_in, H, W)
    w : ndarray, shape (C_out, C_in)     one row of weights per filter
    b : ndarray, shape (C_out,)          one bias per filter
Returns
    out : ndarray, shape (N, C_out, H, W), in the dtype of x
Do not modify x, w or b.""",
    hints=("Start with loops over n, o, h and w, then remove them one at a time.",
           "Seen as a matrix, image n is (C_in, H*W) with one column per pixel: x[n].reshape(C_in, H * W)."),
    returns=(Part("out", "array", "(N, C_out, H, W)"),),
    answer=_forward,
    cases=_forward_cases,
    mistakes=(
        Mistake("the weights are used transposed: your output is what w.T in place of w gives.",
                "w holds one row per filter, shape (C_out, C_in): out[n, o] = sum over c of w[o, c] * x[n, c]; "
                "in einsum, 'oc,nchw->nohw'; as a matrix product, w @ x[n] with x[n] seen as (C_in, H*W).",
                lambda x, w, b: np.einsum("co,nchw->nohw", w, x) + b[:, None, None]),
        Mistake("the bias is missing: your output is the weighted sum alone, without b.", _BIAS_FIX,
                lambda x, w, b: _wx(w, x)),
        Mistake("the bias is added along the wrong axis (W, the last one): out + b lines b up with the last axis.",
                _BIAS_FIX, lambda x, w, b: _wx(w, x) + b),
        Mistake("the bias is added along the wrong axis (H): out + b[:, None] lines b up with the rows.",
                _BIAS_FIX, lambda x, w, b: _wx(w, x) + b[:, None]),
        Mistake("the bias is added along the wrong axis (N, the images): b[:, None, None, None] lines b up "
                "with the batch.", _BIAS_FIX, lambda x, w, b: _wx(w, x) + b[:, None, None, None]),
        Mistake("the output is channels-last, (N, H, W, C_out); the exercise wants channels first, (N, C_out, H, W).",
                "move the channel axis back before returning: out.transpose(0, 3, 1, 2).",
                lambda x, w, b: np.einsum("oc,nchw->nhwo", w, x) + b),
        Mistake("a reshape where a transpose belongs: x.reshape(N, H, W, C_in) is not x channels-last, it "
                "scrambles the numbers.", _RESHAPE_FIX,
                lambda x, w, b: (x.reshape(x.shape[0], x.shape[2], x.shape[3], x.shape[1]) @ w.T + b)
                .reshape(x.shape[0], w.shape[0], x.shape[2], x.shape[3])),
        Mistake("a reshape where a transpose belongs: out.reshape(N, C_out, H, W) does not bring a channels-last "
                "result back, it scrambles the numbers.", _RESHAPE_FIX,
                lambda x, w, b: (x.transpose(0, 2, 3, 1) @ w.T + b)
                .reshape(x.shape[0], w.shape[0], x.shape[2], x.shape[3])),
    ),
)


# ---------------------------------------------------------------- 2. conv1x1_backward

def _backward(dout: np.ndarray, x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    _, cache = conv1x1_forward(x, w, np.zeros(w.shape[0], x.dtype))
    return conv1x1_backward(dout, cache)


def _dw(dout: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.einsum("nohw,nchw->oc", dout, x)


def _backward_cases() -> list[Case]:
    rng = np.random.default_rng(2)
    cases = []
    for label, (n, c_in, c_out, h, w), dtype in [
            ("the usual shapes", (2, 4, 3, 5, 6), np.float64),
            ("square: C_in = C_out = H = W = 3", (2, 3, 3, 3, 3), np.float64),
            ("three images, a 4x1 map", (3, 2, 5, 4, 1), np.float64),
            ("one image", (1, 3, 2, 2, 2), np.float64),
            ("float32", (2, 4, 2, 3, 3), np.float32),
            ("float32, the shapes of case 1: a cache kept by shape goes stale", (2, 4, 3, 5, 6), np.float32)]:
        cases.append(Case((_normal(rng, (n, c_out, h, w), dtype), _normal(rng, (n, c_in, h, w), dtype),
                           _normal(rng, (c_out, c_in), dtype)), label))
    return cases


def _db_axes_mistakes() -> list[Mistake]:
    """db summed over every wrong set of axes (and with keepdims): 15 ways, one message."""
    says = "db is summed over the wrong axes: db has one entry per output channel, shape (C_out,)."
    fix = "db[o] adds dout[:, o] over the batch and every pixel: dout.sum(axis=(0, 2, 3))."
    mistakes = [Mistake(says, fix, lambda dout, x, w, axes=axes: dout.sum(axis=axes), part="db")
                for size in (1, 2, 3, 4) for axes in itertools.combinations(range(4), size) if axes != (0, 2, 3)]
    mistakes.append(Mistake("db keeps the summed axes (keepdims=True): shape (1, C_out, 1, 1) where db is (C_out,).",
                            "leave out keepdims, or reshape: db.reshape(-1).",
                            lambda dout, x, w: dout.sum(axis=(0, 2, 3), keepdims=True), part="db"))
    return mistakes


_BATCH_FIX = ("w is shared by every image, so its gradient adds up over the batch: dw = sum over n of "
              "dout[n] @ x[n].T, or np.einsum('nohw,nchw->oc', dout, x).")
_MEAN_FIX = ("use a sum: each image and pixel adds its own contribution (any averaging is the loss's job and "
             "is already inside dout).")

BACKWARD = Exercise(
    name="conv1x1_backward",
    params=("dout", "x", "w"),
    summary="the backward pass: dx, dw and db",
    task="""\
Backward pass of a 1x1 convolution. The forward pass computed

    out[n, o, h, w] = sum over c of w[o, c] * x[n, c, h, w] + b[o]

or, seeing image n as a (C_in, H*W) matrix x[n], out[n] = w @ x[n] + b[:, None]. Given dout, the
gradient of the loss with respect to out, return the gradients with respect to x, w and b.

Parameters
    dout : ndarray, shape (N, C_out, H, W)   the gradient of the loss with respect to out
    x : ndarray, shape (N, C_in, H, W)       the forward pass's input
    w : ndarray, shape (C_out, C_in)         the forward pass's weights
Returns
    the tuple (dx, dw, db): dx (N, C_in, H, W), dw (C_out, C_in), db (C_out,), in the dtype of x
Do not modify dout, x or w.""",
    hints=("Each gradient has the shape of what it is the gradient of: dw is (C_out, C_in) like w.",
           "Write the shapes next to each matrix product; the one that fits is usually the right one.",
           "Where a number is used many times in the forward pass, its gradient adds up every use."),
    returns=(Part("dx", "array", "(N, C_in, H, W)"), Part("dw", "array", "(C_out, C_in)"),
             Part("db", "array", "(C_out,)")),
    answer=_backward,
    cases=_backward_cases,
    mistakes=(
        Mistake("dw comes from the first image only, not summed over the batch.", _BATCH_FIX,
                lambda dout, x, w: _dw(dout[:1], x[:1]), part="dw"),
        Mistake("dw comes from the last image only (each pass of the loop over n replaced it), not summed over "
                "the batch.", _BATCH_FIX, lambda dout, x, w: _dw(dout[-1:], x[-1:]), part="dw"),
        Mistake("one dw per image: dw is (N, C_out, C_in), where w, shared by every image, is (C_out, C_in).",
                "sum over n: " + _BATCH_FIX,
                lambda dout, x, w: np.einsum("nohw,nchw->noc", dout, x), part="dw"),
        Mistake("dw is transposed: it is (C_in, C_out) where w is (C_out, C_in).",
                "dw has the shape of w: dw[o, c] = sum over n, h, w of dout[n, o] * x[n, c], "
                "np.einsum('nohw,nchw->oc', dout, x).",
                lambda dout, x, w: _dw(dout, x).T, part="dw"),
        Mistake("dx is computed with w where w.T belongs (transposed).",
                "dx[n] = w.T @ dout[n]: input channel c collects sum over o of w[o, c] * dout[n, o], "
                "np.einsum('oc,nohw->nchw', w, dout).",
                lambda dout, x, w: np.einsum("ij,njhw->nihw", w, dout), part="dx"),
        Mistake("dw is a mean over the batch where the sum belongs.", _MEAN_FIX,
                lambda dout, x, w: _dw(dout, x) / x.shape[0], part="dw"),
        Mistake("dw is a mean over the batch and the pixels where the sum belongs.", _MEAN_FIX,
                lambda dout, x, w: _dw(dout, x) / (x.shape[0] * x.shape[2] * x.shape[3]), part="dw"),
        Mistake("db is a mean where the sum belongs.", _MEAN_FIX,
                lambda dout, x, w: dout.mean(axis=(0, 2, 3)), part="db"),
        Mistake("db is a mean over the batch where the sum belongs.", _MEAN_FIX,
                lambda dout, x, w: dout.sum(axis=(2, 3)).mean(axis=0), part="db"),
        *_db_axes_mistakes(),
    ),
)


# ---------------------------------------------------------------- 3. relu_backward

def _relu_cases() -> list[Case]:
    rng = np.random.default_rng(3)
    cases = []
    for label, shape, dtype in [("a batch of images with some exact zeros", (2, 3, 4, 5), np.float64),
                                ("float32", (3, 7), np.float32),
                                ("float32, the shape of case 1: a cache kept by shape goes stale", (2, 3, 4, 5),
                                 np.float32)]:
        x = _normal(rng, shape, dtype)
        x[rng.random(shape) < 0.25] = 0.0
        cases.append(Case((_normal(rng, shape, dtype), x), label))
    x = np.array([-2.0, -0.0, 0.0, 1.5, 3.0, -1.0])
    cases.append(Case((_normal(rng, x.shape), x), "a vector: x = [-2, -0, 0, 1.5, 3, -1]"))
    return cases


_RELU_FIX = "dx = dout where x > 0 and 0 elsewhere: dout * (x > 0), or np.where(x > 0, dout, 0)."

RELU = Exercise(
    name="relu_backward",
    params=("dout", "x"),
    summary="ReLU's backward pass, with the gradient 0 at x == 0",
    task="""\
Backward pass of the ReLU out = max(x, 0): the gradient passes where x > 0 and is blocked elsewhere.
At the kink x == 0 the gradient is taken as 0 (PyTorch's convention and this library's).

    dx = dout where x > 0, else 0

Parameters
    dout : ndarray, any shape      the gradient of the loss with respect to out
    x : ndarray, the shape of dout the forward pass's input
Returns
    dx : ndarray, the shape and dtype of x
Do not modify dout or x.""",
    hints=("A comparison like x > 0 gives an array of booleans; True times a number is that number.",),
    returns=(Part("dx", "array", "the shape of x"),),
    answer=relu_backward,
    cases=_relu_cases,
    mistakes=(
        Mistake("dx is the mask (x > 0) alone: dout is never multiplied in.", _RELU_FIX,
                lambda dout, x: (x > 0).astype(x.dtype)),
        Mistake("at x == 0 your gradient lets dout through (a gradient of 1 there); the convention is 0 at x == 0.",
                "use x > 0, not x >= 0.", lambda dout, x: np.where(x >= 0, dout, 0)),
        Mistake("dx is the mask (x >= 0) alone: dout is never multiplied in, and the gradient at x == 0 is 1 "
                "where the convention is 0.", "dout * (x > 0): multiply by dout, and use x > 0, not x >= 0.",
                lambda dout, x: (x >= 0).astype(x.dtype)),
        Mistake("the mask is inverted: dout passes where x < 0.", _RELU_FIX, lambda dout, x: np.where(x < 0, dout, 0)),
        Mistake("the mask is inverted: dout passes where x <= 0, and is blocked where x > 0.", _RELU_FIX,
                lambda dout, x: np.where(x <= 0, dout, 0)),
        Mistake("the mask comes from dout, not from x: max(dout, 0) is a ReLU of the gradient.", _RELU_FIX,
                lambda dout, x: np.maximum(dout, 0)),
    ),
)


# ---------------------------------------------------------------- 4. conv_params

def _params(in_channels: int, out_channels: int, kernel_size: int, bias: bool) -> int:
    k = kernel_size
    return conv_cost(in_channels, out_channels, k, k, k, bias=bias).params


def _param_cases() -> list[Case]:
    return [Case((4, 8, 3, True), "a 3x3 convolution with bias"),
            Case((6, 10, 5, False), "a 5x5 convolution without bias"),
            Case((16, 4, 1, True), "a 1x1 convolution with bias"),
            Case((3, 2, 7, False), "a 7x7 convolution without bias")]


_PARAMS_FIX = "params = C_out * C_in * K * K weights, plus C_out biases if bias is True."

PARAMS = Exercise(
    name="conv_params",
    params=("in_channels", "out_channels", "kernel_size", "bias"),
    summary="how many parameters a KxK convolution has",
    task="""\
The number of trainable parameters of a KxK convolution (kernel_size = K) from in_channels to
out_channels: each of the out_channels filters has in_channels x K x K weights, and one bias if
bias is True.

Parameters
    in_channels, out_channels, kernel_size : int
    bias : bool
Returns
    params : int""",
    hints=("A 1x1 convolution from 192 to 32 channels with bias has 32 * 192 + 32 = 6176 parameters.",),
    returns=(Part("params", "int"),),
    answer=_params,
    cases=_param_cases,
    mistakes=(
        Mistake("the bias is forgotten: with bias=True each of the out_channels filters has one bias.",
                _PARAMS_FIX, lambda c_in, c_out, k, bias: c_out * c_in * k * k),
        Mistake("the bias is counted although bias=False: there are no bias parameters then.",
                _PARAMS_FIX, lambda c_in, c_out, k, bias: c_out * c_in * k * k + c_out),
        Mistake("the kernel area is forgotten: each filter has K x K weights per input channel.",
                _PARAMS_FIX, lambda c_in, c_out, k, bias: c_out * c_in + c_out * bias),
        Mistake("the kernel counts K weights per input channel, not K x K (its area).",
                _PARAMS_FIX, lambda c_in, c_out, k, bias: c_out * c_in * k + c_out * bias),
        Mistake("in_channels is forgotten: each filter spans every input channel, in_channels x K x K weights.",
                _PARAMS_FIX, lambda c_in, c_out, k, bias: c_out * k * k + c_out * bias),
    ),
)


# ---------------------------------------------------------------- 5. conv_macs

def _macs(in_channels: int, out_channels: int, height: int, width: int, kernel_size: int, stride: int,
          padding: int) -> int:
    return conv_cost(in_channels, out_channels, height, width, kernel_size, stride, padding, bias=False).macs


def _out(size: int, k: int, stride: int, padding: int, rounding: Callable[[float], int] = math.floor) -> int:
    return rounding((size + 2 * padding - k) / stride) + 1


def _macs_with(height_out: Callable[..., int], width_out: Callable[..., int]) -> Callable[..., int]:
    """A mistake's MACs from its (wrong) output size."""
    def macs(c_in: int, c_out: int, h: int, w: int, k: int, s: int, p: int) -> int:
        return height_out(h, k, s, p) * width_out(w, k, s, p) * c_out * c_in * k * k
    return macs


def _macs_cases() -> list[Case]:
    return [Case((3, 8, 8, 8, 3, 2, 0), "3x3, stride 2 that does not divide the input"),
            Case((2, 5, 12, 11, 5, 3, 2), "5x5, stride 3, padding 2, not square"),
            Case((4, 6, 10, 7, 3, 1, 1), "3x3 'same', not square"),
            Case((16, 32, 14, 14, 1, 1, 0), "a 1x1 convolution"),
            Case((3, 4, 7, 9, 3, 2, 1), "3x3, stride 2, padding 1")]


_MACS_FIX = ("MACs = H_out * W_out * C_out * C_in * K * K with H_out = (H + 2*padding - K) // stride + 1 "
             "(and W_out alike).")

MACS = Exercise(
    name="conv_macs",
    params=("in_channels", "out_channels", "height", "width", "kernel_size", "stride", "padding"),
    summary="how many multiply-accumulates (MACs) a KxK convolution does on one image",
    task="""\
The number of multiply-accumulates (MACs; 1 MAC = 2 FLOPs) of a KxK convolution (kernel_size = K) on
one (in_channels, height, width) image: each output element is a sum of in_channels x K x K products.
The output is (out_channels, H_out, W_out) with

    H_out = floor((height + 2 * padding - K) / stride) + 1        (W_out alike, from width)

Bias adds are not multiply-accumulates: leave them out.

Parameters
    in_channels, out_channels, height, width, kernel_size, stride, padding : int
Returns
    macs : int""",
    hints=("Work out the output size first, then count the products behind one output element.",
           "A 1x1 convolution from 192 to 32 channels on 28x28 does 28 * 28 * 32 * 192 = 4,816,896 MACs."),
    returns=(Part("macs", "int"),),
    answer=_macs,
    cases=_macs_cases,
    mistakes=(
        Mistake("FLOPs are counted instead of MACs: your count is 2x the MACs. One multiply-accumulate is "
                "2 FLOPs (a multiply and an add); count each once.", _MACS_FIX,
                lambda *a: 2 * _macs(*a)),
        Mistake("the input size (height x width) is used instead of the output size (H_out x W_out).", _MACS_FIX,
                _macs_with(lambda h, k, s, p: h, lambda w, k, s, p: w)),
        Mistake("the kernel area K x K is forgotten: each output element sums C_in x K x K products.", _MACS_FIX,
                lambda c_in, c_out, h, w, k, s, p: _out(h, k, s, p) * _out(w, k, s, p) * c_out * c_in),
        Mistake("the kernel counts K products per input channel, not K x K (its area).", _MACS_FIX,
                lambda c_in, c_out, h, w, k, s, p: _out(h, k, s, p) * _out(w, k, s, p) * c_out * c_in * k),
        Mistake("bias adds are counted: a bias add is an addition, not a multiply-accumulate, and is "
                "counted apart.", _MACS_FIX,
                lambda c_in, c_out, h, w, k, s, p: _macs(c_in, c_out, h, w, k, s, p)
                + c_out * _out(h, k, s, p) * _out(w, k, s, p)),
        Mistake("the output size is rounded up; it rounds down (floor): a window that does not fit is not "
                "computed.", _MACS_FIX,
                _macs_with(lambda h, k, s, p: _out(h, k, s, p, math.ceil),
                           lambda w, k, s, p: _out(w, k, s, p, math.ceil))),
        Mistake("the output size leaves out the padding (added on both sides: + 2 * padding).", _MACS_FIX,
                _macs_with(lambda h, k, s, p: _out(h, k, s, 0), lambda w, k, s, p: _out(w, k, s, 0))),
        Mistake("the output size misses the + 1: (H + 2p - K) // s counts the steps between the first window and "
                "the last, not the windows; add 1.", _MACS_FIX,
                _macs_with(lambda h, k, s, p: _out(h, k, s, p) - 1, lambda w, k, s, p: _out(w, k, s, p) - 1)),
        Mistake("the output size leaves out the stride (divide by it: the window jumps stride pixels).", _MACS_FIX,
                _macs_with(lambda h, k, s, p: _out(h, k, 1, p), lambda w, k, s, p: _out(w, k, 1, p))),
        Mistake("the padding is added on one side only: it pads both sides, + 2 * padding.", _MACS_FIX,
                _macs_with(lambda h, k, s, p: (h + p - k) // s + 1, lambda w, k, s, p: (w + p - k) // s + 1)),
    ),
)


# ---------------------------------------------------------------- 6. numerical_gradient

def _reference_gradient(f: Callable, x: np.ndarray, dout: np.ndarray, h: float) -> np.ndarray:
    return numerical_gradient(f, x.copy(), dout, eps=h)


def _one_sided(f: Callable, x: np.ndarray, dout: np.ndarray, h: float, side: int) -> np.ndarray:
    x, grad = x.copy(), np.zeros_like(x)
    base = np.sum(np.asarray(f(x), dtype=np.float64) * dout)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + side * h
        grad[index] = side * (np.sum(np.asarray(f(x), dtype=np.float64) * dout) - base) / h
        x[index] = old
    return grad


def _kept_output(f: Callable, x: np.ndarray, dout: np.ndarray, h: float) -> np.ndarray:
    """The central difference, keeping f(x + h) while f(x - h) is computed (wrong if f reuses its buffer)."""
    x, grad = x.copy(), np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        plus = f(x)
        x[index] = old - h
        minus = f(x)
        x[index] = old
        grad[index] = np.sum((plus - minus) * dout) / (2 * h)
    return grad


def _gradient_cases() -> list[Case]:
    rng = np.random.default_rng(6)
    w = rng.standard_normal((2, 3))
    a = rng.standard_normal((3, 4))
    cases = []
    for label, f, shown, x, out_shape, h in [
            ("element-wise", Function("sin_times"), "lambda v: np.sin(v) * v", rng.standard_normal((3, 4)),
             (3, 4), 1e-3),
            ("a 1x1 convolution and tanh: every output depends on several entries", Function("conv_tanh", (w,)),
             "lambda v: np.tanh(C.conv1x1(v, w)), w (2, 3)", rng.standard_normal((1, 3, 2, 2)), (1, 2, 2, 2), 1e-4),
            ("an output of another shape", Function("matmul_square", (a,)), "lambda v: (v @ a) ** 2, a (3, 4)",
             rng.standard_normal((2, 3)), (2, 4), 1e-3),
            ("a cube on a vector, h = 0.01", Function("cube"), "lambda v: v ** 3", rng.standard_normal(5), (5,), 1e-2),
            ("an f that writes every output into the same buffer, as layers that reuse memory do",
             Function("square_into_one_buffer", (np.array([2, 3]),)), "v ** 2 into one buffer, returned each call",
             rng.standard_normal((2, 3)), (2, 3), 1e-3)]:
        cases.append(Case((f, x, rng.standard_normal(out_shape), h), label, shown={"f": shown},
                          slack={"x": 1e-12 * (1 + float(np.abs(x).max()))}))
    return cases


GRADIENT = Exercise(
    name="numerical_gradient",
    params=("f", "x", "dout", "h"),
    summary="the central-difference gradient that judges every backward pass",
    task="""\
The numerical gradient of L(x) = sum(f(x) * dout) with respect to x, by central differences: nudge
one entry of x at a time by +h and by -h,

    grad[i] = (L(x + h e_i) - L(x - h e_i)) / (2 h)

and put it back before the next one, so that x is unchanged when you return.

Parameters
    f : callable          takes an array shaped like x and returns an array shaped like dout
    x : ndarray, float64  the point to differentiate at
    dout : ndarray        the upstream gradient, the shape of f(x)
    h : float             the nudge
Returns
    grad : ndarray, the shape of x""",
    hints=("np.ndindex(x.shape) walks over every index of an array of any shape.",
           "f may return the same buffer twice: np.sum(f(x) * dout) straight away keeps the number you need."),
    returns=(Part("grad", "array", "the shape of x"),),
    answer=_reference_gradient,
    cases=_gradient_cases,
    mistakes=(
        Mistake("a one-sided difference (f(x + h) - f(x)) / h; the gradient wants the central difference "
                "(f(x + h) - f(x - h)) / (2h), whose error shrinks like h**2, not like h.",
                "evaluate L at x + h and at x - h, and divide the difference by 2 * h.",
                lambda f, x, dout, h: _one_sided(f, x, dout, h, +1)),
        Mistake("a one-sided difference (f(x) - f(x - h)) / h; the gradient wants the central difference "
                "(f(x + h) - f(x - h)) / (2h), whose error shrinks like h**2, not like h.",
                "evaluate L at x + h and at x - h, and divide the difference by 2 * h.",
                lambda f, x, dout, h: _one_sided(f, x, dout, h, -1)),
        Mistake("dout is ignored: you differentiate sum(f(x)), not sum(f(x) * dout).",
                "weight f's outputs by dout before summing: np.sum((f_plus - f_minus) * dout) / (2 * h).",
                lambda f, x, dout, h: numerical_gradient(f, x.copy(), np.ones_like(dout), eps=h)),
        Mistake("divided by h instead of 2h: your gradient is twice the right one. The central difference spans "
                "2h, from x - h to x + h.", "divide by 2 * h.",
                lambda f, x, dout, h: 2 * numerical_gradient(f, x.copy(), dout, eps=h)),
        Mistake("f's output is kept while f is called again: an f may return the same buffer at every call, so "
                "f(x + h) - f(x - h) is then 0.", "reduce each output to its number straight away: "
                "plus = np.sum(f(x) * dout), or copy it: f(x).copy().",
                _kept_output),
    ),
    modified_hints={"x": "x is not restored: after nudging x[i], put its old value back (old = x[i] ... "
                         "x[i] = old, in a try/finally), so that x is unchanged when you return"},
)


# ---------------------------------------------------------------- 7. global_avg_pool_backward

def _gap_backward(dout: np.ndarray, x_shape: tuple[int, ...]) -> np.ndarray:
    _, cache = global_avg_pool_forward(np.zeros(x_shape, dout.dtype))
    return global_avg_pool_backward(dout, cache)


def _gap_cases() -> list[Case]:
    rng = np.random.default_rng(7)
    return [Case((_normal(rng, (2, 3, 1, 1)), (2, 3, 4, 5)), "the usual shapes"),
            Case((_normal(rng, (1, 4, 1, 1), np.float32), (1, 4, 3, 3)), "float32"),
            Case((_normal(rng, (3, 2, 1, 1)), (3, 2, 1, 6)), "a 1x6 map"),
            Case((_normal(rng, (2, 1, 1, 1)), (2, 1, 1, 1)), "a 1x1 map: nothing to average"),
            Case((_normal(rng, (2, 3, 1, 1), np.float32), (2, 3, 4, 5)),
                 "float32, the shapes of case 1: a cache kept by shape goes stale")]


_GAP_FIX = "dx[n, c, h, w] = dout[n, c, 0, 0] / (H*W): np.broadcast_to(dout / (H * W), x_shape), or a copy of it."

GAP = Exercise(
    name="global_avg_pool_backward",
    params=("dout", "x_shape"),
    summary="the backward pass of global average pooling",
    task="""\
Backward pass of global average pooling, whose forward pass computed

    out[n, c, 0, 0] = mean over h, w of x[n, c, h, w]

Given dout, the gradient of the loss with respect to out, return dx, the gradient with respect to x.

Parameters
    dout : ndarray, shape (N, C, 1, 1)   the gradient of the loss with respect to out
    x_shape : tuple of int               (N, C, H, W), the shape of the forward pass's input
Returns
    dx : ndarray, shape x_shape, in the dtype of dout
Do not modify dout.""",
    hints=("How much does out[n, c, 0, 0] change when one pixel x[n, c, h, w] grows by 1?",
           "Broadcasting a (N, C, 1, 1) array against (N, C, H, W) repeats it over every pixel."),
    returns=(Part("dx", "array", "x_shape"),),
    answer=_gap_backward,
    cases=_gap_cases,
    mistakes=(
        Mistake("dx is not divided by the number of pixels H*W: the mean weighs each pixel 1 / (H*W).", _GAP_FIX,
                lambda dout, shape: np.broadcast_to(dout, shape)),
        Mistake("dx is divided by H, not by the number of pixels H*W.", _GAP_FIX,
                lambda dout, shape: np.broadcast_to(dout / shape[2], shape)),
        Mistake("dx is divided by W, not by the number of pixels H*W.", _GAP_FIX,
                lambda dout, shape: np.broadcast_to(dout / shape[3], shape)),
        Mistake("dx is divided by N*H*W: a channel's mean is over its H*W pixels only, each image has its own.",
                _GAP_FIX, lambda dout, shape: np.broadcast_to(dout / (shape[0] * shape[2] * shape[3]), shape)),
    ),
)


# ---------------------------------------------------------------- 8. softmax_cross_entropy

def _softmax(scores: np.ndarray, axis: int = 1) -> np.ndarray:
    e = np.exp(scores - scores.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _one_hot(y: np.ndarray, k: int, dtype: DTypeLike) -> np.ndarray:
    return np.eye(k, dtype=dtype)[y]


def _naive(scores: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy without subtracting the maximum: overflows for scores above ~709."""
    e = np.exp(scores)
    p = e / e.sum(axis=1, keepdims=True)
    n = len(y)
    return float(-np.log(p[np.arange(n), y]).mean()), (p - _one_hot(y, scores.shape[1], scores.dtype)) / n


def _softmax_cases() -> list[Case]:
    rng = np.random.default_rng(8)
    return [Case((_normal(rng, (4, 5)), np.array([0, 3, 4, 3])), "4 images, 5 classes"),
            Case((_normal(rng, (3, 4)) * 3 + 1000, np.array([2, 0, 1])), "large scores, about 1000"),
            Case((_normal(rng, (2, 3), np.float32), np.array([1, 1])), "float32"),
            Case((_normal(rng, (1, 6)), np.array([5])), "one image"),
            Case((np.array([[1000.0, 0.0], [0.0, 1.0]]), np.array([0, 1])),
                 "rows of very different sizes: each row's own maximum must come off")]


_CE_FIX = "loss = mean over n of -log p[n, y[n]]; dscores = (p - one_hot(y)) / N, with p = softmax(scores, axis=1)."

SOFTMAX = Exercise(
    name="softmax_cross_entropy",
    params=("scores", "y"),
    summary="the loss at the end of a classifier, and its gradient",
    task="""\
Mean softmax cross-entropy over a batch of N images with K class scores each, and its gradient
dscores, the derivative of the loss with respect to each score:

    p[n] = softmax(scores[n]) = exp(scores[n]) / sum(exp(scores[n]))
    loss = mean over n of -log p[n, y[n]]

exp overflows above about 709: subtract each row's maximum first, which does not change the softmax.

Parameters
    scores : ndarray, shape (N, K)   unnormalised class scores
    y : ndarray of int, shape (N,)   the true class of each image, in 0 .. K-1
Returns
    the tuple (loss, dscores): loss a float, dscores (N, K) in the dtype of scores
Do not modify scores or y.""",
    hints=("scores[np.arange(N), y] picks each image's score for its true class.",
           "Differentiate -log p[n, y[n]] with respect to scores[n, k] for k == y[n] and for k != y[n]."),
    returns=(Part("loss", "float"), Part("dscores", "array", "(N, K)")),
    answer=softmax_cross_entropy,
    cases=_softmax_cases,
    mistakes=(
        Mistake("the loss is a sum over the batch where the mean belongs.", _CE_FIX,
                lambda s, y: softmax_cross_entropy(s, y)[0] * len(y), part="loss"),
        Mistake("dscores is not divided by N: the loss is a mean over the batch, so each image's gradient is "
                "divided by N (a sum where the mean belongs).", _CE_FIX,
                lambda s, y: softmax_cross_entropy(s, y)[1] * len(y), part="dscores"),
        Mistake("dscores is softmax(scores) / N without the one-hot: subtract 1 at each image's true class.",
                _CE_FIX, lambda s, y: _softmax(s) / len(y), part="dscores"),
        Mistake("dscores has the wrong sign: it is (p - one_hot(y)) / N, not (one_hot(y) - p) / N.", _CE_FIX,
                lambda s, y: -softmax_cross_entropy(s, y)[1], part="dscores"),
        Mistake("the softmax runs over the wrong axis (the images, axis 0); it is over each image's classes.",
                _CE_FIX, lambda s, y: (_softmax(s, 0) - _one_hot(y, s.shape[1], s.dtype)) / len(y), part="dscores"),
        Mistake("exp overflows: without subtracting each row's max, scores above about 709 give inf and then NaN.",
                "subtract each row's max before exp: softmax(s) = softmax(s - s.max(axis=1, keepdims=True)).",
                lambda s, y: _naive(s, y)[0], part="loss"),
        Mistake("exp overflows: without subtracting each row's max, scores above about 709 give inf and then NaN.",
                "subtract each row's max before exp: softmax(s) = softmax(s - s.max(axis=1, keepdims=True)).",
                lambda s, y: _naive(s, y)[1], part="dscores"),
    ),
)


# ---------------------------------------------------------------- 9. depthwise_separable_macs

def _separable_macs(in_channels: int, out_channels: int, height: int, width: int, kernel_size: int, stride: int,
                    padding: int) -> int:
    depthwise = conv_cost(in_channels, in_channels, height, width, kernel_size, stride, padding, bias=False,
                          groups=in_channels)
    _, out_h, out_w = depthwise.out_shape
    return depthwise.macs + conv_cost(in_channels, out_channels, out_h, out_w, 1, bias=False).macs


def _separable_with(depthwise: Callable[..., int], pointwise: Callable[..., int]) -> Callable[..., int]:
    """A mistake's MACs from its (wrong) depthwise and pointwise counts, each given the output size."""
    def macs(c_in: int, c_out: int, h: int, w: int, k: int, s: int, p: int) -> int:
        out_h, out_w = _out(h, k, s, p), _out(w, k, s, p)
        return depthwise(c_in, c_out, out_h, out_w, k) + pointwise(c_in, c_out, out_h, out_w, k, h, w)
    return macs


def _separable_cases() -> list[Case]:
    return [Case((32, 64, 14, 14, 3, 1, 1), "MobileNet's 3x3, 'same'"),
            Case((16, 24, 9, 8, 3, 2, 1), "stride 2, not square"),
            Case((8, 8, 7, 7, 5, 1, 2), "5x5, as many outputs as inputs"),
            Case((8, 8, 10, 10, 3, 1, 0), "3x3 without padding: the map shrinks to 8x8")]


_SEPARABLE_FIX = ("depthwise: H_out * W_out * C_in * K * K (one K x K filter per channel); pointwise: "
                  "H_out * W_out * C_out * C_in (a 1x1 convolution on the depthwise output).")

SEPARABLE = Exercise(
    name="depthwise_separable_macs",
    params=("in_channels", "out_channels", "height", "width", "kernel_size", "stride", "padding"),
    summary="MobileNet's depthwise-separable convolution: a KxK per channel, then a 1x1",
    task="""\
The multiply-accumulates (MACs) of a depthwise-separable convolution on one image, MobileNet's
replacement for a dense KxK convolution: a depthwise KxK convolution (one filter per input channel,
each seeing only its own channel; it carries the stride and the padding) followed by a pointwise 1x1
convolution from in_channels to out_channels on the depthwise output (H_out, W_out):

    H_out = floor((height + 2 * padding - K) / stride) + 1        (W_out alike)

Parameters
    in_channels, out_channels, height, width, kernel_size, stride, padding : int
Returns
    macs : int""",
    hints=("Count the two convolutions apart, then add them.",
           "MobileNet's paper: the ratio to a dense KxK convolution is 1/out_channels + 1/K**2."),
    returns=(Part("macs", "int"),),
    answer=_separable_macs,
    cases=_separable_cases,
    mistakes=(
        Mistake("the depthwise convolution is counted as a dense one: each depthwise filter sees its own channel "
                "only, so it does K x K products per output element, not C_in x K x K.", _SEPARABLE_FIX,
                _separable_with(lambda ci, co, oh, ow, k: oh * ow * ci * ci * k * k,
                                lambda ci, co, oh, ow, k, h, w: oh * ow * co * ci)),
        Mistake("the pointwise 1x1 convolution is forgotten: after the depthwise KxK comes a 1x1 from C_in to "
                "C_out channels.", _SEPARABLE_FIX,
                _separable_with(lambda ci, co, oh, ow, k: oh * ow * ci * k * k, lambda *a: 0)),
        Mistake("the pointwise 1x1 convolution is counted with a K x K kernel; it is a 1x1.", _SEPARABLE_FIX,
                _separable_with(lambda ci, co, oh, ow, k: oh * ow * ci * k * k,
                                lambda ci, co, oh, ow, k, h, w: oh * ow * co * ci * k * k)),
        Mistake("the pointwise 1x1 convolution runs on the input size; it runs on the depthwise output size "
                "(H_out x W_out).", _SEPARABLE_FIX,
                _separable_with(lambda ci, co, oh, ow, k: oh * ow * ci * k * k,
                                lambda ci, co, oh, ow, k, h, w: h * w * co * ci)),
        Mistake("FLOPs are counted instead of MACs: your count is 2x the MACs (1 MAC = 2 FLOPs).", _SEPARABLE_FIX,
                lambda *a: 2 * _separable_macs(*a)),
        Mistake("a dense KxK convolution from C_in to C_out is counted, the one the depthwise-separable "
                "convolution replaces: count a depthwise KxK, then a pointwise 1x1.", _SEPARABLE_FIX,
                lambda c_in, c_out, h, w, k, s, p: _macs(c_in, c_out, h, w, k, s, p)),
        Mistake("the output size misses the + 1: (H + 2p - K) // s counts the steps between the first window and "
                "the last, not the windows; add 1.", _SEPARABLE_FIX,
                lambda c_in, c_out, h, w, k, s, p: ((h + 2 * p - k) // s) * ((w + 2 * p - k) // s)
                * c_in * (k * k + c_out)),
    ),
)


EXERCISES = {exercise.name: exercise
             for exercise in (FORWARD, BACKWARD, RELU, PARAMS, MACS, GRADIENT, GAP, SOFTMAX, SEPARABLE)}
