"""Save a model's state to an ``.npz`` file and load it back, safely.

A checkpoint holds every parameter (``model.params``, dotted names such as ``"0.w"``), every
buffer (``model.buffers`` if the model has it: state that is not trained by gradients, such as
batch normalisation's running statistics), optionally an optimizer's state, and a format version::

    "format_version"               -> 1
    "with_optimizer"               -> whether an optimizer's state was saved
    "params/<name>"                -> each parameter array
    "buffers/<name>"               -> each buffer array
    "optimizer/<name>"             -> each array of optimizer.state_dict() (SGD: momentum buffers)

Three promises:

- ``save`` writes a temporary file in the target's directory (``<name>.<random>.partial``, never a
  hidden one), flushes it to disk and only then renames it over the target (``os.replace`` is
  atomic). An error, or a SIGTERM, mid-way leaves the old checkpoint exactly as it was and removes
  the temporary file.
- ``load`` reads and checks *everything* (names, shapes, dtypes) before it writes anything. On
  the first mismatch it raises an error naming it, and the model (and optimizer) are unchanged.
- ``load`` treats the file as untrusted: it reads each entry's ``.npy`` header and checks its shape
  and dtype against the model *before* reading its data, reads no more bytes than that shape needs,
  refuses what a checkpoint never holds (pickled objects, encryption, other compressions, entries
  whose declared size is not what their shape needs, as a zip bomb's are), and wraps every failure
  of a damaged file in one ValueError naming the file and the entry.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.lib import format as npy

if TYPE_CHECKING:
    from ..layers import Layer

__all__ = ["save", "load", "FORMAT_VERSION"]

FORMAT_VERSION = 1


class Stateful(Protocol):
    """What a checkpoint needs of an optimizer (``SGD``, ``Adam``): its state as named arrays, and the way back."""

    def state_dict(self) -> Mapping[str, np.ndarray]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


def _buffers(model: Any) -> dict[str, np.ndarray]:
    """The model's non-trainable state as a dict of live arrays ({} if it has none)."""
    buffers = getattr(model, "buffers", {})
    live: Any = buffers() if callable(buffers) else buffers     # a property's dict, or a method's
    return dict(live)


def _state(model: Any, optimizer: Stateful | None = None) -> dict[str, np.ndarray]:
    """Every array of a checkpoint, under its key in the file."""
    state = {f"params/{name}": array for name, array in model.params.items()}
    state.update({f"buffers/{name}": array for name, array in _buffers(model).items()})
    if optimizer is not None:
        state.update({f"optimizer/{name}": array for name, array in optimizer.state_dict().items()})
    return state


def save(model: Layer, path: str | os.PathLike[str], optimizer: Stateful | None = None) -> None:
    """Write the model's parameters and buffers (and the optimizer's state) to ``path``, atomically.

    Parameters
    ----------
    model : Layer
        Anything with a ``params`` dict of arrays (and optionally ``buffers``).
    path : str or os.PathLike
        The file to write, used exactly as given (no ".npz" is appended). Its directory must exist.
    optimizer : object with ``state_dict()``, optional
        E.g. ``SGD``: its momentum buffers are saved too, so training resumes exactly.

    Raises
    ------
    OSError
        If the file cannot be written (missing directory, no permission, disk full, path is a
        directory), with the path in the message. Any existing file at ``path`` is untouched.

    Examples
    --------
    >>> import os, tempfile, numpy as np, conv1x1 as C
    >>> from conv1x1.training.checkpoint import save, load
    >>> model = C.Conv1x1(3, 2, rng=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
    >>> save(model, path)
    >>> other = C.Conv1x1(3, 2, rng=1)
    >>> load(other, path)
    >>> bool(np.array_equal(other.params["w"], model.params["w"]))
    True
    """
    path = os.fspath(path)
    arrays: dict[str, Any] = {"format_version": np.array(FORMAT_VERSION),
                              "with_optimizer": np.array(optimizer is not None)}
    arrays.update({key: np.asarray(value) for key, value in _state(model, optimizer).items()})
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot save the checkpoint to {path!r}: it is a directory; give a file name")
    try:
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=os.path.basename(path) + ".", suffix=".partial")
    except OSError as error:
        raise type(error)(f"cannot save the checkpoint to {path!r}: cannot write in {directory!r} "
                          f"({error.strerror or error}). Check that the directory exists and is writable.") from error
    try:
        with _removed_on_sigterm(temporary), os.fdopen(handle, "wb") as file:
            # mkstemp makes the file private (0600): give it the old file's mode, or rw-r--r--
            os.chmod(temporary, os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o644)
            np.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())     # on disk before the rename, so the new name never points at half a file
            os.replace(temporary, path)     # atomic: readers see the old file or the new one, never a mix
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


