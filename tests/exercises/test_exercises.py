"""conv1x1.exercises: correct attempts in several styles pass; each known mistake, written out here by hand,
fails with a message that names it; whatever an attempt does (raise, return junk, modify its inputs,
never return, tamper with the checker), the checker keeps working and says what happened."""

import math
import re
import threading
from pathlib import Path

import numpy as np
import pytest

import conv1x1 as C
from conv1x1 import exercises
from conv1x1.exercises.run import copy_args
from conv1x1.exercises.tasks import EXERCISES

# ---------------------------------------------------------------- correct attempts, several styles each


def forward_loops(x, w, b):
    n, c_in, height, width = x.shape
    out = np.zeros((n, w.shape[0], height, width), dtype=x.dtype)
    for i in range(n):
        for o in range(w.shape[0]):
            for r in range(height):
                for c in range(width):
                    out[i, o, r, c] = np.dot(w[o], x[i, :, r, c]) + b[o]
    return out


def forward_einsum(x, w, b):
    return np.einsum("oc,nchw->nohw", w, x) + b[None, :, None, None]


def forward_matmul(x, w, b):
    n, c_in, height, width = x.shape
    return (w @ x.reshape(n, c_in, height * width) + b[:, None]).reshape(n, -1, height, width)


def forward_tensordot(x, w, b):
    return np.tensordot(w, x, axes=([1], [1])).transpose(1, 0, 2, 3) + b[:, None, None]


def forward_channels_last(x, w, b):
    return (x.transpose(0, 2, 3, 1) @ w.T + b).transpose(0, 3, 1, 2)


def backward_einsum(dout, x, w):
    return (np.einsum("oc,nohw->nchw", w, dout), np.einsum("nohw,nchw->oc", dout, x), dout.sum(axis=(0, 2, 3)))


def backward_matmul(dout, x, w):
    n, c_in, height, width = x.shape
    d = dout.reshape(n, -1, height * width)
    xm = x.reshape(n, c_in, height * width)
    return (w.T @ d).reshape(x.shape), (d @ xm.transpose(0, 2, 1)).sum(axis=0), d.sum(axis=(0, 2))


def backward_loops(dout, x, w):
    dx, dw = np.zeros_like(x), np.zeros_like(w)
    for n in range(x.shape[0]):
        xn = x[n].reshape(x.shape[1], -1)
        dn = dout[n].reshape(dout.shape[1], -1)
        dx[n] = (w.T @ dn).reshape(x.shape[1:])
        dw += dn @ xn.T
    return dx, dw, dout.sum(axis=(0, 2, 3))


def backward_tensordot(dout, x, w):
    dx = np.tensordot(w, dout, axes=([0], [1])).transpose(1, 0, 2, 3)
    return dx, np.tensordot(dout, x, axes=([0, 2, 3], [0, 2, 3])), dout.sum(axis=(0, 2, 3))


def backward_channels_last(dout, x, w):
    d, xl = dout.transpose(0, 2, 3, 1), x.transpose(0, 2, 3, 1)      # (N, H, W, C)
    dx = (d @ w).transpose(0, 3, 1, 2)
    dw = d.reshape(-1, d.shape[-1]).T @ xl.reshape(-1, xl.shape[-1])
    return dx, dw, d.reshape(-1, d.shape[-1]).sum(axis=0)


def relu_mask(dout, x):
    return dout * (x > 0)


def relu_where(dout, x):
    return np.where(x > 0, dout, 0.0)


def relu_copy(dout, x):
    dx = dout.copy()
    dx[x <= 0] = 0
    return dx


def params_formula(in_channels, out_channels, kernel_size, bias):
    return out_channels * in_channels * kernel_size ** 2 + (out_channels if bias else 0)


def params_loop(in_channels, out_channels, kernel_size, bias):
    count = 0
    for _ in range(out_channels):
        count += in_channels * kernel_size * kernel_size + int(bias)
    return count


def macs_floor_division(in_channels, out_channels, height, width, kernel_size, stride, padding):
    h_out = (height + 2 * padding - kernel_size) // stride + 1
    w_out = (width + 2 * padding - kernel_size) // stride + 1
    return h_out * w_out * out_channels * in_channels * kernel_size * kernel_size


def macs_math_floor(in_channels, out_channels, height, width, kernel_size, stride, padding):
    size = [math.floor((s + 2 * padding - kernel_size) / stride) + 1 for s in (height, width)]
    return int(np.prod(size)) * out_channels * in_channels * kernel_size ** 2


def gradient_restoring(f, x, dout, h):
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        plus = np.sum(f(x) * dout)
        x[index] = old - h
        minus = np.sum(f(x) * dout)
        x[index] = old
        grad[index] = (plus - minus) / (2 * h)
    return grad


def gradient_on_copies(f, x, dout, h):
    flat = np.zeros(x.size)
    for i in range(x.size):
        step = np.zeros(x.size)
        step[i] = h
        step = step.reshape(x.shape)
        plus = np.sum(f(x + step) * dout)
        flat[i] = (plus - np.sum(f(x - step) * dout)) / (2 * h)
    return flat.reshape(x.shape)


