"""Digits, the split and the batches: shapes, ranges, reproducibility, bad arguments."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import conv1x1
from conv1x1.training.data import batches, load_digits, train_test_split


def test_load_digits_gives_the_digits_scaled_to_0_1():
    pytest.importorskip("sklearn")
    x, y = load_digits()
    assert x.shape == (1797, 1, 8, 8) and x.dtype == np.float64 and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    assert sorted(np.unique(y).tolist()) == list(range(10))


def test_load_digits_without_sklearn_says_how_to_install(tmp_path):
    (tmp_path / "sklearn").mkdir()
    (tmp_path / "sklearn" / "__init__.py").write_text("raise ImportError('hidden for this test')\n")
    code = ("from conv1x1.training.data import load_digits\n"
            "try:\n    load_digits()\nexcept ImportError as e:\n    print(e)\n")
    root = Path(conv1x1.__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": os.pathsep.join([str(tmp_path), str(root)])}).stdout
    assert 'pip install "conv1x1[examples]"' in out


def test_train_test_split_is_a_seeded_partition():
    x, y = np.arange(100.0).reshape(50, 2), np.arange(50)
    _, x_test, y_train, y_test = train_test_split(x, y, 0.2, seed=3)
    assert len(y_test) == 10 and len(y_train) == 40
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == list(range(50))
    np.testing.assert_array_equal(x_test[:, 0], 2 * y_test)           # rows stay with their labels
    again = train_test_split(x, y, 0.2, seed=3)
    np.testing.assert_array_equal(again[3], y_test)
    assert not np.array_equal(train_test_split(x, y, 0.2, seed=4)[3], y_test)


def test_train_test_split_sizes():
    # round(0.3 * 10) = 3 test examples, 7 for training, every label once
    x_train, x_test, y_train, y_test = train_test_split(np.zeros((10, 3)), np.arange(10), 0.3)
    assert x_train.shape == (7, 3) and x_test.shape == (3, 3)
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == list(range(10))


def test_train_test_split_refuses_two_dimensional_labels_and_a_scalar_x():
    with pytest.raises(ValueError, match="1-D"):
        train_test_split(np.zeros((10, 3)), np.zeros((10, 1), dtype=int))
    with pytest.raises(ValueError, match="batch axis"):
        train_test_split(np.array(1.0), np.zeros(1, dtype=int))


@pytest.mark.parametrize("fraction", [0.01, 0.99])
def test_train_test_split_refuses_a_fraction_that_leaves_a_part_empty(fraction):
    # round(0.01 * 10) = 0 test examples; round(0.99 * 10) = 10, leaving 0 for training
    with pytest.raises(ValueError, match="empty part"):
        train_test_split(np.zeros((10, 3)), np.arange(10), fraction)


@pytest.mark.parametrize("fraction", ["0.5", None, [0.5]])
def test_train_test_split_refuses_a_test_fraction_that_is_not_a_number(fraction):
    with pytest.raises(TypeError, match="test_fraction must be a number"):
        train_test_split(np.zeros((10, 3)), np.arange(10), fraction)


def test_train_test_split_takes_arrays_of_the_same_length_only():
    with pytest.raises(TypeError, match="ndarrays"):
        train_test_split([[0.0]] * 10, list(range(10)))
    with pytest.raises(ValueError, match="same number of examples"):
        train_test_split(np.zeros((10, 3)), np.arange(9))


def test_train_test_split_refuses_one_list_with_one_array():
    with pytest.raises(TypeError, match="ndarrays"):
        train_test_split([[0.0]] * 10, np.arange(10))
    with pytest.raises(TypeError, match="ndarrays"):
        train_test_split(np.zeros((10, 1)), list(range(10)))


def test_batches_cover_everything_once_and_repeat_with_the_seed():
    x, y = np.arange(20.0)[:, None] * 10, np.arange(20)
    epoch0 = list(batches(x, y, 6, seed=1, epoch=0))
    assert [len(yb) for _, yb in epoch0] == [6, 6, 6, 2]
    assert sorted(np.concatenate([yb for _, yb in epoch0]).tolist()) == list(range(20))
    assert all(np.array_equal(xb[:, 0], yb * 10) for xb, yb in epoch0)
    again = list(batches(x, y, 6, seed=1, epoch=0))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(epoch0, again))
    epoch1 = np.concatenate([yb for _, yb in batches(x, y, 6, seed=1, epoch=1)])
    assert not np.array_equal(epoch1, np.concatenate([yb for _, yb in epoch0]))


@pytest.mark.parametrize("call, error, message", [
    (lambda: batches(np.zeros((3, 2)), np.zeros(4), 2), ValueError, "same number"),
    (lambda: batches(np.zeros((0, 2)), np.zeros(0), 2), ValueError, "empty"),
    (lambda: batches(np.zeros((3, 2)), np.zeros(3), 0), ValueError, "batch_size"),
    (lambda: batches(np.zeros((3, 2)), np.zeros(3), 2.0), TypeError, "batch_size"),
    (lambda: batches(np.zeros((3, 2)), np.zeros(3), 2, seed=-1), ValueError, "seed"),
    (lambda: batches([0, 1], np.zeros(2), 1), TypeError, "ndarrays"),
    (lambda: train_test_split(np.zeros((10, 2)), np.zeros(10), 1.0), ValueError, "test_fraction"),
    (lambda: train_test_split(np.zeros((10, 2)), np.zeros(10), 0.01), ValueError, "empty part"),
    (lambda: train_test_split(np.zeros((10, 2)), np.zeros(9)), ValueError, "same number"),
    (lambda: train_test_split(np.zeros((0, 3)), np.zeros(0, dtype=int)), ValueError, "x and y are empty"),
])
def test_batches_and_train_test_split_refuse_bad_arguments_when_called(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_train_test_split_may_leave_one_example_on_either_side():
    """Both parts must be non-empty, and one example is not empty: 10% of 10 is one test example, 90% one to train."""
    x, y = np.zeros((10, 3)), np.arange(10)
    x_train, x_test, y_train, y_test = train_test_split(x, y, 0.1)
    assert (len(x_train), len(x_test), len(y_train), len(y_test)) == (9, 1, 9, 1)
    x_train, x_test, y_train, y_test = train_test_split(x, y, 0.9)
    assert (len(x_train), len(x_test), len(y_train), len(y_test)) == (1, 9, 1, 9)
