"""The mechanical state of a lattice body and the operations on it.

:class:`MechanicsModel` owns the Taichi ndarrays (allocated once) and calls the module-level
kernels of pmb, blocked, fracture, stress, surface, adr and verlet. Kernels take ndarrays as
arguments, so they compile once per (dimension, precision) and are reused, from Taichi's offline
cache, by every scene and lattice size: changing a scene never recompiles them. Forces use the
site-blocked kernel (blocked.py) on the CPU and the per-site kernel (pmb.bond_forces) on CUDA.
"""

from __future__ import annotations

import numpy as np
import taichi as ti

from ..lattice.grid import Lattice
from ..lattice.precrack import clear_bits
from ..lattice.sight import crossing_table
from ..lattice.stencil import Stencil
from ..backend import current
from . import adr, blocked, fracture, pmb, stress, surface, verlet
from .bond_table import BondTable
from .bonds import intact_pairs
from .fluid import FluidLi, crossings, fluid_sight
from .relax import RelaxResult
from .solvers import make_solver


def _alloc_like(arr):
    """A device array of the same kind, dtype and shape as ``arr``."""
    if hasattr(arr, "n"):  # vector ndarray
        return ti.Vector.ndarray(arr.n, arr.dtype, arr.shape)
    return ti.ndarray(arr.dtype, arr.shape)


