"""The coupled electro-chemo-mechanical run: plating Li into a defect cracks the electrolyte.

Each step (MODEL.md §5):
1. conduction with Butler–Volmer exchange on every intact Li–electrolyte bond (and, with fluid Li, on
   every wet bond: a crack the Li has entered), at the potential the control prescribes
   (potentiostatic) or that makes the total current the set value (galvanostatic: a scalar root-find
   of the counter-electrode potential around the Newton solve); the mechanical overpotential reads
   the Li's pressure;
2. Faraday deposition: the plated volume Ω_Li/F per coulomb goes to the site that received it. With
   fluid Li (``li_mechanics = "fluid"``, the default; mechanics/fluid.py) it adds to the Li volume of
   that site's body, whose pressure follows from its volume balance against the cavity it fills.
   With elastic Li it is the eigenstrain ε* = (1 + ΔV/V)^(1/d) − 1 of the Li site (or of every site of
   the connected Li body, ``deposition = "fluid"``). Either way the inserted volume is exactly the
   plated volume. Li sites in a prescribed-displacement region (the anode reservoir) hold none: their
   Li leaves into the external anode, and is booked there;
3. equilibrium and the bond-breaking cascade (mechanics, as the core does);
4. damage → conductivity (broken bonds carry no current; optionally seed 000's linear rule with
   κ = 0 at damage 0.8), Li following cracks: with fluid Li the electrolyte sites with damage past
   the threshold that a Li body reaches are its wet cluster, and the broken bonds across them carry
   its pressure and plate (no material changes; the Li that enters fills the crack's opening); with
   elastic Li those sites become Li, their bonds re-formed as Li or interface bonds;
5. failure checks: a connected path of damage ≥ threshold (with the Li it joins) from the Li to
   the counter electrode, Li (or a Li-filled crack) reaching the counter electrode (short circuit),
   the electrolyte falling apart, a set crack depth.

Δt is adaptive: capped by the scene's Δt, by the Li volume strain allowed per step
(``max_eigenstrain_increment``: of each elastic Li site, or of each fluid body's Li), by the next change of a control schedule, and by the number of bonds one step may break (a step that
breaks more is undone and retried with half the Δt); with ``first_break_resolution`` the step in
which the run's first bonds break is halved until it is that short, so the first break is measured.

:meth:`CoupledSimulation.steps` runs these as named phases: :meth:`~CoupledSimulation.electrochemistry`
(1–2: the cell solve and the plating rates), :meth:`~CoupledSimulation.choose_dt`,
:meth:`~CoupledSimulation.advance` (3, with the undo-and-retry) and
:meth:`~CoupledSimulation.update_after_step` (4–5).
"""

from __future__ import annotations

import numpy as np
import taichi as ti
from scipy import ndimage, optimize

from .config.resolve import Setup
from .electrochem.conduction import Conduction
from .electrochem.kinetics import KineticsParams
from .lattice.defects import FACES
from .mechanics.cascade import NoEquilibrium
from .mechanics.pmb import ID_MASK
from .roles import LI, SiteRoles, role_codes
from .simulation import Simulation
from .step import CellSolve, FailureChecks, StepResult
from .units import FARADAY_C_PER_MOL, LI_MOLAR_VOLUME_M3_PER_MOL

COUPLED_COLUMNS = [
    "step", "time_s", "dt_s", "cell_voltage_V", "current_mA", "current_density_mA_cm2", "mean_overpotential_V",
    "capacity_mAh", "capacity_mAh_cm2", "li_volume_um3", "equilibrium_iterations", "cell_newton_iterations", "cell_cg_iterations",
    "bonds_broken_step", "bonds_broken_total", "damage_sum", "damage_max", "crack_area_um2", "crack_depth_um",
    "von_mises_max_MPa", "von_mises_mean_MPa", "hydrostatic_max_MPa", "hydrostatic_min_MPa", "li_pressure_max_MPa",
    "li_sites", "failed", "failed_damage_path", "failed_short_circuit", "failed_crack_depth",
    "failed_separation", "se_pieces",
]
#: the failure checks, in the order that names the cause when several hold at once
CAUSES = ("short_circuit", "damage_path", "separation", "crack_depth")
#: halvings of a step's Δt that found no equilibrium, before the run ends with it
UNCONVERGED_RETRIES = 2


