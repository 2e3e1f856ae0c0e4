"""Batch norm, channel shuffle, Residual, the blocks, and whole networks priced to the papers' numbers.

Every published number below is derived again here from the architecture (channel widths, map sizes)
by plain arithmetic, then compared with the library's cost report and with the paper's printed value.
"""

import time
import tracemalloc

import numpy as np
import pytest

import conv1x1 as C
from conv1x1 import models
from conv1x1.gradcheck import check_layer, numerical_gradient, rel_error


def _randomise_params(layer, rng):
    """Random gamma, beta and biases, so no ReLU sits on its kink and batch norm is not the identity."""
    for name, param in layer.params.items():
        if name.endswith(("gamma", "beta", "b")):
            param[...] = rng.uniform(0.5, 1.5, param.shape) if name.endswith("gamma") else rng.normal(0, 0.5,
                                                                                                     param.shape)
    return layer


def _all_below(errors, bound=1e-7):
    return all(e < bound for e in errors.values())


# ---------------------------------------------------------------- batch norm

def test_batchnorm_forward_normalises_each_channel(rng):
    x = rng.standard_normal((4, 3, 5, 6)) * np.array([1.0, 5.0, 0.1])[:, None, None] + 7
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    out, cache = C.batchnorm_forward(x, gamma, beta, eps=0.0)
    x_hat = (out - beta[:, None, None]) / gamma[:, None, None]
    np.testing.assert_allclose(x_hat.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(x_hat.var(axis=(0, 2, 3)), 1, atol=1e-12)
    np.testing.assert_allclose(cache.var, x.var(axis=(0, 2, 3)), rtol=1e-12)  # biased in the normalisation


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


def test_batchnorm_float16_dx_stays_finite_when_dbeta_overflows_float16(rng):
    """dout near 3 on 25,088 values per channel: dbeta is about 75,000, past float16 (inf, as PyTorch gives
    too), but dx uses the float32 sums, as PyTorch does, and stays finite and right."""
    x = rng.standard_normal((8, 2, 56, 56))
    dout = 3 + 0.1 * rng.standard_normal(x.shape)
    ones, zeros = np.ones(2), np.zeros(2)
    exact_dx = C.batchnorm_backward(dout, C.batchnorm_forward(x, ones, zeros)[1])[0]
    _, cache = C.batchnorm_forward(x.astype(np.float16), ones.astype(np.float16), zeros.astype(np.float16))
    with pytest.warns(RuntimeWarning, match="overflow"):            # NumPy says so when dbeta becomes inf
        dx, _, dbeta = C.batchnorm_backward(dout.astype(np.float16), cache)
    assert np.isinf(dbeta).all()
    assert np.isfinite(dx).all() and np.abs(dx - exact_dx).max() / np.abs(exact_dx).max() < 1e-2


def test_batchnorm_layer_gradcheck_in_training_mode(rng):
    layer = _randomise_params(C.BatchNorm2d(3), rng)
    assert _all_below(check_layer(layer, rng.standard_normal((2, 3, 3, 4))))


def test_batchnorm_running_statistics_follow_pytorchs_rule(rng):
    layer = C.BatchNorm2d(2, momentum=0.3)
    mean, var = np.zeros(2), np.ones(2)
    for _ in range(3):
        x = rng.standard_normal((4, 2, 3, 3)) * 3 + 2
        layer.forward(x)
        values = x.transpose(1, 0, 2, 3).reshape(2, -1)
        mean = 0.7 * mean + 0.3 * values.mean(axis=1)
        var = 0.7 * var + 0.3 * values.var(axis=1, ddof=1)     # unbiased in the running estimate
    np.testing.assert_allclose(layer.running_mean, mean, rtol=1e-12)
    np.testing.assert_allclose(layer.running_var, var, rtol=1e-12)
    assert layer.buffers["running_var"] is layer.running_var


def test_batchnorm_eval_uses_the_running_statistics_and_keeps_them(rng):
    layer = _randomise_params(C.BatchNorm2d(2), rng)
    layer.forward(rng.standard_normal((4, 2, 3, 3)) + 5)
    mean, var = layer.running_mean.copy(), layer.running_var.copy()
    assert layer.eval() is layer and layer.training is False
    x = rng.standard_normal((1, 2, 2, 2))
    out = layer.forward(x)
    g, b = layer.params["gamma"], layer.params["beta"]
    expected = g[:, None, None] * (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-5) + b[:, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    np.testing.assert_array_equal(layer.running_mean, mean)
    assert _all_below(check_layer(layer, x))    # an affine map at evaluation: also gradient-checked


def test_batchnorm_refuses_one_value_per_channel_in_training_but_not_in_eval():
    with pytest.raises(ValueError, match="more than one value per channel"):
        C.BatchNorm2d(3).forward(np.ones((1, 3, 1, 1)))
    assert C.BatchNorm2d(3).eval().forward(np.ones((1, 3, 1, 1))).shape == (1, 3, 1, 1)


@pytest.mark.parametrize("call, error, message", [
    (lambda: C.batchnorm_forward(np.ones((2, 3, 2, 2)), np.ones(2), np.zeros(3)), ValueError, "gamma must have shape"),
    (lambda: C.batchnorm_forward(np.ones((2, 3, 2, 2)), np.ones(3), np.zeros(3), mean=np.zeros(3)), ValueError,
     "both mean and var"),
    (lambda: C.BatchNorm2d(3, momentum=2), ValueError, "momentum"),
    (lambda: C.BatchNorm2d(3).forward(np.ones((2, 4, 2, 2))), ValueError, "expects 3 input channels"),
    (lambda: C.batchnorm_backward(np.ones(3), None), TypeError, "BatchNormCache"),
])
def test_batchnorm_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---------------------------------------------------------------- channel shuffle

def test_channel_shuffle_interleaves_the_groups():
    x = np.arange(12.0).reshape(1, 12, 1, 1)
    out, cache = C.channel_shuffle_forward(x, 3)   # groups of 4: 0-3 | 4-7 | 8-11
    assert out.ravel().tolist() == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]
    np.testing.assert_array_equal(C.channel_shuffle_backward(out, cache), x)   # the inverse permutation


def test_channel_shuffle_gradient_and_layer(rng):
    layer = C.ChannelShuffle(2)
    assert _all_below(check_layer(layer, rng.standard_normal((2, 6, 3, 2))))
    assert layer.cost(3, 2, in_channels=6)[0].macs == 0
    with pytest.raises(ValueError, match="groups=4 must divide"):
        layer_4 = C.ChannelShuffle(4)
        layer_4.forward(np.ones((1, 6, 2, 2)))


def test_channel_shuffle_returns_a_new_array_even_for_one_group(rng):
    x = rng.standard_normal((1, 4, 2, 2))
    out, _ = C.channel_shuffle_forward(x, 1)
    np.testing.assert_array_equal(out, x)
    assert not np.shares_memory(out, x)


def test_grouped_1x1_with_shuffle_mixes_every_group(rng):
    # Without the shuffle, output group 0 of two stacked grouped 1x1 layers sees input group 0 only.
    g1, g2 = C.Conv1x1(8, 8, groups=2, rng=0), C.Conv1x1(8, 8, groups=2, rng=1)
    x = rng.standard_normal((1, 8, 2, 2))
    moved = x.copy()
    moved[:, 4:] += 1.0                                     # change input group 1 only
    plain = [g2.forward(g1.forward(v))[:, :4] for v in (x, moved)]
    np.testing.assert_array_equal(plain[0], plain[1])
    shuffled = C.Sequential(C.Conv1x1(8, 8, groups=2, rng=0), C.ChannelShuffle(2), C.Conv1x1(8, 8, groups=2, rng=1))
    first, second = (shuffled.forward(v)[:, :4].copy() for v in (x, moved))
    assert not np.allclose(first, second)


# ---------------------------------------------------------------- Residual

def test_residual_identity_adds_the_input_and_sums_the_gradients(rng):
    block = C.Conv1x1(3, 3, rng=0)
    res = C.Residual(block)
    x = rng.standard_normal((2, 3, 4, 4))
    np.testing.assert_allclose(res.forward(x), C.conv1x1(x, block.params["w"], block.params["b"]) + x)
    dout = rng.standard_normal((2, 3, 4, 4))
    np.testing.assert_allclose(res.backward(dout), np.einsum("oc,nohw->nchw", block.params["w"], dout) + dout)
    assert res.children == (block,) and res.shortcut is None


def test_residual_with_projection_gradcheck_and_cost(rng):
    res = C.Residual(C.Sequential(C.Conv2d(3, 4, 3, stride=2, padding=1, rng=0), C.Tanh()),
                     C.Conv2d(3, 4, 1, stride=2, rng=1))
    _randomise_params(res, rng)
    assert _all_below(check_layer(res, rng.standard_normal((2, 3, 5, 5))))
    report = res.cost(5, 5)
    assert [row.kind for row in report.layers][-1] == "add" and report.out_shape == (4, 3, 3)
    assert report.macs == 3 * 3 * 4 * 3 * 9 + 3 * 3 * 4 * 3
    assert sorted(res.params) == ["0.0.b", "0.0.w", "1.b", "1.w"]


def test_residual_train_and_eval_reach_block_and_shortcut():
    res = C.Residual(C.Sequential(C.BatchNorm2d(2)), C.BatchNorm2d(2))
    res.eval()
    assert not res.block[0].training and not res.shortcut.training
    res.train()
    assert res.block[0].training and res.shortcut.training


def test_residual_refuses_a_shape_mismatch():
    res = C.Residual(C.Conv1x1(3, 4))
    with pytest.raises(ValueError, match="projection shortcut"):
        res.forward(np.ones((1, 3, 2, 2)))
    with pytest.raises(ValueError, match="must match"):
        res.cost(2, 2, in_channels=3)


# ---------------------------------------------------------------- blocks

@pytest.mark.parametrize("make, x_shape", [
    (lambda: C.DepthwiseSeparable(3, 4, rng=0), (2, 3, 4, 4)),
    (lambda: C.DepthwiseSeparable(3, 5, stride=2, rng=0), (2, 3, 5, 5)),
    (lambda: C.Bottleneck(4, 2, 4, rng=0), (2, 4, 4, 4)),
    (lambda: C.Bottleneck(3, 2, 6, stride=2, stride_on="3x3", rng=0), (2, 3, 5, 5)),
    (lambda: C.Bottleneck(3, 2, 6, stride=2, stride_on="1x1", rng=0), (2, 3, 5, 5)),
    (lambda: C.Fire(3, 2, 3, 4, rng=0), (2, 3, 4, 4)),
], ids=["ds", "ds-stride2", "bottleneck-identity", "bottleneck-3x3", "bottleneck-1x1", "fire"])
def test_blocks_gradcheck(rng, make, x_shape):
    """Float64 central differences, batch norm in training mode with random gamma and beta; bound 1e-6.

    Not 1e-7: batch norm's dx sums to zero per channel, so some of its entries are tiny, and the
    central-difference estimate of a tiny entry (eps 1e-5) has a larger relative error. Measured on the
    identity bottleneck over six seeds: up to 1.3e-7, before and after batch norm's sums moved to einsum.
    A wrong gradient is off by 1e-2 or more."""
    block = _randomise_params(make(), rng)
    assert _all_below(check_layer(block, rng.standard_normal(x_shape)), bound=1e-6)


def test_blocks_have_the_documented_layers():
    ds = C.DepthwiseSeparable(8, 16, stride=2)
    assert [type(layer).__name__ for layer in ds] == ["Conv2d", "BatchNorm2d", "ReLU", "Conv1x1", "BatchNorm2d",
                                                      "ReLU"]
    assert ds[0].groups == 8 and ds[0].stride == 2 and not ds[0].bias and not ds[3].bias
    paper, torchvision = C.Bottleneck(256, 128, 512, 2, "1x1"), C.Bottleneck(256, 128, 512, 2, "3x3")
    assert paper.residual.block[0].stride == 2 and paper.residual.block[3].stride == 1
    assert torchvision.residual.block[0].stride == 1 and torchvision.residual.block[3].stride == 2
    assert C.Bottleneck(256, 64, 256).residual.shortcut is None
    fire = C.Fire(96, 16, 64, 64)
    assert fire.forward(np.zeros((1, 96, 5, 5))).shape == (1, 128, 5, 5)
    with pytest.raises(ValueError, match="stride_on"):
        C.Bottleneck(4, 2, 4, stride_on="5x5")


def test_mobilenet_table3_a_3x3_layer_at_14x14x512():
    """Howard et al. 2017 (arXiv:1704.04861), Table 3: 462M mult-adds for a full 3x3 convolution at 14x14x512,
    52.3M as a depthwise-separable one."""
    full = C.Conv2d(512, 512, 3, padding=1, bias=False).cost(14, 14).macs
    separable = C.DepthwiseSeparable(512, 512).cost(14, 14).macs
    assert full == 14 * 14 * 512 * 512 * 9 and round(full / 1e6) == 462
    assert separable == 14 * 14 * 512 * (9 + 512) and round(separable / 1e6, 1) == 52.3


# ---------------------------------------------------------------- whole networks

def _unallocated(model):
    return all(layer._params is None for layer in _leaves(model))


def _leaves(layer):
    if not layer.children:
        yield layer
    for child in layer.children:
        yield from _leaves(child)


@pytest.mark.parametrize("name", sorted(models.MODELS))
def test_building_and_pricing_is_fast_small_and_draws_no_weights(name):
    tracemalloc.start()
    start = time.perf_counter()
    model = models.MODELS[name]()
    report = model.cost(224, 224)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert seconds < 2 and peak < 50e6, (seconds, peak)
    assert _unallocated(model) and report.out_shape == (1000, 1, 1)


@pytest.mark.parametrize("name", sorted(models.MODELS))
def test_forward_and_backward_run_on_a_small_image(rng, name):
    model = models.MODELS[name](num_classes=10, rng=0)
    x = rng.standard_normal((1, 3, 64, 64))
    out = model.forward(x)
    assert out.shape == (1, 10, 1, 1)
    dx = model.backward(rng.standard_normal(out.shape))
    assert dx.shape == x.shape and np.isfinite(dx).all()
    assert all(np.isfinite(g).all() for _, g in model.parameters())
    assert model.cost(64, 64).params == sum(p.size for p, _ in model.parameters())  # cost counts what runs


def test_model_cost_equals_the_sum_of_its_built_layers():
    model = models.mobilenet_v1(0.25, num_classes=7, rng=0)
    assert model.cost(96, 96).params == sum(p.size for p, _ in model.parameters())
    assert model.eval() is model and not model.layer("block2")[1].training


# MobileNet v1: (c_out, stride) of the 13 depthwise-separable blocks, Table 1 of the paper.
MOBILENET_PLAN = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]


