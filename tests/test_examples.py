"""Run every example script and check the facts it prints. Each takes seconds: they are marked ``slow``
(``python -m pytest -m slow``), and CI runs them in a step of their own with the examples' extra installed."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SCRIPTS = sorted(EXAMPLES.glob("*.py"))


def test_every_example_is_covered():
    assert len(SCRIPTS) >= 8
    assert set(FACTS) == {script.name for script in SCRIPTS}


FACTS = {  # script -> checks on its output
    "01_per_pixel_fc.py": lambda out: "all four agree with the loops" in out,
    "02_dimension_reduction.py": lambda out: "(1, 32, 28, 28)" in out and "H and W kept: True" in out
    and "4,816,896" in out and ("no photograph" in out or (
        re.search(r"the two channels keep 9\d\.\d\d% of the colour variance", out) is not None
        and float(re.search(r"max \|conv1x1 - weighted sum by hand\| = (\S+)", out).group(1)) < 1e-12)),
    "03_nonlinearity.py": lambda out: _accuracies(out)[0] < 0.70 and _accuracies(out)[1] > 0.95
    and float(re.search(r"one with w2 @ w1\| += (\S+)", out).group(1)) < 1e-12
    and float(re.search(r"a ReLU between them - one with w2 @ w1\| = (\S+)", out).group(1)) > 0.1,
    "04_bottleneck_cost.py": lambda out: "120.4M" in out and "12.4M" in out and "predicted 9.7x fewer MACs" in out
    and re.search(r"measured \d+\.\d+x faster", out) is not None,
    "05_inception_cost.py": lambda out: "303,464,448" in out and "128,049,152" in out and "2.4x fewer" in out,
    "06_gradient_check.py": lambda out: out.count("CAUGHT") == 2 and "missed" not in out
    and float(re.search(r"tanh \(curved\):.*at eps = 1e-1: (\S+)", out).group(1)) > 1e-4
    and float(re.search(r"\(linear\):.*at eps = 1e-1: (\S+)", out).group(1)) < 1e-10,
    "07_einsum_paths.py": lambda out: "x GEMM" in out and len(_differences(out)) == 6 and max(_differences(out)) < 1e-5,
    "08_inception_module.py": lambda out: "(1, 256, 28, 28)" in out and "predicted speed-up 2.4x" in out
    and "output depth: naive 416, with reductions 256" in out,
    "13_nin_digits.py": lambda out: float(re.search(r"^nin +[\d,]+ +[\d,]+ +(\d+\.\d)%", out, re.M).group(1)) >= 97
    and "NiN reaches 97%" in out and "their non-linearity (ReLU between the 1x1 layers):" in out
    and re.search(r"plain path \d+\.\d s, fast path \d+\.\d s", out) is not None,
    "12_roofline.py": lambda out: "MAC ratio (naive / reduced): 303,464,448 / 128,049,152 = 2.37x" in out
    and "ridge" in out and out.count("measured against predicted") == 3 and "one MobileNet block" in out
    and "Furthest above its roofline" in out
    and any(verdict in out for verdict in ("Why ", "This run disagrees"))
    and ("No layer ran faster than its roofline bound allows" in out or "ran faster than their roofline bound" in out)
    and re.search(r"^plain +\d+\.\d\d ms +\d+x +\d+% +\d+\.\d\dx +\d+\.\d\dx$", out, re.M) is not None
    and re.search(r"^engine room +\d+\.\d\d ms +\d+x +\d+% +\d+\.\d\dx +\d+\.\d\dx$", out, re.M) is not None
    and out.count("\nplain: ") == 1 and out.count("\nengine room: ") == 1
    and "The engine room's max pooling ran" in out,
    "09_depthwise_separable.py": lambda out: "462,422,016 MACs" in out and "52,283,392 MACs" in out
    and "ours 462M vs 52.3M, 8.8x fewer MACs" in out and "the pointwise 1x1 does 98.3%" in out
    and re.search(r"measured \d+\.\dx faster", out) is not None
    and re.search(r"(The (depthwise 3x3|pointwise 1x1) lost the most time|reaches the predicted)", out) is not None,
    "10_resnet_bottleneck.py": lambda out: "basic block (64 channels): 231,211,008 MACs" in out
    and "bottleneck (256 channels): 218,365,952 MACs" in out and "width 4x, MACs 0.94x" in out
    and re.search(r"0\.94x the MACs, \d+\.\d\dx the time", out) is not None
    and "3,857,973,248 MACs with the stride on the 1x1, 4,089,184,256 on the 3x3" in out
    and "the three downsampling blocks cost the same layer by layer: True" in out,
    "14_shufflenet.py": lambda out: "groups 3: 15,052,800 MACs" in out
    and "3 of 9 inputs without the shuffle, 9 of 9 with it\n" in out
    and "2 of 6 inputs without the shuffle, 4 of 6 with it "
        "(a group of 2 channels can feed only 2 of the 3 groups)" in out
    and re.search(r"^ 3 +240 +137M +136,500,672 +137,460,672 +1,865,728$", out, re.M) is not None
    and re.search(r"^ 8 +384 +137M +136,829,952 +138,365,952 +2,434,768$", out, re.M) is not None
    and re.search(r"grouped +120\.0M MACs +87\.3%", out) is not None and "2.89x the MACs" in out
    and "do 95% of the unit's MACs" in out and "bound 1e-7: pass" in out
    and "grouped 1x1, grouped 1x1: 27 of 81" in out and "grouped 1x1, shuffle, grouped 1x1: 81 of 81" in out,
    "15_to_pytorch.py": lambda out: _to_pytorch_facts(out),
    "11_where_the_macs_go.py": lambda out: "largest in mobilenet_v1: 94.9%" in out
    and re.search(r"mobilenet_v1 +568\.7M +4\.2M +94\.9% +1\.9% +3\.1%", out) is not None
    and re.search(r"resnet50 \(v1\.5\) +4\.1G +25\.6M", out) is not None and "(3.0x fewer)" in out,
    "16_spiral_relu.py": lambda out: float(re.search(r"without the ReLU: max \|T\^\+ T x - x\| = (\S+)", out).group(1))
    < 1e-12 and len(re.findall(r"^ +(?:2|3|5|10|15|30)  +\d+\.\d%", out, re.M)) == 6
    and "median share of points lost: 76.8% (n = 2)" in out and "0.0% (n = 30)" in out
    and "from n = 10 the median draw loses no point" in out
    and "median shape error falls at every step from n = 2 to n = 30" in out,
    "17_linear_bottleneck.py": lambda out: "linear bottleneck : 2,066 parameters, 69,888 MACs" in out
    and "ReLU bottleneck   : 2,066 parameters, 69,888 MACs" in out and len(re.findall(r"^seed \d: ", out, re.M)) == 3
    and re.search(r"^linear - ReLU +[+-]\d+\.\d%", out, re.M) is not None
    and re.search(r"measured: the (linear bottleneck scored higher|ReLU bottleneck scored higher|two scored the "
                  r"same)", out) is not None
    and "ReLU bottleneck   :  0.0% of the bottleneck's values negative" in out,
    "18_squeeze_excite.py": lambda out: "gates s (2, 8)" in out and "the gates depend on the image" in out
    and float(re.search(r"times its old average: max \|difference\| = (\S+)", out).group(1)) < 1e-12
    and float(re.search(r"gates from dense layers\| = (\S+)", out).group(1)) < 1e-12
    and float(re.search(r"max \|se\.forward\(u\) - gated\| = (\S+)", out).group(1)) < 1e-12,
    "19_conv1x1_is_linear.py": lambda out: len(re.findall(r"max \|diff\| = (\S+)", out)) == 4
    and max(float(v) for v in re.findall(r"max \|diff\| = (\S+)", out)) < 1e-12
    and out.count("NCHW time / this time") == 3
    and re.search(r"median of \d+ interleaved turns: (the channels-last Linear was faster|the channels-first "
                  r"conv1x1_forward was faster|no clear winner)", out) is not None,
    "20_modern_macs.py": lambda out: re.search(r"^mobilenet_v1 +224 +568\.7M +4\.2M +94\.9%", out, re.M) is not None
    and re.search(r"^mobilenet_v1 +13 pairs: pointwise / depthwise MACs from 7\.1x to 113\.8x", out, re.M) is not None
    and all(float(v) < 1e-9 for v in re.findall(r"predicts each to a relative (\S+);", out))
    and "the 1x1 share of MACs ranges from" in out,
}


def _to_pytorch_facts(out):
    """Without PyTorch the example says so (and exits 0); with it, each crossing keeps the scores to 1e-10."""
    if "PyTorch is not installed" in out:
        return "pip install torch==2.13.0" in out and "crossing" not in out
    crossings = [float(v) for v in re.findall(r"crossing (?:to PyTorch|back): max .* = (\S+)", out)]
    twin = float(re.search(r"max \|PyTorch - twin\| over the test scores = (\S+)", out).group(1))
    there, back = re.search(r"-> (\d+\.\d)% in PyTorch after 10 -> (\d+\.\d)% back here", out).groups()
    resnet = ("25,557,032 parameters, 4,089,184,256 MACs at 224x224 (the same as conv1x1.models.resnet50())" in out
              or "torchvision is not installed: skipping ResNet-50" in out)
    return len(crossings) == 2 and max(crossings) < 1e-10 and twin < 1e-9 and there == back \
        and float(back) >= 95 and resnet


def _differences(out):
    return [float(v) for v in re.findall(r"max relative difference (\S+)", out)]


# train on scikit-learn's bundled digits
NEEDS_SKLEARN = {"13_nin_digits.py", "15_to_pytorch.py", "17_linear_bottleneck.py"}


def _accuracies(out):
    return [float(v) / 100 for v in re.findall(r"test accuracy (\d+\.\d)%", out)]


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_example_runs_and_prints_its_facts(script, tmp_path, run_python):
    if script.name in NEEDS_SKLEARN:
        pytest.importorskip("sklearn")  # in the [test] extra, so CI runs it; a bare checkout skips it
    result = run_python([str(script)], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert FACTS[script.name](result.stdout), result.stdout


@pytest.mark.slow
def test_bottleneck_example_saves_a_plot_when_matplotlib_is_there(tmp_path, run_python):
    pytest.importorskip("matplotlib")
    result = run_python([str(EXAMPLES / "04_bottleneck_cost.py"), "--plot", "sweep.png", "--repeat", "1"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "sweep.png").stat().st_size > 1000


@pytest.mark.slow
def test_bottleneck_example_runs_without_matplotlib(tmp_path, python_env):
    blocker = tmp_path / "block"
    (blocker / "matplotlib").mkdir(parents=True)
    (blocker / "matplotlib" / "__init__.py").write_text("raise ImportError('hidden for this test')\n")
    env = python_env(PYTHONPATH=os.pathsep.join([str(blocker), str(ROOT)]))
    result = subprocess.run([sys.executable, str(EXAMPLES / "04_bottleneck_cost.py"), "--repeat", "1"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "matplotlib is not installed" in result.stdout and not (tmp_path / "bottleneck.png").exists()


DRAWING = [s for s in SCRIPTS if "plt.show()" in s.read_text() and s.name != "04_bottleneck_cost.py"]
# the figures are what is tested here, not the training
QUICK_ARGS = {"13_nin_digits.py": ["--epochs", "1"], "16_spiral_relu.py": ["--draws", "5"],
              "17_linear_bottleneck.py": ["--epochs", "1", "--seeds", "1"]}


@pytest.mark.slow
@pytest.mark.parametrize("script", DRAWING, ids=lambda p: p.name)
def test_example_that_draws_still_runs_without_matplotlib(script, tmp_path, python_env):
    """Every figure is optional: with matplotlib hidden the script prints everything, says why there is no
    figure, and writes no file (the examples draw the website's figures)."""
    if script.name in NEEDS_SKLEARN:
        pytest.importorskip("sklearn")
    blocker = tmp_path / "block"
    (blocker / "matplotlib").mkdir(parents=True)
    (blocker / "matplotlib" / "__init__.py").write_text("raise ImportError('hidden for this test')\n")
    work = tmp_path / "work"
    work.mkdir()
    env = python_env(PYTHONPATH=os.pathsep.join([str(blocker), str(ROOT)]), CONV1X1_GALLERY="1")
    result = subprocess.run([sys.executable, str(script), *QUICK_ARGS.get(script.name, [])], cwd=work, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "matplotlib is not installed" in result.stdout
    assert list(work.iterdir()) == []


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_example_answers_help_without_running(script, tmp_path, run_python):
    """``--help`` prints the usage and exits before any work: nothing else printed, no file written."""
    result = run_python([str(script), "--help"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: ") and list(tmp_path.iterdir()) == []
