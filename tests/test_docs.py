"""The README and the course's chapters (docs/*.md) say only what is true of the code.

Every fenced ``python`` block runs as written, page by page (each page in its own namespace, its blocks
in order); a ``# prints X`` comment is checked against what the block printed; blocks starting with
``>>>`` run as doctests, where an expected ``SomeError: message`` must be the exact error raised; a
``text`` block announced by ``<!-- output of: CODE -->`` or ``<!-- output of command: CMD -->`` is what
that code prints today; the tables of numbers are what the library computes; and every relative link,
figure, example reference and glossary term leads somewhere.
"""

import ast
import contextlib
import doctest
import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import conv1x1 as C

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
DOCUMENTS = [README, *sorted(DOCS.glob("*.md"))]
CHAPTERS = ["computes.md", "depth.md", "nin.md", "inception.md", "cost.md", "networks.md", "roofline.md",
            "training.md", "gradients.md", "performance.md", "refusals.md", "today.md"]  # the chapters this suite owns
NO_MATHS = {"refusals.md"}  # a chapter about error messages: nothing to write as a formula
OTHER_CHAPTERS = ["practise.md", "pytorch.md"]  # chapters with tests of their own; their code runs here too
OPTIONAL_MODULES = {"torch", "torchvision", "sklearn", "matplotlib", "pandas"}  # a page using one skips without it

FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.S | re.M)
OUTPUT_MARK = re.compile(r"^<!-- output of( command)?: (.*?) -->\n```text\n(.*?)^```[ \t]*$", re.S | re.M)
PRINTS = re.compile(r"#\s*prints\s+(.*?)\s*$", re.M)


def _name(path):
    return path.relative_to(ROOT).as_posix()


def _text(path):
    return path.read_text(encoding="utf-8")


def _blocks(text, language):
    return [body for lang, body in FENCE.findall(text) if lang.strip() == language]


# -- running the snippets -------------------------------------------------------------------------------

def _skip_without_optional_modules(blocks, request):
    """Skip the page where it imports a module that is not a dependency and is not installed.

    torchvision comes through tests/conftest.py's ``torchvision`` fixture (its ``import_torchvision``), which
    imports it beside the CPU build of torch; a plain import fails there on its compiled operators."""
    for block in blocks:
        source = "\n".join(line[4:] if line.startswith((">>> ", "... ")) else line for line in block.splitlines())
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue  # doctest output lines; its imports are still found by the other blocks' parse
        for node in ast.walk(tree):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                if name.split(".")[0] == "torchvision":
                    request.getfixturevalue("torchvision")
                elif name.split(".")[0] in OPTIONAL_MODULES:
                    pytest.importorskip(name.split(".")[0])
        if "load_digits" in block:  # scikit-learn's digits, reached through conv1x1.training.data
            pytest.importorskip("sklearn")


def _line_matches(claim, line):
    """A claim matches a printed line equal to it, or to its start followed by an explanation (": ...")."""
    line = line.strip()
    if not line or not claim.startswith(line):
        return False
    rest = claim[len(line):]
    return rest == "" or rest[0] in ":;,(" or rest.startswith(" (")


def _check_prints(block, printed, where):
    lines, position = printed.splitlines(), 0
    for claim in PRINTS.findall(block):
        for index in range(position, len(lines)):
            if _line_matches(claim, lines[index]):
                position = index + 1
                break
        else:
            pytest.fail(f"{where}: the comment says it prints {claim!r}, but after line {position} it printed:\n"
                        + "\n".join(lines[position:]))


def _run_script(block, namespace, where):
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        exec(compile(block, where, "exec"), namespace)  # noqa: S102 - our own documentation
    _check_prints(block, buffer.getvalue(), where)


ERROR_LINE = re.compile(r"(\w+(?:Error|Exception)): (.*)\n?", re.S)


def _run_doctest(block, namespace, where):
    """Each ``>>>`` example: its output must match (ELLIPSIS allowed), or its error be exactly the one shown."""
    checker = doctest.OutputChecker()
    examples = doctest.DocTestParser().get_examples(block)
    assert examples, f"{where}: a >>> block without examples"
    for example in examples:
        code = compile(example.source, where, "single")
        error = ERROR_LINE.fullmatch(example.want)
        if error:
            with pytest.raises(Exception) as caught:
                exec(code, namespace)  # noqa: S102 - our own documentation
            assert f"{type(caught.value).__name__}: {caught.value}" == example.want.rstrip("\n"), example.source
            continue
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(code, namespace)  # noqa: S102 - our own documentation
        if not checker.check_output(example.want, buffer.getvalue(), doctest.ELLIPSIS):
            pytest.fail(f"{where}: {example.source.strip()}\n"
                        + checker.output_difference(example, buffer.getvalue(), doctest.ELLIPSIS))


