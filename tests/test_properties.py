"""Property tests: the reference ladder, linearity and the dense-layer view, on random shapes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import conv1x1 as C
from conv1x1 import reference

pytestmark = pytest.mark.usefixtures("both_paths")  # plain and conv1x1.fast: same results

dims = st.tuples(
    st.integers(0, 3),   # N (0 included)
    st.integers(1, 5),   # C_in
    st.integers(1, 5),   # C_out
    st.integers(1, 5),   # H
    st.integers(1, 5),   # W
)
dtypes = st.sampled_from([np.float32, np.float64])
TOL = {np.float32: 1e-5, np.float64: 1e-12}


def _problem(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    n, c_in, c_out, h, w = shape
    return (rng.standard_normal((n, c_in, h, w)).astype(dtype),
            rng.standard_normal((c_out, c_in)).astype(dtype),
            rng.standard_normal(c_out).astype(dtype))


@settings(max_examples=60, deadline=None)
@given(dims, dtypes, st.booleans(), st.integers(0, 2**32 - 1))
def test_every_reference_rung_equals_the_fast_path(shape, dtype, use_bias, seed):
    x, w, b = _problem(shape, dtype, seed)
    b = b if use_bias else None
    fast = C.conv1x1(x, w, b)
    assert fast.dtype == dtype
    for rung in (reference.conv1x1_loops, reference.conv1x1_einsum, reference.conv1x1_as_dense):
        slow = rung(x, w, b)
        assert slow.shape == fast.shape and slow.dtype == dtype
        np.testing.assert_allclose(slow, fast, rtol=TOL[dtype], atol=TOL[dtype])


@settings(max_examples=40, deadline=None)
@given(dims, st.floats(-3, 3), st.floats(-3, 3), st.integers(0, 2**32 - 1))
def test_linear_in_x_and_in_w(shape, alpha, beta, seed):
    x1, w1, _ = _problem(shape, np.float64, seed)
    x2, w2, _ = _problem(shape, np.float64, seed + 1)
    np.testing.assert_allclose(C.conv1x1(alpha * x1 + beta * x2, w1),
                               alpha * C.conv1x1(x1, w1) + beta * C.conv1x1(x2, w1), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(C.conv1x1(x1, alpha * w1 + beta * w2),
                               alpha * C.conv1x1(x1, w1) + beta * C.conv1x1(x1, w2), rtol=1e-9, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(dims, st.integers(0, 2**32 - 1))
def test_each_output_pixel_is_a_dense_layer_of_that_pixel(shape, seed):
    x, w, b = _problem(shape, np.float64, seed)
    out = C.conv1x1(x, w, b)
    for n, h, col in np.ndindex(x.shape[0], x.shape[2], x.shape[3]):
        pixel = x[n, :, h, col]                   # the channel vector at one pixel
        np.testing.assert_allclose(out[n, :, h, col], w @ pixel + b, rtol=1e-12, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(dims, st.booleans(), st.integers(0, 2**32 - 1))
def test_backward_equals_einsum_gradients(shape, use_bias, seed):
    x, w, b = _problem(shape, np.float64, seed)
    out, cache = C.conv1x1_forward(x, w, b if use_bias else None)
    dout = np.random.default_rng(seed).standard_normal(out.shape)
    dx, dw, db = C.conv1x1_backward(dout, cache)
    np.testing.assert_allclose(dx, np.einsum("oc,nohw->nchw", w, dout), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, np.einsum("nohw,nchw->oc", dout, x), rtol=1e-12, atol=1e-12)
    if use_bias:
        np.testing.assert_allclose(db, dout.sum((0, 2, 3)), rtol=1e-12, atol=1e-12)
