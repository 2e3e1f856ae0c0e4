"""Tests written to kill mutants that survived a mutation run over the ShuffleNet commit and the depthwise route.

Targets: ``fast``'s depthwise route (``_PhaseGrids``, ``_depthwise_forward/backward``, ``_valid_range``) and
its inf/NaN fallback, ``avgpool2d_forward/backward``, batch norm's ``_channel_sum``, ``ShuffleUnit``,
``models.shufflenet_v1`` and their validation. Expected values come from ``conv1x1.reference``'s loops, the
plain route, central differences or formulas written out here, never from the code under test.
"""

import numpy as np
import pytest

import conv1x1 as C
from conv1x1 import fast, models, reference

# ---------------------------------------------------------------- the depthwise route's blocks


def _rule_sizes(n, channels, height, width, itemsize, k, stride, padding):
    """The largest block that the source comment's two rules allow (or 1), from the geometry alone.

    Rules (``_PhaseGrids.channels_per_block``), with P = min(stride, K)**2 phases read: a block's backward
    buffers, 2P phase grids plus two flat grids, fit in ``_BLOCK_BYTES``; its forward buffers, P phase
    grids plus two flat grids, in half the output or ``_SMALL_BYTES``, whichever is larger.
    """
    out_h = (height + 2 * padding - k) // stride + 1
    out_w = (width + 2 * padding - k) // stride + 1
    shift = (k - 1) // stride                    # the largest shift inside a phase
    grid = n * (out_h + shift) * (out_w + shift) * itemsize   # bytes of one channel's grids
    output = n * out_h * out_w * itemsize
    phases = min(stride, k) ** 2

    def allowed(size):
        backward_bytes = (2 * phases + 2) * size * grid
        forward_bytes = (phases + 2) * size * grid
        return backward_bytes <= fast._BLOCK_BYTES and forward_bytes <= max(channels * output // 2,
                                                                            fast._SMALL_BYTES)

    size = 1
    while size < channels and allowed(size + 1):
        size += 1
    return size, (out_h, out_w)


@pytest.mark.parametrize("stride, expected", [(1, 19), (2, 9)])
def test_depthwise_blocks_are_the_sizes_the_source_comment_quotes(stride, expected):
    """fast.py: "The rules pick 19 channels at stride 1; at stride 2 the half-the-output rule picks 9"
    (3x3, padding 1, on 8x128x56x56 float32)."""
    out = 56 // stride
    layout = fast._PhaseGrids((8, 128, 56, 56), 4, 3, stride, 1, (out, out))
    sizes = [block.stop - block.start for block in layout.blocks()]
    assert sizes[0] == expected


@pytest.mark.parametrize("n, channels, height, width, itemsize, k, stride, padding", [
    (8, 128, 56, 56, 4, 3, 1, 1), (8, 128, 56, 56, 4, 3, 2, 1), (8, 128, 56, 56, 8, 3, 1, 1),
    (2, 64, 32, 32, 4, 3, 1, 1), (1, 300, 40, 3, 8, 3, 1, 1), (3, 50, 9, 200, 2, 5, 3, 2),
    (1, 64, 64, 1, 8, 3, 1, 1), (4, 96, 30, 30, 8, 1, 1, 0), (2, 7, 5, 5, 8, 3, 2, 1),
    (8, 128, 112, 112, 8, 3, 2, 1), (8, 256, 168, 168, 8, 3, 3, 1),   # the 8 MB rule binds at stride 2 and 3
])
def test_depthwise_blocks_are_the_largest_the_two_rules_allow_and_cover_every_channel(
        n, channels, height, width, itemsize, k, stride, padding):
    size, out_hw = _rule_sizes(n, channels, height, width, itemsize, k, stride, padding)
    layout = fast._PhaseGrids((n, channels, height, width), itemsize, k, stride, padding, out_hw)
    blocks = list(layout.blocks())
    for block in blocks:
        assert type(block.start) is int and type(block.stop) is int and block.step is None
    assert [b.stop - b.start for b in blocks[:-1]] == [size] * (len(blocks) - 1)
    assert 0 < blocks[-1].stop - blocks[-1].start <= size
    assert np.array_equal(np.concatenate([np.arange(channels)[b] for b in blocks]), np.arange(channels))


@pytest.mark.parametrize("shape, stride", [((1, 64, 64, 1), 1), ((1, 40, 2, 90), 2), ((3, 24, 11, 13), 3),
                                           ((2, 45, 24, 24), 1)])
