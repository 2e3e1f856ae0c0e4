"""conv1x1.functional.normalization: batch norm's forward and backward in training (batch statistics) and with
given statistics, against hand-worked values, central differences and float16 sums, and the inputs it refuses.
The BatchNorm2d layer (running statistics, train and eval) is tested in test_layers.py."""

import numpy as np
import pytest

import conv1x1 as C
from conv1x1.gradcheck import numerical_gradient, rel_error


def test_batchnorm_forward_normalises_each_channel(rng):
    x = rng.standard_normal((4, 3, 5, 6)) * np.array([1.0, 5.0, 0.1])[:, None, None] + 7
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    out, cache = C.batchnorm_forward(x, gamma, beta, eps=0.0)
    x_hat = (out - beta[:, None, None]) / gamma[:, None, None]
    np.testing.assert_allclose(x_hat.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(x_hat.var(axis=(0, 2, 3)), 1, atol=1e-12)
    np.testing.assert_allclose(cache.var, x.var(axis=(0, 2, 3)), rtol=1e-12)  # biased in the normalisation


def test_batchnorm_training_normalises_with_the_biased_variance():
    x = np.array([1.0, 3.0, 5.0, 7.0]).reshape(2, 1, 1, 2)   # mean 4, biased variance 5
    out, cache = C.batchnorm_forward(x, np.array([1.0]), np.array([0.0]), eps=0.0)
    np.testing.assert_allclose(out.ravel(), np.array([-3.0, -1.0, 1.0, 3.0]) / np.sqrt(5.0), rtol=1e-15)
    np.testing.assert_allclose(cache.mean, [4.0])
    np.testing.assert_allclose(cache.var, [5.0])


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


def test_batchnorm_with_given_statistics_is_an_affine_map_of_them():
    x = np.array([1.0, 3.0, -2.0, 6.0]).reshape(1, 2, 1, 2)
    gamma, beta = np.array([2.0, 0.5]), np.array([1.0, -1.0])
    mean, var = np.array([1.0, 2.0]), np.array([4.0, 16.0])
    out, cache = C.batchnorm_forward(x, gamma, beta, 0.0, mean, var)
    np.testing.assert_allclose(out.ravel(), [1.0, 3.0, -1.5, -0.5], rtol=1e-15)
    dx, dgamma, dbeta = C.batchnorm_backward(np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 2, 1, 2), cache)
    np.testing.assert_allclose(dx.ravel(), [1.0, 2.0, 3 / 8, 4 / 8], rtol=1e-15)
    np.testing.assert_allclose(dgamma, [1 * 0 + 2 * 1, 3 * -1 + 4 * 1], rtol=1e-15)
    np.testing.assert_allclose(dbeta, [3.0, 7.0], rtol=1e-15)


@pytest.mark.parametrize("shape", [(1, 2, 2, 1), (1, 2, 1, 2), (2, 2, 1, 1)])
def test_batchnorm_training_needs_two_values_per_channel_counted_over_n_h_and_w(shape):
    x = np.arange(4.0).reshape(shape)          # two values per channel however they are laid out
    out, _ = C.batchnorm_forward(x, np.ones(2), np.zeros(2), eps=0.0)
    per_channel = np.sort(out.transpose(1, 0, 2, 3).reshape(2, -1), axis=1)   # (a, a + d) -> (-1, 1)
    np.testing.assert_allclose(per_channel, [[-1.0, 1.0], [-1.0, 1.0]], rtol=1e-12)


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_backward_matches_numerical_gradients(rng, training):
    """Float64 central differences; bound 1e-7."""
    x = rng.standard_normal((3, 2, 4, 3)) * 2 + 1
    gamma, beta = rng.uniform(0.5, 1.5, 2), rng.standard_normal(2)
    stats = {} if training else {"mean": rng.standard_normal(2), "var": rng.uniform(0.5, 2, 2)}
    out, cache = C.batchnorm_forward(x, gamma, beta, 1e-5, **stats)
    dout = rng.standard_normal(out.shape)
    dx, dgamma, dbeta = C.batchnorm_backward(dout, cache)

    def f(x_, g_, b_):
        return C.batchnorm_forward(x_, g_, b_, 1e-5, **stats)[0]
    assert rel_error(dx, numerical_gradient(lambda v: f(v, gamma, beta), x.copy(), dout)) < 1e-7
    assert rel_error(dgamma, numerical_gradient(lambda v: f(x, v, beta), gamma.copy(), dout)) < 1e-7
    assert rel_error(dbeta, numerical_gradient(lambda v: f(x, gamma, v), beta.copy(), dout)) < 1e-7


