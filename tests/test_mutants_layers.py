"""Tests written to kill mutants that survived a mutation run over the layer classes and containers (issue 10, 7).

Biases are set to random non-zero values (they start at zero, so a forward that ignores them passed before),
gradients are checked for dtype, for overwrite-not-accumulate across backward calls and for being written in
place (an optimiser holds the arrays). Expected values come from conv1x1.reference's loops, central
differences (float64, bound 1e-7 on relative error) or hand-worked numbers.
"""

import numpy as np
import pytest

import conv1x1 as C
from conv1x1 import reference
from conv1x1.gradcheck import check_layer


def _with_random_bias(layer, rng):
    layer.params["b"][...] = rng.standard_normal(layer.params["b"].shape)
    return layer


@pytest.mark.parametrize("groups", [1, 2])
def test_conv1x1_layer_adds_its_bias(rng, groups):
    layer = _with_random_bias(C.Conv1x1(4, 6, rng=rng, groups=groups), rng)
    x = rng.standard_normal((2, 4, 3, 5))
    expected = reference.conv1x1_loops(x, layer.params["w"], layer.params["b"], groups)
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("k, stride, padding, groups", [(1, 1, 0, 1), (3, 1, 1, 1), (3, 2, 1, 2), (5, 2, 2, 4)])
def test_conv2d_layer_adds_its_bias_and_uses_its_geometry(rng, k, stride, padding, groups):
    layer = _with_random_bias(C.Conv2d(4, 8, k, stride=stride, padding=padding, groups=groups, rng=rng), rng)
    x = rng.standard_normal((2, 4, 7, 6))
    expected, _ = reference.conv2d_loops(x, layer.params["w"], layer.params["b"], stride, padding, groups)
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12, atol=1e-12)


def test_conv_layers_without_bias_have_no_bias_and_match_the_loops(rng):
    layer = C.Conv2d(3, 5, 3, padding=1, bias=False, rng=rng)
    assert set(layer.params) == {"w"}
    x = rng.standard_normal((1, 3, 4, 4))
    expected, _ = reference.conv2d_loops(x, layer.params["w"], None, 1, 1)
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12, atol=1e-12)
    layer.backward(rng.standard_normal((1, 5, 4, 4)))
    assert set(layer.grads) == {"w"}


LAYERS = {
    "conv1x1": lambda rng: _with_random_bias(C.Conv1x1(4, 6, rng=rng), rng),
    "conv1x1 grouped": lambda rng: _with_random_bias(C.Conv1x1(4, 6, rng=rng, groups=2), rng),
    "conv2d": lambda rng: _with_random_bias(C.Conv2d(4, 6, 3, stride=2, padding=1, rng=rng), rng),
    "batchnorm": lambda rng: C.BatchNorm2d(4),
}


def _randomise(layer, rng):
    for p in layer.params.values():
        p[...] = rng.standard_normal(p.shape)


@pytest.mark.parametrize("name", LAYERS)
def test_every_gradient_passes_a_gradient_check(rng, name):
    layer = LAYERS[name](rng)
    _randomise(layer, rng)
    errors = check_layer(layer, rng.standard_normal((2, 4, 5, 5)))
    assert set(errors) == {"x", *layer.params}
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("name", LAYERS)
def test_gradients_are_overwritten_not_accumulated_and_written_in_place(rng, name):
    """The documented choice (Layer.store_grads): each backward overwrites grads, in the same arrays."""
    layer = LAYERS[name](rng)
    _randomise(layer, rng)
    x = rng.standard_normal((2, 4, 5, 5))
    out = layer.forward(x)
    dout = rng.standard_normal(out.shape)
    held = dict(layer.grads)                      # what an optimiser holds
    layer.backward(dout)
    first = {k: v.copy() for k, v in layer.grads.items()}
    assert all(np.any(v != 0) for v in first.values())
    layer.forward(x)
    layer.backward(dout)
    for k, v in layer.grads.items():
        assert v is held[k]
        np.testing.assert_array_equal(v, first[k])
    layer.forward(x)
    layer.backward(2 * dout)
    for k, v in layer.grads.items():
        np.testing.assert_allclose(v, 2 * first[k], rtol=1e-13, atol=1e-13)
    pairs = list(layer.parameters())
    assert [p is layer.params[k] for (p, _), k in zip(pairs, layer.params)] == [True] * len(pairs)
    assert [g is held[k] for (_, g), k in zip(pairs, layer.params)] == [True] * len(pairs)


