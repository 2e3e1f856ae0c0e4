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


# ---------------------------------------------------------------- shufflenet_v1


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
