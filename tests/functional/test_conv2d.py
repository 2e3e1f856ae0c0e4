"""conv1x1.functional.conv2d: the direct KxK convolution, plain, grouped and depthwise, against the loop reference,
central differences, conv1x1 and PyTorch; its hand-built caches; and every bad input it refuses."""

import re

import numpy as np
import pytest

import conv1x1 as C
from conv1x1 import fast, reference
from conv1x1.functional.conv2d import Conv2dCache, im2col
from conv1x1.gradcheck import numerical_gradient, rel_error
from conv1x1.reference import conv2d_loops

SETTINGS = [  # (kernel, stride, padding)
    (1, 1, 0), (3, 1, 0), (3, 1, 1), (3, 2, 1), (5, 1, "same"), (2, 2, 0), (3, 3, 2), (4, 1, 3),
]


def _problem(rng, k, n=2, c_in=3, c_out=4, h=7, w=6):
    return (rng.standard_normal((n, c_in, h, w)), rng.standard_normal((c_out, c_in, k, k)),
            rng.standard_normal(c_out))


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("k, stride, padding", SETTINGS)
def test_conv2d_forward_equals_the_loop_reference(rng, k, stride, padding):
    x, w, b = _problem(rng, k)
    out, _ = C.conv2d_forward(x, w, b, stride, padding)
    expected, _ = conv2d_loops(x, w, b, stride, padding)
    p = (k - 1) // 2 if padding == "same" else padding
    assert out.shape == (2, 4, (7 + 2 * p - k) // stride + 1, (6 + 2 * p - k) // stride + 1)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("stride, padding, groups", [(1, 0, 1), (1, 1, 2), (2, 1, 1), (3, 2, 4), (2, 0, 2)])
def test_conv2d_with_a_bias_equals_the_loops(rng, stride, padding, groups):
    x = rng.standard_normal((2, 4, 7, 6))
    w = rng.standard_normal((8, 4 // groups, 3, 3))
    b = rng.standard_normal(8)
    out, _ = C.conv2d_forward(x, w, b, stride, padding, groups)
    expected, _ = reference.conv2d_loops(x, w, b, stride, padding, groups)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def _central_difference_errors(module, rng, x, w, b, stride, padding, groups=1):
    """``module.conv2d_backward``'s dx, dw and db for a random dout against central differences in float64
    (eps = 1e-3): their relative errors {"x", "w", "b"} ("b" only with a bias), and the db it returned."""
    out, cache = module.conv2d_forward(x, w, b, stride, padding, groups)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = module.conv2d_backward(dout, cache)

    def conv(xx, ww, bb):
        return module.conv2d_forward(xx, ww, bb, stride, padding, groups)[0]
    errors = {"x": rel_error(dx, numerical_gradient(lambda v: conv(v, w, b), x.copy(), dout, 1e-3)),
              "w": rel_error(dw, numerical_gradient(lambda v: conv(x, v, b), w.copy(), dout, 1e-3))}
    if b is not None:
        errors["b"] = rel_error(db, numerical_gradient(lambda v: conv(x, w, v), b.copy(), dout, 1e-3))
    return errors, db


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("k, stride, padding", SETTINGS)
@pytest.mark.parametrize("use_bias", [True, False])
def test_conv2d_backward_matches_numerical_gradients(rng, k, stride, padding, use_bias):
    """Central differences in float64; bound: relative error < 1e-7. The convolution is linear in
    each argument, so a central difference is exact but for rounding, whose error shrinks as the
    step grows: eps = 1e-3 keeps the bound far from the noise (about 1e-10 here)."""
    x, w, b = _problem(rng, k, n=1 if use_bias else 2)
    b = b if use_bias else None
    errors, db = _central_difference_errors(C, rng, x, w, b, stride, padding)
    assert errors["x"] < 1e-7 and errors["w"] < 1e-7
    if use_bias:
        assert errors["b"] < 1e-7
    else:
        assert db is None


@pytest.mark.usefixtures("both_paths")
def test_conv2d_with_kernel_1_equals_conv1x1_exactly(rng):
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


@pytest.mark.usefixtures("both_paths")
def test_conv2d_strided_and_padded_1x1_kernels_are_1x1_convs_of_the_resampled_input(rng):
    x, w, b = _problem(rng, 1)
    strided, _ = C.conv2d_forward(x, w, b, stride=2)
    np.testing.assert_allclose(strided, C.conv1x1(x[:, :, ::2, ::2], w.reshape(4, 3), b), rtol=1e-12, atol=1e-12)
    padded, _ = C.conv2d_forward(x, w, b, padding=1)
    x_padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    np.testing.assert_allclose(padded, C.conv1x1(x_padded, w.reshape(4, 3), b), rtol=1e-12, atol=1e-12)


CONV2D = [  # (N, C_in, C_out, groups, K, stride, padding, H, W)
    (2, 6, 4, 2, 3, 1, 1, 7, 6),     # grouped
    (2, 6, 6, 6, 3, 1, 1, 5, 5),     # depthwise, stride 1
    (2, 6, 6, 6, 3, 2, 1, 7, 6),     # depthwise, stride 2
    (1, 4, 8, 4, 3, 1, 0, 5, 5),     # depthwise with channel multiplier 2 (groups = C_in, C_out = 2 C_in)
    (2, 6, 6, 6, 5, 3, 2, 9, 8),     # depthwise 5x5, stride 3
    (2, 6, 6, 3, 1, 1, 0, 4, 4),     # grouped 1x1 as a KxK convolution
    (1, 4, 6, 2, 2, 2, 1, 5, 4),     # even kernel, stride 2
]


def _grouped_problem(rng, n, c_in, c_out, groups, k=None, h=4, w=5):
    x = rng.standard_normal((n, c_in, h, w))
    weight = rng.standard_normal((c_out, c_in // groups) + ((k, k) if k else ()))
    return x, weight, rng.standard_normal(c_out)


@pytest.mark.parametrize("n, c_in, c_out, groups, k, stride, padding, h, w", CONV2D)
def test_conv2d_grouped_plain_and_fast_equal_the_loops(rng, n, c_in, c_out, groups, k, stride, padding, h, w):
    x, weight, b = _grouped_problem(rng, n, c_in, c_out, groups, k, h, w)
    expected, macs = reference.conv2d_loops(x, weight, b, stride, padding, groups)
    out_h, out_w = expected.shape[2:]
    assert macs == out_h * out_w * c_out * (c_in // groups) * k * k  # the loops count what conv_cost predicts
    assert macs == C.cost.conv_cost(c_in, c_out, h, w, k, stride, padding, groups=groups).macs
    for forward in (C.conv2d_forward, fast.conv2d_forward):
        out, cache = forward(x, weight, b, stride, padding, groups)
        np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
        assert cache.groups == groups


@pytest.mark.parametrize("n, c_in, c_out, groups, k, stride, padding, h, w", CONV2D)
@pytest.mark.parametrize("module", [C, fast], ids=["plain", "fast"])
def test_conv2d_grouped_backward_matches_numerical_gradients(rng, module, n, c_in, c_out, groups, k, stride, padding,
                                                             h, w):
    """Central differences in float64; bound 1e-7 (the convolution is linear, so eps = 1e-3 is exact but for
    rounding)."""
    x, weight, b = _grouped_problem(rng, n, c_in, c_out, groups, k, h, w)
    errors, _ = _central_difference_errors(module, rng, x, weight, b, stride, padding, groups)
    assert errors["x"] < 1e-7 and errors["w"] < 1e-7 and errors["b"] < 1e-7


def test_conv2d_groups_keep_channels_apart(rng):
    # A change in group 1's input channels must not move group 0's outputs.
    x, weight, b = _grouped_problem(rng, 1, 4, 4, 2, 3)
    before, _ = C.conv2d_forward(x, weight, b, 1, 1, 2)
    x2 = x.copy()
    x2[:, 2:] += 1.0
    after, _ = C.conv2d_forward(x2, weight, b, 1, 1, 2)
    np.testing.assert_array_equal(before[:, :2], after[:, :2])
    assert not np.allclose(before[:, 2:], after[:, 2:])


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("c", [1, 2, 3, 6])
@pytest.mark.parametrize("h, w, k, padding", [(1, 1, 3, 1), (1, 1, 7, 4), (2, 1, 5, 3), (1, 3, 7, 5), (4, 5, 3, 0)])
def test_conv2d_depthwise_on_images_smaller_than_the_padding_equals_the_loops(rng, c, h, w, k, padding):
    """Kernel offsets that see only padding must add nothing (conv1x1.fast's depthwise route skips them), for any C.
    """
    x = rng.standard_normal((2, c, h, w))
    weights, b = rng.standard_normal((c, 1, k, k)), rng.standard_normal(c)
    out, cache = C.conv2d_forward(x, weights, b, 1, padding, c)
    expected, _ = reference.conv2d_loops(x, weights, b, 1, padding, c)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = C.conv2d_backward(dout, cache)
    assert rel_error(dx, numerical_gradient(lambda v: C.conv2d_forward(v, weights, b, 1, padding, c)[0],
                                            x.copy(), dout, 1e-5)) < 1e-7
    assert rel_error(dw, numerical_gradient(lambda v: C.conv2d_forward(x, v, b, 1, padding, c)[0],
                                            weights.copy(), dout, 1e-5)) < 1e-7
    np.testing.assert_allclose(db, dout.sum(axis=(0, 2, 3)), rtol=1e-12)


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_keeps_the_dtype_and_leaves_its_inputs_alone(rng, dtype):
    x, w, b = (a.astype(dtype) for a in _problem(rng, 3))
    copies = [a.copy() for a in (x, w, b)]
    out, cache = C.conv2d_forward(x, w, b, padding=1)
    grads = C.conv2d_backward(np.ones_like(out), cache)
    assert out.dtype == dtype and all(g.dtype == dtype for g in grads)
    for a, copy in zip((x, w, b), copies):
        np.testing.assert_array_equal(a, copy)


@pytest.mark.usefixtures("both_paths")
def test_conv2d_takes_a_non_contiguous_input(rng):
    x, w, b = _problem(rng, 3, h=6, w=6)
    view = x.transpose(0, 1, 3, 2)[:, :, ::-1]
    np.testing.assert_allclose(C.conv2d_forward(view, w, b, padding=1)[0],
                               conv2d_loops(np.ascontiguousarray(view), w, b, padding=1)[0], rtol=1e-12)


@pytest.mark.usefixtures("both_paths")
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
def test_conv2d_forward_refuses_bad_settings(rng, kwargs, error, match):
    kwargs = dict(kwargs)  # a copy: popping from the parametrize dict would change a rerun of this test
    k = kwargs.pop("kernel", 3)
    x, w, b = _problem(rng, k)
    with pytest.raises(error, match=match):
        C.conv2d_forward(x, w, b, **kwargs)


@pytest.mark.usefixtures("both_paths")
def test_conv2d_forward_refuses_a_huge_padding_with_a_value_error_not_a_memory_error():
    """Errors that name the argument."""
    with pytest.raises(ValueError, match="padding 1000000 is larger than the input"):
        C.conv2d_forward(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 3, 3)), padding=10**6)


@pytest.mark.usefixtures("both_paths")
def test_conv2d_refuses_bad_weights_and_a_bad_dout(rng):
    x = rng.standard_normal((1, 3, 5, 5))
    with pytest.raises(ValueError, match=r"conv1x1_forward.*reshape\(4, 3, 1, 1\)"):
        C.conv2d_forward(x, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="w expects 2 input channels but x has 3"):
        C.conv2d_forward(x, np.zeros((4, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"b must have shape \(4,\)"):
        C.conv2d_forward(x, np.zeros((4, 3, 3, 3)), np.zeros(3))
    with pytest.raises(TypeError, match="x must be a floating-point array"):
        C.conv2d_forward(x.astype(int), np.zeros((4, 3, 3, 3)))
    _out, cache = C.conv2d_forward(x, np.zeros((4, 3, 3, 3)))
    with pytest.raises(ValueError, match="dout"):
        C.conv2d_backward(np.zeros((1, 4, 5, 5)), cache)


def test_conv2d_forward_refuses_groups_that_do_not_divide_the_channels():
    with pytest.raises(ValueError, match="groups=4 must divide the input channels"):
        C.conv2d_forward(np.ones((1, 6, 5, 5)), np.ones((6, 1, 3, 3)), groups=4)


def test_conv2d_forward_refuses_filters_that_do_not_split_into_groups():
    # 4 input channels in 2 groups of 2, but 3 filters cannot be split into 2 groups
    with pytest.raises(ValueError, match="groups"):
        C.conv2d_forward(np.ones((1, 4, 2, 2)), np.ones((3, 2, 1, 1)), groups=2)


@pytest.mark.parametrize("groups", [1, 3])
def test_conv2d_cache_built_by_hand_gives_the_gradients_of_the_forwards_cache(rng, groups):
    """A Conv2dCache built by hand is supported, as a Conv1x1Cache is; without ``groups`` it means one group.
    Only a cache built by hand without ``groups`` uses that default."""
    x, w, b = rng.standard_normal((2, 6, 7, 6)), rng.standard_normal((6, 6 // groups, 3, 3)), rng.standard_normal(6)
    out, cache = C.conv2d_forward(x, w, b, 2, 1, groups)
    dout = rng.standard_normal(out.shape)
    fields = (x.shape, im2col(x, 3, 2, 1), w, True, 2, 1)
    by_hand = Conv2dCache(*fields) if groups == 1 else Conv2dCache(*fields, groups)
    for got, expected in zip(C.conv2d_backward(dout, by_hand), C.conv2d_backward(dout, cache)):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("k, stride, padding", [(3, 1, 1), (5, 1, 2), (3, 2, 0), (2, 3, 1)])
def test_conv2d_forward_and_backward_equal_torch(torch, rng, k, stride, padding):
    x = rng.standard_normal((2, 3, 9, 8))
    weight = rng.standard_normal((4, 3, k, k))
    bias = rng.standard_normal(4)
    out, cache = C.conv2d_forward(x, weight, bias, stride, padding)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = C.conv2d_backward(dout, cache)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, weight, bias))
    tout = torch.nn.functional.conv2d(tx, tw, tb, stride=stride, padding=padding)
    tout.backward(torch.tensor(dout))
    for ours, theirs in ((out, tout.detach()), (dx, tx.grad), (dw, tw.grad), (db, tb.grad)):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-10)


TOL = {"rtol": 1e-10, "atol": 1e-10}


def _close(ours, theirs):
    np.testing.assert_allclose(ours, theirs.detach().numpy(), **TOL)


@pytest.mark.parametrize("c_in, c_out, groups, k, stride, padding", [
    (6, 4, 2, 3, 1, 1), (8, 8, 8, 3, 1, 1), (8, 8, 8, 3, 2, 1), (4, 8, 4, 3, 1, 0), (6, 6, 6, 5, 2, 2),
    (6, 9, 3, 1, 1, 0)])
@pytest.mark.parametrize("module", [C, fast], ids=["plain", "fast"])
def test_conv2d_grouped_and_depthwise_equal_torch(torch, rng, module, c_in, c_out, groups, k, stride, padding):
    x = rng.standard_normal((2, c_in, 9, 8))
    w = rng.standard_normal((c_out, c_in // groups, k, k))
    b = rng.standard_normal(c_out)
    out, cache = module.conv2d_forward(x, w, b, stride, padding, groups)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = module.conv2d_backward(dout, cache)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tout = torch.nn.functional.conv2d(tx, tw, tb, stride=stride, padding=padding, groups=groups)
    tout.backward(torch.tensor(dout))
    for ours, theirs in ((out, tout), (dx, tx.grad), (dw, tw.grad), (db, tb.grad)):
        _close(ours, theirs)


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("groups, w_shape", [(1, (3, 4, 3, 3)), (2, (4, 2, 3, 3)), (4, (4, 1, 3, 3))])
def test_conv2d_on_an_empty_batch_gives_empty_outputs_and_zero_weight_gradients(groups, w_shape):
    """A batch of 0 images gives empty outputs, as the 1x1 convolution does, grouped and depthwise too."""
    x = np.zeros((0, 4, 5, 5))
    out, cache = C.functional.conv2d_forward(x, np.ones(w_shape), np.ones(w_shape[0]), padding=1, groups=groups)
    assert out.shape == (0, w_shape[0], 5, 5)
    dx, dw, db = C.functional.conv2d_backward(np.ones_like(out), cache)
    assert dx.shape == x.shape
    np.testing.assert_array_equal(dw, np.zeros(w_shape))
    np.testing.assert_array_equal(db, np.zeros(w_shape[0]))


@pytest.mark.usefixtures("both_paths")
def test_conv2d_refuses_an_input_without_pixels():
    """With H = 0 and padding 1 every window would hold padding only, and the output be the bias alone."""
    with pytest.raises(ValueError, match=r"x has no pixels \(height 0, width 3\)"):
        C.functional.conv2d_forward(np.ones((1, 2, 0, 3)), np.ones((1, 2, 2, 2)), np.ones(1), padding=1)


# ---------------------------------------------------------------- non-square kernels, strides and paddings

NON_SQUARE = [  # (kernel (KH, KW), stride, padding, groups)
    ((1, 7), 1, (0, 3), 1), ((7, 1), 1, (3, 0), 1), ((5, 3), 1, (2, 1), 1), ((3, 2), (2, 1), (1, 0), 1),
    ((2, 4), (1, 3), (1, 2), 2), ((3, 1), 2, 1, 4), ((1, 3), (3, 2), 0, 1), ((3, 5), 1, "same", 1),
]


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("kernel, stride, padding, groups", NON_SQUARE)
def test_conv2d_with_non_square_settings_equals_torch_forward_and_backward(torch, rng, kernel, stride, padding,
                                                                           groups):
    """Kernels, strides and paddings that differ along H and W, as PyTorch reads them: (along H, along W);
    float64, to 1e-10."""
    x, w, b = rng.standard_normal((2, 4, 9, 8)), rng.standard_normal((8, 4 // groups, *kernel)), rng.standard_normal(8)
    out, cache = C.conv2d_forward(x, w, b, stride, padding, groups)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = C.conv2d_backward(dout, cache)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tout = torch.nn.functional.conv2d(tx, tw, tb, stride=stride, padding=padding, groups=groups)
    tout.backward(torch.tensor(dout))
    for ours, theirs in ((out, tout), (dx, tx.grad), (dw, tw.grad), (db, tb.grad)):
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("kernel, stride, padding, groups", NON_SQUARE)
def test_conv2d_with_non_square_settings_equals_the_loops_and_central_differences(rng, kernel, stride, padding,
                                                                                  groups):
    """Forward against the loop reference (1e-12); dx, dw and db against central differences in float64, bound
    1e-7 (the convolution is linear in each argument: eps = 1e-3 leaves only rounding, about 1e-10)."""
    x, w, b = rng.standard_normal((1, 4, 7, 6)), rng.standard_normal((4, 4 // groups, *kernel)), rng.standard_normal(4)
    out, _ = C.conv2d_forward(x, w, b, stride, padding, groups)
    np.testing.assert_allclose(out, conv2d_loops(x, w, b, stride, padding, groups)[0], rtol=1e-12, atol=1e-12)
    errors, _ = _central_difference_errors(C, rng, x, w, b, stride, padding, groups)
    assert errors["x"] < 1e-7 and errors["w"] < 1e-7 and errors["b"] < 1e-7


@pytest.mark.usefixtures("both_paths")
def test_conv2d_with_a_1x2_kernel_finds_the_vertical_edges_of_d2ls_image():
    """d2l.ai, "Convolutions for Images": a 6 x 8 image of ones with columns 2..5 black; the kernel [[1, -1]]
    gives +1 where white turns black, -1 where black turns white, 0 elsewhere (a 6 x 7 output)."""
    image = np.ones((6, 8))
    image[:, 2:6] = 0
    out, _ = C.conv2d_forward(image[None, None], np.array([[[[1.0, -1.0]]]]))
    expected = np.zeros((6, 7))
    expected[:, 1], expected[:, 5] = 1, -1
    np.testing.assert_array_equal(out[0, 0], expected)


@pytest.mark.usefixtures("both_paths")
def test_conv2d_with_a_5x3_kernel_and_2x1_padding_keeps_an_8x8_input_8x8(rng):
    """d2l.ai, "Padding and Stride": a 5 x 3 kernel padded by 2 rows and 1 column on each side keeps 8 x 8."""
    out, _ = C.conv2d_forward(rng.standard_normal((1, 1, 8, 8)), rng.standard_normal((1, 1, 5, 3)), padding=(2, 1))
    assert out.shape == (1, 1, 8, 8)


def test_conv2d_same_padding_of_a_non_square_kernel_pads_each_axis_by_half_its_size(rng):
    """``"same"`` pads (KH - 1) // 2 rows and (KW - 1) // 2 columns: the 1x7 of Inception v3 keeps 17 x 17."""
    x, w = rng.standard_normal((1, 2, 17, 17)), rng.standard_normal((3, 2, 1, 7))
    same, _ = C.conv2d_forward(x, w, padding="same")
    explicit, _ = C.conv2d_forward(x, w, padding=(0, 3))
    assert same.shape == (1, 3, 17, 17)
    np.testing.assert_array_equal(same, explicit)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"padding": "same", "w_shape": (2, 2, 3, 2)}, ValueError,
     'padding="same" needs an odd kernel size along each axis, got kernel_size=(3, 2)'),
    ({"padding": "same", "stride": (1, 2)}, ValueError, 'padding="same" needs stride=1, got stride=(1, 2)'),
    ({"stride": (1, 2, 3)}, ValueError,
     "stride must be a positive integer or a pair (along H, along W), got (1, 2, 3) (3 values)"),
    ({"stride": (1, 0)}, ValueError, "stride[1] must be a positive integer (>= 1), got 0"),
    ({"padding": (1, -1)}, ValueError, "padding[1] must be a non-negative integer (>= 0), got -1"),
    ({"padding": (1, 1.5)}, TypeError, "padding[1] must be a non-negative integer, got 1.5"),
    ({"w_shape": (2, 2, 3, 9)}, ValueError, "kernel_size 9 is larger than the padded input width 6"),
])
def test_conv2d_forward_refuses_bad_pairs_naming_the_argument(rng, kwargs, error, message):
    kwargs = dict(kwargs)  # a copy: popping from the parametrize dict would change a rerun of this test
    w = rng.standard_normal(kwargs.pop("w_shape", (2, 2, 3, 3)))
    with pytest.raises(error, match=re.escape(message)):
        C.conv2d_forward(rng.standard_normal((1, 2, 5, 6)), w, **kwargs)
