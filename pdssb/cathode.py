"""The composite-cathode run of seed 003: an NCM particle charged and discharged at constant current
swells anisotropically and debonds from its matrix (docs/cathode.md).

Each step, from the state at its start:

1. the cell's potentials at the set current (electrochem/ionic.py): Butler–Volmer on every surface site
   of the particle with the open-circuit potential U(y) of its Li, the exchange current i0(y) and the
   interfacial resistance R_int = R_0 exp(D_G/δ_c) of its debonding gap; ionic conduction in the
   matrix and the separator; the Li anode at 0 V. A cell voltage past the cut-off ends the half-cycle;
2. the Li in the particle (electrochem/intercalation.py): one backward-Euler step of the per-grain
   tensor diffusion with the surface flux −i/F linearised in c and in the cell voltage, the total held
   at the set current, so that the Li balance is exact;
3. the mechanics: each particle site's eigenstrain is its grain's θβ (rotated to the lab frame; in 2D
   the plane-strain equivalent, lattice/particle.py) times c_max (y − y0) (:meth:`CathodeSimulation.
   strain_driver`; c − c0 in the physical Li window), ramped from the last step's in
   sub-steps that damage no cohesive bond by more than the scene's limit (mechanics/cascade.advance);
4. the debonding gap of every surface site from the inelastic openings of its particle–matrix bonds
   (:func:`surface_gaps`), which sets the next step's interfacial resistances.

Δt grows by ``DT_GROWTH`` per step up to ``cathode.dt_max``, cut so that no surface site's Li fraction
moves by more than ``cathode.max_stoichiometry_step`` and the voltage by no more than
``cathode.max_voltage_step`` in one step (both judged from the last step's rates).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from .config.resolve import Setup
from .electrochem import ocv
from .electrochem.intercalation import Intercalation, bond_laplacian, fit_conductances, interface_bonds
from .electrochem.ionic import IonicCell
from .lattice.stencil import Stencil
from .mechanics.bond_laws import DAMAGE_LEVELS
from .mechanics.cascade import NoEquilibrium, advance
from .mechanics.solvers.assembly import bond_eigenstrain
from .mechanics.pmb import site_volume
from .simulation import Simulation
from .step import CellSolve, StepResult
from .units import FARADAY_C_PER_MOL, GAS_CONSTANT_J_PER_MOL_K

CATHODE_COLUMNS = [
    "step", "time_s", "dt_s", "phase", "cell_voltage_V", "current_nA", "capacity_mAh", "capacity_charge_mAh",
    "capacity_discharge_mAh", "li_particle_pmol", "y_surface_mean", "D_G_ave_nm", "D_G_max_nm",
    "R_int_mean_Ohm_cm2", "mean_overpotential_V", "mean_resistance_drop_V", "volumetric_strain_extreme",
    "von_mises_max_MPa",
    "von_mises_mean_MPa", "hydrostatic_max_MPa", "hydrostatic_min_MPa", "interface_damage_mean",
    "interface_bonds_broken", "bonds_broken_total", "equilibrium_iterations", "residual", "cell_newton_iterations",
    "cell_cg_iterations", "li_balance_error",
]
#: Δt grows by this factor per step while the step limits allow
DT_GROWTH = 1.5
#: 1C: the current that gives up the particle's initial Li in one hour (s)
HOUR_S = 3600.0
CHARGE, DISCHARGE = 1, -1


def voigt(t: np.ndarray) -> np.ndarray:
    """(G, d, d) symmetric tensors → (G, 3 | 6) in the Voigt order of pmb.bond_eigenstrain (tensor shear)."""
    if t.shape[1] == 2:
        return np.stack([t[:, 0, 0], t[:, 1, 1], t[:, 0, 1]], axis=1)
    return np.stack([t[:, 0, 0], t[:, 1, 1], t[:, 2, 2], t[:, 1, 2], t[:, 0, 2], t[:, 0, 1]], axis=1)


def surface_gaps(entry: np.ndarray, area: np.ndarray, opening: np.ndarray, cosine: np.ndarray,
                 n_sites: int) -> np.ndarray:
    """D_G per site (m): Σ_k a_k w_k / Σ_k a_k |ξ̂_k·n| over the interface bonds k credited to it.

    A gap g across a surface of normal n opens a bond crossing it by g |ξ̂·n|, so a uniform gap is
    returned exactly. ``opening``: w_k, the inelastic opening of each bond; ``cosine``: |ξ̂_k·n|."""
    num = np.bincount(entry, weights=area * opening, minlength=n_sites)
    den = np.bincount(entry, weights=area * cosine, minlength=n_sites)
    return np.divide(num, den, out=np.zeros(n_sites), where=den > 0)


class CathodeSimulation(Simulation):
    """A [cathode] scene's run (module docstring); :meth:`run` writes its run folder as any run does."""

    columns = CATHODE_COLUMNS

    def __init__(self, setup: Setup, precision: str = "f64"):
        super().__init__(setup, precision)
        cs = setup.cathode
        sc = setup.scene.cathode
        self.cs, self.sc = cs, sc
        lat = setup.lattice
        dim = lat.dim
        self.dim = dim
        ids = setup.material_ids
        self.particle = ids == cs.particle
        matrix = ids == cs.matrix
        separator = ids == cs.separator
        anode = ids == cs.anode
        self.report_mask = self.particle
        self.model.use_tensor_eigenstrain()
        thickness = setup.thickness
        self.volume = site_volume(lat.dx, dim, thickness)
        mat = cs.material
        self.mat = mat
        self.window = ocv.LiWindow(sc.li_window, mat.max_concentration.value, mat.initial_concentration.value,
                                   ocv.ncm111_stoichiometry(sc.voltage_max))
        self.f = FARADAY_C_PER_MOL / (GAS_CONSTANT_J_PER_MOL_K * sc.temperature)
        self.alpha = mat.transfer_coefficient.value

        # interface bonds of the mechanics stencil: the surface, its Butler–Volmer areas and its gap
        ib = interface_bonds(lat, setup.stencil, self.particle, matrix, thickness)
        self.ib = ib
        area = np.bincount(ib.entry, weights=ib.area, minlength=lat.n_sites)
        self.surface = np.nonzero(area > 0)[0]
        self.surface_area = area[self.surface]
        offs = setup.stencil.offsets.astype(np.float64)
        lens = np.linalg.norm(offs, axis=1)
        self.unit = offs / lens[:, None]
        self.bond_length = lens * lat.dx
        x = lat.positions()
        centre = cs.micro.centre[:dim]
        r = x[ib.entry] - centre
        normal = r / np.maximum(np.linalg.norm(r, axis=1, keepdims=True), 1e-300)
        self.cosine = np.abs(np.einsum("bi,bi->b", self.unit[ib.offset], normal))
        self.gap = np.zeros(lat.n_sites)  # D_G per site (m)

        # diffusion in the grains
        tensors = cs.micro.lab_tensors(mat.principal_diffusivity())
        if dim == 2:
            tensors = tensors[:, :2, :2].copy()
        dstencil = Stencil(dim, cs.diffusion_horizon, setup.scene.domain.partial_volume)
        self.inter = Intercalation(lat, dstencil, self.particle, np.where(self.particle, cs.grain, 0), tensors,
                                   area, thickness, preconditioner=setup.scene.solver.preconditioner)
        self.c0 = mat.initial_concentration.value
        self.inter.set_concentration(self.c0)
        self.moles0 = self.inter.moles()
        self.current_1c = self.moles0 * FARADAY_C_PER_MOL / HOUR_S

        # the ionic potential problem: matrix and separator, the surface spread onto the matrix, the anode
        electrolyte = matrix | separator
        cstencil = Stencil(dim, sc.conduction_horizon, setup.scene.domain.partial_volume)
        gtab = np.stack([fit_conductances(cstencil, float(cs.kappa[mask].max()) * np.eye(dim), lat.dx).g
                         for mask in (matrix, separator)])
        L, esites = bond_laplacian(lat, cstencil, electrolyte, np.where(separator, 1, 0), gtab, self.volume)
        eindex = np.full(lat.n_sites, -1, dtype=np.int64)
        eindex[esites] = np.arange(len(esites))
        sindex = np.full(lat.n_sites, -1, dtype=np.int64)
        sindex[self.surface] = np.arange(len(self.surface))
        cols = eindex[ib.exit]
        if (cols < 0).any():
            raise ValueError("an interface bond of the particle leads to no electrolyte site")
        spread = sparse.csr_matrix((ib.area / area[ib.entry], (sindex[ib.entry], cols)),
                                   shape=(len(self.surface), len(esites)))
        ab = interface_bonds(lat, cstencil, separator, anode, thickness)
        anode_area = np.bincount(eindex[ab.entry], weights=ab.area, minlength=len(esites))
        self.ionic = IonicCell(L, self.surface_area, spread, anode_area, sc.anode_exchange_current_density,
                               self.alpha, self.f, sc.solve_tolerance, setup.scene.solver.preconditioner)
        self.phi = np.zeros(len(esites))

        # the chemical strain per unit c − c0 of each grain, in the lab frame
        principal = mat.principal_expansion()
        if dim == 2:
            nu = setup.materials[cs.particle - 1].poisson_ratio
            per_grain = voigt(cs.micro.plane_strain_eigenstrain(principal, nu))
        else:
            per_grain = voigt(cs.micro.lab_tensors(principal))
        self.strain_per_c = np.zeros((lat.n_sites, per_grain.shape[1]))
        self.strain_per_c[self.particle] = per_grain[cs.grain[self.particle]]
        self.eps_now = np.zeros_like(self.strain_per_c)

        self.t = 0.0
        self.phase = CHARGE
        self.dt_next = sc.dt_initial
        self.voltage = float(ocv.ncm111_ocp(self.window.y(self.c0)))
        self.capacity = {CHARGE: 0.0, DISCHARGE: 0.0}  # C
        self.phase_time = {CHARGE: 0.0, DISCHARGE: 0.0}  # s
        self.finished = False

    # ------------------------------------------------------------ quantities
    @property
    def current(self) -> float:
        """A, positive on charge (the particle gives up Li)."""
        return self.phase * self.sc.c_rate * self.current_1c

    def surface_y(self) -> np.ndarray:
        return self.window.y(self.inter.field()[self.surface])

    def strain_driver(self, c: np.ndarray) -> np.ndarray:
        """c_max (y(c) − y0) per site (mol m⁻³): the Li change the lattice strain follows. The strain reads
        the stoichiometry of the Li window, as U(y) does: in the ``paper`` window the particle's whole
        inventory spans the open-circuit potential's range, and so the measured unit-cell change over it
        (expansion_coefficient's source); in the ``physical`` window this is c − c0."""
        y = self.window.y(c)
        return np.where(self.particle, self.window.max_concentration * (y - self.window.y0), 0.0)

    def volumetric_strain(self) -> np.ndarray:
        """ε_V = ∇·u on the particle sites whose grid neighbours are all particle (central differences,
        which would read the gap as strain across the interface), NaN elsewhere. In 2D plane strain
        ε_zz = 0, so ε_V = ε_xx + ε_yy."""
        lat = self.setup.lattice
        u = self.model.field("u").reshape(*lat.shape, self.dim)
        inner = self.particle.reshape(lat.shape).copy()
        for a in range(self.dim):
            for step in (1, -1):
                inner &= np.roll(self.particle.reshape(lat.shape), step, axis=a)
        ev = sum(np.gradient(u[..., a], lat.dx, axis=a) for a in range(self.dim))
        return np.where(inner, ev, np.nan).reshape(-1)

    def interface_state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(opening w_k (m), damage d_k, intact) of every particle–matrix bond of the mechanics stencil.

        A softening bond at damage d under stretch s carries (1 − d)c s, the force of an intact bond
        stretched by (1 − d)s: the rest, d·s·|ξ|(1 + ε*), is its inelastic opening. A broken bond opens by
        its whole elongation. Compression opens nothing."""
        m, lat, ib = self.model, self.setup.lattice, self.ib
        pad = lat.interior_index()
        p, q, k = pad[ib.active], pad[ib.matrix], ib.offset
        u = m.u.to_numpy()
        eps = m.eps.to_numpy()
        bits = m.bits.to_numpy()
        rest = self.bond_length[k] * (1.0 + bond_eigenstrain(eps, p, q, k, self.unit))
        y = self.unit[k] * self.bond_length[k][:, None] + (u[q] - u[p])
        s = np.linalg.norm(y, axis=1) / rest - 1.0
        intact = ((bits[p, k >> 5] >> (k & 31).astype(np.uint32)) & 1) == 1
        hist = m.hist.to_numpy()
        d = hist[p, k].astype(np.float64) / DAMAGE_LEVELS if hist.shape[1] > 1 else np.zeros(len(k))
        d = np.where(intact, d, 1.0)
        return d * np.maximum(s, 0.0) * rest, d, intact

    def update_gap(self) -> None:
        w, _, _ = self.interface_state()
        self.gap = surface_gaps(self.ib.entry, self.ib.area, w, self.cosine, self.setup.lattice.n_sites)

    def gap_stats(self) -> tuple[float, float]:
        """(D_G_ave, D_G_max) in m over the surface sites, the average weighted by their areas."""
        g = self.gap[self.surface]
        return float((g * self.surface_area).sum() / self.surface_area.sum()), float(g.max())

    def resistances(self) -> np.ndarray:
        return self.sc.interface_resistance * np.exp(self.gap[self.surface] / self.cs.gap_length)

    # ------------------------------------------------------------ checkpoint state
    def state_dict(self) -> tuple[dict[str, np.ndarray], dict]:
        arrays, scalars = super().state_dict()
        arrays.update(self.inter.state("inter."))
        arrays.update(self.ionic.state("ionic."))  # the preconditioner of the cell solve: a bitwise resume
        arrays.update({"cathode.phi": self.phi, "cathode.eps": self.eps_now, "cathode.gap": self.gap})
        scalars.update(t=self.t, phase=self.phase, dt_next=self.dt_next, voltage=self.voltage,
                       capacity=[self.capacity[CHARGE], self.capacity[DISCHARGE]],
                       phase_time=[self.phase_time[CHARGE], self.phase_time[DISCHARGE]], finished=self.finished)
        return arrays, scalars

    def load_state(self, step: int, arrays: dict[str, np.ndarray], scalars: dict,
                   records: list[dict] | None = None) -> None:
        super().load_state(step, arrays, scalars, records)
        self.inter.load(arrays, "inter.")
        self.ionic.load(arrays, "ionic.")
        self.phi = np.array(arrays["cathode.phi"])
        self.eps_now = np.array(arrays["cathode.eps"])
        self.gap = np.array(arrays["cathode.gap"])
        self.t, self.phase, self.dt_next = float(scalars["t"]), int(scalars["phase"]), float(scalars["dt_next"])
        self.voltage, self.finished = float(scalars["voltage"]), bool(scalars["finished"])
        self.capacity = {CHARGE: scalars["capacity"][0], DISCHARGE: scalars["capacity"][1]}
        self.phase_time = {CHARGE: scalars["phase_time"][0], DISCHARGE: scalars["phase_time"][1]}

    def _guarded_fields(self):
        yield from super()._guarded_fields()
        yield "c", self.inter.c

    # ------------------------------------------------------------ the step
    def solve_cell(self):
        """The cell's potentials at the set current and the present Li and gaps."""
        y = self.surface_y()
        U = ocv.ncm111_ocp(y)
        i0 = ocv.exchange_current(self.mat.exchange_current_density.value, y)
        sol = self.ionic.solve(self.current, U, i0, self.resistances(), self.voltage, self.phi)
        return sol, y

    def _past_cutoff(self, voltage: float) -> bool:
        return voltage >= self.sc.voltage_max if self.phase == CHARGE else voltage <= self.sc.voltage_min

    def _phase_over(self, voltage: float) -> bool:
        limit = self.sc.charge_time if self.phase == CHARGE else self.sc.discharge_time
        return self._past_cutoff(voltage) or (limit is not None and self.phase_time[self.phase] >= limit - 1e-9)

    def _next_phase(self) -> bool:
        """End the half-cycle; True when the run goes on."""
        if self.phase == CHARGE and self.sc.protocol == "charge_discharge":
            self.phase = DISCHARGE
            self.dt_next = self.sc.dt_initial
            return True
        self.finished = True
        return False

    def mechanics(self, eps_new: np.ndarray):
        """Equilibrium under the new chemical strain, with the cohesive bonds' damage followed in sub-steps."""
        s = self.setup.scene.solver
        m = self.model
        eps_old = self.eps_now

        def apply(lam: float) -> None:
            m.set_field("eps", eps_old + lam * (eps_new - eps_old))

        r = advance(m, apply, 0.0, 1.0, s.tolerance, s.max_iterations, s.max_damage_increment,
                    **self.cascade_args())
        if not r.converged:
            raise NoEquilibrium(r, s.tolerance, self.t)
        self.eps_now = eps_new
        return r

    def steps(self):
        sc = self.sc
        step = self.resume_step
        while not self.finished:
            sol, y = self.solve_cell()
            if self._phase_over(sol.voltage):
                self.voltage = sol.voltage
                if not self._next_phase():
                    return
                continue
            dt = self.dt_next
            limit = sc.charge_time if self.phase == CHARGE else sc.discharge_time
            if limit is not None:
                dt = min(dt, limit - self.phase_time[self.phase])
            dydc = self.window.dy_dc()
            # ∂q/∂c and ∂q/∂V of q = −i/F, i = i(V − Pφ − U(y(c)))
            dU = ocv.ncm111_ocp_slope(y) * dydc
            n = self.setup.lattice.n_sites
            q = np.zeros(n)
            slope = np.zeros(n)
            vslope = np.zeros(n)
            q[self.surface] = -sol.i / FARADAY_C_PER_MOL
            slope[self.surface] = sol.g * dU / FARADAY_C_PER_MOL
            vslope[self.surface] = -sol.g / FARADAY_C_PER_MOL
            c_before = self.inter.field()[self.surface]
            res = self.inter.step(dt, q, slope, vslope, total=-self.current / FARADAY_C_PER_MOL)
            c_after = self.inter.field()
            self.phi = sol.phi
            self.voltage = sol.voltage + res.shift
            eps_new = self.strain_per_c * self.strain_driver(c_after)[:, None]
            r = self.mechanics(eps_new)
            self.update_gap()
            self.bonds_broken_total += r.broken
            self.t += dt
            self.model.time = self.t
            self.phase_time[self.phase] += dt
            self.capacity[self.phase] += abs(self.current) * dt
            step += 1
            self.last = dict(sol=sol, y=y, balance=res.balance_error(), shift=res.shift)
            # the next Δt from this step's rates
            dy = float(np.abs(self.window.y(c_after[self.surface]) - self.window.y(c_before)).max())
            grow = DT_GROWTH
            if dy > 0:
                grow = min(grow, sc.max_stoichiometry_step / dy)
            if res.shift != 0.0:
                grow = min(grow, sc.max_voltage_step / abs(res.shift))
            self.dt_next = float(min(sc.dt_max, max(dt * max(grow, 0.1), 1e-3)))
            yield StepResult(step, self.t, dt, 1.0, r.iterations, r.residual, r.broken, self.bonds_broken_total,
                             cell=CellSolve(self.current, float(np.average(sol.eta, weights=self.surface_area)),
                                            self.voltage, sol.newton, sol.cg))

    # ------------------------------------------------------------ recording
    def row(self, result: StepResult) -> dict:
        m = self.model
        m.compute_stress()
        sel = self.report_mask
        vm, hyd = m.field("vm")[sel], m.field("hyd")[sel]
        ev = self.volumetric_strain()[sel]  # the paper's ε_V,max: the largest |ε_V| in the particle, signed
        ev = ev[np.isfinite(ev)]
        g_ave, g_max = self.gap_stats()
        _, d, intact = self.interface_state()
        sol = self.last["sol"]
        w = self.surface_area
        return {
            "step": result.step, "time_s": result.time_s, "dt_s": result.dt_s, "phase": self.phase,
            "cell_voltage_V": self.voltage, "current_nA": self.current * 1e9,
            "capacity_mAh": self.capacity[self.phase] / 3.6, "capacity_charge_mAh": self.capacity[CHARGE] / 3.6,
            "capacity_discharge_mAh": self.capacity[DISCHARGE] / 3.6,
            "li_particle_pmol": self.inter.moles() * 1e12, "y_surface_mean": float(np.average(self.surface_y(), weights=w)),
            "D_G_ave_nm": g_ave * 1e9, "D_G_max_nm": g_max * 1e9,
            "R_int_mean_Ohm_cm2": float(np.average(self.resistances(), weights=w)) * 1e4,
            "mean_overpotential_V": float(np.average(sol.eta, weights=w)),
            "mean_resistance_drop_V": float(np.average(sol.drop, weights=w)),
            "volumetric_strain_extreme": float(ev[np.argmax(np.abs(ev))]),
            "von_mises_max_MPa": float(vm.max()) / 1e6, "von_mises_mean_MPa": float(vm.mean()) / 1e6,
            "hydrostatic_max_MPa": float(hyd.max()) / 1e6, "hydrostatic_min_MPa": float(hyd.min()) / 1e6,
            "interface_damage_mean": float(d.mean()), "interface_bonds_broken": int((~intact).sum()),
            "bonds_broken_total": result.bonds_broken_total, "equilibrium_iterations": result.equilibrium_iterations,
            "residual": result.residual, "cell_newton_iterations": sol.newton, "cell_cg_iterations": sol.cg,
            "li_balance_error": self.last["balance"],
        }

    def snapshot_fields(self) -> dict[str, np.ndarray]:
        out = super().snapshot_fields()
        out["concentration_mol_m3"] = self.inter.field()
        out["gap_m"] = self.gap
        out["grain"] = self.cs.grain.astype(np.int32)
        return out

    def progress(self, step: int) -> tuple[float, float | None]:
        return self.t, None

    def summary(self, status: str, wall: float) -> dict:
        out = super().summary(status, wall)
        rows = self.records
        ch = [r for r in rows if r["phase"] == CHARGE]
        dis = [r for r in rows if r["phase"] == DISCHARGE]
        q_ch, q_dis = self.capacity[CHARGE] / 3.6, self.capacity[DISCHARGE] / 3.6
        out.update(
            charge_time_s=self.phase_time[CHARGE], discharge_time_s=self.phase_time[DISCHARGE],
            capacity_charge_mAh=q_ch, capacity_discharge_mAh=q_dis,
            coulomb_efficiency=(q_dis / q_ch) if q_ch > 0 and dis else None,
            li_particle_start_pmol=self.moles0 * 1e12,
            li_particle_end_of_charge_pmol=ch[-1]["li_particle_pmol"] if ch else None,
            D_G_ave_nm_end_of_charge=ch[-1]["D_G_ave_nm"] if ch else None,
            D_G_max_nm_end_of_charge=ch[-1]["D_G_max_nm"] if ch else None,
            D_G_ave_nm_peak=max((r["D_G_ave_nm"] for r in rows), default=None),
            D_G_max_nm_peak=max((r["D_G_max_nm"] for r in rows), default=None),
            von_mises_max_MPa_peak=max((r["von_mises_max_MPa"] for r in rows), default=None),
            von_mises_max_MPa_end_of_charge=ch[-1]["von_mises_max_MPa"] if ch else None,
            von_mises_max_MPa_end=rows[-1]["von_mises_max_MPa"] if rows else None,
            finished=self.finished,
        )
        return out

