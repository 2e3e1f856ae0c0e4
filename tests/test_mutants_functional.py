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


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("forward_dtype, dout_dtype", [(np.float64, np.float32), (np.float32, np.float64)])
def test_every_gradient_comes_back_in_the_forward_dtype(name, forward_dtype, dout_dtype):
    _, forward, backward, x = _pair(name)
    out, cache = forward(x.astype(forward_dtype))
    assert out.dtype == forward_dtype
    dout = np.random.default_rng(3).standard_normal(out.shape).astype(dout_dtype)
    grads = backward(dout, cache)
    same = backward(dout.astype(forward_dtype), cache)
    for g, g_ref in zip(grads, same):
        assert g.dtype == forward_dtype
        np.testing.assert_array_equal(g, g_ref)


@pytest.mark.parametrize("name", NAMES)
def test_a_dout_of_the_wrong_shape_is_refused(name):
    _, forward, backward, x = _pair(name)
    out, cache = forward(x)
    for shape in [out.shape[:-1] + (out.shape[-1] + 1,), (out.shape[0] + 1,) + out.shape[1:], out.shape[:-1]]:
        with pytest.raises(ValueError, match="dout"):
            backward(np.ones(shape), cache)


@pytest.mark.parametrize("name", NAMES)
def test_array_likes_give_the_same_results_and_no_input_is_modified(name):
    _, forward, backward, x = _pair(name)
    x_before = x.copy()
    out, cache = forward(x)
    dout = np.random.default_rng(5).standard_normal(out.shape)
    dout_before = dout.copy()
    grads = backward(dout, cache)
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(dout, dout_before)
    out_list, cache_list = forward(x.tolist()) if "conv" not in name else forward(x)
    np.testing.assert_array_equal(out_list, out)
    for g, g_list in zip(grads, backward(dout.tolist(), cache_list)):
        np.testing.assert_array_equal(g_list, g)


@pytest.mark.parametrize("name", NAMES)
def test_backward_is_the_gradient_of_forward(name):
    """Central differences in float64 on every pair, random non-zero biases and dout; bound 1e-7."""
    _, forward, backward, x = _pair(name)
    x = x + 0.05 * np.sign(x)  # keep away from the ReLU kink, where central differences are not a gradient
    out, cache = forward(x)
    dout = np.random.default_rng(11).standard_normal(out.shape)
    dx = backward(dout, cache)[0]
    assert rel_error(dx, numerical_gradient(lambda v: forward(v)[0], x.copy(), dout, 1e-5)) < 1e-7


# ---------------------------------------------------------------- kinks: the conventions, written down

def test_relu_gradient_at_exactly_zero_is_zero():
    """Convention (relu_backward's docstring, PyTorch's too): at x = 0 the gradient is 0."""
    x = np.array([-1.0, 0.0, -0.0, 2.0, np.nan])
    _, cache = C.relu_forward(x)
    dx = C.relu_backward(np.array([3.0, 5.0, 7.0, 11.0, 13.0]), cache)
    np.testing.assert_array_equal(dx, [0.0, 0.0, 0.0, 11.0, 13.0])  # NaN is not <= 0: dout passes


def test_leaky_relu_gradient_at_exactly_zero_is_the_slope():
    """Convention (leaky_relu_backward's docstring, PyTorch's too): at x = 0 the slope is negative_slope."""
    x = np.array([-1.0, 0.0, -0.0, 2.0])
    out, cache = C.leaky_relu_forward(x, 0.25)
    np.testing.assert_array_equal(out, [-0.25, 0.0, 0.0, 2.0])
    dx = C.leaky_relu_backward(np.array([4.0, 8.0, 16.0, 32.0]), cache)
    np.testing.assert_array_equal(dx, [1.0, 2.0, 4.0, 32.0])