@pytest.mark.parametrize("name", LAYERS)
def test_float32_layers_give_float32_gradients_for_a_float64_dout(rng, name):
    builders = {"conv1x1": lambda: C.Conv1x1(4, 6, rng=rng, dtype=np.float32),
                "conv1x1 grouped": lambda: C.Conv1x1(4, 6, rng=rng, dtype=np.float32, groups=2),
                "conv2d": lambda: C.Conv2d(4, 6, 3, stride=2, padding=1, rng=rng, dtype=np.float32),
                "batchnorm": lambda: C.BatchNorm2d(4, dtype=np.float32)}
    layer = builders[name]()
    assert all(p.dtype == np.float32 for p in layer.params.values())
    out = layer.forward(rng.standard_normal((2, 4, 5, 5)).astype(np.float32))
    assert out.dtype == np.float32
    dx = layer.backward(rng.standard_normal(out.shape))       # float64 dout
    assert dx.dtype == np.float32
    assert all(g.dtype == np.float32 for g in layer.grads.values())


def test_conv_weights_follow_he_initialisation():
    """He et al. 2015: std = sqrt(2 / fan_in), fan_in = C_in / groups * K * K."""
    for layer, fan_in in [(C.Conv1x1(64, 256, rng=np.random.default_rng(0)), 64),
                          (C.Conv2d(32, 256, 3, rng=np.random.default_rng(1)), 32 * 9),
                          (C.Conv2d(32, 256, 3, groups=4, rng=np.random.default_rng(2)), 8 * 9)]:
        std = layer.params["w"].std()
        assert abs(std / np.sqrt(2.0 / fan_in) - 1) < 0.05
        np.testing.assert_array_equal(layer.params["b"], 0.0)


def test_layer_rng_makes_the_weights_reproducible():
    a = C.Conv1x1(3, 4, rng=np.random.default_rng(5)).params["w"]
    b = C.Conv1x1(3, 4, rng=np.random.default_rng(5)).params["w"]
    c = C.Conv1x1(3, 4, rng=np.random.default_rng(6)).params["w"]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


# ---------------------------------------------------------------- batch norm layer: running statistics

def test_batchnorm_running_statistics_use_momentum_and_the_unbiased_variance():
    layer = C.BatchNorm2d(1, momentum=0.25)
    x = np.array([1.0, 3.0, 5.0, 7.0]).reshape(2, 1, 1, 2)   # mean 4, unbiased variance 20/3
    layer.forward(x)
    np.testing.assert_allclose(layer.running_mean, [0.25 * 4], rtol=1e-15)
    np.testing.assert_allclose(layer.running_var, [0.75 * 1 + 0.25 * 20 / 3], rtol=1e-15)
    layer.forward(x)
    np.testing.assert_allclose(layer.running_mean, [0.75 * 1 + 0.25 * 4], rtol=1e-15)


def test_batchnorm_eval_uses_the_running_statistics_and_leaves_them_alone():
    layer = C.BatchNorm2d(2, eps=0.0)
    layer.params["gamma"][...] = [2.0, 3.0]
    layer.params["beta"][...] = [1.0, -1.0]
    layer.buffers["running_mean"][...] = [1.0, -1.0]
    layer.buffers["running_var"][...] = [4.0, 9.0]
    layer.eval()
    assert layer.training is False
    x = np.array([3.0, 5.0]).reshape(1, 2, 1, 1)
    np.testing.assert_allclose(layer.forward(x).ravel(), [2 * (3 - 1) / 2 + 1, 3 * (5 + 1) / 3 - 1])
    np.testing.assert_array_equal(layer.running_mean, [1.0, -1.0])
    np.testing.assert_array_equal(layer.running_var, [4.0, 9.0])
    dx = layer.backward(np.array([1.0, 1.0]).reshape(1, 2, 1, 1))
    np.testing.assert_allclose(dx.ravel(), [2 / 2, 3 / 3])
    layer.train()
    assert layer.training is True