def gap_broadcast(dout, x_shape):
    return np.broadcast_to(dout / (x_shape[2] * x_shape[3]), x_shape)


def gap_loops(dout, x_shape):
    n, c, height, width = x_shape
    dx = np.zeros(x_shape, dtype=dout.dtype)
    for i in range(n):
        for j in range(c):
            dx[i, j] = dout[i, j, 0, 0] / (height * width)
    return dx


def softmax_stable(scores, y):
    shifted = scores - scores.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    n = len(y)
    loss = -np.log(p[np.arange(n), y]).mean()
    dscores = p.copy()
    dscores[np.arange(n), y] -= 1
    return float(loss), dscores / n


def softmax_logsumexp(scores, y):
    m = scores.max(axis=1, keepdims=True)
    log_p = scores - m - np.log(np.exp(scores - m).sum(axis=1, keepdims=True))
    one_hot = np.eye(scores.shape[1], dtype=scores.dtype)[y]
    return -np.mean(log_p[np.arange(len(y)), y]), (np.exp(log_p) - one_hot) / len(y)


def separable_two_convolutions(in_channels, out_channels, height, width, kernel_size, stride, padding):
    h_out = (height + 2 * padding - kernel_size) // stride + 1
    w_out = (width + 2 * padding - kernel_size) // stride + 1
    depthwise = h_out * w_out * in_channels * kernel_size ** 2
    return depthwise + h_out * w_out * out_channels * in_channels


def separable_from_the_library(in_channels, out_channels, height, width, kernel_size, stride, padding):
    depthwise = C.cost.conv_cost(in_channels, in_channels, height, width, kernel_size, stride, padding, bias=False,
                                 groups=in_channels)
    return depthwise.macs + C.cost.conv_cost(in_channels, out_channels, *depthwise.out_shape[1:], 1, bias=False).macs


CORRECT = {
    "conv1x1_forward": [forward_loops, forward_einsum, forward_matmul, forward_tensordot, forward_channels_last],
    "conv1x1_backward": [backward_einsum, backward_matmul, backward_loops, backward_tensordot, backward_channels_last],
    "relu_backward": [relu_mask, relu_where, relu_copy],
    "conv_params": [params_formula, params_loop],
    "conv_macs": [macs_floor_division, macs_math_floor],
    "numerical_gradient": [gradient_restoring, gradient_on_copies],
    "global_avg_pool_backward": [gap_broadcast, gap_loops],
    "softmax_cross_entropy": [softmax_stable, softmax_logsumexp],
    "depthwise_separable_macs": [separable_two_convolutions, separable_from_the_library],
}
ARRAY_INPUTS = [name for name in CORRECT if name not in ("conv_params", "conv_macs", "depthwise_separable_macs")]


def failed(name, fn, *words, timeout=5):
    """Check ``fn``; it must fail, and the message must contain each of ``words``."""
    result = exercises.check(name, fn, timeout=timeout)
    assert not result.passed, result.message
    for word in words:
        assert word in result.message, f"{word!r} not in:\n{result.message}"
    return result.message


# ---------------------------------------------------------------- the contract


def test_names_lists_the_exercises_in_teaching_order():
    assert exercises.names()[:7] == ["conv1x1_forward", "conv1x1_backward", "relu_backward", "conv_params",
                                     "conv_macs", "numerical_gradient", "global_avg_pool_backward"]
    assert set(exercises.names()) == set(CORRECT)


@pytest.mark.parametrize("name, signature", [
    ("conv1x1_forward", "def conv1x1_forward(x, w, b):"),
    ("conv1x1_backward", "def conv1x1_backward(dout, x, w):"),
    ("relu_backward", "def relu_backward(dout, x):"),
    ("conv_params", "def conv_params(in_channels, out_channels, kernel_size, bias):"),
    ("conv_macs", "def conv_macs(in_channels, out_channels, height, width, kernel_size, stride, padding):"),
    ("numerical_gradient", "def numerical_gradient(f, x, dout, h):"),
    ("global_avg_pool_backward", "def global_avg_pool_backward(dout, x_shape):"),
])
def test_show_gives_the_exact_signature_and_hints(name, signature):
    text = exercises.show(name)
    assert signature in text
    assert "Hints" in text and f'exercises.check("{name}", {name})' in text


def test_show_states_the_shapes_of_the_forward_pass():
    text = exercises.show("conv1x1_forward")
    for shape in ("(N, C_in, H, W)", "(C_out, C_in)", "(C_out,)", "(N, C_out, H, W)"):
        assert shape in text


def test_unknown_exercise_is_a_value_error_listing_the_valid_names():
    for call in (lambda: exercises.check("conv1x1_fwd", forward_einsum), lambda: exercises.show("conv1x1_fwd")):
        with pytest.raises(ValueError, match="conv1x1_fwd") as caught:
            call()
        assert all(name in str(caught.value) for name in exercises.names())


