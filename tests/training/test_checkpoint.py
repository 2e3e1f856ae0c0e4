"""Checkpoints: round trip, exact resume, and every fault refused with the model and old file intact."""

import io
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import conv1x1 as C
from conv1x1 import GlobalAvgPool2d
from conv1x1.training import checkpoint
from conv1x1.training.checkpoint import load, save
from conv1x1.training.losses import softmax_cross_entropy
from conv1x1.training.optim import SGD
from conv1x1.training.train import fit

ROOT = Path(__file__).resolve().parents[2]


def net(seed=0, width=8, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return C.Sequential(C.Conv2d(1, width, 3, padding=1, rng=rng, dtype=dtype), C.ReLU(),
                        C.Conv1x1(width, 10, rng=rng, dtype=dtype), GlobalAvgPool2d())


def snapshot(model):
    return {name: p.copy() for name, p in model.params.items()}


def assert_same(model, snap):
    assert set(model.params) == set(snap)
    for name, p in model.params.items():
        np.testing.assert_array_equal(p, snap[name])


def test_load_after_save_writes_into_the_live_arrays(tmp_path):
    source, target = net(0), net(1)
    live = target[0].params["w"]
    save(source, tmp_path / "a.npz")
    load(target, tmp_path / "a.npz")
    assert target[0].params["w"] is live
    assert_same(target, snapshot(source))


def toy_digits(n=96, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    x = rng.standard_normal((n, 1, 8, 8)) * 0.3
    x[np.arange(n), 0, y % 8, y // 8 * 3] += 2.0   # one bright pixel per class
    return x, y


def test_checkpoint_resumed_training_continues_exactly_as_if_uninterrupted(tmp_path):
    x, y = toy_digits()

    def optimizer_for(model):
        return SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3)

    straight = net(0)
    history = fit(straight, softmax_cross_entropy, optimizer_for(straight), x, y, epochs=4, batch_size=16, log=None)

    first = net(0)
    first_optimizer = optimizer_for(first)
    fit(first, softmax_cross_entropy, first_optimizer, x, y, epochs=2, batch_size=16, log=None)
    save(first, tmp_path / "epoch2.npz", optimizer=first_optimizer)

    resumed = net(seed=99)                       # different initial weights, all overwritten by load
    resumed_optimizer = optimizer_for(resumed)
    load(resumed, tmp_path / "epoch2.npz", optimizer=resumed_optimizer)
    rest = fit(resumed, softmax_cross_entropy, resumed_optimizer, x, y, epochs=4, batch_size=16, start_epoch=2,
               log=None)

    assert_same(resumed, snapshot(straight))    # bit for bit
    assert [h.train_loss for h in rest] == [h.train_loss for h in history[2:]]


def test_checkpoint_without_the_momentum_buffers_does_not_resume_the_same(tmp_path):
    """The optimizer's state matters: this is why save/load take it (the test above could not pass without)."""
    x, y = toy_digits()
    a, b = net(0), net(0)
    opt_a = SGD(a.parameters(), lr=0.05, momentum=0.9)
    fit(a, softmax_cross_entropy, opt_a, x, y, epochs=1, batch_size=16, log=None)
    save(a, tmp_path / "c.npz")
    load(b, tmp_path / "c.npz")
    fit(a, softmax_cross_entropy, opt_a, x, y, epochs=2, start_epoch=1, batch_size=16, log=None)
    fit(b, softmax_cross_entropy, SGD(b.parameters(), lr=0.05, momentum=0.9), x, y, epochs=2, start_epoch=1,
        batch_size=16, log=None)
    assert not np.array_equal(a[0].params["w"], b[0].params["w"])


class Stats(C.ReLU):
    """A layer with non-trainable state, as batch normalisation has."""

    def __init__(self):
        super().__init__()
        self.buffers = {"running_mean": np.zeros(3), "running_var": np.ones(3)}


def WithBuffers(conv):
    return C.Sequential(conv, Stats())


def test_checkpoint_saves_and_checks_buffers(tmp_path):
    a = WithBuffers(C.Conv1x1(2, 3, rng=0))
    a.buffers["1.running_mean"][...] = [1.0, 2.0, 3.0]
    save(a, tmp_path / "b.npz")
    b = WithBuffers(C.Conv1x1(2, 3, rng=1))
    load(b, tmp_path / "b.npz")
    np.testing.assert_array_equal(b.buffers["1.running_mean"], [1.0, 2.0, 3.0])
    plain = C.Sequential(C.Conv1x1(2, 3, rng=1))
    before = snapshot(plain)
    with pytest.raises(ValueError, match="1.running_mean"):
        load(plain, tmp_path / "b.npz")
    assert_same(plain, before)


@pytest.mark.parametrize("other, message", [
    (lambda: net(1, width=16), r"'0\.w' is float64 \(8, 1, 3, 3\) in the file but float64 \(16, 1, 3, 3\)"),
    (lambda: net(1, dtype=np.float32), r"'0\.w' is float64 .* but float32"),
    (lambda: C.Sequential(C.Conv2d(1, 8, 3, padding=1, rng=1), C.ReLU(), C.Conv1x1(8, 10, rng=1),
                          GlobalAvgPool2d(), C.Conv1x1(10, 10, rng=1)), r"'4\.w' is missing"),
    (lambda: C.Sequential(C.Conv2d(1, 8, 3, padding=1, rng=1), C.ReLU()), r"the file has '2\.w'"),
])
def test_load_refuses_a_different_architecture_and_leaves_the_model_unchanged(tmp_path, other, message):
    save(net(0), tmp_path / "a.npz")
    model = other()
    before = snapshot(model)
    with pytest.raises(ValueError, match=message):
        load(model, tmp_path / "a.npz")
    assert_same(model, before)


@pytest.mark.parametrize("damage", ["truncate", "garble", "empty", "text"])
def test_load_refuses_a_damaged_file_and_leaves_the_model_unchanged(tmp_path, damage):
    path = tmp_path / "a.npz"
    save(net(0), path)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garble":
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + 64]) + data[middle + 64:])
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        path.write_text("not a checkpoint")
    model = net(1)
    before = snapshot(model)
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        load(model, path)
    assert_same(model, before)