class CoupledSimulation(Simulation):
    columns = COUPLED_COLUMNS

    def __init__(self, setup: Setup, precision: str = "f64"):
        super().__init__(setup, precision)
        ec = setup.scene.electrochem
        self.ec = ec
        self.role_of = role_codes(setup.roles_by_id())  # material ids, then grain pseudo ids
        self.li_id = int(np.nonzero(self.role_of == LI)[0][0])
        self.kinetics = KineticsParams.from_scene(ec.kinetics, ec.temperature, LI_MOLAR_VOLUME_M3_PER_MOL)
        self.cond = Conduction(self.model, self.role_of, setup.kappa, setup.counter_electrode, self.kinetics,
                               ec.solve_tolerance)
        if setup.scene.solver.method == "direct":
            self.cond.use_direct_solver(setup.scene.solver.preconditioner)
        lat = setup.lattice
        self.dim = lat.dim
        self.volume = setup.volume
        self.ids = setup.material_ids.astype(np.int32).copy()
        self.roles = SiteRoles(self.role_of, self.ids)  # renewed where Li fills a crack (li_fill)
        self.li_added = np.zeros(lat.n_sites)  # m^3 of plated Li held by each site
        self.reservoir = 0.0  # m^3 plated into the anode reservoir
        self.charge = 0.0  # C
        self.free = setup.fixmask == 0
        self.kappa0 = setup.kappa.copy()
        self.ce = setup.counter_electrode
        self.ce_near = ndimage.binary_dilation(self.ce.reshape(lat.shape), iterations=1).ravel()
        self.ce_area = self._face_area(ec.counter_electrode)
        face = setup.scene.defects[0].face if setup.scene.defects else "-y"
        axis, direction = FACES[face]
        coord = lat.positions()[:, axis]
        depth = coord if direction > 0 else setup.scene.domain.size[axis] - coord
        # measured from the anode|electrolyte surface: the shallowest electrolyte site lies at half a spacing
        se0 = self.roles.se
        self.depth_from_anode = depth - (float(depth[se0].min()) - 0.5 * lat.dx if se0.any() else 0.0)
        self.phi_ce = ec.control.at(0.0) if ec.control.mode == "voltage" else 0.0
        self.failure: tuple[float, str] | None = None
        self.t = 0.0
        self.dt_next = ec.dt  # Δt the next step starts from (adaptive; part of the checkpoint state)
        self._convert = ti.ndarray(ti.i32, lat.n_padded)
        self.fluid = self.model.fluid  # li_mechanics = "fluid": the Li bodies and their pressures (mechanics/fluid.py)
        self._p_equilibrium = None  # fluid Li: (per-site pressure, its sites) at the last step's equilibrium
        if self.fluid is not None:
            self.update_li_bodies()

    # ------------------------------------------------------------ helpers
    def _face_area(self, region: str) -> float:
        r = self.setup.scene.regions[region]
        lat = self.setup.lattice
        if r.face is None:
            return float("nan")
        axis, _ = FACES[r.face]
        others = [a for a in range(self.dim) if a != axis]
        x = lat.positions()[self.ce]
        cols = np.unique(np.floor(x[:, others] / lat.dx).astype(np.int64), axis=0).shape[0]
        return cols * lat.dx ** (self.dim - 1) * (self.setup.thickness if self.dim == 2 else 1.0)

    # ------------------------------------------------------------ checkpoint state
    def state_dict(self) -> tuple[dict[str, np.ndarray], dict]:
        arrays, scalars = super().state_dict()
        arrays.update({"li_added": self.li_added, "ids": self.ids, "cond.phi": self.cond.phi.to_numpy(),
                       "cond.kappa": self.cond.kappa.to_numpy(), "cond.press": self.cond.press.to_numpy()})
        scalars.update(t=self.t, reservoir=self.reservoir, charge=self.charge, phi_ce=self.phi_ce,
                       dt_next=self.dt_next, failure=list(self.failure) if self.failure else None)
        return arrays, scalars

    def solver_state(self) -> dict[str, np.ndarray]:
        out = super().solver_state()
        if self.cond.direct is not None:
            out.update(self.cond.direct.state("cond.direct."))
        return out

    def load_solver_state(self, arrays: dict[str, np.ndarray]) -> None:
        super().load_solver_state(arrays)
        if self.cond.direct is not None:
            self.cond.direct.load(arrays, "cond.direct.")

    def load_state(self, step: int, arrays: dict[str, np.ndarray], scalars: dict,
                   records: list[dict] | None = None) -> None:
        super().load_state(step, arrays, scalars, records)
        self.li_added = np.array(arrays["li_added"], dtype=np.float64)
        self.ids = np.array(arrays["ids"], dtype=np.int32)
        self.roles.update(self.ids)
        for name in ("phi", "kappa", "press"):
            getattr(self.cond, name).from_numpy(arrays[f"cond.{name}"])
        self.t, self.reservoir, self.charge = float(scalars["t"]), float(scalars["reservoir"]), float(scalars["charge"])
        self.phi_ce, self.dt_next = float(scalars["phi_ce"]), float(scalars["dt_next"])
        self.failure = (float(scalars["failure"][0]), str(scalars["failure"][1])) if scalars["failure"] else None
        if self.fluid is not None:  # the bodies are a function of the bonds, damage and plated Li just loaded
            self.update_li_bodies()

    def _guarded_fields(self):
        yield from super()._guarded_fields()
        yield "li_added", self.li_added
        yield "potential", self.model.lattice.gather(self.cond.phi.to_numpy())

    def likely_causes(self, problem: dict) -> list[str]:
        out = super().likely_causes(problem)
        if problem.get("field") in ("li_added", "potential", "residual"):
            out.insert(0, f"time step: electrochem.dt = {self.ec.dt:.4g} s or max_eigenstrain_increment = "
                          f"{self.ec.max_eigenstrain_increment:g} too large for the plating rate, or a conductivity "
                          "contrast too large for the conduction solve")
        return out

    # ------------------------------------------------------------ electrochemistry
    def solve_at(self, phi_ce: float) -> tuple[float, dict]:
        """The potential field with the counter electrode at ``phi_ce``: (plating current, the Newton
        solve's counts)."""
        self.cond.set_counter_potential(phi_ce)
        counts = self.cond.newton()
        q, _ = self.cond.plating()
        return float(q.sum()), counts

    def solve_electrochemistry(self, t: float) -> dict:
        """Potential field at the control's value for time t; returns the cell state."""
        ctrl = self.ec.control
        target = ctrl.at(t)
        newton = cg = 0
        if ctrl.mode == "voltage":
            self.phi_ce = target
            current, counts = self.solve_at(target)
            newton, cg = counts["newton"], counts["cg"]
        else:
            i_target = target * self.ce_area
            evals = []

            def f(v):
                nonlocal newton, cg
                current, counts = self.solve_at(v)
                out = current - i_target
                newton += counts["newton"]
                cg += counts["cg"]
                evals.append((v, out))
                return out

            scale = max(abs(i_target), self.kinetics.i0 * self.ce_area)
            v0 = self.phi_ce
            f0 = f(v0)
            if abs(f0) > 1e-9 * scale:
                step = 0.05
                v1 = v0 - step if f0 > 0 else v0 + step
                f1 = f(v1)
                while f0 * f1 > 0:
                    step *= 2.0
                    if step > 100.0:
                        raise RuntimeError("galvanostatic control: no cell voltage up to 100 V carries the set current")
                    v0, f0 = v1, f1
                    v1 = v1 - step if f1 > 0 else v1 + step
                    f1 = f(v1)
                a, b = sorted((v0, v1))
                self.phi_ce = optimize.brentq(f, a, b, xtol=1e-14, rtol=1e-13, maxiter=200)
            current, counts = self.solve_at(self.phi_ce)
            newton += counts["newton"]
            cg += counts["cg"]
        q, eta = self.cond.plating()
        return dict(current=current, q=q, mean_eta=eta, newton=newton, cg=cg)

    def deposition_rates(self, q: np.ndarray) -> tuple[np.ndarray, float]:
        """Volume rate per site (m³ s⁻¹) into free Li, and the rate into the anode reservoir."""
        omega_f = LI_MOLAR_VOLUME_M3_PER_MOL / FARADAY_C_PER_MOL
        rate = q * omega_f
        if self.fluid is not None:
            return self._fluid_rates(rate)
        to_reservoir = float(rate[~self.free].sum())
        rate = np.where(self.free, rate, 0.0)
        if self.ec.deposition == "fluid":
            li_free = self.roles.li & self.free
            labels, n = ndimage.label(li_free.reshape(self.setup.lattice.shape),
                                      structure=np.ones((3,) * self.dim))
            labels = labels.ravel()
            if n:
                total = np.bincount(labels, weights=rate, minlength=n + 1)
                count = np.bincount(labels, minlength=n + 1)
                shared = np.where(labels > 0, total[labels] / np.maximum(count[labels], 1), 0.0)
                rate = shared
        return rate, to_reservoir

    def _fluid_rates(self, rate: np.ndarray) -> tuple[np.ndarray, float]:
        """deposition_rates with fluid Li: what plates into the fixed anode leaves into the reservoir; the
        rest belongs to the Li body of the site that received it (a Li site, or an electrolyte site through
        its wet bonds). ``deposition = "fluid"`` shares each body's rate equally among its members (fluid
        and wet-cluster sites), "local" leaves it where it plated: one pressure per body either way, the
        two differ only in how a body that splits later divides its Li."""
        anode = self.roles.li & ~self.free
        to_reservoir = float(rate[anode].sum())
        rate = np.where(anode, 0.0, rate)
        if self.ec.deposition == "fluid":
            lat = self.setup.lattice
            body, member = lat.gather(self.fluid.body), lat.gather(self.fluid.member)
            sel = body >= 0
            nb = self.fluid.n_bodies
            total = np.bincount(body[sel], weights=rate[sel], minlength=nb)
            count = np.bincount(body[member], minlength=nb)
            rate = np.where(member, total[body] / np.maximum(count[body], 1), 0.0)
        return rate, to_reservoir

    def _apply_eigenstrain(self, li_added: np.ndarray) -> None:
        """The plated volume as eigenstrain of the Li sites (elastic Li; for fluid Li a reading of how much
        Li each site holds, its bonds carry no force) and, with fluid Li, as each body's Li volume."""
        eps = np.where(self.roles.li, (1.0 + li_added / self.volume) ** (1.0 / self.dim) - 1.0, 0.0)
        self.model.set_field("eps", eps)
        if self.fluid is not None:
            self.fluid.set_li(self.setup.lattice.scatter(li_added))

    def update_li_bodies(self, dmg: np.ndarray | None = None) -> None:
        """Fluid Li: the bodies and their wet clusters from the current damage (Li follows a crack into the
        electrolyte sites with damage ≥ li_follows_crack that it reaches), their Li volume, and the pressure
        at the current displacement (Li that entered a crack fills its opening: the pressure falls)."""
        m, lat = self.model, self.setup.lattice
        thr = self.ec.li_follows_crack
        if dmg is None:
            m.compute_damage(self.ec.damage_measure == "directional")
            dmg = m.field("dmg")
        wettable = self.roles.se & (dmg >= thr) & ~self.ce if thr is not None else np.zeros(lat.n_sites, bool)
        self.fluid.update(lat.scatter(wettable), lat.scatter(self.roles.li))
        self.fluid.set_li(lat.scatter(self.li_added))
        self.fluid.pressures()

    def equilibrium_pressure(self) -> tuple[np.ndarray, np.ndarray]:
        """Fluid Li: (padded per-site pressure, the sites it acts on) at the last step's equilibrium; before
        any step (a new or just resumed run), the bodies' present pressure."""
        return self._p_equilibrium if self._p_equilibrium is not None else self._pressure_now()

    def _pressure_now(self) -> tuple[np.ndarray, np.ndarray]:
        """(padded per-site pressure, the sites it acts on: fluid sites and wet clusters) of the bodies as they are."""
        return self.fluid.site_pressure(), self.fluid.fluid | self.fluid.member

    # ------------------------------------------------------------ damage-driven updates
    def update_conductivity(self, dmg: np.ndarray) -> None:
        kappa = self.kappa0.copy()
        if self.ec.conductivity_damage == "seed000":
            kappa = kappa * np.clip(1.0 - dmg / 0.8, 0.0, 1.0)
        kappa = np.where(self.roles.se, kappa, 0.0)
        self.cond.kappa.from_numpy(self.setup.lattice.scatter(kappa.astype(self.model.np_float)))

    def li_fill(self, dmg: np.ndarray) -> int:
        """Electrolyte sites past the threshold, connected to Li through such sites, become Li."""
        thr = self.ec.li_follows_crack
        if thr is None:
            return 0
        shape = self.setup.lattice.shape
        li = self.roles.li
        cracked = self.roles.se & (dmg >= thr) & ~self.ce
        labels, n = ndimage.label((li | cracked).reshape(shape), structure=np.ones((3,) * self.dim))
        labels = labels.ravel()
        with_li = np.unique(labels[li & (labels > 0)])
        convert = cracked & np.isin(labels, with_li)
        if not convert.any():
            return 0
        self.ids[convert] = self.li_id
        self.roles.update(self.ids)
        lat = self.setup.lattice
        words = self.model.mat.to_numpy()
        pidx = lat.interior_index()[convert]
        words[pidx] = (words[pidx] & ~ID_MASK) | self.li_id
        self.model.mat.from_numpy(words)
        self._convert.from_numpy(lat.scatter(convert.astype(np.int32)))
        self.model.reform_bonds(self._convert)
        self.model.refresh_material_flags()
        self.li_added[convert] = 0.0
        self.report_mask = self.roles.se
        return int(convert.sum())

    def check_failure(self, dmg: np.ndarray) -> dict:
        f = self.ec.failure
        shape = self.setup.lattice.shape
        li, se = self.roles.li, self.roles.se
        damaged = se & (dmg >= f.damage_threshold)
        # what the damage rule reads: each site's damage, or its mean over the failure length
        rule = damaged if f.length is None else \
            se & (self.setup.lattice.ball_mean(dmg, se, f.length) >= f.damage_threshold)
        # the Li that entered cracks: sites turned Li (elastic Li), or the wet clusters of the bodies (fluid)
        filled = li & (self.setup.material_ids != self.li_id) if self.fluid is None else \
            se & self.setup.lattice.gather(self.fluid.member)
        short = bool(((li | filled) & self.ce_near).any())
        labels, _ = ndimage.label((li | rule).reshape(shape), structure=np.ones((3,) * self.dim))
        labels = labels.ravel()
        if f.span == "point":  # any electrolyte site at the threshold (seed 000's rule read as a local one)
            path = bool(rule.any())
        elif f.span == "pieces":
            # the sites below the threshold, face-connected (the dual of the damaged sites' 3^d neighbourhood:
            # a damaged band one site wide cuts them even where it runs diagonally)
            whole = se & ~rule
            lab, _ = ndimage.label(whole.reshape(shape))
            sizes = np.bincount(lab.ravel()[whole])[1:]
            path = bool((sizes >= f.separation * se.sum()).sum() >= 2)
        elif f.span == "electrodes":
            start = np.unique(labels[li & (labels > 0)])
            path = bool(np.isin(labels[self.ce_near & (labels > 0)], start).any())
        else:
            path = False
            grid = labels.reshape(shape)
            for a in range(self.dim):
                lo = np.unique(np.take(grid, 0, axis=a))
                hi = np.unique(np.take(grid, -1, axis=a))
                common = np.intersect1d(lo[lo > 0], hi[hi > 0])
                path |= bool(common.size)
        cracked = damaged | filled
        depth = float(self.depth_from_anode[cracked].max()) if cracked.any() else 0.0
        deep = f.crack_depth is not None and depth >= f.crack_depth
        pieces = 1
        if f.separation > 0 and se.any():
            _, lab = self.model.pieces(se)
            sizes = np.bincount(lab[se])
            pieces = int((sizes >= f.separation * se.sum()).sum())
        return dict(damage_path=path, short_circuit=short, crack_depth=deep, depth=depth,
                    separation=pieces >= 2, pieces=pieces)

    # ------------------------------------------------------------ the time loop
    def steps(self):
        """Yield a :class:`~pdssb.step.StepResult` per coupled step, until t_end or a failure."""
        m = self.model
        m.load, m.time = 1.0, self.t  # t = 0, or the checkpoint's time when resumed
        step = self.resume_step
        while self.t < self.ec.t_end * (1 - 1e-12) and self.failure is None:
            step += 1
            cell, rate, to_reservoir = self.electrochemistry()
            dt, t_out = self.choose_dt(rate)
            dt, iters, broken, res = self.advance(rate, to_reservoir, cell.current_A, dt, t_out)
            self.bonds_broken_total += broken
            failure = self.update_after_step()
            yield StepResult(step, self.t, dt, m.load, iters, res, broken, self.bonds_broken_total,
                             output_time=t_out is not None and self.t == t_out, cell=cell, failure=failure)

    def electrochemistry(self) -> tuple[CellSolve, np.ndarray, float]:
        """Phase 1–2 at the step's start: the Li pressure (mechanical overpotential: each fluid body's
        pressure, or the compressive hydrostatic virial stress of elastic Li sites), the cell solve at the
        control's value, and the plating it drives: (the solve, the volume rate per site into free Li in
        m³ s⁻¹, the rate into the anode reservoir)."""
        m = self.model
        if self.ec.kinetics.mechanical_overpotential and self.fluid is not None:
            # each body's pressure, on its Li sites and on the electrolyte sites of its wet bonds
            self.fluid.pressures()
            self.cond.press.from_numpy(self.fluid.site_pressure().astype(m.np_float))
        elif self.ec.kinetics.mechanical_overpotential:
            m.compute_stress()
            press = np.where(self.roles.li, np.maximum(-m.field("hyd"), 0.0), 0.0)
            self.cond.press.from_numpy(self.setup.lattice.scatter(press.astype(m.np_float)))
        echem = self.solve_electrochemistry(self.t)
        rate, to_reservoir = self.deposition_rates(echem["q"])
        cell = CellSolve(echem["current"], echem["mean_eta"], self.phi_ce, echem["newton"], echem["cg"])
        return cell, rate, to_reservoir

    def choose_dt(self, rate: np.ndarray) -> tuple[float, float | None]:
        """Δt of the step, and the output time it ends on (or None): the adaptive Δt, capped by t_end,
        the control's next change, the next output time and the eigenstrain increment per step."""
        ec = self.ec
        dt = min(self.dt_next, ec.t_end - self.t)
        nxt = ec.control.next_change(self.t)
        if nxt is not None:
            dt = min(dt, nxt - self.t)
        t_out = next((t for t in self.setup.scene.output.times if t > self.t * (1 + 1e-12)), None)
        if t_out is not None:
            dt = min(dt, t_out - self.t)
        if self.fluid is not None:  # the volume strain rate of each body's Li (members' volume when larger: a
            # crack that holds almost no Li yet)
            lat = self.setup.lattice
            body, member = lat.gather(self.fluid.body), lat.gather(self.fluid.member)
            sel = body >= 0
            nb = self.fluid.n_bodies
            inflow = np.bincount(body[sel], weights=rate[sel], minlength=nb)
            held = np.maximum(self.fluid.v_li, np.bincount(body[member], minlength=nb) * self.volume)
            strain_rate = float((inflow / (self.dim * held)).max(initial=0.0))
        else:
            strain_rate = float((rate / (self.dim * self.volume)).max(initial=0.0))
        if strain_rate > 0:
            dt = min(dt, ec.max_eigenstrain_increment / strain_rate)
        return dt, t_out

    def advance(self, rate: np.ndarray, to_reservoir: float, current: float, dt: float,
                t_out: float | None) -> tuple[float, int, int, float]:
        """Phase 3: plate for Δt, relax and break; a step that breaks too many bonds, or damages softening
        bonds by more than max_damage_increment, or breaks the run's first bonds in more than
        first_break_resolution, is undone and retried with half the Δt. So is a step with no equilibrium,
        UNCONVERGED_RETRIES times before the run ends with it (cascade.NoEquilibrium). Then the plated volume, the charge,
        the time and the next step's Δt move on. Returns (the Δt taken, equilibrium iterations, bonds
        broken, residual)."""
        ec = self.ec
        dt_min = ec.dt_min or ec.dt * 1e-6
        self.model.save()
        tried = None
        unconverged = 0
        while True:
            trial = self.li_added + rate * dt
            self._apply_eigenstrain(trial)
            r = self.cascade()
            if not r.converged:  # no equilibrium at this Δt: a shorter one, a few times, else the run ends
                self.model.restore()
                unconverged += 1
                if unconverged > UNCONVERGED_RETRIES or dt <= dt_min:
                    raise NoEquilibrium(r, self.setup.scene.solver.tolerance, self.t + dt)
                dt = max(0.5 * dt, dt_min)
                continue
            iters, broken, res = r.iterations, r.broken, r.residual
            # how hard the step hit the bonds: breaks, and the damage softening bonds gained, against
            # what one step may take
            severity = max(broken / ec.max_broken_per_step, self.model.damage_growth() / ec.max_damage_increment)
            # the run's first break, in a step longer than first_break_resolution: halve until it is bracketed
            bracket = ec.first_break_resolution is not None and self.bonds_broken_total == 0 and broken > 0 \
                and dt > max(ec.first_break_resolution, dt_min)
            # accept: gentle enough, or Δt at its floor, or halving Δt did not soften the step
            # (unstable growth: the crack runs at the load already reached, whatever the Δt)
            if not bracket and (severity <= 1.0 or dt <= dt_min or (tried is not None and severity > 0.75 * tried)):
                break
            if not bracket:
                tried = severity
            self.model.restore()
            dt = max(0.5 * dt, dt_min)
        self.li_added = trial
        self.reservoir += to_reservoir * dt
        self.charge += current * dt
        self.t = t_out if t_out is not None and dt == t_out - self.t else self.t + dt
        self.model.time = self.t
        self.dt_next = min(ec.dt, dt * 1.5) if severity <= 0.25 else dt
        return dt, iters, broken, res

    def update_after_step(self) -> FailureChecks:
        """Phases 4–5: damage, Li following cracks (fluid Li: the bodies' wet clusters; elastic Li: crack sites
        turned Li), conductivity, and the failure checks (the first to hold ends the run, :attr:`failure`)."""
        m = self.model
        m.compute_damage(self.ec.damage_measure == "directional")
        dmg = m.field("dmg")
        if self.fluid is not None:
            # what the row and the snapshot report: the pressure of the equilibrium just found. The bodies
            # re-formed below (Li entering new crack sites, closed faces joining) have a pressure at this
            # displacement too, but no equilibrium with it until the next step.
            self._p_equilibrium = self._pressure_now()
            self.update_li_bodies(dmg)
        else:
            self.li_fill(dmg)
        self.update_conductivity(dmg)
        fail = self.check_failure(dmg)
        if self.failure is None:
            cause = next((c for c in CAUSES if fail[c]), None)
            if cause is not None:
                self.failure = (self.t, cause)
        return FailureChecks(fail["damage_path"], fail["short_circuit"], fail["crack_depth"], fail["separation"],
                             fail["depth"], fail["pieces"], failed=self.failure is not None)

    def row(self, result: StepResult) -> dict:
        """The mechanical row (Simulation.row) with the cell, the plated Li and the failure checks."""
        base = super().row(result)
        cell, fail = result.cell, result.failure
        li = self.roles.li
        if self.fluid is not None:
            p_max = float(self.equilibrium_pressure()[0].max(initial=0.0))
        else:
            p_max = float(np.maximum(-self.model.field("hyd")[li], 0).max(initial=0.0))
        mah = self.charge / 3.6
        per_cm2 = np.isfinite(self.ce_area)
        row = dict(base, **{
            "dt_s": result.dt_s, "cell_voltage_V": cell.cell_voltage_V, "current_mA": cell.current_A * 1e3,
            "current_density_mA_cm2": cell.current_A / self.ce_area * 0.1 if per_cm2 else float("nan"),
            "mean_overpotential_V": cell.mean_overpotential_V,
            "capacity_mAh": mah, "capacity_mAh_cm2": mah / (self.ce_area * 1e4) if per_cm2 else float("nan"),
            "li_volume_um3": (self.li_added.sum() + self.reservoir) * 1e18,
            "cell_newton_iterations": cell.newton_iterations, "cell_cg_iterations": cell.cg_iterations,
            "crack_area_um2": result.bonds_broken_total * self.cond.area_per_bond * 1e12,
            "crack_depth_um": fail.depth_m * 1e6,
            "li_pressure_max_MPa": p_max / 1e6,
            "li_sites": int(li.sum()),
            "failed": int(fail.failed), "failed_damage_path": int(fail.damage_path),
            "failed_short_circuit": int(fail.short_circuit), "failed_crack_depth": int(fail.crack_depth),
            "failed_separation": int(fail.separation), "se_pieces": fail.se_pieces,
        })
        return {c: row[c] for c in self.columns}

    def progress(self, step: int) -> tuple[float, float]:
        return self.t, self.ec.t_end

    def snapshot_fields(self) -> dict[str, np.ndarray]:
        out = super().snapshot_fields()
        out["material"] = self.ids.astype(np.int32)
        if "grain" in out:  # sites that Li filled leave their grain
            out["grain"] = np.where(self.ids == self.setup.material_ids, out["grain"], 0).astype(np.int32)
        out["potential_V"] = self.model.lattice.gather(self.cond.phi.to_numpy())
        out["current_density_A_m2"] = self.cond.current_density_field()
        out["li_fraction"] = np.where(self.roles.li, 1.0 + self.li_added / self.volume, 0.0)
        if self.ec.damage_measure == "directional":  # the damage the coupling reads (the φ field is "damage")
            self.model.compute_damage(directional=True)
            out["damage_directional"] = self.model.field("dmg")
            self.model.compute_damage()
        if self.fluid is not None:
            # a fluid site has no bonds: its stress is its body's pressure, −p I (the virial would read 0)
            lat = self.setup.lattice
            pressure, held = self.equilibrium_pressure()
            p = lat.gather(pressure)
            fl = lat.gather(self.fluid.fluid)
            out["li_pressure_Pa"] = np.where(lat.gather(held), p, 0.0)
            out["hydrostatic_Pa"] = np.where(fl, -p, out["hydrostatic_Pa"])
            out["von_mises_Pa"] = np.where(fl, 0.0, out["von_mises_Pa"])
            stress = np.array(out["stress_Pa"], dtype=np.float64)
            stress[fl] = 0.0
            stress[fl, :self.dim] = -p[fl, None]
            out["stress_Pa"] = stress
            # the electrolyte sites of the wet clusters: the faces of the Li-filled cracks (viz/cracks.py)
            out["wet"] = (lat.gather(self.fluid.member) & self.roles.se).astype(np.int8)
        return out

    def summary(self, status: str, wall: float) -> dict:
        out = super().summary(status, wall)
        first = next((r for r in self.records if r["bonds_broken_total"] > 0), None)
        out.update(
            failure_time_s=self.failure[0] if self.failure else None,
            failure_cause=self.failure[1] if self.failure else None,
            time_s=self.t, capacity_mAh=self.charge / 3.6,
            # the step in which the first bonds broke: they broke after its start, by its end
            first_break_s=[first["time_s"] - first["dt_s"], first["time_s"]] if first else None,
        )
        return out
