"""conv1x1.functional.pooling: max, average and global average pooling against the loops, central differences,
hand-worked windows (ties, padding, -inf, NaN) and PyTorch; hand-built caches; and the inputs they refuse."""

import re

import numpy as np
import pytest

import conv1x1 as C
from conv1x1 import (
    fast,
    global_avg_pool_backward,
    global_avg_pool_forward,
    reference,
)
from conv1x1.functional.pooling import AvgPool2dCache
from conv1x1.gradcheck import numerical_gradient, rel_error
from conv1x1.reference import maxpool2d_loops

POOLS = [(2, None, 0), (3, 1, 1), (3, 2, 1), (2, 1, 0), (3, 3, 0), (1, None, 0)]


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("k, stride, padding", POOLS)
def test_maxpool2d_forward_equals_the_loop_reference(rng, k, stride, padding):
    x = rng.standard_normal((2, 3, 7, 6))
    out, _ = C.maxpool2d_forward(x, k, stride, padding)
    np.testing.assert_array_equal(out, maxpool2d_loops(x, k, stride, padding))


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("k, stride, padding", POOLS)
def test_maxpool2d_backward_matches_numerical_gradients(rng, k, stride, padding):
    """Inputs without ties (a random permutation); float64 central differences, bound 1e-7."""
    x = rng.permutation(2 * 3 * 7 * 6).reshape(2, 3, 7, 6) / 10.0
    out, cache = C.maxpool2d_forward(x, k, stride, padding)
    dout = rng.standard_normal(out.shape)
    dx = C.maxpool2d_backward(dout, cache)
    assert rel_error(dx, numerical_gradient(lambda v: C.maxpool2d_forward(v, k, stride, padding)[0],
                                            x.copy(), dout)) < 1e-7


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("k, stride, padding, ceil_mode", [(2, 2, 0, False), (3, 2, 1, False), (3, 2, 1, True),
                                                           (3, 1, 1, False), (2, 3, 1, True), (3, 3, 0, True)])
def test_maxpool2d_equals_the_loops_and_routes_dout_to_the_winner(rng, k, stride, padding, ceil_mode):
    x = rng.permutation(2 * 3 * 7 * 8).reshape(2, 3, 7, 8).astype(np.float64)  # distinct values: one winner each
    out, cache = C.maxpool2d_forward(x, k, stride, padding, ceil_mode)
    np.testing.assert_array_equal(out, reference.maxpool2d_loops(x, k, stride, padding, ceil_mode))
    dout = rng.standard_normal(out.shape)
    dx = C.maxpool2d_backward(dout, cache)
    expected = np.zeros_like(x)
    for n, c, i, j in np.ndindex(out.shape):
        ii, jj = np.argwhere(x[n, c] == out[n, c, i, j])[0]
        expected[n, c, ii, jj] += dout[n, c, i, j]
    np.testing.assert_allclose(dx, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.usefixtures("both_paths")
def test_maxpool2d_backward_sends_a_tie_to_the_first_maximum_in_row_major_order():
    """PyTorch's rule."""
    _out, cache = C.maxpool2d_forward(np.full((1, 1, 2, 2), 5.0), 2)
    dx = C.maxpool2d_backward(np.array([[[[7.0]]]]), cache)
    np.testing.assert_array_equal(dx[0, 0], [[7.0, 0.0], [0.0, 0.0]])


@pytest.mark.usefixtures("both_paths")
def test_maxpool2d_backward_adds_the_gradients_of_overlapping_windows():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 1.0  # the centre is the max of all four 2x2 windows
    out, cache = C.maxpool2d_forward(x, 2, stride=1)
    dx = C.maxpool2d_backward(np.ones_like(out), cache)
    assert dx[0, 0, 1, 1] == 4.0 and dx.sum() == 4.0


@pytest.mark.usefixtures("both_paths")
def test_maxpool2d_padding_never_wins_even_on_negative_inputs():
    """The padding is -inf, not 0, at stride 1 and 2, with the gradient."""
    x = -np.ones((1, 1, 2, 2))   # all negative: zero padding would win, -inf never does
    out, _ = C.maxpool2d_forward(x, 3, stride=1, padding=1)
    np.testing.assert_array_equal(out, x)
    x = -np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    out, cache = C.maxpool2d_forward(x, 3, 2, 1)
    np.testing.assert_array_equal(out.ravel(), [-1.0, -2.0, -4.0, -5.0])   # each window's top-left real value
    dx = C.maxpool2d_backward(np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 1, 2, 2), cache)
    np.testing.assert_array_equal(dx.ravel(), [1, 2, 0, 3, 4, 0, 0, 0, 0])


