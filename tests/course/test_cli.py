"""conv1x1.course.cli, the command line: the cost command's defaults, formats and options, its refusals (exit 2, no
traceback), its output errors (a broken pipe, a full or closed stdout), in process and as ``python -m conv1x1``."""

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import conv1x1 as C
from conv1x1.cost import conv_cost
from conv1x1.course.cli import main

ROOT = Path(__file__).resolve().parents[2]
LAYER = ["cost", "--in", "192", "--out", "32", "--size", "28"]
BOTTLENECK = ["cost", "--in", "192", "--reduce", "16", "--out", "32", "--size", "28", "--kernel", "5"]


def cli(capsys, *args):
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_cost_command_defaults_to_a_1x1_convolution_as_the_python_api(capsys):
    status, out, _ = cli(capsys, *LAYER, "--format", "json")
    tree = json.loads(out)
    layer = C.Conv1x1(192, 32).cost(28, 28)[0]
    assert status == 0 and tree["macs"] == layer.macs == 28 * 28 * 32 * 192 == 4_816_896
    assert tree["params"] == layer.params and tree["children"][0]["out_shape"] == [32, 28, 28]


def test_cost_command_explain_prints_the_working(capsys):
    _, out, _ = cli(capsys, *BOTTLENECK, "--explain")
    assert "H_out·W_out·C_out·C_in·K·K = 28·28·32·192·5·5 = 120,422,400" in out
    assert "28·28·16·192·1·1 = 2,408,448" in out and "28·28·32·16·5·5 = 10,035,200" in out
    assert "C_out·C_in·K·K + C_out = 32·192·5·5 + 32 = 153,632" in out
    assert "floor((28 + 2·2 - 5)/1) + 1 = 28" in out
    assert "120,422,400 / 12,443,648 = 9.68x" in out


@pytest.mark.parametrize("fmt", ["text", "markdown", "html", "json", "csv"])
def test_cost_command_every_format_holds_the_exact_or_rounded_counts(capsys, fmt):
    status, out, _ = cli(capsys, *BOTTLENECK, "--format", fmt)
    assert status == 0
    if fmt == "json":
        both = json.loads(out)
        assert (both["baseline"]["macs"], both["candidate"]["macs"]) == (120_422_400, 12_443_648)
        assert both["macs_ratio"] == pytest.approx(120_422_400 / 12_443_648)
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out)))
        assert [int(row["macs"]) for row in rows] == [120_422_400, 2_408_448, 10_035_200]
        assert rows[1]["path"] == "1x1 reduce to 16, then 5x5/1x1 reduce"
    elif fmt == "text":
        assert "120,422,400" in out and "9.7x" in out
    else:
        assert "10,035,200" in out


def test_cost_command_batch_multiplies_counts_but_not_params(capsys):
    _, out, _ = cli(capsys, *LAYER, "--batch", "8", "--format", "json")
    tree = json.loads(out)
    assert tree["macs"] == 8 * 4_816_896 and tree["params"] == 192 * 32 + 32 and tree["per"] == "batch of 8"
    _, text, _ = cli(capsys, *LAYER, "--batch", "8")
    assert "per batch of 8" in text and "per image" not in text


def _inception(width_multiplier=1.0):
    return C.Inception(192, 64, 96, 128, 16, 32, 32)


def test_cost_command_depth_opens_the_tree_and_by_kind_splits_it(monkeypatch, capsys):
    monkeypatch.setattr("conv1x1.course.cli.MODELS", {"3a": _inception})
    _, shallow, _ = cli(capsys, "cost", "--model", "3a", "--size", "28", "--depth", "1")
    _, deep, _ = cli(capsys, "cost", "--model", "3a", "--size", "28", "--depth", "2")
    assert "1 (4 layers)" in shallow and "conv 3x3" not in shallow      # branch 1 as one subtotal row of 4 layers
    assert re.search(r"^  1\.2 +conv 3x3", deep, re.M) and "128.0M" in shallow and "128.0M" in deep
    _, kinds, _ = cli(capsys, *LAYER, "--kernel", "3", "--padding", "1", "--by-kind", "--format", "json")
    assert json.loads(kinds)["kxk"]["macs"] == conv_cost(192, 32, 28, 28, 3, padding=1).macs


