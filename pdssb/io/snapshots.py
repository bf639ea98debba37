"""Particle snapshots: VTU files for ParaView, NPZ files for analysis, a PVD index.

A peridynamic body is a cloud of material points, so each snapshot is an
unstructured grid of VTK vertex cells (one per point) carrying per-point fields
(displacement, damage, concentration ...).  Each snapshot is written twice:

* ``.vtu`` (zlib-compressed binary XML, via meshio) to be opened in ParaView;
  2D data is padded to 3D because VTK only knows 3D points and 3-component
  vectors;
* ``.npz`` with the unpadded arrays at full precision for post-processing.

Arrays named in :data:`NPZ_ONLY` go to the NPZ alone: ``bond_bits`` (each site's bond bits as
uint32 words, for drawing the crack faces) means nothing as a ParaView field, and a two-word
array would be padded like a 2D vector.

The ``.pvd`` collection lists the VTU files with their physical times so
ParaView can play the run as an animation.  It is rewritten atomically on every
addition, reloaded when a run is resumed, and can be cut back to a checkpoint
time so a resumed run does not leave stale entries behind.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import IO, Any, Mapping, NamedTuple

import meshio
import numpy as np

from pdssb.io.atomic import atomic_savez, atomic_write_text, atomic_write_with, ensure_dir

__all__ = [
    "NPZ_ONLY",
    "PvdIndex",
    "SnapshotPaths",
    "SnapshotWriter",
    "write_snapshot_npz",
    "write_vtu",
]

#: snapshot arrays written to the NPZ but not to the VTU
NPZ_ONLY = frozenset({"bond_bits"})
# meshio writes array names into XML attributes without escaping them.
_SAFE_NAME = re.compile(r"[^<>&\"'\x00-\x1f]+")
# meshio 5.3 silently drops field data for VTU, so it is spliced in after this tag.
_GRID_TAG = b"<UnstructuredGrid>\n"


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _SAFE_NAME.fullmatch(name):
        raise ValueError(f"invalid array name {name!r} (empty, or has <>&\"' or control chars)")


def _vtk_type(dtype: np.dtype) -> str:
    """VTK XML type name of a numeric dtype, e.g. ``Float64``; TypeError if VTK lacks it."""
    kinds = {"f": "Float", "i": "Int", "u": "UInt"}
    sizes = (4, 8) if dtype.kind == "f" else (1, 2, 4, 8)
    if dtype.kind not in kinds or dtype.itemsize not in sizes:
        raise TypeError(f"unsupported dtype {dtype} for VTU output")
    return f"{kinds[dtype.kind]}{8 * dtype.itemsize}"


def _vtk_array(values: Any) -> np.ndarray:
    """Return ``values`` as an array of a dtype VTU supports (bool → uint8)."""
    array = np.ascontiguousarray(values)
    if array.dtype == np.bool_:
        array = array.astype(np.uint8)
    _vtk_type(array.dtype)  # raises TypeError for dtypes VTK cannot store
    return array


def _pad3(array: np.ndarray) -> np.ndarray:
    """Pad an (N, 2) array with a zero third column; other shapes are returned as-is."""
    if array.ndim == 2 and array.shape[1] == 2:
        return np.column_stack([array, np.zeros(len(array), dtype=array.dtype)])
    return array


def _field_data_xml(field_data: Mapping[str, Any]) -> bytes:
    """Render field data as an ASCII ``<FieldData>`` block (it is small metadata)."""
    parts = ["<FieldData>\n"]
    for name, values in field_data.items():
        _check_name(name)
        array = _vtk_array(values)
        if array.ndim > 2:
            raise ValueError(f"field data {name!r} must have at most 2 dimensions")
        table = array.reshape(len(array) if array.ndim else 1, -1)
        vtk_type = _vtk_type(table.dtype)
        fmt = "%.17g" if table.dtype.kind == "f" else "%d"
        text = " ".join(fmt % v for v in table.ravel())
        parts.append(
            f'<DataArray type="{vtk_type}" Name="{name}" NumberOfTuples="{table.shape[0]}" '
            f'NumberOfComponents="{table.shape[1]}" format="ascii">\n{text}\n</DataArray>\n'
        )
    parts.append("</FieldData>\n")
    return "".join(parts).encode("utf-8")


def write_vtu(
    path: str | os.PathLike[str],
    points: Any,
    point_data: Mapping[str, Any],
    field_data: Mapping[str, Any] | None = None,
) -> Path:
    """Atomically write a point cloud with per-point and global data as a VTU file.

    ``points`` is (N, 2) or (N, 3); every ``point_data`` array must have N rows,
    and (N, 2) vectors are padded to (N, 3).  ``field_data`` holds per-snapshot
    values (time, step, load ...) as scalars or small arrays.
    """
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] not in (2, 3):
        raise ValueError(f"points must have shape (N, 2) or (N, 3), got {pts.shape}")
    n = len(pts)
    data = {}
    for name, values in point_data.items():
        _check_name(name)
        array = _vtk_array(values)
        if array.ndim == 0 or array.shape[0] != n:
            raise ValueError(f"point data {name!r} has shape {array.shape}, expected {n} rows")
        data[name] = _pad3(array)
    mesh = meshio.Mesh(_pad3(pts), [("vertex", np.arange(n)[:, None])], point_data=data)
    extra = _field_data_xml(field_data) if field_data else None

    def fill(handle: IO[bytes]) -> None:
        meshio.write(handle.name, mesh, file_format="vtu", binary=True, compression="zlib")
        if extra is not None:
            xml = Path(handle.name).read_bytes()
            if xml.count(_GRID_TAG) != 1:
                raise RuntimeError("unexpected meshio VTU layout; cannot add field data")
            handle.seek(0)
            handle.write(xml.replace(_GRID_TAG, _GRID_TAG + extra))
            handle.truncate()

    return atomic_write_with(path, fill, suffix=".tmp.vtu")


def write_snapshot_npz(path: str | os.PathLike[str], **arrays: Any) -> Path:
    """Atomically write snapshot arrays as a compressed NPZ."""
    return atomic_savez(path, **arrays)


class PvdIndex:
    """A ParaView ``.pvd`` collection of (time, VTU file) entries, kept on disk.

    Times must not decrease: adding an earlier time raises ``ValueError`` (call
    :meth:`truncate_after` when resuming), and adding the time of the last
    entry replaces that entry (the snapshot was rewritten).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._entries: list[tuple[float, str]] = []
        if self.path.exists():
            self._entries = self._load()

    @property
    def entries(self) -> list[tuple[float, str]]:
        """``(time, file)`` pairs in order; files are relative to the .pvd's directory."""
        return list(self._entries)

    def _load(self) -> list[tuple[float, str]]:
        try:
            root = ET.parse(self.path).getroot()
        except ET.ParseError as exc:
            raise ValueError(f"{self.path}: malformed PVD file: {exc}") from exc
        collection = root.find("Collection")
        if root.tag != "VTKFile" or root.get("type") != "Collection" or collection is None:
            raise ValueError(f"{self.path}: not a VTK collection file")
        entries = []
        for dataset in collection:
            time, file = dataset.get("timestep"), dataset.get("file")
            if dataset.tag != "DataSet" or time is None or not file:
                raise ValueError(f"{self.path}: malformed DataSet entry")
            try:
                entries.append((float(time), file))
            except ValueError as exc:
                raise ValueError(f"{self.path}: bad timestep {time!r}") from exc
        if any(b[0] <= a[0] for a, b in zip(entries, entries[1:])):
            raise ValueError(f"{self.path}: timesteps are not increasing")
        return entries

    def _save(self) -> None:
        lines = [
            '<?xml version="1.0"?>',
            '<VTKFile type="Collection" version="0.1" byte_order="LittleEndian">',
            "  <Collection>",
        ]
        for time, file in self._entries:
            dataset = ET.Element(
                "DataSet", timestep=repr(time), group="", part="0", file=file
            )
            lines.append("    " + ET.tostring(dataset, encoding="unicode"))
        lines += ["  </Collection>", "</VTKFile>", ""]
        atomic_write_text(self.path, "\n".join(lines))

    def add(self, time: float, vtu_path: str | os.PathLike[str]) -> None:
        """Record ``vtu_path`` at ``time`` and rewrite the .pvd atomically."""
        time = float(time)
        if not np.isfinite(time):
            raise ValueError(f"snapshot time must be finite, got {time}")
        if self._entries and time < self._entries[-1][0]:
            raise ValueError(
                f"snapshot time {time!r} precedes last entry {self._entries[-1][0]!r}; "
                "call truncate_after() when resuming"
            )
        if self._entries and time == self._entries[-1][0]:
            self._entries.pop()
        relative = os.path.relpath(os.path.abspath(vtu_path), os.path.abspath(self.path.parent))
        self._entries.append((time, Path(relative).as_posix()))
        self._save()

    def truncate_after(self, time: float) -> None:
        """Drop entries later than ``time`` (e.g. the checkpoint a run resumes from)."""
        if not np.isfinite(time):
            raise ValueError(f"truncation time must be finite, got {time}")
        kept = [entry for entry in self._entries if entry[0] <= time]
        if len(kept) != len(self._entries):
            self._entries = kept
            self._save()