@pytest.mark.usefixtures("both_paths")
def test_maxpool2d_backward_of_an_all_minus_inf_window_goes_to_a_real_element():
    """Max pooling on special values, as PyTorch."""
    x = np.full((1, 1, 3, 3), -np.inf)
    out, cache = C.maxpool2d_forward(x, 3, 1, 1)
    dx = C.maxpool2d_backward(np.ones_like(out), cache)
    assert dx.sum() == 9 and np.all(out == -np.inf)
    # each window's gradient lands on its first real element (row-major): the top-left of the clipped window
    expected = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            expected[max(i - 1, 0), max(j - 1, 0)] += 1
    np.testing.assert_array_equal(dx[0, 0], expected)


@pytest.mark.usefixtures("both_paths")
def test_maxpool2d_takes_the_last_nan_of_a_window():
    """Max pooling on special values, as PyTorch."""
    x = np.array([[[[np.nan, 1.0], [np.nan, 2.0]]]])
    out, cache = C.maxpool2d_forward(x, 2)
    dx = C.maxpool2d_backward(np.full((1, 1, 1, 1), 5.0), cache)
    assert np.isnan(out).all()
    np.testing.assert_array_equal(dx[0, 0], [[0.0, 0.0], [5.0, 0.0]])


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_maxpool2d_keeps_the_dtype_propagates_nan_and_leaves_x_alone(rng, dtype):
    x = rng.standard_normal((1, 2, 4, 4)).astype(dtype)
    x[0, 0, 0, 0] = np.nan
    copy = x.copy()
    out, cache = C.maxpool2d_forward(x, 2)
    assert np.isnan(out[0, 0, 0, 0]) and np.isfinite(out[0, 1]).all()
    dx = C.maxpool2d_backward(np.ones_like(out), cache)
    assert out.dtype == dx.dtype == dtype
    np.testing.assert_array_equal(x, copy)


@pytest.mark.usefixtures("both_paths")
def test_maxpool2d_stride_defaults_to_the_kernel_size():
    assert C.MaxPool2d(2).stride == 2 and C.maxpool2d_forward(np.zeros((1, 1, 6, 6)), 3)[0].shape == (1, 1, 2, 2)


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("kwargs, error, match", [
    ({"kernel_size": 0}, ValueError, "kernel_size"),
    ({"kernel_size": 2, "stride": 0}, ValueError, "stride"),
    ({"kernel_size": 3, "padding": 2}, ValueError, r"at most 1 \(kernel_size // 2\)"),
    ({"kernel_size": 9}, ValueError, "larger than the padded input"),
    ({"kernel_size": 2.0}, TypeError, "kernel_size"),
])
def test_maxpool2d_forward_refuses_bad_settings(kwargs, error, match):
    with pytest.raises(error, match=match):
        C.maxpool2d_forward(np.zeros((1, 1, 4, 4)), **kwargs)


@pytest.mark.usefixtures("both_paths")
def test_maxpool2d_refuses_bad_arrays_and_a_bad_dout():
    with pytest.raises(ValueError, match=r"x must be 4-D.*x\[None\]"):
        C.maxpool2d_forward(np.zeros((1, 4, 4)), 2)
    with pytest.raises(TypeError, match="floating-point"):
        C.maxpool2d_forward(np.zeros((1, 1, 4, 4), dtype=int), 2)
    _, cache = C.maxpool2d_forward(np.zeros((1, 1, 4, 4)), 2)
    with pytest.raises(ValueError, match="dout"):
        C.maxpool2d_backward(np.zeros((1, 1, 4, 4)), cache)


