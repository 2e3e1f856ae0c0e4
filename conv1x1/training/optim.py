"""Stochastic gradient descent with momentum and weight decay, by PyTorch's rules.

For each parameter ``p`` with gradient ``g`` (from the last ``backward``), one ``step()`` does::

    g   = g + weight_decay * p                  L2 penalty (weight_decay / 2) * |p|^2, differentiated
    buf = g                  on the first step  momentum buffer: a running sum of past gradients
    buf = momentum * buf + g afterwards
    p   = p - lr * buf                          (buf is just g when momentum == 0)

These are the rules of ``torch.optim.SGD`` (no dampening, no Nesterov), so the same
hyper-parameters mean the same thing in both libraries.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["SGD"]

Pair = tuple[NDArray[np.floating[Any]], NDArray[np.floating[Any]]]   # (param, grad), as model.parameters() yields


class SGD:
    """Update parameters in place from their gradients.

    Parameters
    ----------
    parameters : iterable of (param, grad) pairs
        Live arrays, as ``model.parameters()`` yields them; read once and kept
        (in this order) for every later ``step()``.
    lr : float
        Learning rate, > 0.
    momentum : float, default 0.0
        >= 0; 0.9 is a common choice. With 0 no buffers are kept.
    weight_decay : float, default 0.0
        >= 0; the L2 coefficient added to every gradient (biases too, as in PyTorch).

    Attributes
    ----------
    pairs : list of (param, grad)
    momentum_buffers : list of ndarray or None
        One per parameter; None until the first step (and always, if momentum == 0).

    Raises
    ------
    TypeError
        If a hyper-parameter is not a real number, or a pair is not two floating-point arrays.
    ValueError
        If lr <= 0, momentum or weight_decay < 0, any is not finite, a param and its grad differ in
        shape, or there are no parameters.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> from conv1x1.training.optim import SGD
    >>> layer = C.Conv1x1(2, 1, rng=0)
    >>> optimizer = SGD(layer.parameters(), lr=0.1, momentum=0.9)
    >>> before = layer.params["w"].copy()
    >>> layer.grads["w"][...] = 1.0                 # as if backward had filled it
    >>> optimizer.step()
    >>> layer.params["w"] - before                  # -lr * g on the first step
    array([[-0.1, -0.1]])
    """

    def __init__(self, parameters: Iterable[Pair], lr: float, momentum: float = 0.0,
                 weight_decay: float = 0.0) -> None:
        self.lr = check_hyperparameter(lr, "lr", positive=True)
        self.momentum = check_hyperparameter(momentum, "momentum")
        self.weight_decay = check_hyperparameter(weight_decay, "weight_decay")
        self.pairs = check_param_pairs(parameters)
        self.momentum_buffers: list[NDArray[np.floating[Any]] | None] = [None] * len(self.pairs)

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr}, momentum={self.momentum}, weight_decay={self.weight_decay})"

    def step(self) -> None:
        """Apply one update to every parameter, in place (see the module docstring)."""
        for i, (param, grad) in enumerate(self.pairs):
            g = grad + self.weight_decay * param if self.weight_decay else grad
            if self.momentum:
                buf = self.momentum_buffers[i]
                if buf is None:
                    buf = self.momentum_buffers[i] = g.copy()   # a copy: g may be the live grad
                else:
                    buf *= self.momentum
                    buf += g
                g = buf
            param -= self.lr * g

    def state_dict(self) -> dict[str, NDArray[np.floating[Any]]]:
        """The state a resumed run needs: ``{"momentum_buffer.<i>": copy of buffer i}``.

        Only existing buffers are listed (none before the first step, none without
        momentum); ``i`` is the parameter's position in ``pairs``. Hyper-parameters are
        not included: they are the constructor's arguments.
        """
        return {f"momentum_buffer.{i}": buf.copy() for i, buf in enumerate(self.momentum_buffers) if buf is not None}

    def load_state_dict(self, state: dict[str, NDArray[np.floating[Any]]]) -> None:
        """Replace the momentum buffers by those of ``state`` (from ``state_dict``).

        Every name, shape and dtype is checked first; on any mismatch a ValueError
        names it and nothing changes. Buffers missing from ``state`` become None
        (the state of an optimizer that has not stepped yet).
        """
        buffers: list[NDArray[np.floating[Any]] | None] = [None] * len(self.pairs)
        for name, value in state.items():
            prefix, _, index = name.partition(".")
            if prefix != "momentum_buffer" or not index.isdigit() or int(index) >= len(self.pairs):
                raise ValueError(f"unexpected optimizer state {name!r}: expected names momentum_buffer.0 .. "
                                 f"momentum_buffer.{len(self.pairs) - 1} (one per parameter)")
            param = self.pairs[int(index)][0]
            value = np.asarray(value)
            if value.shape != param.shape or value.dtype != param.dtype:
                raise ValueError(f"optimizer state {name!r} has shape {value.shape} and dtype {value.dtype}, but "
                                 f"parameter {index} has shape {param.shape} and dtype {param.dtype}")
            buffers[int(index)] = value.copy()
        if buffers and any(b is not None for b in buffers) and not self.momentum:
            raise ValueError("the state holds momentum buffers but this optimizer has momentum=0")
        self.momentum_buffers = buffers


# ---------------------------------------------------------------- checks that belong here

def check_hyperparameter(value: object, name: str, positive: bool = False) -> float:
    """Return a finite float >= 0 (> 0 with ``positive``) for a learning rate, momentum or weight decay."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value}")
    return value



def check_param_pairs(parameters: Iterable[object]) -> list[Pair]:
    """Return ``parameters`` as a list of (param, grad) float-array pairs of equal shapes, or raise."""
    if isinstance(parameters, np.ndarray):
        raise TypeError("parameters must be (param, grad) pairs, as model.parameters() yields them, "
                        "not a single array")
    pairs = list(parameters)   # a generator can be read only once: keep the pairs
    checked: list[Pair] = []
    if not pairs:
        raise ValueError("parameters is empty: the model has nothing to train "
                         "(pass model.parameters() of a model with parameters)")
    for i, pair in enumerate(pairs):
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise TypeError(f"parameters must yield (param, grad) pairs; item {i} is {type(pair).__name__}. "
                            "Pass model.parameters().")
        param, grad = pair
        for what, array in (("param", param), ("grad", grad)):
            if not isinstance(array, np.ndarray) or array.dtype.kind != "f":
                raise TypeError(f"the {what} of pair {i} must be a floating-point ndarray "
                                f"(updated in place), got {getattr(array, 'dtype', type(array))}")
        if param.shape != grad.shape:
            raise ValueError(f"pair {i}: param has shape {param.shape} but grad has shape {grad.shape}")
        if param.dtype != grad.dtype:
            raise TypeError(f"pair {i}: param is {param.dtype} but grad is {grad.dtype}; a layer's gradients "
                            "have its parameters' dtype (build the layer with one dtype)")
        checked.append((param, grad))
    return checked
