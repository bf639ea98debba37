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

import json
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
from .io.checkpoint import Checkpointer, read_checkpoint, write_source
from .io.manifest import build_manifest, finalize_manifest, write_manifest
from .io.snapshots import SnapshotWriter
from .io.timeseries import TimeSeriesWriter
from .mechanics.cascade import cascade
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
        self.model = MechanicsModel(setup.lattice, setup.stencil, setup.mechanics_ids, setup.table, setup.setting,
                                    setup.thickness, precision, setup.scene.domain.surface_correction)
        self.model.set_boundary(setup.fixmask, setup.u_bc, setup.v_bc, setup.body)
        if setup.scene.solver.method == "direct" and setup.scene.solver.kind == "quasi_static":
            self.model.use_direct_solver(setup.scene.solver.preconditioner)
        roles = np.array(["void"] + [m.role for m in setup.materials])
        ids = setup.material_ids
        se = roles[ids] == "electrolyte"
        self.report_mask = se if se.any() else ids != 0
        self.has_eigenstrain = bool(np.any(setup.eigenstrain))
        if self.has_eigenstrain and setup.scene.solver.kind == "dynamic":
            self.model.set_field("eps", setup.eigenstrain)
        self.bonds_broken_total = 0
        self.records: list[dict] = []
        self.resume_step = 0  # the step a resumed run's checkpoint was taken after
        self.dt_dynamic: float | None = None  # Δt of a dynamic run, fixed when it starts

    # ------------------------------------------------------------ checkpoint state
    # raw padded device arrays that a run carries from step to step (the rest is scratch,
    # recomputed before use, or fixed at set-up)
    STATE_FIELDS = ("u", "v", "force", "force_old", "bits", "eps", "dissipated", "mat", "lam", "hist")

    def state_dict(self) -> tuple[dict[str, np.ndarray], dict]:
        """The full run state: (arrays for the NPZ, JSON-able scalars). Restored by :meth:`load_state`."""
        m = self.model
        arrays = {f"model.{name}": getattr(m, name).to_numpy() for name in self.STATE_FIELDS if hasattr(m, name)}
        arrays.update(self.solver_state())
        arrays["report_mask"] = np.asarray(self.report_mask, dtype=bool)
        scalars = dict(time=m.time, load=m.load, bonds_broken_total=int(self.bonds_broken_total),
                       dt_dynamic=self.dt_dynamic, n_records=len(self.records),
                       last_record=self.records[-1] if self.records else None, rng=None)
        return arrays, scalars

    def snapshot_now(self) -> bool:
        """A snapshot outside the every-N rhythm (coupled runs: at the scene's output times)."""
        return False

    def solver_state(self) -> dict[str, np.ndarray]:
        """The direct solver's matrices (its preconditioner is part of the state for a bitwise resume)."""
        return self.model.direct.state("direct.") if self.model.direct is not None else {}

    def load_solver_state(self, arrays: dict[str, np.ndarray]) -> None:
        if self.model.direct is not None:
            self.model.direct.load(arrays, "direct.")

    def load_state(self, step: int, arrays: dict[str, np.ndarray], scalars: dict,
                   records: list[dict] | None = None) -> None:
        """Put a checkpoint's state back; the next :meth:`steps` continues after ``step``."""
        m = self.model
        for name in self.STATE_FIELDS:
            key = f"model.{name}"
            if key not in arrays:
                raise ValueError(f"checkpoint lacks the array {name!r}")
            getattr(m, name).from_numpy(arrays[key])
        self.load_solver_state(arrays)
        self.report_mask = arrays["report_mask"].astype(bool)
        m.time, m.load = float(scalars["time"]), float(scalars["load"])
        self.bonds_broken_total = int(scalars["bonds_broken_total"])
        self.dt_dynamic = scalars["dt_dynamic"]
        self.records = list(records or [])
        if scalars["last_record"] is not None:
            self.records.append(dict(scalars["last_record"]))
        self.resume_step = int(step)

    def check_state(self) -> dict | None:
        """NaN/Inf or a displacement beyond the domain size: what and where, or None when sane."""
        m = self.model
        bound = float(max(self.setup.scene.domain.size))
        x = None
        for name, values in self._guarded_fields():
            v = np.asarray(values, dtype=np.float64)
            per_site = np.abs(v).max(axis=1) if v.ndim == 2 else np.abs(v)
            nonfinite = ~np.isfinite(per_site)
            beyond = (per_site > bound) if name == "u" else np.zeros_like(nonfinite)
            bad = nonfinite | beyond
            if bad.any():
                i = int(np.argmax(bad))
                x = self.setup.lattice.positions()[i] if x is None else x
                return dict(field=name, kind="nan_or_inf" if nonfinite.any() else "displacement_beyond_bound",
                            sites=int(bad.sum()), first_site=i, position_um=[float(c) * 1e6 for c in x],
                            value=repr(float(per_site[i])), bound_m=bound if name == "u" else None,
                            time_s=m.time)
        return None

    def _guarded_fields(self):
        m = self.model
        yield "u", m.field("u")
        yield "eps", m.field("eps")

    def likely_causes(self, problem: dict) -> list[str]:
        s = self.setup.scene.solver
        causes = []
        if s.kind == "dynamic":
            stable = None
            try:
                stable = self.model.stable_dt(1.0)
            except Exception:  # noqa: BLE001 - diagnostics only
                pass
            dt = self.dt_dynamic
            if stable is not None and dt is not None and dt > stable:
                causes.append(f"time step: dt = {dt:.4g} s exceeds the stable bound {stable:.4g} s (lower solver.dt "
                              "or solver.dt_safety)")
            else:
                causes.append("time step: the explicit Verlet step may be too large for the stiffest bond")
        moduli = [mat.youngs_modulus for mat in self.setup.materials]
        if moduli and max(moduli) / min(moduli) > 1e3:
            causes.append(f"stiffness contrast: Young's moduli span a factor {max(moduli) / min(moduli):.3g}")
        if not np.any(self.setup.fixmask) and not (s.kind == "dynamic"):
            causes.append("a bad boundary: no displacement is prescribed anywhere, so the body can move as a rigid body")
        if problem.get("kind") == "displacement_beyond_bound":
            causes.append("a bad boundary or load: a prescribed displacement, traction or eigenstrain far too large "
                          "for the domain")
        if not causes:
            causes.append("time step or stiffness contrast (check solver.dt / electrochem.dt and the materials)")
        return causes

    # ------------------------------------------------------------ physics steps
    def cascade(self) -> tuple[int, int, float]:
        """Relax, then let bonds fail and relax again until none does (mechanics/cascade.py). Returns
        (solver iterations, bonds broken, residual)."""
        s = self.setup.scene.solver
        r = cascade(self.model, s.tolerance, s.max_iterations, s.break_mode, s.most_stretched_band, s.max_cascade,
                    s.damage_step, s.damage_tolerance)
        return r.iterations, r.broken, r.residual

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
            **({"grain": self.setup.grain_ids} if self.setup.grain_ids is not None else {}),
        }

    def steps(self):
        """Yield after every load step (quasi-static) or output interval (dynamic)."""
        s = self.setup.scene.solver
        m = self.model
        if s.kind == "quasi_static":
            t_end = s.t_end or 1.0
            for k in range(self.resume_step + 1, s.load_steps + 1):
                m.load = k / s.load_steps
                m.time = m.load * t_end
                if self.has_eigenstrain:
                    m.set_field("eps", m.load * self.setup.eigenstrain)
                iters, broken, res = self.cascade()
                yield k, iters, broken, res
        else:
            if self.dt_dynamic is None:  # a resumed run keeps the Δt it started with
                self.dt_dynamic = s.dt or m.stable_dt(s.dt_safety)
            dt = self.dt_dynamic
            nsteps = max(1, math.ceil(s.t_end / dt - 1e-9))
            every = self.setup.scene.output.every
            if self.resume_step == 0:  # a resumed run has its forces from the checkpoint
                m.impose_boundary()
                m.compute_forces()
            broken = 0
            for k in range(self.resume_step + 1, nsteps + 1):
                m.verlet_step(dt)
                broken += m.break_bonds(1.0)
                if k % every == 0 or k == nsteps:
                    yield k, 0, broken, float("nan")
                    broken = 0

    # ------------------------------------------------------------ the run
    def run(self, out: Path | None, on_step: Callable[[int, int, dict], None] | None = None,
            extra_manifest: dict | None = None, resume: bool = False, source_text: str | None = None,
            on_snapshot: Callable[[int, float, dict], None] | None = None) -> dict:
        """Run to the end; write the run folder if ``out`` is given. Returns the summary.

        ``resume``: ``out`` is an existing run folder; continue from its last checkpoint (from the
        start if it has none), cutting the time series and the snapshot index back to it.
        ``source_text``: the scene file's text, kept beside the checkpoints for ``--resume``.
        """
        t0 = time.time()
        scene = self.setup.scene
        ts = snaps = ckpt = None
        wall_before = 0.0
        last_snap = k = 0
        if out is not None:
            if resume:
                wall_before, last_snap = self._resume_from(out)
                k = self.resume_step
            else:
                resolved = scene.model_dump(mode="json", exclude_none=True)
                manifest = build_manifest(resolved, dict(
                    material_sources=material_sources(self.setup.names, scene),
                    bond_constants=self.setup.table.describe(self.setup.names),
                    lattice=dict(shape=list(self.setup.lattice.shape), sites=self.setup.lattice.n_sites,
                                 stencil_offsets=self.setup.stencil.size), **(extra_manifest or {})))
                write_manifest(out, manifest)
                atomic_write_text(out / "scene.toml", dump_scene(scene))
                if source_text is not None:
                    write_source(out, source_text)
            ts = TimeSeriesWriter(out / "timeseries.csv", self.columns)
            if resume:
                ts.truncate_rows(min(len(self.records), ts.n_rows))
            snaps = SnapshotWriter(out)
            x = self.setup.lattice.positions()
            o = scene.output
            if o.checkpoint and (o.checkpoint_every is not None or o.checkpoint_seconds is not None):
                ckpt = Checkpointer(out, o.checkpoint_every, o.checkpoint_seconds)
                ckpt.last_step = self.resume_step
        status = "completed"
        problem = None
        try:
            try:
                for k, iters, broken, res in self.steps():
                    problem = self.check_state()
                    if problem is not None:
                        problem["step"] = k
                        break
                    row = self.record(k, iters, broken, res)
                    if ts is not None:
                        ts.append(row)
                        if k % scene.output.every == 0 or self.snapshot_now():
                            fields = self.snapshot_fields()
                            snaps.write(k, self.model.time, x, fields)
                            last_snap = k
                            if on_snapshot is not None:  # e.g. pdssb.viz.render.LiveVideo
                                on_snapshot(k, self.model.time, fields)
                        if ckpt is not None and ckpt.due(k):
                            self._write_checkpoint(ckpt, k, last_snap, wall_before + time.time() - t0)
                    if on_step is not None:
                        on_step(*self.progress(k), row)
            except FloatingPointError as e:  # a solver met a non-finite residual
                problem = dict(field="residual", kind="nan_or_inf", message=str(e), step=k + 1, time_s=self.model.time)
            if problem is not None:
                status = "diverged"
                problem["likely_causes"] = self.likely_causes(problem)
                problem["last_checkpoint_step"] = ckpt.last_step if ckpt is not None and ckpt.count + self.resume_step else None
                if out is not None:
                    atomic_write_json(out / "diagnostic.json", problem)
            else:
                if snaps is not None and k and last_snap != k:
                    fields = self.snapshot_fields()
                    snaps.write(k, self.model.time, x, fields)
                    last_snap = k
                    if on_snapshot is not None:
                        on_snapshot(k, self.model.time, fields)
                if ckpt is not None:  # the final state (marked final; rewritten if the last step had one)
                    self._write_checkpoint(ckpt, k, last_snap, wall_before + time.time() - t0, final=True)
        finally:
            if ts is not None:
                ts.close()
        summary = self.summary(status, wall_before + time.time() - t0)
        if problem is not None:
            summary["diagnostic"] = {key: problem[key] for key in ("step", "field", "kind") if key in problem}
        if out is not None:
            finalize_manifest(out, wall_time_s=summary["wall_time_s"], status=status, summary=summary)
            atomic_write_json(out / "summary.json", summary)
        return summary

    def _write_checkpoint(self, ckpt: Checkpointer, step: int, last_snap: int, wall: float, final: bool = False) -> None:
        arrays, scalars = self.state_dict()
        ckpt.write(step, arrays, dict(scalars, last_snap=last_snap, wall_time_s=wall, final=final,
                                      precision="f64" if self.model.np_float == np.float64 else "f32"))

    def _resume_from(self, out: Path) -> tuple[float, int]:
        """Load the last checkpoint of ``out`` (if any) and cut its outputs back to it; (wall time so far, last snapshot)."""
        from .io.manifest import finalize_manifest as _merge
        from .io.snapshots import PvdIndex
        from .io.timeseries import read_timeseries

        found = read_checkpoint(out)
        step, wall, last_snap, t_ckpt = 0, 0.0, 0, None
        if found is not None:
            record, arrays = found
            step = int(record["step"])
            n = int(record["n_records"])
            records = []
            if n > 1:
                table = read_timeseries(out / "timeseries.csv")
                if len(next(iter(table.values()))) < n:
                    raise ValueError(f"{out / 'timeseries.csv'} has fewer rows than the checkpoint holds")
                records = [{c: float(table[c][r]) for c in table} for r in range(n - 1)]
            self.load_state(step, arrays, record, records)
            wall, last_snap, t_ckpt = float(record["wall_time_s"]), int(record["last_snap"]), float(self.model.time)
        # no checkpoint: the run starts over (snapshot times are positive)
        PvdIndex(out / "snapshots.pvd").truncate_after(-1.0 if t_ckpt is None else t_ckpt)
        for folder in (out, out / "snapshots", out / "checkpoint"):
            for f in folder.iterdir() if folder.is_dir() else ():
                num = f.name.split(".")[0].rsplit("_", 1)[-1]
                if folder.name == "snapshots" and num.isdigit() and int(num) > last_snap:
                    f.unlink()  # a snapshot newer than the checkpoint
                elif f.name.startswith(".") and ".tmp" in f.name:
                    f.unlink()  # a temp file orphaned by a kill during an atomic write
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        resumes = list(manifest.get("resumes", [])) + [dict(from_step=step, utc=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))]
        _merge(out, resumes=resumes, status="running")
        return wall, last_snap

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
            **({"solver": self.solver_counts()} if self.model.direct is not None else {}),
        }

    def solver_counts(self) -> dict[str, int]:
        """What the direct solver did over the run (a checkpoint carries the counters): Newton steps (on
        the reference K and, of them, on the current tangent), factorisations, CG iterations, ADR
        fall-backs, and the unknowns shifted as unsupported at the last refresh."""
        st = self.model.direct.stats
        return {"newton_steps": int(st.get("outer_iterations", 0)),
                "current_tangent_steps": int(st.get("tangent_steps", 0)),
                "factorisations": int(st.get("factorisations", 0)),
                "tangent_factorisations": int(st.get("tangent_factorisations", 0)),
                "cg_iterations": int(st.get("cg_iterations", 0)),
                "adr_fallbacks": int(st.get("adr_fallbacks", 0)),
                "shifted_unknowns": int(st.get("shifted_unknowns", 0))}