def _mobilenet_by_hand(alpha=1.0, size=224):
    """Mult-adds and params of MobileNet v1, from Table 1, split by kind."""
    size = (size - 1) // 2 + 1                                       # conv1: 3x3 stride 2, padding 1
    c = int(32 * alpha)
    macs = {"kxk": size * size * c * 3 * 9, "depthwise": 0, "1x1": 0, "fc": 0}
    params = 3 * 9 * c + 2 * c                                       # conv1 + its batch norm
    for c_out, stride in MOBILENET_PLAN:
        c_out = int(c_out * alpha)
        size = (size - 1) // stride + 1
        macs["depthwise"] += size * size * c * 9
        macs["1x1"] += size * size * c * c_out
        params += 9 * c + 2 * c + c * c_out + 2 * c_out
        c = c_out
    macs["fc"] = c * 1000
    params += c * 1000 + 1000
    return macs, params


def test_mobilenet_v1_totals_and_table2_split():
    """Howard et al. 2017 (arXiv:1704.04861): 569M mult-adds and 4.2M parameters (Table 1 / 6), and Table 2's
    split: 1x1 94.86%, depthwise 3.06%, FC 0.18%, conv 3x3 (dense, the first layer) 1.91%.
    The paper prints 1.19% for the dense 3x3: a digit swap, since the four shares must add up to 100%
    and 94.86 + 3.06 + 0.18 + 1.91 = 100.01 while with 1.19 they add up to 99.29."""
    report = models.mobilenet_v1().cost(224, 224)
    macs, params = _mobilenet_by_hand()
    assert report.macs == sum(macs.values()) and report.params == params
    assert round(report.macs / 1e6) == 569 and round(report.params / 1e6, 1) == 4.2
    shares = {kind: round(100 * entry["macs_share"], 2) for kind, entry in report.by_kind().items()}
    assert shares == {"1x1": 94.86, "depthwise": 3.06, "fc": 0.18, "kxk": 1.91, "grouped": 0.0, "other": 0.0}
    assert report.by_kind()["kxk"]["macs"] == macs["kxk"]


