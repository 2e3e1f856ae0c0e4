"""Grouped and depthwise convolution: plain, fast and loop versions agree; gradients; errors; layers; cost."""

import numpy as np
import pytest

import conv1x1 as C
from conv1x1 import fast, reference
from conv1x1.gradcheck import check_layer, numerical_gradient, rel_error

CONV2D = [  # (N, C_in, C_out, groups, K, stride, padding, H, W)
    (2, 6, 4, 2, 3, 1, 1, 7, 6),     # grouped
    (2, 6, 6, 6, 3, 1, 1, 5, 5),     # depthwise, stride 1
    (2, 6, 6, 6, 3, 2, 1, 7, 6),     # depthwise, stride 2
    (1, 4, 8, 4, 3, 1, 0, 5, 5),     # depthwise with channel multiplier 2 (groups = C_in, C_out = 2 C_in)
    (2, 6, 6, 6, 5, 3, 2, 9, 8),     # depthwise 5x5, stride 3
    (2, 6, 6, 3, 1, 1, 0, 4, 4),     # grouped 1x1 as a KxK convolution
    (1, 4, 6, 2, 2, 2, 1, 5, 4),     # even kernel, stride 2
]


def _problem(rng, n, c_in, c_out, groups, k=None, h=4, w=5):
    x = rng.standard_normal((n, c_in, h, w))
    weight = rng.standard_normal((c_out, c_in // groups) + ((k, k) if k else ()))
    return x, weight, rng.standard_normal(c_out)


@pytest.mark.parametrize("n, c_in, c_out, groups, k, stride, padding, h, w", CONV2D)
def test_conv2d_plain_and_fast_equal_the_loops(rng, n, c_in, c_out, groups, k, stride, padding, h, w):
    x, weight, b = _problem(rng, n, c_in, c_out, groups, k, h, w)
    expected, macs = reference.conv2d_loops(x, weight, b, stride, padding, groups)
    out_h, out_w = expected.shape[2:]
    assert macs == out_h * out_w * c_out * (c_in // groups) * k * k  # the loops count what conv_cost predicts
    assert macs == C.cost.conv_cost(c_in, c_out, h, w, k, stride, padding, groups=groups).macs
    for forward in (C.conv2d_forward, fast.conv2d_forward):
        out, cache = forward(x, weight, b, stride, padding, groups)
        np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
        assert cache.groups == groups


@pytest.mark.parametrize("n, c_in, c_out, groups, k, stride, padding, h, w", CONV2D)
@pytest.mark.parametrize("module", [C, fast], ids=["plain", "fast"])
def test_conv2d_backward_matches_numerical_gradients(rng, module, n, c_in, c_out, groups, k, stride, padding, h, w):
    """Central differences in float64; bound 1e-7 (the convolution is linear, so eps = 1e-3 is exact but for
    rounding)."""
    x, weight, b = _problem(rng, n, c_in, c_out, groups, k, h, w)
    out, cache = module.conv2d_forward(x, weight, b, stride, padding, groups)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = module.conv2d_backward(dout, cache)

    def f(x_, w_, b_):
        return module.conv2d_forward(x_, w_, b_, stride, padding, groups)[0]
    assert rel_error(dx, numerical_gradient(lambda v: f(v, weight, b), x.copy(), dout, 1e-3)) < 1e-7
    assert rel_error(dw, numerical_gradient(lambda v: f(x, v, b), weight.copy(), dout, 1e-3)) < 1e-7
    assert rel_error(db, numerical_gradient(lambda v: f(x, weight, v), b.copy(), dout, 1e-3)) < 1e-7


def test_fast_depthwise_route_is_taken_and_keeps_the_input_by_reference(rng):
    x, weight, _ = _problem(rng, 2, 8, 8, 8, 3, 6, 6)
    out, cache = fast.conv2d_forward(x, weight, None, 1, 1, 8)
    assert isinstance(cache, fast.DepthwiseCache) and cache.x is x
    dx, dw, db = fast.conv2d_backward(np.ones_like(out), cache)
    assert db is None and dw.shape == (8, 1, 3, 3) and dx.shape == x.shape


@pytest.mark.parametrize("groups", [1, 2, 3, 6])
@pytest.mark.parametrize("module", [C, fast], ids=["plain", "fast"])
def test_grouped_conv1x1_equals_loops_and_gradients(rng, module, groups):
    x, weight, b = _problem(rng, 2, 6, 12, groups)
    out, cache = module.conv1x1_forward(x, weight, b, groups)
    np.testing.assert_allclose(out, reference.conv1x1_loops(x, weight, b, groups), rtol=1e-12, atol=1e-12)
    assert cache.groups == groups
    dout = rng.standard_normal(out.shape)
    dx, dw, db = module.conv1x1_backward(dout, cache)
    # Linear in x and in w: eps = 1e-3 is exact but for rounding; bound 1e-7.
    assert rel_error(dx, numerical_gradient(lambda v: C.conv1x1(v, weight, b, groups), x.copy(), dout, 1e-3)) < 1e-7
    assert rel_error(dw, numerical_gradient(lambda v: C.conv1x1(x, v, b, groups), weight.copy(), dout, 1e-3)) < 1e-7
    assert rel_error(db, dout.sum((0, 2, 3))) < 1e-12


def test_grouped_conv1x1_equals_a_1x1_conv2d_with_groups(rng):
    x, weight, b = _problem(rng, 2, 8, 4, 4)
    np.testing.assert_allclose(C.conv1x1(x, weight, b, 4),
                               C.conv2d_forward(x, weight[:, :, None, None], b, groups=4)[0], rtol=1e-12)


def test_groups_keep_channels_apart(rng):
    # A change in group 1's input channels must not move group 0's outputs.
    x, weight, b = _problem(rng, 1, 4, 4, 2, 3)
    before, _ = C.conv2d_forward(x, weight, b, 1, 1, 2)
    x2 = x.copy()
    x2[:, 2:] += 1.0
    after, _ = C.conv2d_forward(x2, weight, b, 1, 1, 2)
    np.testing.assert_array_equal(before[:, :2], after[:, :2])
    assert not np.allclose(before[:, 2:], after[:, 2:])


@pytest.mark.parametrize("call, message", [
    (lambda x: C.conv1x1_forward(x, np.ones((4, 2)), groups=4), "groups=4 must divide the input channels"),
    (lambda x: C.conv2d_forward(x, np.ones((6, 1, 3, 3)), groups=4), "groups=4 must divide the input channels"),
    (lambda x: C.conv1x1_forward(x, np.ones((5, 3)), groups=2), "must split evenly into groups=2"),
    (lambda x: C.conv1x1_forward(x, np.ones((4, 6)), groups=2), "6 // groups=2 = 3"),
    (lambda x: C.Conv2d(6, 5, 3, groups=3), "must divide the output channels"),
    (lambda x: C.Conv1x1(6, 4, groups=4), "must divide the input channels"),
])
def test_groups_that_do_not_divide_the_channels_are_refused(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        call(np.ones((1, 6, 5, 5)))


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_groups_must_be_a_positive_int(bad):
    with pytest.raises((TypeError, ValueError), match="groups"):
        C.conv1x1_forward(np.ones((1, 4, 2, 2)), np.ones((4, 4)), groups=bad)


@pytest.mark.parametrize("layer, shape, category", [
    (lambda: C.Conv2d(6, 6, 3, padding=1, groups=6, rng=0), (6, 1, 3, 3), "depthwise"),
    (lambda: C.Conv2d(6, 4, 3, padding=1, groups=2, rng=0), (4, 3, 3, 3), "grouped"),
    (lambda: C.Conv1x1(6, 9, groups=3, rng=0), (9, 2), "grouped"),
])
def test_grouped_layers_gradcheck_and_price(rng, layer, shape, category):
    layer = layer()
    assert layer.params["w"].shape == shape
    layer.params["b"][...] = rng.standard_normal(layer.out_channels)
    errors = check_layer(layer, rng.standard_normal((2, 6, 5, 4)))
    assert all(e < 1e-7 for e in errors.values()), errors
    cost = layer.cost(5, 4)[0]
    assert cost.category == category and cost.params == layer.params["w"].size + layer.out_channels


def test_depthwise_layer_weights_have_the_he_spread_of_their_fan_in():
    w = C.Conv2d(512, 512, 3, padding=1, groups=512, rng=0).params["w"]
    assert abs(w.std() - np.sqrt(2 / 9)) < 0.02   # fan_in = 1 channel * 3 * 3, not 512 * 9


def test_fast_depthwise_forward_peak_memory_is_at_most_twice_its_output(rng):
    import tracemalloc
    x = rng.standard_normal((4, 64, 56, 56)).astype(np.float32)     # large enough for the half-output rule
    w = rng.standard_normal((64, 1, 3, 3)).astype(np.float32)
    tracemalloc.start()
    tracemalloc.reset_peak()
    out, _ = fast.conv2d_forward(x, w, None, 1, 1, 64)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak <= 2 * out.nbytes, peak / out.nbytes
