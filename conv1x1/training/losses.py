"""The softmax cross-entropy loss: from class scores to one number to minimise.

For one image with scores ``s`` (one per class, K of them) and true class ``y``::

    p_k  = exp(s_k) / sum_j exp(s_j)                     softmax: probabilities
    loss = -log p_y = log(sum_j exp(s_j)) - s_y          cross-entropy
    d loss / d s_k = p_k - [k == y]                      the gradient

The batch loss is the mean over the N images, so each image's gradient is divided by N.
``exp`` overflows for scores above ~709 (float64), so the code subtracts each row's maximum
first (the log-sum-exp trick): ``log sum exp(s) = m + log sum exp(s - m)`` with ``m = max(s)``,
and every exponent is then <= 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_float_array

__all__ = ["softmax_cross_entropy"]


def softmax_cross_entropy(scores: NDArray[np.floating[Any]],
                          y: ArrayLike) -> tuple[float, NDArray[np.floating[Any]]]:
    """Mean softmax cross-entropy over a batch, and its gradient.

    Parameters
    ----------
    scores : ndarray, shape (N, K) or (N, K, 1, 1)
        Unnormalised class scores (logits). The (N, K, 1, 1) form is what a
        1x1 convolution to K channels followed by global average pooling gives.
    y : ndarray of integers, shape (N,)
        The true class of each image, in ``0 .. K-1``.

    Returns
    -------
    loss : float
        ``mean over n of -log softmax(scores[n])[y[n]]``.
    dscores : ndarray, shape and dtype of scores
        ``d loss / d scores = (softmax(scores) - one_hot(y)) / N``.

    Raises
    ------
    TypeError
        If scores are not floating point, or y is not an integer array
        (float and boolean labels are refused: ``y.astype(np.int64)`` if they are whole numbers).
    ValueError
        If the shapes are wrong, N differs between scores and y, N == 0 (the mean
        of an empty batch is undefined), or a label is outside ``0 .. K-1``.

    Notes
    -----
    Non-finite scores are not an error: NaN propagates, as everywhere in this library,
    so a NaN (or +inf) score gives a NaN loss and NaN gradients for its image. The
    training loop ``conv1x1.training.train.fit`` stops with an error on the first non-finite loss.

    Examples
    --------
    >>> import numpy as np
    >>> from conv1x1.training.losses import softmax_cross_entropy
    >>> loss, dscores = softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 3]))
    >>> round(loss, 4), round(float(np.log(4)), 4)     # uniform over 4 classes: -log(1/4)
    (1.3863, 1.3863)
    >>> dscores[0]                                      # (p - one_hot) / N = ([.25]*4 - [1,0,0,0]) / 2
    array([-0.375,  0.125,  0.125,  0.125])
    """
    scores = check_float_array(scores, "scores")
    shape = scores.shape
    scores = check_scores(scores)
    n, k = scores.shape
    y = check_labels(y, n, k)

    shifted = scores - scores.max(axis=1, keepdims=True)            # log-sum-exp trick: exponents <= 0
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = 0.0 - log_probs[np.arange(n), y].mean()                 # 0.0 - ...: never -0.0
    dscores = np.exp(log_probs)                                      # softmax probabilities
    dscores[np.arange(n), y] -= 1
    dscores /= n
    return float(loss), dscores.reshape(shape)


# ---------------------------------------------------------------- checks that belong here

def check_scores(scores: NDArray[np.floating[Any]]) -> NDArray[np.floating[Any]]:
    """Return class scores as (N, K): 2-D scores as they are, (N, K, 1, 1) ones reshaped (a view)."""
    if scores.ndim == 4 and scores.shape[2:] == (1, 1):
        return scores.reshape(scores.shape[0], scores.shape[1])
    if scores.ndim != 2:
        raise ValueError(f"scores must be 2-D (N, K) or 4-D (N, K, 1, 1), got shape {scores.shape}. "
                         "Pool the spatial axes first (global average pooling gives (N, K, 1, 1)).")
    return scores



def check_labels(y: ArrayLike, n: int, k: int) -> NDArray[np.integer[Any]]:
    """y as a 1-D integer array of N labels in 0 .. K-1, or a clear error."""
    y = np.asarray(y)
    if y.dtype.kind not in "iu":
        hint = " Boolean labels are refused: use 0 and 1." if y.dtype.kind == "b" else \
            " If they are whole numbers, convert them: y.astype(np.int64)."
        raise TypeError(f"y must be an array of integer class labels, got dtype {y.dtype}.{hint}")
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (N,), one label per image, got shape {y.shape}")
    if y.shape[0] != n:
        raise ValueError(f"scores and y must have the same N: scores has {n} rows, y has {y.shape[0]} labels")
    if n == 0:
        raise ValueError("the batch is empty (N = 0): the mean loss over no images is undefined")
    bad = (y < 0) | (y >= k)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"labels must be in 0 .. {k - 1} (scores have K = {k} classes), "
                         f"got y[{i}] = {int(y[i])}")
    return y
