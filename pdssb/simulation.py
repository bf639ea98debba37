"""One run of a mechanical scene: load stepping (or dynamics) and recording.

Quasi-static: the prescribed displacements, tractions and eigenstrains are ramped over ``load_steps``. At each
step ADR finds equilibrium from the last state, then the bond-breaking cascade runs at fixed
load: break (all bonds past s0, or only the most-stretched ones first), relax, repeat until no
bond breaks. Dynamic: velocity Verlet with bonds breaking as they pass s0.

:meth:`Simulation.steps` yields a :class:`~pdssb.step.StepResult` per step; :meth:`Simulation.record`
turns one into a row of the time series; :meth:`Simulation.run` is the loop over both, with the
run folder (io/run_folder.py) written beside it.
"""

from __future__ import annotations

import math
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Callable

import numpy as np

from .config.resolve import Setup
from .io.run_folder import RunFolder
from .mechanics.cascade import CascadeResult, NoEquilibrium, advance, cascade
from .mechanics.model import MechanicsModel
from .roles import SE, role_codes
from .step import StepResult

COLUMNS = [
    "step", "time_s", "load", "equilibrium_iterations", "residual", "bonds_broken_step", "bonds_broken_total",
    "damage_sum", "damage_max", "von_mises_max_MPa", "von_mises_mean_MPa", "hydrostatic_max_MPa",
    "hydrostatic_min_MPa", "strain_energy_J", "dissipated_J",
]