def test_load_refuses_another_format_version(tmp_path):
    np.savez(tmp_path / "old.npz", format_version=np.array(99), **{"params/0.w": np.zeros((8, 1, 3, 3))})
    with pytest.raises(ValueError, match="format version 1"):
        load(net(0), tmp_path / "old.npz")
    np.savez(tmp_path / "foreign.npz", w=np.zeros(3))
    with pytest.raises(ValueError, match="format_version in the file: None"):
        load(net(0), tmp_path / "foreign.npz")


@pytest.mark.parametrize("key", ["extra/x", "junk"])
def test_load_refuses_an_entry_outside_the_known_sections(tmp_path, key):
    model = C.Conv1x1(3, 2, rng=0)
    before = {name: value.copy() for name, value in model.params.items()}
    path = tmp_path / "odd.npz"
    arrays = {"format_version": np.array(1), "with_optimizer": np.array(False), key: np.zeros(1)}
    arrays.update({f"params/{name}": value + 1 for name, value in model.params.items()})
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="unexpected entry"):
        load(model, path)
    for name, value in model.params.items():
        np.testing.assert_array_equal(value, before[name])


def test_load_of_a_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load(net(0), tmp_path / "nothing.npz")


def test_load_refuses_a_file_without_the_optimizer_state_asked_for(tmp_path):
    model = net(0)
    save(model, tmp_path / "a.npz")
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="no optimizer state"):
        load(model, tmp_path / "a.npz", optimizer=optimizer)


def test_load_reads_a_file_without_the_with_optimizer_flag_as_holding_no_optimizer_state(tmp_path):
    model = C.Conv1x1(3, 2, rng=0)
    path = tmp_path / "bare.npz"
    arrays = {f"params/{name}": value + 1 for name, value in model.params.items()}
    np.savez(path, format_version=np.array(1), **arrays)
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="no optimizer state"):
        load(model, path, optimizer)
    load(model, path)                                        # without the optimizer it loads
    np.testing.assert_array_equal(model.params["w"], C.Conv1x1(3, 2, rng=0).params["w"] + 1)


def test_load_refuses_a_mismatched_optimizer_and_changes_nothing(tmp_path):
    model = net(0)
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    model.backward(np.ones(model.forward(np.zeros((2, 1, 8, 8))).shape))
    optimizer.step()
    save(model, tmp_path / "a.npz", optimizer=optimizer)
    other = net(1)
    no_momentum = SGD(other.parameters(), lr=0.1)       # keeps no buffers: cannot take the saved ones
    before = snapshot(other)
    with pytest.raises(ValueError, match="does not match the optimizer.*momentum=0"):
        load(other, tmp_path / "a.npz", optimizer=no_momentum)
    assert_same(other, before)
    assert no_momentum.momentum_buffers == [None] * 4


