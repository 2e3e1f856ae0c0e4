"""conv1x1.fast, the engine room, against the loops and the plain functions, and C.fast.enabled(), under which the
layers take the engine room's functions (same results, caches each backward can read, float32 kept). The depthwise route
(on stride-phase grids): any geometry, layers small enough for one block of channels and large enough to be cut
into many, dtypes, layouts, inputs left untouched, peak memory; it computes dropped columns with a zero dout:
inf and NaN must still come out exactly where the plain route puts them. Max pooling on the same grids and
ReLU's backward by a mask: ties, -inf, NaN, dtypes, layouts, caches both ways. The plain and fast paths also
run every test marked ``both_paths`` (tests/conftest.py); ``fast.enabled()`` is tested at the end of this file."""

import contextlib
import threading
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import conv1x1 as C
from conv1x1 import fast, functional, models, reference


def _problem(rng, n, c_in, c_out, groups, k=None, h=4, w=5):
    x = rng.standard_normal((n, c_in, h, w))
    weight = rng.standard_normal((c_out, c_in // groups) + ((k, k) if k else ()))
    return x, weight, rng.standard_normal(c_out)


def test_fast_depthwise_route_is_taken_and_keeps_the_input_by_reference(rng):
    x, weight, _ = _problem(rng, 2, 8, 8, 8, 3, 6, 6)
    out, cache = fast.conv2d_forward(x, weight, None, 1, 1, 8)
    assert isinstance(cache, fast.DepthwiseCache) and cache.x is x
    dx, dw, db = fast.conv2d_backward(np.ones_like(out), cache)
    assert db is None and dw.shape == (8, 1, 3, 3) and dx.shape == x.shape


@st.composite
def depthwise_problems(draw):
    """A depthwise convolution whose output has at least one pixel: (x, w, b, stride, padding)."""
    k = draw(st.integers(1, 5))
    stride, h, w = draw(st.integers(1, 4)), draw(st.integers(1, 10)), draw(st.integers(1, 10))
    least = max(0, (k - min(h, w) + 1) // 2)    # the padded image must hold one kernel
    padding = draw(st.integers(least, min(3, max(h, w) + k)))   # and not be almost all padding
    n, c = draw(st.integers(1, 3)), draw(st.integers(2, 12))   # groups = C = 1 is a dense convolution
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    x = rng.standard_normal((n, c, h, w))
    weights = rng.standard_normal((c, 1, k, k))
    b = rng.standard_normal(c) if draw(st.booleans()) else None
    return x, weights, b, stride, padding


@settings(max_examples=120, deadline=None)
@given(problem=depthwise_problems())
def test_fast_depthwise_route_equals_the_loops_and_the_plain_gradients(problem):
    """Forward against the seven loops, backward against the plain route (itself checked against numerical
    gradients in functional/test_conv2d.py); float64, bound 1e-12 relative. Layers cut into several blocks of
    channels: the next tests."""
    x, weights, b, stride, padding = problem
    c = x.shape[1]
    out, cache = fast.conv2d_forward(x, weights, b, stride, padding, c)
    assert isinstance(cache, fast.DepthwiseCache)
    expected, _ = reference.conv2d_loops(x, weights, b, stride, padding, c)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    dout = np.random.default_rng(1).standard_normal(out.shape)
    grads = fast.conv2d_backward(dout, cache)
    plain = C.conv2d_backward(dout, C.conv2d_forward(x, weights, b, stride, padding, c)[1])
    for name, got, want in zip(("dx", "dw", "db"), grads, plain):
        if want is None:
            assert got is None, name
        else:
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("shape, stride", [((1, 64, 64, 1), 1), ((1, 40, 2, 90), 2), ((3, 24, 11, 13), 3),
                                           ((2, 45, 24, 24), 1)])
def test_fast_depthwise_route_on_thin_and_odd_images_equals_the_loops_and_the_plain_gradients(shape, stride):
    """Many channels, very unequal H and W, and blocks of several channels whose last block is smaller
    (64 channels in blocks of 3 and a last 1; 45 in blocks of 6 and a last 3): forward against the loops,
    backward against the plain route, float64, 1e-12.
    """
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape)
    c = shape[1]
    weights = rng.standard_normal((c, 1, 3, 3))
    b = rng.standard_normal(c)
    out, cache = fast.conv2d_forward(x, weights, b, stride, 1, c)
    assert isinstance(cache, fast.DepthwiseCache)
    np.testing.assert_allclose(out, reference.conv2d_loops(x, weights, b, stride, 1, c)[0], rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    plain = C.conv2d_backward(dout, C.conv2d_forward(x, weights, b, stride, 1, c)[1])
    for name, got, want in zip(("dx", "dw", "db"), fast.conv2d_backward(dout, cache), plain):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=name)


# The route works a large layer's channels a block at a time, fewer channels a block the larger the image (so
# that its buffers stay within a bound): on 7 channels of float64, from one block of all 7 on the smallest of
# these images down to blocks of one channel on the largest, through blocks of 4, 3 and 2 whose last block is
# smaller. Each channel must still meet its own weights and bias.
BLOCKED = [(1, (1, 7, 40, 40)), (1, (1, 7, 100, 100)), (1, (1, 7, 128, 128)), (1, (1, 7, 150, 150)),
           (2, (1, 7, 40, 40)), (2, (1, 7, 150, 150)), (2, (1, 7, 200, 200)), (2, (1, 7, 250, 240)),
           (3, (1, 7, 150, 150)), (3, (1, 7, 180, 170)), (3, (1, 7, 200, 200)), (3, (1, 7, 250, 240))]


@pytest.mark.parametrize("stride, shape", BLOCKED)
def test_fast_depthwise_route_on_small_and_large_images_gives_the_plain_routes_numbers(rng, stride, shape):
    """Forward and backward against the plain route (itself checked against the loops and numerical gradients),
    3x3, padding 1, float64, bound 1e-12 relative."""
    x, weights, b = rng.standard_normal(shape), rng.standard_normal((7, 1, 3, 3)), rng.standard_normal(7)
    out, cache = fast.conv2d_forward(x, weights, b, stride, 1, 7)
    assert isinstance(cache, fast.DepthwiseCache)
    p_out, p_cache = C.conv2d_forward(x, weights, b, stride, 1, 7)
    np.testing.assert_allclose(out, p_out, rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    for name, got, want in zip(("dx", "dw", "db"), fast.conv2d_backward(dout, cache),
                               C.conv2d_backward(dout, p_cache)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=name)


def _both_routes(x, weights, stride, padding, dout_fill=None):
    """Forward and backward by the fast route and by the plain one: two (out, dx, dw) triples.

    Both must warn alike (the kind of warning, not the NumPy function named in it): the fast route's
    0 * inf in a dropped column is its own business."""
    results, warned = [], []
    groups = x.shape[1] // weights.shape[1]
    for module in (fast, C):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out, cache = module.conv2d_forward(x, weights, None, stride, padding, groups)
            dout = np.ones_like(out) if dout_fill is None else dout_fill(out)
            dx, dw, _ = module.conv2d_backward(dout, cache)
        results.append((out, dx, dw))
        warned.append({(w.category, str(w.message).split(" encountered")[0]) for w in caught})
    assert warned[0] == warned[1]
    return results


@pytest.mark.parametrize("dtype, bound", [(np.float32, 1e-5), (np.float16, 1e-2)])
def test_fast_depthwise_route_keeps_the_dtype(rng, dtype, bound):
    x = rng.standard_normal((2, 4, 9, 8)).astype(dtype)
    weights = rng.standard_normal((4, 1, 3, 3)).astype(dtype)
    (out, dx, dw), (p_out, p_dx, p_dw) = _both_routes(x, weights, 2, 1)
    for got, want in ((out, p_out), (dx, p_dx), (dw, p_dw)):
        assert got.dtype == dtype
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=bound, atol=bound * 10)


def test_fast_depthwise_route_takes_any_memory_layout_and_leaves_inputs_untouched(rng):
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


ROUTES = [(1, 2, 1), (2, 2, 1)]   # (stride, C_out, C_in / groups) for x of 2 channels
ROUTE_IDS = ["depthwise/1", "depthwise/2"]


@pytest.mark.parametrize("stride, c_out, c_per_group", ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize("where", [(0, 0, 0, -1), (0, 1, 3, 0), (1, 0, -1, -1)])
def test_fast_conv2d_routes_give_the_plain_routes_inf_and_nan_for_an_inf_input(rng, stride, c_out, c_per_group, where):
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


@pytest.mark.parametrize("stride, c_out, c_per_group", ROUTES, ids=ROUTE_IDS)
def test_fast_conv2d_routes_spread_an_inf_weight_exactly_as_the_plain_route(rng, stride, c_out, c_per_group):
    """w[1, 0, 0, 2] = inf times the zero dout of a dropped column is NaN: that must not reach dx."""
    x = rng.standard_normal((1, 2, 5, 5))
    weights = rng.standard_normal((c_out, c_per_group, 3, 3))
    weights[1, 0, 0, 2] = np.inf
    for got, want in zip(*_both_routes(x, weights, stride, 1)):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(np.isinf(got), np.isinf(want))


@pytest.mark.parametrize("stride", [1, 2])
def test_fast_conv2d_routes_propagate_a_nan_gradient_as_the_plain_route(rng, stride):
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


def _forward_peak(x, weights, stride):
    import tracemalloc
    fast.conv2d_forward(x, weights, None, stride, 1, x.shape[1])    # warm up: nothing lazy in the peak
    tracemalloc.start()
    out, _ = fast.conv2d_forward(x, weights, None, stride, 1, x.shape[1])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, out.nbytes


SMALL = 1 << 20   # a small layer's buffers may take 1 MiB (fewer, larger NumPy calls); a large one's, half its output
SLACK = 128 * 1024   # the spare elements past the last grid and NumPy's iterator buffers (8,192 elements an operand)


@pytest.mark.parametrize("shape, stride", [((8, 64, 56, 56), 1), ((8, 128, 56, 56), 2)])
def test_fast_depthwise_forward_of_a_large_layer_peaks_within_twice_its_output(rng, shape, stride):
    """MobileNet-sized layers, whose half outputs (3.2 and 1.6 MB) are above a small layer's 1 MiB of buffers."""
    x = rng.standard_normal(shape).astype(np.float32)
    peak, out_bytes = _forward_peak(x, rng.standard_normal((shape[1], 1, 3, 3)).astype(np.float32), stride)
    assert peak <= 2 * out_bytes, peak / out_bytes


def test_fast_depthwise_forward_peak_memory_is_at_most_twice_its_output(rng):
    import tracemalloc
    x = rng.standard_normal((4, 64, 56, 56)).astype(np.float32)     # large enough for the half-output rule
    w = rng.standard_normal((64, 1, 3, 3)).astype(np.float32)
    tracemalloc.start()
    tracemalloc.reset_peak()
    out, _ = fast.conv2d_forward(x, w, None, 1, 1, 64)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak <= 2 * out.nbytes, peak / out.nbytes


@pytest.mark.parametrize("stride, shape", [(3, (2, 64, 48, 48)), (2, (3, 40, 30, 50)), (1, (1, 96, 20, 44))])
def test_fast_depthwise_forward_peak_stays_within_twice_the_output_at_other_strides_and_shapes(stride, shape):
    """A depthwise forward's buffers take at most half its output or 1 MiB, whichever is larger (the tests
    above check strides 1 and 2); here stride 3 and non-square images, float32, 3x3, padding 1."""
    import tracemalloc
    rng = np.random.default_rng(4)
    x = rng.standard_normal(shape).astype(np.float32)
    weights = rng.standard_normal((shape[1], 1, 3, 3)).astype(np.float32)
    fast.conv2d_forward(x, weights, None, stride, 1, shape[1])
    tracemalloc.start()
    out, _ = fast.conv2d_forward(x, weights, None, stride, 1, shape[1])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak <= out.nbytes + max(out.nbytes // 2, SMALL) + SLACK, peak / out.nbytes


@pytest.mark.parametrize("shape, stride", [((1, 240, 14, 14), 2), ((2, 64, 16, 16), 1), ((1, 1024, 7, 7), 2)])
def test_fast_depthwise_forward_of_a_small_layer_takes_at_most_small_bytes_of_buffers(rng, shape, stride):
    """Small layers' buffers take at most 1 MiB beyond their output."""
    x = rng.standard_normal(shape).astype(np.float32)
    peak, out_bytes = _forward_peak(x, rng.standard_normal((shape[1], 1, 3, 3)).astype(np.float32), stride)
    assert peak <= out_bytes + SMALL + SLACK, (peak, out_bytes)


# ---------------------------------------------------------------- max pooling on phase grids

@st.composite
def pool_problems(draw):
    """A max pooling with at least one output pixel, on values with many ties (small integers) and some -inf."""
    k = draw(st.integers(1, 4))
    stride, padding, ceil_mode = draw(st.integers(1, 4)), draw(st.integers(0, k // 2)), draw(st.booleans())
    h, w = draw(st.integers(max(1, k - 2 * padding), 9)), draw(st.integers(max(1, k - 2 * padding), 9))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    x = rng.integers(-2, 3, (draw(st.integers(1, 3)), draw(st.integers(1, 5)), h, w)).astype(np.float64)
    x[rng.random(x.shape) < draw(st.sampled_from([0.0, 0.2, 1.0]))] = -np.inf
    return x, k, stride, padding, ceil_mode


@settings(max_examples=150, deadline=None)
@given(problem=pool_problems())
def test_fast_max_pooling_equals_the_plain_one_with_ties_and_minus_inf(problem):
    """Outputs, where each maximum sits (ties: the first in row-major order; all -inf: the first real
    element), and the gradient, any geometry, ceil mode."""
    x, k, stride, padding, ceil_mode = problem
    out, cache = fast.maxpool2d_forward(x, k, stride, padding, ceil_mode)
    p_out, p_cache = C.functional.pooling.maxpool2d_forward(x, k, stride, padding, ceil_mode)
    np.testing.assert_array_equal(out, p_out)
    np.testing.assert_array_equal(cache.best, p_cache.best)
    dout = np.random.default_rng(0).standard_normal(out.shape)
    np.testing.assert_allclose(fast.maxpool2d_backward(dout, cache),
                               C.functional.pooling.maxpool2d_backward(dout, p_cache), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("k, stride, padding, shape", [
    (3, 2, 1, (1, 5, 100, 100)), (3, 2, 1, (1, 5, 150, 150)), (3, 2, 1, (1, 5, 200, 200)), (3, 2, 1, (1, 5, 250, 240)),
    (2, 2, 0, (1, 5, 150, 150)), (3, 1, 1, (1, 5, 100, 100)), (3, 1, 1, (1, 5, 150, 150))])
def test_fast_max_pooling_on_small_and_large_images_equals_the_plain_one(k, stride, padding, shape):
    """As the depthwise route, max pooling works a large layer's channels a block at a time: from all 5 channels
    at once on the smallest of these images to one channel a block on the largest. Small integers (many ties)
    and some -inf: the same outputs, maxima and gradient."""
    rng = np.random.default_rng(7)
    x = rng.integers(-3, 4, shape).astype(np.float64)
    x[rng.random(shape) < 0.1] = -np.inf
    out, cache = fast.maxpool2d_forward(x, k, stride, padding)
    p_out, p_cache = C.functional.pooling.maxpool2d_forward(x, k, stride, padding)
    np.testing.assert_array_equal(out, p_out)
    np.testing.assert_array_equal(cache.best, p_cache.best)
    dout = rng.standard_normal(out.shape)
    np.testing.assert_allclose(fast.maxpool2d_backward(dout, cache),
                               C.functional.pooling.maxpool2d_backward(dout, p_cache), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("k, stride, padding, ceil_mode", [(3, 2, 0, True), (3, 2, 1, False), (2, 2, 0, False),
                                                           (3, 1, 1, False)])
def test_fast_max_pooling_keeps_the_dtype_and_takes_the_plain_caches(rng, dtype, k, stride, padding, ceil_mode):
    """Same dtype out and back; each backward reads the other forward's cache and gives the same gradient (up to
    rounding where windows overlap: the fast backward sums in float64, then rounds once)."""
    plain = C.functional.pooling
    x = rng.standard_normal((2, 3, 11, 10)).astype(dtype)
    out, cache = fast.maxpool2d_forward(x, k, stride, padding, ceil_mode)
    p_out, p_cache = plain.maxpool2d_forward(x, k, stride, padding, ceil_mode)
    assert out.dtype == p_out.dtype == dtype
    np.testing.assert_array_equal(out, p_out)
    dout = rng.standard_normal(out.shape).astype(dtype)
    want = plain.maxpool2d_backward(dout, p_cache)
    for got in (fast.maxpool2d_backward(dout, cache), fast.maxpool2d_backward(dout, p_cache),
                plain.maxpool2d_backward(dout, cache)):
        assert got.dtype == dtype and got.shape == x.shape
        bound = k * k * np.finfo(dtype).eps * np.abs(dout).max()    # up to K*K terms, each rounding once
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=0, atol=bound)


@pytest.mark.parametrize("k", [16, 17])
def test_fast_max_pooling_of_a_16x16_window_keeps_one_byte_per_maximum_and_a_17x17_its_last_offset(k):
    """Up to 16x16 the K*K offsets fit in a byte, and ``best`` takes one (the docstring); at 17x17 the
    last offset, 288, is past a byte and must not wrap. Maxima at each window's first and last offset."""
    x = np.zeros((1, 2, 2 * k, k))
    x[0, 0, k - 1, k - 1] = x[0, 1, 0, 0] = x[0, 0, k, 0] = x[0, 1, 2 * k - 1, k - 1] = 1.0
    out, cache = fast.maxpool2d_forward(x, k)
    p_out, p_cache = C.functional.pooling.maxpool2d_forward(x, k)
    np.testing.assert_array_equal(out, p_out)
    assert cache.best[0, :, :, 0].tolist() == [[k * k - 1, 0], [0, k * k - 1]] == p_cache.best[0, :, :, 0].tolist()
    if k == 16:
        assert cache.best.dtype == np.uint8
    dout = np.array([1.0, 2.0]).reshape(1, 1, 2, 1) * np.ones((1, 2, 1, 1))
    np.testing.assert_array_equal(fast.maxpool2d_backward(dout, cache),
                                  C.functional.pooling.maxpool2d_backward(dout, p_cache))


def test_fast_max_pooling_propagates_nan_as_the_plain_one(rng):
    """A window holding NaN outputs NaN and sends its gradient to its last NaN (PyTorch's rule)."""
    x = rng.standard_normal((2, 2, 7, 7))
    x[0, 1, 2, 3] = x[0, 1, 2, 4] = x[1, 0, 0, 0] = np.nan
    out, cache = fast.maxpool2d_forward(x, 3, 2, 1)
    p_out, p_cache = C.functional.pooling.maxpool2d_forward(x, 3, 2, 1)
    np.testing.assert_array_equal(out, p_out)       # NaN where NaN
    assert np.isnan(out).sum() >= 2                 # the two NaN pixels reach at least two windows
    np.testing.assert_array_equal(cache.best, p_cache.best)
    dout = rng.standard_normal(out.shape)
    np.testing.assert_allclose(fast.maxpool2d_backward(dout, cache),
                               C.functional.pooling.maxpool2d_backward(dout, p_cache), rtol=1e-12)


def test_fast_max_pooling_takes_any_layout_and_leaves_inputs_untouched(rng):
    data = [np.asfortranarray(rng.standard_normal((2, 3, 8, 9))), rng.standard_normal((2, 6, 8, 9))[:, ::2]]
    for x in data:
        before = x.copy()
        out, cache = fast.maxpool2d_forward(x, 3, 2, 1)
        dout = rng.standard_normal(out.shape)
        dout_before = dout.copy()
        dx = fast.maxpool2d_backward(dout, cache)
        p_out, p_cache = C.functional.pooling.maxpool2d_forward(np.ascontiguousarray(x), 3, 2, 1)
        np.testing.assert_array_equal(out, p_out)
        np.testing.assert_allclose(dx, C.functional.pooling.maxpool2d_backward(dout, p_cache), rtol=1e-12)
        np.testing.assert_array_equal(x, before)
        np.testing.assert_array_equal(dout, dout_before)


# ---------------------------------------------------------------- ReLU's backward pass

SPECIAL = np.array([0.0, -0.0, 1.5, -1.5, np.inf, -np.inf, np.nan])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_fast_relu_backward_equals_the_plain_one_on_every_special_value(dtype):
    """Every pair (x, dout) of 0, -0, +-1.5, +-inf and NaN: same numbers and NaN where the plain one has NaN
    (dout passes where x is NaN; where x <= 0 the gradient is 0, even for an inf or NaN dout)."""
    x, dout = (a.astype(dtype) for a in np.meshgrid(SPECIAL, SPECIAL, indexing="ij"))
    x, dout = x.reshape(1, 1, 7, 7), dout.reshape(1, 1, 7, 7)
    want = C.functional.activations.relu_backward(dout, x)
    got = fast.relu_backward(dout, x)
    assert got.dtype == want.dtype == dtype
    np.testing.assert_array_equal(got, want)
    finite = np.isfinite(dout)
    finite[0, 0, :, SPECIAL.size - 3:] = False                      # the inf and NaN douts, swapped for 1.0
    dout = np.where(finite, dout, dtype(1.0))
    np.testing.assert_array_equal(fast.relu_backward(dout, x), C.functional.activations.relu_backward(dout, x))


def test_fast_relu_backward_takes_any_layout_and_leaves_inputs_untouched(rng):
    x = rng.standard_normal((2, 6, 5, 4))[:, ::2]                   # a strided view
    dout = np.asfortranarray(rng.standard_normal(x.shape))
    before, dout_before = x.copy(), dout.copy()
    got = fast.relu_backward(dout, x)
    np.testing.assert_array_equal(got, C.functional.activations.relu_backward(dout, x))
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(dout, dout_before)


# ---------------------------------------------------------------- C.fast.enabled(): the layers on the engine room


def _plain_functions():
    return {name: getattr(functional, name) for name in fast.FUNCTIONS}


def test_enabled_swaps_the_functional_functions_and_puts_the_plain_ones_back():
    plain = _plain_functions()
    assert plain["conv2d_forward"] is functional.conv2d.conv2d_forward
    with fast.enabled():
        for name in fast.FUNCTIONS:
            assert getattr(functional, name) is getattr(fast, name), name
        assert C.conv2d_forward is functional.conv2d.conv2d_forward      # the package's own names stay plain
    assert _plain_functions() == plain


def test_enabled_puts_the_plain_functions_back_after_an_exception():
    plain = _plain_functions()
    with pytest.raises(ZeroDivisionError), fast.enabled():
        assert functional.relu_backward is fast.relu_backward
        raise ZeroDivisionError("inside the block")
    assert _plain_functions() == plain
    layer = C.Conv2d(4, 4, 3, padding=1, groups=4, rng=0)
    layer.forward(np.ones((1, 4, 5, 5)))
    assert type(layer.cache).__name__ == "Conv2dCache"                     # a layer takes the plain path again


def test_enabled_blocks_nest_and_the_last_one_to_close_restores():
    plain = _plain_functions()
    with fast.enabled():
        with fast.enabled():
            pass
        assert functional.maxpool2d_forward is fast.maxpool2d_forward     # the outer block is still open
    assert _plain_functions() == plain


def test_enabled_is_process_wide_not_thread_local():
    """A block open in one thread sends every thread's layers down the fast path, as documented."""
    opened, release = threading.Event(), threading.Event()

    def hold():
        with fast.enabled():
            opened.set()
            release.wait(10)
    worker = threading.Thread(target=hold)
    worker.start()
    try:
        assert opened.wait(10)
        assert functional.conv2d_backward is fast.conv2d_backward
    finally:
        release.set()
        worker.join()
    assert functional.conv2d_backward is functional.conv2d.conv2d_backward


def test_layers_take_the_fast_path_only_inside_the_block(rng):
    """A depthwise layer's cache tells the route: the phase-grid route's DepthwiseCache inside, im2col outside."""
    layer = C.Conv2d(6, 6, 3, stride=2, padding=1, groups=6, rng=0)
    x = rng.standard_normal((2, 6, 9, 9))
    dout = rng.standard_normal((2, 6, 5, 5))
    out = layer.forward(x)
    dx = layer.backward(dout)
    dw = layer.grads["w"].copy()
    assert not isinstance(layer.cache, fast.DepthwiseCache)
    with fast.enabled():
        fast_out = layer.forward(x)
        assert isinstance(layer.cache, fast.DepthwiseCache)
        fast_dx = layer.backward(dout)
    np.testing.assert_allclose(fast_out, out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fast_dx, dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.grads["w"], dw, rtol=1e-12, atol=1e-12)


def test_the_fast_backward_reads_a_plain_forwards_cache_but_not_the_other_way_for_depthwise(rng):
    """Every fast backward takes the plain caches. The depthwise route's cache holds x, not the im2col matrix,
    so the plain backward refuses it with a TypeError naming the cache it expected (enabled()'s docstring)."""
    model = C.Sequential(C.Conv2d(4, 4, 3, padding=1, groups=4, rng=0), C.BatchNorm2d(4), C.ReLU(),
                         C.MaxPool2d(3, stride=2, padding=1), C.Conv2d(4, 6, 3, padding=1, rng=1))
    x = rng.standard_normal((2, 4, 8, 8))
    out = model.forward(x)
    dout = rng.standard_normal(out.shape)
    want = model.backward(dout)
    model.forward(x)
    with fast.enabled():
        got = model.backward(dout)                  # plain caches, fast backward passes
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    with fast.enabled():
        model.forward(x)
    with pytest.raises(TypeError, match="Conv2dCache"):
        model.backward(dout)


def _leaves(layer):
    if not layer.children:
        yield layer
    for child in layer.children:
        yield from _leaves(child)


NETWORKS = [
    (lambda dtype: models.mobilenet_v1(width_multiplier=0.25, num_classes=10, rng=0, dtype=dtype), 32),
    (lambda dtype: models.squeezenet1_0(num_classes=10, rng=0, dtype=dtype), 48),
    pytest.param(lambda dtype: models.resnet50(num_classes=10, rng=0, dtype=dtype), 32, marks=pytest.mark.slow),
    (lambda dtype: models.shufflenet_v1(3, width_multiplier=0.5, num_classes=10, rng=0, dtype=dtype), 32),
]
NETWORK_IDS = ["mobilenet", "squeezenet", "resnet50", "shufflenet"]


def _step(model, x, path):
    """One forward and backward on ``path``: (out, dx, {name: parameter gradient})."""
    with fast.enabled() if path == "fast" else contextlib.nullcontext():
        out = model.forward(x)
        dx = model.backward(np.linspace(-1, 1, out.size, dtype=out.dtype).reshape(out.shape))
    return out, dx, {name: grad.copy() for name, grad in model.grads.items()}


@pytest.mark.parametrize("build, size", NETWORKS, ids=NETWORK_IDS)
def test_float32_stays_float32_through_whole_networks_on_the_fast_path(rng, build, size):
    """Every layer's output and input gradient, and every parameter gradient, is float32."""
    model = build(np.float32)
    seen = []

    def recorded(method, name):
        def call(array):
            seen.append((name, method(array)))
            return seen[-1][1]
        return call
    for layer in _leaves(model):
        layer.forward, layer.backward = recorded(layer.forward, repr(layer)), recorded(layer.backward, repr(layer))
    _, _, grads = _step(model, rng.standard_normal((2, 3, size, size)).astype(np.float32), "fast")
    assert len(seen) == 2 * len(list(_leaves(model)))
    assert all(array.dtype == np.float32 for _, array in seen), [n for n, a in seen if a.dtype != np.float32]
    assert all(grad.dtype == np.float32 for grad in grads.values())


@pytest.mark.parametrize("build, size", NETWORKS, ids=NETWORK_IDS)
def test_whole_networks_give_the_same_numbers_on_both_paths(rng, build, size):
    """Output, input gradient and every parameter gradient, float64 to 1e-9 (float32 rounding is amplified
    by batch norm on these small maps, down to two values per channel at the last stage)."""
    model = build(np.float64)
    x = rng.standard_normal((2, 3, size, size))
    plain, fast_path = _step(model, x, "plain"), _step(model, x, "fast")
    for want, got in zip(plain[:2], fast_path[:2]):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * np.abs(want).max())
    largest = max(np.abs(grad).max() for grad in plain[2].values())     # some are zero up to rounding
    for name, grad in plain[2].items():
        np.testing.assert_allclose(fast_path[2][name], grad, rtol=1e-9, atol=1e-9 * largest, err_msg=name)