def test_batchnorm_in_float16_sums_in_float32_like_pytorch(rng):
    """A channel of 8 x 56 x 56 values has a sum of squares near 225,000, past float16's 65,504: summed in
    float16 the variance and dgamma would be inf. Against float64, error over the largest entry below 1e-2
    (float16 has 11 bits)."""
    x = rng.standard_normal((8, 2, 56, 56)) * 3 + 1
    gamma, beta, dout = rng.standard_normal(2), rng.standard_normal(2), rng.standard_normal(x.shape) * 3 + 1
    exact_out, exact_cache = C.batchnorm_forward(x, gamma, beta)
    exact = (exact_out,) + C.batchnorm_backward(dout, exact_cache)
    half = [v.astype(np.float16) for v in (x, gamma, beta, dout)]
    out, cache = C.batchnorm_forward(*half[:3])
    got = (out,) + C.batchnorm_backward(half[3], cache)
    for name, g, e in zip(("out", "dx", "dgamma", "dbeta"), got, exact):
        assert g.dtype == np.float16, name
        assert np.abs(g - e).max() / np.abs(e).max() < 1e-2, name   # relative to the largest entry


def test_batchnorm_backward_sums_float16_gradients_in_float32():
    """dbeta = sum of dout per channel: 4096 ones are exactly 4096 in float16, but a float16 running sum
    sticks at 2048 (2048 + 1 rounds back to 2048). _channel_sum's docstring: accumulated in at least float32.
    """
    x = np.random.default_rng(2).standard_normal((4096, 2, 1, 1)).astype(np.float16)
    out, cache = C.batchnorm_forward(x, np.ones(2), np.zeros(2))
    dx, dgamma, dbeta = C.batchnorm_backward(np.ones_like(out), cache)
    assert dbeta.dtype == np.float16
    np.testing.assert_array_equal(dbeta, [4096, 4096])
    x_hat = cache.x_hat.astype(np.float64)
    np.testing.assert_allclose(dgamma.astype(np.float64), x_hat.sum(axis=(0, 2, 3)), atol=0.5)


def test_batchnorm_float16_dx_stays_finite_when_dbeta_overflows_float16(rng):
    """dout near 3 on 25,088 values per channel: dbeta is about 75,000, past float16 (inf, as PyTorch gives
    too), but dx uses the float32 sums, as PyTorch does, and stays finite and right."""
    x = rng.standard_normal((8, 2, 56, 56))
    dout = 3 + 0.1 * rng.standard_normal(x.shape)
    ones, zeros = np.ones(2), np.zeros(2)
    exact_dx = C.batchnorm_backward(dout, C.batchnorm_forward(x, ones, zeros)[1])[0]
    _, cache = C.batchnorm_forward(x.astype(np.float16), ones.astype(np.float16), zeros.astype(np.float16))
    with np.errstate(over="ignore"):    # dbeta's cast to float16 overflows (NumPy >= 1.24 warns there)
        dx, _, dbeta = C.batchnorm_backward(dout.astype(np.float16), cache)
    assert np.isinf(dbeta).all()
    assert np.isfinite(dx).all() and np.abs(dx - exact_dx).max() / np.abs(exact_dx).max() < 1e-2


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


