"""Issue 14's defects, each reproduced: every one must end in a clear error or a correct result."""

import warnings

import numpy as np
import pytest

import conv1x1 as C
from conv1x1 import cost, reference, timing
from conv1x1.gradcheck import check_layer, numerical_gradient, rel_error

pytestmark = pytest.mark.usefixtures("both_paths")


# 1. The gradient-check idiom cannot pass on NaN
def test_rel_error_turns_nan_into_inf():
    assert rel_error([1.0, np.nan], [1.0, 1.0]) == np.inf
    assert rel_error([1.0, 1.0], [np.inf, 1.0]) == np.inf
    errors = {"x": 1e-10, "w": rel_error([np.nan], [0.0])}
    assert not max(errors.values()) < 1e-7 and not all(e < 1e-7 for e in errors.values())


class NaNBackward(C.ReLU):
    def backward(self, dout):
        return np.full(np.shape(dout), np.nan)


def test_check_layer_reports_a_nan_backward_as_a_failure(rng):
    errors = check_layer(NaNBackward(), rng.standard_normal((2, 3)))
    assert errors["x"] == np.inf


# 2. numerical_gradient refuses what it would get silently wrong
def test_numerical_gradient_refuses_a_dout_that_would_broadcast():
    with pytest.raises(ValueError, match=r"dout must have the shape of f\(x\), \(\), got \(3,\)"):
        numerical_gradient(lambda v: np.sum(v ** 2), np.array([1.0, 2.0, 3.0]), np.ones(3))


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_numerical_gradient_refuses_low_precision(dtype):
    with pytest.raises(TypeError, match=r"x must be float64, got dtype .*astype\(np.float64\)"):
        numerical_gradient(np.sin, np.ones(3, dtype=dtype), np.ones(3))


def test_numerical_gradient_refuses_int_with_its_dtype():
    with pytest.raises(TypeError, match="x must be float64, got dtype int64"):
        numerical_gradient(np.sin, np.ones(3, dtype=np.int64), np.ones(3))


@pytest.mark.parametrize("eps, error", [(0.0, ValueError), (-1e-6, ValueError), (float("nan"), ValueError),
                                        ("1e-6", TypeError)])
def test_numerical_gradient_bad_eps(eps, error):
    with pytest.raises(error, match="eps"):
        numerical_gradient(np.sin, np.ones(3), np.ones(3), eps=eps)


def test_numerical_gradient_read_only_x():
    x = np.ones(3)
    x.flags.writeable = False
    with pytest.raises(ValueError, match="x must be a writeable array"):
        numerical_gradient(np.sin, x, np.ones(3))


def test_check_layer_refuses_float32_layers(rng):
    with pytest.raises(TypeError, match=r"parameter 'w' must be float64.*dtype=np.float64"):
        check_layer(C.Conv1x1(3, 2, dtype=np.float32), rng.standard_normal((1, 3, 2, 2)))


# 3. One layer instance used twice
def test_a_layer_used_twice_is_refused_with_the_reason():
    relu = C.ReLU()
    with pytest.raises(ValueError, match="appears twice.*cache"):
        C.Sequential(C.Conv1x1(2, 2), relu, C.Conv1x1(2, 2), relu)
    conv = C.Conv1x1(2, 2)
    with pytest.raises(ValueError, match="appears twice"):
        C.Concat(C.Sequential(conv), C.Sequential(C.ReLU(), conv))


# 5. Container costs
def test_container_costs_with_unknown_depth_or_empty_parts():
    report = C.Concat(C.ReLU(), C.MaxPool2d(3, 1, 1)).cost(4, 5)
    assert report.out_shape == (None, 4, 5) and report.macs == 0
    assert C.Sequential(C.Sequential(), C.ReLU()).cost(4, 5, in_channels=3).out_shape == (3, 4, 5)
    assert C.Concat(C.Sequential()).cost(4, 5, in_channels=3).out_shape == (3, 4, 5)
    assert C.Concat(C.Sequential(), C.Conv1x1(3, 2)).cost(4, 5, in_channels=3).out_shape == (5, 4, 5)


