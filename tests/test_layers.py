"""conv1x1.layers: the Layer contract (params, grads, parameters, store_grads, train/eval, cost) and every leaf
layer (Conv1x1, Conv2d, the activations, the poolings, BatchNorm2d, ChannelShuffle): gradient checks,
initialisation, reprs, running statistics, dtypes, PyTorch, and the settings each refuses. The functions the
layers call are tested in tests/functional/."""

import re

import numpy as np
import pytest

import conv1x1 as C
from conv1x1 import (
    GlobalAvgPool2d,
    reference,
)
from conv1x1.gradcheck import check_layer

pytestmark = pytest.mark.usefixtures("both_paths")  # the layers on the plain path and under C.fast.enabled()

BOUND = 1e-7  # max relative error of a float64 central-difference check

# ---------------------------------------------------------------- the Layer contract


def _x(rng, shape):
    x = rng.standard_normal(shape)
    return x + np.sign(x) * 0.1  # off ReLU's kink


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 3, 3, 3), (2, 3, 1, 1)])
@pytest.mark.parametrize("make", [
    lambda rng: C.Conv1x1(3, 5, rng=rng),
    lambda rng: C.Conv1x1(3, 2, bias=False, rng=rng),
    lambda rng: C.ReLU(),
    lambda rng: C.LeakyReLU(0.05),
    lambda rng: C.Sigmoid(),
    lambda rng: C.Tanh(),
    lambda rng: C.Sequential(C.Conv1x1(3, 4, rng=rng), C.ReLU(), C.Conv1x1(4, 2, rng=rng)),
])
def test_layers_pass_the_gradient_check(rng, make, shape):
    layer = make(rng)
    errors = check_layer(layer, _x(rng, shape))
    assert set(errors) == {"x", *layer.params}
    assert max(errors.values()) < BOUND, errors


def _with_random_bias(layer, rng):
    layer.params["b"][...] = rng.standard_normal(layer.params["b"].shape)
    return layer


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
def test_layers_with_random_params_pass_the_gradient_check(rng, name):
    layer = LAYERS[name](rng)
    _randomise(layer, rng)
    errors = check_layer(layer, rng.standard_normal((2, 4, 5, 5)))
    assert set(errors) == {"x", *layer.params}
    assert max(errors.values()) < 1e-7, errors


def test_layer_params_are_live_arrays_and_an_update_changes_the_layer(rng):
    layer = C.Conv1x1(3, 2, rng=rng)
    x = rng.standard_normal((2, 3, 4, 4))
    before = layer.forward(x)
    layer.backward(np.ones_like(before))
    w_before = layer.params["w"].copy()
    layer.params["w"] -= 0.1 * layer.grads["w"]
    np.testing.assert_allclose(layer.params["w"], w_before - 0.1 * layer.grads["w"])
    assert not np.allclose(layer.forward(x), before)


@pytest.mark.parametrize("name", LAYERS)
def test_layer_grads_are_overwritten_not_accumulated_and_written_in_place(rng, name):
    """The documented choice (Layer.store_grads): each backward overwrites grads, in the same arrays.
    """
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
    layer.backward(3 * dout)                      # a second backward of the same forward overwrites too
    for k, v in layer.grads.items():
        assert v is held[k]
        np.testing.assert_allclose(v, 3 * first[k], rtol=1e-13, atol=1e-13)


def test_layer_setting_params_replaces_them_and_resets_the_grads(rng):
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


def test_layer_setting_grads_replaces_them(rng):
    layer = C.Conv1x1(2, 3, rng=rng)
    g = {"w": np.ones((3, 2)), "b": np.ones(3)}
    layer.grads = g
    assert layer.grads == g and layer.grads is not g     # a new dict holding the same arrays
    assert [grad is g[name] for (_, grad), name in zip(layer.parameters(), ("w", "b"))] == [True, True]


def test_layer_store_grads_with_a_wrong_shape_names_the_layer_the_gradient_and_both_shapes():
    """A transposed dw is named as such, not left to NumPy's "could not broadcast input array" message."""
    layer = C.Conv1x1(3, 5)
    with pytest.raises(ValueError, match=r"Conv1x1\(3, 5, bias=True\)\.store_grads: the gradient 'w' must have the "
                                         r"shape of params\['w'\], \(5, 3\), got \(3, 5\) \(transposed\?\)"):
        layer.store_grads(w=np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"'b' .* \(5,\), got \(4,\)$"):
        layer.store_grads(b=np.zeros(4))
    layer.store_grads(w=np.ones((5, 3)))
    assert np.all(layer.grads["w"] == 1)


def test_layer_without_forward_or_backward_says_so():
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


def test_layer_without_a_cost_says_how_to_give_it_one():
    """Container costs."""
    class Mine(C.Layer):
        def forward(self, x):
            return x

        def backward(self, dout):
            return dout

    with pytest.raises(NotImplementedError, match="Mine has no cost: define cost_node"):
        C.Sequential(C.ReLU(), Mine()).cost(4, 4, in_channels=2)


