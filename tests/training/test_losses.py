"""softmax_cross_entropy: values against a direct formula, gradient checks, stability, bad input."""

import numpy as np
import pytest

from conv1x1.gradcheck import numerical_gradient, rel_error
from conv1x1.training.losses import softmax_cross_entropy


def naive_loss(scores, y):
    """The textbook formula, no tricks: -mean log(exp(s_y) / sum exp(s))."""
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    return -np.mean(np.log(probs[np.arange(len(y)), y]))


def test_softmax_cross_entropy_equals_the_textbook_formula(rng):
    scores, y = rng.standard_normal((6, 5)), rng.integers(0, 5, 6)
    loss, _ = softmax_cross_entropy(scores, y)
    assert abs(loss - naive_loss(scores, y)) < 1e-12


def test_softmax_cross_entropy_of_uniform_scores_is_log_k():
    loss, dscores = softmax_cross_entropy(np.zeros((3, 10)), np.array([0, 5, 9]))
    assert abs(loss - np.log(10)) < 1e-12
    np.testing.assert_allclose(dscores.sum(axis=1), 0, atol=1e-15)  # softmax sums to 1, one-hot to 1


def test_softmax_cross_entropy_of_one_image():
    # zero scores over 4 classes: -log(1/4); gradient 1/4 - one_hot (N = 1)
    loss, dscores = softmax_cross_entropy(np.zeros((1, 4)), np.array([2]))
    assert loss == pytest.approx(np.log(4))
    np.testing.assert_allclose(dscores, [[0.25, 0.25, -0.75, 0.25]])


def test_softmax_cross_entropy_takes_n_k_1_1_scores():
    # all-zero scores over 3 classes: loss = log 3; gradient (1/3 - one_hot) / N with N = 2
    loss, dscores = softmax_cross_entropy(np.zeros((2, 3, 1, 1)), np.array([0, 2]))
    assert loss == pytest.approx(np.log(3))
    assert dscores.shape == (2, 3, 1, 1)
    np.testing.assert_allclose(dscores[:, :, 0, 0], [[-1 / 3, 1 / 6, 1 / 6], [1 / 6, 1 / 6, -1 / 3]])


def test_softmax_cross_entropy_takes_a_list_of_labels():
    loss, _ = softmax_cross_entropy(np.zeros((2, 3)), [0, 2])
    assert loss == pytest.approx(np.log(3))


@pytest.mark.parametrize("shape", [(7, 4), (7, 4, 1, 1)])
def test_softmax_cross_entropy_gradient_matches_numerical_gradients(rng, shape):
    """float64 central differences of the scalar loss, eps 1e-5; bound 1e-7 on the relative error.

    Unit-scale scores keep every softmax probability well above the rounding error of the
    differenced loss (~1e-16 / eps), which would otherwise dominate tiny gradient entries.
    """
    scores, y = rng.standard_normal(shape), rng.integers(0, 4, 7)
    _, dscores = softmax_cross_entropy(scores, y)
    assert dscores.shape == shape
    numeric = numerical_gradient(lambda s: np.array(softmax_cross_entropy(s, y)[0]), scores.copy(), np.array(1.0),
                                 eps=1e-5)
    assert rel_error(dscores, numeric) < 1e-7


def test_softmax_cross_entropy_is_stable_on_huge_scores():
    """exp(1000) overflows; the log-sum-exp trick gives the exact answer."""
    scores = np.array([[1000.0, 0.0], [0.0, -1000.0]])
    loss, dscores = softmax_cross_entropy(scores, np.array([1, 0]))
    assert abs(loss - 500.0) < 1e-9          # (1000 + 0) / 2
    np.testing.assert_allclose(dscores, [[0.5, -0.5], [0.0, 0.0]], atol=1e-12)


def test_softmax_cross_entropy_leaves_its_inputs_alone_and_keeps_the_dtype(rng):
    scores = rng.standard_normal((4, 3)).astype(np.float32)
    y = np.array([0, 1, 2, 0])
    copy_s, copy_y = scores.copy(), y.copy()
    _, dscores = softmax_cross_entropy(scores, y)
    np.testing.assert_array_equal(scores, copy_s)
    np.testing.assert_array_equal(y, copy_y)
    assert dscores.dtype == np.float32


def test_softmax_cross_entropy_of_a_nan_score_is_a_nan_loss_not_an_error():
    scores = np.zeros((2, 3))
    scores[0, 1] = np.nan
    loss, dscores = softmax_cross_entropy(scores, np.array([0, 0]))
    assert np.isnan(loss) and np.isnan(dscores[0]).all() and np.isfinite(dscores[1]).all()


@pytest.mark.parametrize("y, error, message", [
    (np.array([0, 3]), ValueError, "y[1] = 3"),
    (np.array([-1, 0]), ValueError, "y[0] = -1"),
    (np.array([0.0, 1.0]), TypeError, "astype(np.int64)"),
    (np.array([True, False]), TypeError, "Boolean"),
    (np.array([0, 1, 2]), ValueError, "same N"),
    (np.array([[0], [1]]), ValueError, "1-D"),
])
def test_softmax_cross_entropy_refuses_bad_labels(y, error, message):
    with pytest.raises(error, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        softmax_cross_entropy(np.zeros((2, 3)), y)


@pytest.mark.parametrize("y", [[0, 3], [-1, 0]])
def test_softmax_cross_entropy_refuses_labels_out_of_range(y):
    with pytest.raises(ValueError, match="labels must be in 0 .. 2"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array(y))


@pytest.mark.parametrize("y", [np.array([0.0, 1.0]), np.array([True, False]), np.array(["0", "1"])])
def test_softmax_cross_entropy_refuses_labels_that_are_not_integers(y):
    with pytest.raises(TypeError, match="integer class labels"):
        softmax_cross_entropy(np.zeros((2, 3)), y)


def test_softmax_cross_entropy_refuses_labels_and_scores_of_different_n():
    with pytest.raises(ValueError, match="same N"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="same N"):
        softmax_cross_entropy(np.zeros((3, 3)), np.array([0, 1]))


def test_softmax_cross_entropy_refuses_an_empty_batch():
    with pytest.raises(ValueError, match="empty"):
        softmax_cross_entropy(np.zeros((0, 3)), np.zeros(0, dtype=int))


@pytest.mark.parametrize("scores, error", [
    (np.zeros((2, 3, 2, 2)), ValueError),
    (np.zeros(3), ValueError),
    (np.zeros((2, 3), dtype=int), TypeError),
])
def test_softmax_cross_entropy_refuses_bad_scores(scores, error):
    with pytest.raises(error, match="scores"):
        softmax_cross_entropy(scores, np.array([0, 1]))


def test_softmax_cross_entropy_refuses_masked_scores():
    with pytest.raises(TypeError, match="masked"):
        softmax_cross_entropy(np.ma.array(np.zeros((2, 3))), np.array([0, 1]))
