"""A training loop short enough to read in one go, and the accuracy it reports.

``fit`` is the loop a student would write, with the bookkeeping around it::

    for epoch in range(epochs):
        model.train()                                        # if the model has train()/eval()
        for xb, yb in batches(x_train, y_train, batch_size, seed, epoch):
            scores = model.forward(xb)                       # (B, K) or (B, K, 1, 1)
            loss, dscores = loss_fn(scores, yb)
            model.backward(dscores)                          # fills every layer's grads
            optimizer.step()                                 # updates every parameter in place
        test = evaluate(model, x_test, y_test)               # in eval mode

``backward`` overwrites the gradients (it does not add to them), so no zeroing is needed.
Models with ``train()`` / ``eval()`` (layers whose behaviour differs between training and
inference, such as batch normalisation) are switched with them; models without them are
used as they are.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sized
from typing import Any, NamedTuple, Protocol, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_non_negative_int, check_positive_int
from .data import batches
from .losses import softmax_cross_entropy

__all__ = ["fit", "evaluate", "accuracy", "Evaluation", "EpochLog"]

LossFunction = Callable[[NDArray[Any], NDArray[Any]], tuple[float, NDArray[Any]]]   # (scores, y) -> (loss, dscores)
S = TypeVar("S", bound=Sized)


class Model(Protocol):
    """What ``fit`` and ``evaluate`` need of a model: a layer's ``forward`` and ``backward``."""

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        """The scores of a batch."""
        ...

    def backward(self, dout: NDArray[Any]) -> NDArray[Any]:
        """Fill the gradients from the scores' gradient."""
        ...


class Optimizer(Protocol):
    """What ``fit`` needs of an optimizer (``SGD`` has it)."""

    def step(self) -> None:
        """Update the parameters from their gradients."""
        ...


class Evaluation(NamedTuple):
    """Mean loss and accuracy (a fraction, 0 .. 1) over a data set."""

    loss: float
    accuracy: float


class EpochLog(NamedTuple):
    """One epoch of ``fit``: the line it prints, as numbers.

    ``train_loss`` and ``train_accuracy`` are means over the epoch's batches as they were
    trained on (the model changes during the epoch); ``test_*`` are measured after it, in
    eval mode (NaN without test data); ``seconds`` is the epoch's wall time, evaluation included.
    """

    epoch: int
    train_loss: float
    train_accuracy: float
    test_loss: float
    test_accuracy: float
    seconds: float


def accuracy(scores: NDArray[np.floating[Any]], y: ArrayLike) -> float:
    """Fraction of rows whose highest score is at the true label.

    Parameters
    ----------
    scores : ndarray, shape (N, K) or (N, K, 1, 1)
    y : ndarray of int, shape (N,)

    Examples
    --------
    >>> import numpy as np
    >>> from conv1x1.training.train import accuracy
    >>> accuracy(np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]), np.array([1, 0, 0]))
    0.6666666666666666
    """
    scores = np.asarray(scores)
    scores = scores.reshape(scores.shape[0], -1)
    return float(np.mean(scores.argmax(axis=1) == np.asarray(y)))


def _set_mode(model: object, training: bool) -> None:
    """model.train() / model.eval() if the model has them (layers gain them in a later version)."""
    method = getattr(model, "train" if training else "eval", None)
    if callable(method):
        method()


