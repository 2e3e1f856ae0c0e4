"""conv1x1.gradcheck: numerical_gradient, rel_error and check_layer, the judges of every backward pass, and what
each refuses rather than get silently wrong."""

import numpy as np
import pytest

import conv1x1 as C
from conv1x1.gradcheck import check_layer, numerical_gradient, rel_error


def test_numerical_gradient_of_a_known_function(rng):
    """f(x) = x**3 has derivative 3 x**2, so the gradient of sum(f(x) * dout) is 3 x**2 dout."""
    x = rng.standard_normal((3, 4))
    dout = rng.standard_normal((3, 4))
    grad = numerical_gradient(lambda v: v ** 3, x, dout)
    assert rel_error(grad, 3 * x ** 2 * dout) < 1e-7
    x = np.array([1.0, -2.0, 3.0])
    dout = np.array([0.5, 2.0, -1.0])
    grad = numerical_gradient(lambda v: v ** 3, x.copy(), dout)
    np.testing.assert_allclose(grad, 3 * x ** 2 * dout, rtol=1e-8)   # d/dx sum(x^3 * dout)


def test_numerical_gradient_restores_x_even_when_f_raises(rng):
    x = rng.standard_normal(5)
    original = x.copy()
    numerical_gradient(np.sin, x, np.ones(5))
    np.testing.assert_array_equal(x, original)

    def explode(v):
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        numerical_gradient(explode, x, np.ones(5))
    np.testing.assert_array_equal(x, original)


def test_numerical_gradient_needs_a_float_array():
    with pytest.raises(TypeError, match="x must be a float64 ndarray"):
        numerical_gradient(np.sin, [1.0, 2.0], np.ones(2))


def test_numerical_gradient_refuses_int_with_its_dtype():
    """Numerical_gradient refuses what it would get silently wrong."""
    with pytest.raises(TypeError, match="x must be float64, got dtype int64"):
        numerical_gradient(np.sin, np.ones(3, dtype=np.int64), np.ones(3))


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_numerical_gradient_refuses_low_precision(dtype):
    """Numerical_gradient refuses what it would get silently wrong."""
    with pytest.raises(TypeError, match=r"x must be float64, got dtype .*astype\(np.float64\)"):
        numerical_gradient(np.sin, np.ones(3, dtype=dtype), np.ones(3))


def test_numerical_gradient_refuses_a_read_only_x():
    """numerical_gradient refuses what it would get silently wrong."""
    x = np.ones(3)
    x.flags.writeable = False
    with pytest.raises(ValueError, match="x must be a writeable array"):
        numerical_gradient(np.sin, x, np.ones(3))
    x = np.ones(3)
    x.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        numerical_gradient(lambda v: v * 2.0, x, np.ones(3))


def test_numerical_gradient_refuses_a_dout_that_would_broadcast():
    """Numerical_gradient refuses what it would get silently wrong."""
    with pytest.raises(ValueError, match=r"dout must have the shape of f\(x\), \(\), got \(3,\)"):
        numerical_gradient(lambda v: np.sum(v ** 2), np.array([1.0, 2.0, 3.0]), np.ones(3))


@pytest.mark.parametrize("eps, error", [(0.0, ValueError), (-1e-6, ValueError), (float("nan"), ValueError),
                                        ("1e-6", TypeError)])
def test_numerical_gradient_refuses_a_bad_eps(eps, error):
    """Numerical_gradient refuses what it would get silently wrong."""
    with pytest.raises(error, match="eps"):
        numerical_gradient(np.sin, np.ones(3), np.ones(3), eps=eps)


def test_rel_error_values():
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0  # the floor: no 0/0
    assert rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert rel_error([1.0], [3.0]) == pytest.approx(0.5)
    assert rel_error([1.0, 100.0], [1.0, 101.0]) == pytest.approx(1 / 201)
    with pytest.raises(ValueError, match="same shape"):
        rel_error(np.zeros(2), np.zeros(3))