def test_check_refuses_a_non_callable_and_a_bad_timeout():
    with pytest.raises(TypeError, match="callable"):
        exercises.check("relu_backward", None)
    for timeout in (0, -1, float("nan"), float("inf"), True, "10"):
        with pytest.raises(ValueError, match="timeout"):
            exercises.check("relu_backward", relu_mask, timeout=timeout)


def test_result_prints_as_its_message():
    result = exercises.check("relu_backward", relu_mask)
    assert result.passed is True
    assert str(result) == result.message and result.message.startswith("relu_backward: passed all 4 cases")


def test_skeleton_compiles_and_raises_not_implemented_which_the_checker_reports():
    for name in exercises.names():
        namespace = {}
        exec(compile(exercises.skeleton(name), f"{name}.py", "exec"), namespace)  # noqa: S102 - our own text
        failed(name, namespace[name], "NotImplementedError", "Replace that line with your code")


# ---------------------------------------------------------------- correct attempts pass


@pytest.mark.parametrize("name, fn", [(name, fn) for name, fns in CORRECT.items() for fn in fns],
                         ids=lambda v: getattr(v, "__name__", v))
def test_a_correct_attempt_passes_in_any_style(name, fn):
    result = exercises.check(name, fn)
    assert result.passed, result.message
    assert "passed all" in result.message


def test_lambdas_and_closures_are_checked_like_functions():
    assert exercises.check("relu_backward", lambda dout, x: dout * (x > 0)).passed

    def make(scale):
        def attempt(dout, x_shape):
            return np.broadcast_to(dout * scale / (x_shape[2] * x_shape[3]), x_shape)
        return attempt
    assert exercises.check("global_avg_pool_backward", make(1.0)).passed
    failed("global_avg_pool_backward", make(2.0), "wrong at")


def test_the_library_itself_passes_where_its_signature_is_the_exercises():
    assert exercises.check("relu_backward", C.relu_backward).passed           # its cache is x
    assert exercises.check("numerical_gradient", C.gradcheck.numerical_gradient).passed
    assert exercises.check("softmax_cross_entropy", C.softmax_cross_entropy).passed


# ---------------------------------------------------------------- 1. conv1x1_forward mistakes


def test_forward_transposed_weights_are_named_on_the_square_case():
    message = failed("conv1x1_forward", lambda x, w, b: np.einsum("co,nchw->nohw", w, x) + b[:, None, None],
                     "transposed", "square: C_in = C_out = H = W = 3", "w.T", "fix:")
    assert "raised ValueError on cases 1" in message      # the non-square cases cannot run it


def test_forward_missing_bias_is_named():
    failed("conv1x1_forward", lambda x, w, b: np.einsum("oc,nchw->nohw", w, x), "bias is missing")


@pytest.mark.parametrize("attempt, axis", [
    (lambda x, w, b: np.einsum("oc,nchw->nohw", w, x) + b, "(W, the last one)"),
    (lambda x, w, b: np.einsum("oc,nchw->nohw", w, x) + b[:, None], "(H)"),
])
def test_forward_bias_along_the_wrong_axis_is_named(attempt, axis):
    failed("conv1x1_forward", attempt, "bias", "wrong axis", axis, "b[None, :, None, None]")


def test_forward_channels_last_output_is_named_with_both_shapes():
    message = failed("conv1x1_forward", lambda x, w, b: np.einsum("oc,nchw->nhwo", w, x) + b,
                     "channels-last", "out.transpose(0, 3, 1, 2)")
    assert "an array (2, 5, 6, 3), where (N, C_out, H, W) = (2, 3, 5, 6) was expected" in message


def test_forward_reshape_in_place_of_transpose_is_named():
    def attempt(x, w, b):
        n, c, h, wd = x.shape
        return (x.reshape(n, h, wd, c) @ w.T + b).reshape(n, -1, h, wd)
    failed("conv1x1_forward", attempt, "a reshape where a transpose belongs")


def test_forward_says_what_differs_when_no_known_mistake_matches():
    message = failed("conv1x1_forward", lambda x, w, b: forward_einsum(x, w, b) * 1.5, "wrong at", "largest error")
    assert "mistake:" not in message


# ---------------------------------------------------------------- 2. conv1x1_backward mistakes


def test_backward_dw_from_one_image_is_named_batch():
    def attempt(dout, x, w):
        dx, _, db = backward_einsum(dout, x, w)
        return dx, np.einsum("ohw,chw->oc", dout[0], x[0]), db
    failed("conv1x1_backward", attempt, "batch", "dw comes from the first image only", "dw[")


def test_backward_dw_overwritten_in_the_loop_over_images_is_named_batch():
    def attempt(dout, x, w):
        dx, _, db = backward_einsum(dout, x, w)
        for n in range(x.shape[0]):
            dw = dout[n].reshape(dout.shape[1], -1) @ x[n].reshape(x.shape[1], -1).T
        return dx, dw, db
    failed("conv1x1_backward", attempt, "batch", "last image")


