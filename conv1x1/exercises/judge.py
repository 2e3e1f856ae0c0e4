"""Judge what a learner's function did on one case, and write the message that says so.

For each case the judge compares what came back with the library's answer, part by part (``out``, or
``dx``, ``dw`` and ``db``). When some case failed, it asks every known mistake of the exercise what *it*
would have returned on each case: a mistake shows on a case where that differs from the right answer,
and it is named only when the attempt matches it on every case where it shows (a match on one case by
coincidence names nothing). The message says what was tried, what came back, what was expected, and,
for a named mistake, what it is and how to fix it. What came back is plain data (see
:func:`.child.plain`), and the NumPy functions used to compare were bound when this module was imported.
"""

from __future__ import annotations

import itertools
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy

from .child import Opaque
from .run import Call, copy_args

__all__ = ["Part", "Mistake", "Case", "CaseReport", "judge", "verdict"]

# The NumPy functions and types the judge uses, bound once at import: a learner's code that replaces
# numpy.allclose (or numpy.ndarray) in a notebook does not change how its result is judged.
np = types.SimpleNamespace(**{name: getattr(numpy, name) for name in (
    "abs", "allclose", "argmax", "asarray", "bool_", "errstate", "float64", "floating", "integer", "isclose",
    "inf", "isfinite", "isnan", "nan_to_num", "ndarray", "unravel_index", "where")})


@dataclass(frozen=True)
class Part:
    """One returned value: its name, kind ("array", "int" or "float") and, for arrays, its shape in symbols."""

    name: str
    kind: str = "array"
    shape: str = ""


@dataclass(frozen=True)
class Mistake:
    """A known mistake: what it would return, what it is, how to fix it.

    ``answer(*args)`` returns the value of ``part`` (or of the whole output when ``part`` is None) that
    the mistaken code gives; it may raise where the mistake cannot run (a transposed weight on a
    non-square case), and is then not a candidate there.
    """

    says: str
    fix: str
    answer: Callable
    part: str | None = None


@dataclass(frozen=True)
class Case:
    """The arguments of one call, a short label ("square: C_in = C_out = H = W = 3"), what to print for
    arguments that do not describe themselves (a function), and how much an argument may change and
    still count as unchanged (``slack``, see ``run.call``)."""

    args: tuple
    label: str
    shown: dict = field(default_factory=dict)
    slack: dict = field(default_factory=dict)

    @property
    def tol(self) -> float:
        """Relative tolerance: 1e-4 when the case is in float32, 1e-7 in float64 (both far above rounding)."""
        low = any(isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.itemsize < 8 for a in self.args)
        return 1e-4 if low else 1e-7

    def tried(self, function: str, names: tuple) -> str:
        """The call in words: ``conv_params(in_channels=4, ...)`` or ``f(x, w) with x (2, 3) float64, ...``."""
        if not any(isinstance(arg, np.ndarray) or name in self.shown for name, arg in zip(names, self.args)):
            return f"{function}({', '.join(f'{name}={arg!r}' for name, arg in zip(names, self.args))})"
        return f"{function}({', '.join(names)}) with " + ", ".join(
            f"{name} = {self.shown[name]}" if name in self.shown else f"{name} {describe_arg(arg)}"
            for name, arg in zip(names, self.args))


@dataclass
class CaseReport:
    """What happened on one case."""

    number: int
    case: Case
    passed: bool
    got: list
    expected: str
    mistakes: list
    short: str
    notes: list = field(default_factory=list)
    expected_value: Any = None
    outcome: Any = None


def describe_arg(arg: Any) -> str:
    if isinstance(arg, np.ndarray):
        return f"{tuple(arg.shape)} {arg.dtype}"
    return f"= {arg!r}"


def describe(value: Any) -> str:
    """A returned value in words: "None", "an array (2, 3) float64", "the float 1.5", "a tuple of 2"."""
    if value is None:
        return "None"
    if isinstance(value, Opaque):
        return value.text
    if isinstance(value, np.ndarray):
        return f"an array {tuple(value.shape)} {value.dtype}"
    if isinstance(value, (bool, np.bool_)):
        return f"the bool {value}"
    if isinstance(value, (int, np.integer)):
        return f"the int {int(value)}"
    if isinstance(value, (float, np.floating)):
        return f"the float {float(value):.6g}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"a {type(value).__name__}"


def _num(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, (float, np.floating)) else str(value)


def _where(name: str, index: tuple) -> str:
    return f"{name}[{', '.join(str(int(i)) for i in index)}]" if index else name


