"""Exercises: write the 1x1 convolution's pieces yourself, and be told what is wrong with them.

>>> from conv1x1 import exercises
>>> exercises.names()[:3]
['conv1x1_forward', 'conv1x1_backward', 'relu_backward']
>>> def my_relu_backward(dout, x):
...     return dout * (x > 0)
>>> print(exercises.check("relu_backward", my_relu_backward))  # doctest: +ELLIPSIS
relu_backward: passed all 4 cases (...).
>>> result = exercises.check("relu_backward", lambda dout, x: dout * (x >= 0))
>>> result.passed
False
>>> print(result)  # doctest: +ELLIPSIS
relu_backward: FAILED (0 of 4 cases right).
Case 1 of 4 (a batch of images with some exact zeros):
  tried:    relu_backward(dout, x) with dout (2, 3, 4, 5) float64, x (2, 3, 4, 5) float64
  got:      an array (2, 3, 4, 5) float64, wrong at 26 of 120 entries; the largest error is at dx[1, 1, 2, 2]: ...
  expected: an array the shape of x = (2, 3, 4, 5) float64
  mistake:  at x == 0 your gradient lets dout through (a gradient of 1 there); the convention is 0 at x == 0.
  fix:      use x > 0, not x >= 0.
Other cases: wrong result on cases 2, 3 and 4.

``check`` runs the function on several cases, each call in a thread that it waits on for at most
``timeout`` seconds (a function that never returns is left running in the background until Python
exits: a thread cannot be stopped from outside), and only then computes the library's answers and
compares. It runs your function in your own process, which is what lets it check lambdas and closures:
it is a tool for learning, and code that sets out to fool it can. The command line (``python -m conv1x1
exercises``) writes skeleton files, checks a file, and grades a folder of submissions, each in child
processes of its own whose verdict the submission cannot reach (see the Practise chapter's threat model).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .judge import judge as judge_case
from .judge import verdict
from .run import call, copy_args, signature_problem
from .tasks import EXERCISES, Exercise

__all__ = ["names", "show", "check", "skeleton", "exercise", "Result", "Task"]


class _Sealed(type):
    """A class whose attributes cannot be replaced (``Result.passed = property(...)`` raises)."""

    def __setattr__(cls, name: str, value: Any) -> None:
        raise AttributeError(f"{cls.__name__} is read-only: {name} cannot be replaced")

    def __delattr__(cls, name: str) -> None:
        raise AttributeError(f"{cls.__name__} is read-only: {name} cannot be deleted")


class Result(metaclass=_Sealed):
    """The outcome of ``check``: ``passed`` and the ``message`` that explains it (also ``str(result)``).

    Read-only, and so is the class: neither a result nor the class's attributes can be replaced.
    """

    __slots__ = ("name", "passed", "message")
    name: str
    passed: bool
    message: str

    def __init__(self, name: str, passed: bool, message: str) -> None:
        for field, value in (("name", name), ("passed", bool(passed)), ("message", message)):
            object.__setattr__(self, field, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a Result is read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("a Result is read-only")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Result) and (self.name, self.passed, self.message) == (
            other.name, other.passed, other.message)

    def __hash__(self) -> int:
        return hash((self.name, self.passed, self.message))

    def __repr__(self) -> str:
        return f"Result(name={self.name!r}, passed={self.passed!r}, message={self.message!r})"

    def __str__(self) -> str:
        return self.message

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:   # IPython and Jupyter show the message
        printer.text(self.message)


@dataclass(frozen=True)
class Task:
    """What an exercise asks for: its name, parameters, summary, task text and hints (never the answer)."""

    name: str
    params: tuple
    summary: str
    task: str
    hints: tuple

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(self.params)})"


def names() -> list:
    """The exercises, in teaching order."""
    return list(EXERCISES)


def _exercise(name: Any) -> Exercise:
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, one of: {', '.join(EXERCISES)}; got {type(name).__name__}")
    if name not in EXERCISES:
        raise ValueError(f"unknown exercise {name!r}; the exercises are: {', '.join(EXERCISES)}")
    return EXERCISES[name]


def exercise(name: str) -> Task:
    """The :class:`Task` called ``name``; a ValueError listing the names otherwise.

    Examples
    --------
    >>> from conv1x1 import exercises
    >>> exercises.exercise("relu_backward").params
    ('dout', 'x')
    """
    task = _exercise(name)
    return Task(task.name, task.params, task.summary, task.task, task.hints)


def show(name: str) -> str:
    """The task as text: what to write, the exact signature, the shapes, and a hint or two.

    Examples
    --------
    >>> from conv1x1 import exercises
    >>> print(exercises.show("conv_params"))  # doctest: +ELLIPSIS
    Exercise 4 of 9: conv_params
    <BLANKLINE>
        def conv_params(in_channels, out_channels, kernel_size, bias):
    ...
    """
    task = _exercise(name)
    number = names().index(name) + 1
    hints = "\n".join(f"  - {hint}" for hint in task.hints)
    return (f"Exercise {number} of {len(EXERCISES)}: {name}\n\n    def {task.signature}:\n\n{task.task}\n\n"
            f"Hints\n{hints}\n\n"
            f'Check it in Python:   exercises.check("{name}", {name})\n'
            f"or from a terminal:   python -m conv1x1 exercises start {name}    (writes {name}.py)\n"
            f"                      python -m conv1x1 exercises check {name}.py")


def skeleton(name: str) -> str:
    """The text of a file to start from: the signature, the task as docstring, ``raise NotImplementedError``."""
    task = _exercise(name)
    doc = "\n".join(("    " + line).rstrip() for line in task.task.splitlines())
    return (f'"""Exercise {names().index(name) + 1} of {len(EXERCISES)}: {name}, {task.summary}.\n\n'
            f"Check it with:  python -m conv1x1 exercises check {name}.py\n"
            f'or in Python:   from conv1x1 import exercises; exercises.check("{name}", {name})\n"""\n\n'
            f"import numpy as np\n\n\n"
            f"def {task.signature}:\n    \"\"\"{doc.lstrip()}\n    \"\"\"\n"
            f"    raise NotImplementedError(\"write {name} here\")\n")


