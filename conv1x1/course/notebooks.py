"""The examples as Jupyter notebooks, without the website: ``python -m conv1x1 notebooks DIR``.

Each example in ``examples/`` is a script in cells: a reStructuredText docstring (its title and
introduction), then ``# %%`` code cells and ``# %% [markdown]`` text cells whose lines start with
``#``. This module turns one into a notebook (nbformat 4.5, the JSON a plain Jupyter opens) with
nothing but :mod:`json`:

- the docstring and every text cell become Markdown cells; reStructuredText's roles become ordinary
  text: ``:doc:`/computes``` a link to that chapter in the repository, ``:func:`conv1x1.relu_forward```
  the code text ```conv1x1.relu_forward```, a reference to another example a link to its notebook
  beside this one; ``.. math::`` becomes a ``$$`` display;
- every code cell becomes a code cell, unchanged, with no outputs: run it in Jupyter.

Examples::

    python -m conv1x1 notebooks notebooks/        # from a clone: every example, as notebooks/NN_name.ipynb
    jupyter lab notebooks/                          # open them
    jupyter nbconvert --to notebook --execute notebooks/01_per_pixel_fc.ipynb   # or run one headless
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["DOCS_URL", "chapter_titles", "find_examples", "script_to_notebook", "to_markdown", "write_notebooks"]

DOCS_URL = "https://github.com/conv1x1/conv1x1/blob/main/docs/"
SCRIPT_GLOB = "[0-9][0-9]_*.py"

Notebook = dict[str, Any]

_DOCSTRING = re.compile(r'\A\s*[rRuU]?("""|\'\'\')(.*?)\1[ \t]*\n?', re.DOTALL)
_ROLE = re.compile(r":(?P<role>[a-z]+(?::[a-z]+)?):`(?P<text>[^`]+)`")
_TITLED = re.compile(r"^(?P<title>.*?)\s*<(?P<target>[^<>]+)>$", re.DOTALL)
_UNDERLINE = re.compile(r"^([=\-~^\"'*+#])\1+\s*$")
_GALLERY_REF = re.compile(r"^sphx_glr_auto_examples_(?P<stem>\w+)\.py$")


def find_examples(start: Path | None = None) -> Path:
    """The ``examples/`` folder of a clone: under ``start`` (the working directory) or beside the package.

    Raises
    ------
    FileNotFoundError
        If neither holds numbered example scripts (an installed wheel has no examples; use a clone).
    """
    candidates = [(start or Path.cwd()) / "examples", Path(__file__).resolve().parents[2] / "examples"]
    for folder in candidates:
        if any(folder.glob(SCRIPT_GLOB)):
            return folder
    raise FileNotFoundError("found no examples/ folder with numbered scripts in "
                            f"{' or '.join(str(c) for c in candidates)}; run this in a clone of the repository "
                            "(the examples are not installed with the package) or give --examples PATH")


def chapter_titles(docs: Path) -> dict[str, str]:
    """Each chapter's name (``computes`` for ``docs/computes.md``) and its title, its first ``# `` line."""
    titles = {}
    for chapter in sorted(docs.glob("*.md")):
        heading = next((line for line in chapter.read_text(encoding="utf-8").splitlines() if line.startswith("# ")), "")
        if heading:
            titles[chapter.stem] = heading[2:].strip()
    return titles


def to_markdown(rst: str, titles: Mapping[str, str] | None = None) -> str:
    """reStructuredText as the examples write it, turned into Markdown a plain Jupyter shows.

    ``titles`` names the chapters that ``:doc:`` links to (:func:`chapter_titles`); a chapter not in it
    is named by its file name.

    >>> to_markdown("Chapter: :doc:`/computes`, and :func:`~conv1x1.conv1x1_forward`.")
    'Chapter: [computes](https://github.com/conv1x1/conv1x1/blob/main/docs/computes.md), and `conv1x1_forward()`.'
    >>> to_markdown(":doc:`/computes`", {"computes": "What a 1x1 convolution computes"})
    '[What a 1x1 convolution computes](https://github.com/conv1x1/conv1x1/blob/main/docs/computes.md)'
    >>> to_markdown("Title\\n=====\\n\\nThe ``w @ x`` product.")
    '# Title\\n\\nThe `w @ x` product.'
    """
    lines = _display_maths(_headings(rst.strip("\n").splitlines()))
    text = "\n".join(lines)
    text = _ROLE.sub(lambda match: _role(match, titles or {}), text)
    text = re.sub(r"``(.+?)``", r"`\1`", text, flags=re.DOTALL)
    return text.strip("\n")


def _headings(lines: list[str]) -> list[str]:
    """reST titles (a line underlined, maybe overlined, with = - ~ ...) as Markdown headings, by order of style."""
    out: list[str] = []
    styles: list[str] = []
    for line in lines:
        if _UNDERLINE.match(line) and out and out[-1].strip() and len(line.strip()) >= len(out[-1].strip()):
            style = line.strip()[0]
            if style not in styles:
                styles.append(style)
            out[-1] = "#" * min(styles.index(style) + 1, 6) + " " + out[-1].strip()
        elif _UNDERLINE.match(line) and not (out and out[-1].strip()):
            continue                                   # an overline: the underline below makes the heading
        else:
            out.append(line)
    return out


