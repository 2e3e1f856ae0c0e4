"""Real images to train on: scikit-learn's handwritten digits, a fixed split, shuffled mini-batches.

``load_digits`` needs scikit-learn (``pip install "conv1x1[examples]"``); the 1,797 images of 8x8
pixels ship inside it, so nothing is downloaded. ``train_test_split`` and ``batches`` are plain
NumPy and work on any arrays. Every shuffle is seeded, so a run can be repeated exactly, and
``batches`` draws epoch ``e``'s order from ``(seed, e)`` alone, so a run resumed at epoch ``e``
sees the same batches as one that never stopped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._checks import check_non_negative_int, check_positive_int

__all__ = ["load_digits", "train_test_split", "batches"]


def load_digits() -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """The 1,797 handwritten digits of scikit-learn (UCI optical digits), as an image batch.

    Returns
    -------
    x : ndarray, float64, shape (1797, 1, 8, 8)
        Grey levels scaled from 0 .. 16 to 0 .. 1; one channel.
    y : ndarray, int64, shape (1797,)
        The digit shown, 0 .. 9.

    Raises
    ------
    ImportError
        If scikit-learn is not installed, with the command that installs it.
    """
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as error:
        raise ImportError('load_digits needs scikit-learn: pip install "conv1x1[examples]" '
                          '(or pip install scikit-learn)') from error
    digits: Any = sklearn_load_digits()      # a Bunch: .images (1797, 8, 8), .target (1797,)
    x = digits.images.astype(np.float64)[:, None, :, :] / 16.0
    return x, digits.target.astype(np.int64)


def train_test_split(x: NDArray[Any], y: NDArray[Any], test_fraction: float = 0.2,
                     seed: int = 0) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any], NDArray[Any]]:
    """Split x and y into a training part and a test part by one seeded permutation.

    Parameters
    ----------
    x : ndarray, shape (N, ...)
    y : ndarray, shape (N,)
    test_fraction : float, default 0.2
        Strictly between 0 and 1; ``round(test_fraction * N)`` examples go to the test part.
    seed : int, default 0
        The same seed always gives the same split.

    Returns
    -------
    x_train, x_test, y_train, y_test : ndarray
        Copies (fancy indexing), in the permuted order.

    Examples
    --------
    >>> import numpy as np
    >>> from conv1x1.training.data import train_test_split
    >>> x_train, x_test, y_train, y_test = train_test_split(np.zeros((10, 3)), np.arange(10), 0.3)
    >>> x_train.shape, x_test.shape, sorted(np.concatenate([y_train, y_test]).tolist()) == list(range(10))
    ((7, 3), (3, 3), True)
    """
    check_examples(x, y)
    n = x.shape[0]
    test_fraction = check_test_fraction(test_fraction, n)
    n_test = round(test_fraction * n)
    order = np.random.default_rng(check_non_negative_int(seed, "seed")).permutation(n)
    test, train = order[:n_test], order[n_test:]
    return x[train], x[test], y[train], y[test]


def batches(x: NDArray[Any], y: NDArray[Any], batch_size: int, seed: int = 0,
            epoch: int = 0) -> Iterator[tuple[NDArray[Any], NDArray[Any]]]:
    """Yield shuffled mini-batches ``(x_batch, y_batch)`` covering every example once.

    Parameters
    ----------
    x : ndarray, shape (N, ...)
    y : ndarray, shape (N,)
    batch_size : int
        Examples per batch; the last batch holds the remainder (it may be smaller).
    seed : int, default 0
    epoch : int, default 0
        The order is drawn from ``np.random.default_rng([seed, epoch])``: the same
        (seed, epoch) always gives the same batches, whatever ran before.

    Returns
    -------
    iterator of (x_batch, y_batch)
        ``x_batch`` has shape (B, ...), ``y_batch`` shape (B,). The arguments are
        checked when ``batches`` is called, not when the first batch is drawn.

    Examples
    --------
    >>> import numpy as np
    >>> from conv1x1.training.data import batches
    >>> [yb.tolist() for _, yb in batches(np.zeros((5, 2)), np.arange(5), batch_size=2, seed=0)]
    [[2, 4], [3, 0], [1]]
    """
    check_examples(x, y)
    batch_size = check_positive_int(batch_size, "batch_size")
    rng = np.random.default_rng([check_non_negative_int(seed, "seed"), check_non_negative_int(epoch, "epoch")])
    order = rng.permutation(x.shape[0])
    return _slices(x, y, order, batch_size)   # checked now, when called, not at the first next()


def _slices(x: NDArray[Any], y: NDArray[Any], order: NDArray[np.intp],
            batch_size: int) -> Iterator[tuple[NDArray[Any], NDArray[Any]]]:
    for start in range(0, len(order), batch_size):
        index = order[start:start + batch_size]
        yield x[index], y[index]


# ---------------------------------------------------------------- checks that belong here

def check_examples(x: object, y: object) -> tuple[NDArray[Any], NDArray[Any]]:
    """Return ``(x, y)`` if x (N, ...) and y (N,) are arrays holding the same, non-zero number of examples."""
    if not isinstance(x, np.ndarray) or not isinstance(y, np.ndarray):
        raise TypeError(f"x and y must be ndarrays, got {type(x).__name__} and {type(y).__name__}")
    if x.ndim == 0 or y.ndim != 1:
        raise ValueError(f"x must have a batch axis and y must be 1-D (N,), got shapes {x.shape} and {y.shape}")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y must hold the same number of examples, got {x.shape[0]} and {y.shape[0]}")
    if x.shape[0] == 0:
        raise ValueError("x and y are empty (N = 0): there is nothing to split or batch")
    return x, y



def check_test_fraction(test_fraction: float, n: int) -> float:
    """Return ``test_fraction`` (unconverted) if it is a number strictly between 0 and 1 that splits n examples.

    ``round(test_fraction * n)`` examples go to testing: both parts must be non-empty.
    """
    if isinstance(test_fraction, (bool, np.bool_)) or not isinstance(test_fraction, (int, float, np.floating)):
        raise TypeError(f"test_fraction must be a number strictly between 0 and 1, got {test_fraction!r}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be a number strictly between 0 and 1, got {test_fraction!r}")
    n_test = round(test_fraction * n)
    if not 0 < n_test < n:
        raise ValueError(f"test_fraction={test_fraction} of {n} examples leaves an empty part "
                         f"({n_test} for testing, {n - n_test} for training)")
    return test_fraction
