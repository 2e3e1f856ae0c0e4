"""conv1x1.models.blocks: DepthwiseSeparable, Bottleneck, Fire and ShuffleUnit have the layers their papers
draw, the channels their attributes name, the gradients of their forward, PyTorch's numbers and their papers'
counts, and refuse widths their groups cannot split."""

import numpy as np
import pytest

import conv1x1 as C
from conv1x1.gradcheck import check_layer

# Tests that run a block's forward or backward pass take both paths (tests/conftest.py's both_paths): the plain one
# and the engine room's, under C.fast.enabled(). The ones that only build and price a block run once.


@pytest.mark.usefixtures("both_paths")
def test_blocks_have_the_documented_layers():
    ds = C.DepthwiseSeparable(8, 16, stride=2)
    assert [type(layer).__name__ for layer in ds] == ["Conv2d", "BatchNorm2d", "ReLU", "Conv1x1", "BatchNorm2d",
                                                      "ReLU"]
    assert ds[0].groups == 8 and ds[0].stride == 2 and not ds[0].bias and not ds[3].bias
    paper, torchvision = C.Bottleneck(256, 128, 512, 2, "1x1"), C.Bottleneck(256, 128, 512, 2, "3x3")
    assert paper.residual.block[0].stride == 2 and paper.residual.block[3].stride == 1
    assert torchvision.residual.block[0].stride == 1 and torchvision.residual.block[3].stride == 2
    assert C.Bottleneck(256, 64, 256).residual.shortcut is None
    fire = C.Fire(96, 16, 64, 64)
    assert fire.forward(np.zeros((1, 96, 5, 5))).shape == (1, 128, 5, 5)
    with pytest.raises(ValueError, match="stride_on"):
        C.Bottleneck(4, 2, 4, stride_on="5x5")


BLOCKS = {
    "ds": lambda: C.DepthwiseSeparable(3, 5, rng=0),
    "ds-stride2": lambda: C.DepthwiseSeparable(4, 6, stride=2, rng=0),
    "bottleneck-identity": lambda: C.Bottleneck(6, 2, 6, rng=0),
    "bottleneck-projection": lambda: C.Bottleneck(4, 2, 7, rng=0),
    "bottleneck-1x1": lambda: C.Bottleneck(6, 3, 8, stride=2, stride_on="1x1", rng=0),
    "fire": lambda: C.Fire(5, 2, 3, 4, rng=0),
    "shuffle-stride1": lambda: C.ShuffleUnit(12, 12, groups=3, rng=0),
    "shuffle-stride2": lambda: C.ShuffleUnit(6, 24, groups=3, stride=2, rng=0),
    "shuffle-first": lambda: C.ShuffleUnit(3, 12, groups=3, stride=2, first_groups=1, mid_channels=6, rng=0),
}


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("make", BLOCKS.values(), ids=list(BLOCKS))
def test_blocks_in_and_out_channels_are_the_channels_their_forward_takes_and_gives(rng, make):
    """The public attributes against the arrays the forward takes and gives (a wrong ``Fire.out_channels`` would
    otherwise go unseen)."""
    block = make()
    out = block.forward(rng.standard_normal((2, block.in_channels, 6, 5)))
    assert out.shape[1] == block.out_channels == block.cost(6, 5, in_channels=block.in_channels).out_shape[0]
    with pytest.raises(ValueError, match=f"expects {block.in_channels} input channels but x has "
                                         f"{block.in_channels + 1}"):
        block.forward(np.zeros((2, block.in_channels + 1, 6, 5)))


def _through(layers, x):
    for layer in layers:
        x = layer.forward(x)
    return x


@pytest.mark.usefixtures("both_paths")
def test_blocks_inner_widths_are_the_channels_their_forward_passes(rng):
    """Fire's squeeze and expand widths, and the bottlenecks' mid_channels, against the arrays between the layers."""
    fire = C.Fire(5, 2, 3, 4, rng=0)
    squeezed = _through(fire[:2], rng.standard_normal((2, 5, 6, 5)))
    expanded = [branch.forward(squeezed) for branch in fire[2].branches]
    assert squeezed.shape[1] == fire.squeeze
    assert [e.shape[1] for e in expanded] == [fire.expand1x1, fire.expand3x3]
    bottleneck = C.Bottleneck(4, 3, 7, stride=2, rng=0)
    inner = bottleneck.residual.block
    x = rng.standard_normal((2, 4, 6, 5))
    assert _through(inner[:3], x).shape[1] == _through(inner[:6], x).shape[1] == bottleneck.mid_channels == 3
    unit = C.ShuffleUnit(6, 24, groups=3, stride=2, mid_channels=9, rng=0)
    pool, branch = unit[0].branches
    x = rng.standard_normal((2, 6, 6, 5))
    assert _through(branch[:6], x).shape[1] == unit.mid_channels == 9
    assert pool.forward(x).shape[1] + branch.forward(x).shape[1] == unit.out_channels