@pytest.mark.parametrize("alpha, paper_macs, paper_params", [(1.0, 569, 4.2), (0.75, 325, 2.6), (0.5, 149, 1.3),
                                                             (0.25, 41, 0.5)])
def test_mobilenet_v1_table6_width_multiplier(alpha, paper_macs, paper_params):
    """Table 6 of Howard et al. 2017: million mult-adds and million parameters per width multiplier."""
    report = models.mobilenet_v1(alpha).cost(224, 224)
    macs, params = _mobilenet_by_hand(alpha)
    assert (report.macs, report.params) == (sum(macs.values()), params)
    assert round(report.macs / 1e6) == paper_macs and round(report.params / 1e6, 1) == paper_params


@pytest.mark.parametrize("size, paper_macs", [(224, 569), (192, 418), (160, 290), (128, 186)])
def test_mobilenet_v1_table7_resolution(size, paper_macs):
    """Table 7 of Howard et al. 2017: million mult-adds per input resolution (4.2M parameters throughout).
    The paper's whole millions are within 1M of the exact counts (160: exact 290.7M, printed 290)."""
    report = models.mobilenet_v1().cost(size, size)
    assert report.macs == sum(_mobilenet_by_hand(1.0, size)[0].values())
    assert abs(report.macs / 1e6 - paper_macs) < 1 and round(report.params / 1e6, 1) == 4.2


