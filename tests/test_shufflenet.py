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


@pytest.mark.parametrize("make, x_shape", UNITS, ids=UNIT_IDS)
def test_shuffle_unit_gradcheck_with_fixed_statistics(rng, make, x_shape):
    """Float64 central differences, batch norm in evaluation mode (random running statistics); bound 1e-7.

    Evaluation mode, because in training the batch norm after the depthwise 3x3 feeds a linear 1x1 and
    another batch norm, which subtracts any per-channel shift: that beta's gradient is exactly 0 (next
    test), and its gamma's and the 1x1's are tiny, so their central differences are mostly rounding.
    Training mode is checked against PyTorch (test_networks_torch.py)."""
    unit = _randomise_batch_norms(make(), rng).eval()
    errors = check_layer(unit, rng.standard_normal(x_shape))
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("make, x_shape", UNITS, ids=UNIT_IDS)
def test_in_training_the_depthwise_batch_norms_shift_is_undone_by_the_next_one(rng, make, x_shape):
    unit = _randomise_batch_norms(make(), rng)
    out = unit.forward(rng.standard_normal(x_shape))
    unit.backward(rng.standard_normal(out.shape))
    branch = unit[0].block if isinstance(unit[0], C.Residual) else unit[0].branches[1]
    depthwise_bn = next(i for i, layer in enumerate(branch) if isinstance(layer, C.Conv2d)) + 1
    name = next(n for n in unit.grads if n.endswith(f".{depthwise_bn}.beta"))
    assert np.abs(unit.grads[name]).max() < 1e-12
    assert min(np.abs(g).max() for n, g in unit.grads.items() if n != name) > 1e-9   # the others are not 0


def test_shuffle_unit_layers_follow_the_papers_figure_2():
    unit = C.ShuffleUnit(240, 480, groups=3, stride=2)
    concat = unit[0]
    pool, branch = concat.branches
    assert isinstance(pool, C.AvgPool2d) and (pool.kernel_size, pool.stride, pool.padding) == (3, 2, 1)
    kinds = [type(layer).__name__ for layer in branch]
    assert kinds == ["Conv1x1", "BatchNorm2d", "ReLU", "ChannelShuffle", "Conv2d", "BatchNorm2d", "Conv1x1",
                     "BatchNorm2d"]
    assert branch[0].groups == 3 and branch[3].groups == 3 and branch[4].groups == 120 and branch[6].groups == 3
    assert branch[0].out_channels == 120 and branch[6].out_channels == 480 - 240   # bottleneck: a quarter
    assert isinstance(unit[1], C.ReLU)
    assert C.ShuffleUnit(24, 240, 3, stride=2, first_groups=1)[0].branches[1][3].__class__ is C.Conv2d  # no shuffle


