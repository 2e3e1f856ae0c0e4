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


# Test modules that mark themselves with `pytestmark = pytest.mark.usefixtures("both_paths")` run every
# test twice: once on the plain path, once on the engine room's. On the fast path the functions at the top
# of the package (conv1x1.conv2d_forward & co.) are swapped for conv1x1.fast's versions, and the test runs
# inside conv1x1.fast.enabled(), so every layer, container and network takes the fast functions too.
PLAIN_TOO = ("conv1x1", "conv1x1_forward", "conv1x1_backward")   # conv1x1.fast re-exports the plain ones


@pytest.fixture(params=["plain", "fast"])
def both_paths(request, monkeypatch):
    import conv1x1
    from conv1x1 import fast

    if request.param == "plain":
        yield request.param
        return
    for name in PLAIN_TOO + fast.FUNCTIONS:
        monkeypatch.setattr(conv1x1, name, getattr(fast, name))
    with fast.enabled():
        yield request.param