def test_leaky_relu_layer_uses_its_slope():
    layer = C.LeakyReLU(0.5)
    out = layer.forward(np.array([[-2.0, 0.0, 3.0]]))
    np.testing.assert_array_equal(out, [[-1.0, 0.0, 3.0]])
    np.testing.assert_array_equal(layer.backward(np.array([[2.0, 2.0, 2.0]])), [[1.0, 1.0, 2.0]])


def test_sigmoid_and_tanh_on_hand_values():
    x = np.array([-800.0, -1.0, 0.0, 1.0, 800.0])
    s, cache = C.sigmoid_forward(x)
    expected = np.array([0.0, 1 / (1 + np.e), 0.5, 1 / (1 + np.exp(-1.0)), 1.0])
    np.testing.assert_allclose(s, expected, rtol=1e-15, atol=0)
    np.testing.assert_allclose(C.sigmoid_backward(np.full(5, 2.0), cache), 2 * expected * (1 - expected),
                               rtol=1e-15, atol=0)
    t, cache = C.tanh_forward(x)
    np.testing.assert_allclose(C.tanh_backward(np.full(5, 3.0), cache), 3 * (1 - np.tanh(x) ** 2), rtol=1e-15,
                               atol=0)


# ---------------------------------------------------------------- hand-checked values of each pair

def test_global_avg_pool_backward_spreads_dout_evenly():
    x = np.arange(24.0).reshape(1, 2, 3, 4)
    out, cache = C.global_avg_pool_forward(x)
    np.testing.assert_array_equal(out.ravel(), [5.5, 17.5])
    dx = C.global_avg_pool_backward(np.array([12.0, 24.0]).reshape(1, 2, 1, 1), cache)
    np.testing.assert_array_equal(dx[0, 0], np.ones((3, 4)))
    np.testing.assert_array_equal(dx[0, 1], np.full((3, 4), 2.0))


def test_channel_shuffle_forward_and_backward_on_hand_values():
    x = np.arange(6.0).reshape(1, 6, 1, 1)
    out, cache = C.channel_shuffle_forward(x, 3)         # groups 01 | 23 | 45 -> 0 2 4 1 3 5
    assert out.ravel().tolist() == [0, 2, 4, 1, 3, 5]
    dx = C.channel_shuffle_backward(out, cache)            # the inverse permutation gives x back
    assert dx.ravel().tolist() == [0, 1, 2, 3, 4, 5]


def test_batchnorm_eval_is_an_affine_map_of_the_running_statistics():
    x = np.array([1.0, 3.0, -2.0, 6.0]).reshape(1, 2, 1, 2)
    gamma, beta = np.array([2.0, 0.5]), np.array([1.0, -1.0])
    mean, var = np.array([1.0, 2.0]), np.array([4.0, 16.0])
    out, cache = C.batchnorm_forward(x, gamma, beta, 0.0, mean, var)
    np.testing.assert_allclose(out.ravel(), [1.0, 3.0, -1.5, -0.5], rtol=1e-15)
    dx, dgamma, dbeta = C.batchnorm_backward(np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 2, 1, 2), cache)
    np.testing.assert_allclose(dx.ravel(), [1.0, 2.0, 3 / 8, 4 / 8], rtol=1e-15)
    np.testing.assert_allclose(dgamma, [1 * 0 + 2 * 1, 3 * -1 + 4 * 1], rtol=1e-15)
    np.testing.assert_allclose(dbeta, [3.0, 7.0], rtol=1e-15)


def test_batchnorm_training_normalises_with_the_biased_variance():
    x = np.array([1.0, 3.0, 5.0, 7.0]).reshape(2, 1, 1, 2)   # mean 4, biased variance 5
    out, cache = C.batchnorm_forward(x, np.array([1.0]), np.array([0.0]), eps=0.0)
    np.testing.assert_allclose(out.ravel(), np.array([-3.0, -1.0, 1.0, 3.0]) / np.sqrt(5.0), rtol=1e-15)
    np.testing.assert_allclose(cache.mean, [4.0])
    np.testing.assert_allclose(cache.var, [5.0])


