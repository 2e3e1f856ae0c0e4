"""The README's Python snippets run as written (in order, sharing one namespace), and its error messages are real."""

import re
from pathlib import Path

import numpy as np
import pytest

import conv1x1 as C

README = Path(__file__).resolve().parent.parent / "README.md"
TEXT = README.read_text(encoding="utf-8")


def test_readme_python_snippets_run():
    pytest.importorskip("sklearn")  # the training snippet loads scikit-learn's digits
    blocks = re.findall(r"```python\n(.*?)```", TEXT, flags=re.S)
    runnable = [block for block in blocks if not block.lstrip().startswith(">>>")]
    assert len(runnable) >= 6
    namespace = {}
    for block in runnable:
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - our own README
    assert namespace["out"].shape == (1, 256, 28, 28)           # the last snippet builds GoogLeNet's 3a
    assert all(e < 1e-7 for e in namespace["errors"].values())  # the gradient-check snippet
    assert namespace["test"].accuracy > 0.95                     # the training snippet learned the digits


def test_readme_error_messages_are_what_the_library_says():
    shown = re.findall(r">>> (C\.\w+\(.*\))\n(\w+Error): (.*)", TEXT)
    assert len(shown) >= 3
    for call, error_name, message in shown:
        with pytest.raises(getattr(__builtins__, error_name, None) or eval(error_name)) as caught:  # noqa: S307
            eval(call, {"C": C, "np": np})  # noqa: S307 - our own README
        assert str(caught.value) == message


def _network(label):
    """The model a README table row names: "resnet50 (stride on 1x1, paper)", "shufflenet_v1 (g=8)", ..."""
    from conv1x1 import models
    name, _, detail = label.partition(" (")
    if name == "resnet50":
        return models.resnet50("1x1" if "1x1" in detail else "3x3")
    if name == "shufflenet_v1":
        return models.shufflenet_v1(int(detail.split("=")[1].rstrip(")")))
    return models.MODELS[name]()


def test_readme_share_of_macs_table_is_what_by_kind_says():
    from conv1x1.cost import KINDS
    rows = re.findall(r"^\| ([a-z_0-9]+(?: \([^)]*\))?) \| ([\d,]+) \| ([\d,]+) \| (.*) \|$", TEXT, flags=re.M)
    rows = [row for row in rows if row[3].endswith("%")]
    assert len(rows) >= 7
    for label, macs, params, shares in rows:
        report = _network(label).cost(224, 224)
        assert (report.macs, report.params) == (int(macs.replace(",", "")), int(params.replace(",", ""))), label
        by_kind = report.by_kind()
        assert shares.split(" | ") == [f"{by_kind[kind]['macs_share']:.2%}" for kind in KINDS], label


def test_readme_shufflenet_table_is_table_1_and_the_counts():
    from conv1x1 import models
    rows = re.findall(r"^\| (\d) \| (\d+) \| (\d+)M \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \|$", TEXT, flags=re.M)
    assert [int(row[0]) for row in rows] == [1, 2, 3, 4, 8]
    for groups, width, paper, without_fc, fc, macs, params in rows:
        report = models.shufflenet_v1(int(groups)).cost(224, 224)
        numbers = [int(v.replace(",", "")) for v in (without_fc, fc, macs, params)]
        assert numbers == [report.macs - report.layers[-1].macs, report.layers[-1].macs, report.macs, report.params]
        assert report.children[4].out_shape[0] == int(width)            # stage2_1's output channels
        assert round(numbers[0] / 1e6) == int(paper)
