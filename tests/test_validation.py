"""Every bad-input rule: the exception type and what its message names."""

import re

import numpy as np
import pytest

import conv1x1 as C

pytestmark = pytest.mark.usefixtures("both_paths")  # plain and conv1x1.fast: same results

X = np.zeros((2, 3, 4, 4))
W = np.zeros((5, 3))


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


@pytest.mark.parametrize("dtype", [int, np.int32, bool, "complex128", "not a dtype"])
def test_layer_dtype_must_be_floating(dtype):
    with pytest.raises(TypeError, match="dtype must be a floating-point type"):
        C.Conv1x1(3, 2, dtype=dtype)
    with pytest.raises(TypeError, match="dtype must be a floating-point type"):
        C.Conv2d(3, 2, 3, dtype=dtype)


def test_concat_needs_a_branch():
    with pytest.raises(ValueError, match="at least one branch"):
        C.Concat()