@pytest.mark.usefixtures("both_paths")
def test_maxpool2d_equals_torch(torch, rng):
    x = rng.standard_normal((2, 3, 7, 6))
    out, cache = C.maxpool2d_forward(x, 3, 2, 1)
    dout = rng.standard_normal(out.shape)
    tx = torch.tensor(x, requires_grad=True)
    tout = torch.nn.functional.max_pool2d(tx, 3, 2, 1)
    tout.backward(torch.tensor(dout))
    np.testing.assert_array_equal(out, tout.detach().numpy())
    np.testing.assert_allclose(C.maxpool2d_backward(dout, cache), tx.grad.numpy(), rtol=1e-12)


TOL = {"rtol": 1e-10, "atol": 1e-10}


def _close(ours, theirs):
    np.testing.assert_allclose(ours, theirs.detach().numpy(), **TOL)


def _equals_torch(torch, rng, module, kind, x, *args, **options):
    """``module``'s max or average pooling (``kind``: "max" or "avg") of x, forward and backward for a random dout,
    against PyTorch's ``max_pool2d`` or ``avg_pool2d`` (``count_include_pad=True``, its default) with the same
    arguments; returns our output."""
    out, cache = getattr(module, f"{kind}pool2d_forward")(x, *args, **options)
    dout = rng.standard_normal(out.shape)
    tx = torch.tensor(x, requires_grad=True)
    tout = getattr(torch.nn.functional, f"{kind}_pool2d")(tx, *args, **options)
    tout.backward(torch.tensor(dout))
    _close(out, tout)
    _close(getattr(module, f"{kind}pool2d_backward")(dout, cache), tx.grad)
    return out


@pytest.mark.parametrize("size, k, stride, padding", [(111, 3, 2, 0), (55, 3, 2, 0), (14, 3, 2, 0), (112, 3, 2, 0),
                                                      (10, 3, 2, 1), (7, 2, 2, 0), (9, 4, 3, 2)])
@pytest.mark.parametrize("module", [C, fast], ids=["plain", "fast"])
def test_maxpool2d_in_ceil_mode_equals_torch(torch, rng, module, size, k, stride, padding):
    x = rng.standard_normal((2, 3, size, size + 1))
    _equals_torch(torch, rng, module, "max", x, k, stride, padding, ceil_mode=True)


AVG_POOLS = [(3, 2, 1, 7, 6), (3, 2, 1, 8, 8), (2, 2, 0, 5, 4), (3, 1, 1, 4, 5), (4, 3, 2, 9, 7), (1, 1, 0, 3, 2)]


