"""fit / evaluate / accuracy: the loop learns, is reproducible, logs, respects train/eval, stops on NaN."""

import math

import numpy as np
import pytest

import conv1x1 as C
from conv1x1 import GlobalAvgPool2d
from conv1x1.training.losses import softmax_cross_entropy
from conv1x1.training.optim import SGD
from conv1x1.training.train import accuracy, evaluate, fit


def test_accuracy_is_the_share_of_right_argmaxes():
    assert accuracy(np.array([[0.0, 1.0], [2.0, 1.0]]), np.array([1, 1])) == 0.5
    assert accuracy(np.zeros((2, 3, 1, 1)) + np.array([0, 0, 1.0])[None, :, None, None], np.array([2, 2])) == 1.0


def toy_data(seed=0, n=120):
    """Three classes told apart by which of three channels is brightest: learnable in a few epochs."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.standard_normal((n, 3, 4, 4)) * 0.5
    x[np.arange(n), y] += 1.5
    return x, y


def small_model(seed=0):
    rng = np.random.default_rng(seed)
    return C.Sequential(C.Conv2d(3, 8, 3, padding=1, rng=rng), C.ReLU(), C.Conv1x1(8, 3, rng=rng), GlobalAvgPool2d())


def test_fit_learns_and_logs_one_line_per_epoch():
    x, y = toy_data()
    model = small_model()
    before = evaluate(model, x, y)
    lines = []
    history = fit(model, softmax_cross_entropy, SGD(model.parameters(), lr=0.1, momentum=0.9), x, y, epochs=4,
                  batch_size=16, test_data=(x, y), log=lines.append)
    assert len(history) == 4 and len(lines) == 4
    assert all("loss" in line and "train acc" in line and "test acc" in line and " s" in line for line in lines)
    assert history[-1].train_loss < history[0].train_loss
    assert history[-1].test_accuracy > 0.9 > before.accuracy
    after = evaluate(model, x, y)
    assert after.accuracy == history[-1].test_accuracy


def test_fit_is_reproducible():
    x, y = toy_data()
    results = []
    for _ in range(2):
        model = small_model()
        fit(model, softmax_cross_entropy, SGD(model.parameters(), lr=0.1, momentum=0.9), x, y, epochs=2, log=None)
        results.append(model.params)
    for name in results[0]:
        np.testing.assert_array_equal(results[0][name], results[1][name])


class ModeSpy(C.Sequential):
    """Records train()/eval() calls, as layers with a training flag will have them."""

    def __init__(self, *layers):
        super().__init__(*layers)
        self.calls, self.training = [], True

    def train(self, mode=True):
        self.calls.append("train")
        self.training = mode
        return self

    def eval(self):
        self.calls.append("eval")
        self.training = False
        return self

    def forward(self, x):
        self.calls.append("forward(train)" if self.training else "forward(eval)")
        return super().forward(x)


def test_fit_trains_in_train_mode_and_evaluates_in_eval_mode():
    x, y = toy_data(n=40)
    inner = small_model()
    model = ModeSpy(*inner.layers)
    fit(model, softmax_cross_entropy, SGD(model.parameters(), lr=0.1), x, y, epochs=2, batch_size=20,
        test_data=(x[:10], y[:10]), log=None)
    epoch = ["train", "forward(train)", "forward(train)", "eval", "forward(eval)"]
    assert model.calls == epoch * 2


def test_fit_stops_on_a_non_finite_loss():
    x, y = toy_data(n=32)
    x[5, 0, 0, 0] = np.nan
    model = small_model()
    with pytest.raises(FloatingPointError, match="epoch 0, batch"):
        fit(model, softmax_cross_entropy, SGD(model.parameters(), lr=0.1), x, y, epochs=1, batch_size=8, log=None)


def test_fit_without_test_data_reports_nan_test_numbers():
    x, y = toy_data(n=32)
    model = small_model()
    history = fit(model, softmax_cross_entropy, SGD(model.parameters(), lr=0.1), x, y, epochs=1, log=None)
    assert math.isnan(history[0].test_accuracy)


def test_fit_and_evaluate_refuse_bad_arguments():
    x, y = toy_data(n=8)
    model = small_model()
    optimizer = SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="epochs"):
        fit(model, softmax_cross_entropy, optimizer, x, y, epochs=-1)
    with pytest.raises(ValueError, match="same number"):
        fit(model, softmax_cross_entropy, optimizer, x, y[:5], epochs=1)
    with pytest.raises(ValueError, match="non-zero"):
        evaluate(model, x[:0], y[:0])


def test_evaluate_of_a_zero_model_is_log_2_and_the_share_of_class_0():
    # all-zero weights and bias: scores 0 for both classes, loss log 2; argmax of a tie is class 0
    from conv1x1.training.train import evaluate
    model = C.Sequential(C.Conv1x1(3, 2, rng=0), C.GlobalAvgPool2d())
    for value in model.params.values():
        value[...] = 0.0
    loss, accuracy = evaluate(model, np.ones((4, 3, 2, 2)), np.array([0, 0, 0, 1]))
    assert loss == pytest.approx(np.log(2)) and accuracy == pytest.approx(0.75)


def test_evaluate_on_one_example():
    from conv1x1.training.train import evaluate
    model = C.Sequential(C.Conv1x1(3, 2, rng=0), C.GlobalAvgPool2d())
    for value in model.params.values():
        value[...] = 0.0
    loss, accuracy = evaluate(model, np.ones((1, 3, 2, 2)), np.array([1]))
    assert loss == pytest.approx(np.log(2)) and accuracy == 0.0      # the tie goes to class 0


@pytest.mark.parametrize("n_x, n_y", [(0, 0), (3, 2), (2, 3)])
def test_evaluate_needs_the_same_non_zero_number_of_examples(n_x, n_y):
    from conv1x1.training.train import evaluate
    model = C.Sequential(C.Conv1x1(3, 2, rng=0), C.GlobalAvgPool2d())
    with pytest.raises(ValueError, match="same, non-zero number of examples"):
        evaluate(model, np.zeros((n_x, 3, 2, 2)), np.zeros(n_y, dtype=int))


def test_fit_logs_each_epochs_wall_time():
    """``EpochLog.seconds`` is the time the epoch took: positive, and the epochs' sum within the whole call's."""
    import time

    x, y = toy_data()
    model = small_model()
    start = time.perf_counter()
    history = fit(model, softmax_cross_entropy, SGD(model.parameters(), lr=0.1), x, y, epochs=2, batch_size=32,
                  test_data=(x, y), log=lambda line: None)
    took = time.perf_counter() - start
    assert all(entry.seconds > 0 for entry in history)
    assert sum(entry.seconds for entry in history) <= took
