"""Containers: layers made of layers. ``Sequential`` runs them in a row, ``Concat`` side by side,
``Residual`` adds a block's output to its input (or to a shortcut's output).

A container's ``params``, ``grads`` and ``buffers`` are its children's, under
dotted names (``"0.w"``, ``"1.2.b"``), like PyTorch's ``state_dict``: the same
live arrays, so in-place updates reach the layers. Its cost is a ``Report``
whose children are its layers' costs, so totals exist at every level.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._checks import FloatArray, check_branches, check_dout
from .cost.formulas import LayerCost, add_cost, concat_cost
from .cost.report import Report
from .layers import Layer, Params, Shape3

__all__ = ["Sequential", "Concat", "Residual"]


class _Container(Layer):
    """A layer made of child layers: params, grads and buffers are the children's, under dotted names."""

    def __init__(self, layers: Iterable[Layer], owner: str) -> None:
        super().__init__()
        self._children = check_layers(layers, owner)
        _refuse_shared_layers(self)

    @property
    def children(self) -> tuple[Layer, ...]:
        return tuple(self._children)

    @property
    def params(self) -> Params:
        return _named(self.children, "params")

    @params.setter
    def params(self, value: Params) -> None:
        raise AttributeError(f"{type(self).__name__}'s params are its layers': set each layer's params instead")

    @property
    def grads(self) -> Params:
        return _named(self.children, "grads")

    @grads.setter
    def grads(self, value: Params) -> None:
        raise AttributeError(f"{type(self).__name__}'s grads are its layers': set each layer's grads instead")

    @property
    def buffers(self) -> Params:
        return _named(self.children, "buffers")

    @buffers.setter
    def buffers(self, value: Params) -> None:  # Layer.__init__ sets {}; a container's buffers are its children's
        pass

    def parameters(self) -> Iterator[tuple[FloatArray, FloatArray]]:
        for child in self.children:
            yield from child.parameters()

    def __len__(self) -> int:
        return len(self._children)

    def __getitem__(self, index: int) -> Layer:
        return self._children[index]

    def __iter__(self) -> Iterator[Layer]:
        return iter(self._children)

    def __repr__(self) -> str:
        inner = "".join(f"\n  ({i}): " + repr(child).replace("\n", "\n  ") for i, child in enumerate(self._children))
        return f"{type(self).__name__}({inner}\n)"


def _named(children: Iterable[Layer], attribute: str) -> Params:
    """Merge the children's params, grads or buffers dicts under dotted names: ``"0.w"``."""
    return {f"{i}.{name}": array
            for i, child in enumerate(children)
            for name, array in getattr(child, attribute).items()}


def _leaves_and_containers(layer: Layer) -> Iterator[Layer]:
    yield layer
    for child in layer.children:
        yield from _leaves_and_containers(child)


def _refuse_shared_layers(container: Layer) -> None:
    """One layer instance in two places would overwrite its own cache: refuse it, and say why."""
    seen: dict[int, Layer] = {}
    for layer in _leaves_and_containers(container):
        if id(layer) in seen and layer is not container:
            raise ValueError(
                f"the same {layer!r} instance appears twice in this {type(container).__name__}: a layer keeps "
                "the cache of its last forward call, so its first use would get the second use's gradients. "
                f"Create one layer per use (e.g. a new {type(layer).__name__}(...) each time); to share weights, "
                "make two layers, point the second's params at the first's arrays and add their gradients yourself.")
        seen[id(layer)] = layer


