"""Tests written to kill mutants of conv1x1/checkpoint.py that survived the suite (second mutation run)."""

import os

import numpy as np
import pytest

import conv1x1 as C
from conv1x1 import checkpoint
from conv1x1.checkpoint import load, save


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


def test_save_syncs_the_file_before_renaming(tmp_path, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(checkpoint.os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(checkpoint.os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b))[1])
    save(C.Conv1x1(3, 2, rng=0), tmp_path / "m.npz")
    assert calls == ["fsync", "replace"]


def test_new_checkpoint_is_rw_r_r_and_an_old_ones_mode_is_kept(tmp_path):
    path = tmp_path / "m.npz"
    save(C.Conv1x1(3, 2, rng=0), path)
    assert os.stat(path).st_mode & 0o777 == 0o644          # not mkstemp's private 0o600
    os.chmod(path, 0o600)
    save(C.Conv1x1(3, 2, rng=1), path)
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_save_flushes_python_buffers_before_fsync(tmp_path, monkeypatch):
    sizes = []
    real_fsync = os.fsync
    monkeypatch.setattr(checkpoint.os, "fsync", lambda fd: (sizes.append(os.fstat(fd).st_size), real_fsync(fd))[1])
    path = tmp_path / "m.npz"
    save(C.Conv1x1(3, 2, rng=0), path)
    assert sizes == [os.path.getsize(path)]        # every byte reached the OS before the sync


def test_a_file_without_the_with_optimizer_flag_holds_no_optimizer_state(tmp_path):
    from conv1x1.optim import SGD
    model = C.Conv1x1(3, 2, rng=0)
    path = tmp_path / "bare.npz"
    arrays = {f"params/{name}": value + 1 for name, value in model.params.items()}
    np.savez(path, format_version=np.array(1), **arrays)
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="no optimizer state"):
        load(model, path, optimizer)
    load(model, path)                                        # without the optimizer it loads
    np.testing.assert_array_equal(model.params["w"], C.Conv1x1(3, 2, rng=0).params["w"] + 1)