def test_cost_command_roofline_reports_peaks_and_a_bound(capsys):
    _, out, _ = cli(capsys, *BOTTLENECK, "--roofline", "--format", "json")
    result = json.loads(out)
    assert result["peaks"]["gmacs"]["float32"] > 0 and result["peaks"]["gb_per_second"] > 0
    layers = result["predictions"][1]["layers"]
    assert [layer["macs"] for layer in layers] == [2_408_448, 10_035_200]
    assert all(layer["bound"] in ("compute", "memory") and layer["seconds"] > 0 for layer in layers)


def refused(capsys, *args):
    """Run a command that must exit 2; return its stderr."""
    with pytest.raises(SystemExit) as stop:
        main(list(args))
    assert stop.value.code == 2
    return capsys.readouterr().err


def test_cost_command_prices_a_200_digit_channel_count_exactly(capsys):
    huge = 10**199 + 7
    status, out, _ = cli(capsys, "cost", "--in", str(huge), "--out", "32", "--size", "28", "--format", "json")
    assert status == 0 and json.loads(out)["macs"] == 28 * 28 * 32 * huge
    status, text, _ = cli(capsys, "cost", "--in", str(huge), "--out", "32", "--size", "28")
    assert status == 0 and "2.5e203" in text            # 28*28*32*1e199 = 2.5088e203
    # too large for a float time, or for Python to write out: exit 2 and say why
    assert "too large" in refused(capsys, "cost", "--in", str(huge), "--out", str(huge), "--size", "28",
                                  "--roofline")
    wide = "9" * 2200
    assert "more digits" in refused(capsys, "cost", "--in", wide, "--out", wide, "--size", "28", "--format", "json")


def test_cost_command_model_builds_from_the_registry_with_its_options(monkeypatch, capsys):
    calls = []

    def tiny(width_multiplier=1.0):
        calls.append(width_multiplier)
        width = int(8 * width_multiplier)
        return C.Sequential(C.Conv2d(3, width, 3, padding=1), C.ReLU(), C.Conv1x1(width, 10))

    monkeypatch.setattr("conv1x1.course.cli.MODELS", {"tiny": tiny})
    status, out, _ = cli(capsys, "cost", "--model", "tiny", "--width-multiplier", "0.5", "--size", "16",
                         "--format", "json")
    expected = tiny(0.5).cost(16, 16)
    assert status == 0 and calls[0] == 0.5 and json.loads(out)["macs"] == expected.macs
    assert "unknown --model 'nope'" in refused(capsys, "cost", "--model", "nope", "--size", "16")
    assert "--size" in refused(capsys, "cost", "--model", "tiny")