def test_rel_error_floor_is_1e_minus_8_by_default():
    # |0 - 1e-9| / max(1e-8, 0 + 1e-9) = 0.1
    assert rel_error(np.zeros(1), np.full(1, 1e-9)) == pytest.approx(0.1, rel=1e-12)
    assert rel_error(np.zeros(1), np.full(1, 1e-9), floor=1e-12) == pytest.approx(1.0, rel=1e-12)
    assert rel_error([1.0, 3.0], [1.0, 1.0]) == pytest.approx(0.5, rel=1e-15)   # |3-1| / (3+1)


def test_rel_error_of_empty_arrays_is_zero():
    result = rel_error(np.zeros((0, 3)), np.zeros((0, 3)))
    assert result == 0.0 and isinstance(result, float)
    with pytest.raises(ValueError, match="same shape"):
        rel_error(np.zeros(2), np.zeros(3))
    assert rel_error([1.0, np.inf], [1.0, 1.0]) == float("inf")


def test_rel_error_turns_nan_into_inf():
    """The gradient-check idiom cannot pass on NaN."""
    assert rel_error([1.0, np.nan], [1.0, 1.0]) == np.inf
    assert rel_error([1.0, 1.0], [np.inf, 1.0]) == np.inf
    errors = {"x": 1e-10, "w": rel_error([np.nan], [0.0])}
    assert not max(errors.values()) < 1e-7 and not all(e < 1e-7 for e in errors.values())


def test_rel_error_names_its_arguments_and_their_shapes():
    with pytest.raises(ValueError, match=r"rel_error\(a, b\) .* got a of shape \(3, 5\) and b of shape \(5, 3\) "
                                         r"\(one is the other transposed\?\)"):
        rel_error(np.zeros((3, 5)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="same shape"):
        rel_error(np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match="same shape"):
        rel_error(np.zeros((2, 3)), np.zeros((3, 2)))          # same size, different shape


BOUND = 1e-7  # max relative error of a float64 central-difference check


def _x(rng, shape):
    x = rng.standard_normal(shape)
    return x + np.sign(x) * 0.1  # off ReLU's kink


def test_check_layer_catches_a_wrong_backward(rng):
    class Broken(C.Conv1x1):
        def backward(self, dout):
            return 2 * super().backward(dout)  # wrong input gradient

    errors = check_layer(Broken(3, 2, rng=rng), _x(rng, (1, 3, 2, 2)))
    assert errors["x"] > 0.1 and errors["w"] < BOUND


class NaNBackward(C.ReLU):
    def backward(self, dout):
        return np.full(np.shape(dout), np.nan)


def test_check_layer_reports_a_nan_backward_as_a_failure(rng):
    """The gradient-check idiom cannot pass on NaN."""
    errors = check_layer(NaNBackward(), rng.standard_normal((2, 3)))
    assert errors["x"] == np.inf


def test_check_layer_refuses_float32_layers(rng):
    """Numerical_gradient refuses what it would get silently wrong."""
    with pytest.raises(TypeError, match=r"parameter 'w' must be float64.*dtype=np.float64"):
        check_layer(C.Conv1x1(3, 2, dtype=np.float32), rng.standard_normal((1, 3, 2, 2)))


@pytest.mark.parametrize("make_x", [lambda x: x.tolist(), lambda x: x.astype(np.float32), lambda x: x])
def test_check_layer_works_on_its_own_float64_copy_of_x(rng, make_x):
    layer = C.Conv1x1(3, 2, rng=rng)
    layer.params["b"][...] = rng.standard_normal(2)
    x0 = rng.standard_normal((2, 3, 2, 2))
    x = make_x(x0)
    before = np.array(x, copy=True)
    errors = check_layer(layer, x)
    assert sorted(errors) == ["b", "w", "x"]
    assert max(errors.values()) < 1e-7
    np.testing.assert_array_equal(np.asarray(x), before)   # the caller's x is not touched


def test_check_layer_seed_defaults_to_0_and_is_deterministic(rng):
    layer = C.Conv1x1(3, 2, rng=rng)
    layer.params["b"][...] = rng.standard_normal(2)
    x = rng.standard_normal((1, 3, 2, 2))
    default = check_layer(layer, x)
    assert default == check_layer(layer, x, seed=0)
    assert default != check_layer(layer, x, seed=1)    # another dout gives other rounding errors