@pytest.mark.parametrize("layer", [C.Conv1x1(3, 2), C.ReLU(), C.LeakyReLU(), C.Sigmoid(), C.Tanh(),
                                   C.Sequential(C.Conv1x1(3, 2), C.ReLU())])
def test_layer_backward_before_forward_is_a_runtime_error(layer):
    with pytest.raises(RuntimeError, match="forward must run first"):
        layer.backward(np.zeros((1, 2, 3, 3)))


def test_layer_train_takes_only_a_flag():
    layer = C.BatchNorm2d(2)
    for bad in ("no", 0.0, None):
        with pytest.raises(TypeError, match="mode"):
            layer.train(bad)
    assert layer.training is True
    assert layer.train(False) is layer and layer.training is False


@pytest.mark.parametrize("make", [lambda: C.Sequential(), lambda: C.Conv1x1(3, 4), lambda: C.ReLU()])
def test_layer_cost_checks_height_width_and_in_channels(make):
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
def test_layer_cost_refuses_an_input_depth_the_layer_cannot_take(layer, wrong):
    with pytest.raises(ValueError):
        layer.cost(4, 4, wrong)


@pytest.mark.parametrize("layer", [
    C.Conv1x1(5, 3), C.Conv1x1(5, 3, bias=False), C.Conv2d(4, 6, 3, padding=1), C.Conv2d(2, 7, 5, bias=False),
    C.Sequential(C.Conv1x1(4, 2), C.ReLU(), C.Conv2d(2, 3, 3, padding="same"), C.Sigmoid()),
])
def test_layer_cost_params_equal_the_size_of_the_layer_arrays(layer):
    report = layer.cost(9, 9)
    assert report.params == sum(p.size for p in layer.params.values())


def test_layer_cost_of_shape_keeping_layers_counts_their_elements():
    assert C.BatchNorm2d(4).cost(3, 5, 4).bn_ops == 60 and C.BatchNorm2d(4).cost(3, 5).params == 8
    shuffle = C.ChannelShuffle(3).cost(3, 5, 6)
    assert shuffle.out_shape == (6, 3, 5) and shuffle.activation_ops == 90
    assert C.ChannelShuffle(3).cost(3, 5).out_shape == (None, 3, 5)
    assert C.GlobalAvgPool2d().cost(3, 5, 4).out_shape == (4, 1, 1)


def test_layer_reprs_and_cost_titles_name_the_settings():
    assert repr(C.Conv1x1(192, 32)) == "Conv1x1(192, 32, bias=True)"
    assert repr(C.Conv1x1(4, 2, bias=False)) == "Conv1x1(4, 2, bias=False)"
    assert repr(C.ReLU()) == "ReLU()"
    assert repr(C.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(C.Sequential(C.Conv1x1(3, 4), C.ReLU())) == (
        "Sequential(\n  (0): Conv1x1(3, 4, bias=True)\n  (1): ReLU()\n)")
    assert repr(C.Conv1x1(4, 6, groups=2)) == "Conv1x1(4, 6, groups=2, bias=True)"
    assert repr(C.Conv1x1(4, 6)) == "Conv1x1(4, 6, bias=True)"
    assert repr(C.Conv2d(4, 6, 3, groups=2, bias=False)) == \
        "Conv2d(4, 6, kernel_size=3, stride=1, padding=0, groups=2, bias=False)"
    assert C.Conv1x1(4, 6).cost(2, 2).title == "Conv1x1(4, 6, bias=True)"
    assert C.Sequential(C.ReLU()).cost(2, 2).title == "Sequential"


# ---------------------------------------------------------------- Conv1x1 and Conv2d

@pytest.mark.parametrize("groups", [1, 2])
def test_conv1x1_layer_adds_its_bias(rng, groups):
    layer = _with_random_bias(C.Conv1x1(4, 6, rng=rng, groups=groups), rng)
    x = rng.standard_normal((2, 4, 3, 5))
    expected = reference.conv1x1_loops(x, layer.params["w"], layer.params["b"], groups)
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12, atol=1e-12)


def test_conv1x1_layer_keys_shapes_and_he_init():
    layer = C.Conv1x1(192, 32, rng=np.random.default_rng(0))
    assert layer.params["w"].shape == (32, 192) and layer.params["b"].shape == (32,)
    assert set(layer.grads) == {"w", "b"}
    assert not layer.params["b"].any()
    std = layer.params["w"].std()
    assert abs(std - np.sqrt(2 / 192)) < 0.05 * np.sqrt(2 / 192)
    assert "b" not in C.Conv1x1(4, 2, bias=False).params


def test_conv_layers_weights_follow_he_initialisation():
    """He et al. 2015: std = sqrt(2 / fan_in), fan_in = C_in / groups * K * K.
    """
    for layer, fan_in in [(C.Conv1x1(64, 256, rng=np.random.default_rng(0)), 64),
                          (C.Conv2d(32, 256, 3, rng=np.random.default_rng(1)), 32 * 9),
                          (C.Conv2d(32, 256, 3, groups=4, rng=np.random.default_rng(2)), 8 * 9)]:
        std = layer.params["w"].std()
        assert abs(std / np.sqrt(2.0 / fan_in) - 1) < 0.05
        np.testing.assert_array_equal(layer.params["b"], 0.0)