def test_batchnorm_momentum_above_one_is_refused_and_one_is_accepted():
    with pytest.raises(ValueError, match="momentum"):
        C.BatchNorm2d(2, momentum=1.5)
    layer = C.BatchNorm2d(1, momentum=1.0)
    layer.forward(np.array([1.0, 3.0]).reshape(2, 1, 1, 1))
    np.testing.assert_allclose(layer.running_mean, [2.0])
    np.testing.assert_allclose(layer.running_var, [2.0])   # unbiased: ((1-2)^2 + (3-2)^2) / 1


def test_train_and_eval_reach_every_child():
    net = C.Sequential(C.Conv1x1(2, 2), C.Sequential(C.BatchNorm2d(2), C.ReLU()))
    net.eval()
    assert [layer.training for layer in (net, net[0], net[1], net[1][0], net[1][1])] == [False] * 5
    net.train()
    assert [layer.training for layer in (net, net[0], net[1], net[1][0], net[1][1])] == [True] * 5


# ---------------------------------------------------------------- containers

def test_concat_backward_splits_dout_by_branch_width_and_sums_the_input_gradients(rng):
    a = _with_random_bias(C.Conv1x1(3, 2, rng=rng), rng)
    b = _with_random_bias(C.Conv1x1(3, 4, rng=rng), rng)
    net = C.Concat(a, C.Sequential(b, C.ReLU()))
    x = rng.standard_normal((2, 3, 2, 2))
    out = net.forward(x)
    ya = reference.conv1x1_loops(x, a.params["w"], a.params["b"])
    yb = np.maximum(reference.conv1x1_loops(x, b.params["w"], b.params["b"]), 0)
    np.testing.assert_allclose(out, np.concatenate([ya, yb], axis=1), rtol=1e-12, atol=1e-12)
    errors = check_layer(net, x)
    assert max(errors.values()) < 1e-7, errors


def test_residual_adds_the_identity_or_the_shortcut(rng):
    block = _with_random_bias(C.Conv1x1(3, 3, rng=rng), rng)
    x = rng.standard_normal((2, 3, 2, 2))
    res = C.Residual(block)
    np.testing.assert_allclose(res.forward(x), x + reference.conv1x1_loops(x, block.params["w"], block.params["b"]),
                               rtol=1e-12, atol=1e-12)
    assert max(check_layer(res, x).values()) < 1e-7
    block2 = _with_random_bias(C.Conv1x1(3, 5, rng=rng), rng)
    short = _with_random_bias(C.Conv1x1(3, 5, rng=rng), rng)
    res2 = C.Residual(block2, short)
    expected = (reference.conv1x1_loops(x, block2.params["w"], block2.params["b"])
                + reference.conv1x1_loops(x, short.params["w"], short.params["b"]))
    np.testing.assert_allclose(res2.forward(x), expected, rtol=1e-12, atol=1e-12)
    assert max(check_layer(res2, x).values()) < 1e-7
    with pytest.raises(ValueError, match="must match"):
        C.Residual(C.Conv1x1(3, 5)).forward(x)


def test_empty_sequential_is_the_identity_and_returns_copies():
    net = C.Sequential()
    x = np.arange(4.0).reshape(1, 1, 2, 2)
    out = net.forward(x)
    np.testing.assert_array_equal(out, x)
    assert out is not x
    dout = np.ones((1, 1, 2, 2))
    dx = net.backward(dout)
    np.testing.assert_array_equal(dx, dout)
    assert dx is not dout


def test_container_params_grads_and_parameters_name_every_child(rng):
    net = C.Sequential(C.Conv1x1(2, 3, rng=rng), C.ReLU(), C.BatchNorm2d(3))
    assert list(net.params) == ["0.w", "0.b", "2.gamma", "2.beta"]
    assert list(net.grads) == ["0.w", "0.b", "2.gamma", "2.beta"]
    assert list(net.buffers) == ["2.running_mean", "2.running_var"]
    pairs = list(net.parameters())
    assert len(pairs) == 4
    assert pairs[0][0] is net[0].params["w"] and pairs[3][1] is net[2].grads["beta"]
    assert len(net) == 3 and list(net) == list(net.layers)


def test_a_layer_used_twice_is_refused():
    relu = C.ReLU()
    with pytest.raises(ValueError, match="twice"):
        C.Sequential(relu, C.Conv1x1(2, 2), relu)
    with pytest.raises(ValueError, match="twice"):
        C.Concat(C.Sequential(relu), relu)
    with pytest.raises(ValueError, match="at least one branch"):
        C.Concat()