def test_backward_dw_transposed_is_named():
    def attempt(dout, x, w):
        dx, dw, db = backward_einsum(dout, x, w)
        return dx, dw.T, db
    failed("conv1x1_backward", attempt, "transposed", "dw is transposed")


def test_backward_dx_with_w_instead_of_w_transposed_is_named_on_the_square_case():
    def attempt(dout, x, w):
        n, c, h, wd = dout.shape
        dx = (w @ dout.reshape(n, c, h * wd)).reshape(n, -1, h, wd)
        return dx, np.einsum("nohw,nchw->oc", dout, x), dout.sum(axis=(0, 2, 3))
    failed("conv1x1_backward", attempt, "transposed", "w.T", "square")


@pytest.mark.parametrize("axes", [0, (0, 2), (2, 3), (1, 2, 3), None])
def test_backward_db_over_the_wrong_axes_names_db_and_its_shape(axes):
    def attempt(dout, x, w):
        dx, dw, _ = backward_einsum(dout, x, w)
        return dx, dw, dout.sum(axis=axes)
    failed("conv1x1_backward", attempt, "db is summed over the wrong axes", "(C_out,)", "(C_out,) = (3,)")


@pytest.mark.parametrize("which", ["dw", "db"])
def test_backward_a_mean_where_the_sum_belongs_is_named(which):
    def attempt(dout, x, w):
        dx, dw, db = backward_einsum(dout, x, w)
        if which == "dw":
            return dx, dw / x.shape[0], db
        return dx, dw, dout.mean(axis=(0, 2, 3))
    failed("conv1x1_backward", attempt, f"{which} is a mean", "sum")


@pytest.mark.parametrize("returned, said", [
    (lambda dx, dw, db: (dx, dw), "a tuple of 2, not the 3-tuple (dx, dw, db)"),
    (lambda dx, dw, db: dx, "an array (2, 4, 5, 6) float64, not a tuple: return the 3-tuple (dx, dw, db)"),
    (lambda dx, dw, db: {"dx": dx, "dw": dw, "db": db}, "a dict, not a tuple"),
    (lambda dx, dw, db: (dw, dx, db), "the right values in the wrong order: return them as (dx, dw, db)"),
])
def test_backward_not_a_three_tuple_says_dx_dw_db(returned, said):
    failed("conv1x1_backward", lambda dout, x, w: returned(*backward_einsum(dout, x, w)), said)


def test_backward_a_list_of_three_is_accepted():
    assert exercises.check("conv1x1_backward", lambda dout, x, w: list(backward_einsum(dout, x, w))).passed


# ---------------------------------------------------------------- 3. relu_backward mistakes


def test_relu_mask_without_dout_is_named():
    failed("relu_backward", lambda dout, x: (x > 0).astype(x.dtype), "dout is never multiplied in")


def test_relu_mask_as_booleans_is_named_too():
    failed("relu_backward", lambda dout, x: x > 0, "dout is never multiplied in")


def test_relu_gradient_one_at_zero_is_named():
    failed("relu_backward", lambda dout, x: np.where(x >= 0, dout, 0), "x == 0", "use x > 0, not x >= 0")


def test_relu_written_into_dout_is_reported_as_modified():
    def attempt(dout, x):
        dout[x <= 0] = 0
        return dout
    failed("relu_backward", attempt, "modified its input dout", "dout.copy()")


# ---------------------------------------------------------------- 4. conv_params mistakes


@pytest.mark.parametrize("attempt, words", [
    (lambda c_in, c_out, k, bias: c_out * c_in * k * k, ["bias is forgotten"]),
    (lambda c_in, c_out, k, bias: c_out * c_in * k * k + c_out, ["bias is counted although bias=False"]),
    (lambda c_in, c_out, k, bias: c_out * c_in + c_out * bias, ["kernel area is forgotten"]),
    (lambda c_in, c_out, k, bias: c_out * k * k + c_out * bias, ["in_channels is forgotten"]),
])
def test_conv_params_mistakes_are_named(attempt, words):
    failed("conv_params", attempt, *words)


def test_conv_params_says_got_and_expected_numbers():
    message = failed("conv_params", lambda c_in, c_out, k, bias: c_out * c_in * k * k)
    assert "got:      288" in message and "expected: 296" in message   # 8 * 4 * 3 * 3 (+ 8 biases)


# ---------------------------------------------------------------- 5. conv_macs mistakes


def _out(size, k, s, p, rounding=math.floor):
    return rounding((size + 2 * p - k) / s) + 1


