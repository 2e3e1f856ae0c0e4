"""Run one submission in child processes of its own, and hear back plain data only.

:class:`Sandbox` copies the submission into a private temporary folder and starts
``python -I conv1x1/exercises/child.py FD`` there: isolated mode (no current folder, no user
site-packages, no ``PYTHON*`` variables on the path), its own session and process group, and the
:class:`Limits` set with the ``resource`` module before it starts. It reads the child's answers from a
pipe with a deadline for each, keeps only the last few kilobytes of whatever the child prints, and
ends every process the submission started: its process group, and (on Linux, where the grader is a
child subreaper) any process that left the group and was handed to the grader when its parent died.
"""

from __future__ import annotations

import ctypes
import os
import select
import shutil
import signal
import site
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

if sys.platform != "win32":
    import resource

from .child import MAX_FRAME, MalformedFrame, decode, encode

__all__ = ["Limits", "Sandbox", "ChildGone", "ChildSilent", "subreaper", "end_strays", "dumpable", "reaping",
           "code_fingerprint"]

CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "child.py")
TAIL = 4096                   # bytes of the child's output kept
PR_SET_CHILD_SUBREAPER = 36
PR_GET_DUMPABLE, PR_SET_DUMPABLE = 3, 4


@dataclass(frozen=True)
class Limits:
    """Resource limits for each child process (``resource.setrlimit``), adjustable from the command line.

    Attributes
    ----------
    cpu_seconds : int
        CPU time of one child (RLIMIT_CPU); a child past it is killed by the system.
    memory_mb : int
        Address space of one child (RLIMIT_AS), in MiB: an allocation past it raises MemoryError.
    file_size_mb : int
        Largest file a child may write (RLIMIT_FSIZE), in MiB.
    processes : int
        How many more processes the user may start while a child runs (RLIMIT_NPROC is counted over
        all the user's processes, so the limit is today's count, read from /proc, plus this; where
        there is no /proc it is not set, and root is not limited).
    """

    cpu_seconds: int = 60
    memory_mb: int = 2048
    file_size_mb: int = 16
    processes: int = 32


class ChildGone(Exception):
    """The child ended, or sent something that is not a frame, before answering."""


class ChildSilent(Exception):
    """The child did not answer before the deadline."""


def _user_processes() -> int | None:
    """How many processes this user runs now (read from /proc), or None where that cannot be told."""
    if not os.path.isdir("/proc"):
        return None
    uid = os.getuid()
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                count += os.stat(f"/proc/{entry}").st_uid == uid
            except OSError:
                pass
    return count


def _limit(limits: Limits, processes_now: int | None) -> Callable[[], None]:
    """The function run in the child between fork and exec: the resource limits (the number of processes only
    where today's count is known)."""
    wanted_limits = [(resource.RLIMIT_CPU, limits.cpu_seconds), (resource.RLIMIT_AS, limits.memory_mb * 2 ** 20),
                     (resource.RLIMIT_FSIZE, limits.file_size_mb * 2 ** 20), (resource.RLIMIT_CORE, 0)]
    if processes_now is not None:
        wanted_limits.append((resource.RLIMIT_NPROC, processes_now + limits.processes))

    def apply() -> None:   # soft and hard alike, so that the submission cannot raise them again
        for which, wanted in wanted_limits:
            _, hard = resource.getrlimit(which)
            value = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
            resource.setrlimit(which, (value, value))
    return apply


def _prctl(option: int, value: int = 0) -> int:
    """Linux's prctl(option, value), or -1 where there is none."""
    if not sys.platform.startswith("linux"):
        return -1
    try:
        return int(ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0))
    except (OSError, AttributeError):
        return -1


def subreaper(on: bool) -> bool:
    """Make this process a child subreaper (Linux): orphans of its descendants become its children."""
    return _prctl(PR_SET_CHILD_SUBREAPER, int(on)) == 0


def dumpable() -> bool:
    """Whether a process of the same user may read this one's memory, environment and open files in /proc
    (Linux; True elsewhere)."""
    return _prctl(PR_GET_DUMPABLE) != 0


