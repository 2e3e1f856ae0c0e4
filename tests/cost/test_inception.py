"""conv1x1.cost.inception: bottleneck_comparison and inception_cost price the classic bottleneck and GoogLeNet's
Inception modules to the published numbers, branch by branch, with and without the 1x1 reductions."""

import pytest

from conv1x1 import cost
from conv1x1.cost import bottleneck_comparison, inception_cost


def test_bottleneck_comparison_gives_the_classic_numbers_exactly():
    comparison = bottleneck_comparison(192, 16, 32, 28, 28, kernel_size=5)
    assert comparison.baseline.macs == 120_422_400            # 28*28*32 * 192*5*5
    assert [layer.macs for layer in comparison.candidate] == [2_408_448, 10_035_200]  # 28*28*16*192, 28*28*32*16*25
    assert comparison.candidate.macs == 12_443_648
    assert comparison.macs_ratio == pytest.approx(120_422_400 / 12_443_648)
    assert 9.6 < comparison.macs_ratio < 9.7
    assert comparison.baseline.params == 192 * 32 * 25 + 32
    assert comparison.candidate.params == (192 * 16 + 16) + (16 * 32 * 25 + 32)
    text = str(comparison)
    for fact in ("120.4M", "12.4M", "9.7x", "120,422,400", "12,443,648"):
        assert fact in text


def test_inception_cost_of_googlenet_3a_and_3b_matches_the_published_table():
    # Szegedy et al. 2015, table 1: inception (3a) 128M ops, (3b) 304M ops ("ops" are multiply-adds).
    a = inception_cost(192, 28, 28, 64, 96, 128, 16, 32, 32)
    b = inception_cost(256, 28, 28, 128, 128, 192, 32, 96, 64)
    assert round(a.macs / 1e6) == 128 and round(b.macs / 1e6) == 304
    assert a.out_shape == (256, 28, 28) and b.out_shape == (480, 28, 28)
    assert a.macs == 28 * 28 * (192 * 64 + 192 * 96 + 96 * 128 * 9 + 192 * 16 + 16 * 32 * 25 + 192 * 32)


def test_inception_cost_without_reductions_is_more_expensive_and_wider():
    reduced = inception_cost(192, 28, 28, 64, 96, 128, 16, 32, 32)
    naive = inception_cost(192, 28, 28, 64, 96, 128, 16, 32, 32, reductions=False)
    assert naive.macs == 28 * 28 * (192 * 64 + 192 * 128 * 9 + 192 * 32 * 25)
    assert naive.out_shape == (64 + 128 + 32 + 192, 28, 28)  # the pool branch passes all 192 channels on
    assert naive.macs > 2 * reduced.macs
    assert [layer.kind for layer in reduced] == ["conv 1x1", "relu", "conv 1x1", "relu", "conv 3x3", "relu",
                                                 "conv 1x1", "relu", "conv 5x5", "relu", "maxpool 3x3", "conv 1x1",
                                                 "relu", "concat"]
    pool = reduced[10]
    assert pool.macs == 0 and pool.params == 0 and pool.name == "3.0"
    # the tree: one child report per branch, each with its own totals, then the concatenation
    branches = reduced.children[:4]
    assert [b.macs for b in branches] == [28 * 28 * 192 * 64, 28 * 28 * (192 * 96 + 96 * 128 * 9),
                                          28 * 28 * (192 * 16 + 16 * 32 * 25), 28 * 28 * 192 * 32]
    assert sum(b.params for b in branches) == reduced.params and reduced.children[4].kind == "concat"


def test_inception_cost_reductions_must_be_a_bool():
    with pytest.raises(TypeError, match="reductions must be True or False"):
        cost.inception_cost(192, 28, 28, 64, 96, 128, 16, 32, 32, reductions="no")


def test_bottleneck_comparison_and_inception_cost_refuse_bad_sizes():
    with pytest.raises(ValueError, match="reduce_channels"):
        bottleneck_comparison(192, 0, 32, 28, 28)
    with pytest.raises(ValueError, match="odd kernel"):
        bottleneck_comparison(192, 16, 32, 28, 28, kernel_size=4)
    with pytest.raises(ValueError, match="in_channels"):
        inception_cost(-192, 28, 28, 64, 96, 128, 16, 32, 32)