@pytest.mark.parametrize("attempt, words", [
    (lambda *a: 2 * macs_floor_division(*a), ["FLOPs", "2x the MACs"]),
    (lambda ci, co, h, w, k, s, p: h * w * co * ci * k * k, ["output size", "input size"]),
    (lambda ci, co, h, w, k, s, p: _out(h, k, s, p) * _out(w, k, s, p) * co * ci, ["kernel area"]),
    (lambda ci, co, h, w, k, s, p: macs_floor_division(ci, co, h, w, k, s, p)
     + co * _out(h, k, s, p) * _out(w, k, s, p), ["bias adds are counted"]),
    (lambda ci, co, h, w, k, s, p: _out(h, k, s, p, math.ceil) * _out(w, k, s, p, math.ceil) * co * ci * k * k,
     ["rounded up", "floor"]),
])
def test_conv_macs_mistakes_are_named(attempt, words):
    failed("conv_macs", attempt, *words)


def test_conv_macs_a_float_count_is_refused_with_a_hint_to_floor_divide():
    def attempt(ci, co, h, w, k, s, p):
        return ((h + 2 * p - k) / s + 1) * ((w + 2 * p - k) / s + 1) * co * ci * k * k
    failed("conv_macs", attempt, "the float", "use //")


# ---------------------------------------------------------------- 6. numerical_gradient mistakes


def test_numerical_gradient_one_sided_difference_is_named():
    def attempt(f, x, dout, h):
        grad, base = np.zeros_like(x), np.sum(f(x) * dout)
        for index in np.ndindex(x.shape):
            old = x[index]
            x[index] = old + h
            grad[index] = (np.sum(f(x) * dout) - base) / h
            x[index] = old
        return grad
    failed("numerical_gradient", attempt, "one-sided", "central")


def nudging_in_place(put_back):
    """A central difference that nudges x by +h, then -2h, and (if ``put_back``) +h again."""
    def attempt(f, x, dout, h):
        grad = np.zeros_like(x)
        for index in np.ndindex(x.shape):
            x[index] += h
            plus = np.sum(f(x) * dout)
            x[index] -= 2 * h
            grad[index] = (plus - np.sum(f(x) * dout)) / (2 * h)
            if put_back:
                x[index] += h          # back to x, give or take the last bit
        return grad
    return attempt


def test_numerical_gradient_x_not_restored_is_named():
    failed("numerical_gradient", nudging_in_place(put_back=False), "modified its input x", "restore")


def test_numerical_gradient_restored_up_to_rounding_passes():
    result = exercises.check("numerical_gradient", nudging_in_place(put_back=True))
    assert result.passed, result.message


def test_numerical_gradient_dout_ignored_is_named():
    failed("numerical_gradient", lambda f, x, dout, h: gradient_restoring(f, x, np.ones_like(dout), h),
           "dout is ignored")


def test_numerical_gradient_divided_by_h_is_named():
    failed("numerical_gradient", lambda f, x, dout, h: 2 * gradient_restoring(f, x, dout, h), "2h")


# ---------------------------------------------------------------- 7. global_avg_pool_backward mistake


def test_global_avg_pool_backward_not_divided_by_the_pixels_is_named():
    failed("global_avg_pool_backward", lambda dout, x_shape: np.broadcast_to(dout, x_shape), "H*W")


# ---------------------------------------------------------------- 8. softmax_cross_entropy mistakes


def test_softmax_cross_entropy_without_the_max_overflows_and_is_named():
    def attempt(scores, y):
        p = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        n = len(y)
        dscores = p.copy()
        dscores[np.arange(n), y] -= 1
        return float(-np.log(p[np.arange(n), y]).mean()), dscores / n
    failed("softmax_cross_entropy", attempt, "exp overflows", "large scores")


def test_softmax_cross_entropy_without_the_one_hot_and_summed_are_named():
    def no_one_hot(scores, y):
        loss, _ = softmax_stable(scores, y)
        p = np.exp(scores - scores.max(axis=1, keepdims=True))
        return loss, p / p.sum(axis=1, keepdims=True) / len(y)
    failed("softmax_cross_entropy", no_one_hot, "without the one-hot")

    def summed(scores, y):
        loss, dscores = softmax_stable(scores, y)
        return loss * len(y), dscores * len(y)
    failed("softmax_cross_entropy", summed, "the loss is a sum over the batch", "dscores is not divided by N")


def test_softmax_cross_entropy_with_one_maximum_for_the_whole_batch_fails_on_rows_of_different_sizes():
    """Subtracting the batch's maximum, not each row's, is right on rows of similar sizes; on rows of very
    different sizes exp underflows to 0 in a whole row and the loss is NaN."""
    def attempt(scores, y):
        p = np.exp(scores - scores.max())
        p /= p.sum(axis=1, keepdims=True)
        n = len(y)
        dscores = p.copy()
        dscores[np.arange(n), y] -= 1
        return float(-np.log(p[np.arange(n), y]).mean()), dscores / n
    failed("softmax_cross_entropy", attempt, "rows of very different sizes", "nan")


# ---------------------------------------------------------------- 9. depthwise_separable_macs mistakes


def _dense_kxk(ci, co, h, w, k, s, p):
    return _out(h, k, s, p) * _out(w, k, s, p) * co * ci * k * k


