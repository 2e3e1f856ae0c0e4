#!/usr/bin/env python3
# /// script
# dependencies = ["nox>=2025.2.9"]
# ///
"""The development loop as nox sessions: what CONTRIBUTING.md describes and what CI (.ci/run) runs.

Run one with ``nox -s NAME`` (``pip install nox``; or ``python noxfile.py -s NAME``); ``nox -l`` lists them,
and ``nox`` alone runs lint, tests, types and build. Each session builds its own
virtual environment, so it needs nothing installed but nox and the interpreters it names:

- ``lint``: ruff, pinned as in ``.pre-commit-config.yaml``.
- ``tests``: the fast suite (``python -m pytest``), PyTorch not installed, so its comparisons skip.
- ``slow``: the tests marked ``slow`` (``python -m pytest -m slow``).
- ``oracle``: the fast suite again with PyTorch 2.13.0 CPU and torchvision 0.28.0 as the oracle, their skips
  turned into failures (``CONV1X1_REQUIRE_TORCH=1``).
- ``types``: mypy and pyright on the package and on ``tests/typing``.
- ``docs``: the course website (``sphinx -W``, read in headless Chromium) and every example as a notebook;
  Chromium itself comes from Debian's ``chromium`` package, which .ci/run installs.
- ``build``: the sdist and the wheel, checked by ``twine check`` and ``check-wheel-contents``.
- ``sdist_tests``: the sdist unpacked in a fresh directory, installed, and its own fast suite run there.
- ``oldest``: the fast suite on the oldest supported pair, Python 3.10 with NumPy 1.23.5.
- ``newest``: the fast suite on the newest Python this machine has (3.13) with the newest NumPy.
"""

from __future__ import annotations

import os
import shutil
import tarfile
from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"      # nox.project.dependency_groups
nox.options.default_venv_backend = "venv"

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
TORCH = ("torch==2.13.0",)
# torchvision without its dependencies, so that pip touches nothing else (it needs torch, numpy and pillow).
TORCHVISION = ("--no-deps", "torchvision==0.28.0", "pillow")
VERSIONS = "import sys, numpy; print('Python', sys.version.split()[0], 'NumPy', numpy.__version__)"
OLDEST_NUMPY = "numpy==1.23.5"      # the floor pyproject.toml claims (numpy>=1.23)


def _interpreter(version: str) -> str:
    """``version`` as an interpreter nox can start: pyenv's copy where pyenv has one, else ``pythonX.Y`` on PATH."""
    root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    for candidate in sorted(Path(root, "versions").glob(f"{version}.*"), reverse=True):
        python = candidate / "bin" / "python"
        if python.exists():
            return str(python)
    return version


def _pytest(session: nox.Session, *args: str, **env: str) -> None:
    session.run("python", "-m", "pytest", "-p", "no:cacheprovider", "-q", *args, *session.posargs, env=env)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff on the package, tests, examples and benchmarks."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")


@nox.session
def tests(session: nox.Session) -> None:
    """The fast suite, as the README says, PyTorch not installed."""
    session.install("-e", ".[test]")
    _pytest(session)


@nox.session(default=False)
def slow(session: nox.Session) -> None:
    """The tests marked ``slow``."""
    session.install("-e", ".[test]")
    _pytest(session, "-m", "slow")


@nox.session(default=False)
def oracle(session: nox.Session) -> None:
    """The fast suite with PyTorch and torchvision as the oracle: a missing torch fails instead of skipping."""
    session.install("-e", ".[test]")
    session.install(*TORCH)
    session.install(*TORCHVISION)
    _pytest(session, CONV1X1_REQUIRE_TORCH="1")


@nox.session
def types(session: nox.Session) -> None:
    """mypy and pyright (configured in pyproject.toml) on the package and the typing test of the documented calls.

    PyTorch is installed so that pyright reads the bridge's torch.nn classes (mypy skips torch: pyproject.toml).
    """
    session.install("-e", ".", *nox.project.dependency_groups(PYPROJECT, "types"))
    session.install(*TORCH)
    failed = []
    for checker in ("mypy", "pyright"):     # both run, so that one run shows every error
        try:
            session.run(checker)
        except nox.command.CommandFailed:
            failed.append(checker)
    if failed:
        session.error(f"{' and '.join(failed)} found errors")


@nox.session(default=False)
def docs(session: nox.Session) -> None:
    """The website (sphinx -W, every page in headless Chromium) and every example run as a notebook."""
    if shutil.which("chromium") is None:
        session.error("the site test reads the pages in Debian's Chromium: apt-get install chromium")
    session.install("-e", ".[docs]", "playwright")
    _pytest(session, "tests/test_site.py", "tests/test_notebooks.py",
            CONV1X1_REQUIRE_BROWSER="1", CONV1X1_REQUIRE_DOCS="1")


@nox.session
def build(session: nox.Session) -> None:
    """The sdist and the wheel into dist/, then twine check and check-wheel-contents."""
    shutil.rmtree(ROOT / "dist", ignore_errors=True)
    session.install(*nox.project.dependency_groups(PYPROJECT, "release"))
    session.run("python", "-m", "build")
    dist = sorted(str(path) for path in (ROOT / "dist").iterdir())
    session.run("twine", "check", "--strict", *dist)
    session.run("check-wheel-contents", *[path for path in dist if path.endswith(".whl")])


@nox.session(default=False)
def sdist_tests(session: nox.Session) -> None:
    """The sdist unpacked far from this checkout, installed from itself, and its own fast suite run there."""
    tmp = Path(session.create_tmp()).resolve()
    shutil.rmtree(tmp / "dist", ignore_errors=True)
    session.install("build")
    session.run("python", "-m", "build", "--sdist", "--outdir", str(tmp / "dist"))
    (sdist,) = (tmp / "dist").glob("conv1x1-*.tar.gz")
    unpacked = tmp / "unpacked"
    shutil.rmtree(unpacked, ignore_errors=True)
    with tarfile.open(sdist) as archive:
        archive.extractall(unpacked, filter="data")
    (source,) = unpacked.iterdir()
    session.chdir(source)
    session.install(".[test]")
    _pytest(session)


@nox.session(python=_interpreter("3.10"), default=False)
def oldest(session: nox.Session) -> None:
    """The fast suite on the oldest supported pair: Python 3.10 and NumPy 1.23.5."""
    session.install("-e", ".[test]", OLDEST_NUMPY)
    session.run("python", "-c", VERSIONS)
    _pytest(session)


@nox.session(python=_interpreter("3.13"), default=False)
def newest(session: nox.Session) -> None:
    """The fast suite on Python 3.13 with the newest NumPy."""
    session.install("-e", ".[test]")
    session.install("--upgrade", "numpy")
    session.run("python", "-c", VERSIONS)
    _pytest(session)


if __name__ == "__main__":
    nox.main()