def test_concat_refuses_branches_of_different_sizes():
    net = C.Concat(C.MaxPool2d(2), C.ReLU())
    with pytest.raises(ValueError, match="same N, H and W"):
        net.forward(np.ones((1, 1, 4, 4)))


# ---------------------------------------------------------------- the Layer contract

def test_setting_params_replaces_them_and_resets_the_grads(rng):
    layer = C.Conv1x1(2, 3, rng=rng)
    layer.forward(rng.standard_normal((1, 2, 1, 1)))
    layer.backward(np.ones((1, 3, 1, 1)))
    w, b = np.arange(6.0).reshape(3, 2), np.array([1.0, 2.0, 3.0])
    layer.params = {"w": w, "b": b}
    assert layer.params["w"] is w and layer.params["b"] is b
    assert set(layer.grads) == {"w", "b"}
    np.testing.assert_array_equal(layer.grads["w"], np.zeros((3, 2)))   # fresh, not the old gradients
    out = layer.forward(np.array([1.0, -1.0]).reshape(1, 2, 1, 1))
    np.testing.assert_array_equal(out.ravel(), [0 - 1 + 1, 2 - 3 + 2, 4 - 5 + 3])


def test_setting_grads_replaces_them(rng):
    layer = C.Conv1x1(2, 3, rng=rng)
    g = {"w": np.ones((3, 2)), "b": np.ones(3)}
    layer.grads = g
    assert layer.grads == g and layer.grads is not g     # a new dict holding the same arrays
    assert [grad is g[name] for (_, grad), name in zip(layer.parameters(), ("w", "b"))] == [True, True]


def test_a_layer_without_forward_or_backward_says_so():
    layer = C.Layer()
    with pytest.raises(NotImplementedError, match="forward"):
        layer.forward(np.ones((1, 1, 1, 1)))
    with pytest.raises(NotImplementedError, match="forward"):
        layer(np.ones((1, 1, 1, 1)))
    with pytest.raises(NotImplementedError, match="backward"):
        layer.backward(np.ones((1, 1, 1, 1)))
    with pytest.raises(NotImplementedError, match="cost"):
        layer.cost(2, 2)
    assert layer.params == {} and layer.grads == {} and list(layer.parameters()) == []
    with pytest.raises(RuntimeError, match="before forward"):
        C.ReLU().backward(np.ones(2))


def test_train_takes_only_a_flag():
    layer = C.BatchNorm2d(2)
    for bad in ("no", 0.0, None):
        with pytest.raises(TypeError, match="mode"):
            layer.train(bad)
    assert layer.training is True
    assert layer.train(False) is layer and layer.training is False


@pytest.mark.parametrize("make", [lambda: C.Sequential(), lambda: C.Conv1x1(3, 4), lambda: C.ReLU()])
def test_cost_checks_height_width_and_in_channels(make):
    layer = make()
    for bad in [(0, 4), (4, 0), (-1, 4)]:
        with pytest.raises(ValueError):
            layer.cost(*bad)
    with pytest.raises(TypeError):
        layer.cost(4.0, 4)
    with pytest.raises(ValueError):
        layer.cost(4, 4, 0)
    with pytest.raises(TypeError):
        layer.cost(4, 4, 3.0)
    assert layer.cost(4, 5, 3).in_shape in (None, (3, 4, 5))


@pytest.mark.parametrize("layer, wrong", [(C.BatchNorm2d(4), 3), (C.Conv1x1(3, 4), 5), (C.Conv2d(3, 4, 3), 4),
                                          (C.ChannelShuffle(3), 4)])
def test_cost_refuses_an_input_depth_the_layer_cannot_take(layer, wrong):
    with pytest.raises(ValueError):
        layer.cost(4, 4, wrong)


def test_cost_of_shape_keeping_layers_counts_their_elements():
    assert C.BatchNorm2d(4).cost(3, 5, 4).bn_ops == 60 and C.BatchNorm2d(4).cost(3, 5).params == 8
    shuffle = C.ChannelShuffle(3).cost(3, 5, 6)
    assert shuffle.out_shape == (6, 3, 5) and shuffle.activation_ops == 90
    assert C.ChannelShuffle(3).cost(3, 5).out_shape == (None, 3, 5)
    assert C.GlobalAvgPool2d().cost(3, 5, 4).out_shape == (4, 1, 1)


