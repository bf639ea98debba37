"""Crash-safe file writes for everything a run puts in its run folder.

A simulation can be killed at any moment (wall-clock limit, OOM killer, Ctrl-C,
full disk).  To make sure a reader never sees a half-written file and that an
earlier good version is never destroyed, every output goes through the same
protocol: write a hidden temp file in the target's directory, flush and
``fsync`` it, ``os.replace`` it onto the target (atomic on POSIX and Windows
within one file system), then ``fsync`` the directory so the rename itself is
durable.  If anything fails, the temp file is removed and the previous target
is left untouched.

Operating-system failures (``ENOSPC``, ``EACCES``, ``EROFS`` ...) are turned
into :class:`OutputWriteError`, whose message is a single line naming the path,
so the command-line front end can report it without a traceback.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import IO, Any, Callable

import numpy as np

__all__ = [
    "OutputWriteError",
    "atomic_savez",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "atomic_write_with",
    "ensure_dir",
]


class OutputWriteError(RuntimeError):
    """An output file could not be written; the message is one line."""

    def __init__(self, path: str | os.PathLike[str], cause: OSError) -> None:
        self.path = Path(path)
        self.errno = cause.errno
        reason = cause.strerror or str(cause) or type(cause).__name__
        super().__init__(f"cannot write {self.path}: {reason}")


def _fsync_dir(directory: Path) -> None:
    """Make a completed rename durable; best effort (not every OS/FS allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_with(
    path: str | os.PathLike[str],
    fill: Callable[[IO[bytes]], None],
    *,
    suffix: str = ".tmp",
) -> Path:
    """Atomically create or replace ``path`` with what ``fill`` writes.

    ``fill`` receives the open binary temp file (in the target's directory,
    named ``.<name>.<random><suffix>``); it may write through the handle or
    reopen ``handle.name`` itself (e.g. a library that only accepts paths).
    Returns the target path.
    """
    target = Path(path)
    tmp_name: str | None = None
    try:
        with tempfile.NamedTemporaryFile(
            dir=target.parent, delete=False, prefix=f".{target.name}.", suffix=suffix
        ) as handle:
            tmp_name = handle.name
            fill(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
        tmp_name = None
    except OSError as exc:
        raise OutputWriteError(target, exc) from exc
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass
    _fsync_dir(target.parent)
    return target


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Atomically write ``data`` to ``path``."""
    return atomic_write_with(path, lambda handle: handle.write(data))


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Atomically write ``text`` (UTF-8, newlines untranslated) to ``path``."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Atomically write ``obj`` as indented JSON.

    Serialisation happens before the file system is touched, so a NaN/Inf
    (``ValueError``) or an unserialisable object (``TypeError``) leaves any
    existing file as it was.
    """
    text = json.dumps(obj, indent=2, sort_keys=False, allow_nan=False) + "\n"
    return atomic_write_text(path, text)


def atomic_savez(path: str | os.PathLike[str], **arrays: Any) -> Path:
    """Atomically write ``arrays`` as a compressed ``.npz`` archive."""
    return atomic_write_with(path, lambda handle: np.savez_compressed(handle, **arrays))


def ensure_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and parents) if needed, reporting failure as OutputWriteError."""
    directory = Path(path)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputWriteError(directory, exc) from exc
    return directory
