"""Tests written to kill mutants of conv1x1/cost.py that survived the suite (second mutation run).

Expected values are worked by hand (written next to each assertion) or come from an independent
reference (Python's own ``len(str(n))`` for digit counts).
"""

import signal

import numpy as np
import pytest

from conv1x1 import cost
from conv1x1.cost import add_cost, conv_cost, formulas, human, pool_cost


def test_size_formula_square_input_names_both_sides_at_once():
    # 5x5 input, K=3, no padding, stride 1: (5 + 0 - 3) // 1 + 1 = 3
    row = conv_cost(2, 4, 5, 5, 3)
    assert row.shape_formula == "H_out = W_out = floor((H + 2p - K)/s) + 1 = floor((5 + 2·0 - 3)/1) + 1 = 3"


def test_size_formula_non_square_input_gives_each_side():
    # H: (5 - 3) // 1 + 1 = 3; W: (7 - 3) // 1 + 1 = 5
    row = conv_cost(2, 4, 5, 7, 3)
    assert row.shape_formula == ("H_out = floor((H + 2p - K)/s) + 1 = floor((5 + 2·0 - 3)/1) + 1 = 3; "
                                 "W_out = floor((W + 2p - K)/s) + 1 = floor((7 + 2·0 - 3)/1) + 1 = 5")


@pytest.mark.parametrize("bias", [1, 0, "no", None])
def test_conv_cost_refuses_a_bias_that_is_not_a_bool(bias):
    with pytest.raises(TypeError, match="bias"):
        conv_cost(2, 4, 5, 5, 1, bias=bias)


def test_conv_cost_accepts_numpy_bools():
    # params = C_out*C_in*K*K (+ C_out) = 4*2 (+ 4)
    assert conv_cost(2, 4, 5, 5, 1, bias=np.True_).params == 12
    assert conv_cost(2, 4, 5, 5, 1, bias=np.False_).params == 8


@pytest.mark.parametrize("height, width", [(4.0, 4), (4, 4.0), (True, 4)])
def test_pool_cost_refuses_non_integer_sizes(height, width):
    with pytest.raises(TypeError):
        pool_cost(3, height, width, 2)


def test_add_cost_returns_tuple_shapes_for_a_list():
    row = add_cost([2, 3, 4])
    assert row.in_shape == (2, 3, 4) and row.out_shape == (2, 3, 4)
    assert isinstance(row.in_shape, tuple) and isinstance(row.out_shape, tuple)
    assert row.add_ops == 2 * 3 * 4


@pytest.mark.parametrize("batch, error", [(0, ValueError), (-1, ValueError), (2.0, TypeError), (True, TypeError)])
def test_traffic_bytes_checks_batch(batch, error):
    with pytest.raises(error, match="batch"):
        conv_cost(2, 4, 5, 5, 1).traffic_bytes(np.float32, batch=batch)


def test_explain_has_an_other_line_only_for_layers_with_other_counts():
    # bias adds = H_out*W_out*C_out = 1*1*4 = 4
    with_bias = conv_cost(2, 4, 1, 1, 1).explain()
    assert with_bias.splitlines()[-1] == "    other   bias adds = H_out·W_out·C_out = 1·1·4 = 4  (not in MACs)"
    without = conv_cost(2, 4, 1, 1, 1, bias=False).explain()
    assert "other" not in without
    assert len(without.splitlines()) == 4


@pytest.fixture
def deadline():
    """Turn a hang (a digit-count loop that never ends) into a failure after 10 s."""
    def fail(signum, frame):
        raise TimeoutError("did not finish in 10 s")
    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


# (k, d): the number 10**k + d has k + 1 digits when d >= 0 and k digits when d == -1 (by construction)
DIGIT_CASES = [(k, d) for k in (1, 2, 15, 16, 17, 22, 23, 300, 511, 512, 513, 1024, 2048, 5000) for d in (-1, 0, 1)]


@pytest.mark.parametrize("k, d", DIGIT_CASES)
def test_digit_count_of_numbers_around_powers_of_ten(k, d, deadline):
    # math.log10 rounds 10**k - 1 up to k for k >= 15 and 10**512 down below 512: both corrections are needed
    expected = k + 1 if d >= 0 else k
    assert formulas._digit_count(10 ** k + d) == expected
    assert formulas._digit_count(-(10 ** k + d)) == expected


@pytest.mark.parametrize("n, digits", [(0, 1), (1, 1), (9, 1), (10, 2), (123456, 6)])
def test_digit_count_of_small_numbers(n, digits):
    assert formulas._digit_count(n) == digits


def test_human_and_exact_of_numbers_where_log10_is_off(deadline):
    assert human(10 ** 512) == "1.0e512"           # log10(10**512) < 512 in floating point
    assert human(10 ** 2048) == "1.0e2048"
    assert cost.exact(10 ** 5000 - 1) == "(a number of 5000 digits)"   # log10 rounds up to 5000.0


def test_pool_cost_floors_by_default_like_pytorch():
    # nn.MaxPool2d(2) on 5x5 (ceil_mode=False by default): (5 - 2) // 2 + 1 = 2; ceil would give 3
    assert pool_cost(3, 5, 5, 2).out_shape == (3, 2, 2)
    assert pool_cost(3, 5, 5, 2, ceil_mode=True).out_shape == (3, 3, 3)


