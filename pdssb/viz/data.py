"""What a frame is drawn from: one snapshot of a lattice, from a run folder or a live simulation.

A :class:`SnapshotData` holds the lattice geometry (shape, spacing, origin), the snapshot arrays
under their NPZ names (:mod:`pdssb.io.snapshots`), the time and step, the scene title, the material
names and roles, and a few numbers for the on-screen text (current, capacity, max von Mises, broken
bonds, failure state) taken from the time-series row of that step.

The crack drawing (:mod:`pdssb.viz.cracks`) also needs the stencil offsets that give the bits of
``bond_bits`` their meaning, and the material ids at the start (where Li has entered cracks). A
live simulation has both in its setup; for a run folder they come from its resolved
``scene.toml``, painted again by :func:`pdssb.config.resolve.resolve` (NumPy only, milliseconds for
the shipped scenes). When that scene cannot be resolved (say, an STL it names has moved), the
stencil is rebuilt from the scene's ``[domain]`` alone and the initial ids are unknown; a folder
without a readable scene, or snapshots without ``bond_bits`` (runs written before they were
stored), draws the site view.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..errors import InputError

__all__ = ["RunData", "SnapshotData", "grid_from_points", "info_lines"]


def grid_from_points(points: np.ndarray) -> tuple[tuple[int, ...], float, tuple[float, ...]]:
    """(shape, dx, origin) of the regular lattice whose cell centres are ``points`` (C order, ij)."""
    pts = np.asarray(points, dtype=np.float64)
    shape, origin, spacing = [], [], []
    for a in range(pts.shape[1]):
        u = np.unique(pts[:, a])
        shape.append(len(u))
        if len(u) > 1:
            spacing.append(float(np.median(np.diff(u))))
        origin.append(float(u[0]))
    dx = min(spacing) if spacing else 1.0
    if int(np.prod(shape)) != len(pts):
        raise ValueError("snapshot points are not a full regular lattice")
    return tuple(shape), dx, tuple(o - 0.5 * dx for o in origin)


@dataclass
class SnapshotData:
    shape: tuple[int, ...]  # sites per axis, C order (x fastest last)
    dx: float  # m
    origin: tuple[float, ...]  # lower corner of the lattice box, m
    fields: Mapping[str, np.ndarray]  # NPZ names → (n_sites, ...) arrays
    time: float = 0.0
    step: int = 0
    title: str = ""
    material_names: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)  # a time-series row (or part of one)
    material_roles: list[str] = field(default_factory=list)  # per material id 1.., as material_names
    offsets: np.ndarray | None = None  # (K, dim) stencil offsets: bit k of bond_bits is offset k
    initial_material: np.ndarray | None = None  # (n_sites,) material ids at the start of the run

    @classmethod
    def from_setup(cls, setup, fields: Mapping[str, np.ndarray], time: float, step: int,
                   info: dict[str, Any]) -> SnapshotData:
        """A snapshot of a live simulation (``setup`` from :func:`pdssb.config.resolve.resolve`)."""
        lat = setup.lattice
        return cls(tuple(lat.shape), lat.dx, tuple(lat.origin), fields, time, step, setup.scene.title,
                   list(setup.names), info, [str(m.role or "") for m in setup.materials],
                   setup.stencil.offsets, setup.material_ids)

    @property
    def dim(self) -> int:
        return len(self.shape)

    @property
    def extent(self) -> np.ndarray:
        return np.array(self.shape, dtype=np.float64) * self.dx

    def positions(self) -> np.ndarray:
        """Reference site coordinates (n_sites, dim) in metres, C order as in the lattice."""
        axes = [self.origin[a] + (np.arange(n) + 0.5) * self.dx for a, n in enumerate(self.shape)]
        grids = np.meshgrid(*axes, indexing="ij")
        return np.stack([g.ravel() for g in grids], axis=1)

    @property
    def solid(self) -> np.ndarray:
        """Sites that hold material (not void)."""
        mat = self.fields.get("material")
        if mat is None:
            return np.ones(int(np.prod(self.shape)), dtype=bool)
        return np.asarray(mat) != 0


def info_lines(info: Mapping[str, Any], time: float) -> list[str]:
    """The on-screen text: time, current, capacity, max von Mises, broken bonds, failure state."""
    def num(key):
        v = info.get(key)
        try:
            v = float(v)
        except (TypeError, ValueError):
            return None
        return v if math.isfinite(v) else None

    lines = [f"t = {time:.4g} s"]
    if (v := num("current_mA")) is not None:
        cd = num("current_density_mA_cm2")
        lines.append(f"I = {v:.3g} mA" + (f"  ({cd:.3g} mA cm⁻²)" if cd is not None else ""))
    if (v := num("capacity_mAh")) is not None:
        per_area = num("capacity_mAh_cm2")
        lines.append(f"Q = {v:.3g} mAh" + (f"  ({per_area:.3g} mAh cm⁻²)" if per_area is not None else ""))
    if (v := num("load")) is not None and num("current_mA") is None:
        lines.append(f"load = {v:.3g}")
    if (v := num("von_mises_max_MPa")) is not None:
        lines.append(f"max σ_vM = {v:.4g} MPa")
    if (v := num("bonds_broken_total")) is not None:
        lines.append(f"broken bonds = {int(v)}")
    if num("failed") is not None or info.get("failure"):
        cause = info.get("failure")
        if cause is None and num("failed"):
            cause = next((c.replace("_", " ") for c in ("short_circuit", "damage_path", "crack_depth")
                          if num(f"failed_{c}")), "yes")
        lines.append(f"failed: {cause}" if cause else "failure: none")
    return lines


class RunData:
    """A finished (or running) run folder: its snapshots, time series and scene title."""

    def __init__(self, run_dir: str | Path):
        self.run_dir = Path(run_dir)
        if not self.run_dir.is_dir():
            raise InputError(str(run_dir), "run folder not found")
        self.snapshot_files = self._snapshot_files()
        if not self.snapshot_files:
            raise InputError(str(run_dir), "no snapshots in this run folder (snapshots/*.npz)")
        self.material_roles: list[str] = []
        self.offsets: np.ndarray | None = None
        self.initial_material: np.ndarray | None = None
        self.title, self.material_names = self._scene_info()
        self.series: dict[str, np.ndarray] = {}
        ts = self.run_dir / "timeseries.csv"
        if ts.exists():
            from ..io.timeseries import read_timeseries

            try:
                self.series = read_timeseries(ts)
            except ValueError:
                self.series = {}
        self.summary = {}
        if (self.run_dir / "summary.json").exists():
            try:
                self.summary = json.loads((self.run_dir / "summary.json").read_text())
            except ValueError:
                self.summary = {}
        self._grid = None

    def _snapshot_files(self) -> list[Path]:
        pvd = self.run_dir / "snapshots.pvd"
        files: list[Path] = []
        if pvd.exists():
            from ..io.snapshots import PvdIndex

            try:
                for _, vtu in PvdIndex(pvd).entries:
                    npz = (self.run_dir / vtu).with_suffix(".npz")
                    if npz.exists():
                        files.append(npz)
            except ValueError:
                files = []
        if not files:
            files = sorted((self.run_dir / "snapshots").glob("*.npz"))
        return files

    def _scene_info(self) -> tuple[str, list[str]]:
        title, names = self.run_dir.name, []
        scene = self.run_dir / "scene.toml"
        if scene.exists():
            try:
                from ..config.loader import load_scene

                sc = load_scene(scene)
                title = sc.title or title
                names = [k for k in sc.materials if k != "void"]
                self.material_roles = [str(sc.materials[k].role or "") for k in names]
            except Exception:  # noqa: BLE001 - a title is nice to have, not required
                return title, names
            self._crack_info(sc)
        return title, names

    def _crack_info(self, sc) -> None:
        """Stencil offsets and initial material ids for the crack drawing (see the module docstring)."""
        from ..config.resolve import resolve
        from ..lattice.stencil import Stencil

        try:
            setup = resolve(sc, self.run_dir)
        except Exception:  # noqa: BLE001 - the crack faces need the stencil only
            d = sc.domain
            self.offsets = Stencil(d.dim, d.horizon_factor, d.partial_volume).offsets
            return
        self.offsets = setup.stencil.offsets
        self.initial_material = setup.material_ids
        self.material_roles = [str(m.role or "") for m in setup.materials]

    def __len__(self) -> int:
        return len(self.snapshot_files)

    def row_at(self, step: int) -> dict[str, Any]:
        """The time-series row of ``step`` (empty when there is none)."""
        steps = self.series.get("step")
        if steps is None or not len(steps):
            return {}
        hit = np.nonzero(steps == step)[0]
        if not len(hit):
            return {}
        j = int(hit[-1])
        return {k: float(v[j]) for k, v in self.series.items()}

    def snapshot(self, i: int) -> SnapshotData:
        path = self.snapshot_files[i]
        try:
            with np.load(path) as z:
                arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError) as e:
            raise InputError(str(path), f"cannot read snapshot ({e})") from None
        points = arrays.pop("points")
        time = float(arrays.pop("time", 0.0))
        step = int(arrays.pop("step", i))
        if self._grid is None:
            self._grid = grid_from_points(points)
        shape, dx, origin = self._grid
        info = self.row_at(step)
        if i == len(self) - 1 and self.summary.get("failure_cause"):
            info["failure"] = self.summary["failure_cause"].replace("_", " ")
        initial = self.initial_material
        if initial is not None and initial.shape[0] != int(np.prod(shape)):
            initial = None  # the scene no longer paints this lattice
        return SnapshotData(shape, dx, origin, arrays, time, step, self.title, self.material_names, info,
                            self.material_roles, self.offsets, initial)