def test_conv1x1_layer_rng_makes_the_weights_reproducible():
    """The same seed gives the same weights; another seed, other weights."""
    a = C.Conv1x1(3, 4, rng=np.random.default_rng(5)).params["w"]
    b = C.Conv1x1(3, 4, rng=np.random.default_rng(5)).params["w"]
    c = C.Conv1x1(3, 4, rng=np.random.default_rng(6)).params["w"]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_conv1x1_layers_from_200_seeds_have_200_different_weights():
    """Seeds come from [0, 2**63 - 1): 200 generators never give two layers the same weights.
    """
    weights = {float(C.Conv1x1(1, 1, rng=np.random.default_rng(i)).params["w"][0, 0]) for i in range(200)}
    assert len(weights) == 200


@pytest.mark.parametrize("rng_value, error", [(-1, ValueError), (1.5, TypeError), ("seed", TypeError),
                                              (True, TypeError)])
def test_conv1x1_layer_refuses_a_bad_rng(rng_value, error):
    """Errors that name the argument."""
    with pytest.raises(error, match="rng"):
        C.Conv1x1(3, 2, rng=rng_value)


def test_conv1x1_layer_refuses_a_random_state_and_a_non_bool_bias():
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        C.Conv1x1(3, 2, rng=np.random.RandomState(0))
    with pytest.raises(TypeError, match="bias must be True or False"):
        C.Conv1x1(3, 2, bias="yes")


@pytest.mark.parametrize("bias", ["no", None, 0, 1])
def test_conv1x1_layer_refuses_a_bias_that_is_not_a_bool(bias):
    """Nonsense is refused, not accepted silently."""
    with pytest.raises(TypeError, match="bias must be True or False"):
        C.Conv1x1(3, 4, bias=bias)


@pytest.mark.parametrize("bad", [0, -3])
@pytest.mark.parametrize("which", ["in_channels", "out_channels"])
def test_conv1x1_layer_channels_must_be_positive(bad, which):
    kwargs = {"in_channels": 3, "out_channels": 2, which: bad}
    with pytest.raises(ValueError, match=which):
        C.Conv1x1(**kwargs)


@pytest.mark.parametrize("bad", [2.5, 2.0, "3", None, True])
@pytest.mark.parametrize("which", ["in_channels", "out_channels"])
def test_conv1x1_layer_channels_must_be_integers(bad, which):
    kwargs = {"in_channels": 3, "out_channels": 2, which: bad}
    with pytest.raises(TypeError, match=which):
        C.Conv1x1(**kwargs)


def test_conv1x1_layer_names_itself_on_a_channel_mismatch():
    with pytest.raises(ValueError, match=r"Conv1x1\(4, 2, bias=True\) expects 4 input channels but x has 3"):
        C.Conv1x1(4, 2).forward(np.zeros((2, 3, 4, 4)))


def test_conv1x1_layer_cost_names_itself_on_a_channel_mismatch():
    with pytest.raises(ValueError, match=r"Conv1x1\(5, 3, bias=True\) expects 5 input channels"):
        C.Conv1x1(5, 3).cost(4, 4, in_channels=6)


@pytest.mark.parametrize("name", LAYERS)
def test_layers_in_float32_give_float32_gradients_for_a_float64_dout(rng, name):
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
    assert layer.backward(out).dtype == np.float32            # and a float32 one


@pytest.mark.parametrize("dtype", [int, np.int32, bool, "complex128", "not a dtype"])
def test_conv_layers_dtype_must_be_floating(dtype):
    with pytest.raises(TypeError, match="dtype must be a floating-point type"):
        C.Conv1x1(3, 2, dtype=dtype)
    with pytest.raises(TypeError, match="dtype must be a floating-point type"):
        C.Conv2d(3, 2, 3, dtype=dtype)


def test_conv1x1_layer_with_a_stride_runs_prices_and_names_itself(rng):
    layer = C.Conv1x1(4, 8, stride=2, rng=0)
    x = rng.standard_normal((2, 4, 7, 6))
    out = layer.forward(x)
    assert repr(layer) == "Conv1x1(4, 8, stride=2, bias=True)"
    assert out.shape == (2, 8, 4, 3) == (2, *layer.cost(7, 6).out_shape)
    assert layer.cost(7, 6).macs == 4 * 3 * 8 * 4          # output pixels x C_out x C_in
    dx = layer.backward(np.ones_like(out))
    assert dx.shape == x.shape and layer.grads["w"].shape == (8, 4)
    errors = C.gradcheck.check_layer(C.Conv1x1(3, 2, stride=2, rng=1), rng.standard_normal((2, 3, 5, 4)))
    assert max(errors.values()) < 1e-7