class Simulation:
    """Drives a :class:`MechanicsModel` through a scene's loading; :meth:`run` also writes its run folder."""

    columns = COLUMNS

    def __init__(self, setup: Setup, precision: str = "f64"):
        self.setup = setup
        self.model = MechanicsModel(setup.lattice, setup.stencil, setup.mechanics_ids, setup.table, setup.setting,
                                    setup.thickness, precision, setup.scene.domain.surface_correction,
                                    setup.precrack_cuts)
        self.model.set_boundary(setup.fixmask, setup.u_bc, setup.v_bc, setup.body)
        if setup.scene.solver.kind == "quasi_static":
            self.model.use_solver(setup.scene.solver.method, setup.scene.solver.preconditioner)
        se = role_codes(setup.roles_by_id())[setup.material_ids] == SE
        self.report_mask = se if se.any() else setup.material_ids != 0
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
        arrays = {f"model.{name}": getattr(m, name).to_numpy() for name in self.STATE_FIELDS}
        arrays.update(self.solver_state())
        arrays["report_mask"] = np.asarray(self.report_mask, dtype=bool)
        scalars = dict(time=m.time, load=m.load, bonds_broken_total=int(self.bonds_broken_total),
                       dt_dynamic=self.dt_dynamic, n_records=len(self.records),
                       last_record=self.records[-1] if self.records else None, rng=None)
        return arrays, scalars

    def solver_state(self) -> dict[str, np.ndarray]:
        """The equilibrium solver's cache (the direct solver's matrices: its preconditioner is part of the state
        for a bitwise resume)."""
        return self.model.solver.state("direct.")

    def load_solver_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.model.solver.load(arrays, "direct.")

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
        if problem.get("kind") == "not_converged":
            causes.append("no equilibrium at this load: a piece of the body came free under a traction or body force, "
                          "or the crack left a mechanism the loads drive, or a compressed ligament is near buckling")
            causes.append(f"or too few solver iterations for ADR, the solver's last resort: solver.max_iterations = "
                          f"{s.max_iterations}, solver.tolerance = {s.tolerance:g}")
        if problem.get("kind") == "displacement_beyond_bound":
            causes.append("a bad boundary or load: a prescribed displacement, traction or eigenstrain far too large "
                          "for the domain")
        if not causes:
            causes.append("time step or stiffness contrast (check solver.dt / electrochem.dt and the materials)")
        return causes

    # ------------------------------------------------------------ physics steps
    def cascade_args(self) -> dict:
        """The scene's settings of the fixed-load cascade (mechanics/cascade.py)."""
        s = self.setup.scene.solver
        return dict(break_mode=s.break_mode, band=s.most_stretched_band, max_rounds=s.max_cascade)

    def cascade(self) -> CascadeResult:
        """Relax, then let bonds fail and relax again until none does (mechanics/cascade.py)."""
        s = self.setup.scene.solver
        return cascade(self.model, s.tolerance, s.max_iterations, **self.cascade_args())

    def apply_load(self, lam: float) -> None:
        """The quasi-static load at fraction λ of the scene's: prescribed displacements, body forces and
        eigenstrains scaled by λ, pseudo-time λ·t_end."""
        m = self.model
        m.load = lam
        m.time = lam * (self.setup.scene.solver.t_end or 1.0)
        if self.has_eigenstrain:
            m.set_field("eps", lam * self.setup.eigenstrain)

    def record(self, result: StepResult) -> dict:
        """Append the step's row (:attr:`columns`) to :attr:`records` and return it; changes no state."""
        row = self.row(result)
        self.records.append(row)
        return row

    def row(self, result: StepResult) -> dict:
        """The time-series row of a step: the result, and damage and stresses over :attr:`report_mask`."""
        m = self.model
        m.compute_damage()
        m.compute_stress()
        sel = self.report_mask
        dmg = m.field("dmg")[sel]
        vm = m.field("vm")[sel]
        hyd = m.field("hyd")[sel]
        dissipated = float(m.field("dissipated").sum(dtype=np.float64) * self.setup.volume)
        return {
            "step": result.step, "time_s": result.time_s, "load": result.load, "equilibrium_iterations": result.equilibrium_iterations,
            "residual": result.residual, "bonds_broken_step": result.bonds_broken,
            "bonds_broken_total": result.bonds_broken_total,
            "damage_sum": float(dmg.sum()), "damage_max": float(dmg.max()),
            "von_mises_max_MPa": float(vm.max()) / 1e6, "von_mises_mean_MPa": float(vm.mean()) / 1e6,
            "hydrostatic_max_MPa": float(hyd.max()) / 1e6, "hydrostatic_min_MPa": float(hyd.min()) / 1e6,
            "strain_energy_J": m.strain_energy(), "dissipated_J": dissipated,
        }

    def snapshot_fields(self) -> dict[str, np.ndarray]:
        m = self.model
        return {
            "displacement_m": m.field("u"),
            "damage": m.field("dmg"),
            "von_mises_Pa": m.field("vm"),
            "hydrostatic_Pa": m.field("hyd"),
            "stress_Pa": m.field("sigma"),
            "material": self.setup.material_ids.astype(np.int32),
            "bond_bits": m.lattice.gather(m.bits.to_numpy()),  # NPZ only (io.snapshots.NPZ_ONLY): crack faces
            **({"grain": self.setup.grain_ids} if self.setup.grain_ids is not None else {}),
        }

    def steps(self):
        """Yield a :class:`StepResult` after every load step (quasi-static) or output interval (dynamic)."""
        s = self.setup.scene.solver
        m = self.model
        if s.kind == "quasi_static":
            t_end = s.t_end or 1.0
            for k in range(self.resume_step + 1, s.load_steps + 1):
                r = advance(m, self.apply_load, (k - 1) / s.load_steps, k / s.load_steps, s.tolerance,
                            s.max_iterations, s.max_damage_increment, **self.cascade_args())
                if not r.converged:
                    raise NoEquilibrium(r, s.tolerance, m.time)
                iters, broken, res = r.iterations, r.broken, r.residual
                self.bonds_broken_total += broken
                yield StepResult(k, m.time, t_end / s.load_steps, m.load, iters, res, broken, self.bonds_broken_total)
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
                    self.bonds_broken_total += broken
                    yield StepResult(k, m.time, dt, m.load, 0, float("nan"), broken, self.bonds_broken_total)
                    broken = 0

    # ------------------------------------------------------------ the run
    def run(self, out: Path | None, on_step: Callable[[float, float | None, dict], None] | None = None,
            extra_manifest: dict | None = None, resume: bool = False, source_text: str | None = None,
            on_frame: Callable[[int, float, dict], None] | None = None) -> dict:
        """Run to the end; write the run folder if ``out`` is given. Returns the summary.

        ``resume``: ``out`` is an existing run folder; continue from its last checkpoint (from the
        start if it has none). ``source_text``: the scene file's text, kept for ``--resume``.
        ``on_step(done, total, row)`` after every step (a progress bar); ``on_frame(step, time, fields)``
        after every step of a quasi-static run and every snapshot of a dynamic one (a live video). A state
        that turns non-finite or runs away, or a load with no equilibrium the solver can find, ends the run
        ("diverged", with a diagnostic), the bad step unrecorded.
        """
        t0 = time.time()
        folder = None if out is None else RunFolder(out, self, on_frame)
        if folder is not None:
            folder.resume() if resume else folder.start(extra_manifest, source_text)
        step, problem = self.resume_step, None
        with folder or nullcontext():  # the time series is closed however the loop ends
            try:
                for result in self.steps():
                    step = result.step
                    problem = self.check_state()
                    if problem is not None:
                        problem["step"] = step
                        break
                    row = self.record(result)
                    if folder is not None:
                        folder.write_step(result, row)
                    if on_step is not None:
                        on_step(*self.progress(step), row)
            except FloatingPointError as e:  # a solver met a non-finite residual
                problem = dict(field="residual", kind="nan_or_inf", message=str(e), step=step + 1, time_s=self.model.time)
            except NoEquilibrium as e:  # a load the solver found no equilibrium for
                problem = dict(field="equilibrium", kind="not_converged", message=str(e), step=step + 1,
                               time_s=self.model.time, residual=e.result.residual)
            if problem is not None:
                problem["likely_causes"] = self.likely_causes(problem)
                problem["last_checkpoint_step"] = folder.last_checkpoint_step() if folder is not None else None
            if folder is not None:
                folder.end(step, problem)
        summary = self.summary("completed" if problem is None else "diverged",
                               folder.wall() if folder is not None else time.time() - t0)
        if problem is not None:
            summary["diagnostic"] = {key: problem[key] for key in ("step", "field", "kind") if key in problem}
        if folder is not None:
            folder.finish(summary)
        return summary

    def progress(self, step: int) -> tuple[float, float | None]:
        """(done, total) for a progress bar: load steps here, simulated time in coupled runs."""
        s = self.setup.scene.solver
        return step, (s.load_steps if s.kind == "quasi_static" else None)

    def summary(self, status: str, wall: float) -> dict:
        """The run's key figures, from its last recorded step (a diverged step is not recorded)."""
        last = self.records[-1] if self.records else {}
        return {
            "title": self.setup.scene.title,
            "status": status,
            "steps": len(self.records),
            "sites": self.setup.lattice.n_sites,
            "bonds_broken": last.get("bonds_broken_total", 0),
            "damage_max": last.get("damage_max"),
            "von_mises_max_MPa": last.get("von_mises_max_MPa"),
            "strain_energy_J": last.get("strain_energy_J"),
            "wall_time_s": wall,
            **({"solver": self.solver_counts()} if self.model.solver.method in ("direct", "device") else {}),
        }

    def solver_counts(self) -> dict[str, int]:
        """What the Newton solver (direct or device) did over the run (a checkpoint carries the direct one's
        counters): Newton steps (on the reference K and, of them, on the current tangent), factorisations,
        CG iterations, ADR fall-backs, and the unknowns shifted as unsupported at the last refresh."""
        st = self.model.solver.stats
        return {"newton_steps": int(st.get("outer_iterations", 0)),
                "current_tangent_steps": int(st.get("tangent_steps", 0)),
                "factorisations": int(st.get("factorisations", 0)),
                "tangent_factorisations": int(st.get("tangent_factorisations", 0)),
                "cg_iterations": int(st.get("cg_iterations", 0)),
                "adr_fallbacks": int(st.get("adr_fallbacks", 0)),
                "shifted_unknowns": int(st.get("shifted_unknowns", 0))}
