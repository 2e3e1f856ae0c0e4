"""Training a network built from the library's layers: a loss, optimizers, a loop, data and checkpoints.

- ``losses``: ``softmax_cross_entropy(scores, y) -> (loss, dscores)``.
- ``optim``: ``SGD`` (with momentum and weight decay), ``Adam`` and ``AdamW``, updating each layer's
  ``params`` from its ``grads``.
- ``train``: ``fit`` and ``evaluate``, the loop of forward, loss, backward and step.
- ``data``: shuffled mini-batches, a train/test split, and scikit-learn's bundled digits as images.
- ``checkpoint``: ``save`` and ``load`` a model's weights to and from a ``.npz`` file.
"""

from . import checkpoint, data, losses, optim, train
from .checkpoint import load, save
from .losses import softmax_cross_entropy
from .optim import SGD, Adam, AdamW

__all__ = ["checkpoint", "data", "losses", "optim", "train", "load", "save", "softmax_cross_entropy", "SGD", "Adam",
           "AdamW"]