def test_a_layer_without_a_cost_says_how_to_give_it_one():
    class Mine(C.Layer):
        def forward(self, x):
            return x

        def backward(self, dout):
            return dout

    with pytest.raises(NotImplementedError, match="Mine has no cost: define cost_node"):
        C.Sequential(C.ReLU(), Mine()).cost(4, 4, in_channels=2)


# 6. Concat forward with branches of different sizes
def test_concat_names_branches_of_different_sizes():
    both = C.Concat(C.MaxPool2d(2), C.ReLU())
    with pytest.raises(ValueError, match=r"branch 0 \(MaxPool2d.*\(1, 2, 2, 2\).*branch 1 \(ReLU\(\)\) -> \(1, 2, 4, 4\)"):
        both.forward(np.zeros((1, 2, 4, 4)))


@pytest.mark.parametrize("rng_value, error", [(-1, ValueError), (1.5, TypeError), ("seed", TypeError),
                                              (True, TypeError)])
def test_bad_rng(rng_value, error):
    with pytest.raises(error, match="rng"):
        C.Conv1x1(3, 2, rng=rng_value)


@pytest.mark.parametrize("x, error", [(np.zeros((2, 3, 3)), ValueError), (np.zeros((1, 1, 3, 3), dtype=int), TypeError)])
def test_reference_maxpool_checks_its_input(x, error):
    with pytest.raises(error, match="x must be"):
        reference.maxpool2d_loops(x, 2)


@pytest.mark.parametrize("call, error, match", [
    (lambda: cost.concat_cost([1]), TypeError, r"branches\[0\]"),
    (lambda: cost.concat_cost([]), ValueError, "at least one branch"),
    (lambda: cost.human("12"), TypeError, "count"),
    (lambda: timing.measure(3, 1), TypeError, "fn must be a callable"),
    (lambda: timing.measure(lambda: None, "abc"), TypeError, "macs"),
    (lambda: timing.measure(lambda: None, 1, warmup=1.5), TypeError, "warmup"),
    (lambda: timing.measure(lambda: None, -5), ValueError, "macs"),
    (lambda: timing.measure(lambda: None, 5, warmup=-1), ValueError, "warmup"),
    (lambda: timing.measure(lambda: None, 5, repeat=0), ValueError, "repeat"),
])
def test_cost_and_timing_helpers_name_their_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


# 9. Nonsense that used to be accepted silently
@pytest.mark.parametrize("bias", ["no", None, 0, 1])
def test_bias_must_be_a_bool(bias):
    with pytest.raises(TypeError, match="bias must be True or False"):
        cost.conv_cost(3, 4, 5, 5, 3, bias=bias)
    with pytest.raises(TypeError, match="bias must be True or False"):
        C.Conv1x1(3, 4, bias=bias)


def test_pool_padding_above_half_the_kernel_is_refused_everywhere():
    with pytest.raises(ValueError, match=r"padding must be at most 1"):
        C.MaxPool2d(3, 1, 2)
    with pytest.raises(ValueError, match=r"padding must be at most 1"):
        cost.pool_cost(3, 8, 8, 3, 1, 2)
    with pytest.raises(ValueError, match=r"padding must be at most 1"):
        C.maxpool2d_forward(np.zeros((1, 1, 8, 8)), 3, 1, 2)


def test_empty_sequential_returns_a_copy():
    x = np.ones((1, 2, 2, 2))
    out = C.Sequential().forward(x)
    assert out is not x and np.array_equal(out, x)
    out[...] = 5
    assert x.max() == 1


def test_sgd_refuses_a_param_and_grad_of_different_dtypes():
    """Found by the mutation run: the momentum buffer took the grad's dtype, so the state did not reload."""
    with pytest.raises(TypeError, match=r"pair 0: param is float32 but grad is float64"):
        C.SGD([(np.zeros(2, np.float32), np.ones(2))], lr=0.1, momentum=0.9)


@pytest.mark.parametrize("fraction", ["0.5", None, [0.5]])
def test_a_test_fraction_that_is_not_a_number_is_a_type_error(fraction):
    from conv1x1.data import train_test_split
    with pytest.raises(TypeError, match="test_fraction must be a number"):
        train_test_split(np.zeros((10, 3)), np.arange(10), fraction)
