"""conv1x1.functional.dropout: dropout and stochastic depth drop with the probability asked for, scale what they
keep by 1 / (1 - p) as PyTorch does, repeat from a seed, pass gradients through the same mask, and refuse a p
that is not a probability."""

import numpy as np
import pytest

import conv1x1 as C


def test_dropout_keeps_one_minus_p_of_the_elements_scaled_by_its_inverse():
    x = np.ones(200_000)
    out, mask = C.dropout_forward(x, p=0.3, rng=0)
    assert set(np.unique(out)) == {0.0, 1 / 0.7}
    assert abs((out == 0).mean() - 0.3) < 0.005            # 5 standard deviations: sqrt(0.21 / 2e5) = 0.001
    assert abs(out.mean() - 1.0) < 0.01                    # expected value kept
    np.testing.assert_array_equal(out, x * mask)


def test_dropout_repeats_from_a_seed_and_differs_between_seeds():
    x = np.ones((4, 5))
    first, second, other = (C.dropout_forward(x, 0.5, rng=seed)[0] for seed in (7, 7, 8))
    assert np.array_equal(first, second) and not np.array_equal(first, other)


@pytest.mark.parametrize("p, kept", [(0.0, 1.0), (1.0, 0.0)])
def test_dropout_at_the_ends_keeps_everything_or_nothing(p, kept):
    out, _ = C.dropout_forward(np.full(10, 3.0), p=p, rng=0)
    assert np.array_equal(out, np.full(10, 3.0 * kept))


def test_dropout_backward_uses_the_forward_mask(rng):
    x = rng.standard_normal((3, 4))
    out, mask = C.dropout_forward(x, 0.5, rng=1)
    dout = rng.standard_normal(out.shape)
    np.testing.assert_array_equal(C.dropout_backward(dout, mask), dout * mask)   # out is linear in x: exact


def test_drop_path_drops_whole_images():
    out, mask = C.drop_path_forward(np.ones((400, 2, 3, 3)), p=0.25, rng=3)
    assert mask.shape == (400, 1, 1, 1)
    per_image = out.reshape(400, -1)
    assert np.all(per_image.min(axis=1) == per_image.max(axis=1))     # all of an image, or none of it
    assert set(np.unique(per_image)) == {0.0, 1 / 0.75}
    assert 0.15 < (per_image[:, 0] == 0).mean() < 0.35


def test_drop_path_backward_broadcasts_each_images_mask(rng):
    x = rng.standard_normal((5, 2, 2, 2))
    _, mask = C.drop_path_forward(x, 0.5, rng=0)
    dout = rng.standard_normal(x.shape)
    np.testing.assert_array_equal(C.drop_path_backward(dout, mask), dout * mask)
    with pytest.raises(ValueError, match=r"\(5, \.\.\.\) with 4 axes"):
        C.drop_path_backward(np.zeros((4, 2, 2, 2)), mask)


@pytest.mark.parametrize("p, error", [(-0.1, ValueError), (1.5, ValueError), (float("nan"), ValueError),
                                      ("0.5", TypeError), (True, TypeError)])
def test_dropout_and_drop_path_refuse_a_p_that_is_not_a_probability(p, error):
    for forward in (C.dropout_forward, C.drop_path_forward):
        with pytest.raises(error, match=r"\bp\b"):
            forward(np.ones((2, 2)), p, rng=0)
