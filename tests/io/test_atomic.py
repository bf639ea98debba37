"""Atomic writes: new content lands, failures keep the old file and leave no temp files."""

import errno
import json
import math
import os

import numpy as np
import pytest

from pdssb.io import atomic
from pdssb.io.atomic import (
    OutputWriteError,
    atomic_savez,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
)


def _temp_files(directory):
    return [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


def test_writes_and_replaces_content(tmp_path):
    target = tmp_path / "a.bin"
    assert atomic_write_bytes(target, b"one") == target
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two"

    text = tmp_path / "a.txt"
    atomic_write_text(text, "grüße\nline 2\n")
    assert text.read_text(encoding="utf-8") == "grüße\nline 2\n"

    doc = tmp_path / "a.json"
    atomic_write_json(doc, {"b": 1, "a": [1.5, None]})
    raw = doc.read_text()
    assert json.loads(raw) == {"b": 1, "a": [1.5, None]}
    assert raw.index('"b"') < raw.index('"a"')  # key order preserved
    assert '\n  "b": 1' in raw  # indent=2
    assert _temp_files(tmp_path) == []


def test_savez_round_trip(tmp_path):
    target = tmp_path / "arrays.npz"
    u = np.random.default_rng(0).normal(size=(7, 2))
    atomic_savez(target, u=u, step=np.int64(3))
    with np.load(target) as data:
        np.testing.assert_array_equal(data["u"], u)
        assert int(data["step"]) == 3
    assert _temp_files(tmp_path) == []


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_json_nan_rejected_before_touching_file(tmp_path, bad):
    target = tmp_path / "m.json"
    target.write_text('{"old": true}')
    with pytest.raises(ValueError):
        atomic_write_json(target, {"x": bad})
    assert target.read_text() == '{"old": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def test_failed_replace_keeps_old_file_and_cleans_up(tmp_path, monkeypatch):
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")

    def broken_replace(src, dst):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(atomic.os, "replace", broken_replace)
    with pytest.raises(OutputWriteError) as info:
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.bin"]
    assert str(info.value) == f"cannot write {target}: Input/output error"
    assert info.value.errno == errno.EIO
    assert isinstance(info.value.__cause__, OSError)


def test_disk_full_during_fsync(tmp_path, monkeypatch):
    target = tmp_path / "state.npz"
    target.write_bytes(b"previous")

    def full_disk(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic.os, "fsync", full_disk)
    with pytest.raises(OutputWriteError, match="No space left on device"):
        atomic_savez(target, a=np.zeros(3))
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.npz"]


def test_non_os_error_in_writer_propagates_and_cleans_up(tmp_path):
    target = tmp_path / "x.bin"
    target.write_bytes(b"keep")

    def fill(handle):
        handle.write(b"partial")
        raise KeyError("boom")

    with pytest.raises(KeyError):
        atomic.atomic_write_with(target, fill)
    assert target.read_bytes() == b"keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.bin"]


def test_missing_directory_is_one_line_error(tmp_path):
    target = tmp_path / "no" / "such" / "dir" / "f.txt"
    with pytest.raises(OutputWriteError) as info:
        atomic_write_text(target, "x")
    message = str(info.value)
    assert message.startswith(f"cannot write {target}: ")
    assert "\n" not in message


def test_read_only_directory(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "f.txt").write_text("old")
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("permissions are not enforced for this user (e.g. root)")
        with pytest.raises(OutputWriteError) as info:
            atomic_write_text(locked / "f.txt", "new")
        assert str(locked / "f.txt") in str(info.value)
        assert (locked / "f.txt").read_text() == "old"
    finally:
        locked.chmod(0o700)


def test_ensure_dir(tmp_path):
    nested = atomic.ensure_dir(tmp_path / "a" / "b")
    assert nested.is_dir()
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OutputWriteError, match="cannot write"):
        atomic.ensure_dir(blocker / "sub")
