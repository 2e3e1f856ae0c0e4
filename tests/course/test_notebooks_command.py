"""``python -m conv1x1 notebooks DIR`` (conv1x1.course.notebooks): every example as a notebook a plain Jupyter
opens, the Sphinx roles made ordinary links and code text, the code cells the script's own; and, marked slow,
every notebook written executed in a Jupyter kernel (nbclient and ipykernel, the ``docs`` extra)."""

import ast
import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conv1x1.course.cli import main
from conv1x1.course.notebooks import DOCS_URL, script_to_notebook, to_markdown, write_notebooks

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SCRIPTS = sorted(EXAMPLES.glob("[0-9][0-9]_*.py"))
SPHINX_ROLE = re.compile(r":[a-z]+(?::[a-z]+)?:`")
NEEDS_SKLEARN = {"13_nin_digits", "15_to_pytorch"}     # train on scikit-learn's bundled digits
NEEDS_TORCH = {"15_to_pytorch"}                        # carries a network to PyTorch and back


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory):
    directory = tmp_path_factory.mktemp("notebooks")
    return {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in write_notebooks(directory, EXAMPLES)}


def _text(cell):
    return "".join(cell["source"])


def _code_lines(script_text):
    """The script's lines outside its docstring and its Markdown cells, without the cell markers or blank lines."""
    tree = ast.parse(script_text)
    docstring_end = tree.body[0].end_lineno if isinstance(tree.body[0], ast.Expr) else 0
    lines, markdown = [], False
    for line in script_text.splitlines()[docstring_end:]:
        if line.startswith("# %%"):
            markdown = "[markdown]" in line
        elif not markdown and line.strip():
            lines.append(line)
    return lines


def test_the_command_writes_one_notebook_per_example_and_says_how_to_run_them(tmp_path, capsys):
    status = main(["notebooks", str(tmp_path / "nb"), "--examples", str(EXAMPLES)])
    out = capsys.readouterr().out.splitlines()
    written = sorted((tmp_path / "nb").iterdir())
    assert status == 0 and len(SCRIPTS) >= 15
    assert [path.name for path in written] == [f"{script.stem}.ipynb" for script in SCRIPTS]
    assert out[:-1] == [str(path) for path in written]
    assert out[-1].startswith(f"{len(SCRIPTS)} notebooks written")
    assert "jupyter nbconvert --to notebook --execute" in out[-1]


def test_every_notebook_is_nbformat_4_5_with_a_python_kernel(notebooks):
    for name, notebook in notebooks.items():
        assert (notebook["nbformat"], notebook["nbformat_minor"]) == (4, 5), name
        assert notebook["metadata"]["kernelspec"]["name"] == "python3"
        ids = [cell["id"] for cell in notebook["cells"]]
        assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", i) for i in ids), name
        for cell in notebook["cells"]:
            assert cell["cell_type"] in ("code", "markdown") and isinstance(cell["source"], list)
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None


def test_every_notebook_opens_with_its_title_and_has_text_and_code(notebooks):
    for name, notebook in notebooks.items():
        kinds = [cell["cell_type"] for cell in notebook["cells"]]
        assert kinds[0] == "markdown" and _text(notebook["cells"][0]).startswith(f"# Example {name[:2]}")
        assert kinds.count("code") >= 3 and kinds.count("markdown") >= 2, name


def test_code_cells_hold_the_scripts_code_unchanged_and_in_order(notebooks):
    for script in SCRIPTS:
        cells = [cell for cell in notebooks[script.stem]["cells"] if cell["cell_type"] == "code"]
        code = "\n".join(_text(cell) for cell in cells)
        compile(code, script.name, "exec")
        assert [line for line in code.splitlines() if line.strip()] == _code_lines(script.read_text()), script.name


def test_no_sphinx_role_or_double_backquote_is_left_in_a_text_cell(notebooks):
    for name, notebook in notebooks.items():
        for cell in notebook["cells"]:
            if cell["cell_type"] == "markdown":
                text = _text(cell)
                assert not SPHINX_ROLE.search(text) and "``" not in text and ".. math::" not in text, (name, text)


