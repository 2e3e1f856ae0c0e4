"""``python -m conv1x1 exercises``: list, show, start, check and grade the exercises.

    python -m conv1x1 exercises                          # the list, in teaching order
    python -m conv1x1 exercises show conv1x1_forward     # the task
    python -m conv1x1 exercises start conv1x1_forward    # writes conv1x1_forward.py (never overwrites)
    python -m conv1x1 exercises check conv1x1_forward.py # exit 0 if all pass, 1 if not, 2 for a usage error
    python -m conv1x1 exercises grade submissions/ --csv grades.csv --timeout 5 --only conv1x1_forward

``check FILE`` and ``grade DIR`` run the learner's code in child processes only (:mod:`.grading`,
:mod:`.sandbox`): a private copy of the file, Python's isolated mode, resource limits, and only plain
data heard back; the verdict is decided here. ``grade`` checks every ``.py`` file of DIR (not dotfiles)
as one student's submission and writes one row per file, one column per exercise, each cell one of
``pass``, ``fail``, ``timeout``, ``crash``, ``missing``, ``library``, ``error`` or ``changed-files``
(see :mod:`.grading` and the Practise chapter).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import math
import os
import sys
import time
from pathlib import Path

from . import exercise, names, show, skeleton
from .grading import Cell, Report, check_source, prepare, printable
from .sandbox import Limits, code_fingerprint, reaping

__all__ = ["main"]

PROG = "python -m conv1x1 exercises"
STATUSES = ("pass", "fail", "timeout", "crash", "missing", "library", "error", "changed-files")


class UsageError(Exception):
    """A missing file, a file that does not import, no exercise in it: exit status 2."""


def _limit_options(parser: argparse.ArgumentParser) -> None:
    default = Limits()
    parser.add_argument("--timeout", type=_seconds, default=10.0, metavar="S",
                        help="seconds to wait for each call (default 10)")
    parser.add_argument("--only", type=_names, metavar="NAME,...", help="check only these exercises")
    parser.add_argument("--cpu", type=_count, default=default.cpu_seconds, metavar="S",
                        help=f"CPU seconds of each child process (default {default.cpu_seconds})")
    parser.add_argument("--memory", type=_count, default=default.memory_mb, metavar="MB",
                        help=f"address space of each child process, in MiB (default {default.memory_mb})")
    parser.add_argument("--file-size", type=_count, default=default.file_size_mb, metavar="MB",
                        help=f"largest file a child may write, in MiB (default {default.file_size_mb})")
    parser.add_argument("--processes", type=_count, default=default.processes, metavar="N",
                        help=f"processes a child may start (default {default.processes}; root is not limited)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Exercises on the 1x1 convolution: write the "
                                     "function, and the checker says whether it is right and, if not, what is wrong.")
    commands = parser.add_subparsers(dest="command", metavar="{list,show,start,check,grade}")
    commands.add_parser("list", help="the exercises in teaching order (the default)")
    shown_task = commands.add_parser("show", help="the task: signature, shapes, hints")
    shown_task.add_argument("name")
    start = commands.add_parser("start", help="write a skeleton file NAME.py (never overwriting one)")
    start.add_argument("name")
    start.add_argument("--dir", default=".", help="where to write it (default: here)")
    checked = commands.add_parser("check", help="check every function in FILE named after an exercise")
    checked.add_argument("file")
    _limit_options(checked)
    grade = commands.add_parser("grade", help="check every .py file in DIR in child processes, and tabulate")
    grade.add_argument("dir")
    grade.add_argument("--csv", metavar="FILE", help="also write the table as CSV (first column: the student)")
    _limit_options(grade)
    return parser


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, got {text!r}") from None
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return value


def _names(text: str) -> list[str]:
    asked = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in asked if name not in names()]
    if unknown or not asked:
        raise argparse.ArgumentTypeError(f"unknown exercise {', '.join(unknown) or text!r}; the exercises are: "
                                         f"{', '.join(names())}")
    return [name for name in names() if name in asked]


def main(argv: list[str] | None = None) -> int:
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
        limits = Limits(args.cpu, args.memory, args.file_size, args.processes)
        if args.command == "check":
            return check_file(args.file, args.timeout, limits, args.only)
        return grade(args.dir, args.csv, args.timeout, limits, args.only)
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

def check_file(path: str, timeout: float, limits: Limits, only: list[str] | None = None) -> int:
    """Check the functions in the file at ``path`` in child processes; 0 if all pass, 1 if not (2: UsageError)."""
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"no such file: {path}")
    try:
        source = file.read_bytes()
    except OSError as error:
        raise UsageError(f"could not read {path}: {error.strerror or error}") from None
    asked = only or names()
    prepare(asked)
    with reaping():
        report = check_source(source, asked, timeout, limits)
    if report.note:
        raise UsageError(f"{shown(path)}: {report.note}")
    written = {name: cell for name, cell in report.cells.items() if cell.status != "missing"}
    imported = [name for name, cell in written.items() if cell.status == "library" and "imported from" in
                cell.message]
    for name in imported:
        print(f"skipped {written.pop(name).message}", flush=True)
    if not written:
        raise UsageError(f"{shown(path)} has no function named after an exercise; the exercises are: "
                         f"{', '.join(names())} (start one with: {PROG} start conv1x1_forward)")
    for cell in written.values():
        print(cell.message, end="\n\n", flush=True)       # its parts from the child are escaped already
    passed = sum(cell.status in ("pass", "library") for cell in written.values())   # library: passed, with a note
    print(f"{passed} of {len(written)} passed.", flush=True)
    return 0 if passed == len(written) else 1


# ---------------------------------------------------------------- grade

def shown(name: str) -> str:
    r"""A file name as text that cannot break a line or a table row.

    Control characters and bytes that are not UTF-8 are escaped as in a Python string, backslashes doubled:
    ``shown("jos\udce9")`` (a Latin-1 name read from disk) is ``jos\xe9``, ``shown("a\nb")`` is ``a\nb``.
    """
    return "".join(_escaped(ch) for ch in name)


def _escaped(ch: str) -> str:
    if "\udc80" <= ch <= "\udcff":              # a byte that is not UTF-8, kept by os.fsdecode
        return f"\\x{ord(ch) - 0xdc00:02x}"
    if ch == "\\":
        return "\\\\"
    return ch if ch.isprintable() else ascii(ch)[1:-1]


def _submissions(folder: Path) -> list[Path]:
    """The .py files of the folder (not dotfiles, not folders), in order."""
    return sorted((entry for entry in folder.iterdir()
                   if entry.suffix == ".py" and not entry.name.startswith(".") and entry.is_file()),
                  key=lambda entry: os.fsencode(entry.name))


def _read(file: Path) -> bytes | str:
    """The file's bytes, or why they could not be read (a symbolic link is not read: it is nobody's own file)."""
    try:
        if file.is_symlink():
            return f"it is a symbolic link (to {shown(os.readlink(file))}), not a file handed in"
        with os.fdopen(os.open(file, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb") as opened:
            return opened.read()
    except OSError as error:
        return error.strerror or str(error)


def _fingerprint(folder: Path) -> dict:
    """Every entry's name -> the SHA-256 of a regular file's content, or its kind (a link: where it points).

    Links are not followed: what a link points to is not the submissions folder's.
    """
    prints = {}
    for entry in folder.iterdir():
        try:
            if entry.is_symlink():
                prints[entry.name] = f"link to {os.readlink(entry)}"
            elif entry.is_file():
                prints[entry.name] = hashlib.sha256(entry.read_bytes()).hexdigest()
            else:
                prints[entry.name] = "folder" if entry.is_dir() else "other"
        except OSError as error:
            prints[entry.name] = f"unreadable: {error.strerror}"
    return prints


def _spreadsheet_safe(name: str) -> str:
    """A name as a CSV cell no spreadsheet runs as a formula: a leading =, +, -, @, tab or CR gets a ' before it."""
    return "'" + name if name[:1] in ("=", "+", "-", "@", "\t", "\r") else name


