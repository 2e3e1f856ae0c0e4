"""Max pooling and the Inception module: values, gradients, cost and contract."""

import numpy as np
import pytest

import conv1x1 as C
from conv1x1.cost import inception_cost
from conv1x1.gradcheck import check_layer, numerical_gradient, rel_error
from conv1x1.reference import maxpool2d_loops

pytestmark = pytest.mark.usefixtures("both_paths")  # plain and conv1x1.fast: same results

POOLS = [(2, None, 0), (3, 1, 1), (3, 2, 1), (2, 1, 0), (3, 3, 0), (1, None, 0)]


def test_maxpool_layer(rng):
    layer = C.MaxPool2d(3, stride=1, padding=1)
    assert layer.params == {} and repr(layer) == "MaxPool2d(kernel_size=3, stride=1, padding=1)"
    x = rng.permutation(50).reshape(1, 2, 5, 5) / 7.0
    assert max(check_layer(layer, x).values()) < 1e-7
    assert layer.cost(28, 28, in_channels=192)[0].out_shape == (192, 28, 28)


def _small_module(rng):
    return C.Inception(3, 2, 2, 3, 2, 2, 2, rng=rng)


def test_concat_of_arbitrary_branches(rng):
    both = C.Concat(C.Sequential(C.Conv1x1(3, 2, rng=rng), C.Tanh()), C.MaxPool2d(3, stride=1, padding=1))
    x = rng.standard_normal((2, 3, 4, 5))
    assert both.forward(x).shape == (2, 5, 4, 5)
    assert max(check_layer(both, x).values()) < 1e-7
    report = both.cost(4, 5, in_channels=3)
    assert report.out_shape == (5, 4, 5) and report.macs == 3 * 2 * 20
    with pytest.raises(TypeError, match="Concat takes Layer objects"):
        C.Concat(C.ReLU(), "relu")