@pytest.mark.parametrize("where", ["missing_dir", "a_directory"])
def test_save_to_an_unwritable_path_is_a_clear_error(tmp_path, where):
    path = tmp_path / "no" / "such" / "dir" / "a.npz" if where == "missing_dir" else tmp_path
    with pytest.raises(OSError, match="cannot save the checkpoint"):
        save(net(0), path)


def test_save_that_fails_leaves_the_old_checkpoint_intact(tmp_path, monkeypatch):
    path = tmp_path / "good.npz"
    good = net(0)
    save(good, path)
    old_bytes = path.read_bytes()

    def crash(file, **arrays):
        file.write(b"half a checkpoint")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint.np, "savez", crash)
    with pytest.raises(OSError, match="No space"):
        save(net(1), path)
    monkeypatch.undo()
    assert path.read_bytes() == old_bytes
    assert os.listdir(tmp_path) == ["good.npz"]           # no temporary file left behind
    restored = net(5)
    load(restored, path)
    assert_same(restored, snapshot(good))


def test_save_syncs_the_file_before_renaming(tmp_path, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(checkpoint.os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(checkpoint.os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b))[1])
    save(C.Conv1x1(3, 2, rng=0), tmp_path / "m.npz")
    assert calls == ["fsync", "replace"]


def test_save_flushes_python_buffers_before_fsync(tmp_path, monkeypatch):
    sizes = []
    real_fsync = os.fsync
    monkeypatch.setattr(checkpoint.os, "fsync", lambda fd: (sizes.append(os.fstat(fd).st_size), real_fsync(fd))[1])
    path = tmp_path / "m.npz"
    save(C.Conv1x1(3, 2, rng=0), path)
    assert sizes == [os.path.getsize(path)]        # every byte reached the OS before the sync


def test_save_makes_a_new_file_rw_r_r_and_keeps_an_old_ones_mode(tmp_path):
    """Readable by others, as files usually are; an old file's mode is kept."""
    path = tmp_path / "m.npz"
    save(C.Conv1x1(3, 2, rng=0), path)
    assert os.stat(path).st_mode & 0o777 == 0o644          # not mkstemp's private 0o600
    os.chmod(path, 0o600)
    save(C.Conv1x1(3, 2, rng=1), path)
    assert os.stat(path).st_mode & 0o777 == 0o600


# ---------------------------------------------------------------- an untrusted file


def _entries(path, arrays):
    """A checkpoint of a Conv1x1(3, 2) whose entries are ``arrays`` (name -> raw .npy bytes or an array)."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, value in arrays.items():
            if isinstance(value, np.ndarray):
                buffer = io.BytesIO()
                np.save(buffer, value)
                value = buffer.getvalue()
            archive.writestr(name + ".npy", value)


def _model_entries():
    model = C.Conv1x1(3, 2, rng=0)
    return model, {"format_version": np.array(1), "with_optimizer": np.array(False),
                   **{f"params/{name}": value for name, value in model.params.items()}}


def test_load_names_the_file_and_the_entry_of_a_member_without_the_npy_magic(tmp_path):
    model, arrays = _model_entries()
    arrays["params/w"] = b"this is not an array"
    _entries(tmp_path / "m.npz", arrays)
    with pytest.raises(ValueError, match=r"m\.npz.* entry 'params/w\.npy'"):
        load(model, tmp_path / "m.npz")


@pytest.mark.parametrize("field, value, said", [(10, 99, "compression method 99"), (8, 1, "encrypted")])
def test_load_refuses_an_unknown_compression_or_encryption_as_a_damaged_file(tmp_path, field, value, said):
    """The local and central headers' compression method (or the encryption flag) flipped, as one bad bit does."""
    model, arrays = _model_entries()
    path = tmp_path / "m.npz"
    _entries(path, arrays)
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", field - 2), (b"PK\x01\x02", field)):
        start = data.find(signature)
        while start >= 0:
            data[start + offset] = value
            start = data.find(signature, start + 1)
    path.write_bytes(bytes(data))
    before = snapshot(model)
    with pytest.raises(ValueError, match=f"not a readable checkpoint.*{said}"):
        load(model, path)
    assert_same(model, before)


