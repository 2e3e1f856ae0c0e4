"""conv1x1.functional.activations: ReLU, leaky ReLU, sigmoid and tanh against their formulas, hand values,
central differences and PyTorch, their conventions at the kink and on NaN, and the inputs they refuse."""

import warnings

import numpy as np
import pytest

import conv1x1 as C
from conv1x1.gradcheck import numerical_gradient, rel_error


def test_activations_equal_their_formulas():
    x = np.array([-2.0, -0.5, 0.5, 2.0])
    np.testing.assert_array_equal(C.relu_forward(x)[0], [0, 0, 0.5, 2])
    np.testing.assert_allclose(C.leaky_relu_forward(x, 0.2)[0], [-0.4, -0.1, 0.5, 2])
    np.testing.assert_allclose(C.leaky_relu_forward(x)[0], [-0.02, -0.005, 0.5, 2])
    np.testing.assert_allclose(C.sigmoid_forward(x)[0], 1 / (1 + np.exp(-x)), rtol=1e-15)
    np.testing.assert_allclose(C.tanh_forward(x)[0], np.tanh(x))


def test_sigmoid_and_tanh_on_hand_values():
    x = np.array([-800.0, -1.0, 0.0, 1.0, 800.0])
    s, cache = C.sigmoid_forward(x)
    expected = np.array([0.0, 1 / (1 + np.e), 0.5, 1 / (1 + np.exp(-1.0)), 1.0])
    np.testing.assert_allclose(s, expected, rtol=1e-15, atol=0)
    np.testing.assert_allclose(C.sigmoid_backward(np.full(5, 2.0), cache), 2 * expected * (1 - expected),
                               rtol=1e-15, atol=0)
    _, cache = C.tanh_forward(x)
    np.testing.assert_allclose(C.tanh_backward(np.full(5, 3.0), cache), 3 * (1 - np.tanh(x) ** 2), rtol=1e-15,
                               atol=0)


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
def test_activations_backward_matches_numerical_gradients(rng, name, shape):
    """Central differences in float64; bound: relative error < 1e-7."""
    forward, backward = PAIRS[name]
    x = _away_from_zero(rng, shape)
    out, cache = forward(x)
    dout = rng.standard_normal(out.shape)
    dx = backward(dout, cache)
    assert rel_error(dx, numerical_gradient(lambda v: forward(v)[0], x.copy(), dout)) < 1e-7


def test_relu_gradient_at_exactly_zero_is_zero():
    """Convention (relu_backward's docstring, PyTorch's too): at x = 0 the gradient is 0.
    """
    x = np.array([-1.0, 0.0, -0.0, 2.0, np.nan])
    _, cache = C.relu_forward(x)
    dx = C.relu_backward(np.array([3.0, 5.0, 7.0, 11.0, 13.0]), cache)
    np.testing.assert_array_equal(dx, [0.0, 0.0, 0.0, 11.0, 13.0])  # NaN is not <= 0: dout passes


def test_leaky_relu_gradient_at_exactly_zero_is_the_slope():
    """Convention (leaky_relu_backward's docstring, PyTorch's too): at x = 0 the slope is negative_slope.
    """
    x = np.array([-1.0, 0.0, -0.0, 2.0])
    out, cache = C.leaky_relu_forward(x, 0.25)
    np.testing.assert_array_equal(out, [-0.25, 0.0, 0.0, 2.0])
    dx = C.leaky_relu_backward(np.array([4.0, 8.0, 16.0, 32.0]), cache)
    np.testing.assert_array_equal(dx, [1.0, 2.0, 4.0, 32.0])


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
def test_activations_keep_the_dtype_and_leave_the_input_alone(rng, name, dtype):
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
def test_activations_propagate_nan_as_pytorch_does(name):
    forward, backward = PAIRS[name]
    out, cache = forward(np.array([np.nan, 1.0]))
    assert np.isnan(out[0]) and np.isfinite(out[1])
    dx = backward(np.array([3.0, 2.0]), cache)
    np.testing.assert_allclose(dx[0], NAN_GRADIENT[name], rtol=1e-12)  # NaN equals NaN here
    assert np.isfinite(dx[1])


@pytest.mark.parametrize("forward", [C.relu_forward, C.sigmoid_forward, C.tanh_forward, C.leaky_relu_forward])
def test_activations_refuse_integer_input(forward):
    with pytest.raises(TypeError, match="x must be a floating-point array"):
        forward(np.arange(4))


@pytest.mark.parametrize("pair", [(C.relu_forward, C.relu_backward), (C.sigmoid_forward, C.sigmoid_backward),
                                  (C.tanh_forward, C.tanh_backward),
                                  (C.leaky_relu_forward, C.leaky_relu_backward)])
def test_activations_backward_checks_the_shape_of_dout(pair):
    forward, backward = pair
    _, cache = forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="dout"):
        backward(np.zeros((3, 2)), cache)


@pytest.mark.parametrize("backward", [C.relu_backward, C.leaky_relu_backward, C.sigmoid_backward, C.tanh_backward])
def test_activations_backward_names_a_wrong_cache(backward):
    """Errors that name the argument."""
    with pytest.raises(TypeError, match=r"cache must be the \w+ returned by \w+_forward"):
        backward(np.zeros(3), None)