@pytest.mark.parametrize("make, message", [
    (lambda: C.Conv2d(6, 5, 3, groups=3), "must divide the output channels"),
    (lambda: C.Conv1x1(6, 4, groups=4), "must divide the input channels"),
])
def test_conv_layers_refuse_groups_that_do_not_divide_the_channels(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("layer, shape, category", [
    (lambda: C.Conv2d(6, 6, 3, padding=1, groups=6, rng=0), (6, 1, 3, 3), "depthwise"),
    (lambda: C.Conv2d(6, 4, 3, padding=1, groups=2, rng=0), (4, 3, 3, 3), "grouped"),
    (lambda: C.Conv1x1(6, 9, groups=3, rng=0), (9, 2), "grouped"),
])
def test_grouped_conv_layers_pass_the_gradient_check_and_price_their_category(rng, layer, shape, category):
    layer = layer()
    assert layer.params["w"].shape == shape
    layer.params["b"][...] = rng.standard_normal(layer.out_channels)
    errors = check_layer(layer, rng.standard_normal((2, 6, 5, 4)))
    assert all(e < 1e-7 for e in errors.values()), errors
    cost = layer.cost(5, 4)[0]
    assert cost.category == category and cost.params == layer.params["w"].size + layer.out_channels


@pytest.mark.parametrize("make", [
    lambda rng: C.Conv2d(3, 4, 3, padding=1, rng=rng),
    lambda rng: C.Conv2d(3, 2, 5, padding="same", bias=False, rng=rng),
    lambda rng: C.Conv2d(3, 4, 3, stride=2, rng=rng),
])
def test_conv2d_layer_passes_the_gradient_check(rng, make):
    errors = check_layer(make(rng), rng.standard_normal((2, 3, 6, 5)))
    assert max(errors.values()) < 1e-7, errors


def test_conv2d_layer_has_he_weights_a_repr_and_needs_forward_first(rng):
    layer = C.Conv2d(3, 8, 5, padding="same", rng=rng)
    assert layer.params["w"].shape == (8, 3, 5, 5) and layer.params["b"].shape == (8,)
    assert abs(layer.params["w"].std() - np.sqrt(2 / 75)) < 0.15 * np.sqrt(2 / 75)
    assert repr(layer) == "Conv2d(3, 8, kernel_size=5, stride=1, padding=2, bias=True)"
    with pytest.raises(RuntimeError, match="forward must run first"):
        layer.backward(np.zeros((1, 8, 4, 4)))


@pytest.mark.parametrize("k, stride, padding, groups", [(1, 1, 0, 1), (3, 1, 1, 1), (3, 2, 1, 2), (5, 2, 2, 4)])
def test_conv2d_layer_adds_its_bias_and_uses_its_geometry(rng, k, stride, padding, groups):
    layer = _with_random_bias(C.Conv2d(4, 8, k, stride=stride, padding=padding, groups=groups, rng=rng), rng)
    x = rng.standard_normal((2, 4, 7, 6))
    expected, _ = reference.conv2d_loops(x, layer.params["w"], layer.params["b"], stride, padding, groups)
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12, atol=1e-12)


def test_conv2d_layer_without_bias_has_no_bias_and_matches_the_loops(rng):
    layer = C.Conv2d(3, 5, 3, padding=1, bias=False, rng=rng)
    assert set(layer.params) == {"w"}
    x = rng.standard_normal((1, 3, 4, 4))
    expected, _ = reference.conv2d_loops(x, layer.params["w"], None, 1, 1)
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12, atol=1e-12)
    layer.backward(rng.standard_normal((1, 5, 4, 4)))
    assert set(layer.grads) == {"w"}


def test_conv2d_layer_checks_its_settings_at_construction():
    with pytest.raises(ValueError, match="odd kernel"):
        C.Conv2d(3, 4, 2, padding="same")
    with pytest.raises(ValueError, match="kernel_size"):
        C.Conv2d(3, 4, 0)


@pytest.mark.parametrize("make", [
    lambda rng: C.Conv2d(3, 4, (1, 3), padding=(0, 1), rng=rng),
    lambda rng: C.Conv2d(3, 2, (3, 1), padding="same", bias=False, rng=rng),
    lambda rng: C.Conv2d(3, 3, (3, 2), stride=(2, 1), padding=(1, 0), groups=3, rng=rng),
])
def test_conv2d_layer_with_a_non_square_kernel_passes_the_gradient_check(rng, make):
    errors = check_layer(make(rng), rng.standard_normal((2, 3, 6, 5)))
    assert max(errors.values()) < 1e-7, errors


def test_conv2d_layer_with_a_1x7_kernel_keeps_its_settings_as_pairs_and_its_weights_as_kh_by_kw(rng):
    """Inception v3's 1x7: kernel_size, stride and padding read (along H, along W); a square one stays an int."""
    layer = C.Conv2d(8, 16, (1, 7), padding=(0, 3), rng=rng)
    assert (layer.kernel_size, layer.stride, layer.padding) == ((1, 7), 1, (0, 3))
    assert layer.params["w"].shape == (16, 8, 1, 7)
    assert abs(layer.params["w"].std() - np.sqrt(2 / 56)) < 0.1 * np.sqrt(2 / 56)   # fan_in = 8 * 1 * 7
    assert repr(layer) == "Conv2d(8, 16, kernel_size=(1, 7), stride=1, padding=(0, 3), bias=True)"
    assert C.Conv2d(8, 16, (1, 7), padding="same").padding == (0, 3)
    assert C.Conv2d(8, 16, (3, 3), stride=(2, 2)).kernel_size == 3 and C.Conv2d(8, 16, 3, stride=(2, 2)).stride == 2
    x = rng.standard_normal((2, 8, 17, 17))
    np.testing.assert_array_equal(layer.forward(x), C.conv2d_forward(x, layer.params["w"], layer.params["b"],
                                                                     padding=(0, 3))[0])
    cost = layer.cost(17, 17)[0]
    assert (cost.out_shape, cost.params, cost.macs) == ((16, 17, 17), 16 * 8 * 7 + 16, 17 * 17 * 16 * 8 * 7)


