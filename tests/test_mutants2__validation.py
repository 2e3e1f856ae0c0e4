"""Tests written to kill mutants of conv1x1/_validation.py that survived the suite (second mutation run).

Mutants that change only the text of an error message are counted as equivalent; these tests pin the kind of
error (TypeError for the wrong kind of object, ValueError for a wrong shape or value) and what is accepted.
"""

import numpy as np
import pytest

import conv1x1 as C
from conv1x1 import _checks as V
from conv1x1.data import check_examples
from conv1x1.gradcheck import rel_error
from conv1x1.losses import softmax_cross_entropy
from conv1x1.models.zoo import check_width_multiplier


def test_masked_arrays_are_refused():
    with pytest.raises(TypeError, match="masked"):
        V.check_float_array(np.ma.array([1.0, 2.0], mask=[0, 1]), "x")
    with pytest.raises(TypeError, match="masked"):
        softmax_cross_entropy(np.ma.array(np.zeros((2, 3))), np.array([0, 1]))


def test_rel_error_refuses_different_shapes():
    with pytest.raises(ValueError, match="same shape"):
        rel_error(np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match="same shape"):
        rel_error(np.zeros((2, 3)), np.zeros((3, 2)))          # same size, different shape


def test_integer_weights_are_refused():
    x = np.ones((1, 3, 2, 2))
    with pytest.raises(TypeError, match="w"):
        C.conv1x1_forward(x, np.ones((2, 3), dtype=int))
    with pytest.raises(TypeError, match="w"):
        V.check_weight(np.ones((2, 3), dtype=int), 2, 3)
    assert V.check_weight([[1.0, 2.0, 3.0]], 2, 3).shape == (1, 3)     # a list of floats is converted


def test_non_square_kernels_are_refused():
    from conv1x1.functional.conv2d import conv2d_forward
    with pytest.raises(ValueError, match="square"):
        conv2d_forward(np.ones((1, 3, 5, 5)), np.ones((2, 3, 3, 1)))


@pytest.mark.parametrize("forward, w", [(C.conv1x1_forward, np.ones((3, 2))), (None, np.ones((3, 2, 1, 1)))])
def test_filters_must_split_into_groups(forward, w):
    from conv1x1.functional.conv2d import conv2d_forward
    forward = forward or conv2d_forward
    # 4 input channels in 2 groups of 2, but 3 filters cannot be split into 2 groups
    with pytest.raises(ValueError, match="groups"):
        forward(np.ones((1, 4, 2, 2)), w, groups=2)


@pytest.mark.parametrize("branches", ["", b"", "abc", 5, None])
def test_concat_cost_refuses_branches_that_are_not_a_sequence_of_shapes(branches):
    from conv1x1.cost import concat_cost
    with pytest.raises(TypeError, match="branches"):
        concat_cost(branches)


def test_concat_cost_refuses_branches_of_different_sizes():
    from conv1x1.cost import concat_cost
    with pytest.raises(ValueError, match="share H and W"):
        concat_cost([(3, 4, 4), (3, 5, 5)])
    with pytest.raises(ValueError, match="share H and W"):
        concat_cost([(3, 4, 4), (3, 4, 5)])


@pytest.mark.parametrize("value", [3, np.int64(3), np.float32(3.0), 3.0])
def test_check_real_returns_a_python_float(value):
    result = V.check_real(value, "x")
    assert type(result) is float and result == 3.0


def test_numerical_gradient_refuses_a_read_only_x():
    from conv1x1.gradcheck import numerical_gradient
    x = np.ones(3)
    x.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        numerical_gradient(lambda v: v * 2.0, x, np.ones(3))


@pytest.mark.parametrize("alpha", [0, 0.0, -0.5, 1.01, 2])
def test_width_multiplier_must_be_in_zero_one(alpha):
    from conv1x1 import models
    with pytest.raises(ValueError, match="width_multiplier"):
        models.mobilenet_v1(width_multiplier=alpha)


