"""The child process that runs a submission, and the plain data it may send back.

``grade`` and ``check FILE`` never run a learner's code in their own process. They start this file as
a script, ``python -I child.py FD``, from a private folder holding a copy of the submission
(``submission.py``). The child imports the submission, then answers requests read from its stdin:
for each case of an exercise it calls the learner's function and writes back, on the pipe ``FD``,
what the function returned, what it raised, its inputs after the call and which of them the result
shares memory with. It sends values, never a verdict: the parent computes the expected values and
compares.

What crosses the pipe is plain data only, in a small length-prefixed format (no pickle): ``None``,
bools, ints, floats, tuples and lists of them, and base-class ``np.ndarray`` of a numeric dtype
(bool, int, uint, float) as a JSON header and raw bytes. Anything else (a dict, a string, an
ndarray subclass, an object array) is sent as its description only. The same rules turn a result
into plain data in the notebook's in-process ``check`` (:func:`plain`).

This file imports nothing from conv1x1: it is loaded by the parent as a module for the format, and
run by the child as a script.
"""

from __future__ import annotations

import json
import os
import re
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import NDArray

__all__ = ["Opaque", "Function", "plain", "encode", "decode", "write_frame", "read_frame", "build_function",
           "library_calls", "shared", "MalformedFrame", "MAX_FRAME", "MAX_HEADER",
           "MAX_ARRAY"]

MAX_FRAME = 64 * 2 ** 20        # bytes: a larger frame is refused
MAX_HEADER = 2 ** 20            # bytes of a frame's JSON header: a larger one is refused before it is parsed
MAX_ARRAY = 16 * 2 ** 20        # bytes: a larger returned array is described, not sent
MAX_ITEMS = 16                  # a longer tuple or list is described, not sent
MAX_DEPTH = 3                   # nesting of tuples and lists
_DTYPE = re.compile(r"[<>|=]?[biuf][1248]")


class MalformedFrame(ValueError):
    """What came over the pipe is not a frame this format describes."""


@dataclass(frozen=True)
class Opaque:
    """A returned value that is not plain data, kept as its description ("a dict", "an array of dtype object").

    ``sequence`` is True for a tuple or list too long to send (the message then suggests np.array).
    """

    text: str
    sequence: bool = False


@dataclass(frozen=True)
class Function:
    """A function argument of a case (numerical_gradient's ``f``): a name in :data:`FUNCTIONS` and its arrays.

    Calling it builds the function and calls it; :func:`build_function` builds one to hand to a learner.
    """

    name: str
    arrays: tuple = ()

    def __call__(self, v: NDArray) -> NDArray:
        return build_function(self)(v)


# ---------------------------------------------------------------- the functions a case may pass as f

def _sin_times(v: NDArray) -> NDArray:
    return np.sin(v) * v


def _cube(v: NDArray) -> NDArray:
    return v ** 3


def _conv_tanh(w: NDArray) -> Callable[[NDArray], NDArray]:
    return lambda v: np.tanh(np.einsum("oc,nchw->nohw", w, v))


def _matmul_square(a: NDArray) -> Callable[[NDArray], NDArray]:
    return lambda v: (v @ a) ** 2


def _square_into_one_buffer(shape: NDArray) -> Callable[[NDArray], NDArray]:
    """v ** 2 written into the same buffer at every call, as a layer that reuses its output does."""
    buffer = np.empty(tuple(int(n) for n in shape))

    def f(v: NDArray) -> NDArray:
        np.multiply(v, v, out=buffer)
        return buffer
    return f


FUNCTIONS: dict[str, Callable[..., Callable[[NDArray], NDArray]]] = {
    "sin_times": lambda: _sin_times,
    "cube": lambda: _cube,
    "conv_tanh": _conv_tanh,
    "matmul_square": _matmul_square,
    "square_into_one_buffer": _square_into_one_buffer,
}


def build_function(spec: Function) -> Callable[[NDArray], NDArray]:
    """A fresh function for ``spec`` (a fresh buffer for one that reuses its output)."""
    return FUNCTIONS[spec.name](*spec.arrays)


# ---------------------------------------------------------------- plain data

_INTEGERS = (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64)
_NUMBERS: dict[type, type] = {bool: bool, int: int, float: float, np.bool_: bool, np.float16: float,
                              np.float32: float, np.float64: float, **dict.fromkeys(_INTEGERS, int)}


