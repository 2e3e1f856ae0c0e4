"""The README's Python snippets run as written (in order, sharing one namespace)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_snippets_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    runnable = [block for block in blocks if not block.lstrip().startswith(">>>")]
    assert len(runnable) >= 4
    namespace = {}
    for block in runnable:
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - our own README
    assert namespace["out"].shape == (1, 256, 28, 28)          # the last snippet builds GoogLeNet's 3a
    assert max(namespace["errors"].values()) < 1e-7             # the gradient-check snippet
