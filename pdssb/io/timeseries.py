"""Per-step scalar time series (energies, crack length, load ...) as CSV.

One row is appended per output step and ``fsync``-ed immediately, so after a
crash every completed row is on disk and at most the last line is torn.  The
reader ignores such a torn line; reopening the file for appending cuts it off
so new rows start on a clean line.  Floats use ``%.17g``, which round-trips
every IEEE double exactly (including ``-0.0``, subnormals, ``inf`` and
``nan``).  On resume, :meth:`TimeSeriesWriter.truncate_rows` drops the rows
written after the checkpoint so none is duplicated.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from types import TracebackType
from typing import Any, Mapping, Sequence

import numpy as np

from pdssb.io.atomic import OutputWriteError, atomic_write_bytes

__all__ = ["TimeSeriesWriter", "read_timeseries"]

_COLUMN_NAME = re.compile(r"[^,\r\n]+")


def _format(column: str, value: Any) -> str:
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return "%.17g" % float(value)
    raise TypeError(f"column {column!r}: cannot write value of type {type(value).__name__}")


class TimeSeriesWriter:
    """Append-only CSV with a fixed header; every row is durable once appended."""

    def __init__(self, path: str | os.PathLike[str], columns: Sequence[str]) -> None:
        self.path = Path(path)
        self.columns = list(columns)
        if not self.columns:
            raise ValueError("a time series needs at least one column")
        for name in self.columns:
            if not isinstance(name, str) or not _COLUMN_NAME.fullmatch(name):
                raise ValueError(f"invalid column name {name!r} (non-empty, no comma or newline)")
        if len(set(self.columns)) != len(self.columns):
            raise ValueError(f"duplicate column names in {self.columns}")
        self._header = (",".join(self.columns) + "\n").encode("utf-8")
        existing = self.path.read_bytes() if self.path.exists() else b""
        if existing:
            self.n_rows = self._adopt(existing)
        else:
            atomic_write_bytes(self.path, self._header)
            self.n_rows = 0
        self._fd = self._open()

    def _adopt(self, content: bytes) -> int:
        """Check an existing file's header, cut a torn last line; return the row count."""
        header_end = content.find(b"\n") + 1
        if content[:header_end] != self._header:
            found = content[:header_end].decode("utf-8", "replace").strip()
            raise ValueError(
                f"{self.path}: existing header {found!r} does not match columns {self.columns}"
            )
        complete = content.rfind(b"\n") + 1
        if complete < len(content):
            try:
                os.truncate(self.path, complete)
            except OSError as exc:
                raise OutputWriteError(self.path, exc) from exc
        return content.count(b"\n") - 1

    def _open(self) -> int:
        try:
            return os.open(self.path, os.O_WRONLY | os.O_APPEND)
        except OSError as exc:
            raise OutputWriteError(self.path, exc) from exc

    def append(self, row: Mapping[str, Any]) -> None:
        """Append one row holding exactly the header's columns, then fsync it."""
        missing = [name for name in self.columns if name not in row]
        extra = [name for name in row if name not in self.columns]
        if missing or extra:
            raise ValueError(f"{self.path}: row has missing columns {missing}, unknown {extra}")
        line = ",".join(_format(name, row[name]) for name in self.columns) + "\n"
        data = memoryview(line.encode("utf-8"))
        size_before = None
        try:
            size_before = os.fstat(self._fd).st_size
            while data:
                data = data[os.write(self._fd, data) :]
            os.fsync(self._fd)
        except OSError as exc:
            if size_before is not None:  # drop a partial line so the file stays well-formed
                try:
                    os.ftruncate(self._fd, size_before)
                except OSError:
                    pass
            raise OutputWriteError(self.path, exc) from exc
        self.n_rows += 1

    def truncate_rows(self, n: int) -> None:
        """Keep the header and the first ``n`` data rows (atomic rewrite)."""
        if not 0 <= n <= self.n_rows:
            raise ValueError(f"{self.path}: cannot keep {n} rows of {self.n_rows}")
        try:
            content = self.path.read_bytes()
        except OSError as exc:
            raise OutputWriteError(self.path, exc) from exc
        end = 0
        for _ in range(n + 1):  # the header line plus n rows
            end = content.index(b"\n", end) + 1
        atomic_write_bytes(self.path, content[:end])
        os.close(self._fd)  # it still refers to the replaced file
        self._fd = self._open()
        self.n_rows = n

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> TimeSeriesWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def read_timeseries(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read a time-series CSV into ``{column: float64 array}``.

    A final line without a trailing newline (torn by a crash) is ignored.
    """
    lines = Path(path).read_text(encoding="utf-8").split("\n")
    complete = lines[:-1]  # the last piece is "" or a torn line
    if not complete:
        raise ValueError(f"{path}: no header line")
    columns = complete[0].split(",")
    values = []
    for number, line in enumerate(complete[1:], start=2):
        fields = line.split(",")
        if len(fields) != len(columns):
            raise ValueError(f"{path}:{number}: {len(fields)} fields, expected {len(columns)}")
        try:
            values.append([float(field) for field in fields])
        except ValueError as exc:
            raise ValueError(f"{path}:{number}: {exc}") from exc
    table = np.array(values, dtype=np.float64).reshape(len(values), len(columns))
    return {name: table[:, j].copy() for j, name in enumerate(columns)}
