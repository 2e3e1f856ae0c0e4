"""Tests written to kill mutants that survived a mutation run over the functional pairs (issue 10, section 7).

Every forward/backward pair must: cast dout to the forward dtype (so every gradient comes back in the dtype of
the forward pass), refuse a dout of the wrong shape, accept array-likes and never modify its inputs. The kink
conventions of ReLU and leaky ReLU are written down here and pinned. Expected values come from first
principles (hand-worked numbers, central differences) or conv1x1.reference's loops, never from the code
under test.
"""

import numpy as np
import pytest

import conv1x1 as C
from conv1x1 import reference
from conv1x1.gradcheck import numerical_gradient, rel_error

pytestmark = pytest.mark.usefixtures("both_paths")  # plain and conv1x1.fast: same contract


def _pairs(rng):
    """(name, forward(x) -> (out, cache), backward(dout, cache) -> tuple of gradients, x) for every pair."""
    x = rng.standard_normal((2, 4, 5, 5))
    w1 = rng.standard_normal((6, 4))
    w1g = rng.standard_normal((6, 2))
    w3 = rng.standard_normal((6, 4, 3, 3))
    w3g = rng.standard_normal((4, 1, 3, 3))
    b = rng.standard_normal(6)
    b4 = rng.standard_normal(4)
    gamma, beta = rng.uniform(0.5, 2.0, 4), rng.standard_normal(4)
    mean, var = rng.standard_normal(4), rng.uniform(0.5, 2.0, 4)

    def tup(result):
        return result if isinstance(result, tuple) else (result,)

    return [
        ("conv1x1", lambda v: C.conv1x1_forward(v, w1.astype(v.dtype), b.astype(v.dtype)),
         lambda d, c: tup(C.conv1x1_backward(d, c)), x),
        ("conv1x1 groups", lambda v: C.conv1x1_forward(v, w1g.astype(v.dtype), b.astype(v.dtype), groups=2),
         lambda d, c: tup(C.conv1x1_backward(d, c)), x),
        ("conv2d s1", lambda v: C.conv2d_forward(v, w3.astype(v.dtype), b.astype(v.dtype), 1, 1),
         lambda d, c: tup(C.conv2d_backward(d, c)), x),
        ("conv2d s2", lambda v: C.conv2d_forward(v, w3.astype(v.dtype), b.astype(v.dtype), 2, 1),
         lambda d, c: tup(C.conv2d_backward(d, c)), x),
        ("conv2d depthwise", lambda v: C.conv2d_forward(v, w3g.astype(v.dtype), b4.astype(v.dtype), 1, 1, groups=4),
         lambda d, c: tup(C.conv2d_backward(d, c)), x),
        ("maxpool", lambda v: C.maxpool2d_forward(v, 3, 2, 1), lambda d, c: tup(C.maxpool2d_backward(d, c)), x),
        ("global avg pool", C.global_avg_pool_forward, lambda d, c: tup(C.global_avg_pool_backward(d, c)), x),
        ("relu", C.relu_forward, lambda d, c: tup(C.relu_backward(d, c)), x),
        ("leaky relu", lambda v: C.leaky_relu_forward(v, 0.2), lambda d, c: tup(C.leaky_relu_backward(d, c)), x),
        ("sigmoid", C.sigmoid_forward, lambda d, c: tup(C.sigmoid_backward(d, c)), x),
        ("tanh", C.tanh_forward, lambda d, c: tup(C.tanh_backward(d, c)), x),
        ("batchnorm train", lambda v: C.batchnorm_forward(v, gamma, beta),
         lambda d, c: tup(C.batchnorm_backward(d, c)), x),
        ("batchnorm eval", lambda v: C.batchnorm_forward(v, gamma, beta, 1e-5, mean, var),
         lambda d, c: tup(C.batchnorm_backward(d, c)), x),
        ("channel shuffle", lambda v: C.channel_shuffle_forward(v, 2),
         lambda d, c: tup(C.channel_shuffle_backward(d, c)), x),
    ]


NAMES = [p[0] for p in _pairs(np.random.default_rng(0))]


def _pair(name):
    return next(p for p in _pairs(np.random.default_rng(7)) if p[0] == name)


# ---------------------------------------------------------------- kinks: the conventions, written down


def test_leaky_relu_layer_uses_its_slope():
    layer = C.LeakyReLU(0.5)
    out = layer.forward(np.array([[-2.0, 0.0, 3.0]]))
    np.testing.assert_array_equal(out, [[-1.0, 0.0, 3.0]])
    np.testing.assert_array_equal(layer.backward(np.array([[2.0, 2.0, 2.0]])), [[1.0, 1.0, 2.0]])


# ---------------------------------------------------------------- hand-checked values of each pair


# ---------------------------------------------------------------- convolutions against the loops
