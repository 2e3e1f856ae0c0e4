"""Every bad-input rule: the exception type and what its message names."""

import re

import numpy as np
import pytest

import conv1x1 as C

pytestmark = pytest.mark.usefixtures("both_paths")  # plain and conv1x1.fast: same results

X = np.zeros((2, 3, 4, 4))
W = np.zeros((5, 3))


@pytest.mark.parametrize("dtype", [np.int64, np.int32, bool, np.complex128, object])
def test_non_float_x_is_a_type_error(dtype):
    with pytest.raises(TypeError, match=r"x must be a floating-point array.*" + np.dtype(dtype).name):
        C.conv1x1_forward(X.astype(dtype), W)


@pytest.mark.parametrize("dtype", [np.int64, bool, np.complex64])
def test_non_float_w_and_b_are_type_errors(dtype):
    with pytest.raises(TypeError, match="w must be a floating-point array"):
        C.conv1x1_forward(X, W.astype(dtype))
    with pytest.raises(TypeError, match="b must be a floating-point array"):
        C.conv1x1_forward(X, W, np.zeros(5, dtype=dtype))


def test_ragged_list_is_a_clear_type_error():
    with pytest.raises(TypeError, match="x must be a floating-point array"):
        C.conv1x1_forward([[1.0, 2.0], [3.0]], W)


def test_three_dimensional_x_suggests_a_batch_axis():
    with pytest.raises(ValueError, match=r"x must be 4-D \(N, C_in, H, W\), got shape \(3, 4, 4\).*x\[None\]"):
        C.conv1x1_forward(np.zeros((3, 4, 4)), W)


@pytest.mark.parametrize("shape", [(4,), (2, 3, 4, 4, 1)])
def test_other_x_ranks_are_value_errors(shape):
    with pytest.raises(ValueError, match=r"x must be 4-D.*got shape " + re.escape(str(shape))):
        C.conv1x1_forward(np.zeros(shape), W)


def test_channel_mismatch_names_both_counts():
    with pytest.raises(ValueError, match="w expects 4 input channels but x has 3 channels"):
        C.conv1x1_forward(X, np.zeros((5, 4)))


def test_wrong_bias_shape():
    with pytest.raises(ValueError, match=r"b must have shape \(5,\).*got \(4,\)"):
        C.conv1x1_forward(X, W, np.zeros(4))


def test_pytorch_weight_layout_suggests_reshape():
    with pytest.raises(ValueError, match=r"w\.reshape\(5, 3\)"):
        C.conv1x1_forward(X, np.zeros((5, 3, 1, 1)))


def test_kxk_weight_points_to_direct_convolution():
    with pytest.raises(ValueError, match=r"3x3 kernel.*conv2d_forward"):
        C.conv1x1_forward(X, np.zeros((5, 3, 3, 3)))


@pytest.mark.parametrize("shape", [(3,), (5, 3, 1)])
def test_other_weight_ranks(shape):
    with pytest.raises(ValueError, match=r"w must be 2-D \(C_out, C_in\)"):
        C.conv1x1_forward(X, np.zeros(shape))


def test_backward_with_wrong_dout_shape_names_dout():
    _out, cache = C.conv1x1_forward(X, W)
    with pytest.raises(ValueError, match=r"dout must have the shape.*\(2, 5, 4, 4\).*\(2, 4, 4, 4\)"):
        C.conv1x1_backward(np.zeros((2, 4, 4, 4)), cache)


def test_backward_with_integer_dout_is_a_type_error():
    out, cache = C.conv1x1_forward(X, W)
    with pytest.raises(TypeError, match="dout must be a floating-point array"):
        C.conv1x1_backward(np.zeros(out.shape, dtype=int), cache)


@pytest.mark.parametrize("layer", [C.Conv1x1(3, 2), C.ReLU(), C.LeakyReLU(), C.Sigmoid(), C.Tanh(),
                                   C.Sequential(C.Conv1x1(3, 2), C.ReLU())])
def test_layer_backward_before_forward_is_a_runtime_error(layer):
    with pytest.raises(RuntimeError, match="forward must run first"):
        layer.backward(np.zeros((1, 2, 3, 3)))


@pytest.mark.parametrize("bad", [0, -3])
@pytest.mark.parametrize("which", ["in_channels", "out_channels"])
def test_layer_channels_must_be_positive(bad, which):
    kwargs = {"in_channels": 3, "out_channels": 2, which: bad}
    with pytest.raises(ValueError, match=which):
        C.Conv1x1(**kwargs)


@pytest.mark.parametrize("bad", [2.5, 2.0, "3", None, True])
@pytest.mark.parametrize("which", ["in_channels", "out_channels"])
def test_layer_channels_must_be_integers(bad, which):
    kwargs = {"in_channels": 3, "out_channels": 2, which: bad}
    with pytest.raises(TypeError, match=which):
        C.Conv1x1(**kwargs)


def test_layer_names_itself_on_channel_mismatch():
    with pytest.raises(ValueError, match=r"Conv1x1\(4, 2, bias=True\) expects 4 input channels but x has 3"):
        C.Conv1x1(4, 2).forward(X)


def test_bad_rng_and_bias_flag():
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        C.Conv1x1(3, 2, rng=np.random.RandomState(0))
    with pytest.raises(TypeError, match="bias must be True or False"):
        C.Conv1x1(3, 2, bias="yes")


def test_sequential_refuses_non_layers():
    with pytest.raises(TypeError, match="argument 1 is function"):
        C.Sequential(C.ReLU(), lambda v: v)


def test_leaky_relu_slope_must_be_a_number():
    with pytest.raises(TypeError, match="negative_slope"):
        C.LeakyReLU("0.1")
    with pytest.raises(TypeError, match="negative_slope"):
        C.leaky_relu_forward(X, negative_slope=None)


@pytest.mark.parametrize("forward", [C.relu_forward, C.sigmoid_forward, C.tanh_forward, C.leaky_relu_forward])
def test_activations_refuse_integer_input(forward):
    with pytest.raises(TypeError, match="x must be a floating-point array"):
        forward(np.arange(4))


@pytest.mark.parametrize("pair", [(C.relu_forward, C.relu_backward), (C.sigmoid_forward, C.sigmoid_backward),
                                  (C.tanh_forward, C.tanh_backward),
                                  (C.leaky_relu_forward, C.leaky_relu_backward)])
def test_activation_backward_checks_dout_shape(pair):
    forward, backward = pair
    _, cache = forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="dout"):
        backward(np.zeros((3, 2)), cache)


@pytest.mark.parametrize("dtype", [int, np.int32, bool, "complex128", "not a dtype"])
def test_layer_dtype_must_be_floating(dtype):
    with pytest.raises(TypeError, match="dtype must be a floating-point type"):
        C.Conv1x1(3, 2, dtype=dtype)
    with pytest.raises(TypeError, match="dtype must be a floating-point type"):
        C.Conv2d(3, 2, 3, dtype=dtype)


def test_concat_needs_a_branch():
    with pytest.raises(ValueError, match="at least one branch"):
        C.Concat()


def test_scalars_and_zero_d_arrays_name_the_argument():
    with pytest.raises(ValueError, match=r"x must be 4-D.*got shape \(\)"):
        C.conv1x1_forward(3.0, W)
    with pytest.raises(ValueError, match=r"b must have shape \(5,\)"):
        C.conv1x1_forward(X, W, 0.5)
    with pytest.raises(TypeError, match="b must be a floating-point array"):
        C.conv1x1_forward(X, W, True)