def test_shuffle_unit_cost_is_its_three_convolutions():
    """28x28, 240 channels, g = 3, bottleneck 60: grouped 1x1, depthwise 3x3, grouped 1x1."""
    macs = 28 * 28 * (240 * 60 // 3 + 60 * 9 + 60 * 240 // 3)
    report = C.ShuffleUnit(240, 240, groups=3).cost(28, 28)
    assert report.macs == macs
    kinds = report.by_kind()
    assert kinds["grouped"]["macs"] == 28 * 28 * 2 * 240 * 60 // 3 and kinds["depthwise"]["macs"] == 28 * 28 * 540


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


@pytest.mark.parametrize("kwargs, message", [
    ({"in_channels": 6, "out_channels": 12, "groups": 3}, "must equal in_channels"),
    ({"in_channels": 12, "out_channels": 12, "groups": 3, "stride": 2}, "must exceed in_channels"),
    ({"in_channels": 6, "out_channels": 6, "groups": 3, "stride": 3}, "stride"),
    ({"in_channels": 8, "out_channels": 8, "groups": 3}, r"in_channels 8, mid_channels \(out_channels // 4\) 2 "
                                                         r"not divisible by groups=3"),
    ({"in_channels": 3, "out_channels": 3, "groups": 1}, r"mid_channels \(out_channels // 4\) is 0"),
    ({"in_channels": 8, "out_channels": 8, "groups": 2, "first_groups": 3}, "not divisible by first_groups=3"),
    ({"in_channels": 24, "out_channels": 241, "groups": 3, "stride": 2, "first_groups": 1, "mid_channels": 3},
     "the branch's out_channels - in_channels 217 not divisible by groups=3"),
])
def test_shuffle_unit_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        C.ShuffleUnit(**kwargs).forward(np.ones((1, kwargs["in_channels"], 4, 4)))


# ---------------------------------------------------------------- the network and Table 1

# Table 1 of the paper: complexity (MFLOPs, which the paper uses for multiply-adds) for g = 1, 2, 3, 4, 8.
TABLE_1 = {1: 143, 2: 140, 3: 137, 4: 133, 8: 137}
STAGE_2_WIDTHS = {1: 144, 2: 200, 3: 240, 4: 272, 8: 384}


@pytest.mark.parametrize("groups", sorted(TABLE_1))
def test_table_1_complexity_is_the_macs_without_the_fc_layer(groups):
    report = models.shufflenet_v1(groups).cost(224, 224)
    fc = report.layers[-1]
    assert fc.name == "fc" and fc.macs == 1000 * 4 * STAGE_2_WIDTHS[groups]
    assert round((report.macs - fc.macs) / 1e6) == TABLE_1[groups]
    assert abs(report.macs / 1e6 - TABLE_1[groups]) < 1.6          # with the FC layer: within 1.6M


@pytest.mark.parametrize("groups", sorted(TABLE_1))
def test_table_1_output_sizes_and_widths(groups):
    net = models.shufflenet_v1(groups)
    report = net.cost(224, 224)
    shapes = {child.name: child.out_shape for child in report.children}
    width = STAGE_2_WIDTHS[groups]
    assert shapes["conv1"] == (24, 112, 112) and shapes["maxpool"] == (24, 56, 56)
    assert shapes["stage2_4"] == (width, 28, 28)
    assert shapes["stage3_8"] == (2 * width, 14, 14)
    assert shapes["stage4_4"] == (4 * width, 7, 7)
    assert shapes["fc"] == (1000, 1, 1)
    assert sum(name.startswith("stage") for name in net.names) == 4 + 8 + 4


def test_shufflenet_is_mostly_grouped_1x1_work():
    shares = models.shufflenet_v1(3).cost(224, 224).by_kind()
    assert shares["grouped"]["macs_share"] > 0.75
    assert shares["grouped"]["macs"] + shares["1x1"]["macs"] > 0.8 * sum(v["macs"] for v in shares.values())


def test_shufflenet_runs_forward_and_backward_on_a_small_image(rng):
    net = models.shufflenet_v1(3, width_multiplier=0.25, num_classes=10, rng=0)
    x = rng.standard_normal((2, 3, 64, 64))
    out = net.forward(x)
    assert out.shape == (2, 10, 1, 1)
    dx = net.backward(np.ones_like(out))
    assert dx.shape == x.shape and np.isfinite(dx).all()
    assert set(net.grads) == set(net.params)


@pytest.mark.parametrize("groups, scale, message", [
    (2, 0.5, "Stage 2's bottleneck 25"), (8, 0.5, "groups=8"), (5, 1.0, "groups"), (3, 0.0, "width_multiplier")])
def test_shufflenet_refuses_widths_its_groups_cannot_split(groups, scale, message):
    with pytest.raises(ValueError, match=message):
        models.shufflenet_v1(groups, width_multiplier=scale)


def test_half_width_shufflenet_costs_about_a_quarter():
    """The paper: "ShuffleNet s x ... overall complexity will be roughly s^2 times"."""
    full, half = (models.shufflenet_v1(3, s).cost(224, 224).macs for s in (1.0, 0.5))
    assert 0.25 < half / full < 0.3


def test_table_2_half_width_complexity_counts_the_fc_layer():
    """Table 2: "ShuffleNet 0.5x", 38 MFLOPs; with g = 3 and the official code's widths (12, 120, 240, 480)
    the count *with* the FC layer rounds to it (without it, to 37)."""
    net = models.shufflenet_v1(3, width_multiplier=0.5)
    report = net.cost(224, 224)
    assert [child.out_shape[0] for child in report.children if child.name in ("conv1", "stage2_4", "stage3_8",
                                                                               "stage4_4")] == [12, 120, 240, 480]
    assert round(report.macs / 1e6) == 38
    assert round((report.macs - report.layers[-1].macs) / 1e6) == 37
