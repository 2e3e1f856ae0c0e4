"""conv1x1_forward / conv1x1_backward: values, shapes, dtypes and edge cases."""

import numpy as np
import pytest

import conv1x1 as C
from conv1x1 import reference
from conv1x1.gradcheck import numerical_gradient, rel_error

pytestmark = pytest.mark.usefixtures("both_paths")  # plain and conv1x1.fast: same results

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


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("use_bias", [True, False])
def test_forward_equals_the_einsum_definition(rng, shape, use_bias):
    x, w, b = _random_problem(rng, shape)
    b = b if use_bias else None
    out, _ = C.conv1x1_forward(x, w, b)
    expected = np.einsum("oc,nchw->nohw", w, x)
    if use_bias:
        expected = expected + b[None, :, None, None]
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_forward_on_a_hand_computed_pixel():
    # Two channels at one pixel, (1, 2) and two filters: [1, 1] (sum) and [2, -1].
    x = np.array([1.0, 2.0]).reshape(1, 2, 1, 1)
    w = np.array([[1.0, 1.0], [2.0, -1.0]])
    b = np.array([0.5, -0.5])
    out, _ = C.conv1x1_forward(x, w, b)
    assert out.ravel().tolist() == [1 + 2 + 0.5, 2 - 2 - 0.5]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("use_bias", [True, False])
def test_backward_matches_numerical_gradients(rng, shape, use_bias):
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


@pytest.mark.parametrize("shape", SHAPES)
def test_backward_equals_the_einsum_formulas(rng, shape):
    x, w, b = _random_problem(rng, shape)
    out, cache = C.conv1x1_forward(x, w, b)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = C.conv1x1_backward(dout, cache)
    np.testing.assert_allclose(dx, np.einsum("oc,nohw->nchw", w, dout), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, np.einsum("nohw,nchw->oc", dout, x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db, dout.sum((0, 2, 3)), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("use_bias", [True, False])
def test_dtype_is_preserved_forward_and_backward(rng, dtype, use_bias):
    x, w, b = _random_problem(rng, (2, 3, 4, 5, 6), dtype)
    out, cache = C.conv1x1_forward(x, w, b if use_bias else None)
    dx, dw, db = C.conv1x1_backward(np.ones_like(out), cache)
    assert out.dtype == dx.dtype == dw.dtype == dtype
    if use_bias:
        assert db.dtype == dtype


def test_inputs_are_never_modified(rng):
    x, w, b = _random_problem(rng, (2, 3, 4, 5, 6))
    copies = [a.copy() for a in (x, w, b)]
    out, cache = C.conv1x1_forward(x, w, b)
    dout = rng.standard_normal(out.shape)
    dout_copy = dout.copy()
    C.conv1x1_backward(dout, cache)
    for original, copy in zip((x, w, b, dout), copies + [dout_copy]):
        np.testing.assert_array_equal(original, copy)


@pytest.mark.parametrize("view", [
    lambda a: a.transpose(0, 1, 3, 2),          # swapped H and W
    lambda a: a[:, :, ::2, 1:],                  # strided slice
    lambda a: a[::-1, ::-1, ::-1, ::-1],         # reversed everything
    lambda a: np.asfortranarray(a),              # Fortran order
])
def test_non_contiguous_views_give_the_same_result(rng, view):
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


def test_non_contiguous_weight_and_dout(rng):
    x = rng.standard_normal((2, 4, 3, 3))
    w_t = rng.standard_normal((4, 5)).T  # (5, 4), Fortran-ordered view
    out, cache = C.conv1x1_forward(x, w_t)
    np.testing.assert_allclose(out, np.einsum("oc,nchw->nohw", w_t, x), rtol=1e-12)
    dout = rng.standard_normal((2, 5, 3, 3)).transpose(0, 1, 3, 2)[:, :, ::-1]
    dx, dw, _ = C.conv1x1_backward(dout, cache)
    np.testing.assert_allclose(dx, np.einsum("oc,nohw->nchw", w_t, dout), rtol=1e-12)
    np.testing.assert_allclose(dw, np.einsum("nohw,nchw->oc", dout, x), rtol=1e-12)


def test_empty_batch(rng):
    x = np.zeros((0, 3, 4, 4))
    w = rng.standard_normal((2, 3))
    out, cache = C.conv1x1_forward(x, w, np.zeros(2))
    assert out.shape == (0, 2, 4, 4)
    dx, dw, db = C.conv1x1_backward(out, cache)
    assert dx.shape == (0, 3, 4, 4)
    np.testing.assert_array_equal(dw, np.zeros((2, 3)))
    np.testing.assert_array_equal(db, np.zeros(2))


def test_nan_propagates_without_a_crash(rng):
    x = rng.standard_normal((1, 3, 2, 2))
    x[0, 1, 0, 1] = np.nan
    w = rng.standard_normal((2, 3))
    out, cache = C.conv1x1_forward(x, w)
    assert np.isnan(out[0, :, 0, 1]).all()
    assert np.isfinite(out[0, :, 0, 0]).all()
    dx, dw, _ = C.conv1x1_backward(np.ones_like(out), cache)
    assert np.isnan(dw).any() and np.isfinite(dx).all()


def test_classic_depth_reduction_keeps_height_and_width(rng):
    x = rng.standard_normal((1, 192, 28, 28))
    out = C.conv1x1(x, rng.standard_normal((32, 192)))
    assert out.shape == (1, 32, 28, 28)


def test_python_lists_are_accepted():
    out = C.conv1x1([[[[1.0]], [[2.0]]]], [[1.0, 1.0]], [0.5])
    assert out.shape == (1, 1, 1, 1) and out.item() == 3.5


def test_conv1x1_is_the_forward_without_cache(rng):
    x, w, b = _random_problem(rng, (2, 3, 4, 2, 2))
    np.testing.assert_array_equal(C.conv1x1(x, w, b), C.conv1x1_forward(x, w, b)[0])


def test_reference_rungs_agree_on_a_fixed_case(rng):
    x, w, b = _random_problem(rng, (2, 3, 4, 5, 6))
    fast = C.conv1x1(x, w, b)
    for rung in (reference.conv1x1_loops, reference.conv1x1_einsum, reference.conv1x1_as_dense):
        np.testing.assert_allclose(rung(x, w, b), fast, rtol=1e-12, atol=1e-12)
