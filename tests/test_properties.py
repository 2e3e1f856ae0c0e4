"""Property tests: the reference ladder, linearity and the dense-layer view, on random shapes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import conv1x1 as C
from conv1x1 import reference

pytestmark = pytest.mark.usefixtures("both_paths")  # plain and conv1x1.fast: same results

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


@settings(max_examples=60, deadline=None)
@given(dims, dtypes, st.booleans(), st.integers(0, 2**32 - 1))
def test_every_reference_rung_equals_the_fast_path(shape, dtype, use_bias, seed):
    x, w, b = _problem(shape, dtype, seed)
    b = b if use_bias else None
    fast = C.conv1x1(x, w, b)
    assert fast.dtype == dtype
    for rung in (reference.conv1x1_loops, reference.conv1x1_einsum, reference.conv1x1_as_dense):
        slow = rung(x, w, b)
        assert slow.shape == fast.shape and slow.dtype == dtype
        np.testing.assert_allclose(slow, fast, rtol=TOL[dtype], atol=TOL[dtype])