@pytest.mark.parametrize("make, x_shape", [
    (lambda: C.DepthwiseSeparable(3, 4, rng=0), (2, 3, 4, 4)),
    (lambda: C.DepthwiseSeparable(3, 5, stride=2, rng=0), (2, 3, 5, 5)),
    (lambda: C.Bottleneck(4, 2, 4, rng=0), (2, 4, 4, 4)),
    (lambda: C.Bottleneck(3, 2, 6, stride=2, stride_on="3x3", rng=0), (2, 3, 5, 5)),
    (lambda: C.Bottleneck(3, 2, 6, stride=2, stride_on="1x1", rng=0), (2, 3, 5, 5)),
    (lambda: C.Fire(3, 2, 3, 4, rng=0), (2, 3, 4, 4)),
], ids=["ds", "ds-stride2", "bottleneck-identity", "bottleneck-3x3", "bottleneck-1x1", "fire"])
@pytest.mark.usefixtures("both_paths")
def test_blocks_pass_the_gradient_check(rng, make, x_shape, randomise_params, all_below):
    """Float64 central differences, batch norm in training mode with random gamma and beta; bound 1e-6.

    Not 1e-7: batch norm's dx sums to zero per channel, so some of its entries are tiny, and the
    central-difference estimate of a tiny entry (eps 1e-5) has a larger relative error. Measured on the
    identity bottleneck over six seeds: up to 1.3e-7.
    A wrong gradient is off by 1e-2 or more."""
    block = randomise_params(make(), rng)
    assert all_below(check_layer(block, rng.standard_normal(x_shape)), bound=1e-6)


TOL = {"rtol": 1e-10, "atol": 1e-10}


def _close(ours, theirs):
    np.testing.assert_allclose(ours, theirs.detach().numpy(), **TOL)


def _copy_weights(torch, ours, theirs):
    """Copy our parameters into the torch module's, in order (both list them layer by layer, gamma before beta)."""
    pairs = list(zip(ours.params.values(), theirs.parameters()))
    assert len(pairs) == len(ours.params) == len(list(theirs.parameters()))
    with torch.no_grad():
        for ours_p, theirs_p in pairs:
            theirs_p.copy_(torch.tensor(ours_p).reshape(theirs_p.shape))
    return pairs


@pytest.mark.parametrize("build", [
    lambda t: (C.Bottleneck(4, 3, 8, stride=2, stride_on="3x3", rng=0), t.bottleneck(4, 3, 8, 2, "3x3")),
    lambda t: (C.Bottleneck(4, 3, 8, stride=2, stride_on="1x1", rng=0), t.bottleneck(4, 3, 8, 2, "1x1")),
    lambda t: (C.DepthwiseSeparable(4, 6, stride=2, rng=0), t.depthwise_separable(4, 6, 2)),
    lambda t: (C.DepthwiseSeparable(5, 3, stride=1, rng=0), t.depthwise_separable(5, 3, 1)),
    lambda t: (C.ShuffleUnit(12, 12, groups=3, rng=0), t.shuffle_unit(12, 12, 3, 1, 3)),
    lambda t: (C.ShuffleUnit(6, 24, groups=3, stride=2, rng=0), t.shuffle_unit(6, 24, 3, 2, 3)),
    lambda t: (C.ShuffleUnit(4, 16, groups=2, stride=2, first_groups=1, rng=0), t.shuffle_unit(4, 16, 2, 2, 1)),
], ids=["bottleneck-3x3", "bottleneck-1x1", "ds-stride2", "ds-stride1", "shuffle-stride1", "shuffle-stride2",
        "shuffle-first"])