def plain(value: Any, depth: int = 0) -> Any:
    """``value`` as plain data: copies of base-class numeric arrays, Python numbers, tuples, lists, or an Opaque.

    An ndarray subclass is refused (its methods could say anything about it); only ``type(value) is
    np.ndarray`` is copied, with ``np.array(value, copy=True, subok=False)``.
    """
    kind = type(value)
    if value is None:
        return None
    if kind in _NUMBERS:
        number = _NUMBERS[kind](value)
        return number if type(number) is not int or abs(number) < 10 ** 30 else Opaque("a very large int")
    if isinstance(value, np.ndarray):
        return _plain_array(value)
    if kind in (tuple, list):
        if len(value) > MAX_ITEMS or depth >= MAX_DEPTH:
            return Opaque(f"a {kind.__name__} of {len(value)}", sequence=True)
        return kind(plain(item, depth + 1) for item in value)
    return Opaque(f"a {kind.__name__}")


def _plain_array(value: NDArray) -> Any:
    if type(value) is not np.ndarray:
        return Opaque(f"an ndarray subclass ({type(value).__name__}), which the checker does not accept: "
                      "return a plain array, np.asarray(result)")
    if value.dtype.kind not in "biuf" or value.dtype.fields is not None:
        return Opaque(f"an array {tuple(value.shape)} of dtype {value.dtype}")
    if value.nbytes > MAX_ARRAY:
        return Opaque(f"an array {tuple(value.shape)} {value.dtype}, too large to compare")
    return np.array(value, copy=True, subok=False)


def _encode_array(item: NDArray, blobs: list[bytes]) -> dict:
    blobs.append(item.tobytes(order="C"))          # a 0-d array keeps its shape () (ascontiguousarray would not)
    return {"array": len(blobs) - 1, "dtype": item.dtype.str, "shape": list(item.shape)}


_ENCODERS: tuple = (
    (bool, lambda item, blobs: {"bool": item}),
    (int, lambda item, blobs: {"int": str(item)}),
    (float, lambda item, blobs: {"float": repr(item)}),
    (str, lambda item, blobs: {"str": item}),
    (np.ndarray, _encode_array),
    ((tuple, list), lambda item, blobs: {type(item).__name__: [_node(i, blobs) for i in item]}),
    (dict, lambda item, blobs: {"dict": {str(k): _node(v, blobs) for k, v in item.items()}}),
    (Opaque, lambda item, blobs: {"opaque": item.text, "sequence": item.sequence}),
    (Function, lambda item, blobs: {"function": item.name, "arrays": [_node(a, blobs) for a in item.arrays]}),
)


def _node(item: Any, blobs: list[bytes]) -> Any:
    if item is None:
        return {"none": True}
    for kind, make in _ENCODERS:
        if isinstance(item, kind):
            return make(item, blobs)
    raise TypeError(f"not plain data: {type(item).__name__}")


def encode(value: Any) -> bytes:
    """Plain data (see :func:`plain`), or a request (a dict of it), as one frame's payload: a JSON header, then
    the arrays' bytes."""
    blobs: list[bytes] = []
    header = json.dumps(_node(value, blobs)).encode("utf-8")
    sizes = [len(blob) for blob in blobs]
    return struct.pack("<II", len(header), len(sizes)) + struct.pack(f"<{len(sizes)}Q", *sizes) + header \
        + b"".join(blobs)


def _spans(payload: bytes) -> tuple[Any, list[tuple[int, int]]]:
    """The JSON header and the (start, end) of each array's bytes; MalformedFrame if they do not fit."""
    if len(payload) < 8:
        raise MalformedFrame(f"a frame of {len(payload)} bytes, too short for a header")
    header_size, count = struct.unpack_from("<II", payload, 0)
    if header_size > MAX_HEADER or 8 + 8 * count + header_size > len(payload):
        raise MalformedFrame(f"a header of {header_size} bytes and {count} arrays in a frame of {len(payload)} "
                             f"bytes (a header of at most {MAX_HEADER} bytes, within the frame)")
    try:
        sizes = struct.unpack_from(f"<{count}Q", payload, 8)
        start = 8 + 8 * count
        header = json.loads(payload[start:start + header_size].decode("utf-8"))
    except (struct.error, ValueError, UnicodeDecodeError, RecursionError) as error:
        raise MalformedFrame(f"unreadable header: {error}") from None
    spans, position = [], start + header_size
    for size in sizes:
        spans.append((position, position + size))
        position += size
    if position != len(payload):
        raise MalformedFrame("the sizes in the header do not add up to the frame")
    return header, spans


