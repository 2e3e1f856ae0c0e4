"""conv1x1.functional.linear: the fully connected layer and Flatten against their formulas, the 1x1 convolution,
central differences and PyTorch, and the inputs they refuse."""

import numpy as np
import pytest

import conv1x1 as C
from conv1x1.gradcheck import numerical_gradient, rel_error

BOUND = 1e-7   # max relative error of a float64 central-difference check


def test_linear_forward_is_x_times_w_transposed_plus_b():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    w = np.array([[1.0, 0.0], [1.0, -1.0], [0.5, 0.5]])
    out, _ = C.linear_forward(x, w, np.array([0.0, 10.0, -1.0]))
    np.testing.assert_array_equal(out, [[1.0, 9.0, 0.5], [3.0, 9.0, 2.5]])


def test_linear_on_channels_last_pixels_is_the_1x1_convolution(rng):
    """The lesson: a Linear over the channels of every pixel computes what the 1x1 convolution computes."""
    x, w, b = rng.standard_normal((2, 5, 3, 4)), rng.standard_normal((7, 5)), rng.standard_normal(7)
    rows = x.transpose(0, 2, 3, 1).reshape(-1, 5)
    out, _ = C.linear_forward(rows, w, b)
    np.testing.assert_allclose(out.reshape(2, 3, 4, 7).transpose(0, 3, 1, 2), C.conv1x1(x, w, b), rtol=1e-13,
                               atol=1e-13)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_backward_matches_numerical_gradients(rng, bias):
    """Central differences in float64; bound: relative error < 1e-7."""
    x, w = rng.standard_normal((4, 6)), rng.standard_normal((3, 6))
    b = rng.standard_normal(3) if bias else None
    out, cache = C.linear_forward(x, w, b)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = C.linear_backward(dout, cache)
    assert rel_error(dx, numerical_gradient(lambda v: C.linear_forward(v, w, b)[0], x.copy(), dout)) < BOUND
    assert rel_error(dw, numerical_gradient(lambda v: C.linear_forward(x, v, b)[0], w.copy(), dout)) < BOUND
    if bias:
        assert rel_error(db, numerical_gradient(lambda v: C.linear_forward(x, w, v)[0], b.copy(), dout)) < BOUND
    else:
        assert db is None


def test_linear_and_flatten_equal_pytorch(torch, rng):
    x, w, b = rng.standard_normal((3, 4, 2, 2)), rng.standard_normal((5, 16)), rng.standard_normal(5)
    flat, flat_cache = C.flatten_forward(x)
    out, cache = C.linear_forward(flat, w, b)
    tx = torch.tensor(x, requires_grad=True)
    tw, tb = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    tout = torch.nn.functional.linear(torch.flatten(tx, 1), tw, tb)
    dout = rng.standard_normal(out.shape)
    tout.backward(torch.tensor(dout))
    dflat, dw, db = C.linear_backward(dout, cache)
    dx = C.flatten_backward(dflat, flat_cache)
    for ours, theirs in ((out, tout), (dx, tx.grad), (dw, tw.grad), (db, tb.grad)):
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=0, atol=1e-12)


def test_linear_refuses_images_and_mismatched_weights_saying_what_to_do():
    with pytest.raises(ValueError, match=r"x must be 2-D \(N, F\), got shape \(2, 3, 1, 1\).*flatten_forward"):
        C.linear_forward(np.zeros((2, 3, 1, 1)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"w expects 5 features per row but x has 3"):
        C.linear_forward(np.zeros((2, 3)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"b must have shape \(4,\)"):
        C.linear_forward(np.zeros((2, 3)), np.zeros((4, 3)), np.zeros(3))
    with pytest.raises(TypeError, match="floating-point"):
        C.linear_forward(np.zeros((2, 3), dtype=int), np.zeros((4, 3)))


def test_flatten_round_trip_and_refusals():
    x = np.arange(24.0).reshape(2, 3, 2, 2)
    out, cache = C.flatten_forward(x)
    assert out.shape == (2, 12) and np.array_equal(out[1], np.arange(12.0, 24.0))
    assert np.array_equal(C.flatten_backward(out, cache), x)
    with pytest.raises(ValueError, match=r"batch axis"):
        C.flatten_forward(np.zeros(3))
    with pytest.raises(ValueError, match=r"\(2, 12\), got \(2, 11\)"):
        C.flatten_backward(np.zeros((2, 11)), cache)
