"""conv1x1.functional.shuffle: the channel shuffle interleaves the groups, its backward undoes it, and it equals
PyTorch's."""

import numpy as np

import conv1x1 as C


def test_channel_shuffle_interleaves_the_groups_and_backward_undoes_it():
    x = np.arange(12.0).reshape(1, 12, 1, 1)
    out, cache = C.channel_shuffle_forward(x, 3)   # groups of 4: 0-3 | 4-7 | 8-11
    assert out.ravel().tolist() == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]
    np.testing.assert_array_equal(C.channel_shuffle_backward(out, cache), x)   # the inverse permutation
    x = np.arange(6.0).reshape(1, 6, 1, 1)
    out, cache = C.channel_shuffle_forward(x, 3)         # groups 01 | 23 | 45 -> 0 2 4 1 3 5
    assert out.ravel().tolist() == [0, 2, 4, 1, 3, 5]
    dx = C.channel_shuffle_backward(out, cache)            # the inverse permutation gives x back
    assert dx.ravel().tolist() == [0, 1, 2, 3, 4, 5]


def test_channel_shuffle_returns_a_new_array_even_for_one_group(rng):
    x = rng.standard_normal((1, 4, 2, 2))
    out, _ = C.channel_shuffle_forward(x, 1)
    np.testing.assert_array_equal(out, x)
    assert not np.shares_memory(out, x)


TOL = {"rtol": 1e-10, "atol": 1e-10}


def _close(ours, theirs):
    np.testing.assert_allclose(ours, theirs.detach().numpy(), **TOL)


def test_channel_shuffle_equals_torch(torch, rng):
    x = rng.standard_normal((2, 12, 3, 4))
    dout = rng.standard_normal(x.shape)
    out, cache = C.channel_shuffle_forward(x, 3)
    tx = torch.tensor(x, requires_grad=True)
    tout = torch.nn.ChannelShuffle(3)(tx)
    tout.backward(torch.tensor(dout))
    _close(out, tout)
    _close(C.channel_shuffle_backward(dout, cache), tx.grad)