@pytest.mark.parametrize("make, error, message", [
    (lambda: C.Conv2d(3, 4, (2, 3), padding="same"), ValueError, "odd kernel size along each axis"),
    (lambda: C.Conv2d(3, 4, (3, 0)), ValueError, "kernel_size[1] must be a positive integer"),
    (lambda: C.Conv2d(3, 4, 3, stride=[1, 2, 1]), ValueError, "stride must be a positive integer or a pair"),
    (lambda: C.Conv1x1(3, 4, stride=(1, 2)), TypeError, "stride must be a positive integer, got (1, 2)"),
    (lambda: C.MaxPool2d((3, 1), padding=(1, 1)), ValueError, "padding must be at most (1, 0) (kernel_size // 2)"),
    (lambda: C.AvgPool2d((2, 2.0)), TypeError, "kernel_size[1] must be a positive integer, got 2.0"),
])
def test_layers_refuse_bad_pairs_at_construction_naming_the_argument(make, error, message):
    with pytest.raises(error, match=re.escape(message)):
        make()


def test_pool_layers_take_non_square_windows_as_d2l_does(rng):
    """d2l.ai, "Pooling": MaxPool2d((2, 3), stride=(2, 3), padding=(0, 1)) on arange(16) as 4 x 4."""
    layer = C.MaxPool2d((2, 3), stride=(2, 3), padding=(0, 1))
    assert repr(layer) == "MaxPool2d(kernel_size=(2, 3), stride=(2, 3), padding=(0, 1))"
    np.testing.assert_array_equal(layer.forward(np.arange(16.0).reshape(1, 1, 4, 4))[0, 0], [[5, 7], [13, 15]])
    x = rng.permutation(60).reshape(1, 2, 5, 6) / 7.0
    assert max(check_layer(layer, x).values()) < 1e-7
    assert max(check_layer(C.AvgPool2d((3, 1), stride=(1, 2), padding=(1, 0)), x).values()) < 1e-7
    assert C.MaxPool2d((2, 3)).stride == (2, 3)                      # the stride defaults to the window
    cost = C.AvgPool2d((3, 1), stride=(1, 2), padding=(1, 0)).cost(5, 6, in_channels=2)[0]
    assert cost.out_shape == (2, 5, 3) and cost.kind == "avgpool 3x1 /(1, 2)"


def test_conv2d_depthwise_layer_weights_have_the_he_spread_of_their_fan_in():
    w = C.Conv2d(512, 512, 3, padding=1, groups=512, rng=0).params["w"]
    assert abs(w.std() - np.sqrt(2 / 9)) < 0.02   # fan_in = 1 channel * 3 * 3, not 512 * 9


# ---------------------------------------------------------------- activations and pooling

def test_activation_layers_have_no_params():
    for layer in (C.ReLU(), C.LeakyReLU(), C.Sigmoid(), C.Tanh()):
        assert layer.params == {} and layer.grads == {} and list(layer.parameters()) == []


def test_leaky_relu_layer_uses_its_slope():
    layer = C.LeakyReLU(0.5)
    out = layer.forward(np.array([[-2.0, 0.0, 3.0]]))
    np.testing.assert_array_equal(out, [[-1.0, 0.0, 3.0]])
    np.testing.assert_array_equal(layer.backward(np.array([[2.0, 2.0, 2.0]])), [[1.0, 1.0, 2.0]])


