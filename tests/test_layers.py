"""Layer objects: params/grads contract, initialisation, repr and gradient checks."""

import numpy as np
import pytest

import conv1x1 as C
from conv1x1.gradcheck import check_layer

BOUND = 1e-7  # max relative error of a float64 central-difference check


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
def test_every_layer_passes_the_gradient_check(rng, make, shape):
    layer = make(rng)
    errors = check_layer(layer, _x(rng, shape))
    assert set(errors) == {"x", *layer.params}
    assert max(errors.values()) < BOUND, errors


def test_check_layer_catches_a_wrong_backward(rng):
    class Broken(C.Conv1x1):
        def backward(self, dout):
            return 2 * super().backward(dout)  # wrong input gradient

    errors = check_layer(Broken(3, 2, rng=rng), _x(rng, (1, 3, 2, 2)))
    assert errors["x"] > 0.1 and errors["w"] < BOUND


def test_params_hold_live_arrays_and_sgd_changes_the_layer(rng):
    layer = C.Conv1x1(3, 2, rng=rng)
    x = rng.standard_normal((2, 3, 4, 4))
    before = layer.forward(x)
    layer.backward(np.ones_like(before))
    w_before = layer.params["w"].copy()
    layer.params["w"] -= 0.1 * layer.grads["w"]
    np.testing.assert_allclose(layer.params["w"], w_before - 0.1 * layer.grads["w"])
    assert not np.allclose(layer.forward(x), before)


def test_sgd_through_parameters_reduces_a_loss(rng):
    net = C.Sequential(C.Conv1x1(3, 8, rng=rng), C.Tanh(), C.Conv1x1(8, 1, rng=rng))
    x = rng.standard_normal((4, 3, 5, 5))
    target = np.sin(x.sum(axis=1, keepdims=True))
    losses = []
    for _ in range(50):
        out = net.forward(x)
        losses.append(0.5 * np.mean((out - target) ** 2))
        net.backward((out - target) / out.size)
        for param, grad in net.parameters():
            param -= 0.5 * grad
    assert losses[-1] < 0.5 * losses[0]


def test_grads_are_filled_in_place(rng):
    layer = C.Conv1x1(3, 2, rng=rng)
    held = layer.grads["w"]
    out = layer.forward(rng.standard_normal((1, 3, 2, 2)))
    layer.backward(np.ones_like(out))
    assert layer.grads["w"] is held and np.any(held != 0)
    first = held.copy()
    layer.backward(2 * np.ones_like(out))    # backward overwrites: it does not accumulate
    np.testing.assert_allclose(held, 2 * first)


def test_conv1x1_layer_keys_shapes_and_he_init():
    layer = C.Conv1x1(192, 32, rng=np.random.default_rng(0))
    assert layer.params["w"].shape == (32, 192) and layer.params["b"].shape == (32,)
    assert set(layer.grads) == {"w", "b"}
    assert not layer.params["b"].any()
    std = layer.params["w"].std()
    assert abs(std - np.sqrt(2 / 192)) < 0.05 * np.sqrt(2 / 192)
    assert "b" not in C.Conv1x1(4, 2, bias=False).params


def test_rng_makes_initialisation_reproducible():
    a = C.Conv1x1(5, 3, rng=np.random.default_rng(7)).params["w"]
    b = C.Conv1x1(5, 3, rng=np.random.default_rng(7)).params["w"]
    np.testing.assert_array_equal(a, b)


def test_layer_dtype_float32(rng):
    layer = C.Conv1x1(3, 2, rng=rng, dtype=np.float32)
    out = layer.forward(rng.standard_normal((1, 3, 2, 2)).astype(np.float32))
    assert out.dtype == np.float32 and layer.backward(out).dtype == np.float32


def test_reprs():
    assert repr(C.Conv1x1(192, 32)) == "Conv1x1(192, 32, bias=True)"
    assert repr(C.Conv1x1(4, 2, bias=False)) == "Conv1x1(4, 2, bias=False)"
    assert repr(C.ReLU()) == "ReLU()"
    assert repr(C.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(C.Sequential(C.Conv1x1(3, 4), C.ReLU())) == (
        "Sequential(\n  (0): Conv1x1(3, 4, bias=True)\n  (1): ReLU()\n)")


def test_activation_layers_have_no_params():
    for layer in (C.ReLU(), C.LeakyReLU(), C.Sigmoid(), C.Tanh()):
        assert layer.params == {} and layer.grads == {} and list(layer.parameters()) == []


def test_sequential_names_and_order(rng):
    first, second = C.Conv1x1(3, 4, rng=rng), C.Conv1x1(4, 2, bias=False, rng=rng)
    net = C.Sequential(first, C.ReLU(), second)
    assert net.layers == (first, net[1], second) and len(net) == 3
    assert list(net.params) == ["0.w", "0.b", "2.w"]
    assert net.params["2.w"] is second.params["w"]
    x = rng.standard_normal((2, 3, 2, 2))
    np.testing.assert_array_equal(net(x), second(np.maximum(first(x), 0)))


def test_store_grads_with_a_wrong_shape_names_the_layer_the_gradient_and_both_shapes():
    """A newcomer's transposed dw used to meet NumPy's "could not broadcast input array from shape (3,5) into (5,3)"."""
    layer = C.Conv1x1(3, 5)
    with pytest.raises(ValueError, match=r"Conv1x1\(3, 5, bias=True\)\.store_grads: the gradient 'w' must have the "
                                         r"shape of params\['w'\], \(5, 3\), got \(3, 5\) \(transposed\?\)"):
        layer.store_grads(w=np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"'b' .* \(5,\), got \(4,\)$"):
        layer.store_grads(b=np.zeros(4))
    layer.store_grads(w=np.ones((5, 3)))
    assert np.all(layer.grads["w"] == 1)