def check(name: str, fn: Callable[..., Any], timeout: float = 10) -> Result:
    """Run ``fn`` on the exercise's cases, compare with the library, and say what is wrong, if anything.

    Parameters
    ----------
    name : str
        One of ``names()``.
    fn : callable
        Your function, with the exercise's signature (a def, a lambda or a closure).
    timeout : float, default 10
        Seconds to wait for each call; a call still running after that fails the check with
        "did not return within N s" and the remaining cases are not run.

    Every call runs first; the library's answers are computed after the last one returned. A result
    must be plain data: an ``np.ndarray`` (a subclass is refused), a number, or a tuple of them.

    Returns
    -------
    Result
        ``passed`` (bool) and ``message``: what was tried, what came back, what was expected, and the
        mistake by name with how to fix it when the result matches a known one.

    Raises
    ------
    ValueError
        If ``name`` is not an exercise (the message lists them) or ``timeout`` is not positive.
    TypeError
        If ``fn`` is not callable.

    Examples
    --------
    >>> import numpy as np
    >>> from conv1x1 import exercises
    >>> def conv1x1_forward(x, w, b):
    ...     return np.einsum("oc,nchw->nohw", w, x) + b[:, None, None]
    >>> exercises.check("conv1x1_forward", conv1x1_forward).passed
    True
    """
    task = _exercise(name)
    if not callable(fn):
        raise TypeError(f"fn must be your function (a callable), e.g. check({name!r}, my_{name}); "
                        f"got {type(fn).__name__}")
    given: object = timeout    # what a caller passed, whatever the annotation says
    if isinstance(given, bool) or not isinstance(given, (int, float)) or not 0 < given < math.inf:
        raise ValueError(f"timeout must be a positive number of seconds, e.g. 10; got {timeout!r}")
    problem = signature_problem(fn, task.params)
    if problem:
        return Result(name, False, f"{name}: FAILED before any case ran: {problem}. Write it as: def {task.signature}:")
    cases = task.cases()
    outcomes = []
    for case in cases:
        outcomes.append(call(fn, case.args, task.params, timeout, case.slack))
        if outcomes[-1].timed_out:
            break
    return judged(task, cases, outcomes, timeout)


def judged(task: Exercise, cases: list, outcomes: list, timeout: float) -> Result:
    """The Result for the outcomes of the first cases; the expected values are computed here, after the calls."""
    reports = [judge_case(task, case, number, task.answer(*copy_args(case.args)), outcome, timeout)
               for number, (case, outcome) in enumerate(zip(cases, outcomes), 1)]
    passed, message = verdict(task, reports, len(cases))
    library = sorted({name for outcome in outcomes for name in outcome.library})
    if passed and library:
        message += "\nNote: it calls conv1x1's own code: " + ", ".join(library)
    return Result(task.name, passed, message)