def _resnet50_macs_by_hand(stride_on):
    """ResNet-50 multiply-adds from the paper's Table 1 (50-layer column), convolutions and FC only."""
    total = 112 * 112 * 64 * 3 * 49                                  # conv1 7x7/2
    c_in, size = 64, 56                                              # after the 3x3/2 max pool
    for mid, blocks, stride in [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]:
        for j in range(blocks):
            s = stride if j == 0 else 1
            out = size // s
            reduce_size = out if stride_on == "1x1" else size        # where the first 1x1 runs
            total += reduce_size ** 2 * c_in * mid + out * out * mid * mid * 9 + out * out * mid * 4 * mid
            if j == 0:
                total += out * out * c_in * 4 * mid                  # projection shortcut
            c_in, size = 4 * mid, out
    return total + 2048 * 1000


def test_resnet50_both_variants_and_where_they_differ():
    """He et al. 2015 (arXiv:1512.03385), Table 1: "3.8 x 10^9" FLOPs (multiply-adds) for ResNet-50 with the
    stride on the first 1x1; the exact count is 3.858e9, which the paper's one decimal truncates. torchvision
    puts the stride on the 3x3 ("v1.5"): 4.09e9. The difference sits in three layers only: the first 1x1 of
    conv3_1, conv4_1 and conv5_1 runs on the input map (4x the pixels) instead of the subsampled one, 3/4 * H^2
    * C_in * C_mid = 77,070,336 more MACs each; every 3x3 costs the same in both."""
    paper, torchvision = models.resnet50("1x1").cost(224, 224), models.resnet50("3x3").cost(224, 224)
    assert paper.macs == _resnet50_macs_by_hand("1x1") and 3.8e9 <= paper.macs < 3.9e9
    assert torchvision.macs == _resnet50_macs_by_hand("3x3") and round(torchvision.macs / 1e9, 2) == 4.09
    assert paper.params == torchvision.params == 25_557_032                 # torchvision's resnet50 count
    differ = [(a.name, b.macs - a.macs) for a, b in zip(paper.layers, torchvision.layers) if a.macs != b.macs]
    each = 3 * 56 * 56 * 256 * 128 // 4
    assert differ == [("conv3_1.0.0.0", each), ("conv4_1.0.0.0", each), ("conv5_1.0.0.0", each)]
    assert each == 77_070_336 and torchvision.macs - paper.macs == 3 * each


