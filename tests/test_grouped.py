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


def test_fast_depthwise_route_is_taken_and_keeps_the_input_by_reference(rng):
    x, weight, _ = _problem(rng, 2, 8, 8, 8, 3, 6, 6)
    out, cache = fast.conv2d_forward(x, weight, None, 1, 1, 8)
    assert isinstance(cache, fast.DepthwiseCache) and cache.x is x
    dx, dw, db = fast.conv2d_backward(np.ones_like(out), cache)
    assert db is None and dw.shape == (8, 1, 3, 3) and dx.shape == x.shape


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