class Sequential(_Container):
    """Layers applied one after another; backward runs them in reverse.

    Parameters
    ----------
    *layers : Layer
        An empty ``Sequential()`` is the identity (it returns a copy of x).

    Attributes
    ----------
    layers : tuple of Layer
    params, grads, buffers : dict
        Every sub-layer's arrays under dotted names, ``"0.w"``, ``"2.b"``.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> rng = np.random.default_rng(0)
    >>> net = C.Sequential(C.Conv1x1(2, 8, rng=rng), C.ReLU(), C.Conv1x1(8, 1, rng=rng))
    >>> sorted(net.params)
    ['0.b', '0.w', '2.b', '2.w']
    >>> net.forward(np.zeros((4, 2, 5, 5))).shape
    (4, 1, 5, 5)
    """

    def __init__(self, *layers: Layer) -> None:
        super().__init__(layers, "Sequential")

    @property
    def layers(self) -> tuple[Layer, ...]:
        return self.children

    def forward(self, x: ArrayLike) -> FloatArray:
        """x -> out through every layer in order."""
        self.cache = np.shape(x)  # only a marker that forward ran; each layer keeps its own cache
        if not self._children:
            return np.array(x, copy=True)
        out = self._children[0].forward(x)
        for layer in self._children[1:]:
            out = layer.forward(out)
        return out

    def backward(self, dout: ArrayLike) -> FloatArray:
        """dout -> dx through every layer in reverse order; fills every layer's grads."""
        self.require_cache()
        if not self._children:
            return np.array(dout, copy=True)
        dx = self._children[-1].backward(dout)
        for layer in reversed(self._children[:-1]):
            dx = layer.backward(dx)
        return dx

    def cost_node(self, in_shape: Shape3, name: str | None) -> Report:
        nodes: list[LayerCost | Report] = []
        for label, layer in zip(self.child_names(name), self._children):
            nodes.append(layer.cost_node(in_shape, label))
            in_shape = nodes[-1].out_shape or in_shape  # an empty Sequential passes its input on
        return Report(nodes, title=name or self.title)

    @property
    def title(self) -> str:
        """The title of its cost report when it has no name of its own."""
        return type(self).__name__

    def child_names(self, name: str | None) -> list[str]:
        """The names of the children's rows in a cost report: "0", "1", ... (prefixed with ``name``)."""
        return [f"{name}.{i}" if name else str(i) for i in range(len(self._children))]


class Concat(_Container):
    """Branches that all see the same input, their outputs joined along channels.

    ``out = concatenate([branch.forward(x) for branch in branches], axis=1)``;
    backward splits ``dout`` by channels and sums the branches' input gradients
    (x feeds every branch, so its gradient is the sum of theirs). Every branch
    must give the same N, H and W.

    Parameters
    ----------
    *branches : Layer

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> both = C.Concat(C.Conv1x1(3, 2), C.MaxPool2d(3, stride=1, padding=1))
    >>> both.forward(np.zeros((1, 3, 8, 8))).shape   # 2 + 3 channels
    (1, 5, 8, 8)
    """

    def __init__(self, *branches: Layer) -> None:
        super().__init__(check_branches(branches, type(self).__name__), type(self).__name__)

    @property
    def branches(self) -> tuple[Layer, ...]:
        return self.children

    def forward(self, x: ArrayLike) -> FloatArray:
        """x: (N, C_in, H, W) -> out: (N, sum of the branches' channels, H, W)."""
        outs = [branch.forward(x) for branch in self._children]
        shapes = [np.shape(o) for o in outs]
        if len({(s[0],) + tuple(s[2:]) for s in shapes}) != 1 or any(len(s) != 4 for s in shapes):
            listing = ", ".join(f"branch {i} ({b!r}) -> {s}" for i, (b, s) in enumerate(zip(self._children, shapes)))
            raise ValueError(f"{type(self).__name__} joins branches along channels, so every branch must give the "
                             f"same N, H and W; got {listing}")
        out = np.concatenate(outs, axis=1)
        self.cache = ([s[1] for s in shapes], out.shape, out.dtype)  # channels per branch, to split dout
        return out

    def backward(self, dout: ArrayLike) -> FloatArray:
        """dout: (N, C_out, H, W) -> dx: (N, C_in, H, W), the sum of the branches' dx."""
        widths, out_shape, dtype = self.require_cache()
        dout = check_dout(dout, out_shape, dtype)
        pieces = np.split(dout, np.cumsum(widths)[:-1], axis=1)  # views, one per branch
        dx = self._children[0].backward(pieces[0])
        for branch, piece in zip(self._children[1:], pieces[1:]):
            dx = dx + branch.backward(piece)
        return dx

    def cost_node(self, in_shape: Shape3, name: str | None) -> Report:
        branches = [branch.cost_node(in_shape, f"{name}.{i}" if name else str(i))
                    for i, branch in enumerate(self._children)]
        shapes = [b.out_shape or in_shape for b in branches]  # an empty branch passes its input on
        concat = concat_cost(shapes, name=f"{name}.concat" if name else "concat")
        return Report(branches + [concat], title=name or type(self).__name__)


