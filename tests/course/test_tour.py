"""The tour (``python -m conv1x1`` without a command) prints the formula, its checks, the cost and every example."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SCRIPTS = sorted(EXAMPLES.glob("*.py"))


def test_tour_prints_the_formula_the_checks_the_cost_and_every_example(tmp_path, run_python):
    result = run_python(["-m", "conv1x1"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "np.einsum('oc,nchw->nohw', w, x)" in out
    assert "x 28x28x192" in out and "out 28x28x32" in out
    difference = float(re.search(r"max \|conv1x1 - dense per pixel\| = (\S+)", out).group(1))
    error = float(re.search(r"max relative error (\S+)", out).group(1))
    assert difference < 1e-10 and error < 1e-7
    assert "120.4M" in out and "12.4M" in out and "9.7x" in out
    assert all(script.name in out for script in SCRIPTS)
