"""The public gradient-check tools themselves."""

import numpy as np
import pytest

from conv1x1.gradcheck import numerical_gradient, rel_error


def test_numerical_gradient_of_a_known_function(rng):
    x = rng.standard_normal((3, 4))
    dout = rng.standard_normal((3, 4))
    # f(x) = x**3 has derivative 3 x**2, so the gradient of sum(f(x) * dout) is 3 x**2 dout
    grad = numerical_gradient(lambda v: v ** 3, x, dout)
    assert rel_error(grad, 3 * x ** 2 * dout) < 1e-7


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


def test_rel_error_values():
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0  # the floor: no 0/0
    assert rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert rel_error([1.0], [3.0]) == pytest.approx(0.5)
    assert rel_error([1.0, 100.0], [1.0, 101.0]) == pytest.approx(1 / 201)
    with pytest.raises(ValueError, match="same shape"):
        rel_error(np.zeros(2), np.zeros(3))


def test_rel_error_names_its_arguments_and_their_shapes():
    with pytest.raises(ValueError, match=r"rel_error\(a, b\) .* got a of shape \(3, 5\) and b of shape \(5, 3\) "
                                         r"\(one is the other transposed\?\)"):
        rel_error(np.zeros((3, 5)), np.zeros((5, 3)))