# ---------------------------------------------------------------- comparing

def _scale(target: Any) -> float:
    finite = np.abs(np.asarray(target, dtype=np.float64))
    finite = finite[np.isfinite(finite)]
    return max(1.0, float(finite.max())) if finite.size else 1.0


def same(got: Any, target: Any, tol: float) -> bool:
    """Whether ``got`` equals ``target`` to tolerance (NaN equals NaN); never raises, whatever ``got`` is."""
    if isinstance(target, np.ndarray):
        if not isinstance(got, np.ndarray) or got.shape != target.shape or got.dtype.kind not in "biuf":
            return False
        return bool(np.allclose(got.astype(np.float64), target.astype(np.float64), rtol=tol,
                                atol=tol * _scale(target), equal_nan=True))
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        return _is_number(got) and float(got) == float(target)
    if isinstance(target, (float, np.floating)):
        if isinstance(got, np.ndarray) and got.shape == () and got.dtype.kind == "f":
            got = got.item()
        return _is_number(got) and bool(np.isclose(float(got), float(target), rtol=tol, atol=tol * _scale(target),
                                                   equal_nan=True))
    return False


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def compare_part(part: Part, got: Any, expected: Any, tol: float) -> tuple[bool, str]:
    """(right?, what came back in words) for one part."""
    if part.kind == "array":
        return _compare_array(part, got, expected, tol)
    if part.kind == "int":
        if isinstance(got, (int, np.integer)) and not isinstance(got, (bool, np.bool_)):
            return (True, "right") if int(got) == expected else (False, f"{int(got)}")
        if isinstance(got, (float, np.floating)) and float(got) == expected:
            return False, (f"the float {float(got):g}: the right number, but the count must be an int "
                           "(use // for divisions: it rounds down and stays an int)")
        if isinstance(got, (float, np.floating)):
            return False, (f"the float {float(got):g}, where the int {expected} was expected "
                           "(use // for divisions: it rounds down and stays an int)")
        return False, f"{describe(got)}, where the int {expected} was expected"
    if same(got, expected, tol):
        return True, "right"
    if _is_number(got) or (isinstance(got, np.ndarray) and got.shape == ()):
        return False, f"{float(np.asarray(got)):.6g}"
    return False, f"{describe(got)}, where a float was expected"


def _compare_array(part: Part, got: Any, expected: Any, tol: float) -> tuple[bool, str]:
    shape = f"{part.shape} = {tuple(expected.shape)}" if part.shape else f"{tuple(expected.shape)}"
    if not isinstance(got, np.ndarray):
        sequence = isinstance(got, (list, tuple)) or (isinstance(got, Opaque) and got.sequence)
        hint = ": wrap it with np.array(...)" if sequence else ""
        return False, f"{describe(got)}, where an array {shape} was expected{hint}"
    if got.shape != expected.shape:
        return False, f"an array {tuple(got.shape)}, where {shape} was expected"
    if got.dtype.kind not in "biuf":
        return False, f"an array of dtype {got.dtype}, where {expected.dtype} was expected"
    if same(got, expected, tol):
        if got.dtype != expected.dtype:
            return False, (f"the right values, but in {got.dtype} where {expected.dtype} was expected (the inputs' "
                           f"dtype): create arrays with dtype=x.dtype or np.zeros_like, or return "
                           f"{part.name}.astype(x.dtype)")
        return True, "right"
    with np.errstate(all="ignore"):
        got64, want64 = got.astype(np.float64), expected.astype(np.float64)
        error = np.abs(got64 - want64)
        nan_mismatch = np.isnan(got64) != np.isnan(want64)
        error = np.where(nan_mismatch, np.inf, np.nan_to_num(error, nan=0.0))
        wrong = error > tol * (_scale(expected) + np.abs(want64))
    index = np.unravel_index(int(np.argmax(error)), error.shape) if error.size else ()
    text = (f"an array {tuple(got.shape)} {got.dtype}, wrong at {int(wrong.sum())} of {got.size} entries; the largest "
            f"error is at {_where(part.name, index)}: {_num(got[index])} where {_num(expected[index])} was expected")
    if got.dtype != expected.dtype:
        text += f" (and in {got.dtype}, not {expected.dtype})"
    return False, text