def grade(directory: str, csv_path: str | None, timeout: float, limits: Limits, only: list[str] | None = None) -> int:
    """Check every submission in ``directory``; print the table (and write the CSV).

    Returns 0 when every file was graded, 1 when some file could not be (an ``error`` or ``changed-files``).
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise UsageError(f"no such folder: {directory}")
    files = _submissions(folder)
    if not files:
        raise UsageError(f"{directory} holds no .py files to grade")
    if csv_path and not Path(csv_path).resolve().parent.is_dir():
        raise UsageError(f"cannot write --csv {csv_path}: its folder does not exist")
    asked = only or names()
    started = time.perf_counter()
    rows, notes = _grade_all(folder, files, asked, timeout, limits)
    header = ["student", *asked]
    print(_table(header, rows))
    for note in notes:
        print(printable(note, 2000))
    print(f"The messages behind a cell: {PROG} check FILE. Graded {len(files)} files in "
          f"{time.perf_counter() - started:.1f} s.")
    if csv_path:
        try:
            with open(csv_path, "w", newline="", encoding="utf-8") as out:
                csv.writer(out).writerows([header, *([_spreadsheet_safe(row[0]), *row[1:]] for row in rows)])
        except OSError as error:
            raise UsageError(f"cannot write --csv {csv_path}: {error.strerror or error}") from None
        print(f"wrote {csv_path}")
    return 1 if any(cell in ("error", "changed-files") for row in rows for cell in row[1:]) else 0


def _grade_all(folder: Path, files: list[Path], asked: list[str], timeout: float,
               limits: Limits) -> tuple[list, list]:
    """(rows of the table, notes under it): one submission after another, the folder fingerprinted between.

    The grader's own files (its modules, NumPy's, the child script, Python, site-packages' .pth) are fingerprinted
    too: once a submission has changed them, the files after it are not run (their cells read ``error``).
    """
    sources = {file: _read(file) for file in files}     # what is graded: the files as they are now
    before = _fingerprint(folder)
    rows, notes = [], []
    prepare(asked)
    code = code_fingerprint()
    spoiled = ""
    with reaping():
        for file in files:
            source, student = sources[file], shown(file.stem)
            if spoiled:
                rows.append([student, *("error" for _ in asked)])
                notes.append(f"{student}: error: not run, {spoiled}")
                continue
            report = check_source(source, asked, timeout, limits, fresh=True) if isinstance(source, bytes) else Report(
                {name: Cell("error", "") for name in asked}, f"could not read the file: {source}")
            cells = {name: report.cells[name].status for name in asked}
            if report.note:
                notes.append(f"{student}: error: {report.note}")
            after = _fingerprint(folder)
            if after != before:
                changed = sorted(set(before) ^ set(after) | {n for n in before if after.get(n, before[n]) != before[n]})
                notes.append(f"{student}: changed-files: while it ran, the folder changed: "
                             f"{', '.join(shown(n) for n in changed)} (every file was graded as it was before)")
                cells, before = dict.fromkeys(asked, "changed-files"), after
            now = code_fingerprint()
            altered = sorted(path for path in code if now.get(path) != code[path])
            if altered:
                spoiled = f"the grader's own files were changed while {student} ran"
                notes.append(f"{student}: changed-files: while it ran, the grader's own files changed: "
                             f"{', '.join(shown(p) for p in altered[:5])}{' ...' if len(altered) > 5 else ''}; "
                             f"the files after it were not run: reinstall, then grade again")
                cells = dict.fromkeys(asked, "changed-files")
            library = [name for name in asked if cells[name] == "library"]
            if library:
                notes.append(f"{student}: library: conv1x1's own code answers {', '.join(library)}")
            rows.append([student, *(cells[name] for name in asked)])
    return rows, notes


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