@pytest.mark.parametrize("attempt, words", [
    (lambda ci, co, h, w, k, s, p: _dense_kxk(ci, ci, h, w, k, s, p) + _dense_kxk(ci, co, h, w, k, s, p) // k // k,
     ["depthwise convolution is counted as a dense one"]),
    (lambda ci, co, h, w, k, s, p: _dense_kxk(ci, co, h, w, k, s, p) // co, ["pointwise 1x1 convolution is forgotten"]),
    (lambda ci, co, h, w, k, s, p: _dense_kxk(ci, co, h, w, k, s, p) // co + h * w * co * ci, ["on the input size"]),
])
def test_depthwise_separable_macs_mistakes_are_named(attempt, words):
    failed("depthwise_separable_macs", attempt, *words)


def test_depthwise_separable_macs_with_the_same_output_size_fails_without_padding():
    """ceil(H / S) for the output size ignores K and the padding: right whenever the padding is (K - 1) / 2,
    wrong on a case without padding."""
    def attempt(ci, co, h, w, k, s, p):
        out_h, out_w = -(-h // s), -(-w // s)
        return out_h * out_w * ci * k * k + out_h * out_w * co * ci
    failed("depthwise_separable_macs", attempt, "without padding", "expected: 8704")


# ---------------------------------------------------------------- whatever the attempt does


def _first_array_index(name):
    return 1 if name == "numerical_gradient" else 0


@pytest.mark.parametrize("name", list(CORRECT))
def test_an_exception_is_reported_with_its_type_message_and_the_learners_line(name):
    def attempt(*args):
        raise KeyError("my own failure")
    message = failed(name, attempt, "raised KeyError", "my own failure", "test_exercises.py",
                     'raise KeyError("my own failure")', "in attempt")
    assert re.search(r"at line \d+ of test_exercises\.py, in attempt", message)


def test_the_learners_line_is_found_below_a_numpy_call():
    def attempt(x, w, b):
        return np.einsum("oc,nchw->nohw", w, x[0])     # x[0] is 3-D: einsum raises inside NumPy
    failed("conv1x1_forward", attempt, "raised ValueError", 'return np.einsum("oc,nchw->nohw", w, x[0])')


@pytest.mark.parametrize("name", list(CORRECT))
def test_none_is_reported(name):
    failed(name, lambda *args: None, "got:      None")


@pytest.mark.parametrize("name", list(CORRECT))
def test_a_wrong_type_is_reported(name):
    failed(name, lambda *args: "text", "a str")


@pytest.mark.parametrize("name", ["conv1x1_forward", "relu_backward", "numerical_gradient", "global_avg_pool_backward"])
def test_a_wrong_shape_is_reported(name):
    fn = CORRECT[name][0]
    failed(name, lambda *args: fn(*args)[..., None], "where", "was expected")


def test_a_list_in_place_of_an_array_is_reported():
    failed("relu_backward", lambda dout, x: relu_mask(dout, x).tolist(), "a list", "np.array")


@pytest.mark.parametrize("name", ["conv1x1_forward", "relu_backward", "global_avg_pool_backward"])
def test_a_wrong_dtype_is_reported_when_the_values_are_right(name):
    fn = CORRECT[name][0]
    failed(name, lambda *args: fn(*args).astype(np.float64), "the right values, but in float64 where float32")


def test_a_float64_output_from_loops_over_np_zeros_is_the_dtype_failure():
    def attempt(x, w, b):
        out = np.zeros((x.shape[0], w.shape[0], x.shape[2], x.shape[3]))     # float64 whatever x is
        out[:] = forward_einsum(x, w, b)
        return out
    failed("conv1x1_forward", attempt, "float32", "dtype=x.dtype")


@pytest.mark.parametrize("name", ARRAY_INPUTS)
def test_modified_inputs_are_reported(name):
    fn, index = CORRECT[name][0], _first_array_index(name)

    def attempt(*args):
        result = fn(*args)
        args[index][...] = 0
        return result
    failed(name, attempt, "modified its input", f"{exercises.exercise(name).params[index]} (")


@pytest.fixture
def release():
    """An event that stuck attempts wait on; set after the test, so no thread is left spinning."""
    event = threading.Event()
    yield event
    event.set()


@pytest.mark.parametrize("name", list(CORRECT))
def test_a_function_that_never_returns_is_stopped_after_the_timeout(name, release):
    message = failed(name, lambda *args: release.wait(), "did not return within 0.1 s", "not run",
                     timeout=0.1)
    assert "Case 1 of" in message


def test_a_wrong_signature_fails_before_any_case_runs():
    failed("conv1x1_forward", lambda x, w: x, "before any case ran", "def conv1x1_forward(x, w, b):")


def test_system_exit_in_an_attempt_is_reported_not_obeyed():
    def attempt(dout, x):
        raise SystemExit(3)
    failed("relu_backward", attempt, "raised SystemExit")


def test_every_named_mistake_differs_from_the_answer_on_some_case():
    """A mistake that equals the right answer on every case could never be named: the cases must show it."""
    for name in exercises.names():
        task = EXERCISES[name]
        cases = task.cases()
        for mistake in task.mistakes:
            shown = False
            for case in cases:
                right = task.answer(*copy_args(case.args))
                if mistake.part is not None:
                    right = right[[p.name for p in task.returns].index(mistake.part)]
                try:
                    with np.errstate(all="ignore"):
                        wrong = mistake.answer(*copy_args(case.args))
                except Exception:  # noqa: BLE001 - cannot run on this case
                    continue
                shown = shown or not exercises.judge.same(wrong, right, case.tol)
            assert shown, f"{name}: {mistake.says}"


# ---------------------------------------------------------------- the Practise chapter


def test_practise_page_python_blocks_run_and_show_the_real_message(capsys):
    page = (Path(__file__).resolve().parents[2] / "docs" / "practise.md").read_text(encoding="utf-8")
    namespace = {}
    for block in re.findall(r"```python\n(.*?)```", page, flags=re.S):
        exec(compile(block, "practise.md", "exec"), namespace)  # noqa: S102 - our own page
    printed = capsys.readouterr().out
    shown = re.findall(r"```text\n(.*?)```", page, flags=re.S)
    assert len(shown) >= 5 and all(text.strip() in printed for text in shown)


def test_a_db_that_keeps_the_summed_axes_is_named_on_the_first_case():
    """Every case shows the keepdims mistake, so the message names it on case 1, the usual shapes."""
    def attempt(dout, x, w):
        dx, dw, _ = backward_einsum(dout, x, w)
        return dx, dw, dout.sum(axis=(0, 2, 3), keepdims=True)
    message = failed("conv1x1_backward", attempt, "db keeps the summed axes (keepdims=True)")
    assert "(0 of " in message and "Case 1 of " in message and "(the usual shapes)" in message


def test_conv_params_cases_with_a_bias_catch_a_forgotten_bias_and_those_without_an_extra_one():
    """Two of the four cases have a bias, and their labels say so: forgetting it fails those two, counting it
    when bias is False fails the other two."""
    forgotten = failed("conv_params", lambda c_in, c_out, k, bias: c_out * c_in * k * k, "(2 of 4 cases right)",
                       "Case 1 of 4 (a 3x3 convolution with bias)", "bias=True", "the bias is forgotten")
    assert "a 1x1 convolution with bias" not in forgotten     # the other case with a bias: "wrong result on case 3"
    assert "wrong result on case 3." in forgotten
    failed("conv_params", lambda c_in, c_out, k, bias: c_out * c_in * k * k + c_out, "(2 of 4 cases right)",
           "Case 2 of 4 (a 5x5 convolution without bias)", "bias=False", "the bias is counted although bias=False",
           "wrong result on case 4.")


def test_softmax_cases_repeat_a_label():
    """A gradient that subtracts 1 once per label *occurrence* (a loop over y, not over the images) is right
    only while no label repeats: the cases repeat one, so it fails."""
    def attempt(scores, y):
        n = len(y)
        shifted = scores - scores.max(axis=1, keepdims=True)
        p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        dscores = p.copy()
        for label in y:
            dscores[y == label, label] -= 1     # every image of that label, once for each time the label occurs
        return float(-np.log(p[np.arange(n), y]).mean()), dscores / n
    failed("softmax_cross_entropy", attempt, "wrong dscores")


def test_a_call_that_raises_nowhere_in_the_learners_code_or_returns_has_an_empty_where():
    """``Call.where`` is a str, empty when the line is unknown: after a return, or an error raised by a builtin."""
    from conv1x1.exercises.run import call

    returned = call(lambda x: x, (1,), ("x",), timeout=5)
    assert returned.returned == 1 and returned.error is None and returned.where == ""
    raised = call(int, ("not a number",), ("x",), timeout=5)
    assert raised.error is not None and raised.error.kind == "ValueError" and raised.where == ""


# ---------------------------------------------------------------- honest mistakes caught and named right


def test_relu_inverted_mask_with_x_at_most_zero_is_named():
    failed("relu_backward", lambda dout, x: dout * (x <= 0), "dout passes where x <= 0")


def test_conv_macs_without_the_plus_one_is_named_and_not_as_the_padding():
    """Leaving out the padding gives the same count as the missing + 1 on one case, by coincidence: a mistake is
    named only when the attempt matches it on every case where it shows."""
    def attempt(ci, co, h, w, k, s, p):
        return ((h + 2 * p - k) // s) * ((w + 2 * p - k) // s) * co * ci * k * k
    message = failed("conv_macs", attempt, "misses the + 1")
    assert "leaves out the padding" not in message


def test_backward_one_dw_per_image_is_named_sum_over_n():
    def attempt(dout, x, w):
        dx, _, db = backward_einsum(dout, x, w)
        return dx, np.einsum("nohw,nchw->noc", dout, x), db
    failed("conv1x1_backward", attempt, "one dw per image", "sum over n")


def test_numerical_gradient_keeping_fs_output_buffer_is_named():
    def attempt(f, x, dout, h):
        grad = np.zeros_like(x)
        for index in np.ndindex(x.shape):
            old = x[index]
            x[index] = old + h
            plus = f(x)
            x[index] = old - h
            minus = f(x)
            x[index] = old
            grad[index] = np.sum((plus - minus) * dout) / (2 * h)
        return grad
    failed("numerical_gradient", attempt, "same buffer", "an f that writes every output into the same buffer")


def test_global_avg_pool_backward_returning_a_view_of_dout_fails():
    def attempt(dout, x_shape):
        pixels = x_shape[2] * x_shape[3]
        return np.broadcast_to(dout, x_shape) if pixels == 1 else gap_broadcast(dout, x_shape)
    failed("global_avg_pool_backward", attempt, "shares with its input dout", "1x1 map")


@pytest.mark.parametrize("name", ["conv1x1_forward", "conv1x1_backward", "relu_backward", "global_avg_pool_backward"])
def test_a_cache_kept_by_shape_goes_stale_between_float64_and_float32(name):
    fn, cache = CORRECT[name][1], {}

    def attempt(*args):
        shapes = tuple(np.shape(a) for a in args)
        if shapes not in cache:
            cache[shapes] = fn(*args)
        return cache[shapes]
    failed(name, attempt, "a cache kept by shape goes stale")


# ---------------------------------------------------------------- an attempt that tampers with the checker


def test_replacing_numpy_allclose_does_not_pass_a_wrong_attempt(monkeypatch):
    def attempt(dout, x):
        monkeypatch.setattr(np, "allclose", lambda *a, **k: True)
        monkeypatch.setattr(np, "isclose", lambda *a, **k: True)
        return np.zeros_like(x)
    failed("relu_backward", attempt, "wrong at")


def test_result_cannot_be_forged_by_replacing_its_class_attributes():
    original = exercises.Result.__dict__["passed"]
    try:
        with pytest.raises(AttributeError, match="read-only"):
            exercises.Result.passed = property(lambda self: True)
    finally:
        if exercises.Result.__dict__["passed"] is not original:
            type.__setattr__(exercises.Result, "passed", original)
    result = exercises.check("relu_backward", lambda dout, x: np.zeros_like(x))
    assert result.passed is False
    with pytest.raises(AttributeError):
        result.passed = True


def test_the_expected_value_is_not_in_any_frame_while_the_attempt_runs():
    import sys

    def attempt(dout, x):
        for frame in sys._current_frames().values():
            while frame is not None:
                for value in list(frame.f_locals.values()):   # a snapshot: other threads run on
                    if isinstance(value, np.ndarray) and value.shape == x.shape and value is not x \
                            and value is not dout and np.array_equal(value, dout * (x > 0)):
                        return value
                frame = frame.f_back
        return np.zeros_like(x)
    failed("relu_backward", attempt, "wrong at")


def test_exercise_does_not_hand_out_the_reference_answer():
    task = exercises.exercise("conv1x1_forward")
    assert task.params == ("x", "w", "b") and "out[n, o, h, w]" in task.task
    assert not any(callable(getattr(task, name)) for name in dir(task) if not name.startswith("_"))


class Liar(np.ndarray):
    def __array_function__(self, func, types, args, kwargs):
        return True


@pytest.mark.parametrize("name", ["conv1x1_forward", "relu_backward", "global_avg_pool_backward"])
def test_an_ndarray_subclass_is_refused_whatever_it_says(name):
    fn = CORRECT[name][0]
    failed(name, lambda *args: np.zeros_like(fn(*args)).view(Liar), "ndarray subclass (Liar)", "np.asarray")


def test_an_attempt_that_calls_the_librarys_answer_passes_with_a_note():
    result = exercises.check("relu_backward", lambda dout, x: C.relu_backward(dout, x))
    assert result.passed and result.message.endswith(
        "Note: it calls conv1x1's own code: relu_backward (conv1x1.functional.activations)")
    assert "Note" not in exercises.check("relu_backward", relu_mask).message


def test_an_exception_whose_message_cannot_be_made_is_reported():
    class Odd(Exception):
        def __str__(self):
            raise RuntimeError("no message")

    def attempt(dout, x):
        raise Odd()
    failed("relu_backward", attempt, "raised Odd", "could not be shown")


def test_conv_macs_with_the_padding_on_one_side_only_is_named():
    failed("conv_macs", lambda ci, co, h, w, k, s, p: ((h + p - k) // s + 1) * ((w + p - k) // s + 1) * co * ci * k * k,
           "padding is added on one side only")


def test_depthwise_separable_macs_counted_as_the_dense_convolution_it_replaces_is_named():
    failed("depthwise_separable_macs", _dense_kxk, "a dense KxK convolution from C_in to C_out is counted")


def test_depthwise_separable_macs_without_the_plus_one_is_named():
    def attempt(ci, co, h, w, k, s, p):
        return ((h + 2 * p - k) // s) * ((w + 2 * p - k) // s) * ci * (k * k + co)
    failed("depthwise_separable_macs", attempt, "misses the + 1")
