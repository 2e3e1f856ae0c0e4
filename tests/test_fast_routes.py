"""The engine room's convolution routes against the loops and the plain route. The depthwise route
(``fast._depthwise_forward``, on stride-phase grids): any geometry, any block size, dtypes, layouts,
inputs left untouched. Both it and the shifted KxK route compute dropped columns with a zero dout:
inf and NaN must still come out exactly where the plain route puts them."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import conv1x1 as C
from conv1x1 import fast, reference


@st.composite
def depthwise_problems(draw):
    """A depthwise convolution whose output has at least one pixel: (x, w, b, stride, padding)."""
    k = draw(st.integers(1, 5))
    stride, h, w = draw(st.integers(1, 4)), draw(st.integers(1, 10)), draw(st.integers(1, 10))
    least = max(0, (k - min(h, w) + 1) // 2)    # the padded image must hold one kernel
    padding = draw(st.integers(least, min(3, max(h, w) + k)))   # and not be almost all padding
    n, c = draw(st.integers(1, 3)), draw(st.integers(2, 5))   # groups = C = 1 is a dense convolution
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    x = rng.standard_normal((n, c, h, w))
    weights = rng.standard_normal((c, 1, k, k))
    b = rng.standard_normal(c) if draw(st.booleans()) else None
    return x, weights, b, stride, padding


@pytest.mark.parametrize("block_bytes", [1, fast._BLOCK_BYTES], ids=["one-channel blocks", "default blocks"])
@settings(max_examples=60, deadline=None)
@given(problem=depthwise_problems())
def test_depthwise_route_equals_the_loops_and_the_plain_gradients(block_bytes, problem):
    """Forward against the seven loops, backward against the plain route (itself checked against numerical
    gradients in test_grouped.py); float64, bound 1e-12 relative."""
    x, weights, b, stride, padding = problem
    c = x.shape[1]
    original = fast._BLOCK_BYTES
    fast._BLOCK_BYTES = block_bytes
    try:
        out, cache = fast.conv2d_forward(x, weights, b, stride, padding, c)
        assert isinstance(cache, fast.DepthwiseCache)
        expected, _ = reference.conv2d_loops(x, weights, b, stride, padding, c)
        np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
        dout = np.random.default_rng(1).standard_normal(out.shape)
        grads = fast.conv2d_backward(dout, cache)
    finally:
        fast._BLOCK_BYTES = original
    plain = C.conv2d_backward(dout, C.conv2d_forward(x, weights, b, stride, padding, c)[1])
    for name, got, want in zip(("dx", "dw", "db"), grads, plain):
        if want is None:
            assert got is None, name
        else:
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=name)


ROUTES = [(1, 2, 1), (2, 2, 1), (1, 3, 2), (1, 4, 1)]   # (stride, C_out, C_in / groups) for x of 2 channels
ROUTE_IDS = ["depthwise/1", "depthwise/2", "shifted", "shifted-grouped"]


def _both_routes(x, weights, stride, padding, dout_fill=None):
    """Forward and backward by the fast route and by the plain one: two (out, dx, dw) triples."""
    results = []
    groups = x.shape[1] // weights.shape[1]
    for module in (fast, C):
        out, cache = module.conv2d_forward(x, weights, None, stride, padding, groups)
        dout = np.ones_like(out) if dout_fill is None else dout_fill(out)
        dx, dw, _ = module.conv2d_backward(dout, cache)
        results.append((out, dx, dw))
    return results


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("stride, c_out, c_per_group", ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize("where", [(0, 0, 0, -1), (0, 1, 3, 0), (1, 0, -1, -1)])
def test_inf_in_the_input_gives_the_plain_routes_inf_and_nan(rng, stride, c_out, c_per_group, where):
    """The grids' dropped columns hold real input pixels; their dout is 0, and 0 * inf is NaN. An inf there
    must not leak into a kernel offset that never reads it: the route falls back to the plain gradients."""
    x = rng.standard_normal((2, 2, 6, 7))
    x[where] = np.inf
    weights = rng.standard_normal((c_out, c_per_group, 3, 3))
    (out, dx, dw), (p_out, p_dx, p_dw) = _both_routes(x, weights, stride, 1)
    for got, want in ((out, p_out), (dx, p_dx), (dw, p_dw)):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
        finite = np.isfinite(want)
        np.testing.assert_allclose(got[finite], want[finite], rtol=1e-12, atol=1e-12)
    assert np.isfinite(dw).sum() > 0        # some kernel offsets never read the inf, and stay finite


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("stride, c_out, c_per_group", ROUTES, ids=ROUTE_IDS)
def test_an_inf_weight_spreads_exactly_as_on_the_plain_route(rng, stride, c_out, c_per_group):
    """w[1, 0, 0, 2] = inf times the zero dout of a dropped column is NaN: that must not reach dx."""
    x = rng.standard_normal((1, 2, 5, 5))
    weights = rng.standard_normal((c_out, c_per_group, 3, 3))
    weights[1, 0, 0, 2] = np.inf
    for got, want in zip(*_both_routes(x, weights, stride, 1)):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(np.isinf(got), np.isinf(want))


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("stride", [1, 2])
def test_a_nan_gradient_propagates_as_on_the_plain_route(rng, stride):
    x = rng.standard_normal((1, 3, 5, 5))
    weights = rng.standard_normal((3, 1, 3, 3))

    def nan_dout(out):
        dout = np.ones_like(out)
        dout[0, 2, 0, 0] = np.nan
        return dout
    for got, want in zip(*_both_routes(x, weights, stride, 1, nan_dout)):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        finite = ~np.isnan(want)
        np.testing.assert_allclose(got[finite], want[finite], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype, bound", [(np.float32, 1e-5), (np.float16, 1e-2)])
def test_depthwise_route_keeps_the_dtype(rng, dtype, bound):
    x = rng.standard_normal((2, 4, 9, 8)).astype(dtype)
    weights = rng.standard_normal((4, 1, 3, 3)).astype(dtype)
    (out, dx, dw), (p_out, p_dx, p_dw) = _both_routes(x, weights, 2, 1)
    for got, want in ((out, p_out), (dx, p_dx), (dw, p_dw)):
        assert got.dtype == dtype
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=bound, atol=bound * 10)


def test_depthwise_route_takes_any_memory_layout_and_leaves_inputs_untouched(rng):
    x = np.asfortranarray(rng.standard_normal((2, 3, 7, 6)))        # neither C-contiguous nor a copy of one
    x_view = rng.standard_normal((2, 6, 7, 6))[:, ::2]               # a strided view
    weights = rng.standard_normal((3, 1, 3, 3))
    for data in (x, x_view):
        before, w_before = data.copy(), weights.copy()
        out, cache = fast.conv2d_forward(data, weights, None, 2, 1, 3)
        dout = rng.standard_normal(out.shape)
        dout_before = dout.copy()
        dx, dw, _ = fast.conv2d_backward(dout, cache)
        expected, _ = reference.conv2d_loops(np.ascontiguousarray(data), weights, None, 2, 1, 3)
        np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
        plain = C.conv2d_backward(dout, C.conv2d_forward(data, weights, None, 2, 1, 3)[1])
        np.testing.assert_allclose(dx, plain[0], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(dw, plain[1], rtol=1e-12, atol=1e-12)
        for array, copy in ((data, before), (weights, w_before), (dout, dout_before)):
            np.testing.assert_array_equal(array, copy)


@pytest.mark.parametrize("stride", [1, 2])
def test_depthwise_forward_blocks_keep_its_peak_within_twice_the_output(rng, stride):
    """The rule in ``_PhaseGrids.blocks``: the forward's buffers stay within half the output."""
    import tracemalloc
    x = rng.standard_normal((2, 64, 32, 32)).astype(np.float32)
    weights = rng.standard_normal((64, 1, 3, 3)).astype(np.float32)
    fast.conv2d_forward(x, weights, None, stride, 1, 64)            # warm up: nothing lazy in the peak
    tracemalloc.start()
    out, _ = fast.conv2d_forward(x, weights, None, stride, 1, 64)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak <= 2 * out.nbytes, peak / out.nbytes
