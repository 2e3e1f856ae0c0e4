"""Check one submission's functions in child processes, and say per exercise what happened.

:func:`check_source` is what ``check FILE`` and ``grade`` run for each file. The submission runs in a
:class:`~.sandbox.Sandbox`; this process sends it the cases' inputs, receives what its functions
returned (plain data), and only then computes the expected values and the verdict with its own
comparison functions. Each exercise ends in one :class:`Cell`:

=============  =================================================================================
pass           checked, right on every case
fail           checked, wrong on some case (a wrong value, an exception, an input modified, ...)
timeout        a call did not return within the time limit; the child was ended
crash          the process ended during a call (os._exit, a crash, a resource limit)
missing        the file has no function of that name
library        the function is conv1x1's own (imported), or it passed by calling conv1x1's own code
error          could not be checked: the file does not import, or the child said nothing readable
=============  =================================================================================

A fresh child takes over after a timeout or a crash, so one function's fault costs only its own cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from . import judged
from .child import Opaque
from .judge import Case
from .run import Call, Raised, modified
from .sandbox import ChildGone, ChildSilent, Limits, Sandbox
from .tasks import EXERCISES, Exercise

__all__ = ["Cell", "Report", "check_source", "prepare", "printable", "unseen", "STARTUP"]

STARTUP = 10.0        # seconds a child gets, beyond the per-call timeout, to start Python and import the file
ANSWER = 1.0          # seconds beyond the per-call timeout for an answer to cross the pipe


def printable(text: Any, limit: int = 500) -> str:
    """Text from a child, cut to ``limit`` characters, control characters escaped: it cannot forge a line."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in str(text)[:limit])


@dataclass(frozen=True)
class Cell:
    """One exercise's status and the message behind it."""

    status: str
    message: str


@dataclass
class Report:
    """One submission: a Cell per exercise asked for, and a note when the whole file could not be checked."""

    cells: dict = field(default_factory=dict)
    note: str = ""


def prepare(names: list[str]) -> None:
    """Judge a blank attempt at each exercise once, before any submission runs, so that every module judging
    needs (numpy.random for the cases, the mistakes' code) is imported already: a submission that can write
    the teacher's Python files cannot plant code in a module the grader would import after it ran."""
    for name in names:
        task = EXERCISES[name]
        cases = unseen(task, np.random.default_rng(0))
        judged(task, cases, [Call(error=Raised("ValueError", "blank"), where="line 1") for _ in cases], 1.0)
        judged(task, cases, [Call(returned=None) for _ in cases], 1.0)


SIZES = ("in_channels", "out_channels", "height", "width", "kernel_size", "stride", "padding")
PARAMS = ("in_channels", "out_channels", "kernel_size", "bias")


