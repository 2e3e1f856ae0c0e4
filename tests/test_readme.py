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