@pytest.mark.parametrize("k, stride, padding, h, w", AVG_POOLS)
def test_avgpool2d_equals_the_loops_and_its_gradient_the_numerical_one(rng, k, stride, padding, h, w):
    """Forward against the loops (1e-12); backward against central differences in float64 (bound 1e-8: the
    average is linear, so only rounding is left)."""
    x = rng.standard_normal((2, 3, h, w))
    out, cache = C.avgpool2d_forward(x, k, stride, padding)
    np.testing.assert_allclose(out, reference.avgpool2d_loops(x, k, stride, padding), rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx = C.avgpool2d_backward(dout, cache)
    expected = numerical_gradient(lambda v: C.avgpool2d_forward(v, k, stride, padding)[0], x.copy(), dout, 1e-3)
    assert rel_error(dx, expected) < 1e-8


def test_avgpool2d_counts_the_padding_as_zeros():
    out, _ = C.avgpool2d_forward(np.ones((1, 1, 2, 2)), 3, stride=2, padding=1)
    assert out.shape == (1, 1, 1, 1) and out[0, 0, 0, 0] == pytest.approx(4 / 9)   # 4 ones in a 3x3 window


def test_avgpool2d_default_stride_is_the_kernel_and_nan_stays_in_its_windows():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    x[0, 0, 0, 0] = np.nan
    out, _ = C.avgpool2d_forward(x, 2)
    assert out.shape == (1, 1, 2, 2)
    np.testing.assert_array_equal(np.isnan(out[0, 0]), [[True, False], [False, False]])
    assert out[0, 0, 1, 1] == (10 + 11 + 14 + 15) / 4


def test_avgpool2d_sums_float16_in_float32_like_pytorch():
    """Nine values of 30,000 sum past float16's 65,504; their average does not."""
    x = np.full((1, 1, 3, 3), 30000, dtype=np.float16)
    out, _ = C.avgpool2d_forward(x, 3)
    assert out.dtype == np.float16 and out[0, 0, 0, 0] == 30000
    assert reference.avgpool2d_loops(x, 3)[0, 0, 0, 0] == 30000


def test_avgpool2d_keeps_the_dtype_and_leaves_its_input_alone(rng):
    x = rng.standard_normal((1, 2, 5, 5)).astype(np.float32)
    before = x.copy()
    out, cache = C.avgpool2d_forward(x, 3, 2, 1)
    dx = C.avgpool2d_backward(np.ones_like(out), cache)
    assert out.dtype == dx.dtype == np.float32
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("call, error, message", [
    (lambda: C.avgpool2d_forward(np.ones((1, 1, 4, 4)), 3, 1, 2), ValueError, "padding"),
    (lambda: C.avgpool2d_forward(np.ones((1, 1, 4, 4)), 0), ValueError, "kernel_size"),
    (lambda: C.avgpool2d_forward(np.ones((1, 4, 4)), 2), ValueError, "(N, C, H, W)"),
    (lambda: C.avgpool2d_forward(np.ones((1, 1, 4, 4), dtype=int), 2), TypeError, "floating"),
    (lambda: C.avgpool2d_backward(np.ones((1, 1, 3, 3)), C.avgpool2d_forward(np.ones((1, 1, 4, 4)), 2)[1]),
     ValueError, "dout"),
    (lambda: C.AvgPool2d(3, padding=2), ValueError, "padding"),
])
def test_avgpool2d_errors_name_the_argument(call, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_avgpool2d_cache_built_by_hand_gives_the_gradient_of_the_forwards_cache(rng):
    """An AvgPool2dCache holds the geometry only (the average is linear): one built by hand is supported."""
    x = rng.standard_normal((2, 3, 7, 6))
    out, cache = C.avgpool2d_forward(x, 3, 2, 1)
    dout = rng.standard_normal(out.shape)
    by_hand = AvgPool2dCache((2, 3, 7, 6), 3, 2, 1, np.dtype(np.float64))
    np.testing.assert_array_equal(C.avgpool2d_backward(dout, by_hand), C.avgpool2d_backward(dout, cache))


def test_avgpool2d_backward_refuses_a_hand_built_cache_with_a_padding_the_forward_refuses():
    """The backward checks the cache's geometry by pooling's rule (padding at most K // 2), as the forward does.
    Only a cache built by hand can hold a padding the convolution's rule takes (up to K - 1) and pooling's refuses."""
    by_hand = AvgPool2dCache((1, 1, 4, 4), 3, 1, 2, np.dtype(np.float64))
    with pytest.raises(ValueError, match=r"padding must be at most 1 \(kernel_size // 2\)"):
        C.avgpool2d_backward(np.ones((1, 1, 4, 4)), by_hand)
    with pytest.raises(ValueError, match=r"padding must be at most 1 \(kernel_size // 2\)"):
        C.avgpool2d_forward(np.ones((1, 1, 4, 4)), 3, 1, 2)


@pytest.mark.parametrize("size, k, stride, padding", [(7, 3, 2, 1), (8, 3, 2, 1), (9, 2, 2, 0), (6, 3, 1, 1),
                                                      (10, 4, 3, 2)])
def test_avgpool2d_equals_torch(torch, rng, size, k, stride, padding):
    x = rng.standard_normal((2, 3, size, size + 1))
    _equals_torch(torch, rng, C, "avg", x, k, stride, padding)


def test_global_avg_pool_forward_is_the_mean_of_each_channel(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    out, _ = global_avg_pool_forward(x)
    expected = np.array([[[[x[n, c].sum() / 20]] for c in range(3)] for n in range(2)])  # plain loops
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_global_avg_pool_backward_matches_numerical_gradients(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    out, cache = global_avg_pool_forward(x)
    dout = rng.standard_normal(out.shape)
    dx = global_avg_pool_backward(dout, cache)
    numeric = numerical_gradient(lambda v: global_avg_pool_forward(v)[0], x.copy(), dout)
    assert rel_error(dx, numeric) < 1e-7


def test_global_avg_pool_backward_spreads_dout_evenly():
    x = np.arange(24.0).reshape(1, 2, 3, 4)
    out, cache = C.global_avg_pool_forward(x)
    np.testing.assert_array_equal(out.ravel(), [5.5, 17.5])
    dx = C.global_avg_pool_backward(np.array([12.0, 24.0]).reshape(1, 2, 1, 1), cache)
    np.testing.assert_array_equal(dx[0, 0], np.ones((3, 4)))
    np.testing.assert_array_equal(dx[0, 1], np.full((3, 4), 2.0))


def test_global_avg_pool_keeps_the_dtype_leaves_x_alone_and_propagates_nan(rng):
    x = rng.standard_normal((1, 2, 3, 3)).astype(np.float32)
    x[0, 0, 1, 1] = np.nan
    copy = x.copy()
    out, cache = global_avg_pool_forward(x)
    np.testing.assert_array_equal(x, copy)
    assert out.dtype == np.float32 and np.isnan(out[0, 0, 0, 0]) and np.isfinite(out[0, 1, 0, 0])
    assert global_avg_pool_backward(np.ones_like(out), cache).dtype == np.float32


@pytest.mark.usefixtures("both_paths")
def test_maxpool_on_an_empty_batch_gives_empty_outputs():
    """A batch of 0 images gives empty outputs on both paths, not a division by zero."""
    out, cache = C.functional.maxpool2d_forward(np.zeros((0, 4, 5, 5)), 2)
    assert out.shape == (0, 4, 2, 2)
    assert C.functional.maxpool2d_backward(np.ones_like(out), cache).shape == (0, 4, 5, 5)


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("call", [
    lambda x: C.functional.maxpool2d_forward(x, 2, 1, 1),
    lambda x: C.functional.avgpool2d_forward(x, 2, 1, 1),
    lambda x: C.global_avg_pool_forward(x),
])
def test_an_input_without_pixels_is_refused_not_pooled_from_padding(call):
    """With H = 0 the windows would hold padding only, giving -inf (max) and zeros (average), and the global
    average a NaN mean with a warning."""
    with pytest.raises(ValueError, match=r"x has no pixels"):
        call(np.ones((1, 2, 0, 3)))


# ---------------------------------------------------------------- non-square windows, strides and paddings

NON_SQUARE_POOLS = [  # (kernel, stride, padding, ceil_mode)
    ((2, 3), (2, 3), (0, 1), False), ((3, 1), 1, (1, 0), False), ((1, 3), (2, 1), 0, False),
    ((3, 2), None, (1, 1), True), ((2, 4), (1, 3), (1, 2), True), (3, (2, 1), 1, False),
]


@pytest.mark.parametrize("kernel, stride, padding, ceil_mode", NON_SQUARE_POOLS)
@pytest.mark.parametrize("module", [C, fast], ids=["plain", "fast"])
def test_maxpool2d_with_non_square_settings_equals_torch(torch, rng, module, kernel, stride, padding, ceil_mode):
    """Windows, strides and paddings that differ along H and W, read as PyTorch reads them; float64, to 1e-10.
    The inputs have no ties (a permutation), so the gradient has one place to go."""
    x = rng.permutation(2 * 3 * 9 * 8).reshape(2, 3, 9, 8) / 10.0
    out = _equals_torch(torch, rng, module, "max", x, kernel, stride, padding, ceil_mode=ceil_mode)
    np.testing.assert_array_equal(out, maxpool2d_loops(x, kernel, stride, padding, ceil_mode))


@pytest.mark.parametrize("kernel, stride, padding", [pool[:3] for pool in NON_SQUARE_POOLS if not pool[3]])
def test_avgpool2d_with_non_square_settings_equals_torch_and_the_loops(torch, rng, kernel, stride, padding):
    """Average pooling divides every window by KH*KW, padding included (``count_include_pad=True``)."""
    x = rng.standard_normal((2, 3, 9, 8))
    out = _equals_torch(torch, rng, C, "avg", x, kernel, stride, padding)
    np.testing.assert_allclose(out, reference.avgpool2d_loops(x, kernel, stride, padding), rtol=1e-12, atol=1e-12)


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("kernel, stride, padding, ceil_mode", NON_SQUARE_POOLS)
def test_pooling_with_non_square_settings_matches_central_differences(rng, kernel, stride, padding, ceil_mode):
    """float64 central differences (eps = 1e-3 on inputs 0.1 apart, so no window changes its winner), bound 1e-7."""
    x = rng.permutation(2 * 9 * 8).reshape(1, 2, 9, 8) / 10.0
    out, cache = C.maxpool2d_forward(x, kernel, stride, padding, ceil_mode)
    dout = rng.standard_normal(out.shape)
    expected = numerical_gradient(lambda v: C.maxpool2d_forward(v, kernel, stride, padding, ceil_mode)[0],
                                  x.copy(), dout, 1e-3)
    assert rel_error(C.maxpool2d_backward(dout, cache), expected) < 1e-7
    if not ceil_mode:
        out, cache = C.avgpool2d_forward(x, kernel, stride, padding)
        dout = rng.standard_normal(out.shape)
        expected = numerical_gradient(lambda v: C.avgpool2d_forward(v, kernel, stride, padding)[0], x.copy(), dout,
                                      1e-3)
        assert rel_error(C.avgpool2d_backward(dout, cache), expected) < 1e-7


@pytest.mark.usefixtures("both_paths")
def test_maxpool2d_with_a_2x3_window_gives_d2ls_answer():
    """d2l.ai, "Pooling": ``nn.MaxPool2d((2, 3), stride=(2, 3), padding=(0, 1))`` on arange(16) as 4 x 4."""
    out, _ = C.maxpool2d_forward(np.arange(16.0).reshape(1, 1, 4, 4), (2, 3), stride=(2, 3), padding=(0, 1))
    np.testing.assert_array_equal(out[0, 0], [[5.0, 7.0], [13.0, 15.0]])


@pytest.mark.parametrize("call, message", [
    (lambda: C.maxpool2d_forward(np.zeros((1, 1, 6, 6)), (3, 2), padding=(1, 2)),
     "padding must be at most 1 (kernel_size // 2) for kernel_size=(3, 2), got (1, 2)"),
    (lambda: C.avgpool2d_forward(np.zeros((1, 1, 6, 6)), (2, 2, 2)),
     "kernel_size must be a positive integer or a pair (along H, along W), got (2, 2, 2) (3 values)"),
    (lambda: C.maxpool2d_forward(np.zeros((1, 1, 6, 6)), (2, 0)),
     "kernel_size[1] must be a positive integer (>= 1), got 0"),
    (lambda: C.avgpool2d_forward(np.zeros((1, 1, 6, 6)), 2, stride=(1, True)),
     "stride[1] must be a positive integer, got True"),
])
def test_pooling_refuses_bad_pairs_naming_the_argument(call, message):
    with pytest.raises((TypeError, ValueError), match=re.escape(message)):
        call()