def expected_text(parts: tuple, expected: Any) -> str:
    values = (expected,) if len(parts) == 1 else expected
    texts = []
    for part, value in zip(parts, values):
        if part.kind == "array":
            shape = f"{part.shape} = {tuple(value.shape)}" if part.shape else f"{tuple(value.shape)}"
            texts.append(f"an array {shape} {value.dtype}" if len(parts) == 1 else f"{part.name} {shape} {value.dtype}")
        else:
            text = f"{value:.6g}" if part.kind == "float" else f"{value}"
            texts.append(text if len(parts) == 1 else f"{part.name} = {text}")
    if len(parts) == 1:
        return texts[0]
    return f"the tuple ({', '.join(p.name for p in parts)}) with " + ", ".join(texts)


# ---------------------------------------------------------------- one case

def judge(exercise: Any, case: Case, number: int, expected: Any, outcome: Call, timeout: float) -> CaseReport:
    """Compare one call's outcome with the expected value (the mistakes are named by :func:`verdict`)."""
    parts, names = exercise.returns, exercise.params
    report = CaseReport(number, case, False, [], expected_text(parts, expected), [], "")
    report.expected_value, report.outcome = expected, outcome
    if outcome.timed_out:
        report.got = [f"nothing: it did not return within {timeout:g} s, so the checker stopped waiting"
                      + (" (the call goes on in the background until Python exits)" if outcome.in_process else "")]
        report.short = f"did not return within {timeout:g} s"
        report.notes.append("An endless loop? Look for a while loop whose condition never changes, or a loop "
                            "that grows the list it walks over.")
        return report
    if outcome.ended:
        report.got = [f"nothing: the process running it ended during the call ({outcome.ended})"]
        report.short = "ended the process"
        report.notes.append("os._exit, sys.exit in a thread, a crash inside a C extension, or the memory or CPU "
                            "limit reached?")
        return report
    if outcome.error is not None:
        error = outcome.error
        if error.kind == "NotImplementedError":
            report.got = ["nothing: it raises NotImplementedError, the skeleton's placeholder. "
                          "Replace that line with your code."]
            report.short = "not written yet (NotImplementedError)"
            return report
        report.got = [f"it raised {error.kind}" + (f": {error.message}" if error.message else "")]
        if outcome.where:
            report.got.append(f"at {outcome.where}")
        report.short = f"raised {error.kind}"
    else:
        got = outcome.returned
        wrong, lines = _compare_output(parts, got, expected, case.tol)
        report.passed = not wrong
        report.got = lines if wrong else ["the right result"]
        if got is None:
            report.got[0] += " (is the return statement missing?)"
        if wrong:
            report.short = f"wrong {wrong}"
    for name in outcome.shares:
        report.got.append(f"but it returned memory it shares with its input {name}: whoever writes into the result "
                          f"changes {name}; return a new array ({name}.copy(), or an arithmetic result)")
        report.passed = False
        report.short = (report.short + ", " if report.short else "") + f"shares memory with {name}"
    for name, count in outcome.modified.items():
        size = next(a.size for n, a in zip(names, case.args) if n == name)
        hint = exercise.modified_hints.get(name) or (
            f"the checker passed a copy, but a caller's {name} would be changed: work on a copy "
            f"({name} = {name}.copy()) or build new arrays")
        report.got.append(f"but it modified its input {name} ({count} of {size} entries changed): {hint}")
        report.passed = False
        report.short = (report.short + ", " if report.short else "") + f"modified {name}"
    return report


def _compare_output(parts: tuple, got: Any, expected: Any, tol: float) -> tuple[str, list]:
    """(what is wrong: "" if nothing, else "result", "dw", "dx and db", ...; what came back, in lines)."""
    if len(parts) == 1:
        right, text = compare_part(parts[0], got, expected, tol)
        return ("" if right else "result"), [text]
    wanted = "(" + ", ".join(p.name for p in parts) + ")"
    if not isinstance(got, (tuple, list)):
        return "result", [f"{describe(got)}, not a tuple: return the {len(parts)}-tuple {wanted}"]
    if len(got) != len(parts):
        return "result", [f"{describe(got)}, not the {len(parts)}-tuple {wanted}"]
    results = [compare_part(part, g, e, tol) for part, g, e in zip(parts, got, expected)]
    wrong = [part.name for part, (right, _) in zip(parts, results) if not right]
    if not wrong:
        return "", []
    for order in itertools.permutations(range(len(parts))):
        if order != tuple(range(len(parts))) and all(
                compare_part(parts[i], got[j], expected[i], tol)[0] for i, j in enumerate(order)):
            return "order", [f"the right values in the wrong order: return them as {wanted}"]
    lines = [f"a {type(got).__name__} of {len(got)}:"]
    lines += [f"    {part.name}: {text}" for part, (_, text) in zip(parts, results)]
    return " and ".join(wrong), lines