@pytest.mark.parametrize("alpha", [1.0, 0.25])
def test_width_multiplier_bounds_accepted(alpha):
    assert check_width_multiplier(alpha) == alpha


def test_check_choice_refuses_other_values():
    assert V.check_choice("1x1", "stride_on", ("1x1", "3x3"), "a kernel") == "1x1"
    with pytest.raises(ValueError, match="stride_on"):
        V.check_choice("2x2", "stride_on", ("1x1", "3x3"), "a kernel")


def test_a_weight_with_no_filters_is_refused():
    with pytest.raises(ValueError, match="at least one filter"):
        C.conv1x1_forward(np.ones((1, 3, 2, 2)), np.ones((0, 3)))


def test_grouped_weight_with_the_wrong_depth_is_refused():
    # 4 input channels in 2 groups: each filter must see 4 // 2 = 2 channels, not 3
    with pytest.raises(ValueError, match="input channels per filter"):
        C.conv1x1_forward(np.ones((1, 4, 2, 2)), np.ones((2, 3)), groups=2)


def test_softmax_cross_entropy_takes_n_k_1_1_scores():
    # all-zero scores over 3 classes: loss = log 3; gradient (1/3 - one_hot) / N with N = 2
    loss, dscores = softmax_cross_entropy(np.zeros((2, 3, 1, 1)), np.array([0, 2]))
    assert loss == pytest.approx(np.log(3))
    assert dscores.shape == (2, 3, 1, 1)
    np.testing.assert_allclose(dscores[:, :, 0, 0], [[-1 / 3, 1 / 6, 1 / 6], [1 / 6, 1 / 6, -1 / 3]])


def test_softmax_cross_entropy_takes_a_list_of_labels():
    loss, _ = softmax_cross_entropy(np.zeros((2, 3)), [0, 2])
    assert loss == pytest.approx(np.log(3))


def test_labels_must_be_one_dimensional():
    with pytest.raises(ValueError, match="1-D"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([[0], [2]]))


def test_an_empty_batch_is_refused():
    with pytest.raises(ValueError, match="empty"):
        softmax_cross_entropy(np.zeros((0, 3)), np.zeros(0, dtype=int))


@pytest.mark.parametrize("groups, error", [(0, ValueError), (-2, ValueError), (2.0, TypeError), (True, TypeError)])
def test_groups_must_be_a_positive_int(groups, error):
    from conv1x1.cost import conv_cost
    with pytest.raises(error, match="groups"):
        conv_cost(4, 4, 3, 3, 1, groups=groups)
    if groups is not True:    # True == 1 there: x is first checked against w's depth as for groups=1
        with pytest.raises(error, match="groups"):
            C.conv1x1_forward(np.ones((1, 4, 2, 2)), np.ones((4, 2)), groups=groups)


@pytest.mark.parametrize("y", [[0, 3], [-1, 0]])
def test_labels_out_of_range_are_refused(y):
    with pytest.raises(ValueError, match="labels must be in 0 .. 2"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array(y))


def test_split_refuses_two_dimensional_labels():
    from conv1x1.data import train_test_split
    with pytest.raises(ValueError, match="1-D"):
        train_test_split(np.zeros((10, 3)), np.zeros((10, 1), dtype=int))
    with pytest.raises(ValueError, match="batch axis"):
        train_test_split(np.array(1.0), np.zeros(1, dtype=int))


def test_check_examples_refuses_an_empty_set():
    with pytest.raises(ValueError, match="empty"):
        check_examples(np.zeros((0, 3)), np.zeros(0, dtype=int))


@pytest.mark.parametrize("fraction", ["0.5", None, [0.5]])
def test_split_refuses_a_test_fraction_that_is_not_a_number(fraction):
    from conv1x1.data import train_test_split
    with pytest.raises((TypeError, ValueError), match="test_fraction"):
        train_test_split(np.zeros((10, 3)), np.arange(10), fraction)


def test_backward_refuses_a_plain_tuple_as_cache():
    x, w, b = np.ones((1, 3, 2, 2)), np.ones((2, 3)), np.zeros(2)
    out, cache = C.conv1x1_forward(x, w, b)
    with pytest.raises(TypeError, match="cache"):
        C.conv1x1_backward(np.ones_like(out), tuple(cache))


