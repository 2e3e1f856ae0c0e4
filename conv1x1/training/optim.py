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

__all__ = ["SGD", "Adam", "AdamW"]

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


# ---------------------------------------------------------------- Adam and AdamW

class Adam:
    """Adam (Kingma and Ba 2014, "Adam: A Method for Stochastic Optimization", arXiv:1412.6980), by PyTorch's rules.

    For each parameter ``p`` with gradient ``g``, step ``t = 1, 2, ...`` does::

        g     = g + weight_decay * p                 (Adam only: an L2 penalty folded into the gradient)
        p     = p * (1 - lr * weight_decay)          (AdamW only: decoupled weight decay)
        m     = beta1 * m + (1 - beta1) * g          running mean of the gradients      (m = v = 0 at first)
        v     = beta2 * v + (1 - beta2) * g**2       running mean of their squares
        p     = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    The two divisions by ``1 - beta**t`` undo the pull towards the zeros m and v start
    from. These are ``torch.optim.Adam`` and ``torch.optim.AdamW`` (no amsgrad), so the same
    hyper-parameters give the same steps.

    Parameters
    ----------
    parameters : iterable of (param, grad) pairs
        Live arrays, as ``model.parameters()`` yields them.
    lr : float, default 1e-3
    betas : (float, float), default (0.9, 0.999)
        Each in [0, 1).
    eps : float, default 1e-8
    weight_decay : float, default 0.0

    Attributes
    ----------
    pairs : list of (param, grad)
    step_count : int
        Steps taken (t of the last step).
    exp_avg, exp_avg_sq : list of ndarray or None
        m and v per parameter; None before the first step.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> layer = C.Conv1x1(2, 1, rng=0)
    >>> optimizer = C.Adam(layer.parameters(), lr=0.1)
    >>> before = layer.params["w"].copy()
    >>> layer.grads["w"][...] = [[3.0, -0.5]]       # as if backward had filled it
    >>> optimizer.step()
    >>> np.round(layer.params["w"] - before, 6)      # the first step moves by lr against the sign of g
    array([[-0.1,  0.1]])
    """

    decoupled = False   # AdamW's weight decay

    def __init__(self, parameters: Iterable[tuple[np.ndarray, np.ndarray]], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        self.lr = check_hyperparameter(lr, "lr", positive=True)
        self.betas = check_betas(betas)
        self.eps = check_hyperparameter(eps, "eps")
        self.weight_decay = check_hyperparameter(weight_decay, "weight_decay")
        self.pairs = check_param_pairs(parameters)
        self.step_count = 0
        self.exp_avg: list[np.ndarray | None] = [None] * len(self.pairs)
        self.exp_avg_sq: list[np.ndarray | None] = [None] * len(self.pairs)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(lr={self.lr}, betas={self.betas}, eps={self.eps}, "
                f"weight_decay={self.weight_decay})")

    def step(self) -> None:
        """Apply one update to every parameter, in place (see the class docstring)."""
        self.step_count += 1
        beta1, beta2 = self.betas
        correction1, correction2 = 1 - beta1 ** self.step_count, 1 - beta2 ** self.step_count
        for i, (param, grad) in enumerate(self.pairs):
            g = grad
            if self.weight_decay and self.decoupled:
                param *= 1 - self.lr * self.weight_decay
            elif self.weight_decay:
                g = grad + self.weight_decay * param
            m, v = self.exp_avg[i], self.exp_avg_sq[i]
            if m is None or v is None:
                m, v = np.zeros_like(param), np.zeros_like(param)
                self.exp_avg[i], self.exp_avg_sq[i] = m, v
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            denominator = np.sqrt(v) / np.sqrt(correction2) + self.eps
            param -= self.lr / correction1 * (m / denominator)

    def state_dict(self) -> dict[str, np.ndarray]:
        """``{"step": t, "exp_avg.<i>": m, "exp_avg_sq.<i>": v}``, copies (none of m, v before the first step)."""
        state = {"step": np.array(self.step_count)}
        for i, (m, v) in enumerate(zip(self.exp_avg, self.exp_avg_sq)):
            if m is not None and v is not None:
                state[f"exp_avg.{i}"], state[f"exp_avg_sq.{i}"] = m.copy(), v.copy()
        return state

    def load_state_dict(self, state: dict) -> None:
        """Restore ``state`` (from ``state_dict``); every name, shape and dtype is checked before anything changes."""
        state = dict(state)
        step = np.asarray(state.pop("step", 0))
        if step.shape != () or step.dtype.kind not in "iu" or int(step) < 0:
            raise ValueError(f"optimizer state 'step' must be a non-negative integer, got {step!r}")
        moments: dict[str, list[np.ndarray | None]] = {"exp_avg": [None] * len(self.pairs),
                                                       "exp_avg_sq": [None] * len(self.pairs)}
        for name, value in state.items():
            kind, _, index = name.partition(".")
            if kind not in moments or not index.isdigit() or int(index) >= len(self.pairs):
                raise ValueError(f"unexpected optimizer state {name!r}: expected step, exp_avg.<i> and "
                                 f"exp_avg_sq.<i> for i in 0 .. {len(self.pairs) - 1}")
            param, value = self.pairs[int(index)][0], np.asarray(value)
            if value.shape != param.shape or value.dtype != param.dtype:
                raise ValueError(f"optimizer state {name!r} has shape {value.shape} and dtype {value.dtype}, but "
                                 f"parameter {index} has shape {param.shape} and dtype {param.dtype}")
            moments[kind][int(index)] = value.copy()
        if [m is None for m in moments["exp_avg"]] != [v is None for v in moments["exp_avg_sq"]]:
            raise ValueError("optimizer state must hold exp_avg.<i> and exp_avg_sq.<i> together for each parameter")
        self.step_count, self.exp_avg, self.exp_avg_sq = int(step), moments["exp_avg"], moments["exp_avg_sq"]


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter 2017, "Decoupled Weight Decay Regularization",
    arXiv:1711.05101), as ``torch.optim.AdamW``: ``p *= 1 - lr * weight_decay`` before Adam's step, instead
    of adding ``weight_decay * p`` to the gradient. See ``Adam`` for the rules and the parameters; the
    default ``weight_decay`` is PyTorch's 0.01.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> layer = C.Conv1x1(1, 1, bias=False, rng=0)
    >>> layer.params["w"][...] = 2.0
    >>> optimizer = C.AdamW(layer.parameters(), lr=0.1, weight_decay=0.5)
    >>> optimizer.step()                    # g = 0: only the decay, 2 * (1 - 0.1 * 0.5)
    >>> layer.params["w"]
    array([[1.9]])
    """

    decoupled = True

    def __init__(self, parameters: Iterable[tuple[np.ndarray, np.ndarray]], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.01) -> None:
        super().__init__(parameters, lr, betas, eps, weight_decay)


def check_betas(betas: object) -> tuple[float, float]:
    """Return Adam's ``(beta1, beta2)`` as floats if it is a pair of numbers in [0, 1)."""
    if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
        raise TypeError(f"betas must be a pair (beta1, beta2), e.g. (0.9, 0.999), got {betas!r}")
    beta1, beta2 = (check_hyperparameter(b, f"betas[{i}]") for i, b in enumerate(betas))
    if beta1 >= 1 or beta2 >= 1:
        raise ValueError(f"each of betas must be in [0, 1) (the weight of the past in a running mean), got {betas}")
    return beta1, beta2
