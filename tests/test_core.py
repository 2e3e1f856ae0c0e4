"""conv1x1_forward / conv1x1_backward: values, shapes, dtypes and edge cases."""

import numpy as np
import pytest

import conv1x1 as C
from conv1x1 import reference
from conv1x1.gradcheck import numerical_gradient, rel_error

pytestmark = pytest.mark.usefixtures("both_paths")  # plain and conv1x1.fast: same results

SHAPES = [  # (N, C_in, C_out, H, W): C_in != C_out, H != W, N = 1, H = W = 1
    (2, 3, 5, 4, 6),
    (1, 6, 2, 3, 3),
    (3, 4, 4, 1, 1),
    (1, 1, 3, 2, 5),
]


def _random_problem(rng, shape, dtype=np.float64):
    n, c_in, c_out, h, w = shape
    x = rng.standard_normal((n, c_in, h, w)).astype(dtype)
    weights = rng.standard_normal((c_out, c_in)).astype(dtype)
    bias = rng.standard_normal(c_out).astype(dtype)
    return x, weights, bias


def test_reference_rungs_agree_on_a_fixed_case(rng):
    x, w, b = _random_problem(rng, (2, 3, 4, 5, 6))
    fast = C.conv1x1(x, w, b)
    for rung in (reference.conv1x1_loops, reference.conv1x1_einsum, reference.conv1x1_as_dense):
        np.testing.assert_allclose(rung(x, w, b), fast, rtol=1e-12, atol=1e-12)