@pytest.mark.parametrize("fraction", [0.01, 0.99])
def test_split_refuses_a_fraction_that_leaves_a_part_empty(fraction):
    # round(0.01 * 10) = 0 test examples; round(0.99 * 10) = 10, leaving 0 for training
    from conv1x1.data import train_test_split
    with pytest.raises(ValueError, match="empty part"):
        train_test_split(np.zeros((10, 3)), np.arange(10), fraction)


@pytest.mark.parametrize("momentum, error", [(-0.1, ValueError), (1.5, ValueError), ("0.1", TypeError),
                                             (True, TypeError), (float("nan"), ValueError)])
def test_batchnorm_momentum_must_be_a_number_in_zero_one(momentum, error):
    with pytest.raises(error, match="momentum"):
        C.BatchNorm2d(3, momentum=momentum)


def test_batchnorm_momentum_becomes_a_float():
    assert type(C.BatchNorm2d(3, momentum=1).momentum) is float


def test_sgd_hyperparameters_become_floats():
    from conv1x1.optim import SGD
    optimizer = SGD([(np.zeros(2), np.zeros(2))], lr=1, momentum=np.float32(0.5), weight_decay=0)
    assert repr(optimizer) == "SGD(lr=1.0, momentum=0.5, weight_decay=0.0)"
    assert all(type(v) is float for v in (optimizer.lr, optimizer.momentum, optimizer.weight_decay))


@pytest.mark.parametrize("alpha, error", [(True, TypeError), ("0.5", TypeError), (float("nan"), ValueError)])
def test_width_multiplier_must_be_a_real_number(alpha, error):
    from conv1x1 import models
    with pytest.raises(error, match="width_multiplier"):
        models.mobilenet_v1(width_multiplier=alpha)


@pytest.mark.parametrize("count", ["12", True, np.True_, [1], b"1"])
def test_human_refuses_counts_that_are_not_numbers(count):
    from conv1x1.cost import human
    with pytest.raises(TypeError, match="count"):
        human(count)


def test_sgd_refuses_no_parameters():
    from conv1x1.optim import SGD
    with pytest.raises(ValueError, match="empty"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match="empty"):
        SGD(iter(()), lr=0.1)


@pytest.mark.parametrize("title", [5, None, b"net"])
def test_report_title_must_be_a_str(title):
    from conv1x1.cost.report import Report
    with pytest.raises(TypeError, match="title"):
        Report([], title=title)


def test_machine_peaks_refuse_an_unmeasured_dtype():
    from conv1x1.timing import MachinePeaks
    peaks = MachinePeaks({"float32": 2.0}, 4.0, "made up")
    assert peaks.macs_per_second(np.float32) == 2e9
    with pytest.raises(ValueError, match="float64"):
        peaks.macs_per_second(np.float64)


@pytest.mark.parametrize("y", [np.array([0.0, 1.0]), np.array([True, False]), np.array(["0", "1"])])
def test_labels_must_be_integers(y):
    with pytest.raises(TypeError, match="integer class labels"):
        softmax_cross_entropy(np.zeros((2, 3)), y)


def test_labels_and_scores_must_have_the_same_n():
    with pytest.raises(ValueError, match="same N"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="same N"):
        softmax_cross_entropy(np.zeros((3, 3)), np.array([0, 1]))


def test_split_takes_arrays_of_the_same_length_only():
    from conv1x1.data import train_test_split
    with pytest.raises(TypeError, match="ndarrays"):
        train_test_split([[0.0]] * 10, list(range(10)))
    with pytest.raises(ValueError, match="same number of examples"):
        train_test_split(np.zeros((10, 3)), np.arange(9))


