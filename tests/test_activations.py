"""Activations: values, numerical stability, dtypes and gradient checks."""

import warnings

import numpy as np
import pytest

import conv1x1 as C
from conv1x1.gradcheck import numerical_gradient, rel_error

PAIRS = {
    "relu": (C.relu_forward, C.relu_backward),
    "leaky_relu": (lambda x: C.leaky_relu_forward(x, 0.1), C.leaky_relu_backward),
    "sigmoid": (C.sigmoid_forward, C.sigmoid_backward),
    "tanh": (C.tanh_forward, C.tanh_backward),
}


def _away_from_zero(rng, shape):
    """Random inputs kept off the kink of ReLU at 0, where no derivative exists."""
    x = rng.standard_normal(shape)
    return x + np.sign(x) * 0.1


@pytest.mark.parametrize("name", PAIRS)
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 1, 1, 1), (7,)])
def test_gradient_check(rng, name, shape):
    """Central differences in float64; bound: relative error < 1e-7."""
    forward, backward = PAIRS[name]
    x = _away_from_zero(rng, shape)
    out, cache = forward(x)
    dout = rng.standard_normal(out.shape)
    dx = backward(dout, cache)
    assert rel_error(dx, numerical_gradient(lambda v: forward(v)[0], x.copy(), dout)) < 1e-7


def test_values_against_the_formulas():
    x = np.array([-2.0, -0.5, 0.5, 2.0])
    np.testing.assert_array_equal(C.relu_forward(x)[0], [0, 0, 0.5, 2])
    np.testing.assert_allclose(C.leaky_relu_forward(x, 0.2)[0], [-0.4, -0.1, 0.5, 2])
    np.testing.assert_allclose(C.leaky_relu_forward(x)[0], [-0.02, -0.005, 0.5, 2])
    np.testing.assert_allclose(C.sigmoid_forward(x)[0], 1 / (1 + np.exp(-x)), rtol=1e-15)
    np.testing.assert_allclose(C.tanh_forward(x)[0], np.tanh(x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_stable_at_extremes(dtype):
    x = np.array([-1000.0, -100.0, 0.0, 100.0, 1000.0], dtype=dtype)
    # Any overflow, 0/0 or division by zero would raise here, and any warning would fail the test
    # (underflow of exp(-1000) to 0 is exact enough and is NumPy's silent default).
    with np.errstate(over="raise", invalid="raise", divide="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        out, cache = C.sigmoid_forward(x)
        dx = C.sigmoid_backward(np.ones_like(x), cache)
    assert np.isfinite(out).all() and np.isfinite(dx).all()
    assert out[0] == 0.0 and out[-1] == 1.0 and out[2] == 0.5
    assert out.dtype == dtype


@pytest.mark.parametrize("name", PAIRS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_preserved_and_input_untouched(rng, name, dtype):
    forward, backward = PAIRS[name]
    x = rng.standard_normal((2, 3)).astype(dtype)
    x_copy = x.copy()
    out, cache = forward(x)
    dx = backward(np.ones_like(out), cache)
    assert out.dtype == dx.dtype == dtype
    np.testing.assert_array_equal(x, x_copy)


# What the gradient at a NaN input is, as PyTorch defines it: ReLU passes dout through (NaN is not
# <= 0), leaky ReLU scales it by the slope (NaN is not > 0), sigmoid and tanh give NaN.
NAN_GRADIENT = {"relu": 3.0, "leaky_relu": 0.3, "sigmoid": np.nan, "tanh": np.nan}


@pytest.mark.parametrize("name", PAIRS)
def test_nan_propagates(name):
    forward, backward = PAIRS[name]
    out, cache = forward(np.array([np.nan, 1.0]))
    assert np.isnan(out[0]) and np.isfinite(out[1])
    dx = backward(np.array([3.0, 2.0]), cache)
    np.testing.assert_allclose(dx[0], NAN_GRADIENT[name], rtol=1e-12)  # NaN equals NaN here
    assert np.isfinite(dx[1])


def test_kink_conventions():
    """At exactly x = 0: ReLU's gradient is 0, leaky ReLU's is the slope (PyTorch's choices)."""
    x = np.array([-1.0, 0.0, 1.0])
    _, cache = C.relu_forward(x)
    np.testing.assert_array_equal(C.relu_backward(np.full(3, 5.0), cache), [0.0, 0.0, 5.0])
    _, cache = C.leaky_relu_forward(x, 0.1)
    np.testing.assert_allclose(C.leaky_relu_backward(np.full(3, 5.0), cache), [0.5, 0.5, 5.0])


@pytest.mark.parametrize("slope", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_leaky_slope_is_refused(slope):
    with pytest.raises(ValueError, match="negative_slope must be a finite number"):
        C.leaky_relu_forward(np.zeros(2), slope)
    with pytest.raises(ValueError, match="negative_slope"):
        C.LeakyReLU(slope)