def evaluate(model: Model, x: NDArray[Any], y: NDArray[Any], loss_fn: LossFunction = softmax_cross_entropy,
             batch_size: int = 500) -> Evaluation:
    """Mean loss and accuracy of ``model`` on (x, y), in eval mode, without training it.

    Parameters
    ----------
    model : Layer
    x : ndarray, shape (N, ...)
    y : ndarray of int, shape (N,)
    loss_fn : callable, default softmax_cross_entropy
    batch_size : int, default 500
        Forward passes run in chunks of this many, to bound memory.

    Returns
    -------
    Evaluation
        ``(loss, accuracy)``, both means over the N examples.

    Notes
    -----
    The model is left in eval mode if it has ``eval()``; ``fit`` switches it back.
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    x, y = check_example_counts(x, y)
    _set_mode(model, training=False)
    total_loss = total_correct = 0.0
    for start in range(0, len(x), batch_size):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        scores = model.forward(xb)
        total_loss += loss_fn(scores, yb)[0] * len(yb)
        total_correct += accuracy(scores, yb) * len(yb)
    return Evaluation(total_loss / len(x), total_correct / len(x))


def fit(model: Model, loss_fn: LossFunction, optimizer: Optimizer, x_train: NDArray[Any], y_train: NDArray[Any],
        epochs: int, batch_size: int = 64, seed: int = 0, test_data: tuple[NDArray[Any], NDArray[Any]] | None = None,
        start_epoch: int = 0, log: Callable[[str], object] | None = print) -> list[EpochLog]:
    """Train ``model`` with mini-batch gradient descent; one line of progress per epoch.

    Parameters
    ----------
    model : Layer
        Anything with ``forward``, ``backward`` and (optionally) ``train`` / ``eval``.
    loss_fn : callable
        ``loss_fn(scores, y) -> (loss, dscores)``, e.g. ``softmax_cross_entropy``.
    optimizer : object with ``step()``
        Built on ``model.parameters()``, e.g. ``SGD(model.parameters(), lr=0.1)``.
    x_train : ndarray, shape (N, C, H, W)
    y_train : ndarray of int, shape (N,)
    epochs : int
        Train epochs ``start_epoch .. epochs - 1``.
    batch_size : int, default 64
    seed : int, default 0
        Epoch ``e`` uses ``batches(x_train, y_train, batch_size, seed, epoch=e)``.
    test_data : (x_test, y_test), optional
        Evaluated after every epoch.
    start_epoch : int, default 0
        Where to resume: with the model (and optimizer) restored from a checkpoint
        saved after epoch ``start_epoch - 1``, the run continues exactly as if uninterrupted.
    log : callable or None, default print
        Receives each epoch's line of text; None for silence.

    Returns
    -------
    history : list of EpochLog
        One per epoch trained. With ``test_data`` the model is left in eval mode (if it has one).

    Raises
    ------
    FloatingPointError
        On the first non-finite loss (usually a learning rate that is too high, or NaN in the
        data), naming the epoch and batch; no step is taken on that batch.
    """
    epochs = check_non_negative_int(epochs, "epochs")
    start_epoch = check_non_negative_int(start_epoch, "start_epoch")
    history = []
    for epoch in range(start_epoch, epochs):
        start = time.perf_counter()
        _set_mode(model, training=True)
        losses, correct, seen = [], 0.0, 0
        for i, (xb, yb) in enumerate(batches(x_train, y_train, batch_size, seed, epoch)):
            scores = model.forward(xb)
            loss, dscores = loss_fn(scores, yb)
            if not math.isfinite(loss):
                raise FloatingPointError(f"the loss is {loss} at epoch {epoch}, batch {i}: training diverged. "
                                         "Lower the learning rate, or check the inputs for NaN.")
            model.backward(dscores)
            optimizer.step()
            losses.append(loss * len(yb))
            correct += accuracy(scores, yb) * len(yb)
            seen += len(yb)
        test = (evaluate(model, test_data[0], test_data[1], loss_fn=loss_fn) if test_data is not None
                else Evaluation(math.nan, math.nan))
        entry = EpochLog(epoch, sum(losses) / seen, correct / seen, test.loss, test.accuracy,
                         time.perf_counter() - start)
        history.append(entry)
        if log is not None:
            log(f"epoch {epoch + 1:>3}/{epochs}  loss {entry.train_loss:.4f}  train acc {entry.train_accuracy:6.1%}  "
                f"test acc {entry.test_accuracy:6.1%}  {entry.seconds:5.2f} s")
    return history


# ---------------------------------------------------------------- checks that belong here

def check_example_counts(x: S, y: S) -> tuple[S, S]:
    """Return ``(x, y)`` if ``len(x) == len(y) > 0``; unlike ``check_examples``, any sized sequences will do."""
    if len(x) == 0 or len(x) != len(y):
        raise ValueError(f"x and y must hold the same, non-zero number of examples, got {len(x)} and {len(y)}")
    return x, y
