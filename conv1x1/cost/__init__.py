"""What a layer costs: parameters, multiply-accumulates and memory, in plain integers.

Units, named everywhere in this package:

- **MAC**: one multiply-accumulate, ``acc += a * b``. A convolution's forward
  pass does ``out_H * out_W * C_out * (C_in / groups) * K * K`` of them.
- **FLOP**: one floating-point operation. One MAC is a multiply and an add, so
  **FLOPs = 2 x MACs**. (Many tools print MACs under the name "FLOPs": see the
  chapter "Counting cost", docs/cost.md.)
- MACs count the multiply-adds of convolutions and fully connected layers only:
  bias additions, batch norm, activations, pooling and residual additions are
  not counted as MACs (they are a K*K*C_in-th of the work or less). They are
  counted apart, each under its own name, so any other tool's number can be
  rebuilt from ours (docs/cost.md): ``bias_adds`` (one per output element
  of a layer with a bias), ``bn_ops`` (one per batch-norm element),
  ``activation_ops`` (one per activation element), ``pooling_ops`` (one per
  pooling *input* element) and ``add_ops`` (one per residual-add element).
- ``params`` counts every trainable number (weights, biases, batch norm's gamma
  and beta), as PyTorch's ``sum(p.numel() for p in model.parameters())`` does;
  running statistics are not parameters.
- Every count is for **one image** (batch size 1); multiply by N for a batch.
- ``backward_macs``: the backward pass of a convolution computes the input
  gradient and the weight gradient, each as many MACs as the forward pass,
  so ``backward_macs = 2 * macs``.

The package: ``formulas`` (one function per layer kind, each returning a ``LayerCost``
that also shows its working), ``report`` (``Report`` adds rows up as the network is
grouped; ``Comparison`` sets two side by side), ``render`` (text, Markdown, HTML, CSV,
JSON), ``roofline`` (predicted time on this machine, from ``conv1x1.fast.timing``'s
measured peaks) and ``inception`` (GoogLeNet's module and the bottleneck, priced
from a description of their layers). It imports nothing from the layers: a layer
describes itself to the cost (``Layer.cost_node``), never the other way round.
``conv1x1.fast.timing`` measures the peaks it takes.

Example: the classic Inception bottleneck on a 28x28x192 input::

    >>> from conv1x1.cost import bottleneck_comparison
    >>> comparison = bottleneck_comparison(192, 16, 32, 28, 28, kernel_size=5)
    >>> comparison.baseline.macs, comparison.candidate.macs
    (120422400, 12443648)
    >>> round(comparison.macs_ratio, 2)
    9.68
"""

from . import render, report, roofline
from .formulas import (
                       KINDS,
                       LayerCost,
                       add_cost,
                       batchnorm_cost,
                       concat_cost,
                       conv_cost,
                       elementwise_cost,
                       exact,
                       global_pool_cost,
                       human,
                       pool_cost,
)
from .inception import bottleneck_comparison, inception_branches, inception_cost
from .report import Comparison, Report
from .roofline import Prediction

__all__ = [
    "LayerCost", "Report", "Comparison", "Prediction",
    "conv_cost", "pool_cost", "elementwise_cost", "concat_cost", "batchnorm_cost", "add_cost", "global_pool_cost",
    "bottleneck_comparison", "inception_cost", "inception_branches", "human", "exact", "KINDS",
    "formulas", "inception", "render", "report", "roofline",
]
