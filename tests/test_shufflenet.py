"""ShuffleNet (Zhang, Zhou, Lin, Sun 2017, arXiv:1707.01083): average pooling, the ShuffleUnit, the network and
its Table 1. PyTorch comparisons are in test_networks_torch.py."""

import numpy as np
import pytest

import conv1x1 as C
from conv1x1 import models, reference
from conv1x1.gradcheck import check_layer, numerical_gradient, rel_error

# ---------------------------------------------------------------- average pooling

POOLS = [(3, 2, 1, 7, 6), (3, 2, 1, 8, 8), (2, 2, 0, 5, 4), (3, 1, 1, 4, 5), (4, 3, 2, 9, 7), (1, 1, 0, 3, 2)]


def test_avgpool_layer_costs_pooling_ops_and_no_macs():
    cost = C.AvgPool2d(3, stride=2, padding=1).cost(56, 56, in_channels=24)
    assert cost.macs == 0 and cost.params == 0
    assert cost.out_shape == (24, 28, 28) and cost.pooling_ops == 24 * 56 * 56


# ---------------------------------------------------------------- the unit

UNITS = [(lambda: C.ShuffleUnit(12, 12, groups=3, rng=0), (2, 12, 5, 5)),
         (lambda: C.ShuffleUnit(6, 12, groups=3, stride=2, rng=0), (2, 6, 8, 7)),
         (lambda: C.ShuffleUnit(3, 12, groups=3, stride=2, first_groups=1, rng=0), (2, 3, 6, 6))]
UNIT_IDS = ["stride1", "stride2", "stride2-ungrouped-first"]


def _randomise_batch_norms(unit, rng):
    for name, p in unit.params.items():
        if name.endswith(("gamma", "beta")):
            p[...] = rng.uniform(0.5, 1.5, p.shape) if name.endswith("gamma") else rng.normal(0, 0.5, p.shape)
    for name, b in unit.buffers.items():
        b[...] = rng.uniform(0.5, 1.5, b.shape) if name.endswith("var") else rng.normal(0, 0.5, b.shape)
    return unit


@pytest.mark.parametrize("channels, reached", [(9, 9), (12, 12), (6, 4)])
def test_one_shuffle_lets_every_output_group_see_every_input_group(rng, channels, reached):
    """Two grouped 1x1s (3 groups): without the shuffle output channel 0 sees only group 0's inputs; with it,
    every input once each group has at least 3 channels (with 2 per group, only 2 of the 3 groups)."""
    def sees(stack):
        """Which input channels the first output channel depends on (its gradient there is not zero)."""
        dx = stack.backward(_first_output_channel(stack.forward(rng.standard_normal((1, channels, 2, 2)))))
        return np.abs(dx).sum(axis=(0, 2, 3)) > 0

    def grouped(seed):
        return C.Conv1x1(channels, channels, groups=3, rng=seed)
    with_shuffle = C.Sequential(grouped(0), C.ChannelShuffle(3), grouped(1))
    without = C.Sequential(grouped(0), grouped(1))
    np.testing.assert_array_equal(sees(without), np.arange(channels) < channels // 3)
    assert sees(with_shuffle).sum() == reached


def _first_output_channel(out):
    dout = np.zeros_like(out)
    dout[:, 0] = 1.0
    return dout


# ---------------------------------------------------------------- the network and Table 1

# Table 1 of the paper: complexity (MFLOPs, which the paper uses for multiply-adds) for g = 1, 2, 3, 4, 8.
TABLE_1 = {1: 143, 2: 140, 3: 137, 4: 133, 8: 137}
STAGE_2_WIDTHS = {1: 144, 2: 200, 3: 240, 4: 272, 8: 384}
