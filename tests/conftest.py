"""Shared fixtures, and the switches that make CI run the PyTorch comparisons and the examples, not skip them."""

import importlib
import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest


def import_torchvision():
    """torchvision, imported beside the CPU build of torch; raises ImportError if it is not installed.

    The torchvision 0.28.0 wheel that CI installs (`pip install --no-deps torchvision==0.28.0 pillow`) registers
    compiled operators that do not load beside torch's CPU build ("operator torchvision::nms does not exist").
    Its model definitions are pure Python and need none of them, so on that error the registration module is
    replaced by an empty one and the import retried.
    """
    try:
        return importlib.import_module("torchvision")
    except RuntimeError:
        for name in [name for name in sys.modules if name == "torchvision" or name.startswith("torchvision.")]:
            del sys.modules[name]
        sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
        return importlib.import_module("torchvision")


if os.environ.get("CONV1X1_REQUIRE_TORCH") == "1":
    # CI sets this after installing torch and torchvision: their tests use pytest.importorskip("torch") and the
    # `torchvision` fixture, which must not skip.
    try:
        import torch  # noqa: F401
        import_torchvision()
    except ImportError as error:  # pragma: no cover - only on a broken CI set-up
        raise pytest.UsageError(f"CONV1X1_REQUIRE_TORCH=1 but torch or torchvision does not import: {error}. "
                                "Install them with `pip install torch==2.13.0` and "
                                "`pip install --no-deps torchvision==0.28.0 pillow`.") from None


if os.environ.get("CONV1X1_REQUIRE_EXAMPLES") == "1":
    # CI's slow pass sets this after installing the examples extra: the examples' tests and the docs pages
    # skip without matplotlib or scikit-learn, and must not skip there.
    try:
        import matplotlib  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError as error:  # pragma: no cover - only on a broken CI set-up
        raise pytest.UsageError(f"CONV1X1_REQUIRE_EXAMPLES=1 but {error.name} does not import. "
                                "Install the examples' extra with `pip install -e '.[examples]'`.") from None


@pytest.fixture
def torchvision():
    """The torchvision package (see import_torchvision), or a skip where it is not installed."""
    try:
        return import_torchvision()
    except ImportError as error:
        pytest.skip(f"torchvision is not installed ({error})")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


ROOT = Path(__file__).resolve().parent.parent


def _python_env(**extra):
    """The environment of a subprocess: this checkout's package importable even when not installed."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": path, **extra}


@pytest.fixture
def python_env():
    """``python_env(**extra)``: the environment of a subprocess, this checkout's package importable even when not
    installed, matplotlib drawing off screen, and the ``extra`` variables."""
    return _python_env


@pytest.fixture
def run_python():
    """``run_python(args, cwd)``: this Python run with ``args`` in ``cwd`` and ``python_env()``, its output captured
    as text (a subprocess.CompletedProcess)."""
    def run(args, cwd):
        return subprocess.run([sys.executable, *args], cwd=cwd, env=_python_env(), capture_output=True, text=True,
                              timeout=300)
    return run


@pytest.fixture
def randomise_params():
    """``randomise_params(layer, rng)``: random gamma, beta and biases, so that no ReLU sits on its kink and batch
    norm is not the identity before a gradient check; returns the layer."""
    def randomise(layer, rng):
        for name, param in layer.params.items():
            if name.endswith(("gamma", "beta", "b")):
                param[...] = (rng.uniform(0.5, 1.5, param.shape) if name.endswith("gamma")
                              else rng.normal(0, 0.5, param.shape))
        return layer
    return randomise


@pytest.fixture
def all_below():
    """``all_below(errors, bound=1e-7)``: every relative error of a gradient check (a dict) below the bound."""
    def below(errors, bound=1e-7):
        return all(e < bound for e in errors.values())
    return below


@pytest.fixture
def torch():
    """PyTorch, the oracle of the comparison tests: a test that takes it skips where torch is not installed."""
    return pytest.importorskip("torch")


# Test modules that mark themselves with `pytestmark = pytest.mark.usefixtures("both_paths")` run every
# test twice: once on the plain path, once on the engine room's. On the fast path the functions at the top
# of the package (conv1x1.conv2d_forward & co.) are swapped for conv1x1.fast's versions, and the test runs
# inside conv1x1.fast.enabled(), so every layer, container and network takes the fast functions too.
# Only a test that runs one of fast.FUNCTIONS can differ between the paths: the 1x1 convolution is the plain
# function on both (conv1x1.fast re-exports it), and building or pricing a network runs no layer.
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
