"""The strided 1x1 convolution (ResNet's projection shortcut): x[:, :, ::s, ::s], then the per-pixel product."""

import numpy as np
import pytest

import conv1x1 as C
from conv1x1.functional.pointwise import Conv1x1Cache
from conv1x1.gradcheck import numerical_gradient, rel_error


def _loops(x, w, b, stride):
    """out[n, o, i, j] = sum_c w[o, c] * x[n, c, i*s, j*s] + b[o], written as loops over the output pixels."""
    n, _, height, width = x.shape
    rows, cols = range(0, height, stride), range(0, width, stride)
    out = np.zeros((n, w.shape[0], len(rows), len(cols)))
    for i, h in enumerate(rows):
        for j, v in enumerate(cols):
            out[:, :, i, j] = x[:, :, h, v] @ w.T + b
    return out


@pytest.mark.parametrize("stride, size", [(1, 5), (2, 7), (2, 8), (3, 7), (4, 3)])
def test_conv1x1_forward_with_a_stride_equals_loops_over_every_sth_pixel(rng, stride, size):
    x, w, b = rng.standard_normal((2, 4, size, size + 1)), rng.standard_normal((3, 4)), rng.standard_normal(3)
    out, _ = C.conv1x1_forward(x, w, b, stride=stride)
    expected = _loops(x, w, b, stride)
    assert out.shape == expected.shape == (2, 3, -(-size // stride), -(-(size + 1) // stride))
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_conv1x1_forward_with_a_stride_equals_conv2d_with_a_1x1_kernel(rng):
    x, w, b = rng.standard_normal((2, 6, 9, 9)), rng.standard_normal((4, 3)), rng.standard_normal(4)
    out, _ = C.conv1x1_forward(x, w, b, groups=2, stride=2)
    direct, _ = C.conv2d_forward(x, w[:, :, None, None], b, stride=2, groups=2)
    np.testing.assert_allclose(out, direct, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("groups", [1, 2])
def test_conv1x1_backward_with_a_stride_matches_central_differences(rng, groups):
    """float64, central differences with eps = 1e-6: relative error below 1e-7."""
    x, w, b = rng.standard_normal((2, 4, 5, 6)), rng.standard_normal((6, 4 // groups)), rng.standard_normal(6)
    out, cache = C.conv1x1_forward(x, w, b, groups=groups, stride=2)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = C.conv1x1_backward(dout, cache)
    for value, analytic, f in [
        (x, dx, lambda v: C.conv1x1_forward(v, w, b, groups=groups, stride=2)[0]),
        (w, dw, lambda v: C.conv1x1_forward(x, v, b, groups=groups, stride=2)[0]),
        (b, db, lambda v: C.conv1x1_forward(x, w, v, groups=groups, stride=2)[0]),
    ]:
        assert rel_error(analytic, numerical_gradient(f, value.copy(), dout, eps=1e-6)) < 1e-7


def test_conv1x1_backward_with_a_stride_is_zero_at_the_pixels_never_seen(rng):
    x, w = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((3, 2))
    out, cache = C.conv1x1_forward(x, w, stride=2)
    dx, _, db = C.conv1x1_backward(rng.standard_normal(out.shape), cache)
    seen = np.zeros(x.shape, dtype=bool)
    seen[:, :, ::2, ::2] = True
    assert dx.shape == x.shape and db is None
    assert np.all(dx[~seen] == 0) and np.all(dx[seen] != 0)


def test_conv1x1_forward_with_a_stride_leaves_its_inputs_alone(rng):
    x, w, b = rng.standard_normal((1, 2, 6, 6)), rng.standard_normal((3, 2)), rng.standard_normal(3)
    copies = [a.copy() for a in (x, w, b)]
    out, cache = C.conv1x1_forward(x, w, b, stride=3)
    C.conv1x1_backward(np.ones_like(out), cache)
    for array, copy in zip((x, w, b), copies):
        np.testing.assert_array_equal(array, copy)


@pytest.mark.parametrize("stride", [0, -1, 1.5, True, "2"])
def test_conv1x1_forward_refuses_a_stride_that_is_not_a_positive_int(stride):
    with pytest.raises((TypeError, ValueError), match="stride"):
        C.conv1x1_forward(np.ones((1, 2, 4, 4)), np.ones((3, 2)), stride=stride)


def test_conv1x1_cache_built_by_hand_means_one_group_and_stride_one(rng):
    """A Conv1x1Cache without groups or stride is supported: both default to 1."""
    x, w = rng.standard_normal((2, 3, 4, 4)), rng.standard_normal((5, 3))
    out, cache = C.conv1x1_forward(x, w, np.zeros(5))
    dout = rng.standard_normal(out.shape)
    by_hand = C.conv1x1_backward(dout, Conv1x1Cache(x, w, True))
    for got, expected in zip(by_hand, C.conv1x1_backward(dout, cache)):
        np.testing.assert_array_equal(got, expected)


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


def test_conv1x1_with_a_stride_equals_torch(rng):
    torch = pytest.importorskip("torch")
    x, w, b = rng.standard_normal((2, 6, 9, 8)), rng.standard_normal((4, 3)), rng.standard_normal(4)
    out, cache = C.conv1x1_forward(x, w, b, groups=2, stride=2)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w[:, :, None, None], b))
    tout = torch.nn.functional.conv2d(tx, tw, tb, stride=2, groups=2)
    dout = rng.standard_normal(out.shape)
    tout.backward(torch.tensor(dout))
    dx, dw, db = C.conv1x1_backward(dout, cache)
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    for ours, theirs in ((dx, tx.grad), (dw, tw.grad[:, :, 0, 0]), (db, tb.grad)):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12, atol=1e-12)
