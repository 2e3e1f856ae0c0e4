"""Call a learner's function safely: on copies of the inputs, with a time limit, and say what happened.

Whatever the function does (returns, raises, loops for ever, writes into its inputs), ``call`` comes
back with a :class:`Call` that records it, its result turned into plain data (:func:`.child.plain`:
base-class arrays copied, an ndarray subclass refused). The function runs in a daemon thread and ``call`` waits at
most ``timeout`` seconds for it. Python cannot stop a thread from outside, so a function that never
returns is left running in the background until the interpreter exits (a daemon thread does not keep
it alive); the command line's ``grade`` runs each submission in a process of its own for that reason.
Running in a thread rather than a process is what lets lambdas and closures be checked: nothing has to
be pickled. The command line's ``check FILE`` and ``grade`` fill the same :class:`Call` from what a
child process sent back (:mod:`.grading`).
"""

from __future__ import annotations

import inspect
import linecache
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .child import Function, build_function, library_calls, plain, shared

__all__ = ["Call", "Raised", "call", "copy_args", "modified", "signature_problem"]

_HERE = os.path.dirname(os.path.abspath(__file__))
_PACKAGE = os.path.dirname(_HERE)                 # conv1x1/
_NUMPY = os.path.dirname(os.path.abspath(np.__file__))


@dataclass(frozen=True)
class Raised:
    """An exception a learner's function raised: its type's name and the first line of its message."""

    kind: str
    message: str = ""


@dataclass
class Call:
    """What one call of the learner's function did.

    Attributes
    ----------
    returned : object
        The return value as plain data (None if it raised or timed out).
    error : Raised or None
        The exception it raised, if any.
    where : str
        The line of the learner's code the exception came from, e.g.
        ``"line 7 of attempt.py, in conv1x1_forward: out = out + b"``; empty if unknown.
    timed_out : bool
        True if it had not returned after the time limit.
    modified : dict
        Argument name -> how many of its entries the function changed (only arguments it changed).
    shares : tuple of str
        The inputs the result shares memory with.
    ended : str
        How the process running the call ended during it ("exit status 0"), or "" (a child process only).
    library : tuple of str
        The conv1x1 functions the call entered (outside conv1x1.exercises).
    in_process : bool
        True for a call in this process's thread (a timed-out call goes on running).
    """

    returned: Any = None
    error: Raised | None = None
    where: str = ""
    timed_out: bool = False
    modified: dict = field(default_factory=dict)
    shares: tuple = ()
    ended: str = ""
    library: tuple = ()
    in_process: bool = False


def copy_args(args: tuple) -> tuple:
    """Copies of the array arguments and a fresh function for each :class:`.child.Function`; the rest as is."""
    return tuple(arg.copy() if isinstance(arg, np.ndarray) else build_function(arg) if isinstance(arg, Function)
                 else arg for arg in args)


def call(fn: Callable[..., Any], args: tuple, names: tuple, timeout: float, slack: dict | None = None) -> Call:
    """Run ``fn(*copies of args)`` in a thread; wait at most ``timeout`` seconds.

    Parameters
    ----------
    fn : callable
        The learner's function.
    args : tuple
        The arguments; arrays are copied before the call, so ``args`` itself is never touched.
    names : tuple of str
        The parameter names, to say which input was modified.
    timeout : float
        Seconds to wait.
    slack : dict, optional
        Argument name -> the largest change that still counts as unchanged (numerical_gradient's x,
        nudged and put back, may differ from the original by rounding). Others must be bit-identical.
    """
    given = copy_args(args)
    box: dict = {}

    profile, library = library_calls()

    def target() -> None:
        sys.setprofile(profile)                      # this thread only: which conv1x1 functions the call enters
        try:
            with np.errstate(all="ignore"):          # NaN and overflow are judged from the result
                box["returned"] = fn(*given)
        except BaseException as error:              # noqa: BLE001 - SystemExit and all: report, never die
            box["error"] = error
        finally:
            sys.setprofile(None)

    thread = threading.Thread(target=target, name=f"exercise attempt {getattr(fn, '__name__', fn)!r}",
                              daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        return Call(timed_out=True, in_process=True)
    error = box.pop("error", None)
    returned = box.pop("returned", None)
    parts = returned if type(returned) in (tuple, list) else (returned,)
    shares = tuple(names[i] for i in shared(parts, given))
    raised = Raised(type(error).__name__, _first_line(error)) if error is not None else None
    return Call(returned=plain(returned), error=raised, where=_learner_line(fn, error) if error else "",
                modified=modified(args, given, names, slack or {}), shares=shares, library=tuple(sorted(library)),
                in_process=True)


def _first_line(error: BaseException) -> str:
    try:
        text = str(error).strip()
    except Exception:  # noqa: BLE001 - an exception whose message cannot be made: say so
        return "(its message could not be shown)"
    return text.splitlines()[0] if text else ""


def modified(before: tuple, after: tuple, names: tuple, slack: dict) -> dict:
    """Name -> number of changed entries, for every array argument the call changed."""
    changed = {}
    for name, old, new in zip(names, before, after):
        if not isinstance(old, np.ndarray):
            continue
        if not isinstance(new, np.ndarray) or new.shape != old.shape:   # resized in place, or rebound
            changed[name] = old.size
            continue
        limit = slack.get(name, 0.0)
        with np.errstate(all="ignore"):
            differ = ~((np.abs(new - old) <= limit) | (np.isnan(new) & np.isnan(old)))
        if differ.any():
            changed[name] = int(differ.sum())
    return changed


def _learner_line(fn: Callable[..., Any], error: BaseException) -> str:
    """``"line N of FILE, in NAME: source"`` for the frame of the learner's code that raised."""
    frames = inspect.getinnerframes(error.__traceback__, context=0) if error.__traceback__ else []
    frames = [frame for frame in frames if os.path.abspath(frame.filename) != os.path.join(_HERE, "run.py")]
    own_file = getattr(getattr(fn, "__code__", None), "co_filename", None)
    theirs = [frame for frame in frames if frame.filename == own_file] if own_file else []
    if not theirs:   # a partial, a callable object, a builtin: the deepest frame outside NumPy and conv1x1
        theirs = [frame for frame in frames
                  if not os.path.abspath(frame.filename).startswith((_NUMPY, _PACKAGE + os.sep))]
    if not theirs:
        return ""
    frame = theirs[-1]
    text = f"line {frame.lineno} of {os.path.basename(frame.filename)}, in {frame.function}"
    source = linecache.getline(frame.filename, frame.lineno).strip()
    return f"{text}: {source}" if source else text


def signature_problem(fn: Callable[..., Any], names: tuple) -> str:
    """Why ``fn`` cannot be called with the exercise's arguments, or "" if it can (or cannot be told)."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):   # some builtins have no signature to read
        return ""
    try:
        signature.bind(*names)
    except TypeError:
        return (f"your function's parameters are {signature}, but the exercise calls it with "
                f"{len(names)} arguments ({', '.join(names)})")
    return ""