# SqueezeNet 1.0, Iandola et al. 2016 (arXiv:1602.07360), Table 1: (name, output size at 227 x 227 input,
# parameters before pruning). The table's input row says 224x224, but its 111x111 conv1 output needs 227.
SQUEEZENET_TABLE1 = [
    ("conv1", (96, 111, 111), 14_208), ("maxpool1", (96, 55, 55), 0),
    ("fire2", (128, 55, 55), 11_920), ("fire3", (128, 55, 55), 12_432), ("fire4", (256, 55, 55), 45_344),
    ("maxpool4", (256, 27, 27), 0),
    ("fire5", (256, 27, 27), 49_440), ("fire6", (384, 27, 27), 104_880), ("fire7", (384, 27, 27), 111_024),
    ("fire8", (512, 27, 27), 188_992), ("maxpool8", (512, 13, 13), 0), ("fire9", (512, 13, 13), 197_184),
    ("conv10", (1000, 13, 13), 513_000), ("pool", (1000, 1, 1), 0),
]


def _fire_params(c_in, s, e1, e3):
    return c_in * s + s + s * e1 + e1 + s * 9 * e3 + e3


def test_squeezenet_total_and_table1_per_module():
    report = models.squeezenet1_0().cost(227, 227)
    assert report.params == 1_248_424
    by_name = {child.title if isinstance(child, C.report.Report) else child.name: child for child in report.children}
    for name, shape, params in SQUEEZENET_TABLE1:
        assert by_name[name].out_shape == shape and by_name[name].params == params, name
    assert _fire_params(96, 16, 64, 64) == 11_920 and _fire_params(512, 64, 256, 256) == 197_184
    assert 96 * 3 * 49 + 96 == 14_208 and 512 * 1000 + 1000 == 513_000
    assert models.squeezenet1_0().cost(224, 224).params == 1_248_424   # the count does not depend on the size


