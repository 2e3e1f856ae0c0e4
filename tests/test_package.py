"""The house itself: imports run one way, and a layer reaches its formula in a few calls."""

import ast
import os
import sys
from pathlib import Path

import numpy as np

import conv1x1 as C

PACKAGE = Path(C.__file__).parent

# What each part may import from the package, from the maths up. A module not listed may import anything below
# the entry points (cli, tour, __init__), which nothing imports.
FORBIDDEN = {
    "conv1x1._checks": {"functional", "layers", "containers", "models", "cost", "fast", "train", "optim"},
    "conv1x1.functional": {"layers", "containers", "models", "cost", "fast", "train", "optim", "cli", "tour"},
    "conv1x1.cost": {"layers", "containers", "models", "functional", "fast", "train", "optim", "cli", "tour"},
    "conv1x1.layers": {"containers", "models", "fast", "train", "optim", "cli", "tour"},
    "conv1x1.containers": {"models", "fast", "train", "optim", "cli", "tour"},
    "conv1x1.models": {"fast", "train", "optim", "cli", "tour"},
    "conv1x1.fast": {"layers", "containers", "models", "cost", "cli", "tour"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set:
    """The package modules that ``path`` imports at its top level (relative and absolute imports)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            if base.startswith("conv1x1"):
                if node.module:   # `from . import render` needs the submodule, not its (already loading) package
                    found.add(base)
                found.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("conv1x1"))
    modules = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    return {m for m in found if m in modules and m != name}


def _graph() -> dict:
    return {_module_name(p): _imports(p) for p in PACKAGE.rglob("*.py")}


def test_package_import_graph_has_no_cycle():
    """No module depends on another's import order: the graph of top-level imports is acyclic."""
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
    for module, imports in _graph().items():
        for part, forbidden in FORBIDDEN.items():
            if module == part or module.startswith(part + "."):
                bad = {m for m in imports if m.count(".") and m.split(".")[1] in forbidden}
                assert not bad, f"{module} imports {sorted(bad)}, which sit above it"


def test_conv1x1_layer_reaches_its_matmul_in_at_most_8_calls_in_2_files():
    """A second forward of C.Conv1x1(192, 32): measured with sys.setprofile, 5 calls of the package's
    functions today (Conv1x1.forward, the params property, conv1x1_forward, check_conv1x1_args, _ready) in
    layers.py and functional/pointwise.py; the bound is 8 calls in 2 files."""
    layer = C.Conv1x1(192, 32, rng=0)
    x = np.random.default_rng(0).standard_normal((1, 192, 28, 28))
    layer.forward(x)   # the first forward draws the weights
    calls = []

    def profile(frame, event, arg):
        if event == "call" and frame.f_code.co_filename.startswith(str(PACKAGE)):
            calls.append((os.path.relpath(frame.f_code.co_filename, PACKAGE), frame.f_code.co_name))

    sys.setprofile(profile)
    try:
        layer.forward(x)
    finally:
        sys.setprofile(None)
    assert calls[0] == ("layers.py", "forward") and ("functional/pointwise.py", "conv1x1_forward") in calls
    assert len(calls) <= 8, calls
    assert len({file for file, _ in calls}) <= 2, calls