class MechanicsModel:
    """Displacements, bonds and boundary data of one body on a padded lattice."""

    #: force kernel: "auto" (site-blocked on the CPU, per-site on CUDA), "site" or "blocked" (tests, A/B)
    force_path = "auto"
    #: bonds need line of sight (lattice/sight.py); False bonds every pair of non-void sites (tests, A/B)
    line_of_sight = True

    def __init__(self, lattice: Lattice, stencil: Stencil, material_ids: np.ndarray, table: BondTable,
                 setting: str, thickness: float | None, precision: str = "f64", surface_correction: bool = True,
                 cuts: np.ndarray | None = None):
        """``cuts``: bonds cut by pre-cracks (rows of lattice.precrack.cut_bonds), cleared after line of sight."""
        self.lattice = lattice
        self.stencil = stencil
        self.setting = setting
        self.dim = lattice.dim
        self.thickness = thickness
        self.volume = pmb.site_volume(lattice.dx, self.dim, thickness)
        self.fdtype = ti.f64 if precision == "f64" else ti.f32
        self.np_float = np.float64 if precision == "f64" else np.float32
        self.szz_factor = 0.25 if setting == "strain" else 0.0
        self.table = table
        n, d, f = lattice.n_padded, self.dim, self.fdtype
        vec = lambda: ti.Vector.ndarray(d, f, n)  # noqa: E731
        sca = lambda: ti.ndarray(f, n)  # noqa: E731
        self.u, self.v, self.force, self.force_old, self.body, self.u_bc, self.v_bc = (vec() for _ in range(7))
        self.gcorr = vec()
        self.eps, self.lam, self.fabs, self.dmg, self.dissipated, self.vm, self.hyd = (sca() for _ in range(7))
        self.sigma = ti.ndarray(f, (n, 3 if d == 2 else 6))
        self.mat = ti.ndarray(ti.i32, n)
        self.fixmask = ti.ndarray(ti.i32, n)
        self.bits = ti.ndarray(ti.u32, (n, stencil.words))
        # the bonds the geometry allows (line of sight): Li filling re-forms only these; damage counts over them
        self.allowed = ti.ndarray(ti.u32, (n, stencil.words))
        self.part = ti.ndarray(f, ((n + adr.BLOCK - 1) // adr.BLOCK, 4))
        self.stats = ti.ndarray(f, 5)
        k = stencil.size
        self.lin = ti.ndarray(ti.i32, k)
        self.xi = ti.Vector.ndarray(d, f, k)
        self.xlen = ti.ndarray(f, k)
        self.beta = ti.ndarray(f, k)
        self.inv_len = ti.ndarray(f, k)
        self.bvol = ti.ndarray(f, k)
        nm = table.c.shape[0]
        self.cpair = ti.ndarray(f, (nm, nm))
        self.s0pair = ti.ndarray(f, (nm, nm))
        self.lawpair = ti.Vector.ndarray(4, f, (nm, nm))  # [law, s0, s1, s_b] per pair
        self.rho = ti.ndarray(f, nm)
        # damage history of softening bonds, one 16-bit code per directed bond (bond_laws.py); a scene
        # without softening bonds never reads it and holds a 1 × 1 placeholder
        self.hist = ti.ndarray(ti.u16, (n, k) if table.softening else (1, 1))
        self.hist.fill(0)

        self.lin.from_numpy(lattice.linear_offsets(stencil))
        self.xi.from_numpy((stencil.offsets * lattice.dx).astype(self.np_float))
        self.xlen.from_numpy((stencil.length * lattice.dx).astype(self.np_float))
        self.beta.from_numpy(stencil.beta.astype(self.np_float))
        self.inv_len.from_numpy((1.0 / (stencil.length * lattice.dx)).astype(self.np_float))
        self.bvol.from_numpy((stencil.beta * self.volume).astype(self.np_float))
        self.set_bond_table(table)
        for arr in (self.u, self.v, self.force, self.force_old, self.body, self.u_bc, self.v_bc,
                    self.eps, self.fabs, self.dmg, self.dissipated, self.vm, self.hyd, self.sigma):
            arr.fill(0)
        self.fixmask.fill(0)
        self.mat.from_numpy(lattice.scatter(material_ids.astype(np.int32)))
        self._init_bonds(cuts)
        # the allowed bonds that are mechanical: all but those to fluid Li, which carry no force. The surface
        # correction and the damage count over these, so a fluid's faces are free surfaces and a crack face
        # beside the fluid has the damage of any crack face
        self.solid_allowed = self._solid_bonds()
        if surface_correction:
            surface.surface_factors(self.mat, self.solid_allowed, self.lin, self.xi, self.xlen, self.beta,
                                    self.gcorr, self.dim, 4, 1)
        else:
            self.gcorr.fill(1)
        surface.flag_surface_sites(self.mat, self.gcorr, self.dim)
        pmb.flag_mixed_sites(self.mat, self.lin, self.lawpair)
        self.update_fictitious_density()
        # An unloaded body: |y|/|ξ| − 1 = O(ε) on its bonds, so ‖F‖ and ‖F_abs‖ are both round-off and
        # their ratio never falls below a tolerance. When ‖F_abs‖² and ‖F‖² are both below
        # (100 ε · c_max Σβ V)² per site (every bond within a stretch of 100 ε of rest, and no load
        # unbalanced), the body is at rest: equilibrium.
        unit = float(table.c.max()) * float(stencil.beta.sum()) * self.volume
        self.force_floor2 = (100.0 * float(np.finfo(self.np_float).eps) * unit) ** 2 * lattice.n_sites
        self.load = 1.0  # scale on prescribed displacements and body forces (quasi-static ramp)
        self.time = 0.0
        self.equilibrium_solves = 0  # calls of relax (the cost unit of a quasi-static run; pdssb bench --case coupled)
        self.solver = make_solver(self, "adr")  # the equilibrium solver (solvers/): use_solver picks another
        # confined Li as a pressurised fluid (fluid.py) when the pair table has a fluid id
        self.fluid = FluidLi(self, table.fluid_bulk_modulus) if table.fluid_id is not None else None
        self._saved = None  # device copies of SAVED (save/restore), made on first use
        self.damage_grows = True  # False: softening bonds keep their stored damage (relax's elastic predictor)
        # the blocked force path's arrays (blocked.BlockedForces): made here when that path is the one in use,
        # so that they count in the memory census from the start; else on first use (force_path changed)
        self._blocked = blocked.BlockedForces(self) if self.force_kernel() == "blocked" else None

    @property
    def tensor_eigenstrain(self) -> bool:
        """Whether ``eps`` holds a tensor per site (pmb.bond_eigenstrain) rather than one number."""
        return len(self.eps.shape) == 2

    def use_tensor_eigenstrain(self) -> None:
        """Hold the eigenstrain as a tensor per site (Voigt: 2D xx, yy, xy; 3D xx, yy, zz, yz, xz, xy), set
        with ``set_field("eps", (n_sites, 3 | 6) array)``: anisotropic swelling, e.g. a grain's
        intercalation strain. The force kernels then take the per-site path (the blocked CPU path vectorises
        scalar eigenstrains only)."""
        if not self.tensor_eigenstrain:
            self.eps = ti.ndarray(self.fdtype, (self.lattice.n_padded, 3 if self.dim == 2 else 6))
            self.eps.fill(0)
            self._saved = None  # save/restore copies are made again for the new shape

    def use_solver(self, method: str, preconditioner: str = "auto") -> None:
        """Reach equilibrium with the solver of ``solver.method`` (solvers/): "adr", "direct" (Newton–PCG on
        the host factorisation, with ``preconditioner``) or "device" (Newton with matrix-free PCG in kernels)."""
        self.solver = make_solver(self, method, preconditioner)


    # ------------------------------------------------------------ set-up
    def _init_bonds(self, cuts: np.ndarray | None) -> None:
        """Bonds between sites that see each other (pmb.init_bonds), less those the pre-cracks cut."""
        start, cells = crossing_table(self.stencil)
        if not self.line_of_sight:
            start = np.zeros_like(start)
        cross_lin = (cells.astype(np.int64) @ self.lattice.strides()).astype(np.int32)
        cs = ti.ndarray(ti.i32, start.size)
        cl = ti.ndarray(ti.i32, max(cross_lin.size, 1))
        cs.from_numpy(start)
        cl.from_numpy(cross_lin if cross_lin.size else np.zeros(1, np.int32))
        pmb.init_bonds(self.mat, self.lin, cs, cl, self.bits, self.allowed)
        if self.table.fluid_id is not None and self.line_of_sight:
            ids = self.mat.to_numpy() & pmb.ID_MASK
            seen = fluid_sight(self.bits.to_numpy(), ids == self.table.fluid_id, ids != 0,
                               self.lin.to_numpy().astype(np.int64), crossings(self.stencil, self.lattice))
            self.bits.from_numpy(seen)
            self.allowed.from_numpy(seen)
        if cuts is not None and len(cuts):
            bits = self.bits.to_numpy()
            clear_bits(bits, cuts)
            self.bits.from_numpy(bits)

    def _solid_bonds(self):
        """The allowed bonds less those to fluid Li (``allowed`` itself without fluid Li)."""
        if self.table.fluid_id is None:
            return self.allowed
        ids = self.mat.to_numpy() & pmb.ID_MASK
        fluid = ids == self.table.fluid_id
        bits = self.allowed.to_numpy()
        lin = self.lin.to_numpy().astype(np.int64)
        P = np.nonzero(ids != 0)[0]
        for k in range(lin.shape[0]):
            drop = P[fluid[P + lin[k]] | fluid[P]]
            bits[drop, k >> 5] &= ~(np.uint32(1) << np.uint32(k & 31))
        out = _alloc_like(self.allowed)
        out.from_numpy(bits)
        return out

    def reform_bonds(self, convert) -> None:
        """Re-form every allowed bond of the sites flagged in ``convert`` (padded i32 ndarray): Li filling a crack.
        The re-formed bonds are new: softening ones start undamaged."""
        pmb.reform_bonds(self.mat, convert, self.lin, self.allowed, self.bits)
        if self.softening:
            fracture.reset_damage(self.mat, convert, self.lin, self.hist)

    def set_bond_table(self, table: BondTable) -> None:
        self.table = table
        self.cpair.from_numpy(table.c.astype(self.np_float))
        self.s0pair.from_numpy(table.s0.astype(self.np_float))
        self.lawpair.from_numpy(table.law.astype(self.np_float))
        self.rho.from_numpy(table.rho.astype(self.np_float))

    def refresh_material_flags(self) -> None:
        """Recompute the general-path flags after material ids changed (e.g. Li filling a crack)."""
        pmb.flag_mixed_sites(self.mat, self.lin, self.lawpair)

    def update_fictitious_density(self, safety: float = 1.0) -> None:
        adr.fictitious_density(self.mat, self.gcorr, self.bits, self.lin, self.xi, self.xlen, self.beta, self.cpair,
                               self.volume, safety, self.lam)

    def set_boundary(self, fixmask: np.ndarray, u_bc: np.ndarray, v_bc: np.ndarray, body: np.ndarray) -> None:
        """Interior arrays: component bitmask of prescribed DOFs, their displacement and velocity, body force (N m⁻³)."""
        L = self.lattice
        if self.fluid is not None:  # fluid Li has no stiffness: its sites stay at u = 0 (fluid.py)
            self.fluid.set_walls(L.scatter(fixmask.astype(np.int64)))
            fixmask = np.where(self.fluid.fluid[L.interior_index()], (1 << self.dim) - 1, fixmask)
        self.fixmask.from_numpy(L.scatter(fixmask.astype(np.int32)))
        self.u_bc.from_numpy(L.scatter(u_bc.astype(self.np_float)))
        self.v_bc.from_numpy(L.scatter(v_bc.astype(self.np_float)))
        self.body.from_numpy(L.scatter(body.astype(self.np_float)))

    def impose_boundary(self) -> None:
        """Put prescribed components at load·u_bc + t·v_bc."""
        verlet.impose(self.u, self.v, self.fixmask, self.u_bc, self.v_bc, self.load, self.time, self.dim)

    # ------------------------------------------------------------ physics
    def force_kernel(self) -> str:
        """The force kernel ``compute_forces`` uses: "blocked" (CPU) or "site" (CUDA), per :attr:`force_path`.

        "auto" takes the site-blocked kernel (blocked.py) on the CPU backend when its flat index is exact
        (dim·n and words·n below 2^30), and the per-site kernel otherwise. "site"/"blocked" force one.
        """
        path = self.force_path
        if path not in ("auto", "site", "blocked"):
            raise ValueError(f"force_path must be auto, site or blocked, not {path!r}")
        if path == "site" or (path == "auto" and self.tensor_eigenstrain):
            return "site"
        ok = blocked.eligible(self.lattice.n_padded, self.dim, self.stencil.words)
        if path == "blocked":
            if not ok:
                raise ValueError("force_path = 'blocked': the lattice is too large for its 2^30 flat index")
            return "blocked"
        arch = current().get("arch")
        if arch is None:  # Taichi initialised without backend.init
            arch = "cpu" if ti.lang.impl.current_cfg().arch in (ti.x64, ti.arm64) else "other"
        return "blocked" if ok and arch == "cpu" else "site"

    def compute_forces(self, with_abs: bool = True) -> None:
        """Net force density on every site; ``with_abs`` also sums |bond forces| (the ADR residual scale)."""
        if self.force_kernel() == "blocked":
            if self._blocked is None:
                self._blocked = blocked.BlockedForces(self)
            self._blocked(self, with_abs)
        else:
            pmb.bond_forces(self.u, self.eps, self.mat, self.gcorr, self.bits, self.lin, self.xi, self.inv_len,
                            self.bvol, self.cpair, self.lawpair, self.hist, int(self.damage_grows), self.body, self.load,
                            self.fixmask, self.force, self.fabs, self.dim, with_abs)
        if self.fluid is not None:
            self.fluid.add_forces(with_abs)

    def relax(self, tolerance: float, max_iterations: int, check_every: int = 25) -> RelaxResult:
        """Equilibrium to ‖F‖ ≤ tolerance·‖F_abs‖ (F: net force on free DOFs, F_abs: Σ|bond forces|),
        warm-started, by :attr:`solver` (ADR: at most ``max_iterations`` sweeps, the residual read every
        ``check_every``).

        With softening bonds the load change since the last equilibrium is first taken with their damage
        held (an elastic predictor): a moved boundary or a new eigenstrain stretches the bonds next to it
        far past their strength before the body has followed, and damage grown on that unphysical iterate
        would be kept; from the predicted state the damage then grows with the stretches.
        """
        self.equilibrium_solves += 1
        if self.softening and self.damage_grows:
            self.damage_grows = False
            try:
                self._relax(tolerance, max_iterations, check_every)
            finally:
                self.damage_grows = True
        return self._relax(tolerance, max_iterations, check_every)

    def _relax(self, tolerance: float, max_iterations: int, check_every: int) -> RelaxResult:
        return self.solver.relax(self, tolerance, max_iterations, check_every)

    def max_stretch_ratio(self) -> float:
        return float(fracture.max_stretch_ratio(self.u, self.eps, self.mat, self.bits, self.lin, self.xi, self.xlen,
                                                self.s0pair))

    def break_bonds(self, ratio: float = 1.0) -> int:
        """Break every breakable bond with s > ratio·s0; returns the number of bonds (not directed) broken."""
        n = fracture.break_bonds(self.u, self.eps, self.mat, self.gcorr, self.bits, self.lin, self.xi, self.xlen,
                                 self.beta, self.cpair, self.s0pair, ratio, self.volume, self.dissipated)
        return int(n) // 2

    #: the arrays a step that is undone puts back (save/restore)
    SAVED = ("u", "bits", "eps", "dissipated", "mat", "hist")

    def save(self) -> None:
        """Keep a device copy of the state a step changes, to undo it with :meth:`restore`."""
        if self._saved is None:
            self._saved = {name: _alloc_like(getattr(self, name)) for name in self.SAVED}
        for name in self.SAVED:
            self._saved[name].copy_from(getattr(self, name))

    def restore(self) -> None:
        """Put back the state of the last :meth:`save`."""
        for name in self.SAVED:
            getattr(self, name).copy_from(self._saved[name])

    def damage_growth(self) -> float:
        """The largest damage a softening bond has gained since the last :meth:`save` (0 without softening)."""
        if not self.softening or self._saved is None:
            return 0.0
        return float(fracture.damage_growth(self.hist, self._saved["hist"]))

    @property
    def softening(self) -> bool:
        """Whether any pair's bonds soften (and keep a damage history)."""
        return self.table.softening

    def commit_damage(self) -> int:
        """Make the softening bonds' damage at the current state their history; returns the bonds (not
        directed) that reached d = 1 and broke. Brittle bonds are untouched (see :meth:`break_bonds`)."""
        if not self.softening:
            return 0
        n = fracture.commit_damage(self.u, self.eps, self.mat, self.gcorr, self.bits, self.hist, self.lin, self.xi,
                                   self.xlen, self.beta, self.cpair, self.lawpair, self.volume, self.dissipated)
        return int(n) // 2

    def compute_damage(self, directional: bool = False) -> None:
        """Site damage into ``dmg``: φ (the share of bond stiffness lost) or, ``directional``, the damage of
        the site's most damaged bond (fracture.damage)."""
        fracture.damage(self.mat, self.bits, self.solid_allowed, self.hist, self.lin, self.beta, self.lawpair,
                        self.dmg, int(directional))

    def compute_stress(self) -> None:
        stress.virial_stress(self.u, self.eps, self.mat, self.gcorr, self.bits, self.lin, self.xi, self.xlen,
                             self.beta, self.cpair, self.lawpair, self.hist, self.volume, self.szz_factor, self.sigma,
                             self.vm, self.hyd, self.dim)

    def strain_energy(self) -> float:
        """Total elastic energy Σ_i W_i V (J)."""
        pmb.strain_energy_density(self.u, self.eps, self.mat, self.gcorr, self.bits, self.lin, self.xi, self.xlen,
                                  self.beta, self.cpair, self.lawpair, self.hist, self.volume, self.fabs)
        return float(self.fabs.to_numpy().sum(dtype=np.float64) * self.volume)

    def stable_dt(self, safety: float) -> float:
        """Δt = safety·min √(2ρ / Σ_j c β λ V/|ξ|): the Silling–Askari bound, from the ADR stiffness row."""
        self.update_fictitious_density(1.0)
        lam = self.lattice.gather(self.lam.to_numpy())  # ½ Σ c β λ V/|ξ|
        mat = self.lattice.gather(self.mat.to_numpy()) & pmb.ID_MASK
        rho = self.table.rho[mat]
        ok = mat != 0
        return float(safety * np.sqrt(2.0 * rho[ok] / (2.0 * lam[ok])).min())

    def verlet_step(self, dt: float) -> None:
        verlet.kick_drift(self.u, self.v, self.force, self.mat, self.rho, self.fixmask, self.u_bc, self.v_bc,
                          self.load, self.time + dt, dt, self.dim)
        self.time += dt
        self.compute_forces(with_abs=False)
        verlet.kick(self.v, self.force, self.mat, self.rho, self.fixmask, dt, self.dim)

    # ------------------------------------------------------------ views (interior, numpy)
    def field(self, name: str) -> np.ndarray:
        return self.lattice.gather(getattr(self, name).to_numpy())

    def set_field(self, name: str, values: np.ndarray) -> None:
        arr = getattr(self, name)
        dtype = np.int32 if name in ("mat", "fixmask") else self.np_float
        arr.from_numpy(self.lattice.scatter(np.asarray(values).astype(dtype)))

    def pieces(self, select: np.ndarray) -> tuple[int, np.ndarray]:
        """Connected pieces of the selected sites (interior mask) joined by intact bonds.

        Returns (number of pieces, label per interior site; −1 where not selected). Two sites are
        in one piece when a chain of intact bonds between selected sites joins them: a crack, in
        peridynamics, is exactly a surface that no intact bond crosses.
        """
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        L = self.lattice
        sel = L.scatter(np.asarray(select).astype(bool))
        bits = self.bits.to_numpy()
        lin = self.lin.to_numpy().astype(np.int64)
        P = np.nonzero(sel)[0]
        node = np.full(sel.shape[0], -1, dtype=np.int64)
        node[P] = np.arange(P.size)
        rows, cols = [], []
        for k in np.nonzero(lin > 0)[0]:
            p, q = intact_pairs(bits, P, lin, k, sel)
            rows.append(node[p])
            cols.append(node[q])
        rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        cols = np.concatenate(cols) if cols else np.zeros(0, np.int64)
        graph = coo_matrix((np.ones(rows.size, np.int8), (rows, cols)), shape=(P.size, P.size))
        n, lab = connected_components(graph, directed=False)
        out = np.full(sel.shape[0], -1, dtype=np.int64)
        out[P] = lab
        return n, L.gather(out)

    def broken_bond_count(self) -> int:
        """Number of broken bonds (each counted once) among the bonds the geometry allows (pre-crack cuts count)."""
        bits = self.bits.to_numpy()
        allowed = self.allowed.to_numpy()
        lost = np.unpackbits((allowed & ~bits).view(np.uint8)).sum(dtype=np.int64)
        return int(lost) // 2