def test_layer_cost_is_immutable():
    import dataclasses
    row = conv_cost(2, 4, 5, 5, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.macs = 0
    assert hash(row) == hash(conv_cost(2, 4, 5, 5, 1))


def test_batchnorm_cost_default_and_given_names():
    assert cost.batchnorm_cost(4, 2, 2).name == "batchnorm"
    assert cost.batchnorm_cost(4, 2, 2, name="bn1").name == "bn1"


@pytest.mark.parametrize("count, text", [(5 * 10 ** 15, "5.0e15"), (15 * 10 ** 14, "1.5e15"),
                                         (99 * 10 ** 14, "9.9e15"), (10 ** 16, "1.0e16")])
def test_human_scientific_from_ten_to_the_fifteen(count, text):
    assert human(count) == text


def test_num_of_a_number_too_long_to_print():
    assert formulas._num(10 ** 5000) == "(a number of 5001 digits)"
    assert formulas._num(None) == "?" and formulas._num(12) == "12"


@pytest.mark.parametrize("in_shape, out_shape", [((None, 4, 4), (3, 4, 4)), ((3, 4, 4), (None, 4, 4)),
                                                 ((None, 4, 4), (None, 4, 4))])
def test_traffic_bytes_unknown_when_either_depth_is_unknown(in_shape, out_shape):
    row = cost.LayerCost("x", "relu", in_shape, out_shape, 0, 0, None)
    with pytest.raises(ValueError, match="unknown depth"):
        row.traffic_bytes()


def test_activation_bytes_zero_when_depth_unknown():
    assert cost.elementwise_cost("relu", None, 4, 4).activation_bytes() == 0
    assert cost.elementwise_cost("relu", 3, 4, 4).activation_bytes(np.float32) == 3 * 4 * 4 * 4
    assert cost.elementwise_cost("relu", 3, 4, 4).activation_bytes(np.float64) == 3 * 4 * 4 * 8


def test_size_formula_ceil_mode_without_a_dropped_window():
    # nn.MaxPool2d(2, ceil_mode=True) on 5: ceil((5 - 2)/2) + 1 = 3; the last window starts at 4 < 5: kept
    row = pool_cost(1, 5, 5, 2, stride=2, ceil_mode=True)
    assert row.out_shape == (1, 3, 3)
    assert row.shape_formula == "H_out = W_out = ceil((H + 2p - K)/s) + 1 = ceil((5 + 2·0 - 2)/2) + 1 = 3"


def test_size_formula_ceil_mode_with_a_dropped_window():
    # nn.MaxPool2d(2, 2, padding=1, ceil_mode=True) on 5: ceil((5 + 2 - 2)/2) + 1 = 4, but window 4 would
    # start at 3*2 = 6 >= 5 + 1 (in the right padding): PyTorch drops it, 3 remain
    row = pool_cost(1, 5, 5, 2, stride=2, padding=1, ceil_mode=True)
    assert row.out_shape == (1, 3, 3)
    assert row.shape_formula == ("H_out = W_out = ceil((H + 2p - K)/s) + 1 = ceil((5 + 2·1 - 2)/2) + 1"
                                 " - 1 (a last window may not start in the padding) = 3")


def test_pool_kind_names_a_stride_of_two():
    assert pool_cost(3, 4, 4, 2).kind == "maxpool 2x2 /2"              # stride defaults to the kernel size
    assert pool_cost(3, 4, 4, 3, stride=1, padding=1).kind == "maxpool 3x3"
    assert pool_cost(3, 9, 9, 3, stride=3, kind="avgpool").kind == "avgpool 3x3 /3"


def test_pool_cost_padding_at_most_half_the_kernel():
    # PyTorch's rule for pooling: padding <= K // 2 (3 // 2 = 1), so every window holds a real element
    assert pool_cost(3, 5, 5, 3, stride=1, padding=1).out_shape == (3, 5, 5)
    with pytest.raises(ValueError, match="padding"):
        pool_cost(3, 5, 5, 3, stride=1, padding=2)


def test_concat_cost_of_one_branch():
    assert cost.concat_cost([(3, 4, 5)]).out_shape == (3, 4, 5)


def test_size_formula_ceil_mode_with_padding_and_every_window_kept():
    # nn.MaxPool2d(2, 2, padding=1, ceil_mode=True) on 6: ceil((6 + 2 - 2)/2) + 1 = 4; window 4 starts at 6 < 6 + 1
    row = pool_cost(1, 6, 6, 2, stride=2, padding=1, ceil_mode=True)
    assert row.out_shape == (1, 4, 4)
    assert row.shape_formula == "H_out = W_out = ceil((H + 2p - K)/s) + 1 = ceil((6 + 2·1 - 2)/2) + 1 = 4"


def test_conv_kind_names_a_stride_of_two():
    assert conv_cost(2, 4, 8, 8, 3, stride=2, padding=1).kind == "conv 3x3 /2"
    assert conv_cost(2, 4, 8, 8, 3, stride=1, padding=1).kind == "conv 3x3"