@pytest.mark.parametrize("n_x, n_y", [(0, 0), (3, 2), (2, 3)])
def test_evaluate_takes_the_same_non_zero_number_of_examples(n_x, n_y):
    from conv1x1.train import evaluate
    model = C.Sequential(C.Conv1x1(3, 2, rng=0), C.GlobalAvgPool2d())
    with pytest.raises(ValueError, match="same, non-zero number of examples"):
        evaluate(model, np.zeros((n_x, 3, 2, 2)), np.zeros(n_y, dtype=int))


@pytest.mark.parametrize("name", ["lr", "momentum", "weight_decay"])
@pytest.mark.parametrize("value", ["0.1", True, None, np.array(0.1)])
def test_sgd_hyperparameters_must_be_real_numbers(name, value):
    from conv1x1.optim import SGD
    kwargs = {"lr": 0.1, name: value}
    with pytest.raises(TypeError, match=name):
        SGD([(np.zeros(2), np.zeros(2))], **kwargs)


@pytest.mark.parametrize("kwargs", [{"lr": 0.0}, {"lr": -0.1}, {"lr": float("nan")}, {"lr": float("inf")},
                                    {"lr": 0.1, "momentum": -0.5}, {"lr": 0.1, "weight_decay": -1e-4},
                                    {"lr": 0.1, "momentum": float("inf")}])
def test_sgd_hyperparameter_values(kwargs):
    from conv1x1.optim import SGD
    with pytest.raises(ValueError, match="finite number"):
        SGD([(np.zeros(2), np.zeros(2))], **kwargs)


def test_sgd_reads_a_generator_of_pairs_once_and_keeps_them():
    from conv1x1.optim import SGD
    p, g = np.array([1.0]), np.array([2.0])
    optimizer = SGD(((a, b) for a, b in [(p, g)]), lr=0.5)
    optimizer.step()                       # p = 1 - 0.5 * 2 = 0
    optimizer.step()                       # p = 0 - 0.5 * 2 = -1
    np.testing.assert_array_equal(p, [-1.0])


@pytest.mark.parametrize("pairs, error", [
    ([np.zeros(2)], TypeError),                               # not a pair
    ([(np.zeros(2),)], TypeError),                            # one array
    ([(np.zeros(2), np.zeros(2, dtype=int))], TypeError),    # integer grad
    ([([0.0, 0.0], np.zeros(2))], TypeError),                 # a list cannot be updated in place
    ([(np.zeros(2), np.zeros(3))], ValueError),               # shapes differ
])
def test_sgd_checks_every_pair(pairs, error):
    from conv1x1.optim import SGD
    with pytest.raises(error):
        SGD(pairs, lr=0.1)


@pytest.mark.parametrize("branches", [[(3, 4)], [(3, 4, 4, 1)], [5], [(3, 4, 4), "abc"]])
def test_concat_cost_refuses_branches_that_are_not_c_h_w(branches):
    from conv1x1.cost import concat_cost
    with pytest.raises(TypeError, match=r"branches\["):
        concat_cost(branches)


def test_evaluate_on_valid_examples():
    # all-zero weights and bias: scores 0 for both classes, loss log 2; argmax of a tie is class 0
    from conv1x1.train import evaluate
    model = C.Sequential(C.Conv1x1(3, 2, rng=0), C.GlobalAvgPool2d())
    for value in model.params.values():
        value[...] = 0.0
    loss, accuracy = evaluate(model, np.ones((4, 3, 2, 2)), np.array([0, 0, 0, 1]))
    assert loss == pytest.approx(np.log(2)) and accuracy == pytest.approx(0.75)


@pytest.mark.parametrize("b_dtype, out_dtype", [(np.float64, np.float64), (np.float32, np.float32)])
def test_the_bias_takes_part_in_dtype_promotion(b_dtype, out_dtype):
    # NumPy promotion: float32 with float64 gives float64
    x, w = np.ones((1, 3, 2, 2), np.float32), np.ones((2, 3), np.float32)
    out, _ = C.conv1x1_forward(x, w, np.zeros(2, b_dtype))
    assert out.dtype == out_dtype


