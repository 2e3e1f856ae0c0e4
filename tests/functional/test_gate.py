"""conv1x1.functional.gate: the squeeze-and-excitation channel gate against its formula, central differences
for both inputs and PyTorch, and the gate shapes it refuses."""

import numpy as np
import pytest

import conv1x1 as C
from conv1x1.gradcheck import numerical_gradient, rel_error


def test_channel_gate_scales_each_channel_of_each_image_by_its_own_number(rng):
    x, s = rng.standard_normal((2, 3, 4, 5)), rng.uniform(size=(2, 3))
    out, _ = C.channel_gate_forward(x, s)
    for n in range(2):
        for c in range(3):
            np.testing.assert_array_equal(out[n, c], x[n, c] * s[n, c])
    np.testing.assert_array_equal(C.channel_gate_forward(x, s[:, :, None, None])[0], out)   # SE's (N, C, 1, 1)


def test_channel_gate_backward_matches_numerical_gradients_for_x_and_s(rng):
    """Central differences in float64; bound: relative error < 1e-7."""
    x, s = rng.standard_normal((2, 3, 4, 5)), rng.uniform(size=(2, 3))
    out, cache = C.channel_gate_forward(x, s)
    dout = rng.standard_normal(out.shape)
    dx, ds = C.channel_gate_backward(dout, cache)
    assert rel_error(dx, numerical_gradient(lambda v: C.channel_gate_forward(v, s)[0], x.copy(), dout)) < 1e-7
    assert rel_error(ds, numerical_gradient(lambda v: C.channel_gate_forward(x, v)[0], s.copy(), dout)) < 1e-7


def test_channel_gate_equals_pytorch(torch, rng):
    x, s = rng.standard_normal((2, 3, 4, 5)), rng.uniform(size=(2, 3))
    out, cache = C.channel_gate_forward(x, s)
    tx, ts = torch.tensor(x, requires_grad=True), torch.tensor(s, requires_grad=True)
    tout = tx * ts[:, :, None, None]
    dout = rng.standard_normal(out.shape)
    tout.backward(torch.tensor(dout))
    dx, ds = C.channel_gate_backward(dout, cache)
    for ours, theirs in ((out, tout), (dx, tx.grad), (ds, ts.grad)):
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=0, atol=1e-12)


def test_channel_gate_refuses_a_gate_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"s must have shape \(2, 3\), one gate per image and channel"):
        C.channel_gate_forward(np.zeros((2, 3, 4, 4)), np.zeros((3,)))
