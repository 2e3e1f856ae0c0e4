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
