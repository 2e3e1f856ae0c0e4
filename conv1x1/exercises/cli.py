"""``python -m conv1x1 exercises``: list, show, start, check and grade the exercises.

    python -m conv1x1 exercises                          # the list, in teaching order
    python -m conv1x1 exercises show conv1x1_forward     # the task
    python -m conv1x1 exercises start conv1x1_forward    # writes conv1x1_forward.py (never overwrites)
    python -m conv1x1 exercises check conv1x1_forward.py # exit 0 if all pass, 1 if not, 2 for a usage error
    python -m conv1x1 exercises grade submissions/ --csv grades.csv --timeout 5

``check FILE`` imports FILE and checks every function in it named after an exercise. ``grade DIR`` checks
every ``.py`` file in DIR as one student's submission, each in a process of its own (``python -m
conv1x1.exercises check FILE --json REPORT``), so that a crash, an endless loop or a syntax error stops
only that student; it writes one row per file and one column per exercise: ``pass`` (checked, right),
``fail`` (checked, wrong: wrong values, an exception, no return within the timeout), ``missing`` (no
function of that name in the file) or ``error`` (the file could not be checked: it does not import, or
the whole process crashed or ran out of time).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

from . import check, exercise, names, show, skeleton

__all__ = ["main"]

PROG = "python -m conv1x1 exercises"
STARTUP_SLACK = 10.0   # seconds a grading process gets beyond --timeout per exercise: Python, NumPy, the file
STATUSES = ("pass", "fail", "missing", "error")


class UsageError(Exception):
    """A missing file, a file that does not import, no exercise in it: exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Exercises on the 1x1 convolution: write the "
                                     "function, and the checker says whether it is right and, if not, what is wrong.")
    commands = parser.add_subparsers(dest="command", metavar="{list,show,start,check,grade}")
    commands.add_parser("list", help="the exercises in teaching order (the default)")
    shown = commands.add_parser("show", help="the task: signature, shapes, hints")
    shown.add_argument("name")
    start = commands.add_parser("start", help="write a skeleton file NAME.py (never overwriting one)")
    start.add_argument("name")
    start.add_argument("--dir", default=".", help="where to write it (default: here)")
    checked = commands.add_parser("check", help="check every function in FILE named after an exercise")
    checked.add_argument("file")
    checked.add_argument("--timeout", type=_seconds, default=10.0, metavar="S",
                         help="seconds to wait for each call (default 10)")
    checked.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH (grade uses this)")
    grade = commands.add_parser("grade", help="check every .py file in DIR, one process each, and tabulate")
    grade.add_argument("dir")
    grade.add_argument("--csv", metavar="FILE", help="also write the table as CSV (first column: the student)")
    grade.add_argument("--timeout", type=_seconds, default=10.0, metavar="S",
                       help="seconds to wait for each call (default 10); a whole submission gets S per exercise "
                            f"plus {STARTUP_SLACK:g}")
    return parser


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, got {text!r}") from None
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def main(argv=None) -> int:
    """Run the command; return the exit status (0 done / all passed, 1 some failed, 2 usage error)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:      # argparse has printed the usage and the error (or the help)
        return stop.code if isinstance(stop.code, int) else 2
    try:
        if args.command in (None, "list"):
            print(listing())
            return 0
        if args.command == "show":
            print(show(_name(args.name)))
            return 0
        if args.command == "start":
            return start(_name(args.name), args.dir)
        if args.command == "check":
            return check_file(args.file, args.timeout, args.json)
        return grade(args.dir, args.csv, args.timeout)
    except UsageError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:   # output piped into `head` and the like: stop quietly
        silence_stdout()
        return 0


def _name(name: str) -> str:
    try:
        exercise(name)
    except ValueError as error:
        raise UsageError(str(error)) from None
    return name


def listing() -> str:
    width = max(len(name) for name in names())
    rows = [f"{number:>3}. {name:<{width}}  {exercise(name).summary}"
            for number, name in enumerate(names(), 1)]
    return ("The exercises, in teaching order:\n" + "\n".join(rows) + "\n\n"
            f"Read one:   {PROG} show conv1x1_forward\n"
            f"Start one:  {PROG} start conv1x1_forward    (writes conv1x1_forward.py)\n"
            f"Check it:   {PROG} check conv1x1_forward.py")


# ---------------------------------------------------------------- start

def start(name: str, directory: str) -> int:
    """Write DIRECTORY/NAME.py from the skeleton; 1 if it exists already (it is never overwritten)."""
    path = Path(directory) / f"{name}.py"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8") as file:     # "x": fails if the file exists
            file.write(skeleton(name))
    except FileExistsError:
        print(f"{PROG}: {path} exists already; it was not overwritten. Check it with: {PROG} check {path} "
              f"(or move it away to start again)", file=sys.stderr)
        return 1
    except OSError as error:
        raise UsageError(f"could not write {path}: {error.strerror or error}") from None
    print(f"wrote {path}: replace `raise NotImplementedError` with your code, then run\n    {PROG} check {path}")
    return 0


# ---------------------------------------------------------------- check

def check_file(path: str, timeout: float, report: str | None = None) -> int:
    """Check the functions in the file at ``path``; 0 if all pass, 1 if not (2 raised as UsageError)."""
    try:
        found = _functions(path)
    except UsageError as error:
        if report:
            _write_json(report, {"file": path, "error": str(error), "results": {}})
        raise
    results = {}
    for name, fn in found.items():
        result = check(name, fn, timeout)
        results[name] = {"status": "pass" if result.passed else "fail", "message": result.message}
        print(result.message, end="\n\n", flush=True)
    passed = sum(r["status"] == "pass" for r in results.values())
    print(f"{passed} of {len(results)} passed.", flush=True)
    if report:
        _write_json(report, {"file": path, "error": None, "results": results})
    return 0 if passed == len(results) else 1


def _functions(path: str) -> dict:
    """Name -> function, for every exercise the file defines; UsageError if there are none or it does not import."""
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"no such file: {path}")
    module = _import(file)
    found, imported = {}, []
    for name in names():
        fn = getattr(module, name, None)
        if not callable(fn):
            continue
        origin = getattr(fn, "__module__", None) or ""
        if origin == "conv1x1" or origin.startswith("conv1x1."):   # the library's own answer, imported
            imported.append(f"{name} (imported from {origin})")
            continue
        found[name] = fn
    for note in imported:
        print(f"skipped {note}: write it yourself in {path}", flush=True)
    if not found:
        raise UsageError(f"{path} has no function named after an exercise; the exercises are: {', '.join(names())}"
                         f" (start one with: {PROG} start conv1x1_forward)")
    return found


def _import(file: Path):
    """Import a file as a module (its folder on sys.path meanwhile, for its own helpers)."""
    spec = importlib.util.spec_from_file_location(f"exercise_submission_{abs(hash(str(file.resolve())))}", file)
    if spec is None or spec.loader is None:
        raise UsageError(f"could not import {file}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(file.resolve().parent))
    try:
        spec.loader.exec_module(module)
    except SyntaxError as error:
        line = (error.text or "").strip()
        raise UsageError(f"could not import {file}: SyntaxError: {error.msg} (line {error.lineno})"
                         + (f": {line}" if line else "")) from None
    except BaseException as error:   # noqa: BLE001 - SystemExit, a crash at import time: all usage errors
        if isinstance(error, KeyboardInterrupt):
            raise
        where = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename == str(file)]
        at = f" (line {where[-1].lineno}: {where[-1].line})" if where and where[-1].line else ""
        raise UsageError(f"could not import {file}: {type(error).__name__}: {error}{at}") from None
    finally:
        sys.path.remove(str(file.resolve().parent))
    return module


def _write_json(path: str, data: dict) -> None:
    with open(path, "w", encoding="utf-8") as file:
        json.dump(data, file)


# ---------------------------------------------------------------- grade

def grade(directory: str, csv_path: str | None, timeout: float) -> int:
    """Check every .py file in ``directory`` in its own process; print the table (and write the CSV); 0."""
    folder = Path(directory)
    if not folder.is_dir():
        raise UsageError(f"no such folder: {directory}")
    files = sorted(folder.glob("*.py"))
    if not files:
        raise UsageError(f"{directory} holds no .py files to grade")
    if csv_path and not Path(csv_path).resolve().parent.is_dir():
        raise UsageError(f"cannot write --csv {csv_path}: its folder does not exist")
    workers = max(1, min(len(files), os.cpu_count() or 1))
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        graded = list(pool.map(lambda file: _grade_one(file, timeout), files))
    header = ["student", *names()]
    rows = [[file.stem, *(statuses[name] for name in names())] for file, (statuses, _) in zip(files, graded)]
    print(_table(header, rows))
    for file, (_, note) in zip(files, graded):
        if note:
            print(f"{file.stem}: {note}")
    print(f"The messages behind a fail: {PROG} check {folder / files[0].name} (and so on).")
    if csv_path:
        try:
            with open(csv_path, "w", newline="", encoding="utf-8") as out:
                csv.writer(out).writerows([header, *rows])
        except OSError as error:
            raise UsageError(f"cannot write --csv {csv_path}: {error.strerror or error}") from None
        print(f"wrote {csv_path}")
    return 0


def _grade_one(file: Path, timeout: float) -> tuple[dict, str]:
    """({exercise: status}, a note on what went wrong, or "") for one submission, checked in a subprocess."""
    limit = timeout * (len(names()) + 1) + STARTUP_SLACK
    package_root = str(Path(__file__).resolve().parent.parent.parent)
    paths = [package_root, *filter(None, [os.environ.get("PYTHONPATH")])]    # the conv1x1 this process runs
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths))
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        command = [sys.executable, "-m", "conv1x1.exercises", "check", str(file.resolve()),
                   "--timeout", repr(timeout), "--json", str(report)]
        try:
            done = subprocess.run(command, cwd=scratch, env=env, stdin=subprocess.DEVNULL,  # cwd: none of theirs
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=limit)
        except subprocess.TimeoutExpired:
            return _all("error"), f"error: stopped after {limit:g} s (an endless loop when the file is imported?)"
        data = json.loads(report.read_text(encoding="utf-8")) if report.exists() else None
    if data is None:
        last = (done.stderr.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
        return _all("error"), f"error: the check crashed (exit status {done.returncode}): {last}"
    if data["error"]:
        return _all("error"), "error: " + data["error"].replace(str(file.resolve()), file.name)
    statuses = _all("missing")
    statuses.update({name: result["status"] for name, result in data["results"].items()})
    return statuses, ""


def _all(status: str) -> dict:
    return dict.fromkeys(names(), status)


def _table(header: list, rows: list) -> str:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(f"{cell:<{width}}" for cell, width in zip(row, widths)).rstrip() for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)

def silence_stdout() -> None:
    """Point stdout at /dev/null so that Python's own flush at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, AttributeError, ValueError):
        pass
