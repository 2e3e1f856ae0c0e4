"""conv1x1.functional.pointwise: the 1x1 convolution's forward and backward, plain and strided, grouped, against
its definition, the reference loops, central differences and PyTorch, and every bad input it refuses."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import conv1x1 as C
from conv1x1 import fast, reference
from conv1x1.functional.pointwise import Conv1x1Cache
from conv1x1.gradcheck import numerical_gradient, rel_error

SHAPES = [  # (N, C_in, C_out, H, W): C_in != C_out, H != W, N = 1, H = W = 1
    (2, 3, 5, 4, 6),
    (1, 6, 2, 3, 3),
    (3, 4, 4, 1, 1),
    (1, 1, 3, 2, 5),
]


def _random_problem(rng, shape, dtype=np.float64):
    n, c_in, c_out, h, w = shape
    x = rng.standard_normal((n, c_in, h, w)).astype(dtype)
    weights = rng.standard_normal((c_out, c_in)).astype(dtype)
    bias = rng.standard_normal(c_out).astype(dtype)
    return x, weights, bias


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("use_bias", [True, False])
def test_conv1x1_forward_equals_the_einsum_definition(rng, shape, use_bias):
    x, w, b = _random_problem(rng, shape)
    b = b if use_bias else None
    out, _ = C.conv1x1_forward(x, w, b)
    expected = np.einsum("oc,nchw->nohw", w, x)
    if use_bias:
        expected = expected + b[None, :, None, None]
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.usefixtures("both_paths")
def test_conv1x1_forward_on_a_hand_computed_pixel():
    # Two channels at one pixel, (1, 2) and two filters: [1, 1] (sum) and [2, -1].
    x = np.array([1.0, 2.0]).reshape(1, 2, 1, 1)
    w = np.array([[1.0, 1.0], [2.0, -1.0]])
    b = np.array([0.5, -0.5])
    out, _ = C.conv1x1_forward(x, w, b)
    assert out.ravel().tolist() == [1 + 2 + 0.5, 2 - 2 - 0.5]


@pytest.mark.usefixtures("both_paths")
def test_conv1x1_is_the_forward_without_cache(rng):
    x, w, b = _random_problem(rng, (2, 3, 4, 2, 2))
    np.testing.assert_array_equal(C.conv1x1(x, w, b), C.conv1x1_forward(x, w, b)[0])


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("groups", [1, 2])
def test_conv1x1_with_a_bias_equals_the_loops(rng, groups):
    x = rng.standard_normal((2, 4, 3, 2))
    w = rng.standard_normal((6, 4 // groups))
    b = rng.standard_normal(6)
    np.testing.assert_allclose(C.conv1x1(x, w, b, groups), reference.conv1x1_loops(x, w, b, groups), rtol=1e-12,
                               atol=1e-12)


dims = st.tuples(
    st.integers(0, 3),   # N (0 included)
    st.integers(1, 5),   # C_in
    st.integers(1, 5),   # C_out
    st.integers(1, 5),   # H
    st.integers(1, 5),   # W
)


def _problem(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    n, c_in, c_out, h, w = shape
    return (rng.standard_normal((n, c_in, h, w)).astype(dtype),
            rng.standard_normal((c_out, c_in)).astype(dtype),
            rng.standard_normal(c_out).astype(dtype))


@pytest.mark.usefixtures("both_paths")
@settings(max_examples=40, deadline=None)
@given(dims, st.floats(-3, 3), st.floats(-3, 3), st.integers(0, 2**32 - 1))
def test_conv1x1_is_linear_in_x_and_in_w(shape, alpha, beta, seed):
    x1, w1, _ = _problem(shape, np.float64, seed)
    x2, w2, _ = _problem(shape, np.float64, seed + 1)
    np.testing.assert_allclose(C.conv1x1(alpha * x1 + beta * x2, w1),
                               alpha * C.conv1x1(x1, w1) + beta * C.conv1x1(x2, w1), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(C.conv1x1(x1, alpha * w1 + beta * w2),
                               alpha * C.conv1x1(x1, w1) + beta * C.conv1x1(x1, w2), rtol=1e-9, atol=1e-9)


@pytest.mark.usefixtures("both_paths")
@settings(max_examples=40, deadline=None)
@given(dims, st.integers(0, 2**32 - 1))
def test_conv1x1_output_pixel_is_a_dense_layer_of_that_pixel(shape, seed):
    x, w, b = _problem(shape, np.float64, seed)
    out = C.conv1x1(x, w, b)
    for n, h, col in np.ndindex(x.shape[0], x.shape[2], x.shape[3]):
        pixel = x[n, :, h, col]                   # the channel vector at one pixel
        np.testing.assert_allclose(out[n, :, h, col], w @ pixel + b, rtol=1e-12, atol=1e-12)


@pytest.mark.usefixtures("both_paths")
def test_conv1x1_depth_reduction_keeps_height_and_width(rng):
    x = rng.standard_normal((1, 192, 28, 28))
    out = C.conv1x1(x, rng.standard_normal((32, 192)))
    assert out.shape == (1, 32, 28, 28)


@pytest.mark.usefixtures("both_paths")
def test_conv1x1_accepts_python_lists():
    out = C.conv1x1([[[[1.0]], [[2.0]]]], [[1.0, 1.0]], [0.5])
    assert out.shape == (1, 1, 1, 1) and out.item() == 3.5


@pytest.mark.usefixtures("both_paths")
def test_conv1x1_on_an_empty_batch_gives_empty_outputs_and_zero_gradients(rng):
    x = np.zeros((0, 3, 4, 4))
    w = rng.standard_normal((2, 3))
    out, cache = C.conv1x1_forward(x, w, np.zeros(2))
    assert out.shape == (0, 2, 4, 4)
    dx, dw, db = C.conv1x1_backward(out, cache)
    assert dx.shape == (0, 3, 4, 4)
    np.testing.assert_array_equal(dw, np.zeros((2, 3)))
    np.testing.assert_array_equal(db, np.zeros(2))


@pytest.mark.usefixtures("both_paths")
def test_conv1x1_propagates_nan_without_a_crash(rng):
    x = rng.standard_normal((1, 3, 2, 2))
    x[0, 1, 0, 1] = np.nan
    w = rng.standard_normal((2, 3))
    out, cache = C.conv1x1_forward(x, w)
    assert np.isnan(out[0, :, 0, 1]).all()
    assert np.isfinite(out[0, :, 0, 0]).all()
    dx, dw, _ = C.conv1x1_backward(np.ones_like(out), cache)
    assert np.isnan(dw).any() and np.isfinite(dx).all()


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("use_bias", [True, False])
def test_conv1x1_backward_matches_numerical_gradients(rng, shape, use_bias):
    """Central differences in float64; bound: relative error < 1e-7."""
    x, w, b = _random_problem(rng, shape)
    b = b if use_bias else None
    out, cache = C.conv1x1_forward(x, w, b)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = C.conv1x1_backward(dout, cache)

    assert rel_error(dx, numerical_gradient(lambda v: C.conv1x1(v, w, b), x.copy(), dout)) < 1e-7
    assert rel_error(dw, numerical_gradient(lambda v: C.conv1x1(x, v, b), w.copy(), dout)) < 1e-7
    if use_bias:
        assert rel_error(db, numerical_gradient(lambda v: C.conv1x1(x, w, v), b.copy(), dout)) < 1e-7
    else:
        assert db is None


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("shape", SHAPES)
def test_conv1x1_backward_equals_the_einsum_formulas(rng, shape):
    x, w, b = _random_problem(rng, shape)
    out, cache = C.conv1x1_forward(x, w, b)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = C.conv1x1_backward(dout, cache)
    np.testing.assert_allclose(dx, np.einsum("oc,nohw->nchw", w, dout), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, np.einsum("nohw,nchw->oc", dout, x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db, dout.sum((0, 2, 3)), rtol=1e-12, atol=1e-12)


@pytest.mark.usefixtures("both_paths")
@settings(max_examples=30, deadline=None)
@given(dims, st.booleans(), st.integers(0, 2**32 - 1))
def test_conv1x1_backward_equals_the_einsum_formulas_on_random_shapes(shape, use_bias, seed):
    x, w, b = _problem(shape, np.float64, seed)
    out, cache = C.conv1x1_forward(x, w, b if use_bias else None)
    dout = np.random.default_rng(seed).standard_normal(out.shape)
    dx, dw, db = C.conv1x1_backward(dout, cache)
    np.testing.assert_allclose(dx, np.einsum("oc,nohw->nchw", w, dout), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, np.einsum("nohw,nchw->oc", dout, x), rtol=1e-12, atol=1e-12)
    if use_bias:
        np.testing.assert_allclose(db, dout.sum((0, 2, 3)), rtol=1e-12, atol=1e-12)


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("use_bias", [True, False])
def test_conv1x1_keeps_the_dtype_forward_and_backward(rng, dtype, use_bias):
    x, w, b = _random_problem(rng, (2, 3, 4, 5, 6), dtype)
    out, cache = C.conv1x1_forward(x, w, b if use_bias else None)
    dx, dw, db = C.conv1x1_backward(np.ones_like(out), cache)
    assert out.dtype == dx.dtype == dw.dtype == dtype
    if use_bias:
        assert db.dtype == dtype


@pytest.mark.parametrize("b_dtype, out_dtype", [(np.float64, np.float64), (np.float32, np.float32)])
def test_conv1x1_forward_bias_takes_part_in_dtype_promotion(b_dtype, out_dtype):
    # NumPy promotion: float32 with float64 gives float64
    x, w = np.ones((1, 3, 2, 2), np.float32), np.ones((2, 3), np.float32)
    out, _ = C.conv1x1_forward(x, w, np.zeros(2, b_dtype))
    assert out.dtype == out_dtype


@pytest.mark.usefixtures("both_paths")
def test_conv1x1_never_modifies_its_inputs(rng):
    x, w, b = _random_problem(rng, (2, 3, 4, 5, 6))
    copies = [a.copy() for a in (x, w, b)]
    out, cache = C.conv1x1_forward(x, w, b)
    dout = rng.standard_normal(out.shape)
    dout_copy = dout.copy()
    C.conv1x1_backward(dout, cache)
    for original, copy in zip((x, w, b, dout), copies + [dout_copy]):
        np.testing.assert_array_equal(original, copy)


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("view", [
    lambda a: a.transpose(0, 1, 3, 2),          # swapped H and W
    lambda a: a[:, :, ::2, 1:],                  # strided slice
    lambda a: a[::-1, ::-1, ::-1, ::-1],         # reversed everything
    lambda a: np.asfortranarray(a),              # Fortran order
])
def test_conv1x1_on_non_contiguous_views_gives_the_same_result(rng, view):
    x = rng.standard_normal((3, 4, 6, 6))
    w = rng.standard_normal((5, 4))
    b = rng.standard_normal(5)
    x_view = view(x)
    out, cache = C.conv1x1_forward(x_view, w, b)
    out_contig, cache_contig = C.conv1x1_forward(np.ascontiguousarray(x_view), w, b)
    np.testing.assert_allclose(out, out_contig, rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    for g, g_contig in zip(C.conv1x1_backward(dout, cache), C.conv1x1_backward(dout, cache_contig)):
        np.testing.assert_allclose(g, g_contig, rtol=1e-12, atol=1e-12)


@pytest.mark.usefixtures("both_paths")
def test_conv1x1_takes_a_non_contiguous_weight_and_dout(rng):
    x = rng.standard_normal((2, 4, 3, 3))
    w_t = rng.standard_normal((4, 5)).T  # (5, 4), Fortran-ordered view
    out, cache = C.conv1x1_forward(x, w_t)
    np.testing.assert_allclose(out, np.einsum("oc,nchw->nohw", w_t, x), rtol=1e-12)
    dout = rng.standard_normal((2, 5, 3, 3)).transpose(0, 1, 3, 2)[:, :, ::-1]
    dx, dw, _ = C.conv1x1_backward(dout, cache)
    np.testing.assert_allclose(dx, np.einsum("oc,nohw->nchw", w_t, dout), rtol=1e-12)
    np.testing.assert_allclose(dw, np.einsum("nohw,nchw->oc", dout, x), rtol=1e-12)


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


def _grouped_problem(rng, n, c_in, c_out, groups, k=None, h=4, w=5):
    x = rng.standard_normal((n, c_in, h, w))
    weight = rng.standard_normal((c_out, c_in // groups) + ((k, k) if k else ()))
    return x, weight, rng.standard_normal(c_out)


@pytest.mark.parametrize("groups", [1, 2, 3, 6])
@pytest.mark.parametrize("module", [C, fast], ids=["plain", "fast"])
def test_conv1x1_grouped_equals_the_loops_and_numerical_gradients(rng, module, groups):
    x, weight, b = _grouped_problem(rng, 2, 6, 12, groups)
    out, cache = module.conv1x1_forward(x, weight, b, groups)
    np.testing.assert_allclose(out, reference.conv1x1_loops(x, weight, b, groups), rtol=1e-12, atol=1e-12)
    assert cache.groups == groups
    dout = rng.standard_normal(out.shape)
    dx, dw, db = module.conv1x1_backward(dout, cache)
    # Linear in x and in w: eps = 1e-3 is exact but for rounding; bound 1e-7.
    assert rel_error(dx, numerical_gradient(lambda v: C.conv1x1(v, weight, b, groups), x.copy(), dout, 1e-3)) < 1e-7
    assert rel_error(dw, numerical_gradient(lambda v: C.conv1x1(x, v, b, groups), weight.copy(), dout, 1e-3)) < 1e-7
    assert rel_error(db, dout.sum((0, 2, 3))) < 1e-12


def test_conv1x1_grouped_equals_a_1x1_conv2d_with_groups(rng):
    x, weight, b = _grouped_problem(rng, 2, 8, 4, 4)
    np.testing.assert_allclose(C.conv1x1(x, weight, b, 4),
                               C.conv2d_forward(x, weight[:, :, None, None], b, groups=4)[0], rtol=1e-12)


@pytest.mark.parametrize("w, groups, message", [
    (np.ones((4, 2)), 4, "groups=4 must divide the input channels"),
    (np.ones((5, 3)), 2, "must split evenly into groups=2"),
    (np.ones((4, 6)), 2, "6 // groups=2 = 3"),
])
def test_conv1x1_forward_refuses_groups_that_do_not_divide_the_channels(w, groups, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        C.conv1x1_forward(np.ones((1, 6, 5, 5)), w, groups=groups)


def test_conv1x1_forward_refuses_filters_that_do_not_split_into_groups():
    # 4 input channels in 2 groups of 2, but 3 filters cannot be split into 2 groups
    with pytest.raises(ValueError, match="groups"):
        C.conv1x1_forward(np.ones((1, 4, 2, 2)), np.ones((3, 2)), groups=2)


def test_conv1x1_forward_refuses_a_grouped_weight_of_the_wrong_depth():
    # 4 input channels in 2 groups: each filter must see 4 // 2 = 2 channels, not 3
    with pytest.raises(ValueError, match="input channels per filter"):
        C.conv1x1_forward(np.ones((1, 4, 2, 2)), np.ones((2, 3)), groups=2)


@pytest.mark.parametrize("groups, error", [(0, ValueError), (-1, ValueError), (-2, ValueError), (1.5, TypeError),
                                           (2.0, TypeError), (True, TypeError), ("2", TypeError)])
def test_conv1x1_forward_refuses_groups_that_are_not_a_positive_int(groups, error):
    """A bool, a float or a str is the wrong kind of object (TypeError), a number below 1 a wrong value
    (ValueError)."""
    with pytest.raises(error, match="groups must be a positive integer"):
        C.conv1x1_forward(np.ones((1, 4, 2, 2)), np.ones((4, 4)), groups=groups)


X = np.zeros((2, 3, 4, 4))
W = np.zeros((5, 3))


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("dtype", [np.int64, np.int32, bool, np.complex128, object])
def test_conv1x1_forward_refuses_a_non_float_x(dtype):
    with pytest.raises(TypeError, match=r"x must be a floating-point array.*" + np.dtype(dtype).name):
        C.conv1x1_forward(X.astype(dtype), W)


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("dtype", [np.int64, bool, np.complex64])
def test_conv1x1_forward_refuses_a_non_float_w_or_b(dtype):
    with pytest.raises(TypeError, match="w must be a floating-point array"):
        C.conv1x1_forward(X, W.astype(dtype))
    with pytest.raises(TypeError, match="b must be a floating-point array"):
        C.conv1x1_forward(X, W, np.zeros(5, dtype=dtype))


@pytest.mark.usefixtures("both_paths")
def test_conv1x1_forward_refuses_a_ragged_list():
    """Errors name the argument."""
    with pytest.raises(TypeError, match="x must be a floating-point array"):
        C.conv1x1_forward([[1.0, 2.0], [3.0]], W)
    with pytest.raises(TypeError, match="x must be a floating-point array"):
        C.conv1x1_forward([[[[1.0, 2.0], [3.0]]]], np.zeros((1, 1)))


@pytest.mark.usefixtures("both_paths")
def test_conv1x1_forward_refuses_a_masked_array_rather_than_drop_its_mask():
    """Nonsense is refused, not accepted silently."""
    x = np.ma.masked_array(np.zeros((1, 2, 2, 2)), mask=False)
    with pytest.raises(TypeError, match="masked array.*filled"):
        C.conv1x1_forward(x, np.zeros((1, 2)))


@pytest.mark.usefixtures("both_paths")
def test_conv1x1_forward_on_a_3_d_x_suggests_a_batch_axis():
    with pytest.raises(ValueError, match=r"x must be 4-D \(N, C_in, H, W\), got shape \(3, 4, 4\).*x\[None\]"):
        C.conv1x1_forward(np.zeros((3, 4, 4)), W)


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("shape", [(4,), (2, 3, 4, 4, 1)])
def test_conv1x1_forward_refuses_other_ranks_of_x(shape):
    with pytest.raises(ValueError, match=r"x must be 4-D.*got shape " + re.escape(str(shape))):
        C.conv1x1_forward(np.zeros(shape), W)


@pytest.mark.usefixtures("both_paths")
def test_conv1x1_forward_names_the_argument_a_scalar_was_given_for():
    with pytest.raises(ValueError, match=r"x must be 4-D.*got shape \(\)"):
        C.conv1x1_forward(3.0, W)
    with pytest.raises(ValueError, match=r"b must have shape \(5,\)"):
        C.conv1x1_forward(X, W, 0.5)
    with pytest.raises(TypeError, match="b must be a floating-point array"):
        C.conv1x1_forward(X, W, True)


@pytest.mark.usefixtures("both_paths")
def test_conv1x1_forward_names_both_channel_counts_on_a_mismatch():
    with pytest.raises(ValueError, match="w expects 4 input channels but x has 3 channels"):
        C.conv1x1_forward(X, np.zeros((5, 4)))


@pytest.mark.usefixtures("both_paths")
def test_conv1x1_forward_refuses_a_bias_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"b must have shape \(5,\).*got \(4,\)"):
        C.conv1x1_forward(X, W, np.zeros(4))


@pytest.mark.usefixtures("both_paths")
def test_conv1x1_forward_on_a_pytorch_weight_layout_suggests_a_reshape():
    with pytest.raises(ValueError, match=r"w\.reshape\(5, 3\)"):
        C.conv1x1_forward(X, np.zeros((5, 3, 1, 1)))


@pytest.mark.usefixtures("both_paths")
def test_conv1x1_forward_on_a_kxk_weight_points_to_conv2d_forward():
    with pytest.raises(ValueError, match=r"3x3 kernel.*conv2d_forward"):
        C.conv1x1_forward(X, np.zeros((5, 3, 3, 3)))


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("shape", [(3,), (5, 3, 1)])
def test_conv1x1_forward_refuses_other_ranks_of_w(shape):
    with pytest.raises(ValueError, match=r"w must be 2-D \(C_out, C_in\)"):
        C.conv1x1_forward(X, np.zeros(shape))


def test_conv1x1_forward_refuses_a_weight_with_no_filters():
    with pytest.raises(ValueError, match="at least one filter"):
        C.conv1x1_forward(np.ones((1, 3, 2, 2)), np.ones((0, 3)))


@pytest.mark.usefixtures("both_paths")
def test_conv1x1_backward_names_dout_of_the_wrong_shape():
    _out, cache = C.conv1x1_forward(X, W)
    with pytest.raises(ValueError, match=r"dout must have the shape.*\(2, 5, 4, 4\).*\(2, 4, 4, 4\)"):
        C.conv1x1_backward(np.zeros((2, 4, 4, 4)), cache)


@pytest.mark.usefixtures("both_paths")
def test_conv1x1_backward_refuses_an_integer_dout():
    out, cache = C.conv1x1_forward(X, W)
    with pytest.raises(TypeError, match="dout must be a floating-point array"):
        C.conv1x1_backward(np.zeros(out.shape, dtype=int), cache)


def test_conv1x1_backward_refuses_a_plain_tuple_as_cache():
    x, w, b = np.ones((1, 3, 2, 2)), np.ones((2, 3)), np.zeros(2)
    out, cache = C.conv1x1_forward(x, w, b)
    with pytest.raises(TypeError, match="cache"):
        C.conv1x1_backward(np.ones_like(out), tuple(cache))


def test_conv1x1_cache_built_by_hand_means_one_group_and_stride_one(rng):
    """A Conv1x1Cache without groups or stride is supported: both default to 1."""
    x, w = rng.standard_normal((2, 3, 4, 4)), rng.standard_normal((5, 3))
    out, cache = C.conv1x1_forward(x, w, np.zeros(5))
    dout = rng.standard_normal(out.shape)
    by_hand = C.conv1x1_backward(dout, Conv1x1Cache(x, w, True))
    for got, expected in zip(by_hand, C.conv1x1_backward(dout, cache)):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("shape", [(2, 3, 5, 4, 6), (1, 8, 2, 1, 1), (3, 16, 32, 7, 5)])
@pytest.mark.parametrize("use_bias", [True, False])
def test_conv1x1_forward_and_backward_equal_torch(torch, rng, shape, use_bias):
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


TOL = {"rtol": 1e-10, "atol": 1e-10}


def _close(ours, theirs):
    np.testing.assert_allclose(ours, theirs.detach().numpy(), **TOL)


@pytest.mark.parametrize("module", [C, fast], ids=["plain", "fast"])
def test_conv1x1_grouped_equals_torch(torch, rng, module):
    x, w, b = rng.standard_normal((2, 6, 4, 5)), rng.standard_normal((9, 2)), rng.standard_normal(9)
    out, cache = module.conv1x1_forward(x, w, b, 3)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = module.conv1x1_backward(dout, cache)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w[:, :, None, None], b))
    tout = torch.nn.functional.conv2d(tx, tw, tb, groups=3)
    tout.backward(torch.tensor(dout))
    for ours, theirs in ((out, tout), (dx, tx.grad), (dw, tw.grad[:, :, 0, 0]), (db, tb.grad)):
        _close(ours, theirs)


def test_conv1x1_with_a_stride_equals_torch(torch, rng):
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