def _mistake_on(exercise: Any, mistake: Mistake, report: CaseReport) -> tuple[bool, bool]:
    """(does the mistake show on this case, does the attempt match it there)."""
    parts, case = exercise.returns, report.case
    right = report.expected_value
    if mistake.part is not None:
        right = right[[p.name for p in parts].index(mistake.part)]
    try:
        with np.errstate(all="ignore"):
            wrong = mistake.answer(*copy_args(case.args))
    except Exception:  # noqa: BLE001 - the mistake cannot run on this case: it does not show here
        return False, False
    if same(wrong, right, case.tol):
        return False, False
    outcome = report.outcome
    if outcome.timed_out or outcome.ended or outcome.error is not None:
        return True, False
    got = outcome.returned
    if mistake.part is not None:
        if not isinstance(got, (tuple, list)) or len(got) != len(parts):
            return True, False
        got = got[[p.name for p in parts].index(mistake.part)]
    return True, _matches(got, wrong, case.tol)


def name_mistakes(exercise: Any, reports: list) -> None:
    """Name a known mistake on the failed cases only if the attempt matches it on every case where it shows."""
    ran = [r for r in reports if not r.outcome.timed_out and not r.outcome.ended]
    for mistake in exercise.mistakes:
        shows = [(report, matched) for report in ran for applies, matched in [_mistake_on(exercise, mistake, report)]
                 if applies]
        if shows and all(matched for _, matched in shows):
            for report, _ in shows:
                report.mistakes.append(mistake)


def _matches(attempt: Any, wrong: Any, tol: float) -> bool:
    if isinstance(wrong, tuple):
        return (isinstance(attempt, (tuple, list)) and len(attempt) == len(wrong)
                and all(same(a, w, tol) for a, w in zip(attempt, wrong)))
    return same(attempt, wrong, tol)


# ---------------------------------------------------------------- the message

def verdict(exercise: Any, reports: list, total: int) -> tuple[bool, str]:
    """(passed?, message) from the reports of the cases that ran; names the mistakes when some failed."""
    passed = [r for r in reports if r.passed]
    if len(passed) == total:
        labels = "; ".join(r.case.label for r in reports)
        return True, f"{exercise.name}: passed all {total} cases ({labels})."
    name_mistakes(exercise, reports)
    failed = [r for r in reports if not r.passed]
    shown = next((r for r in failed if r.mistakes and _one_per_part(r.mistakes)), None) \
        or next((r for r in failed if r.mistakes), failed[0])
    lines = [f"{exercise.name}: FAILED ({len(passed)} of {total} cases right).",
             f"Case {shown.number} of {total} ({shown.case.label}):",
             f"  tried:    {shown.case.tried(exercise.name, exercise.params)}",
             f"  got:      {shown.got[0]}"]
    lines += [f"            {line}" for line in shown.got[1:]]
    lines.append(f"  expected: {shown.expected}")
    for mistake in _unique(shown.mistakes):
        lines.append(f"  mistake:  {mistake.says}")
        lines.append(f"  fix:      {mistake.fix}")
    lines += [f"  {note}" for note in shown.notes]
    others: dict[str, list[int]] = {}
    for report in failed:
        if report is not shown:
            others.setdefault(report.short, []).append(report.number)
    if others:
        lines.append("Other cases: " + "; ".join(f"{short} on {_and(numbers)}" for short, numbers in others.items())
                     + ".")
    if len(reports) < total:
        skipped = list(range(len(reports) + 1, total + 1))
        lines.append(f"{_and(skipped).capitalize()} {'was' if len(skipped) == 1 else 'were'} not run.")
    return False, "\n".join(lines)


def _and(numbers: list) -> str:
    words = [str(n) for n in numbers]
    return f"case {words[0]}" if len(words) == 1 else f"cases {', '.join(words[:-1])} and {words[-1]}"


def _one_per_part(mistakes: list) -> bool:
    parts = [m.part for m in _unique(mistakes)]
    return len(parts) == len(set(parts))


def _unique(mistakes: list) -> list:
    """Mistakes with the same words (two ways of writing one mistake) are named once."""
    seen, unique = set(), []
    for mistake in mistakes:
        if mistake.says not in seen:
            seen.add(mistake.says)
            unique.append(mistake)
    return unique

