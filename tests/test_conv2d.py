"""The direct KxK convolution: against the loop reference, numerical gradients, and conv1x1."""

import numpy as np
import pytest

import conv1x1 as C
from conv1x1.gradcheck import check_layer, numerical_gradient, rel_error
from conv1x1.reference import conv2d_loops

pytestmark = pytest.mark.usefixtures("both_paths")  # plain and conv1x1.fast: same results

SETTINGS = [  # (kernel, stride, padding)
    (1, 1, 0), (3, 1, 0), (3, 1, 1), (3, 2, 1), (5, 1, "same"), (2, 2, 0), (3, 3, 2), (4, 1, 3),
]


def _problem(rng, k, n=2, c_in=3, c_out=4, h=7, w=6):
    return (rng.standard_normal((n, c_in, h, w)), rng.standard_normal((c_out, c_in, k, k)),
            rng.standard_normal(c_out))


@pytest.mark.parametrize("make", [
    lambda rng: C.Conv2d(3, 4, 3, padding=1, rng=rng),
    lambda rng: C.Conv2d(3, 2, 5, padding="same", bias=False, rng=rng),
    lambda rng: C.Conv2d(3, 4, 3, stride=2, rng=rng),
])
def test_conv2d_layer_gradient_check(rng, make):
    errors = check_layer(make(rng), rng.standard_normal((2, 3, 6, 5)))
    assert max(errors.values()) < 1e-7, errors


def test_conv2d_layer_contract(rng):
    layer = C.Conv2d(3, 8, 5, padding="same", rng=rng)
    assert layer.params["w"].shape == (8, 3, 5, 5) and layer.params["b"].shape == (8,)
    assert abs(layer.params["w"].std() - np.sqrt(2 / 75)) < 0.15 * np.sqrt(2 / 75)
    assert repr(layer) == "Conv2d(3, 8, kernel_size=5, stride=1, padding=2, bias=True)"
    with pytest.raises(RuntimeError, match="forward must run first"):
        layer.backward(np.zeros((1, 8, 4, 4)))


def test_layer_settings_are_checked_at_construction():
    with pytest.raises(ValueError, match="odd kernel"):
        C.Conv2d(3, 4, 2, padding="same")
    with pytest.raises(ValueError, match="kernel_size"):
        C.Conv2d(3, 4, 0)