def test_depthwise_route_on_thin_and_odd_images_equals_the_loops_and_the_plain_gradients(shape, stride):
    """Many channels, very unequal H and W, and blocks of several channels whose last block is smaller
    (64 channels in blocks of 3 and a last 1; 45 in blocks of 6 and a last 3): forward against the loops,
    backward against the plain route, float64, 1e-12."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape)
    c = shape[1]
    weights = rng.standard_normal((c, 1, 3, 3))
    b = rng.standard_normal(c)
    out, cache = fast.conv2d_forward(x, weights, b, stride, 1, c)
    assert isinstance(cache, fast.DepthwiseCache)
    np.testing.assert_allclose(out, reference.conv2d_loops(x, weights, b, stride, 1, c)[0], rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    plain = C.conv2d_backward(dout, C.conv2d_forward(x, weights, b, stride, 1, c)[1])
    for name, got, want in zip(("dx", "dw", "db"), fast.conv2d_backward(dout, cache), plain):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=name)


# ---------------------------------------------------------------- the inf/NaN fallback of the shifted route


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("padding", [0, 2])
@pytest.mark.parametrize("groups", [1, 2])
def test_shifted_route_falls_back_to_the_plain_gradients_at_any_padding(padding, groups):
    """An inf in x makes the shifted route's dw non-finite; the fallback re-reads x from the flat padded copy,
    which must be cut at this padding (the existing tests use padding 1 only)."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 4, 6, 7))
    x[1, 3, 2, 4] = np.inf
    weights = rng.standard_normal((4, 4 // groups, 3, 3))
    out, cache = fast.conv2d_forward(x, weights, None, 1, padding, groups)
    assert isinstance(cache, fast.ShiftedCache)
    dout = rng.standard_normal(out.shape)
    dx, dw, _ = fast.conv2d_backward(dout, cache)
    p_dx, p_dw, _ = C.conv2d_backward(dout, C.conv2d_forward(x, weights, None, 1, padding, groups)[1])
    for got, want in ((dx, p_dx), (dw, p_dw)):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
        finite = np.isfinite(want)
        np.testing.assert_allclose(got[finite], want[finite], rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- batch norm's per-channel sums


# ---------------------------------------------------------------- ShuffleUnit


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


# ---------------------------------------------------------------- shufflenet_v1


@pytest.mark.parametrize("scale", [0.04, 0.06, 0.09, 0.25])
def test_shufflenet_conv1_width_is_24_times_the_scale_rounded_down_but_at_least_1(scale):
    """The docstring: every width, conv1's too, times s, rounded down (at least one channel)."""
    net = models.shufflenet_v1(1, width_multiplier=scale, num_classes=10)
    assert net.layer("conv1").out_channels == max(1, int(24 * scale))
    assert net.layer("stage2_1").in_channels == max(1, int(24 * scale))
    assert net.cost(32, 32).out_shape == (10, 1, 1)


def test_shufflenet_checks_stage_3s_widths_too():
    """g = 2 at 0.25x: widths 6, 50, 100, 200. Stage 2's and 4's split into 2 groups, Stage 3's bottleneck
    (100 // 4 = 25) does not."""
    with pytest.raises(ValueError, match="Stage 3's bottleneck 25"):
        models.shufflenet_v1(2, width_multiplier=0.25)


@pytest.mark.parametrize("stride, c_in, c_out", [(1, 12, 12), (2, 6, 12)])
def test_float32_shuffle_unit_keeps_float32_everywhere(stride, c_in, c_out):
    unit = C.ShuffleUnit(c_in, c_out, groups=3, stride=stride, rng=0, dtype=np.float32)
    x = np.random.default_rng(0).standard_normal((2, c_in, 6, 6)).astype(np.float32)
    out = unit.forward(x)
    assert out.dtype == np.float32
    assert unit.backward(np.ones_like(out)).dtype == np.float32
    for name, p in {**unit.params, **unit.buffers}.items():
        assert p.dtype == np.float32, name
    for name, g in unit.grads.items():
        assert g.dtype == np.float32, name


@pytest.mark.parametrize("groups", [2, 3, 4])
def test_every_grouped_first_1x1_is_followed_by_a_shuffle_of_its_groups(groups):
    """Figure 2: GConv -> BN -> ReLU -> channel shuffle, for any g > 1 (and none after an ungrouped first 1x1)."""
    width = 8 * groups
    unit = C.ShuffleUnit(width, width, groups=groups, rng=0)
    shuffles = [layer for layer in unit[0].block if isinstance(layer, C.ChannelShuffle)]
    assert len(shuffles) == 1 and shuffles[0].groups == groups
    assert unit[0].block[3] is shuffles[0]
    ungrouped = C.ShuffleUnit(width, width, groups=groups, first_groups=1, rng=0)
    assert not any(isinstance(layer, C.ChannelShuffle) for layer in ungrouped[0].block)


@pytest.mark.parametrize("stride, shape", [(3, (2, 64, 48, 48)), (2, (3, 40, 30, 50)), (1, (1, 96, 20, 44))])
def test_depthwise_forward_peak_stays_within_twice_the_output_at_other_strides_and_shapes(stride, shape):
    """fast.py's rule: a depthwise forward's buffers take at most half its output or ``_SMALL_BYTES``
    (test_fast_routes.py checks strides 1 and 2); here stride 3 and non-square images, float32, 3x3,
    padding 1. 128 KB of slack: the spare elements and NumPy's iterator buffers (8,192 elements an operand)."""
    import tracemalloc
    rng = np.random.default_rng(4)
    x = rng.standard_normal(shape).astype(np.float32)
    weights = rng.standard_normal((shape[1], 1, 3, 3)).astype(np.float32)
    fast.conv2d_forward(x, weights, None, stride, 1, shape[1])
    tracemalloc.start()
    out, _ = fast.conv2d_forward(x, weights, None, stride, 1, shape[1])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak <= out.nbytes + max(out.nbytes // 2, fast._SMALL_BYTES) + 128 * 1024, peak / out.nbytes


def test_shuffle_unit_stores_its_settings_as_python_ints():
    unit = C.ShuffleUnit(np.int64(12), np.int64(12), groups=np.int64(3), rng=0)
    for value in (unit.in_channels, unit.out_channels, unit.groups, unit.first_groups, unit.mid_channels,
                  unit.stride):
        assert type(value) is int


def test_shufflenet_stem_is_a_3x3_stride_2_convolution_and_a_3x3_stride_2_max_pool():
    """The docstring and Table 1: conv1 3x3/2 (24 channels, padding 1), then max pool 3x3/2 (padding 1)."""
    net = models.shufflenet_v1(3)
    conv, pool = net.layer("conv1"), net.layer("maxpool")
    assert (conv.kernel_size, conv.stride, conv.padding, conv.out_channels) == (3, 2, 1, 24)
    assert (pool.kernel_size, pool.stride, pool.padding) == (3, 2, 1)


def test_shufflenet_forward_of_the_stem_is_conv_bn_relu_then_the_max_pool_loops():
    net = models.shufflenet_v1(3, width_multiplier=0.25, num_classes=10, rng=0)
    x = np.random.default_rng(3).standard_normal((1, 3, 20, 20))
    stem = x
    for name in ("conv1", "bn1", "relu1"):
        stem = net.layer(name).forward(stem)
    np.testing.assert_allclose(net.layer("maxpool").forward(stem), reference.maxpool2d_loops(stem, 3, 2, 1),
                               rtol=1e-12, atol=1e-12)


def test_shufflenet_is_reproducible_from_a_seed_and_keeps_its_dtype():
    """Evaluation mode: on a 32x32 image Stage 4's maps are 1x1, too few values for batch statistics."""
    x = np.random.default_rng(0).standard_normal((1, 3, 32, 32))
    a, b = (models.shufflenet_v1(3, width_multiplier=0.25, num_classes=10, rng=0).eval() for _ in range(2))
    np.testing.assert_array_equal(a.forward(x), b.forward(x))
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name], err_msg=name)
    net32 = models.shufflenet_v1(3, width_multiplier=0.25, num_classes=10, rng=0, dtype=np.float32).eval()
    assert net32.forward(x.astype(np.float32)).dtype == np.float32
    for name, p in {**net32.params, **net32.buffers}.items():
        assert p.dtype == np.float32, name


def test_an_int_seed_gives_the_same_weights_as_a_generator_from_it():
    """check_rng: an int seeds one Generator, shared by every layer in turn (not one fresh Generator per layer)."""
    pairs = [(C.ShuffleUnit(12, 12, groups=3, rng=0), C.ShuffleUnit(12, 12, groups=3, rng=np.random.default_rng(0))),
             (models.shufflenet_v1(3, width_multiplier=0.25, num_classes=10, rng=0),
              models.shufflenet_v1(3, width_multiplier=0.25, num_classes=10, rng=np.random.default_rng(0)))]
    for seeded, generated in pairs:
        assert set(seeded.params) == set(generated.params)
        for name in seeded.params:
            np.testing.assert_array_equal(seeded.params[name], generated.params[name], err_msg=name)


def test_shufflenet_defaults_are_the_papers_g3_1x_1000_classes():
    net = models.shufflenet_v1()
    assert net.layer("stage2_1").groups == 3 and net.layer("stage2_1").out_channels == 240
    assert net.layer("fc").out_channels == 1000