def test_batchnorm_needs_both_statistics_or_neither():
    x = np.ones((2, 1, 1, 1))
    with pytest.raises(ValueError):
        C.batchnorm_forward(x, np.ones(1), np.zeros(1), 1e-5, np.zeros(1), None)
    with pytest.raises(ValueError):
        C.batchnorm_forward(x, np.ones(1), np.zeros(1), 1e-5, None, np.ones(1))
    with pytest.raises(ValueError, match="more than one value"):
        C.batchnorm_forward(np.ones((1, 1, 1, 1)), np.ones(1), np.zeros(1))
    out, _ = C.batchnorm_forward(np.ones((1, 1, 1, 1)), np.ones(1), np.zeros(1), 0.0, np.zeros(1), np.ones(1))
    assert out.ravel().tolist() == [1.0]


# ---------------------------------------------------------------- convolutions against the loops

@pytest.mark.parametrize("groups", [1, 2])
def test_conv1x1_with_a_bias_equals_the_loops(rng, groups):
    x = rng.standard_normal((2, 4, 3, 2))
    w = rng.standard_normal((6, 4 // groups))
    b = rng.standard_normal(6)
    np.testing.assert_allclose(C.conv1x1(x, w, b, groups), reference.conv1x1_loops(x, w, b, groups), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("stride, padding, groups", [(1, 0, 1), (1, 1, 2), (2, 1, 1), (3, 2, 4), (2, 0, 2)])
def test_conv2d_with_a_bias_equals_the_loops(rng, stride, padding, groups):
    x = rng.standard_normal((2, 4, 7, 6))
    w = rng.standard_normal((8, 4 // groups, 3, 3))
    b = rng.standard_normal(8)
    out, _ = C.conv2d_forward(x, w, b, stride, padding, groups)
    expected, _ = reference.conv2d_loops(x, w, b, stride, padding, groups)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("k, stride, padding, ceil_mode", [(2, 2, 0, False), (3, 2, 1, False), (3, 2, 1, True),
                                                           (3, 1, 1, False), (2, 3, 1, True), (3, 3, 0, True)])
def test_maxpool_equals_the_loops_and_routes_dout_to_the_winner(rng, k, stride, padding, ceil_mode):
    x = rng.permutation(2 * 3 * 7 * 8).reshape(2, 3, 7, 8).astype(np.float64)  # distinct values: one winner each
    out, cache = C.maxpool2d_forward(x, k, stride, padding, ceil_mode)
    np.testing.assert_array_equal(out, reference.maxpool2d_loops(x, k, stride, padding, ceil_mode))
    dout = rng.standard_normal(out.shape)
    dx = C.maxpool2d_backward(dout, cache)
    expected = np.zeros_like(x)
    for n, c, i, j in np.ndindex(out.shape):
        ii, jj = np.argwhere(x[n, c] == out[n, c, i, j])[0]
        expected[n, c, ii, jj] += dout[n, c, i, j]
    np.testing.assert_allclose(dx, expected, rtol=1e-12, atol=1e-12)


def test_maxpool_ties_go_to_the_first_element_of_the_window():
    x = np.array([[5.0, 5.0], [5.0, 5.0]]).reshape(1, 1, 2, 2)
    out, cache = C.maxpool2d_forward(x, 2)
    dx = C.maxpool2d_backward(np.array([7.0]).reshape(1, 1, 1, 1), cache)
    np.testing.assert_array_equal(dx.ravel(), [7.0, 0.0, 0.0, 0.0])


def test_maxpool_padding_never_wins_even_on_negative_inputs():
    x = -np.arange(1.0, 10.0).reshape(1, 1, 3, 3)                # all negative: padding (-inf) must lose
    out, cache = C.maxpool2d_forward(x, 3, 2, 1)
    np.testing.assert_array_equal(out.ravel(), [-1.0, -2.0, -4.0, -5.0])   # each window's top-left real value
    dx = C.maxpool2d_backward(np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 1, 2, 2), cache)
    np.testing.assert_array_equal(dx.ravel(), [1, 2, 0, 3, 4, 0, 0, 0, 0])


@pytest.mark.parametrize("c", [1, 2, 3, 6])
@pytest.mark.parametrize("h, w, k, padding", [(1, 1, 3, 1), (1, 1, 7, 4), (2, 1, 5, 3), (1, 3, 7, 5), (4, 5, 3, 0)])
def test_depthwise_on_images_smaller_than_the_padding_equals_the_loops(rng, c, h, w, k, padding):
    """Kernel offsets that see only padding must add nothing (fast.py's depthwise route skips them), for any C."""
    x = rng.standard_normal((2, c, h, w))
    weights, b = rng.standard_normal((c, 1, k, k)), rng.standard_normal(c)
    out, cache = C.conv2d_forward(x, weights, b, 1, padding, c)
    expected, _ = reference.conv2d_loops(x, weights, b, 1, padding, c)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = C.conv2d_backward(dout, cache)
    assert rel_error(dx, numerical_gradient(lambda v: C.conv2d_forward(v, weights, b, 1, padding, c)[0],
                                            x.copy(), dout, 1e-5)) < 1e-7
    assert rel_error(dw, numerical_gradient(lambda v: C.conv2d_forward(x, v, b, 1, padding, c)[0],
                                            weights.copy(), dout, 1e-5)) < 1e-7
    np.testing.assert_allclose(db, dout.sum(axis=(0, 2, 3)), rtol=1e-12)


def test_batchnorm_default_eps_is_pytorchs_1e_minus_5(rng):
    x = rng.standard_normal((3, 2, 2, 2)) * 1e-2          # a small variance, so eps shows in the result
    gamma, beta = rng.standard_normal(2), rng.standard_normal(2)
    out, _ = C.batchnorm_forward(x, gamma, beta)
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    expected = gamma[:, None, None] * (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-5) \
        + beta[:, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    out_eval, _ = C.batchnorm_forward(x, gamma, beta, mean=mean, var=var)
    np.testing.assert_allclose(out_eval, expected, rtol=1e-12, atol=1e-12)


def test_batchnorm_checks_eps_and_the_statistics():
    x, one, zero = np.ones((2, 2, 1, 1)), np.ones(2), np.zeros(2)
    with pytest.raises(ValueError, match="eps"):
        C.batchnorm_forward(x, one, zero, eps=-1e-5)
    with pytest.raises(TypeError, match="eps"):
        C.batchnorm_forward(x, one, zero, eps="small")
    with pytest.raises(ValueError, match="mean"):
        C.batchnorm_forward(x, one, zero, 1e-5, np.zeros(3), one)
    with pytest.raises(ValueError, match="var"):
        C.batchnorm_forward(x, one, zero, 1e-5, zero, np.ones((2, 1)))
    out, _ = C.batchnorm_forward(x, one, zero, 0.0, [1.0, 1.0], [4.0, 4.0])   # lists are array-likes
    np.testing.assert_array_equal(out, np.zeros((2, 2, 1, 1)))


@pytest.mark.parametrize("shape", [(1, 2, 2, 1), (1, 2, 1, 2), (2, 2, 1, 1)])
def test_batchnorm_training_needs_two_values_per_channel_counted_over_n_h_and_w(shape):
    x = np.arange(4.0).reshape(shape)          # two values per channel however they are laid out
    out, _ = C.batchnorm_forward(x, np.ones(2), np.zeros(2), eps=0.0)
    per_channel = np.sort(out.transpose(1, 0, 2, 3).reshape(2, -1), axis=1)   # (a, a + d) -> (-1, 1)
    np.testing.assert_allclose(per_channel, [[-1.0, 1.0], [-1.0, 1.0]], rtol=1e-12)