def test_leaky_relu_default_slope_is_0_01_as_in_pytorch():
    x = np.array([-2.0, 3.0])
    np.testing.assert_allclose(C.LeakyReLU().forward(x), [-0.02, 3.0], rtol=1e-15)
    np.testing.assert_allclose(C.leaky_relu_forward(x)[0], [-0.02, 3.0], rtol=1e-15)
    assert repr(C.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"


def test_reprs_and_cost_titles_name_the_settings():
    assert repr(C.Conv1x1(4, 6, groups=2)) == "Conv1x1(4, 6, groups=2, bias=True)"
    assert repr(C.Conv1x1(4, 6)) == "Conv1x1(4, 6, bias=True)"
    assert repr(C.Conv2d(4, 6, 3, groups=2, bias=False)) == \
        "Conv2d(4, 6, kernel_size=3, stride=1, padding=0, groups=2, bias=False)"
    assert C.Conv1x1(4, 6).cost(2, 2).title == "Conv1x1(4, 6, bias=True)"
    assert C.Sequential(C.ReLU()).cost(2, 2).title == "Sequential"


def test_each_layer_draws_its_own_seed_from_a_wide_range():
    """Seeds come from [0, 2**63 - 1): 200 generators never give two layers the same weights."""
    weights = {float(C.Conv1x1(1, 1, rng=np.random.default_rng(i)).params["w"][0, 0]) for i in range(200)}
    assert len(weights) == 200


def test_residual_cost_adds_the_shortcut_and_refuses_a_mismatch():
    res = C.Residual(C.Conv1x1(3, 5), C.Conv1x1(3, 5, bias=False))
    report = res.cost(4, 4, 3)
    assert report.macs == 2 * 16 * 5 * 3 and report.add_ops == 5 * 16 and report.out_shape == (5, 4, 4)
    with pytest.raises(ValueError, match="must match"):
        C.Residual(C.Conv1x1(3, 5), C.Conv1x1(3, 4)).cost(4, 4, 3)
    with pytest.raises(ValueError, match="must match"):
        C.Residual(C.Conv1x1(3, 5)).cost(4, 4, 3)
    assert C.Residual(C.ReLU()).cost(4, 4).out_shape == (None, 4, 4)


def test_concat_refuses_branches_that_differ_in_height_only():
    net = C.Concat(C.Conv2d(1, 1, 1, stride=2), C.ReLU())     # (1, 1, 4, 1) -> (1, 1, 2, 1) and (1, 1, 4, 1)
    with pytest.raises(ValueError, match="same N, H and W"):
        net.forward(np.ones((1, 1, 4, 1)))


@pytest.mark.parametrize("make", [lambda: C.Concat(C.Sequential()), lambda: C.Residual(C.Sequential())])
def test_containers_check_and_cast_dout_themselves(make):
    """An empty Sequential checks nothing, so the container's own dout check is all there is."""
    net = make()
    out = net.forward(np.ones((1, 2, 2, 2)))
    dx = net.backward(np.ones(out.shape, dtype=np.float32))
    assert dx.dtype == np.float64
    with pytest.raises(TypeError, match="dout"):
        net.backward(np.ones(out.shape, dtype=int))
    with pytest.raises(ValueError, match="dout"):
        net.backward(np.ones((1, 2, 2, 3)))


def test_cost_rows_are_named_by_their_path():
    report = C.Sequential(C.Conv1x1(3, 3), C.BatchNorm2d(3), C.ChannelShuffle(3)).cost(4, 4, 3)
    assert [row.name for row in report.layers] == ["0", "1", "2"]
    report = C.Residual(C.Conv1x1(3, 3), C.Conv1x1(3, 3)).cost(4, 4, 3)
    assert [row.name for row in report.layers] == ["0", "1", "add"]
    assert C.BatchNorm2d(2).cost(4, 4).layers[0].name == "BatchNorm2d"
    assert C.ChannelShuffle(2).cost(4, 4).layers[0].name == "ChannelShuffle(2)"
    # an unknown depth on one side cannot be compared: no error
    assert C.Residual(C.ReLU(), C.Conv1x1(3, 3)).cost(4, 4).out_shape == (None, 4, 4)
