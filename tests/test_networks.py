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


def test_channel_shuffle_gradient_and_layer(rng):
    layer = C.ChannelShuffle(2)
    assert _all_below(check_layer(layer, rng.standard_normal((2, 6, 3, 2))))
    assert layer.cost(3, 2, in_channels=6)[0].macs == 0
    with pytest.raises(ValueError, match="groups=4 must divide"):
        layer_4 = C.ChannelShuffle(4)
        layer_4.forward(np.ones((1, 6, 2, 2)))


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


# ---------------------------------------------------------------- whole networks

def _unallocated(model):
    return all(layer._params is None for layer in _leaves(model))


def _leaves(layer):
    if not layer.children:
        yield layer
    for child in layer.children:
        yield from _leaves(child)


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
