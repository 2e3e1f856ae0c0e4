"""Every example runs top to bottom as a Jupyter notebook: jupytext turns the script into one, nbclient runs it.

A kernel is not a plain ``python script.py``: its ``sys.argv`` holds the kernel's own arguments
(``-f kernel.json``), matplotlib draws inline, and the working directory is the notebook's: a script that reads
its arguments with argparse would meet ``-f`` and exit. These tests are slow (``python -m pytest -m slow``) and
skip where jupytext, nbclient or ipykernel is missing (the ``docs`` extra installs them), unless
CONV1X1_REQUIRE_DOCS=1, as CI sets.
"""

import importlib
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted((ROOT / "examples").glob("[0-9][0-9]_*.py"))
REQUIRED = os.environ.get("CONV1X1_REQUIRE_DOCS") == "1"
NEEDS_SKLEARN = {"13_nin_digits.py", "15_to_pytorch.py", "17_linear_bottleneck.py"}  # train on the digits
NEEDS_TORCH = {"15_to_pytorch.py"}                           # carries a network to PyTorch and back


def _need(module):
    try:
        return importlib.import_module(module)
    except ImportError:
        if REQUIRED:
            pytest.fail(f"{module} is missing but CONV1X1_REQUIRE_DOCS=1: pip install -e '.[docs]'")
        pytest.skip(f"{module} is not installed (pip install -e '.[docs]')")


def _has(module):
    try:
        importlib.import_module(module)
        return True
    except ImportError:
        return False


def test_every_numbered_example_is_run_as_a_notebook():
    assert len(SCRIPTS) >= 14 and all(script.name[:2].isdigit() for script in SCRIPTS)


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_example_runs_top_to_bottom_in_a_jupyter_kernel(script, tmp_path, monkeypatch):
    jupytext = _need("jupytext")
    nbclient = _need("nbclient")
    _need("ipykernel")
    if script.name in NEEDS_SKLEARN:
        pytest.importorskip("sklearn")
    if script.name in NEEDS_TORCH:
        pytest.importorskip("torch")                    # CI's last pass has it (installed for the PyTorch pass)
    notebook = jupytext.read(script, fmt="py:percent")
    assert len(notebook.cells) >= 3, "the script's # %% cells should become notebook cells"
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))
    monkeypatch.setenv("CONV1X1_GALLERY", "1")          # fewer timing repeats, as when the website is built
    monkeypatch.delenv("MPLBACKEND", raising=False)     # the kernel's own inline backend draws the figures
    client = nbclient.NotebookClient(notebook, timeout=900, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()                                    # raises CellExecutionError on the first failing cell
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]
    printed = "".join(output.get("text", "") for output in outputs if output.output_type == "stream")
    assert printed.strip(), "the notebook printed nothing"
    assert not [o for o in outputs if o.output_type == "error"]
    if _has("matplotlib") and "plt.show()" in script.read_text():
        figures = [o for o in outputs if o.output_type == "display_data" and "image/png" in o.get("data", {})]
        assert figures, "the script draws figures, but the kernel displayed none"
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "an example wrote files into its working directory"
