"""Global average pooling: values, gradient check, layer, cost, bad input."""

import numpy as np
import pytest

import conv1x1 as C
from conv1x1 import GlobalAvgPool2d, global_avg_pool_backward, global_avg_pool_forward
from conv1x1.gradcheck import check_layer, numerical_gradient, rel_error


def test_forward_is_the_mean_of_each_channel(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    out, _ = global_avg_pool_forward(x)
    expected = np.array([[[[x[n, c].sum() / 20]] for c in range(3)] for n in range(2)])  # plain loops
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_gradient_check(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    out, cache = global_avg_pool_forward(x)
    dout = rng.standard_normal(out.shape)
    dx = global_avg_pool_backward(dout, cache)
    numeric = numerical_gradient(lambda v: global_avg_pool_forward(v)[0], x.copy(), dout)
    assert rel_error(dx, numeric) < 1e-7


def test_layer_gradient_check_in_a_nin_head(rng):
    head = C.Sequential(C.Conv1x1(3, 4, rng=rng), GlobalAvgPool2d())
    head[0].params["b"][...] = rng.standard_normal(4)
    errors = check_layer(head, rng.standard_normal((2, 3, 3, 3)))
    assert max(errors.values()) < 1e-7


def test_dtype_kept_input_untouched_and_nan_propagates(rng):
    x = rng.standard_normal((1, 2, 3, 3)).astype(np.float32)
    x[0, 0, 1, 1] = np.nan
    copy = x.copy()
    out, cache = global_avg_pool_forward(x)
    np.testing.assert_array_equal(x, copy)
    assert out.dtype == np.float32 and np.isnan(out[0, 0, 0, 0]) and np.isfinite(out[0, 1, 0, 0])
    assert global_avg_pool_backward(np.ones_like(out), cache).dtype == np.float32


def test_cost_row():
    report = C.Sequential(C.Conv1x1(3, 10), GlobalAvgPool2d()).cost(8, 8)
    assert report.out_shape == (10, 1, 1) and report[1].macs == 0 and report[1].params == 0
    assert report.macs == 3 * 10 * 64


def test_bad_input():
    layer = GlobalAvgPool2d()
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.zeros((1, 1, 1, 1)))
    with pytest.raises(ValueError, match="4-D"):
        layer.forward(np.zeros((3, 4, 4)))
    with pytest.raises(TypeError, match="floating-point"):
        layer.forward(np.zeros((1, 1, 2, 2), dtype=int))
    layer.forward(np.zeros((2, 3, 4, 4)))
    with pytest.raises(ValueError, match="dout"):
        layer.backward(np.zeros((2, 3, 4, 4)))