_DECODERS: dict[str, tuple[type, Callable[..., Any]]] = {
    "none": (bool, lambda item, node, read: None),
    "bool": (bool, lambda item, node, read: item),
    "int": (str, lambda item, node, read: int(item) if re.fullmatch(r"-?\d{1,40}", item) else read(None)),
    "float": (str, lambda item, node, read: float(item[:40])),
    "str": (str, lambda item, node, read: item),
    "tuple": (list, lambda item, node, read: tuple(read(i) for i in item)),
    "list": (list, lambda item, node, read: [read(i) for i in item]),
    "dict": (dict, lambda item, node, read: {k: read(v) for k, v in item.items()}),
    "opaque": (str, lambda item, node, read: Opaque(item[:300], bool(node.get("sequence")))),
    "function": (str, lambda item, node, read: Function(item, tuple(read(a) for a in node.get("arrays", [])))
                 if item in FUNCTIONS else read(None)),
}


def decode(payload: bytes) -> Any:
    """The plain data in one frame's payload; MalformedFrame if it is not one (never more than it holds)."""
    header, spans = _spans(payload)

    def read(node: Any, depth: int = 0) -> Any:
        if not isinstance(node, dict) or not 1 <= len(node) <= 3 or depth > 8:
            raise MalformedFrame("not a value")
        key = next(iter(node))
        if key == "array" and type(node[key]) is int and 0 <= node[key] < len(spans):
            return _array(payload, spans[node[key]], node)
        kind, make = _DECODERS.get(key, (type(None), None))
        if make is None or not isinstance(node[key], kind):
            raise MalformedFrame(f"not a value: {key!r}")
        return make(node[key], node, lambda child: read(child, depth + 1))

    try:
        return read(header)
    except MalformedFrame:
        raise
    except (TypeError, ValueError, OverflowError, KeyError, AttributeError, RecursionError) as error:
        raise MalformedFrame(f"not a value: {error}") from None


def _array(payload: bytes, span: tuple[int, int], node: dict) -> NDArray:
    dtype, shape = node.get("dtype"), node.get("shape")
    if not isinstance(dtype, str) or not _DTYPE.fullmatch(dtype):
        raise MalformedFrame(f"an array of an unexpected dtype {dtype!r}")
    if not isinstance(shape, list) or len(shape) > 32 or not all(type(n) is int and n >= 0 for n in shape):
        raise MalformedFrame("an array without a proper shape")
    kind = np.dtype(dtype)
    if int(np.prod(shape, dtype=object)) * kind.itemsize != span[1] - span[0]:
        raise MalformedFrame("an array whose bytes do not fill its shape")
    return np.frombuffer(payload[span[0]:span[1]], dtype=kind).reshape(shape).copy()


def write_frame(stream: BinaryIO, value: Any) -> None:
    """Write one frame: 8 bytes of length, then the payload."""
    payload = encode(value)
    stream.write(struct.pack("<Q", len(payload)) + payload)
    stream.flush()


def read_frame(stream: BinaryIO) -> Any:
    """Read one frame written by :func:`write_frame` (EOFError at the end of the stream)."""
    head = _exactly(stream, 8)
    (size,) = struct.unpack("<Q", head)
    if size > MAX_FRAME:
        raise MalformedFrame(f"a frame of {size} bytes (at most {MAX_FRAME})")
    return decode(_exactly(stream, size))


def _exactly(stream: BinaryIO, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            raise EOFError("the stream ended")
        data += chunk
    return data


# ---------------------------------------------------------------- the child's side

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))      # conv1x1/


def library_calls() -> tuple[Callable[..., Any], set[str]]:
    """A profile function that records the conv1x1 functions (outside this folder) called from outside conv1x1,
    and the record.

    A frame belongs to the library when its module is ``conv1x1`` or one of its modules, by name: the copy of
    conv1x1 that a submission imports need not sit where this file does (an installed one, an unpacked sdist).
    """
    seen: set[str] = set()

    def library(frame: Any) -> bool:
        module = frame.f_globals.get("__name__")
        return (isinstance(module, str) and (module == "conv1x1" or module.startswith("conv1x1."))
                and not module.startswith("conv1x1.exercises"))

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and library(frame) and not (frame.f_back is not None and library(frame.f_back)):
            # entered from outside the library: its own helpers are not listed
            seen.add(f"{frame.f_code.co_name} ({frame.f_globals['__name__']})")
    return profile, seen


