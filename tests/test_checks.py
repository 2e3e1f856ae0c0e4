"""conv1x1._checks, the generic input checks: alone where a rule serves several callers, and through every public
function. A malformed call to any of them works, or raises a TypeError or ValueError naming the argument:
hypothesis takes a valid call and replaces one argument with something a learner might pass by mistake (None, a
string, a float for an int, a bool, a negative or absurd number, an array of the wrong rank, dtype or depth, a
ragged list, NaN). Never another exception type, never a warning. The rules of one caller are tested through it,
in that caller's test file."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import conv1x1 as C
from conv1x1 import _checks as V
from conv1x1 import cost, gradcheck


@pytest.mark.parametrize("value", [3, np.int64(3), np.float32(3.0), 3.0])
def test_check_real_returns_a_python_float(value):
    result = V.check_real(value, "x")
    assert type(result) is float and result == 3.0


def test_check_choice_returns_a_valid_choice_and_refuses_others():
    assert V.check_choice("1x1", "stride_on", ("1x1", "3x3"), "a kernel") == "1x1"
    with pytest.raises(ValueError, match="stride_on"):
        V.check_choice("2x2", "stride_on", ("1x1", "3x3"), "a kernel")


def test_check_image_batch_hints_at_channels_last_and_a_missing_batch_axis():
    with pytest.raises(ValueError, match="channels-last"):
        V.check_image_batch(np.ones((4, 4, 3)), channels=3)
    with pytest.raises(ValueError, match=r"x\[None\]"):
        V.check_image_batch(np.ones((3, 4, 4)), channels=3)


def test_check_weight_refuses_integers_and_converts_a_list_of_floats():
    with pytest.raises(TypeError, match="w"):
        V.check_weight(np.ones((2, 3), dtype=int), 2, 3)
    assert V.check_weight([[1.0, 2.0, 3.0]], 2, 3).shape == (1, 3)     # a list of floats is converted


def test_check_pair_reads_an_int_as_square_and_a_pair_as_along_h_then_along_w():
    assert V.check_pair(3, "kernel_size") == (3, 3)
    assert V.check_pair([1, np.int64(7)], "kernel_size") == (1, 7)
    assert all(type(n) is int for n in V.check_pair((np.int32(2), 5), "stride"))
    assert V.check_pair((0, 2), "padding", minimum=0) == (0, 2)
    with pytest.raises(ValueError, match=r"padding\[0\] must be a non-negative integer \(>= 0\), got -1"):
        V.check_pair((-1, 2), "padding", minimum=0)
    with pytest.raises(TypeError, match=r"kernel_size must be a positive integer or a pair \(along H, along W\) of "
                                        r"them, got '3'"):
        V.check_pair("3", "kernel_size")


def test_window_geometry_returns_pairs_and_each_axis_its_own_output_size():
    """d2l.ai, "Padding and Stride": a (3, 5) kernel, padding (0, 1), stride (3, 4) on 8 x 8 gives 2 x 2."""
    geometry = V.window_geometry(8, 8, (3, 5), (3, 4), (0, 1))
    assert geometry == ((3, 5), (3, 4), (0, 1), 2, 2)
    assert (geometry.kernel, geometry.out_h, geometry.out_w) == ((3, 5), 2, 2)
    assert V.window_geometry(17, 17, (1, 7), 1, "same").padding == (0, 3)


_rng = np.random.default_rng(0)
X = _rng.standard_normal((2, 3, 5, 5))
W1, W4, B = _rng.standard_normal((4, 3)), _rng.standard_normal((4, 3, 3, 3)), _rng.standard_normal(4)


# name -> (function, valid keyword arguments)
CALLS = {
    "conv1x1_forward": (C.conv1x1_forward, dict(x=X, w=W1, b=B)),
    "conv2d_forward": (C.conv2d_forward, dict(x=X, w=W4, b=B, stride=1, padding=1)),
    "maxpool2d_forward": (C.maxpool2d_forward, dict(x=X, kernel_size=3, stride=2, padding=1, ceil_mode=False)),
    "relu_forward": (C.relu_forward, dict(x=X)),
    "leaky_relu_forward": (C.leaky_relu_forward, dict(x=X, negative_slope=0.1)),
    "sigmoid_forward": (C.sigmoid_forward, dict(x=X)),
    "global_avg_pool_forward": (C.global_avg_pool_forward, dict(x=X)),
    "Conv1x1": (C.Conv1x1, dict(in_channels=3, out_channels=4, bias=True, rng=0, dtype=np.float64)),
    "Conv2d": (C.Conv2d, dict(in_channels=3, out_channels=4, kernel_size=3, stride=1, padding=1, bias=True, rng=0)),
    "MaxPool2d": (C.MaxPool2d, dict(kernel_size=3, stride=1, padding=1, ceil_mode=False)),
    "Conv2d with pairs": (C.Conv2d, dict(in_channels=3, out_channels=4, kernel_size=(1, 3), stride=(2, 1),
                                         padding=(0, 1), bias=True, rng=0)),
    "avgpool2d_forward with pairs": (C.avgpool2d_forward, dict(x=X, kernel_size=(3, 2), stride=(1, 2),
                                                               padding=(1, 0))),
    "LeakyReLU": (C.LeakyReLU, dict(negative_slope=0.1)),
    "Inception": (C.Inception, dict(in_channels=3, n1x1=2, n3x3_reduce=2, n3x3=2, n5x5_reduce=2, n5x5=2,
                                    pool_proj=2, reductions=True, bias=True, rng=0)),
    "conv_cost": (cost.conv_cost, dict(in_channels=3, out_channels=4, height=5, width=5, kernel_size=3, stride=1,
                                       padding=0, bias=True)),
    "pool_cost": (cost.pool_cost, dict(channels=3, height=5, width=5, kernel_size=3, stride=1, padding=1)),
    "inception_cost": (cost.inception_cost, dict(in_channels=3, height=5, width=5, n1x1=2, n3x3_reduce=2, n3x3=2,
                                                 n5x5_reduce=2, n5x5=2, pool_proj=2, bias=True, reductions=True)),
    "bottleneck_comparison": (cost.bottleneck_comparison, dict(in_channels=8, reduce_channels=2, out_channels=4,
                                                               height=5, width=5, kernel_size=3, bias=True)),
    "rel_error": (gradcheck.rel_error, dict(a=np.ones(3), b=np.ones(3))),
    "numerical_gradient": (gradcheck.numerical_gradient, dict(f=np.sin, x=np.ones(3), dout=np.ones(3), eps=1e-6)),
}


def _call(fn, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning counts as a failure
        result = fn(**kwargs)
        built = isinstance(result, C.Layer) and not isinstance(result, C.Inception) and "in_channels" in vars(result)
        if built and result.in_channels <= 64:
            result.forward(np.zeros((1, result.in_channels, 5, 5)))  # a built layer must also run
    return result


@pytest.mark.parametrize("name", CALLS)
def test_public_functions_run_their_valid_call(name):
    fn, kwargs = CALLS[name]
    _call(fn, kwargs)


BAD_VALUES = [
    None, "abc", "", 1.5, float("nan"), float("inf"), True, False, -1, 0, 10**30, 2**63, [1.0, [2.0]],
    np.zeros(()), np.zeros(3), np.zeros((3, 5, 5)), np.zeros((2, 5, 5, 3)), np.zeros((2, 3, 5, 5, 1)),
    np.zeros((2, 3, 5, 5), dtype=int), np.zeros((2, 3, 5, 5), dtype=bool), np.zeros((2, 3, 5, 5), dtype=complex),
    np.zeros((2, 3, 5, 5), dtype=object), np.zeros((2, 7, 5, 5)), np.zeros((4, 2)), np.zeros((4, 3, 2, 2)),
    np.zeros((5,)), np.zeros((0, 3, 5, 5)), np.full((2, 3, 5, 5), np.nan), np.float32(2.0), np.int64(3), object(),
]


@pytest.mark.parametrize("name", CALLS)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_public_functions_answer_a_malformed_call_with_an_error_naming_the_argument(name, data):
    fn, kwargs = CALLS[name]
    argument = data.draw(st.sampled_from(sorted(kwargs)), label="argument")
    value = data.draw(st.sampled_from(BAD_VALUES), label="value")
    try:
        _call(fn, {**kwargs, argument: value})
    except (TypeError, ValueError) as error:
        message = str(error)
        assert argument in message or argument.replace("_", " ") in message, (argument, value, message)


def test_float_arrays_wider_than_float64_are_refused_with_their_dtype():
    """float128 is refused where it would reach NumPy's casting errors: the messages promise float16, float32 or
    float64."""
    if np.dtype(np.longdouble).itemsize <= 8:
        pytest.skip("np.longdouble is float64 on this platform")
    with pytest.raises(TypeError, match=r"x must be a floating-point array \(float16, float32 or float64\), got "
                                        r"dtype float128"):
        C.conv1x1(np.ones((1, 2, 2, 2), dtype=np.longdouble), np.ones((2, 2)))