def code_fingerprint() -> dict[str, tuple]:
    """Path -> (inode, size, modification time, change time) of every file the grader and its children run.

    The files of the modules imported now and their compiled caches, the child script, the Python
    executable, and what of site-packages runs in every child: its ``.pth`` files (their names too,
    so that a new one shows) and ``sitecustomize.py``. A change time cannot be set back by the user, so a
    file rewritten and given its old modification time still shows. Other packages installed meanwhile
    do not count.
    """
    paths = {CHILD, os.path.realpath(sys.executable)}
    for module in list(sys.modules.values()):
        paths.update(p for p in (getattr(module, "__file__", None), getattr(module, "__cached__", None))
                     if isinstance(p, str))
    prints: dict[str, tuple] = {}
    for folder in [*site.getsitepackages(), site.getusersitepackages()]:
        names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
        startup = [name for name in names if name.endswith(".pth")]
        prints[os.path.join(folder, "*.pth")] = tuple(startup)
        paths.update(os.path.join(folder, name) for name in [*startup, "sitecustomize.py", "usercustomize.py"])
    for path in paths:
        try:
            stat = os.lstat(path)
            prints[path] = (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
        except OSError:
            prints[path] = ()
    return prints


def _children() -> list[tuple[int, int]]:
    """(pid, process group) of this process's children, read from /proc."""
    me, found = os.getpid(), []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as file:
                fields = file.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:
            found.append((int(entry), int(fields[2])))
    return found


def end_strays(keep: set[int]) -> int:
    """Kill this process's children whose process group is not in ``keep``, until none is left; how many."""
    ended = 0
    for _ in range(50):
        strays = [pid for pid, group in _children() if group not in keep and group != os.getpgrp()]
        if not strays:
            break
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                ended += 1
            except (ProcessLookupError, ChildProcessError):
                pass
    return ended


class _Tail(threading.Thread):
    """Reads a file descriptor until it ends or ``done`` is set, keeping only the last TAIL bytes."""

    def __init__(self, fd: int) -> None:
        super().__init__(daemon=True)
        self.fd, self.data, self.total = fd, b"", 0
        self.done = threading.Event()

    def run(self) -> None:
        while True:
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if not ready:
                if self.done.is_set():
                    return
                continue
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.total += len(chunk)
            self.data = (self.data + chunk)[-TAIL:]
            if self.done.is_set():
                return

    def text(self) -> str:
        lines = self.data.decode("utf-8", "replace").strip().splitlines()
        return lines[-1][:300] if lines else ""


LIVE: set[int] = set()       # the process groups of the children running now, which end_strays leaves alone


class Sandbox:
    """One submission's private folder, and the child that runs it (started again after a crash).

    Use as a context manager; on exit every process the submission started is ended and the folder removed.
    """

    def __init__(self, source: bytes, names: list[str], limits: Limits) -> None:
        self.names, self.limits = names, limits
        self.folder = tempfile.mkdtemp(prefix="conv1x1-grade-")
        with open(os.path.join(self.folder, "submission.py"), "wb") as file:
            file.write(source)
        self.process: subprocess.Popen | None = None
        self._tail: _Tail | None = None
        self._buffer = bytearray()
        self._read = self._write = -1

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    @property
    def running(self) -> bool:
        return self.process is not None

    def start(self, seconds: float) -> None:
        """Start a fresh child and send it the exercises' names."""
        answers, answer_end = os.pipe()
        output, output_end = os.pipe()
        requests_end, requests = os.pipe()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "OPENBLAS_NUM_THREADS": "1",
               "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "HOME": self.folder, "LANG": "C.UTF-8"}
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-B", CHILD, str(answer_end)], cwd=self.folder, env=env, stdin=requests_end,
                stdout=output_end, stderr=output_end, pass_fds=(answer_end,), start_new_session=True,
                preexec_fn=_limit(self.limits, _user_processes()))
        except BaseException:
            for fd in (answers, output, requests):
                os.close(fd)
            raise
        finally:
            for fd in (answer_end, output_end, requests_end):
                os.close(fd)
        LIVE.add(self.process.pid)
        self._read, self._write, self._buffer = answers, requests, bytearray()
        os.set_blocking(requests, False)
        self._tail = _Tail(output)
        self._tail.start()
        self.send({"names": self.names}, seconds)

    def send(self, value: Any, seconds: float) -> None:
        """Write one request; ChildSilent if the child does not take it within ``seconds``."""
        data = encode(value)
        data = struct.pack("<Q", len(data)) + data
        deadline = time.monotonic() + seconds
        while data:
            left = deadline - time.monotonic()
            _, ready, _ = select.select([], [self._write], [], max(left, 0))
            if not ready:
                raise ChildSilent()
            try:
                data = data[os.write(self._write, data):]
            except BlockingIOError:
                continue
            except OSError:
                raise ChildGone("it ended") from None

    def receive(self, seconds: float) -> Any:
        """The next frame from the child; ChildSilent after ``seconds``, ChildGone if it ended or sent junk."""
        deadline = time.monotonic() + seconds
        head = self._bytes(8, deadline)
        (size,) = struct.unpack("<Q", head)
        if size > MAX_FRAME:
            raise ChildGone(f"it sent a frame of {size} bytes, more than the {MAX_FRAME} allowed")
        try:
            return decode(self._bytes(size, deadline))
        except MalformedFrame as error:
            raise ChildGone(f"it sent something that is not an answer ({error})") from None

    def _bytes(self, size: int, deadline: float) -> bytes:
        while len(self._buffer) < size:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ChildSilent()
            ready, _, _ = select.select([self._read], [], [], left)
            if not ready:
                raise ChildSilent()
            chunk = os.read(self._read, min(max(65536, size - len(self._buffer)), 2 ** 24))
            if not chunk:
                raise ChildGone("it ended")
            self._buffer += chunk
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def stop(self, grace: float = 0.0) -> str:
        """End the child, its process group and any process of it handed to this one; how it ended, in words.

        ``grace``: seconds to wait for a child that is ending anyway, to hear its own exit status.
        """
        if self.process is None:
            return ""
        group = self.process.pid
        if grace:
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        ended_itself = self.process.poll() is not None
        _kill_group(group)
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        LIVE.discard(group)
        _end_group(group)
        self._tail.done.set()               # type: ignore[union-attr]
        self._tail.join(timeout=5)          # type: ignore[union-attr]
        for fd in (self._read, self._write, self._tail.fd):    # type: ignore[union-attr]
            os.close(fd)
        last = self._tail.text()            # type: ignore[union-attr]
        self.process = None
        status = ("killed by the grader" if code is None or (code == -signal.SIGKILL and not ended_itself)
                  else f"signal {-code} ({_signal_name(-code)})" if code < 0 else f"exit status {code}")
        return status + (f"; its last output: {last!r}" if last else "")


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return "unknown"


def _end_group(group: int, seconds: float = 2.0) -> None:
    """Kill the group and the strays handed to this process until the group is empty (or ``seconds`` passed)."""
    deadline = time.monotonic() + seconds
    while True:
        _kill_group(group)
        end_strays(LIVE)
        try:
            os.killpg(group, 0)
        except (ProcessLookupError, PermissionError):
            break
        if time.monotonic() > deadline:
            break
        time.sleep(0.01)
    end_strays(LIVE)


def _kill_group(group: int) -> None:
    try:
        os.killpg(group, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@contextmanager
def reaping() -> Iterator[bool]:
    """Be a child subreaper meanwhile (False where that is not possible), and not dumpable: a submission of the
    same user cannot read this process's memory, environment or open files through /proc (root still can).
    End every stray child at the end."""
    on = subreaper(True)
    was_dumpable = dumpable()
    _prctl(PR_SET_DUMPABLE, 0)
    try:
        yield on
    finally:
        end_strays(LIVE)
        if was_dumpable:
            _prctl(PR_SET_DUMPABLE, 1)
        if on:
            subreaper(False)
