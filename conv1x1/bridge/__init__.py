"""The bridge to PyTorch: ``to_torch(model)`` and ``from_torch(module)``.

- ``convert``: the two functions, layer by layer; PyTorch is imported only when one of them runs.
- ``modules``: the ``torch.nn.Module`` classes for the library's containers and blocks (it imports PyTorch).
"""

from .convert import from_torch, to_torch

__all__ = ["from_torch", "to_torch"]
