"""One run of a mechanical scene: load stepping (or dynamics), recording, snapshots.

Quasi-static: the prescribed displacements, tractions and eigenstrains are ramped over ``load_steps``. At each
step ADR finds equilibrium from the last state, then the bond-breaking cascade runs at fixed
load: break (all bonds past s0, or only the most-stretched ones first), relax, repeat until no
bond breaks. Dynamic: velocity Verlet with bonds breaking as they pass s0.

A run folder holds ``manifest.json`` (resolved scene, versions, git hash, wall time),
``scene.toml`` (the resolved scene alone), ``timeseries.csv``, and snapshots as VTU (+ a PVD
index for ParaView) and compressed NPZ. Every write is atomic.
"""

from __future__ import annotations

import math
import shutil
import time
from pathlib import Path
from typing import Callable

import numpy as np

from .config.loader import dump_scene
from .config.resolve import Setup, material_sources
from .errors import InputError
from .io.atomic import atomic_write_json, atomic_write_text, ensure_dir
from .io.manifest import build_manifest, finalize_manifest, write_manifest
from .io.snapshots import SnapshotWriter
from .io.timeseries import TimeSeriesWriter
from .mechanics.model import MechanicsModel

COLUMNS = [
    "step", "time_s", "load", "adr_iterations", "residual", "bonds_broken_step", "bonds_broken_total",
    "damage_sum", "damage_max", "von_mises_max_MPa", "von_mises_mean_MPa", "hydrostatic_max_MPa",
    "hydrostatic_min_MPa", "strain_energy_J", "dissipated_J",
]


def prepare_run_dir(out: Path, overwrite: bool) -> Path:
    """Create the run folder; an existing non-empty folder is refused unless ``overwrite``."""
    if out.exists() and not out.is_dir():
        raise InputError(str(out), "exists and is not a folder")
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise InputError(str(out), "run folder exists and is not empty (use --overwrite to replace it)")
        shutil.rmtree(out)
    try:
        return ensure_dir(out)
    except OSError as e:  # pragma: no cover - depends on the filesystem
        raise InputError(str(out), f"cannot create run folder ({e.strerror})") from None