@pytest.mark.parametrize("pair", [[np.zeros(2), np.zeros(2)], (np.zeros(2), np.zeros(2), np.zeros(2)), np.zeros(2)])
def test_sgd_items_must_be_two_tuples(pair):
    from conv1x1.optim import SGD
    with pytest.raises(TypeError, match=r"\(param, grad\) pairs; item 0"):
        SGD([pair], lr=0.1)


@pytest.mark.parametrize("kernel_size", [2, 4])
def test_same_padding_needs_an_odd_kernel(kernel_size):
    from conv1x1.cost import conv_cost
    with pytest.raises(ValueError, match="odd kernel size"):
        conv_cost(3, 4, 5, 5, kernel_size, padding="same")
    assert conv_cost(3, 4, 5, 5, kernel_size + 1, padding="same").out_shape == (4, 5, 5)   # odd: (K-1)/2 keeps 5


def test_split_sizes():
    # round(0.3 * 10) = 3 test examples, 7 for training, every label once
    from conv1x1.data import train_test_split
    x_train, x_test, y_train, y_test = train_test_split(np.zeros((10, 3)), np.arange(10), 0.3)
    assert x_train.shape == (7, 3) and x_test.shape == (3, 3)
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == list(range(10))


def test_split_refuses_one_list_with_one_array():
    from conv1x1.data import train_test_split
    with pytest.raises(TypeError, match="ndarrays"):
        train_test_split([[0.0]] * 10, np.arange(10))
    with pytest.raises(TypeError, match="ndarrays"):
        train_test_split(np.zeros((10, 1)), list(range(10)))


@pytest.mark.parametrize("padding, stride, match", [("valid", 1, "non-negative integer or"),
                                                    ("SAME", 1, "non-negative integer or"),
                                                    ("same", 2, "needs stride=1")])
def test_string_paddings(padding, stride, match):
    from conv1x1.cost import conv_cost
    with pytest.raises(ValueError, match=match):
        conv_cost(3, 4, 5, 5, 3, stride=stride, padding=padding)


def test_a_channels_last_image_gets_a_value_error_with_a_hint():
    with pytest.raises(ValueError, match="channels-last"):
        V.check_image_batch(np.ones((4, 4, 3)), channels=3)
    with pytest.raises(ValueError, match=r"x\[None\]"):
        V.check_image_batch(np.ones((3, 4, 4)), channels=3)


def test_padding_up_to_input_plus_kernel_is_allowed():
    from conv1x1.cost import conv_cost
    # 1x1 input, K=1: padding 2 = 1 + 1 is the largest allowed; (1 + 2*2 - 1)//1 + 1 = 5
    assert conv_cost(1, 1, 1, 1, 1, padding=2).out_shape == (1, 5, 5)
    with pytest.raises(ValueError, match="padding 3 is larger"):
        conv_cost(1, 1, 1, 1, 1, padding=3)


def test_softmax_cross_entropy_of_one_image():
    # zero scores over 4 classes: -log(1/4); gradient 1/4 - one_hot (N = 1)
    loss, dscores = softmax_cross_entropy(np.zeros((1, 4)), np.array([2]))
    assert loss == pytest.approx(np.log(4))
    np.testing.assert_allclose(dscores, [[0.25, 0.25, -0.75, 0.25]])


class _ForwardOnly:
    def forward(self, x):
        return x


class _BackwardOnly:
    def backward(self, dout):
        return dout


@pytest.mark.parametrize("layer", [_ForwardOnly(), _BackwardOnly(), object()])
def test_containers_need_forward_and_backward(layer):
    with pytest.raises(TypeError):
        C.Sequential(C.Conv1x1(3, 2, rng=0), layer)


def test_evaluate_on_one_example():
    from conv1x1.train import evaluate
    model = C.Sequential(C.Conv1x1(3, 2, rng=0), C.GlobalAvgPool2d())
    for value in model.params.values():
        value[...] = 0.0
    loss, accuracy = evaluate(model, np.ones((1, 3, 2, 2)), np.array([1]))
    assert loss == pytest.approx(np.log(2)) and accuracy == 0.0      # the tie goes to class 0