@pytest.mark.parametrize("call, error, message", [
    (lambda: C.batchnorm_forward(np.ones((2, 3, 2, 2)), np.ones(2), np.zeros(3)), ValueError, "gamma must have shape"),
    (lambda: C.batchnorm_forward(np.ones((2, 3, 2, 2)), np.ones(3), np.zeros(3), mean=np.zeros(3)), ValueError,
     "both mean and var"),
    (lambda: C.batchnorm_backward(np.ones(3), None), TypeError, "BatchNormCache"),
])
def test_batchnorm_refuses_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_batchnorm_with_no_channels_gives_empty_outputs():
    """Zero channels give empty outputs, not a division by zero when counting the values per channel."""
    out, cache = C.batchnorm_forward(np.ones((2, 0, 3, 3)), np.ones(0), np.ones(0))
    assert out.shape == (2, 0, 3, 3)
    dx, dgamma, dbeta = C.batchnorm_backward(out, cache)
    assert dx.shape == (2, 0, 3, 3) and dgamma.shape == dbeta.shape == (0,)


# ---------------------------------------------------------------- layer norm over channels (ConvNeXt)

def test_layernorm2d_normalises_every_pixels_channels(rng):
    x = rng.standard_normal((2, 5, 3, 4)) * 3 + 7
    out, _ = C.layernorm2d_forward(x, np.ones(5), np.zeros(5), eps=0.0)
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-13)
    np.testing.assert_allclose(out.var(axis=1), 1, atol=1e-12)       # biased variance over C


def test_layernorm2d_default_eps_is_convnexts_1e_minus_6():
    x = np.array([0.0, 2e-3]).reshape(1, 2, 1, 1)                     # variance 1e-6: eps doubles it
    out, _ = C.layernorm2d_forward(x, np.ones(2), np.zeros(2))
    np.testing.assert_allclose(out.ravel(), [-1e-3 / np.sqrt(2e-6), 1e-3 / np.sqrt(2e-6)], rtol=1e-12)


def test_layernorm2d_backward_matches_numerical_gradients(rng):
    """Central differences in float64; bound: relative error < 1e-7."""
    x, gamma, beta = rng.standard_normal((2, 4, 3, 3)), rng.standard_normal(4), rng.standard_normal(4)
    out, cache = C.layernorm2d_forward(x, gamma, beta)
    dout = rng.standard_normal(out.shape)
    dx, dgamma, dbeta = C.layernorm2d_backward(dout, cache)

    def f(x=x, gamma=gamma, beta=beta):
        return C.layernorm2d_forward(x, gamma, beta)[0]
    assert rel_error(dx, numerical_gradient(lambda v: f(x=v), x.copy(), dout)) < 1e-7
    assert rel_error(dgamma, numerical_gradient(lambda v: f(gamma=v), gamma.copy(), dout)) < 1e-7
    assert rel_error(dbeta, numerical_gradient(lambda v: f(beta=v), beta.copy(), dout)) < 1e-7


def test_layernorm2d_equals_pytorchs_layer_norm_on_channels_last(torch, rng):
    """ConvNeXt's LayerNorm2d: permute to (N, H, W, C), nn.functional.layer_norm over C, permute back."""
    x, gamma, beta = rng.standard_normal((2, 6, 4, 5)), rng.standard_normal(6), rng.standard_normal(6)
    out, cache = C.layernorm2d_forward(x, gamma, beta)
    tx, tg, tb = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
    tout = torch.nn.functional.layer_norm(tx.permute(0, 2, 3, 1), (6,), tg, tb, 1e-6).permute(0, 3, 1, 2)
    dout = rng.standard_normal(out.shape)
    tout.backward(torch.tensor(dout))
    for ours, theirs in zip((out, *C.layernorm2d_backward(dout, cache)), (tout, tx.grad, tg.grad, tb.grad)):
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=0, atol=1e-10)


def test_layernorm2d_refuses_gamma_of_the_wrong_length():
    with pytest.raises(ValueError, match=r"gamma must have shape \(3,\), one value per channel"):
        C.layernorm2d_forward(np.zeros((1, 3, 2, 2)), np.ones(4), np.zeros(3))