class SnapshotPaths(NamedTuple):
    vtu: Path
    npz: Path


class SnapshotWriter:
    """Writes numbered snapshots into ``run_dir/snapshots/`` and indexes them.

    Files are ``snapshots/<name>_<step:06d>.vtu`` and ``.npz``; the collection
    is ``run_dir/<name>.pvd`` (``snapshots.pvd`` by default).  An existing
    collection is loaded, so a resumed run appends to it; use
    ``writer.pvd.truncate_after(t)`` to discard snapshots newer than the
    checkpoint first.
    """

    RESERVED = ("points", "time", "step")

    def __init__(self, run_dir: str | os.PathLike[str], name: str = "snapshots") -> None:
        self.run_dir = Path(run_dir)
        self.name = name
        self.directory = ensure_dir(self.run_dir / "snapshots")
        self.pvd = PvdIndex(self.run_dir / f"{name}.pvd")

    def write(
        self,
        step: int,
        time: float,
        points: Any,
        point_data: Mapping[str, Any],
        field_data: Mapping[str, Any] | None = None,
    ) -> SnapshotPaths:
        """Write the VTU (less the NPZ_ONLY arrays) and the NPZ for ``step``; index the VTU."""
        clash = set(point_data) & set(self.RESERVED)
        if clash:
            raise ValueError(f"point data names {sorted(clash)} are reserved")
        stem = f"{self.name}_{int(step):06d}"
        vtu_data = {key: value for key, value in point_data.items() if key not in NPZ_ONLY}
        vtu = write_vtu(self.directory / f"{stem}.vtu", points, vtu_data, field_data)
        npz = write_snapshot_npz(
            self.directory / f"{stem}.npz",
            points=np.asarray(points),
            time=np.float64(time),
            step=np.int64(step),
            **{key: np.asarray(value) for key, value in point_data.items()},
        )
        self.pvd.add(time, vtu)
        return SnapshotPaths(vtu, npz)
