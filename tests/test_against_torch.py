"""Agreement with PyTorch's conv2d (1x1 kernel) to 1e-10 in float64. Skipped when PyTorch is absent:
PyTorch is never a dependency; the reference rungs and numerical gradients are the proof without it."""

import numpy as np
import pytest

import conv1x1 as C

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.usefixtures("both_paths")  # plain and conv1x1.fast: same results


@pytest.mark.parametrize("shape", [(2, 3, 5, 4, 6), (1, 8, 2, 1, 1), (3, 16, 32, 7, 5)])
@pytest.mark.parametrize("use_bias", [True, False])
def test_forward_and_backward_equal_torch_conv2d(rng, shape, use_bias):
    n, c_in, c_out, h, w = shape
    x = rng.standard_normal((n, c_in, h, w))
    weight = rng.standard_normal((c_out, c_in))
    bias = rng.standard_normal(c_out) if use_bias else None
    out, cache = C.conv1x1_forward(x, weight, bias)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = C.conv1x1_backward(dout, cache)

    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(weight.reshape(c_out, c_in, 1, 1), requires_grad=True)
    tb = torch.tensor(bias, requires_grad=True) if use_bias else None
    tout = torch.nn.functional.conv2d(tx, tw, tb)
    tout.backward(torch.tensor(dout))

    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dw, tw.grad.numpy().reshape(c_out, c_in), rtol=1e-10, atol=1e-10)
    if use_bias:
        np.testing.assert_allclose(db, tb.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "leaky_relu"])
def test_activations_equal_torch(rng, name):
    x = rng.standard_normal((2, 3, 4, 4)) * 5
    forward = {"relu": C.relu_forward, "sigmoid": C.sigmoid_forward, "tanh": C.tanh_forward,
               "leaky_relu": lambda v: C.leaky_relu_forward(v, 0.1)}[name]
    backward = {"relu": C.relu_backward, "sigmoid": C.sigmoid_backward, "tanh": C.tanh_backward,
                "leaky_relu": C.leaky_relu_backward}[name]
    tfun = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
            "leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, 0.1)}[name]
    out, cache = forward(x)
    dout = rng.standard_normal(out.shape)
    tx = torch.tensor(x, requires_grad=True)
    tout = tfun(tx)
    tout.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(backward(dout, cache), tx.grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("k, stride, padding", [(3, 1, 1), (5, 1, 2), (3, 2, 0), (2, 3, 1)])
def test_conv2d_equals_torch(rng, k, stride, padding):
    x = rng.standard_normal((2, 3, 9, 8))
    weight = rng.standard_normal((4, 3, k, k))
    bias = rng.standard_normal(4)
    out, cache = C.conv2d_forward(x, weight, bias, stride, padding)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = C.conv2d_backward(dout, cache)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, weight, bias))
    tout = torch.nn.functional.conv2d(tx, tw, tb, stride=stride, padding=padding)
    tout.backward(torch.tensor(dout))
    for ours, theirs in ((out, tout.detach()), (dx, tx.grad), (dw, tw.grad), (db, tb.grad)):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-10)