def run_page(path, request):
    """Run every python block of a page in order, in one namespace of its own; return the namespace."""
    text = _text(path)
    blocks = _blocks(text, "python")
    _skip_without_optional_modules(blocks, request)
    namespace = {"__name__": f"docs_{path.stem}"}
    for number, block in enumerate(blocks, 1):
        where = f"{_name(path)}, python block {number}"
        if block.lstrip().startswith(">>>"):
            _run_doctest(block, namespace, where)
        else:
            _run_script(block, namespace, where)
    return namespace


def _readme_quick_start(ns):
    assert ns["out"].shape == (1, 32, 28, 28) and ns["dx"].shape == (1, 192, 28, 28)


def _computes(ns):
    assert ns["out"].shape == (1, 16, 3, 3)                          # the strided 1x1, last block
    assert ns["dx"].shape == ns["x"].shape


def _inception(ns):
    assert ns["out"].shape == (1, 256, 28, 28)                      # GoogLeNet's 3a


def _gradients(ns):
    assert all(e < 1e-7 for e in ns["errors"].values())              # the Scale layer passes its check
    assert ns["wrong"]["x"] > 0.1                                    # and the broken one is caught


def _training(ns):
    assert ns["test"].accuracy > 0.95                               # the training snippet learned the digits


AFTER_RUNNING = {"README.md": _readme_quick_start, "computes.md": _computes, "inception.md": _inception,
                 "gradients.md": _gradients, "training.md": _training}

PAGES_WITH_CODE = [path for path in DOCUMENTS if _blocks(_text(path), "python")]
# run with `pytest -m slow`: training.md trains a network on the digits for several epochs; inception.md times
# GoogLeNet's module 3a over and over (its forward, backward and cost are checked in tests/models/test_inception.py)
SLOW_PAGES = {"training.md", "inception.md"}


def test_every_page_checked_after_running_exists():
    assert {path.name for path in PAGES_WITH_CODE} >= set(AFTER_RUNNING) | SLOW_PAGES


@pytest.mark.parametrize("path", [pytest.param(path, marks=pytest.mark.slow) if path.name in SLOW_PAGES else path
                                  for path in PAGES_WITH_CODE], ids=_name)
def test_page_python_blocks_run_and_print_what_they_say(path, request):
    namespace = run_page(path, request)
    if path.name in AFTER_RUNNING:
        AFTER_RUNNING[path.name](namespace)


def test_error_messages_shown_are_what_the_library_says():
    shown = [match for path in DOCUMENTS
             for match in re.findall(r">>> (C\.[\w.]+\(.*\))\n(\w+Error): (.*)", _text(path))]
    assert len(shown) >= 3
    for call, error_name, message in shown:
        with pytest.raises(Exception) as caught:
            eval(call, {"C": C, "np": np})  # noqa: S307 - our own documentation
        assert (type(caught.value).__name__, str(caught.value)) == (error_name, message)


OUTPUTS = [(path, command, code, shown)
           for path in DOCUMENTS for command, code, shown in OUTPUT_MARK.findall(_text(path))]


@pytest.mark.parametrize("path, command, code, shown", OUTPUTS, ids=[f"{_name(o[0])}: {o[2][:60]}" for o in OUTPUTS])
def test_output_shown_is_what_the_code_prints_today(path, command, code, shown):
    if command:
        args = shlex.split(code)
        assert args[0] == "python", code
        path_entries = (str(ROOT), os.environ.get("PYTHONPATH", ""))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path_entries if p)}
        printed = subprocess.run([sys.executable, *args[1:]], cwd=ROOT, env=env, capture_output=True, text=True,
                                 timeout=300, check=True).stdout
    else:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(code, {})  # noqa: S102 - our own documentation
        printed = buffer.getvalue()
    assert [line.rstrip() for line in printed.rstrip("\n").splitlines()] == \
        [line.rstrip() for line in shown.rstrip("\n").splitlines()]


def test_there_are_outputs_to_check():
    assert len(OUTPUTS) >= 3


# -- the README as a first screen, the chapters as chapters -----------------------------------------------

def test_readme_is_a_first_screen():
    assert len(_text(README).splitlines()) <= 150