X = np.zeros((2, 3, 4, 4))


def test_leaky_relu_slope_must_be_a_number():
    with pytest.raises(TypeError, match="negative_slope"):
        C.LeakyReLU("0.1")
    with pytest.raises(TypeError, match="negative_slope"):
        C.leaky_relu_forward(X, negative_slope=None)


@pytest.mark.parametrize("slope", [float("nan"), float("inf"), -float("inf")])
def test_leaky_relu_refuses_a_non_finite_slope(slope):
    with pytest.raises(ValueError, match="negative_slope must be a finite number"):
        C.leaky_relu_forward(np.zeros(2), slope)
    with pytest.raises(ValueError, match="negative_slope"):
        C.LeakyReLU(slope)


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "leaky_relu"])
def test_activations_equal_torch(torch, rng, name):
    x = rng.standard_normal((2, 3, 4, 4)) * 5
    forward = {"relu": C.relu_forward, "sigmoid": C.sigmoid_forward, "tanh": C.tanh_forward,
               "leaky_relu": lambda v: C.leaky_relu_forward(v, 0.1)}[name]
    backward = {"relu": C.relu_backward, "sigmoid": C.sigmoid_backward, "tanh": C.tanh_backward,
                "leaky_relu": C.leaky_relu_backward}[name]
    tfun = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
            "leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, 0.1)}[name]
    out, cache = forward(x)
    dout = rng.standard_normal(out.shape)
    tx = torch.tensor(x, requires_grad=True)
    tout = tfun(tx)
    tout.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(backward(dout, cache), tx.grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("name", ["relu_backward", "sigmoid_backward", "tanh_backward"])
def test_activation_backward_refuses_an_integer_cache(name):
    """An integer cache would cast dout to integers, e.g. relu_backward would give [0, 2] for dout [0.5, 2.7],
    a silently truncated gradient."""
    with pytest.raises(TypeError, match=r"cache must be a floating-point array .* got dtype int"):
        getattr(C.functional, name)(np.array([0.5, 2.7]), np.array([1, 2]))


# ---------------------------------------------------------------- ReLU6, GELU and SiLU

NEW_PAIRS = {"relu6": (C.relu6_forward, C.relu6_backward), "gelu": (C.gelu_forward, C.gelu_backward),
             "silu": (C.silu_forward, C.silu_backward)}


def test_relu6_gelu_and_silu_on_hand_values():
    """GELU's values from the normal CDF: Phi(1) = 0.841344746068543, Phi(-3) = 0.0013498980316301."""
    x = np.array([-3.0, 0.0, 1.0, 7.0])
    np.testing.assert_array_equal(C.relu6_forward(x)[0], [0, 0, 1, 6])
    np.testing.assert_allclose(C.gelu_forward(x)[0], [-3 * 0.0013498980316301, 0, 0.841344746068543,
                                                      7 * (1 - 1.279812543885835e-12)], rtol=1e-14)
    np.testing.assert_allclose(C.silu_forward(x)[0], x / (1 + np.exp(-x)), rtol=1e-15)


def _off_relu6_kinks(rng, shape):
    x = rng.uniform(-3, 9, shape)
    return np.where(np.abs(x) < 0.1, x + 0.2, np.where(np.abs(x - 6) < 0.1, x + 0.2, x))


@pytest.mark.parametrize("name", NEW_PAIRS)
def test_relu6_gelu_silu_backward_match_numerical_gradients(rng, name):
    """Central differences in float64; bound: relative error < 1e-7."""
    forward, backward = NEW_PAIRS[name]
    x = _off_relu6_kinks(rng, (2, 3, 4, 5))
    out, cache = forward(x)
    dout = rng.standard_normal(out.shape)
    assert rel_error(backward(dout, cache), numerical_gradient(lambda v: forward(v)[0], x.copy(), dout)) < 1e-7


@pytest.mark.parametrize("name, module", [("relu6", "ReLU6"), ("gelu", "GELU"), ("silu", "SiLU")])
def test_relu6_gelu_silu_equal_pytorch_to_1e_minus_10(torch, rng, name, module):
    """Over [-10, 10] and at ReLU6's kinks 0 and 6 (gradient 0 there, PyTorch's choice); GELU is the exact erf
    form, PyTorch's default."""
    forward, backward = NEW_PAIRS[name]
    x = np.concatenate([rng.uniform(-10, 10, 1000), [0.0, 6.0, -40.0, 40.0]])
    out, cache = forward(x)
    dout = rng.standard_normal(x.shape)
    tx = torch.tensor(x, requires_grad=True)
    tout = getattr(torch.nn, module)()(tx)
    tout.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(backward(dout, cache), tx.grad.numpy(), rtol=0, atol=1e-10)


def test_gelu_and_silu_keep_float32_and_propagate_nan():
    for forward in (C.gelu_forward, C.silu_forward, C.relu6_forward):
        out, _ = forward(np.array([np.nan, 1.0], dtype=np.float32))
        assert out.dtype == np.float32 and np.isnan(out[0])


def test_erf_of_an_empty_array_is_empty():
    from conv1x1.functional.activations import erf
    assert erf(np.zeros((0, 3))).shape == (0, 3)