class Residual(_Container):
    """A residual connection: ``out = block(x) + shortcut(x)``, with the identity when ``shortcut`` is None.

    He, Zhang, Ren, Sun 2015 ("Deep Residual Learning for Image Recognition",
    arXiv:1512.03385): the block learns a correction to its input. x feeds both
    paths, so its gradient is the sum of theirs::

        dx = block.backward(dout) + shortcut.backward(dout)      (+ dout itself for the identity)

    Parameters
    ----------
    block : Layer
    shortcut : Layer, optional
        A projection (e.g. a strided 1x1 convolution) when the block changes
        the shape; None for the identity, which needs block(x) to have x's shape.

    Attributes
    ----------
    block, shortcut : Layer (shortcut may be None)
    params, grads, buffers : dict
        Dotted names: ``"0.…"`` for the block, ``"1.…"`` for the shortcut.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> res = C.Residual(C.Sequential(C.Conv1x1(4, 4, rng=0), C.ReLU()))
    >>> res.forward(np.zeros((1, 4, 3, 3))).shape
    (1, 4, 3, 3)
    >>> res.cost(3, 3).layers[-1].kind
    'add'
    """

    def __init__(self, block: Layer, shortcut: Layer | None = None) -> None:
        super().__init__([block] if shortcut is None else [block, shortcut], "Residual")

    @property
    def block(self) -> Layer:
        return self._children[0]

    @property
    def shortcut(self) -> Layer | None:
        return self._children[1] if len(self._children) > 1 else None

    def forward(self, x: ArrayLike) -> FloatArray:
        """x: (N, C_in, H, W) -> out: block(x) + shortcut(x), the block's shape."""
        out = self.block.forward(x)
        other = np.asarray(x) if self.shortcut is None else self.shortcut.forward(x)
        if np.shape(out) != np.shape(other):
            what = "x (the identity shortcut)" if self.shortcut is None else f"the shortcut {self.shortcut!r}"
            hint = (" Give a projection shortcut, e.g. C.Conv2d(C_in, C_out, 1, stride=s, bias=False)."
                    if self.shortcut is None else "")
            raise ValueError(f"Residual adds the block's output {np.shape(out)} to {what} of shape "
                             f"{np.shape(other)}: they must match.{hint}")
        out = out + other
        self.cache = (out.shape, out.dtype)
        return out

    def backward(self, dout: ArrayLike) -> FloatArray:
        """dout: shape of out -> dx: shape of x, the block's and the shortcut's input gradients summed."""
        out_shape, dtype = self.require_cache()
        dout = check_dout(dout, out_shape, dtype)
        dx = self.block.backward(dout)
        return dx + (dout if self.shortcut is None else self.shortcut.backward(dout))

    def cost_node(self, in_shape: Shape3, name: str | None) -> Report:
        def child(suffix: int | str) -> str:
            return f"{name}.{suffix}" if name else str(suffix)
        nodes = [self.block.cost_node(in_shape, child(0))]
        out_shape = nodes[0].out_shape or in_shape
        if self.shortcut is not None:
            nodes.append(self.shortcut.cost_node(in_shape, child(1)))
            other = nodes[-1].out_shape or in_shape
        else:
            other = in_shape
        if None not in (out_shape[0], other[0]) and tuple(out_shape) != tuple(other):
            raise ValueError(f"Residual adds the block's output {out_shape} to a shortcut of shape {other}: "
                             "they must match")
        nodes.append(add_cost(out_shape, name=child("add")))
        return Report(nodes, title=name or "Residual")


# ---------------------------------------------------------------- checks that belong here


def check_layers(layers: Iterable[Any], owner: str) -> list[Layer]:
    """Return ``layers`` as a list if each is a layer (has forward and backward).

    (A layer used twice in one network is refused by the container itself, which
    sees the whole tree: ``containers._refuse_shared_layers``.)
    """
    layers = list(layers)
    for i, layer in enumerate(layers):
        if not (callable(getattr(layer, "forward", None)) and callable(getattr(layer, "backward", None))):
            raise TypeError(f"{owner} takes Layer objects; argument {i} is {type(layer).__name__}")
    return layers