@contextmanager
def _removed_on_sigterm(temporary: str) -> Iterator[None]:
    """Meanwhile, a SIGTERM that would end the process removes ``temporary`` first (main thread only)."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield           # a handler of the program's own, or SIG_IGN: the process goes on, and so does save
        return

    def remove_then_end(signum: int, frame: Any) -> None:
        if os.path.exists(temporary):
            os.remove(temporary)
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)

    signal.signal(signal.SIGTERM, remove_then_end)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


_SCALARS = {"format_version": "iu", "with_optimizer": "b"}
_MAX_ENTRIES = 100_000
_MAX_HEADER = 65_536       # bytes: a .npy header is a short dict of text

Expect = Callable[[str, tuple, np.dtype, dict], None]


class _Damaged(Exception):
    """An entry of the file is not what a checkpoint holds (wrapped into one ValueError by ``_read``)."""


class _Mismatch(Exception):
    """An entry the model cannot take, said in words (raised as a ValueError by ``_read``)."""


def _read(path: str, expect: Expect) -> dict:
    """Every array in the file, each header checked with ``expect`` before its data is read.

    ``expect(name, shape, dtype, read_so_far)`` raises _Mismatch for an entry the model cannot take. The
    format version and the optimizer flag are read first.
    """
    entry = None
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > _MAX_ENTRIES:
                raise _Damaged(f"{len(members)} entries")
            members.sort(key=lambda info: info.filename.removesuffix(".npy") not in _SCALARS)
            arrays: dict = {}
            for info in members:
                entry = info.filename
                arrays[entry.removesuffix(".npy")] = _entry(archive, info, expect, arrays)
            return arrays
    except FileNotFoundError:
        raise FileNotFoundError(f"no checkpoint at {path!r}") from None
    except _Mismatch as error:
        raise ValueError(str(error)) from None
    except (_Damaged, zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, KeyError, RuntimeError,
            NotImplementedError, TypeError, AttributeError, ValueError, MemoryError) as error:
        raise ValueError(_unreadable(path, entry, error)) from None


def _unreadable(path: str, entry: str | None, error: BaseException) -> str:
    where = f" entry {entry!r}:" if entry else ""
    return f"{path!r} is not a readable checkpoint (truncated or corrupted?):{where} {type(error).__name__}: {error}"


def _entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, expect: Expect, so_far: dict) -> np.ndarray:
    """One .npy member: the zip's own fields, then the header against ``expect``, then exactly its data."""
    if not info.filename.endswith(".npy"):
        raise _Damaged("not a .npy entry")
    if info.flag_bits & 0x1:
        raise _Damaged("the entry is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise _Damaged(f"compression method {info.compress_type} (a checkpoint is stored or deflated)")
    with archive.open(info) as stream:
        counted = _Counting(stream, limit=_MAX_HEADER)
        version = npy.read_magic(counted)
        if version not in ((1, 0), (2, 0)):
            raise _Damaged(f".npy format version {version}")
        reader = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
        shape, fortran, dtype = reader(counted)
        counted.limit = None
        if dtype.hasobject:
            raise _Damaged("an array of Python objects (pickled), which a checkpoint never holds")
        expect(info.filename.removesuffix(".npy"), tuple(shape), dtype, so_far)
        size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if info.file_size != counted.count + size:
            raise _Damaged(f"the zip says {info.file_size} bytes where the header and a {shape} {dtype} array "
                           f"take {counted.count + size}")
        data = stream.read(size)
        if len(data) != size or stream.read(1):
            raise _Damaged("the data does not fill the shape")
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C").copy()


class _Counting:
    """A stream that counts the bytes read through it (the length of a .npy header), at most ``limit``."""

    def __init__(self, stream: IO[bytes], limit: int | None) -> None:
        self.stream, self.count, self.limit = stream, 0, limit

    def read(self, size: int = -1) -> bytes:
        if self.limit is not None and (size < 0 or self.count + size > self.limit):
            raise _Damaged(f"a .npy header longer than {self.limit} bytes")
        data = self.stream.read(size)
        self.count += len(data)
        return data


def _expectation(model: Any, path: str) -> Expect:
    """The check of each entry's header: a model's parameter or buffer of that exact shape and dtype, an
    optimizer's array of a parameter's shape and dtype, or a scalar format version and optimizer flag."""
    sections = {"params": (dict(model.params), "model's parameters"),
                "buffers": (_buffers(model), "model's buffers")}
    kinds = {(p.shape, p.dtype) for p in model.params.values()}

    def expect(name: str, shape: tuple, dtype: np.dtype, so_far: dict) -> None:
        if name in _SCALARS:
            if shape != () or dtype.kind not in _SCALARS[name]:
                raise _Mismatch(f"{path!r} holds {name} as {dtype} {shape}; a checkpoint's is a scalar")
            return
        _check_version(so_far.get("format_version"), path)
        section, _, key = name.partition("/")
        if section in sections:
            arrays, what = sections[section]
            if key not in arrays:
                raise _Mismatch(f"checkpoint {path!r} does not match the {what}: the file has {key!r}, which "
                                f"the {what} does not (was it saved from a different architecture?)")
            target = arrays[key]
            if shape != target.shape or dtype != target.dtype:
                raise _Mismatch(f"checkpoint {path!r} does not match the {what}: {key!r} is {dtype} {shape} in the "
                                f"file but {target.dtype} {target.shape} in the {what}")
        elif section == "optimizer":
            if (shape, dtype) not in kinds:
                raise _Mismatch(f"checkpoint {path!r}: the optimizer's {key!r} is {dtype} {shape}, the shape and "
                                "dtype of none of the model's parameters")
        else:
            raise _Mismatch(f"{path!r} holds an unexpected entry {name!r} (expected params/, buffers/, optimizer/)")
    return expect


def _check_version(version: np.ndarray | None, path: str) -> None:
    if version is None or version.shape != () or int(version) != FORMAT_VERSION:
        raise _Mismatch(f"{path!r} is not a conv1x1 checkpoint of format version {FORMAT_VERSION} "
                        f"(format_version in the file: {None if version is None else version.tolist()})")


def _check_match(saved: dict, expected: dict, what: str, path: str | os.PathLike[str]) -> None:
    """Raise ValueError naming the first difference between saved and expected arrays."""
    for name, target in expected.items():
        if name not in saved:
            raise ValueError(f"checkpoint {path!r} does not match the {what}: {name!r} is missing from the file "
                             f"(was it saved from a different architecture?)")
        value = saved[name]
        if value.shape != target.shape or value.dtype != target.dtype:
            raise ValueError(f"checkpoint {path!r} does not match the {what}: {name!r} is {value.dtype} "
                             f"{value.shape} in the file but {target.dtype} {target.shape} in the {what}")
    for name in saved:
        if name not in expected:
            raise ValueError(f"checkpoint {path!r} does not match the {what}: the file has {name!r}, "
                             f"which the {what} does not (was it saved from a different architecture?)")


def load(model: Layer, path: str | os.PathLike[str], optimizer: Stateful | None = None) -> None:
    """Copy a checkpoint's arrays into the model's parameters and buffers (and the optimizer).

    Parameters
    ----------
    model : Layer
        Built with the same architecture as the saved one; its arrays are overwritten in place,
        so references held elsewhere (an optimizer's) stay valid.
    path : str or os.PathLike
    optimizer : object with ``state_dict()`` / ``load_state_dict()``, optional
        Restored from the checkpoint's optimizer state (which must then be in the file).

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is not a readable ``.npz`` (truncated, corrupted, an entry that is not a
        plain ``.npy`` array, a declared size that is not what its shape needs), has another
        format version, or its names, shapes or dtypes differ from the model's; the message
        names the file, the entry and the first mismatch. Each entry's shape is checked from
        its header before its data is read. Nothing is changed in that case.
    """
    path = os.fspath(path)
    saved = _read(path, _expectation(model, path))
    version = saved.pop("format_version", None)
    try:
        _check_version(version, path)
    except _Mismatch as error:
        raise ValueError(str(error)) from None
    with_optimizer = bool(saved.pop("with_optimizer", False))
    if optimizer is not None and not with_optimizer:
        raise ValueError(f"{path!r} holds no optimizer state (it was saved without optimizer=); "
                         "load it without the optimizer, or save with save(model, path, optimizer)")
    sections = {"params": dict(model.params), "buffers": _buffers(model)}
    found: dict = {section: {} for section in ("params", "buffers", "optimizer")}
    for key, value in saved.items():
        section, _, name = key.partition("/")
        found[section][name] = value
    _check_match(found["params"], sections["params"], "model's parameters", path)
    _check_match(found["buffers"], sections["buffers"], "model's buffers", path)
    if optimizer is not None:
        try:
            optimizer.load_state_dict(found["optimizer"])        # checks everything before writing
        except ValueError as error:
            raise ValueError(f"checkpoint {path!r} does not match the optimizer: {error}") from None
    # Everything matched: now write, in place.
    for section in ("params", "buffers"):
        for name, target in sections[section].items():
            target[...] = found[section][name]
