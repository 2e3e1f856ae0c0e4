"""The house itself: imports run one way, and a layer reaches its formula in a few calls."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import conv1x1 as C

PACKAGE = Path(C.__file__).parent

# The parts of the package, from the maths up: a part may import only the parts before it in this list.
# Every module belongs to the longest part whose name is its own or a prefix of it.
ORDER = [
    "conv1x1._checks",
    "conv1x1.functional",
    "conv1x1.gradcheck",
    "conv1x1.reference",
    "conv1x1.cost",
    "conv1x1.layers",
    "conv1x1.containers",
    "conv1x1",                 # the front door: imports the lesson above, the campus below only on first use
    "conv1x1.models",
    "conv1x1.training",
    "conv1x1.fast",
    "conv1x1.exercises",
    "conv1x1.bridge",
    "conv1x1.course",
    "conv1x1.__main__",
]
LESSON = set(ORDER[:ORDER.index("conv1x1") + 1])


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _part(module: str) -> str:
    matches = [part for part in ORDER if module == part or module.startswith(part + ".")]
    return max(matches, key=len)


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _import_nodes(tree: ast.AST):
    """Every import statement, at any depth (inside functions too), except those under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _imports(path: Path) -> set:
    """The package modules that ``path`` imports, at its top level or inside a function."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            if base.startswith("conv1x1"):
                if node.module:   # `from . import render` needs the submodule, not its (already loading) package
                    found.add(base)
                found.update(f"{base}.{alias.name}" for alias in node.names)
        else:
            found.update(alias.name for alias in node.names if alias.name.startswith("conv1x1"))
    modules = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    return {m for m in found if m in modules and m != name}


def _graph() -> dict:
    return {_module_name(p): _imports(p) for p in PACKAGE.rglob("*.py")}


def test_package_import_graph_has_no_cycle_even_through_function_level_imports():
    """No module depends on another's import order: the graph of all imports, deferred ones too, is acyclic."""
    graph, state = _graph(), {}

    def visit(module, path):
        state[module] = "open"
        for target in graph[module]:
            assert state.get(target) != "open", f"import cycle: {' -> '.join(path + [target])}"
            if target not in state:
                visit(target, path + [target])
        state[module] = "done"

    for module in graph:
        if module not in state:
            visit(module, [module])
    assert len(graph) >= 25


def test_package_imports_run_from_the_maths_up():
    """A module imports only its own part and the parts before it in ORDER (the lazy front door aside)."""
    bad = []
    for module, imports in _graph().items():
        rank = ORDER.index(_part(module))
        bad += [f"{module} -> {target}" for target in imports if ORDER.index(_part(target)) > rank]
    assert bad == []


def test_a_deferred_import_that_runs_upward_is_caught(tmp_path):
    """The graph sees an import inside a function body, not only the imports at the top of a module."""
    source = tmp_path / "deferred.py"
    source.write_text("def f():\n    from conv1x1.course import cli\n")
    nodes = list(_import_nodes(ast.parse(source.read_text())))
    assert [ast.unparse(node) for node in nodes] == ["from conv1x1.course import cli"]


def test_importing_conv1x1_loads_the_lesson_and_not_the_campus():
    """``import conv1x1`` loads the functions, layers, containers, gradient checks, reference loops and cost;
    the models, training, exercises, course, engine room and bridge wait for their first use."""
    code = "import sys, conv1x1; print(sorted(m for m in sys.modules if m.startswith('conv1x1')))"
    root = PACKAGE.parent
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True,
                         timeout=120).stdout
    loaded = ast.literal_eval(out.strip())
    assert {_part(m) for m in loaded} <= LESSON, sorted(m for m in loaded if _part(m) not in LESSON)
    assert {"conv1x1.functional.pointwise", "conv1x1.layers", "conv1x1.containers", "conv1x1.gradcheck",
            "conv1x1.reference", "conv1x1.cost"} <= set(loaded)


def test_campus_names_load_on_first_use():
    """``C.SGD``, ``C.from_torch``, ``C.exercises`` and ``C.fast`` are the real objects of their modules."""
    from conv1x1.bridge.convert import from_torch
    from conv1x1.training.optim import SGD

    assert C.SGD is SGD and C.from_torch is from_torch
    assert C.exercises.__name__ == "conv1x1.exercises" and C.fast.__name__ == "conv1x1.fast"
    assert {"SGD", "exercises", "fast", "from_torch"} <= set(dir(C))


def test_an_unknown_attribute_raises_attribute_error_naming_it():
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        C.nonexistent  # noqa: B018


def test_conv1x1_layer_reaches_its_matmul_in_at_most_8_calls_in_2_files():
    """A second forward of C.Conv1x1(192, 32), measured with sys.setprofile: the package's functions it calls,
    the input checks of _checks.py aside, stay within 8 calls in layers.py and functional/pointwise.py."""
    layer = C.Conv1x1(192, 32, rng=0)
    x = np.random.default_rng(0).standard_normal((1, 192, 28, 28))
    layer.forward(x)   # the first forward draws the weights
    calls = []

    def profile(frame, event, arg):
        if (event == "call" and frame.f_code.co_filename.startswith(str(PACKAGE))
                and not frame.f_code.co_filename.endswith("_checks.py")):
            calls.append((os.path.relpath(frame.f_code.co_filename, PACKAGE), frame.f_code.co_name))

    sys.setprofile(profile)
    try:
        layer.forward(x)
    finally:
        sys.setprofile(None)
    assert calls[0] == ("layers.py", "forward") and ("functional/pointwise.py", "conv1x1_forward") in calls
    assert len(calls) <= 8, calls
    assert len({file for file, _ in calls}) <= 2, calls
