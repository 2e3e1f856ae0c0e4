"""Save a model's state to an ``.npz`` file and load it back, safely.

A checkpoint holds every parameter (``model.params``, dotted names such as ``"0.w"``), every
buffer (``model.buffers`` if the model has it: state that is not trained by gradients, such as
batch normalisation's running statistics), optionally an optimizer's state, and a format version::

    "format_version"               -> 1
    "with_optimizer"               -> whether an optimizer's state was saved
    "params/<name>"                -> each parameter array
    "buffers/<name>"               -> each buffer array
    "optimizer/<name>"             -> each array of optimizer.state_dict() (SGD: momentum buffers)

Two promises:

- ``save`` writes a temporary file in the target's directory, flushes it to disk and only then
  renames it over the target (``os.replace`` is atomic). A crash or an error mid-way leaves the
  old checkpoint exactly as it was.
- ``load`` reads and checks *everything* (names, shapes, dtypes) before it writes anything. On
  the first mismatch it raises an error naming it, and the model (and optimizer) are unchanged.
"""

from __future__ import annotations

import os
import tempfile
import zipfile

import numpy as np

__all__ = ["save", "load", "FORMAT_VERSION"]

FORMAT_VERSION = 1


def _buffers(model) -> dict:
    """The model's non-trainable state as a dict of live arrays ({} if it has none)."""
    buffers = getattr(model, "buffers", {})
    return dict(buffers() if callable(buffers) else buffers)


def _state(model, optimizer=None) -> dict:
    """Every array of a checkpoint, under its key in the file."""
    state = {f"params/{name}": array for name, array in model.params.items()}
    state.update({f"buffers/{name}": array for name, array in _buffers(model).items()})
    if optimizer is not None:
        state.update({f"optimizer/{name}": array for name, array in optimizer.state_dict().items()})
    return state


def save(model, path, optimizer=None) -> None:
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
    arrays = {"format_version": np.array(FORMAT_VERSION), "with_optimizer": np.array(optimizer is not None)}
    arrays.update({key: np.asarray(value) for key, value in _state(model, optimizer).items()})
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot save the checkpoint to {path!r}: it is a directory; give a file name")
    try:
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".npz")
    except OSError as error:
        raise type(error)(f"cannot save the checkpoint to {path!r}: cannot write in {directory!r} "
                          f"({error.strerror or error}). Check that the directory exists and is writable.") from error
    try:
        with os.fdopen(handle, "wb") as file:
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


def _read(path) -> dict:
    """Every array in the file, read into memory now (so a damaged member fails here)."""
    try:
        with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as file:   # closed even if unreadable
            return {key: file[key] for key in file.files}
    except FileNotFoundError:
        raise FileNotFoundError(f"no checkpoint at {os.fspath(path)!r}") from None
    except (zipfile.BadZipFile, ValueError, EOFError, OSError, KeyError) as error:
        raise ValueError(f"{os.fspath(path)!r} is not a readable checkpoint (truncated or corrupted?): "
                         f"{type(error).__name__}: {error}") from None


def _check_match(saved: dict, expected: dict, what: str, path) -> None:
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


def load(model, path, optimizer=None) -> None:
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
        If the file is not a readable ``.npz`` (truncated, corrupted), has another format
        version, or its names, shapes or dtypes differ from the model's; the message names the
        first mismatch. Nothing is changed in that case.
    """
    path = os.fspath(path)
    saved = _read(path)
    version = saved.pop("format_version", None)
    if version is None or version.shape != () or int(version) != FORMAT_VERSION:
        raise ValueError(f"{path!r} is not a conv1x1 checkpoint of format version {FORMAT_VERSION} "
                         f"(format_version in the file: {None if version is None else version.tolist()})")
    with_optimizer = bool(saved.pop("with_optimizer", False))
    if optimizer is not None and not with_optimizer:
        raise ValueError(f"{path!r} holds no optimizer state (it was saved without optimizer=); "
                         "load it without the optimizer, or save with save(model, path, optimizer)")
    sections = {"params": dict(model.params), "buffers": _buffers(model)}
    found = {section: {} for section in ("params", "buffers", "optimizer")}
    for key, value in saved.items():
        section, _, name = key.partition("/")
        if section not in found:
            raise ValueError(f"{path!r} holds an unexpected entry {key!r} (expected params/, buffers/, optimizer/)")
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
