"""conv1x1.reference, the ladder from obvious to fast: the loops, einsum and the dense-layer view of the 1x1
convolution equal conv1x1 (plain and fast) on fixed and random shapes; the pooling loops check their input. The
KxK and pooling loops are the oracles of tests/functional/, which compare every function with them."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import conv1x1 as C
from conv1x1 import reference


def _random_problem(rng, shape, dtype=np.float64):
    n, c_in, c_out, h, w = shape
    x = rng.standard_normal((n, c_in, h, w)).astype(dtype)
    weights = rng.standard_normal((c_out, c_in)).astype(dtype)
    bias = rng.standard_normal(c_out).astype(dtype)
    return x, weights, bias


@pytest.mark.usefixtures("both_paths")
def test_reference_rungs_agree_with_conv1x1_on_a_fixed_case(rng):
    x, w, b = _random_problem(rng, (2, 3, 4, 5, 6))
    fast = C.conv1x1(x, w, b)
    for rung in (reference.conv1x1_loops, reference.conv1x1_einsum, reference.conv1x1_as_dense):
        np.testing.assert_allclose(rung(x, w, b), fast, rtol=1e-12, atol=1e-12)


dims = st.tuples(
    st.integers(0, 3),   # N (0 included)
    st.integers(1, 5),   # C_in
    st.integers(1, 5),   # C_out
    st.integers(1, 5),   # H
    st.integers(1, 5),   # W
)
dtypes = st.sampled_from([np.float32, np.float64])
TOL = {np.float32: 1e-5, np.float64: 1e-12}


def _problem(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    n, c_in, c_out, h, w = shape
    return (rng.standard_normal((n, c_in, h, w)).astype(dtype),
            rng.standard_normal((c_out, c_in)).astype(dtype),
            rng.standard_normal(c_out).astype(dtype))


@pytest.mark.usefixtures("both_paths")
@settings(max_examples=60, deadline=None)
@given(dims, dtypes, st.booleans(), st.integers(0, 2**32 - 1))
def test_reference_rungs_equal_conv1x1_on_random_shapes(shape, dtype, use_bias, seed):
    x, w, b = _problem(shape, dtype, seed)
    b = b if use_bias else None
    fast = C.conv1x1(x, w, b)
    assert fast.dtype == dtype
    for rung in (reference.conv1x1_loops, reference.conv1x1_einsum, reference.conv1x1_as_dense):
        slow = rung(x, w, b)
        assert slow.shape == fast.shape and slow.dtype == dtype
        np.testing.assert_allclose(slow, fast, rtol=TOL[dtype], atol=TOL[dtype])


@pytest.mark.parametrize("x, error", [(np.zeros((2, 3, 3)), ValueError),
                                      (np.zeros((1, 1, 3, 3), dtype=int), TypeError)])
def test_maxpool2d_loops_checks_its_input(x, error):
    """Errors that name the argument."""
    with pytest.raises(error, match="x must be"):
        reference.maxpool2d_loops(x, 2)


def test_the_loops_take_non_square_kernels_strides_and_paddings_as_torch_does(torch, rng):
    """Each rung for a KH x KW window, read (along H, along W) as PyTorch reads it; float64, to 1e-10."""
    x, w, b = rng.standard_normal((2, 4, 9, 8)), rng.standard_normal((6, 2, 1, 3)), rng.standard_normal(6)
    tx = torch.tensor(x)
    out, macs = reference.conv2d_loops(x, w, b, (2, 1), (0, 1), 2)
    expected = torch.nn.functional.conv2d(tx, torch.tensor(w), torch.tensor(b), (2, 1), (0, 1), groups=2)
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-10, atol=1e-10)
    assert macs == 6 * 5 * 8 * 2 * 1 * 3                   # C_out·H_out·W_out·(C_in/groups)·KH·KW, one image
    pooled = reference.maxpool2d_loops(x, (3, 2), (2, 1), (1, 0), ceil_mode=True)
    expected = torch.nn.functional.max_pool2d(tx, (3, 2), (2, 1), (1, 0), ceil_mode=True)
    np.testing.assert_array_equal(pooled, expected.numpy())
    averaged = reference.avgpool2d_loops(x, (2, 3), (1, 2), (1, 1))
    expected = torch.nn.functional.avg_pool2d(tx, (2, 3), (1, 2), (1, 1), count_include_pad=True)
    np.testing.assert_allclose(averaged, expected.numpy(), rtol=1e-10, atol=1e-10)