class Simulation:
    """Drives a :class:`MechanicsModel` through a scene's loading and writes the run folder."""

    columns = COLUMNS

    def __init__(self, setup: Setup, precision: str = "f64"):
        self.setup = setup
        self.model = MechanicsModel(setup.lattice, setup.stencil, setup.material_ids, setup.table, setup.setting,
                                    setup.thickness, precision, setup.scene.domain.surface_correction)
        self.model.set_boundary(setup.fixmask, setup.u_bc, setup.v_bc, setup.body)
        roles = np.array(["void"] + [m.role for m in setup.materials])
        ids = setup.material_ids
        se = roles[ids] == "electrolyte"
        self.report_mask = se if se.any() else ids != 0
        self.has_eigenstrain = bool(np.any(setup.eigenstrain))
        if self.has_eigenstrain and setup.scene.solver.kind == "dynamic":
            self.model.set_field("eps", setup.eigenstrain)
        self.bonds_broken_total = 0
        self.records: list[dict] = []

    # ------------------------------------------------------------ physics steps
    def cascade(self) -> tuple[int, int, float]:
        """Relax, then break and relax until no bond breaks. Returns (ADR iterations, bonds broken, residual)."""
        s = self.setup.scene.solver
        m = self.model
        r = m.relax(s.tolerance, s.max_iterations)
        iters, broken = r.iterations, 0
        for _ in range(s.max_cascade):
            if s.break_mode == "all":
                ratio = 1.0
            else:
                rmax = m.max_stretch_ratio()
                if rmax <= 1.0:
                    break
                ratio = max(1.0, rmax * (1.0 - s.most_stretched_band))
            n = m.break_bonds(ratio)
            if n == 0:
                break
            broken += n
            r = m.relax(s.tolerance, s.max_iterations)
            iters += r.iterations
        return iters, broken, r.residual

    def record(self, step: int, iters: int, broken: int, residual: float) -> dict:
        m = self.model
        m.compute_damage()
        m.compute_stress()
        sel = self.report_mask
        dmg = m.field("dmg")[sel]
        vm = m.field("vm")[sel]
        hyd = m.field("hyd")[sel]
        dissipated = float(m.field("dissipated").sum(dtype=np.float64) * self.setup.volume)
        self.bonds_broken_total += broken
        row = {
            "step": step, "time_s": m.time, "load": m.load, "adr_iterations": iters, "residual": residual,
            "bonds_broken_step": broken, "bonds_broken_total": self.bonds_broken_total,
            "damage_sum": float(dmg.sum()), "damage_max": float(dmg.max()),
            "von_mises_max_MPa": float(vm.max()) / 1e6, "von_mises_mean_MPa": float(vm.mean()) / 1e6,
            "hydrostatic_max_MPa": float(hyd.max()) / 1e6, "hydrostatic_min_MPa": float(hyd.min()) / 1e6,
            "strain_energy_J": m.strain_energy(), "dissipated_J": dissipated,
        }
        self.records.append(row)
        return row

    def snapshot_fields(self) -> dict[str, np.ndarray]:
        m = self.model
        return {
            "displacement_m": m.field("u"),
            "damage": m.field("dmg"),
            "von_mises_Pa": m.field("vm"),
            "hydrostatic_Pa": m.field("hyd"),
            "stress_Pa": m.field("sigma"),
            "material": self.setup.material_ids.astype(np.int32),
        }

    def steps(self):
        """Yield after every load step (quasi-static) or output interval (dynamic)."""
        s = self.setup.scene.solver
        m = self.model
        if s.kind == "quasi_static":
            t_end = s.t_end or 1.0
            for k in range(1, s.load_steps + 1):
                m.load = k / s.load_steps
                m.time = m.load * t_end
                if self.has_eigenstrain:
                    m.set_field("eps", m.load * self.setup.eigenstrain)
                iters, broken, res = self.cascade()
                yield k, iters, broken, res
        else:
            dt = s.dt or m.stable_dt(s.dt_safety)
            nsteps = max(1, math.ceil(s.t_end / dt - 1e-9))
            every = self.setup.scene.output.every
            m.impose_boundary()
            m.compute_forces()
            broken = 0
            for k in range(1, nsteps + 1):
                m.verlet_step(dt)
                broken += m.break_bonds(1.0)
                if k % every == 0 or k == nsteps:
                    yield k, 0, broken, float("nan")
                    broken = 0

    # ------------------------------------------------------------ the run
    def run(self, out: Path | None, on_step: Callable[[int, int, dict], None] | None = None,
            extra_manifest: dict | None = None) -> dict:
        """Run to the end; write the run folder if ``out`` is given. Returns the summary."""
        t0 = time.time()
        scene = self.setup.scene
        ts = snaps = None
        if out is not None:
            resolved = scene.model_dump(mode="json", exclude_none=True)
            manifest = build_manifest(resolved, dict(
                material_sources=material_sources(self.setup.names, scene),
                bond_constants=self.setup.table.describe(self.setup.names),
                lattice=dict(shape=list(self.setup.lattice.shape), sites=self.setup.lattice.n_sites,
                             stencil_offsets=self.setup.stencil.size), **(extra_manifest or {})))
            write_manifest(out, manifest)
            atomic_write_text(out / "scene.toml", dump_scene(scene))
            ts = TimeSeriesWriter(out / "timeseries.csv", self.columns)
            snaps = SnapshotWriter(out)
            x = self.setup.lattice.positions()
        status = "completed"
        last_snap = k = 0
        try:
            for k, iters, broken, res in self.steps():
                row = self.record(k, iters, broken, res)
                if ts is not None:
                    ts.append(row)
                    if k % scene.output.every == 0:
                        snaps.write(k, self.model.time, x, self.snapshot_fields())
                        last_snap = k
                if on_step is not None:
                    on_step(*self.progress(k), row)
            if snaps is not None and k and last_snap != k:
                snaps.write(k, self.model.time, x, self.snapshot_fields())
        finally:
            if ts is not None:
                ts.close()
        summary = self.summary(status, time.time() - t0)
        if out is not None:
            finalize_manifest(out, wall_time_s=summary["wall_time_s"], status=status, summary=summary)
            atomic_write_json(out / "summary.json", summary)
        return summary

    def progress(self, step: int) -> tuple[float, float | None]:
        """(done, total) for a progress bar: load steps here, simulated time in coupled runs."""
        s = self.setup.scene.solver
        return step, (s.load_steps if s.kind == "quasi_static" else None)

    def summary(self, status: str, wall: float) -> dict:
        last = self.records[-1] if self.records else {}
        return {
            "title": self.setup.scene.title,
            "status": status,
            "steps": len(self.records),
            "sites": self.setup.lattice.n_sites,
            "bonds_broken": self.bonds_broken_total,
            "damage_max": last.get("damage_max"),
            "von_mises_max_MPa": last.get("von_mises_max_MPa"),
            "strain_energy_J": last.get("strain_energy_J"),
            "wall_time_s": wall,
        }