def _display_maths(lines: list[str]) -> list[str]:
    """``.. math:: formula`` (on the line, or indented below it) as a ``$$ formula $$`` display."""
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        match = re.match(r"^\s*\.\. math::\s*(.*)$", line)
        if match is None:
            out.append(line)
            index += 1
            continue
        formula = [match.group(1)] if match.group(1).strip() else []
        index += 1
        while index < len(lines) and (not lines[index].strip() or lines[index].startswith((" ", "\t"))):
            if lines[index].strip() or formula:
                formula.append(lines[index].strip())
            index += 1
        out.extend(["$$", "\n".join(formula).strip(), "$$", ""])
    return out


def _role(match: re.Match[str], titles: Mapping[str, str]) -> str:
    """One Sphinx role as Markdown: a link for a chapter or an example, code text for a Python object."""
    role, text = match.group("role"), match.group("text").strip()
    titled = _TITLED.match(text)
    title, target = (titled.group("title"), titled.group("target")) if titled else (None, text)
    if role == "doc":
        path = target.lstrip("/")
        return f"[{title or titles.get(path, Path(path).name)}]({DOCS_URL}{path}.md)"
    if role == "ref":
        example = _GALLERY_REF.match(target)
        if example:
            return f"[{title or example.group('stem')}]({example.group('stem')}.ipynb)"
        return title or target
    if role == "math":
        return f"${text}$"
    if role in ("func", "meth", "class", "mod", "attr", "data", "obj", "exc", "py:func", "py:class"):
        name = target.lstrip("~").lstrip(".")
        shown = title or (name.rsplit(".", 1)[-1] if target.startswith("~") else name)
        return f"`{shown}{'()' if role in ('func', 'meth', 'py:func') and not title else ''}`"
    return title or text


def script_to_notebook(script: str, titles: Mapping[str, str] | None = None) -> Notebook:
    """A ``# %%`` script (sphinx-gallery's format) as a notebook: a dict that ``json.dump`` writes as .ipynb.

    >>> quotes = '"' * 3
    >>> script = quotes + "\\nTitle\\n=====\\n" + quotes + "\\n\\n# %%\\nx = 1\\n\\n# %% [markdown]\\n# Done.\\n"
    >>> nb = script_to_notebook(script)
    >>> [(cell["cell_type"], "".join(cell["source"])) for cell in nb["cells"]]
    [('markdown', '# Title'), ('code', 'x = 1'), ('markdown', 'Done.')]
    >>> nb["nbformat"], nb["nbformat_minor"]
    (4, 5)
    """
    cells: list[dict[str, Any]] = []
    docstring = _DOCSTRING.match(script)
    if docstring:
        cells.append(_cell("markdown", to_markdown(docstring.group(2), titles)))
        script = script[docstring.end():]
    kind, block = "code", list[str]()
    for line in script.splitlines():
        if line.startswith("# %%"):
            _close(cells, kind, block, titles)
            kind, block = ("markdown" if "[markdown]" in line else "code"), []
        else:
            block.append(line)
    _close(cells, kind, block, titles)
    for number, cell in enumerate(cells, start=1):
        cell["id"] = f"cell-{number}"
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "file_extension": ".py", "mimetype": "text/x-python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _close(cells: list[dict[str, Any]], kind: str, block: list[str], titles: Mapping[str, str] | None) -> None:
    """Append the lines gathered since the last ``# %%`` as one cell, unless there are none."""
    if kind == "markdown":
        text = to_markdown("\n".join(re.sub(r"^# ?", "", line) for line in block), titles)
    else:
        text = "\n".join(block).strip("\n")
    if text.strip():
        cells.append(_cell(kind, text))


def _cell(kind: str, text: str) -> dict[str, Any]:
    """One nbformat 4.5 cell; ``source`` as a list of lines, each but the last ending in a newline."""
    lines = text.splitlines(keepends=True)
    if kind == "code":
        return {"cell_type": "code", "execution_count": None, "id": "", "metadata": {}, "outputs": [],
                "source": lines}
    return {"cell_type": "markdown", "id": "", "metadata": {}, "source": lines}


def write_notebooks(directory: Path, examples: Path | None = None) -> list[Path]:
    """Write every numbered example as ``directory/NN_name.ipynb``; return the paths written, in order.

    Parameters
    ----------
    directory : Path
        Where the notebooks go; made if missing. Notebooks of the same names are replaced.
    examples : Path, optional
        The folder of example scripts (default: :func:`find_examples`).

    Raises
    ------
    FileNotFoundError
        If there is no examples folder (see :func:`find_examples`).
    NotADirectoryError
        If ``directory`` is a file.
    """
    source = find_examples() if examples is None else Path(examples)
    scripts = sorted(source.glob(SCRIPT_GLOB))
    if not scripts:
        raise FileNotFoundError(f"no numbered example scripts ({SCRIPT_GLOB}) in {source}")
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise NotADirectoryError(f"the notebooks go in a folder, but {directory} is a file")
    directory.mkdir(parents=True, exist_ok=True)
    titles = chapter_titles(source.parent / "docs")
    written = []
    for script in scripts:
        notebook = script_to_notebook(script.read_text(encoding="utf-8"), titles)
        path = directory / f"{script.stem}.ipynb"
        path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written