@pytest.mark.usefixtures("both_paths")
def test_blocks_equal_a_hand_built_torch_module(torch, torch_twins, rng, build):
    """Float64 to 1e-10, in training and in evaluation mode: outputs, gradients and running statistics."""
    ours, theirs = build(torch_twins)
    theirs = theirs.double()
    for name, p in ours.params.items():            # random gamma and beta, so batch norm is not the identity
        if name.endswith(("gamma", "beta")):
            p[...] = rng.uniform(0.5, 1.5, p.shape) if name.endswith("gamma") else rng.normal(0, 0.5, p.shape)
    pairs = _copy_weights(torch, ours, theirs)
    for mode in ("train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        x = rng.standard_normal((2, ours.in_channels, 7, 6))
        out = ours.forward(x)
        dout = rng.standard_normal(out.shape)
        tx = torch.tensor(x, requires_grad=True)
        theirs.zero_grad()
        tout = theirs(tx)
        tout.backward(torch.tensor(dout))
        _close(out, tout)
        _close(ours.backward(dout), tx.grad)
        for (name, grad), (_, theirs_p) in zip(ours.grads.items(), pairs):
            np.testing.assert_allclose(grad, theirs_p.grad.numpy().reshape(grad.shape), err_msg=name, **TOL)
    ours_stats = [b for name, b in ours.buffers.items()]
    theirs_stats = [b for name, b in theirs.named_buffers() if "running" in name]
    for a, b in zip(ours_stats, theirs_stats, strict=True):
        _close(a, b)


def test_depthwise_separable_prices_mobilenets_table_3():
    """Howard et al. 2017 (arXiv:1704.04861), Table 3: 462M mult-adds for a full 3x3 convolution at 14x14x512,
    52.3M as a depthwise-separable one."""
    full = C.Conv2d(512, 512, 3, padding=1, bias=False).cost(14, 14).macs
    separable = C.DepthwiseSeparable(512, 512).cost(14, 14).macs
    assert full == 14 * 14 * 512 * 512 * 9 and round(full / 1e6) == 462
    assert separable == 14 * 14 * 512 * (9 + 512) and round(separable / 1e6, 1) == 52.3


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


@pytest.mark.parametrize("groups", [2, 3, 4])
def test_shuffle_unit_follows_every_grouped_first_1x1_with_a_shuffle_of_its_groups(groups):
    """Figure 2: GConv -> BN -> ReLU -> channel shuffle, for any g > 1 (and none after an ungrouped first 1x1)."""
    width = 8 * groups
    unit = C.ShuffleUnit(width, width, groups=groups, rng=0)
    shuffles = [layer for layer in unit[0].block if isinstance(layer, C.ChannelShuffle)]
    assert len(shuffles) == 1 and shuffles[0].groups == groups
    assert unit[0].block[3] is shuffles[0]
    ungrouped = C.ShuffleUnit(width, width, groups=groups, first_groups=1, rng=0)
    assert not any(isinstance(layer, C.ChannelShuffle) for layer in ungrouped[0].block)


@pytest.mark.usefixtures("both_paths")
def test_shuffle_unit_takes_its_mid_channels():
    """mid_channels sets the bottleneck's width (the default is a quarter of out_channels)."""
    unit = C.ShuffleUnit(12, 12, groups=3, mid_channels=6, rng=0)
    assert unit.mid_channels == 6
    branch = unit[0].block
    assert branch[0].out_channels == 6 and branch[-2].in_channels == 6
    # 8x8 output: grouped 1x1 12 -> 6 (groups 3), depthwise 3x3 on 6 channels, grouped 1x1 6 -> 12
    assert unit.cost(8, 8).macs == 64 * (12 * 6 // 3 + 6 * 9 + 6 * 12 // 3)
    x = np.random.default_rng(0).standard_normal((1, 12, 8, 8))
    assert unit.forward(x).shape == x.shape


def test_shuffle_unit_stores_its_settings_as_python_ints():
    unit = C.ShuffleUnit(np.int64(12), np.int64(12), groups=np.int64(3), rng=0)
    for value in (unit.in_channels, unit.out_channels, unit.groups, unit.first_groups, unit.mid_channels,
                  unit.stride):
        assert type(value) is int


def test_shuffle_unit_cost_is_its_three_convolutions():
    """28x28, 240 channels, g = 3, bottleneck 60: grouped 1x1, depthwise 3x3, grouped 1x1."""
    macs = 28 * 28 * (240 * 60 // 3 + 60 * 9 + 60 * 240 // 3)
    report = C.ShuffleUnit(240, 240, groups=3).cost(28, 28)
    assert report.macs == macs
    kinds = report.by_kind()
    assert kinds["grouped"]["macs"] == 28 * 28 * 2 * 240 * 60 // 3 and kinds["depthwise"]["macs"] == 28 * 28 * 540


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


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("make, x_shape", UNITS, ids=UNIT_IDS)
def test_shuffle_unit_passes_the_gradient_check_with_fixed_statistics(rng, make, x_shape):
    """Float64 central differences, batch norm in evaluation mode (random running statistics); bound 1e-7.

    Evaluation mode, because in training the batch norm after the depthwise 3x3 feeds a linear 1x1 and
    another batch norm, which subtracts any per-channel shift: that beta's gradient is exactly 0 (next
    test), and its gamma's and the 1x1's are tiny, so their central differences are mostly rounding.
    Training mode is checked against PyTorch (test_blocks_equal_a_hand_built_torch_module)."""
    unit = _randomise_batch_norms(make(), rng).eval()
    errors = check_layer(unit, rng.standard_normal(x_shape))
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("make, x_shape", UNITS, ids=UNIT_IDS)
def test_shuffle_unit_in_training_undoes_the_depthwise_batch_norms_shift(rng, make, x_shape):
    unit = _randomise_batch_norms(make(), rng)
    out = unit.forward(rng.standard_normal(x_shape))
    unit.backward(rng.standard_normal(out.shape))
    branch = unit[0].block if isinstance(unit[0], C.Residual) else unit[0].branches[1]
    depthwise_bn = next(i for i, layer in enumerate(branch) if isinstance(layer, C.Conv2d)) + 1
    name = next(n for n in unit.grads if n.endswith(f".{depthwise_bn}.beta"))
    assert np.abs(unit.grads[name]).max() < 1e-12
    assert min(np.abs(g).max() for n, g in unit.grads.items() if n != name) > 1e-9   # the others are not 0


@pytest.mark.usefixtures("both_paths")
def test_shuffle_units_built_from_the_same_seed_are_equal():
    """rng reaches every convolution: two units from seed 0 have the same weights and outputs."""
    for make, channels in ((lambda: C.ShuffleUnit(12, 12, groups=3, rng=0), 12),
                           (lambda: C.ShuffleUnit(3, 12, groups=3, stride=2, first_groups=1, rng=0), 3)):
        x = np.random.default_rng(1).standard_normal((1, channels, 6, 6))
        a, b = make(), make()
        np.testing.assert_array_equal(a.forward(x), b.forward(x))
        assert set(a.params) == set(b.params)
        for name in a.params:
            np.testing.assert_array_equal(a.params[name], b.params[name], err_msg=name)


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("stride, c_in, c_out", [(1, 12, 12), (2, 6, 12)])
def test_shuffle_unit_in_float32_keeps_float32_everywhere(stride, c_in, c_out):
    unit = C.ShuffleUnit(c_in, c_out, groups=3, stride=stride, rng=0, dtype=np.float32)
    x = np.random.default_rng(0).standard_normal((2, c_in, 6, 6)).astype(np.float32)
    out = unit.forward(x)
    assert out.dtype == np.float32
    assert unit.backward(np.ones_like(out)).dtype == np.float32
    for name, p in {**unit.params, **unit.buffers}.items():
        assert p.dtype == np.float32, name
    for name, g in unit.grads.items():
        assert g.dtype == np.float32, name


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
@pytest.mark.usefixtures("both_paths")
def test_shuffle_unit_refuses_widths_its_groups_cannot_split(kwargs, message):
    with pytest.raises(ValueError, match=message):
        C.ShuffleUnit(**kwargs).forward(np.ones((1, kwargs["in_channels"], 4, 4)))


@pytest.mark.usefixtures("both_paths")
def test_shuffle_unit_cost_knows_its_own_input_depth():
    """The pooled shortcut of a stride-2 unit knows the unit's in_channels: the report's output depth is the
    forward's, and its activations count the shortcut's (1638, not 1152)."""
    unit = C.ShuffleUnit(6, 24, groups=3, stride=2)
    report = unit.cost(6, 5)
    assert report.out_shape == (24, 3, 3) == unit.forward(np.zeros((1, 6, 6, 5))).shape[1:]
    assert report.activations == unit.cost(6, 5, 6).activations == 1638