def test_readme_gives_the_install_test_and_docs_commands():
    text = _text(README)
    for command in ("pip install -e . && python -m conv1x1", 'pip install -e ".[test]" && python -m pytest',
                    'pip install -e ".[docs]"', "python -m sphinx -W -b html docs docs/_build/html"):
        assert command in text, command


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_has_one_idea_maths_and_a_try_it_block(chapter):
    text = _text(DOCS / chapter)
    assert text.startswith("# ") and "**The idea:" in text
    assert "$$" in text or chapter in NO_MATHS, "its formulas as maths"
    try_it = text.split("\n## Try it\n", 1)
    assert len(try_it) == 2 and _blocks(try_it[1], "python"), "a Try it section with a python block"


def test_readme_learning_path_reaches_every_chapter():
    text = _text(README)
    for chapter in [*CHAPTERS, *OTHER_CHAPTERS, "glossary.md", "references.md"]:
        assert f"(docs/{chapter})" in text, chapter


# -- links, figures, example references and glossary terms ----------------------------------------------

LINK = re.compile(r"\]\(([^)\s]+)\)")
FIGURE = re.compile(r"^```\{(?:figure|image)\}\s+(\S+)", re.M)


def _relative_targets(path):
    text = _text(path)
    targets = LINK.findall(text) + FIGURE.findall(text)
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t) and not t.startswith("#")]


LINKS = [(path, target) for path in DOCUMENTS for target in _relative_targets(path)]


@pytest.mark.parametrize("path, target", LINKS, ids=[f"{_name(p)} -> {t}" for p, t in LINKS])
def test_relative_link_points_at_a_file_that_exists(path, target):
    drawn = re.fullmatch(r"auto_examples/images/sphx_glr_(\w+?)_(\d{3})\.png", target)
    if drawn:   # a gallery figure: drawn by its example when the site is built, so the example must draw that many
        script = ROOT / "examples" / f"{drawn.group(1)}.py"
        assert script.exists(), f"{_name(path)} shows a figure of {script.name}, which does not exist"
        assert script.read_text().count("plt.show()") >= int(drawn.group(2)), f"{script.name} draws fewer figures"
        return
    file = (path.parent / target.split("#")[0]).resolve()
    assert file.exists(), f"{_name(path)} links to {target}, which does not exist"


def test_readme_links_are_checked():
    assert sum(path == README for path, _ in LINKS) >= 20


def test_example_references_name_real_examples():
    stems = {script.stem for script in (ROOT / "examples").glob("*.py")}
    referenced = {stem for path in DOCUMENTS for stem in re.findall(r"sphx_glr_auto_examples_(\w+?)\.py", _text(path))}
    assert referenced and referenced <= stems, referenced - stems


def _glossary_terms():
    body = _blocks(_text(DOCS / "glossary.md"), "{glossary}")
    assert len(body) == 1
    return {line.strip().lower() for line in body[0].splitlines() if line.strip() and not line.startswith(" ")}


def test_glossary_defines_the_terms_the_newcomer_missed():
    terms = _glossary_terms()
    for term in ("relu", "softmax cross-entropy", "sgd", "momentum", "weight decay", "epoch", "batch norm",
                 "eval mode", "mlpconv", "buffers", "stride", "mac", "flop", "roofline", "gemm",
                 "depthwise convolution", "groups"):
        assert term in terms, term


def test_every_term_reference_is_defined_in_the_glossary():
    terms = _glossary_terms()
    used = {match[1] or match[0] for path in DOCUMENTS
            for match in re.findall(r"\{term\}`([^`<]+?)(?:\s*<([^`>]+)>)?`", _text(path))}
    assert used, "the chapters link their terms to the glossary"
    assert {term.strip().lower() for term in used} <= terms, sorted({t.strip().lower() for t in used} - terms)


# -- tables of numbers: what the library computes --------------------------------------------------------

def _network(label):
    """The model a table row names: "resnet50 (stride on 1x1, paper)", "shufflenet_v1 (g=8)", ..."""
    from conv1x1 import models
    name, _, detail = label.partition(" (")
    if name == "resnet50":
        return models.resnet50("1x1" if "1x1" in detail else "3x3")
    if name == "shufflenet_v1":
        return models.shufflenet_v1(int(detail.split("=")[1].rstrip(")")))
    return models.MODELS[name]()


NETWORKS = _text(DOCS / "networks.md")


