"""The direct KxK convolution: against the loop reference, numerical gradients, and conv1x1."""

import numpy as np
import pytest

import conv1x1 as C
from conv1x1.gradcheck import check_layer, numerical_gradient, rel_error
from conv1x1.reference import conv2d_loops

pytestmark = pytest.mark.usefixtures("both_paths")  # plain and conv1x1.fast: same results

SETTINGS = [  # (kernel, stride, padding)
    (1, 1, 0), (3, 1, 0), (3, 1, 1), (3, 2, 1), (5, 1, "same"), (2, 2, 0), (3, 3, 2), (4, 1, 3),
]


def _problem(rng, k, n=2, c_in=3, c_out=4, h=7, w=6):
    return (rng.standard_normal((n, c_in, h, w)), rng.standard_normal((c_out, c_in, k, k)),
            rng.standard_normal(c_out))


@pytest.mark.parametrize("k, stride, padding", SETTINGS)
def test_forward_equals_the_loop_reference(rng, k, stride, padding):
    x, w, b = _problem(rng, k)
    out, _ = C.conv2d_forward(x, w, b, stride, padding)
    expected, _ = conv2d_loops(x, w, b, stride, padding)
    p = (k - 1) // 2 if padding == "same" else padding
    assert out.shape == (2, 4, (7 + 2 * p - k) // stride + 1, (6 + 2 * p - k) // stride + 1)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("k, stride, padding", SETTINGS)
@pytest.mark.parametrize("use_bias", [True, False])
def test_backward_matches_numerical_gradients(rng, k, stride, padding, use_bias):
    """Central differences in float64; bound: relative error < 1e-7. The convolution is linear in
    each argument, so a central difference is exact but for rounding, whose error shrinks as the
    step grows: eps = 1e-3 keeps the bound far from the noise (about 1e-10 here)."""
    x, w, b = _problem(rng, k, n=1 if use_bias else 2)
    b = b if use_bias else None
    out, cache = C.conv2d_forward(x, w, b, stride, padding)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = C.conv2d_backward(dout, cache)
    conv = lambda xx, ww, bb: C.conv2d_forward(xx, ww, bb, stride, padding)[0]
    assert rel_error(dx, numerical_gradient(lambda v: conv(v, w, b), x.copy(), dout, 1e-3)) < 1e-7
    assert rel_error(dw, numerical_gradient(lambda v: conv(x, v, b), w.copy(), dout, 1e-3)) < 1e-7
    if use_bias:
        assert rel_error(db, numerical_gradient(lambda v: conv(x, w, v), b.copy(), dout, 1e-3)) < 1e-7
    else:
        assert db is None


def test_kernel_1_equals_conv1x1_exactly(rng):
    x, w, b = _problem(rng, 1)
    out2d, cache2d = C.conv2d_forward(x, w, b)
    out1, cache1 = C.conv1x1_forward(x, w.reshape(4, 3), b)
    np.testing.assert_array_equal(out2d, out1)
    dout = rng.standard_normal(out1.shape)
    dx2, dw2, db2 = C.conv2d_backward(dout, cache2d)
    dx1, dw1, db1 = C.conv1x1_backward(dout, cache1)
    np.testing.assert_array_equal(dx2, dx1)
    np.testing.assert_array_equal(dw2.reshape(4, 3), dw1)
    np.testing.assert_array_equal(db2, db1)


def test_strided_and_padded_1x1_kernels_are_1x1_convs_of_the_resampled_input(rng):
    x, w, b = _problem(rng, 1)
    strided, _ = C.conv2d_forward(x, w, b, stride=2)
    np.testing.assert_allclose(strided, C.conv1x1(x[:, :, ::2, ::2], w.reshape(4, 3), b), rtol=1e-12, atol=1e-12)
    padded, _ = C.conv2d_forward(x, w, b, padding=1)
    x_padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    np.testing.assert_allclose(padded, C.conv1x1(x_padded, w.reshape(4, 3), b), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_preserved_and_inputs_untouched(rng, dtype):
    x, w, b = (a.astype(dtype) for a in _problem(rng, 3))
    copies = [a.copy() for a in (x, w, b)]
    out, cache = C.conv2d_forward(x, w, b, padding=1)
    grads = C.conv2d_backward(np.ones_like(out), cache)
    assert out.dtype == dtype and all(g.dtype == dtype for g in grads)
    for a, copy in zip((x, w, b), copies):
        np.testing.assert_array_equal(a, copy)


def test_non_contiguous_input(rng):
    x, w, b = _problem(rng, 3, h=6, w=6)
    view = x.transpose(0, 1, 3, 2)[:, :, ::-1]
    np.testing.assert_allclose(C.conv2d_forward(view, w, b, padding=1)[0],
                               conv2d_loops(np.ascontiguousarray(view), w, b, padding=1)[0], rtol=1e-12)


@pytest.mark.parametrize("make", [
    lambda rng: C.Conv2d(3, 4, 3, padding=1, rng=rng),
    lambda rng: C.Conv2d(3, 2, 5, padding="same", bias=False, rng=rng),
    lambda rng: C.Conv2d(3, 4, 3, stride=2, rng=rng),
])
def test_conv2d_layer_gradient_check(rng, make):
    errors = check_layer(make(rng), rng.standard_normal((2, 3, 6, 5)))
    assert max(errors.values()) < 1e-7, errors


def test_conv2d_layer_contract(rng):
    layer = C.Conv2d(3, 8, 5, padding="same", rng=rng)
    assert layer.params["w"].shape == (8, 3, 5, 5) and layer.params["b"].shape == (8,)
    assert abs(layer.params["w"].std() - np.sqrt(2 / 75)) < 0.15 * np.sqrt(2 / 75)
    assert repr(layer) == "Conv2d(3, 8, kernel_size=5, stride=1, padding=2, bias=True)"
    with pytest.raises(RuntimeError, match="forward must run first"):
        layer.backward(np.zeros((1, 8, 4, 4)))


@pytest.mark.parametrize("kwargs, error, match", [
    ({"padding": "same", "kernel": 4}, ValueError, "odd kernel"),
    ({"padding": "same", "stride": 2}, ValueError, "stride=1"),
    ({"padding": "valid"}, ValueError, "padding"),
    ({"padding": -1}, ValueError, "padding"),
    ({"padding": 1.5}, TypeError, "padding"),
    ({"stride": 0}, ValueError, "stride"),
    ({"stride": 1.5}, TypeError, "stride"),
    ({"kernel": 9}, ValueError, "larger than the padded input"),
])
def test_bad_settings(rng, kwargs, error, match):
    kwargs = dict(kwargs)  # a copy: popping from the parametrize dict would change a rerun of this test
    k = kwargs.pop("kernel", 3)
    x, w, b = _problem(rng, k)
    with pytest.raises(error, match=match):
        C.conv2d_forward(x, w, b, **kwargs)


def test_bad_weights(rng):
    x = rng.standard_normal((1, 3, 5, 5))
    with pytest.raises(ValueError, match=r"conv1x1_forward.*reshape\(4, 3, 1, 1\)"):
        C.conv2d_forward(x, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="square"):
        C.conv2d_forward(x, np.zeros((4, 3, 3, 1)))
    with pytest.raises(ValueError, match="w expects 2 input channels but x has 3"):
        C.conv2d_forward(x, np.zeros((4, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"b must have shape \(4,\)"):
        C.conv2d_forward(x, np.zeros((4, 3, 3, 3)), np.zeros(3))
    with pytest.raises(TypeError, match="x must be a floating-point array"):
        C.conv2d_forward(x.astype(int), np.zeros((4, 3, 3, 3)))
    _out, cache = C.conv2d_forward(x, np.zeros((4, 3, 3, 3)))
    with pytest.raises(ValueError, match="dout"):
        C.conv2d_backward(np.zeros((1, 4, 5, 5)), cache)


def test_layer_settings_are_checked_at_construction():
    with pytest.raises(ValueError, match="odd kernel"):
        C.Conv2d(3, 4, 2, padding="same")
    with pytest.raises(ValueError, match="kernel_size"):
        C.Conv2d(3, 4, 0)