def test_leaky_relu_default_slope_is_0_01_as_in_pytorch():
    x = np.array([-2.0, 3.0])
    np.testing.assert_allclose(C.LeakyReLU().forward(x), [-0.02, 3.0], rtol=1e-15)
    np.testing.assert_allclose(C.leaky_relu_forward(x)[0], [-0.02, 3.0], rtol=1e-15)
    assert repr(C.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"


def test_maxpool_layer_has_no_params_a_repr_a_gradient_and_a_cost(rng):
    layer = C.MaxPool2d(3, stride=1, padding=1)
    assert layer.params == {} and repr(layer) == "MaxPool2d(kernel_size=3, stride=1, padding=1)"
    x = rng.permutation(50).reshape(1, 2, 5, 5) / 7.0
    assert max(check_layer(layer, x).values()) < 1e-7
    assert layer.cost(28, 28, in_channels=192)[0].out_shape == (192, 28, 28)


def test_maxpool_layer_refuses_padding_above_half_the_kernel():
    """The same rule as maxpool2d_forward's and pool_cost's: every window keeps a real element."""
    with pytest.raises(ValueError, match=r"padding must be at most 1"):
        C.MaxPool2d(3, 1, 2)


def test_avgpool_layer_costs_pooling_ops_and_no_macs():
    cost = C.AvgPool2d(3, stride=2, padding=1).cost(56, 56, in_channels=24)
    assert cost.macs == 0 and cost.params == 0
    assert cost.out_shape == (24, 28, 28) and cost.pooling_ops == 24 * 56 * 56


def test_global_avg_pool_layer_passes_the_gradient_check_in_a_nin_head(rng):
    head = C.Sequential(C.Conv1x1(3, 4, rng=rng), GlobalAvgPool2d())
    head[0].params["b"][...] = rng.standard_normal(4)
    errors = check_layer(head, rng.standard_normal((2, 3, 3, 3)))
    assert max(errors.values()) < 1e-7


def test_global_avg_pool_layer_costs_no_macs_and_no_params():
    report = C.Sequential(C.Conv1x1(3, 10), GlobalAvgPool2d()).cost(8, 8)
    assert report.out_shape == (10, 1, 1) and report[1].macs == 0 and report[1].params == 0
    assert report.macs == 3 * 10 * 64


def test_global_avg_pool_layer_refuses_bad_input():
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


# ---------------------------------------------------------------- BatchNorm2d

def test_batchnorm_layer_passes_the_gradient_check_in_training_mode(rng, randomise_params, all_below):
    layer = randomise_params(C.BatchNorm2d(3), rng)
    assert all_below(check_layer(layer, rng.standard_normal((2, 3, 3, 4))))


def test_batchnorm_layer_running_statistics_use_momentum_and_the_unbiased_variance(rng):
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
    # by hand: mean 4, unbiased variance 20/3
    layer = C.BatchNorm2d(1, momentum=0.25)
    x = np.array([1.0, 3.0, 5.0, 7.0]).reshape(2, 1, 1, 2)
    layer.forward(x)
    np.testing.assert_allclose(layer.running_mean, [0.25 * 4], rtol=1e-15)
    np.testing.assert_allclose(layer.running_var, [0.75 * 1 + 0.25 * 20 / 3], rtol=1e-15)
    layer.forward(x)
    np.testing.assert_allclose(layer.running_mean, [0.75 * 1 + 0.25 * 4], rtol=1e-15)


def test_batchnorm_layer_in_eval_uses_the_running_statistics_and_leaves_them_alone(rng, randomise_params, all_below):
    layer = randomise_params(C.BatchNorm2d(2), rng)
    layer.forward(rng.standard_normal((4, 2, 3, 3)) + 5)
    mean, var = layer.running_mean.copy(), layer.running_var.copy()
    assert layer.eval() is layer and layer.training is False
    x = rng.standard_normal((1, 2, 2, 2))
    out = layer.forward(x)
    g, b = layer.params["gamma"], layer.params["beta"]
    expected = g[:, None, None] * (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-5) + b[:, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    np.testing.assert_array_equal(layer.running_mean, mean)
    assert all_below(check_layer(layer, x))    # an affine map at evaluation: also gradient-checked
    # by hand, and back to training
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


def test_batchnorm_layer_refuses_one_value_per_channel_in_training_but_not_in_eval():
    with pytest.raises(ValueError, match="more than one value per channel"):
        C.BatchNorm2d(3).forward(np.ones((1, 3, 1, 1)))
    assert C.BatchNorm2d(3).eval().forward(np.ones((1, 3, 1, 1))).shape == (1, 3, 1, 1)


def test_batchnorm_layer_momentum_above_one_is_refused_and_one_is_accepted():
    with pytest.raises(ValueError, match="momentum"):
        C.BatchNorm2d(2, momentum=1.5)
    layer = C.BatchNorm2d(1, momentum=1.0)
    layer.forward(np.array([1.0, 3.0]).reshape(2, 1, 1, 1))
    np.testing.assert_allclose(layer.running_mean, [2.0])
    np.testing.assert_allclose(layer.running_var, [2.0])   # unbiased: ((1-2)^2 + (3-2)^2) / 1


@pytest.mark.parametrize("momentum, error", [(-0.1, ValueError), (1.5, ValueError), ("0.1", TypeError),
                                             (True, TypeError), (float("nan"), ValueError)])
def test_batchnorm_layer_momentum_must_be_a_number_in_zero_one(momentum, error):
    with pytest.raises(error, match="momentum"):
        C.BatchNorm2d(3, momentum=momentum)


def test_batchnorm_layer_momentum_becomes_a_float():
    assert type(C.BatchNorm2d(3, momentum=1).momentum) is float


@pytest.mark.parametrize("call, error, message", [
    (lambda: C.BatchNorm2d(3, momentum=2), ValueError, "momentum"),
    (lambda: C.BatchNorm2d(3).forward(np.ones((2, 4, 2, 2))), ValueError, "expects 3 input channels"),
])
def test_batchnorm_layer_refuses_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


TOL = {"rtol": 1e-10, "atol": 1e-10}


def _close(ours, theirs):
    np.testing.assert_allclose(ours, theirs.detach().numpy(), **TOL)


def test_batchnorm_layer_in_training_and_eval_equals_torch(torch, rng):
    ours = C.BatchNorm2d(3, eps=1e-3, momentum=0.2)
    theirs = torch.nn.BatchNorm2d(3, eps=1e-3, momentum=0.2).double()
    gamma, beta = rng.uniform(0.5, 1.5, 3), rng.standard_normal(3)
    ours.params["gamma"][...], ours.params["beta"][...] = gamma, beta
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(gamma))
        theirs.bias.copy_(torch.tensor(beta))
    def step(x):
        """One forward and backward of both; outputs and gradients must agree."""
        dout = rng.standard_normal(x.shape)
        tx = torch.tensor(x, requires_grad=True)
        tout = theirs(tx)
        tout.backward(torch.tensor(dout))
        _close(ours.forward(x), tout)
        _close(ours.backward(dout), tx.grad)
        _close(ours.grads["gamma"], theirs.weight.grad)

    for _ in range(3):                                   # training steps: outputs, gradients, running stats
        step(rng.standard_normal((4, 3, 5, 2)) * 2 + 1)
        _close(ours.grads["beta"], theirs.bias.grad)
        theirs.zero_grad()
        _close(ours.running_mean, theirs.running_mean)
        _close(ours.running_var, theirs.running_var)
    ours.eval()
    theirs.eval()
    step(rng.standard_normal((2, 3, 3, 3)))


# ---------------------------------------------------------------- ChannelShuffle

def test_channel_shuffle_layer_passes_the_gradient_check_costs_no_macs_and_refuses_bad_groups(rng, all_below):
    layer = C.ChannelShuffle(2)
    assert all_below(check_layer(layer, rng.standard_normal((2, 6, 3, 2))))
    assert layer.cost(3, 2, in_channels=6)[0].macs == 0
    with pytest.raises(ValueError, match="groups=4 must divide"):
        layer_4 = C.ChannelShuffle(4)
        layer_4.forward(np.ones((1, 6, 2, 2)))


def test_channel_shuffle_layer_mixes_the_groups_of_stacked_grouped_1x1s(rng):
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


def _first_output_channel(out):
    dout = np.zeros_like(out)
    dout[:, 0] = 1.0
    return dout


@pytest.mark.parametrize("channels, reached", [(9, 9), (12, 12), (6, 4)])
def test_channel_shuffle_layer_lets_every_output_group_see_every_input_group(rng, channels, reached):
    """Two grouped 1x1s (3 groups): without the shuffle output channel 0 sees only group 0's inputs; with it,
    every input once each group has at least 3 channels (with 2 per group, only 2 of the 3 groups)."""
    def sees(stack):
        """Which input channels the first output channel depends on (its gradient there is not zero)."""
        dx = stack.backward(_first_output_channel(stack.forward(rng.standard_normal((1, channels, 2, 2)))))
        return np.abs(dx).sum(axis=(0, 2, 3)) > 0

    def grouped(seed):
        return C.Conv1x1(channels, channels, groups=3, rng=seed)
    with_shuffle = C.Sequential(grouped(0), C.ChannelShuffle(3), grouped(1))
    without = C.Sequential(grouped(0), grouped(1))
    np.testing.assert_array_equal(sees(without), np.arange(channels) < channels // 3)
    assert sees(with_shuffle).sum() == reached


# ---------------------------------------------------------------- the pieces of today's networks

@pytest.mark.parametrize("make, shape", [
    (lambda: C.Linear(6, 4, rng=0), (3, 6)),
    (lambda: C.Linear(6, 4, bias=False, rng=0), (3, 6)),
    (lambda: C.Flatten(), (2, 3, 2, 2)),
    (lambda: C.LayerNorm2d(4), (2, 4, 3, 3)),
    (lambda: C.ReLU6(), (2, 3, 4, 4)),
    (lambda: C.GELU(), (2, 3, 4, 4)),
    (lambda: C.SiLU(), (2, 3, 4, 4)),
    (lambda: C.LayerScale(3, init=0.5), (2, 3, 4, 4)),
    (lambda: C.Dropout(0.3, rng=0).eval(), (2, 3, 4, 4)),
    (lambda: C.DropPath(0.3, rng=0).eval(), (2, 3, 4, 4)),
], ids=["Linear", "Linear no bias", "Flatten", "LayerNorm2d", "ReLU6", "GELU", "SiLU", "LayerScale",
        "Dropout eval", "DropPath eval"])
def test_new_layers_pass_the_gradient_check(rng, make, shape):
    """Central differences in float64; bound: relative error < 1e-7 for the input and every parameter."""
    layer = make()
    for param in layer.params.values():                 # away from the starting ones and zeros
        param[...] = rng.standard_normal(param.shape)
    errors = check_layer(layer, rng.uniform(-3, 9, shape) + 0.05)
    assert errors and all(e < BOUND for e in errors.values()), errors


@pytest.mark.parametrize("make, module, shape", [
    (lambda: C.Linear(6, 4, rng=0), lambda nn: nn.Linear(6, 4), (3, 6)),
    (lambda: C.LayerNorm2d(4), None, (2, 4, 3, 3)),
    (lambda: C.GELU(), lambda nn: nn.GELU(), (2, 3, 4, 4)),
    (lambda: C.SiLU(), lambda nn: nn.SiLU(), (2, 3, 4, 4)),
    (lambda: C.ReLU6(), lambda nn: nn.ReLU6(), (2, 3, 4, 4)),
    (lambda: C.Flatten(), lambda nn: nn.Flatten(), (2, 3, 4, 4)),
], ids=["Linear", "LayerNorm2d", "GELU", "SiLU", "ReLU6", "Flatten"])
def test_new_layers_equal_pytorch_to_1e_minus_10(torch, rng, make, module, shape):
    layer = make()
    for param in layer.params.values():
        param[...] = rng.standard_normal(param.shape)
    if module is None:   # ConvNeXt's LayerNorm2d: a LayerNorm over channels-last
        gamma, beta = (torch.tensor(layer.params[k], requires_grad=True) for k in ("gamma", "beta"))

        def theirs(t):
            return torch.nn.functional.layer_norm(t.permute(0, 2, 3, 1), (4,), gamma, beta, 1e-6).permute(0, 3, 1, 2)
        torch_params = {"gamma": gamma, "beta": beta}
    else:
        theirs = module(torch.nn).double()
        with torch.no_grad():
            for name, tensor in (("w", "weight"), ("b", "bias")):
                if name in layer.params:
                    getattr(theirs, tensor).copy_(torch.tensor(layer.params[name]))
        torch_params = {name: getattr(theirs, tensor) for name, tensor in (("w", "weight"), ("b", "bias"))
                        if name in layer.params}
    x = rng.standard_normal(shape)
    tx = torch.tensor(x, requires_grad=True)
    tout = theirs(tx)
    out = layer.forward(x)
    dout = rng.standard_normal(out.shape)
    tout.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(layer.backward(dout), tx.grad.numpy(), rtol=0, atol=1e-10)
    for name, tensor in torch_params.items():
        np.testing.assert_allclose(layer.grads[name], tensor.grad.numpy(), rtol=0, atol=1e-10)


def test_linear_is_a_1x1_convolution_on_a_1x1_map(rng):
    linear, conv = C.Linear(8, 3, rng=0), C.Conv1x1(8, 3, rng=0)
    assert np.array_equal(linear.params["w"], conv.params["w"])     # same seed, same (O, F) weight
    x = rng.standard_normal((4, 8))
    np.testing.assert_allclose(linear.forward(x), conv.forward(x[:, :, None, None])[:, :, 0, 0], rtol=1e-14)
    assert (linear.cost(1, 1, 8).macs, linear.cost(1, 1, 8).params) == (conv.cost(1, 1).macs, conv.cost(1, 1).params)


def test_flatten_then_linear_is_priced_as_an_fc_layer():
    report = C.Sequential(C.GlobalAvgPool2d(), C.Flatten(), C.Linear(32, 10)).cost(7, 7, 32)
    assert report.out_shape == (10, 1, 1) and report.macs == 320 and report.params == 330
    assert report.by_kind()["fc"]["macs"] == 320
    with pytest.raises(ValueError, match=r"takes 32 features, as \(F, 1, 1\) after a Flatten"):
        C.Sequential(C.Flatten(), C.Linear(32, 10)).cost(7, 7, 32)


def test_linear_refuses_an_image_batch_naming_itself():
    with pytest.raises(ValueError, match=r"^Linear\(4, 2, bias=True\): x must be 2-D \(N, F\)"):
        C.Linear(4, 2).forward(np.zeros((1, 4, 1, 1)))


@pytest.mark.parametrize("kind", [C.Dropout, C.DropPath])
def test_dropout_layers_are_the_identity_in_eval_and_seeded_in_training(rng, kind):
    layer = kind(0.5, rng=0)
    x = rng.standard_normal((8, 3, 4, 4))
    out = layer.forward(x)
    dout = rng.standard_normal(x.shape)
    mask = out / x
    np.testing.assert_allclose(layer.backward(dout), dout * mask, rtol=1e-12)    # the same mask, backward
    assert set(np.round(np.unique(mask), 12)) == {0.0, 2.0}
    again = kind(0.5, rng=0).forward(x)
    assert np.array_equal(out, again)                                             # the seed repeats the run
    assert not np.array_equal(layer.forward(x), out)                             # the next call draws anew
    layer.eval()
    assert np.array_equal(layer.forward(x), x) and np.array_equal(layer.backward(dout), dout)
    assert layer.cost(4, 4, 3).activation_ops == 0 and layer.cost(4, 4, 3).macs == 0


def test_layer_scale_and_layernorm_cost_their_channels():
    assert C.LayerScale(96).cost(56, 56).params == 96
    assert C.LayerScale(96).params["gamma"][0] == 1e-6                   # ConvNeXt's starting scale
    row = C.LayerNorm2d(96).cost(56, 56).layers[0]
    assert (row.params, row.macs, row.bn_ops) == (192, 0, 96 * 56 * 56)