def test_share_of_macs_table_is_what_by_kind_says():
    from conv1x1.cost import KINDS
    rows = re.findall(r"^\| ([a-z_0-9]+(?: \([^)]*\))?) \| ([\d,]+) \| ([\d,]+) \| (.*) \|$", NETWORKS, flags=re.M)
    rows = [row for row in rows if row[3].endswith("%")]
    assert len(rows) >= 7
    for label, macs, params, shares in rows:
        report = _network(label).cost(224, 224)
        assert (report.macs, report.params) == (int(macs.replace(",", "")), int(params.replace(",", ""))), label
        by_kind = report.by_kind()
        assert shares.split(" | ") == [f"{by_kind[kind]['macs_share']:.2%}" for kind in KINDS], label


def test_macs_and_params_by_kind_table_is_what_by_kind_says():
    from conv1x1.cost import KINDS, human
    rows = re.findall(r"^\| ([a-z_0-9]+(?: \([^)]*\))?) \| (\S+ / \S+(?: \| \S+ / \S+)+) \|$", NETWORKS, flags=re.M)
    assert len(rows) >= 7
    for label, cells in rows:
        by_kind = _network(label).cost(224, 224).by_kind()
        expected = [f"{human(by_kind[k]['macs'])} / {human(by_kind[k]['params'])}" for k in KINDS]
        assert cells.split(" | ") == expected, label


def test_mobilenet_width_and_resolution_table_is_the_count():
    from conv1x1 import models
    rows = re.findall(r"^\| width ([\d.]+) \| (\d+) \| ([\d,]+) \| ([\d,]+) \|$", NETWORKS, flags=re.M)
    assert len(rows) == 7
    for width, size, macs, params in rows:
        report = models.mobilenet_v1(float(width)).cost(int(size), int(size))
        assert (report.macs, report.params) == (int(macs.replace(",", "")), int(params.replace(",", ""))), width


def test_shufflenet_table_is_table_1_and_the_counts():
    from conv1x1 import models
    row = r"^\| (\d) \| (\d+) \| (\d+)M \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \|$"
    rows = re.findall(row, NETWORKS, flags=re.M)
    assert [int(row[0]) for row in rows] == [1, 2, 3, 4, 8]
    for groups, width, paper, without_fc, fc, macs, params in rows:
        report = models.shufflenet_v1(int(groups)).cost(224, 224)
        numbers = [int(v.replace(",", "")) for v in (without_fc, fc, macs, params)]
        assert numbers == [report.macs - report.layers[-1].macs, report.layers[-1].macs, report.macs, report.params]
        assert report.children[4].out_shape[0] == int(width)            # stage2_1's output channels
        assert round(numbers[0] / 1e6) == int(paper)


def test_depth_table_is_what_the_layers_produce_and_cost():
    row = r"^\| (\d+) \| \((1, \d+, 28, 28)\) \| ([\d,]+) \| ([\d,]+) \|$"
    rows = re.findall(row, _text(DOCS / "depth.md"), flags=re.M)
    assert len(rows) == 6
    x = np.zeros((1, 192, 28, 28))
    for filters, shape, params, macs in rows:
        layer = C.Conv1x1(192, int(filters), rng=0)
        assert str(layer.forward(x).shape) == f"({shape})"
        cost = layer.cost(28, 28)
        assert (cost.params, cost.macs) == (int(params.replace(",", "")), int(macs.replace(",", "")))


def test_other_counters_formulas_rebuild_every_tools_number_from_our_report():
    """docs/cost.md: each tool's printed number (measured with the tools) as code on our report."""
    from conv1x1.cost import bottleneck_comparison
    comparison = bottleneck_comparison(192, 16, 32, 28, 28, kernel_size=5)
    resnet = C.models.resnet50().cost(224, 224)                               # torchvision's "v1.5"
    inception = C.Inception(192, 64, 96, 128, 16, 32, 32).cost(28, 28)
    models = [comparison.baseline, comparison.candidate, inception, resnet]   # 5x5, 1x1 -> 5x5, Inception 3a
    rows = [line for line in _text(DOCS / "cost.md").splitlines()
            if line.startswith("| ") and line.rstrip().endswith("` |") and line.count(" | ") >= 8]
    assert len(rows) == 9
    for line in rows:
        cells = [cell.strip() for cell in line.strip("| ").split(" | ")]
        printed = [int(cell.replace(",", "")) for cell in cells[3:7]]
        code = cells[-1].strip("`")
        for r, number in zip(models, printed):
            assert eval(code, {"r": r, "c": r.counts()}) == number, (cells[0], code)  # noqa: S307 - our docs