# GoogLeNet, Szegedy et al. 2014 (arXiv:1409.4842), Table 1: (name, output (C, H, W), paper's params in K,
# paper's ops in M). The ops column is our MACs rounded to the million, except two rows (see the test).
GOOGLENET_TABLE1 = [
    ("conv1", (64, 112, 112), 2.7, 34), ("conv2", (192, 56, 56), 112, 360),
    ("inception_3a", (256, 28, 28), 159, 128), ("inception_3b", (480, 28, 28), 380, 304),
    ("inception_4a", (512, 14, 14), 364, 73), ("inception_4b", (512, 14, 14), 437, 88),
    ("inception_4c", (512, 14, 14), 463, 100), ("inception_4d", (528, 14, 14), 580, 119),
    ("inception_4e", (832, 14, 14), 840, 170), ("inception_5a", (832, 7, 7), 1072, 54),
    ("inception_5b", (1024, 7, 7), 1388, 71), ("fc", (1000, 1, 1), 1000, 1),
]


def _inception_weights(c_in, n1, r3, n3, r5, n5, proj):
    return c_in * n1 + c_in * r3 + r3 * 9 * n3 + c_in * r5 + r5 * 25 * n5 + c_in * proj


def test_googlenet_table1_per_module():
    """Ops: every row's MACs are within 1M of the paper's millions (4a: exact 73.6M, printed 73) except conv1 (paper 34M; exact 118M: 34M is the
    paper's own 2.7K params times 112x112 output pixels, so that row undercounts the weights, not the pixels)
    and inception_5a (paper 54M; exact 51.1M). Params: the paper's column reads as units of 1024 weights,
    biases left out; it is within 1K of the exact count for conv2 (112.0), 3a (159.5), 3b (379.0), 4b (438.0)
    and fc (1000.0), and differs elsewhere: 4a 366.8 (paper 364), 4c 497.5 (463, 7.5% low), 4d 590.5 (580),
    4e 847.0 (840), 5a 1018.0 (1072, 5% high), 5b 1409.0 (1388), and conv1 9.2 (2.7)."""
    report = models.googlenet().cost(224, 224)
    rows = {child.title if isinstance(child, C.report.Report) else child.name: child for child in report.children}
    conv2 = C.report.Report([rows["conv2_reduce"], rows["conv2"]])
    rows["conv2"] = conv2
    exact_weights = {"conv1": 3 * 49 * 64, "conv2": 64 * 64 + 64 * 9 * 192, "fc": 1024 * 1000}
    for name, widths in models.zoo.GOOGLENET_MODULES.items():
        exact_weights[name] = _inception_weights(*widths)
    for name, shape, paper_k, paper_m in GOOGLENET_TABLE1:
        row = rows[name]
        assert row.out_shape == shape, name
        pixels = shape[1] * shape[2]
        assert row.macs == exact_weights[name] * pixels, name            # MACs = weights x output pixels
        if name not in ("conv1", "inception_5a"):
            assert abs(row.macs / 1e6 - paper_m) < 1, name
        close = abs(exact_weights[name] / 1024 - paper_k) <= 1
        assert close == (name in ("conv2", "inception_3a", "inception_3b", "inception_4b", "fc")), name
        if name != "conv1":
            assert 0.94 < exact_weights[name] / 1024 / paper_k < 1.08, name
    assert (round(rows["conv1"].macs / 1e6), round(rows["inception_5a"].macs / 1e6, 1)) == (118, 51.1)
    assert round(2.7e3 * 112 * 112 / 1e6) == 34
    assert report.params == 6_998_552   # torchvision's googlenet without aux and BN differs: this is the paper's


def test_models_dict_and_bad_arguments():
    assert set(models.MODELS) == {"mobilenet_v1", "resnet50", "squeezenet1_0", "shufflenet_v1", "googlenet"}
    with pytest.raises(ValueError, match="width_multiplier"):
        models.mobilenet_v1(1.5)
    with pytest.raises(ValueError, match="stride_on"):
        models.resnet50("2x2")
    with pytest.raises(TypeError, match="num_classes"):
        models.googlenet(num_classes=10.0)