def test_chapter_links_name_the_chapter_and_point_at_a_page_that_exists(notebooks):
    links = [match for notebook in notebooks.values() for cell in notebook["cells"] if cell["cell_type"] == "markdown"
             for match in re.finditer(r"\[([^\]]+)\]\(" + re.escape(DOCS_URL) + r"([\w/]+)\.md\)", _text(cell))]
    assert len(links) >= 10
    for link in links:
        chapter = ROOT / "docs" / f"{link.group(2)}.md"
        assert chapter.exists(), link.group(0)
        assert link.group(1) == chapter.read_text(encoding="utf-8").splitlines()[0].removeprefix("# "), link.group(0)


def test_a_reference_to_another_example_links_to_its_notebook_beside_this_one():
    assert to_markdown("in example 12 (:ref:`sphx_glr_auto_examples_12_roofline.py`).") == (
        "in example 12 ([12_roofline](12_roofline.ipynb)).")


@pytest.mark.parametrize(("rst", "markdown"), [
    (":func:`conv1x1.conv1x1_forward`", "`conv1x1.conv1x1_forward()`"),
    (":class:`~conv1x1.Conv1x1`", "`Conv1x1`"),
    (":meth:`Layer.forward <conv1x1.Layer.forward>`", "`Layer.forward`"),
    (":doc:`the chapter </cost>`", f"[the chapter]({DOCS_URL}cost.md)"),
    (":math:`H \\times W`", "$H \\times W$"),
    ("Title\n-----\n\nText", "# Title\n\nText"),
    (".. math:: a = b\n\nafter", "$$\na = b\n$$\n\nafter"),
    (".. math::\n\n   a = b\n   c = d\n\nafter", "$$\na = b\nc = d\n$$\n\nafter"),
])
def test_restructured_text_becomes_markdown(rst, markdown):
    assert to_markdown(rst) == markdown


def test_a_script_without_a_docstring_keeps_its_code_before_the_first_cell_marker():
    notebook = script_to_notebook("import numpy as np\n\n# %% [markdown]\n# Text with ``code``.\n\n# %%\nx = 1\n")
    assert [(cell["cell_type"], _text(cell)) for cell in notebook["cells"]] == [
        ("code", "import numpy as np"), ("markdown", "Text with `code`."), ("code", "x = 1")]


def test_the_command_refuses_a_file_as_its_folder_and_a_folder_without_examples(tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("not a folder")
    with pytest.raises(SystemExit) as exit_status:
        main(["notebooks", str(target), "--examples", str(EXAMPLES)])
    assert exit_status.value.code == 2 and f"{target} is a file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_status:
        main(["notebooks", str(tmp_path / "out"), "--examples", str(tmp_path)])
    assert exit_status.value.code == 2 and "no numbered example scripts" in capsys.readouterr().err
    assert target.read_text() == "not a folder" and not (tmp_path / "out").exists()


def test_python_m_conv1x1_notebooks_finds_the_clones_examples_from_its_root(tmp_path):
    result = subprocess.run([sys.executable, "-m", "conv1x1", "notebooks", str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert len(list(tmp_path.glob("*.ipynb"))) == len(SCRIPTS)


def _need(module):
    try:
        return importlib.import_module(module)
    except ImportError:
        if os.environ.get("CONV1X1_REQUIRE_DOCS") == "1":
            pytest.fail(f"{module} is missing but CONV1X1_REQUIRE_DOCS=1: pip install -e '.[docs]'")
        pytest.skip(f"{module} is not installed (pip install -e '.[docs]')")


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.stem)
def test_each_written_notebook_runs_top_to_bottom_in_a_jupyter_kernel(script, tmp_path, monkeypatch):
    nbformat, nbclient = _need("nbformat"), _need("nbclient")
    _need("ipykernel")
    if script.stem in NEEDS_SKLEARN:
        pytest.importorskip("sklearn")
    if script.stem in NEEDS_TORCH:
        pytest.importorskip("torch")
    work = tmp_path / "work"
    work.mkdir()
    (path,) = [p for p in write_notebooks(tmp_path / "notebooks", EXAMPLES) if p.stem == script.stem]
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)                         # the schema a plain Jupyter checks when it opens a file
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))
    monkeypatch.setenv("CONV1X1_GALLERY", "1")          # fewer timing repeats, as when the website is built
    monkeypatch.delenv("MPLBACKEND", raising=False)
    client = nbclient.NotebookClient(notebook, timeout=900, kernel_name="python3",
                                     resources={"metadata": {"path": str(work)}})
    client.execute()                                    # raises CellExecutionError on the first failing cell
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output.output_type == "error"]
    assert "".join(output.get("text", "") for output in outputs if output.output_type == "stream").strip()
