"""conv1x1.functional as a whole: every forward returns ``(out, cache)`` and every backward takes
``(dout, cache)``, and each pair keeps the same contract. It casts dout to the forward's dtype (every gradient
comes back in the dtype of the forward pass), refuses a dout of the wrong shape and a cache that is not its
own, accepts array-likes, never modifies its inputs, is the gradient of its forward and warns on no NaN.
Expected values come from central differences, never from the code under test."""

import warnings

import numpy as np
import pytest

import conv1x1 as C
from conv1x1.gradcheck import numerical_gradient, rel_error

pytestmark = pytest.mark.usefixtures("both_paths")  # plain and conv1x1.fast: same results


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
def test_every_pair_gives_its_gradients_in_the_forward_dtype(name, forward_dtype, dout_dtype):
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
def test_every_pair_refuses_a_dout_of_the_wrong_shape(name):
    _, forward, backward, x = _pair(name)
    out, cache = forward(x)
    for shape in [out.shape[:-1] + (out.shape[-1] + 1,), (out.shape[0] + 1,) + out.shape[1:], out.shape[:-1]]:
        with pytest.raises(ValueError, match="dout"):
            backward(np.ones(shape), cache)


@pytest.mark.parametrize("name", NAMES)
def test_every_pair_takes_array_likes_and_modifies_no_input(name):
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
def test_every_pair_backward_is_the_gradient_of_forward(name):
    """Central differences in float64 on every pair, random non-zero biases and dout; bound 1e-7.
    """
    _, forward, backward, x = _pair(name)
    x = x + 0.05 * np.sign(x)  # keep away from the ReLU kink, where central differences are not a gradient
    out, cache = forward(x)
    dout = np.random.default_rng(11).standard_normal(out.shape)
    dx = backward(dout, cache)[0]
    assert rel_error(dx, numerical_gradient(lambda v: forward(v)[0], x.copy(), dout, 1e-5)) < 1e-7


@pytest.mark.parametrize("backward", [C.conv1x1_backward, C.conv2d_backward, C.maxpool2d_backward,
                                      C.global_avg_pool_backward])
@pytest.mark.parametrize("cache", [None, (1, 2), "cache"])
def test_backward_names_a_wrong_cache(backward, cache):
    """Errors that name the argument."""
    with pytest.raises(TypeError, match=r"cache must be the \w+Cache returned by \w+_forward"):
        backward(np.zeros((1, 1, 1, 1)), cache)


def test_conv1x1_and_maxpool2d_give_no_warning_on_nan_input():
    """Nonsense is refused, not accepted silently."""
    x = np.full((1, 2, 3, 3), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, cache = C.conv1x1_forward(x, np.ones((2, 2)), np.ones(2))
        C.conv1x1_backward(np.ones_like(out), cache)
        pooled, pool_cache = C.maxpool2d_forward(x, 2, 1)
        C.maxpool2d_backward(np.ones_like(pooled), pool_cache)
    assert np.isnan(out).all() and np.isnan(pooled).all()