def test_cost_command_stride_on_prices_the_papers_resnet50(capsys):
    """He et al. 2015 (arXiv:1512.03385) stride on the first 1x1: 3.86e9 MACs; torchvision's v1.5 4.09e9."""
    for stride_on, macs in (("1x1", 3_857_973_248), ("3x3", 4_089_184_256)):
        assert main(["cost", "--model", "resnet50", "--size", "224", "--stride-on", stride_on, "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["macs"] == macs


def test_cost_command_groups_prices_shufflenets_table_1(capsys):
    """Zhang et al. 2017 (arXiv:1707.01083), Table 1: g = 8 costs 137M multiply-adds without the FC layer."""
    assert main(["cost", "--model", "shufflenet_v1", "--size", "224", "--groups", "8", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert round((report["macs"] - 1000 * 1536) / 1e6) == 137


@pytest.mark.parametrize("args, message", [
    (["--explain", "--format", "html"], "--explain prints text"),
    (["--explain", "--roofline"], "choose one"),
    (["--by-kind", "--format", "csv"], "text or json"),
    (["--depth", "2", "--format", "json"], "--depth"),
    (["--depth", "0"], "--depth must be a positive integer"),
    (["--batch", "0"], "--batch must be a positive integer"),
    (["--dtype", "float64"], "--roofline"),
    (["--width-multiplier", "0.5"], "--model only"),
    (["--padding", "lots"], "--padding"),
    (["--model", "resnet50"], "--model prices a whole network"),
    (["--batch", "2", "--explain"], "per image"),
])
def test_cost_command_bad_combinations_exit_2_with_a_message(capsys, args, message):
    assert message in refused(capsys, *LAYER, *args)


def test_cost_command_reduce_refuses_stride_and_padding(capsys):
    assert "--reduce" in refused(capsys, *BOTTLENECK, "--stride", "2")
    assert "give --in" in refused(capsys, "cost", "--out", "3", "--size", "5")


@pytest.mark.parametrize("args, message", [
    (["--model", "resnet50", "--width-multiplier", "0.5"], "--width-multiplier does not apply to --model resnet50"),
    (["--model", "mobilenet_v1", "--stride-on", "1x1"], "--stride-on does not apply to --model mobilenet_v1"),
    (["--in", "3", "--out", "4", "--stride-on", "1x1"], "apply to --model only"),
    (["--in", "3", "--out", "4", "--groups", "3"], "apply to --model only"),
    (["--model", "mobilenet_v1", "--groups", "3"], "--groups does not apply to --model mobilenet_v1"),
    (["--model", "shufflenet_v1", "--groups", "5"], "groups must be one of"),
    (["--model", "shufflenet_v1", "--groups", "2", "--width-multiplier", "0.5"], "not divisible by groups=2"),
])
def test_cost_command_model_options_belong_to_their_model(capsys, args, message):
    with pytest.raises(SystemExit) as exit_:
        main(["cost", "--size", "224", *args])
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_cost_command_runs_as_python_dash_m(tmp_path, run_python):
    result = run_python(["-m", "conv1x1", "cost", "--in", "192", "--reduce", "16", "--out", "32", "--size", "28",
                         "--kernel", "5"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for fact in ("120,422,400", "12,443,648", "9.7x", "FLOPs (= 2 x MACs)"):
        assert fact in result.stdout
    single = run_python(["-m", "conv1x1", "cost", "--in", "192", "--out", "32", "--size", "28", "--kernel", "1"],
                        cwd=tmp_path)
    assert single.returncode == 0 and "4.8M" in single.stdout
    default = run_python(["-m", "conv1x1", "cost", "--in", "192", "--out", "32", "--size", "28", "--explain"],
                         cwd=tmp_path)
    # the defaults are the Python API's: a 1x1 convolution (kernel 1, padding 0), as C.Conv1x1(192, 32)
    assert default.returncode == 0 and "28·28·32·192·1·1 = 4,816,896" in default.stdout


@pytest.mark.parametrize("args, message", [
    (["cost", "--in", "0", "--out", "32", "--size", "28"], "in_channels"),
    (["cost", "--in", "x", "--out", "32", "--size", "28"], "--in"),
    (["cost", "--in", "192", "--out", "32"], "--size"),
    (["cost", "--in", "192", "--out", "32", "--size", "28", "--kernel", "4", "--padding", "same"], "odd kernel"),
    (["cost", "--in", "192", "--out", "32", "--size", "4", "--kernel", "7", "--padding", "0"], "larger than"),
    (["cost", "--in", "192", "--out", "32", "--size", "28", "--padding", "lots"], "--padding"),
    (["nonsense"], "invalid choice"),
])
def test_cost_command_bad_arguments_exit_2_without_a_traceback(tmp_path, args, message, run_python):
    result = run_python(["-m", "conv1x1", *args], cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_main_help_lists_the_cost_command(tmp_path, run_python):
    result = run_python(["-m", "conv1x1", "--help"], cwd=tmp_path)
    assert result.returncode == 0 and "cost" in result.stdout


def test_main_is_quiet_on_a_broken_pipe(monkeypatch, capsys):
    class Broken(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def fileno(self):
            raise io.UnsupportedOperation("no file descriptor")

    monkeypatch.setattr(sys, "stdout", Broken())
    assert main(LAYER) == 0


def _shell(command):
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    return subprocess.run(["sh", "-c", command], capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("redirect", ["> /dev/full", ">&-"])
@pytest.mark.parametrize("command", ["cost --in 192 --out 32 --size 28", ""])
def test_main_on_a_full_or_closed_stdout_gives_a_message_not_a_traceback(redirect, command):
    result = _shell(f"'{sys.executable}' -m conv1x1 {command} {redirect}")
    assert result.returncode == 1
    assert "could not write the output" in result.stderr and "Traceback" not in result.stderr