def test_load_refuses_a_huge_shape_from_its_header_before_reading(tmp_path):
    model, arrays = _model_entries()
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (200000, 100000)})
    arrays["params/w"] = header.getvalue() + bytes(1024)
    _entries(tmp_path / "m.npz", arrays)
    with pytest.raises(ValueError, match=r"'w' is float64 \(200000, 100000\) in the file but float64 \(2, 3\)"):
        load(model, tmp_path / "m.npz")


def test_load_refuses_a_declared_size_that_is_not_what_the_shape_needs(tmp_path):
    model, arrays = _model_entries()
    raw = io.BytesIO()
    np.save(raw, model.params["w"])
    arrays["params/w"] = raw.getvalue() + bytes(10 ** 6)          # the right header, then a megabyte more
    _entries(tmp_path / "m.npz", arrays)
    with pytest.raises(ValueError, match="'params/w.npy'.* the zip says"):
        load(model, tmp_path / "m.npz")


ZIP_BOMB = """
import io, resource, sys, zipfile
import numpy as np
import conv1x1 as C
from conv1x1.training.checkpoint import load
path, size = sys.argv[1], 400 * 2 ** 20
with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
    archive.writestr("format_version.npy", (lambda b: (np.save(b, np.array(1)), b.getvalue())[1])(io.BytesIO()))
    with archive.open("params/w.npy", "w", force_zip64=True) as entry:
        np.lib.format.write_array_header_1_0(entry, {"descr": "<f8", "fortran_order": False, "shape": (size // 8,)})
        for _ in range(size // 2 ** 20):
            entry.write(bytes(2 ** 20))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    load(C.Conv1x1(3, 2, rng=0), path)
except ValueError as error:
    print(type(error).__name__, error)
print("grew", (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024, "MiB")
"""


def test_load_refuses_a_zip_bomb_without_expanding_it(tmp_path):
    """400 MiB of zeros deflated to well under a megabyte, under the name of a (2, 3) weight."""
    done = subprocess.run([sys.executable, "-c", ZIP_BOMB, str(tmp_path / "bomb.npz")], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert "ValueError" in done.stdout and "'w' is float64 (52428800,) in the file" in done.stdout, done.stderr
    grew = int(done.stdout.split("grew")[1].split()[0])
    assert grew < 100


SLOW_SAVE = """
import os, sys, time
import numpy as np
import conv1x1 as C
from conv1x1.training import checkpoint
path = sys.argv[1]
checkpoint.save(C.Conv1x1(3, 2, rng=0), path)

def slow_savez(file, **arrays):
    file.write(b"half a checkpoint")
    file.flush()
    print("writing", flush=True)
    time.sleep(60)

checkpoint.np.savez = slow_savez
checkpoint.save(C.Conv1x1(3, 2, rng=1), path)
"""


def test_save_interrupted_by_sigterm_leaves_the_old_file_and_no_temporary_one(tmp_path):
    path = tmp_path / "model.npz"
    with subprocess.Popen([sys.executable, "-c", SLOW_SAVE, str(path)], cwd=ROOT, stdout=subprocess.PIPE,
                          text=True) as child:
        try:
            assert child.stdout.readline().strip() == "writing"
            child.send_signal(signal.SIGTERM)
            assert child.wait(timeout=60) == -signal.SIGTERM
        finally:
            child.kill()
    assert os.listdir(tmp_path) == ["model.npz"]
    restored = C.Conv1x1(3, 2, rng=5)
    load(restored, path)
    assert_same(restored, snapshot(C.Conv1x1(3, 2, rng=0)))


def test_load_refuses_a_npy_header_that_claims_gigabytes(tmp_path):
    """A version 2.0 header's length is 4 bytes: up to 4 GiB of 'header' to read before any shape is known."""
    model, arrays = _model_entries()
    arrays["params/w"] = b"\x93NUMPY\x02\x00" + (2 ** 32 - 1).to_bytes(4, "little") + b"{" * 1000
    _entries(tmp_path / "m.npz", arrays)
    with pytest.raises(ValueError, match=r"'params/w\.npy'.*header longer than"):
        load(model, tmp_path / "m.npz")