def unseen(task: Exercise, rng: np.random.Generator) -> list[Case]:
    """The exercise's cases with inputs no learner has seen: each float array scaled by a factor of its own
    within 1/64 of 1 (its exact zeros, its signs and its orders of magnitude kept), and for the counting
    exercises two more cases drawn at random. A file that recognises the fixed cases and returns their
    answers passes ``check``, not ``grade``."""
    def nudged(arg: Any) -> Any:
        if isinstance(arg, np.ndarray) and arg.dtype.kind == "f":
            return (arg * (1 + rng.uniform(-1, 1) / 64)).astype(arg.dtype)
        return arg
    cases = [replace(case, args=tuple(nudged(arg) for arg in case.args)) for case in task.cases()]
    for _ in range(2):
        if task.params == PARAMS:
            args: tuple = (*(int(n) for n in rng.integers(1, 65, 2)), int(rng.choice([1, 3, 5, 7])),
                           bool(rng.integers(2)))
        elif task.params == SIZES:
            k, stride = int(rng.choice([1, 3, 5, 7])), int(rng.integers(1, 4))
            padding = int(rng.integers(0, k // 2 + 1))
            height, width = (int(n) for n in rng.integers(max(1, k - 2 * padding), 40, 2))
            args = (*(int(n) for n in rng.integers(1, 65, 2)), height, width, k, stride, padding)
        else:
            break
        cases.append(Case(args, "drawn at random for this run"))
    return cases


def check_source(source: bytes, names: list[str], timeout: float, limits: Limits, fresh: bool = False) -> Report:
    """Check the functions ``names`` of the submission whose text is ``source``, each in a child process.

    ``fresh``: try the cases of :func:`unseen` (``grade``) instead of the fixed ones (``check FILE``).
    """
    report = Report()
    rng = np.random.default_rng() if fresh else None
    hello: dict = {}
    with Sandbox(source, names, limits) as box:
        for name in names:
            if not box.running:
                hello, problem = _start(box, timeout)
                if problem:
                    report.note = problem
                    for rest in names[names.index(name):]:
                        report.cells[rest] = Cell("error", f"{rest}: not checked: {problem}")
                    break
            if name in hello["imported"]:
                report.cells[name] = Cell("library", f"{name}: conv1x1's own {name}, imported from "
                                          f"{printable(hello['imported'][name], 100)}: write it yourself")
            elif name not in hello["functions"]:
                report.cells[name] = Cell("missing", f"{name}: no function of that name in the file")
            else:
                task = EXERCISES[name]
                report.cells[name] = _exercise(box, task, unseen(task, rng) if rng else task.cases(), timeout)
    return report


def _start(box: Sandbox, timeout: float) -> tuple[dict, str]:
    """A fresh child's hello (the functions it found), or "" and what went wrong."""
    try:
        box.start(STARTUP)
        hello = box.receive(STARTUP + timeout)
    except ChildSilent:
        box.stop()
        return {}, (f"stopped after {STARTUP + timeout:g} s while importing the file (an endless loop when the "
                    "file is imported?)")
    except ChildGone as gone:
        how = printable(box.stop(grace=1.0))
        return {}, f"the process ended while importing the file: {gone} ({how})"
    if not (isinstance(hello, dict) and isinstance(hello.get("functions"), list)
            and isinstance(hello.get("imported"), dict) and all(isinstance(n, str) for n in hello["functions"])):
        box.stop()
        return {}, "the child's first answer could not be read"
    if hello.get("error"):
        box.stop()
        return {}, f"could not import the file: {printable(hello['error'])}"
    return hello, ""


def _exercise(box: Sandbox, task: Exercise, cases: list[Case], timeout: float) -> Cell:
    outcomes: list[Call] = []
    library: set[str] = set()
    status = ""
    try:
        box.send({"name": task.name, "cases": [list(case.args) for case in cases]}, timeout + ANSWER)
        for case in cases:
            answer = box.receive(timeout + ANSWER)
            outcome = _outcome(answer, case, task)
            library.update(outcome.library)
            outcomes.append(outcome)
    except ChildSilent:
        box.stop()
        outcomes.append(Call(timed_out=True))
        status = "timeout"
    except ChildGone as gone:
        how = printable(box.stop(grace=1.0))
        outcomes.append(Call(ended=f"{gone}: {how}"))
        status = "crash"
    result = judged(task, cases, outcomes, timeout)
    if status:
        return Cell(status, result.message)
    if result.passed and library:
        return Cell("library", result.message)
    return Cell("pass" if result.passed else "fail", result.message)


def _outcome(answer: Any, case: Any, task: Exercise) -> Call:
    """The Call a child's answer describes; ChildGone if it is not one."""
    if not isinstance(answer, dict) or not isinstance(answer.get("after"), list) \
            or len(answer["after"]) != len(case.args):
        raise ChildGone("it sent an answer of the wrong form")
    error = answer.get("error")
    raised, where = None, ""
    if error is not None:
        if not isinstance(error, dict):
            raise ChildGone("it sent an answer of the wrong form")
        raised = Raised(printable(error.get("type", "an exception"), 100), printable(error.get("message", "")))
        where = printable(error.get("where", ""), 300)
    shares = answer.get("shares") or []
    library = answer.get("library") or []
    if not isinstance(shares, list) or not isinstance(library, list):
        raise ChildGone("it sent an answer of the wrong form")
    after = tuple(a if a is not None else Opaque("gone") for a in answer["after"])
    return Call(returned=answer.get("returned"), error=raised, where=where,
                modified=modified(case.args, after, task.params, case.slack),
                shares=tuple(task.params[i] for i in shares if isinstance(i, int) and 0 <= i < len(task.params)),
                library=tuple(printable(name, 200) for name in library[:20]))
