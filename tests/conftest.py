"""Shared fixtures, and the switch that makes CI run the PyTorch comparisons instead of skipping them."""

import os

import numpy as np
import pytest

if os.environ.get("CONV1X1_REQUIRE_TORCH") == "1":
    # CI sets this after installing torch: its tests use pytest.importorskip("torch"), which must not skip.
    try:
        import torch  # noqa: F401
    except ImportError as error:  # pragma: no cover - only on a broken CI set-up
        raise pytest.UsageError(f"CONV1X1_REQUIRE_TORCH=1 but torch does not import: {error}") from None


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def torch():
    """PyTorch, the oracle of the comparison tests: a test that takes it skips where torch is not installed."""
    return pytest.importorskip("torch")


# The functions that conv1x1.fast re-implements. Test modules that mark themselves with
# `pytestmark = pytest.mark.usefixtures("both_paths")` run every test twice: once on the plain
# functions, once with conv1x1.conv1x1_forward & co. swapped for the engine room's versions.
FAST_FUNCTIONS = ("conv1x1", "conv1x1_forward", "conv1x1_backward", "conv2d_forward", "conv2d_backward",
                  "maxpool2d_forward", "maxpool2d_backward")


@pytest.fixture(params=["plain", "fast"])
def both_paths(request, monkeypatch):
    import conv1x1
    from conv1x1 import fast

    if request.param == "fast":
        for name in FAST_FUNCTIONS:
            monkeypatch.setattr(conv1x1, name, getattr(fast, name))
    return request.param