def shared(parts: Any, given: tuple) -> list[int]:
    """The positions of the arguments whose memory some base-class array among ``parts`` overlaps."""
    arrays = [p for p in parts[:MAX_ITEMS] if type(p) is np.ndarray]
    return [i for i, arg in enumerate(given)
            if type(arg) is np.ndarray and any(np.may_share_memory(p, arg) for p in arrays)]


def _where(error: BaseException, source: str) -> str:
    """The line of the submission the exception came from: "line 7, in conv1x1_forward: out = out + b"."""
    import traceback
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == source]
    if not frames:
        return ""
    frame = frames[-1]
    return f"line {frame.lineno}, in {frame.name}" + (f": {frame.line.strip()}" if frame.line else "")


def _run_case(fn: Callable[..., Any], args: tuple, source: str) -> dict:
    given = tuple(build_function(a) if isinstance(a, Function) else a for a in args)
    profile, seen = library_calls()
    answer: dict = {"returned": None, "error": None}
    sys.setprofile(profile)
    try:
        with np.errstate(all="ignore"):
            returned = fn(*given)
    except BaseException as error:      # noqa: BLE001 - SystemExit and all: reported, never obeyed
        sys.setprofile(None)
        text = str(error).strip()
        answer["error"] = {"type": type(error).__name__, "message": text.splitlines()[0][:500] if text else "",
                           "where": _where(error, source)}
    else:
        sys.setprofile(None)
        answer["returned"] = plain(returned)
        parts = returned if type(returned) in (tuple, list) else (returned,)
        answer["shares"] = shared(parts, given)
    answer["after"] = [plain(a) if isinstance(a, np.ndarray) else None for a in given]
    answer["library"] = sorted(seen)
    return answer


def _import(source: str) -> tuple[dict, dict]:
    """The submission's functions named after the exercises asked for, and a hello message for the parent."""
    import importlib.util
    import traceback
    spec = importlib.util.spec_from_file_location("submission", source)
    module = importlib.util.module_from_spec(spec)    # type: ignore[arg-type]
    try:
        spec.loader.exec_module(module)              # type: ignore[union-attr]
    except SyntaxError as error:
        line = (error.text or "").strip()
        return {}, {"error": f"SyntaxError: {error.msg} (line {error.lineno})" + (f": {line}" if line else "")}
    except BaseException as error:                   # noqa: BLE001 - SystemExit, a crash: reported
        where = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == source]
        at = f" (line {where[-1].lineno}: {where[-1].line})" if where and where[-1].line else ""
        return {}, {"error": f"{type(error).__name__}: {str(error)[:500]}{at}"}
    return vars(module), {"error": None}


def main(argv: list[str]) -> int:
    """The child: import ./submission.py, answer each request on stdin with frames on fd ``argv[1]``."""
    out = os.fdopen(int(argv[1]), "wb")
    requests = sys.stdin.buffer
    names = read_frame(requests)["names"]
    source = os.path.abspath("submission.py")
    sys.path.append(os.path.dirname(_PACKAGE))      # the conv1x1 the grader runs, last: a student may import it
    namespace, hello = _import(source)
    functions, imported = {}, {}
    for name in names:
        fn = namespace.get(name)
        if not callable(fn):
            continue
        origin = getattr(fn, "__module__", None) or ""
        if origin == "conv1x1" or origin.startswith("conv1x1."):
            imported[name] = origin
        else:
            functions[name] = fn
    hello.update(functions=sorted(functions), imported=imported)
    write_frame(out, hello)
    while True:
        try:
            request = read_frame(requests)
        except EOFError:
            return 0
        fn = functions[request["name"]]
        for args in request["cases"]:
            write_frame(out, _run_case(fn, tuple(args), source))


def _start() -> int:
    """Fork once, so that the process the grader started is not the one that runs the submission."""
    child = os.fork()
    if child == 0:
        return main(sys.argv)
    _, status = os.waitpid(child, 0)
    code = os.waitstatus_to_exitcode(status)
    if code < 0:                 # ended by a signal: end the same way, so that the grader hears which
        import signal
        if -code not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code & 0xFF


if __name__ == "__main__":
    sys.exit(_start())
