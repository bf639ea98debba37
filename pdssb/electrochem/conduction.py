"""Ionic conduction in the electrolyte with Butler–Volmer exchange at the Li interface.

Ohm's law ∇·(κ∇φ) = 0 (a single-ion conductor: Nernst–Planck reduces to it) is discretised on
the same bonds as the mechanics. The current through an intact electrolyte–electrolyte bond is
I_ij = κ_ij w_k (φ_j − φ_i), w_k = 2d β_k V² / (|ξ_k|² Σ_k' β_k' V): for a quadratic φ the site
sum Σ_j I_ij / V = κ ∇²φ exactly (second moment of the stencil), so a broken bond carries no
current and a crack is an insulator. κ_ij = 2κ_iκ_j/(κ_i + κ_j), with κ_i = κ0 (1 − φ_i/0.8)⁺
under seed 000's rule or κ0 otherwise. Near free surfaces bonds are scaled by the directional
second-moment correction (as surface.py does for the fourth moment): G = 1/(Σ_a n_a²/ḡ_a).

An intact Li–electrolyte bond carries the plating current i(η) a_k, with η = φ_i − φ_Li − U −
Ω_Li p_j/F and a_k = β_k A_col / Σ_{k': o_y>0} o_y β_k': the interface area per bond, so that
the bonds crossing a flat interface add up to its area. A wet bond (a broken bond across a crack that
fluid Li fills, mechanics/fluid.py) is an interface too: electrolyte site i exchanges i(η) a_k with
the Li in the crack, p that of i's body (each crack face counts). Li is an equipotential at φ_Li = 0.
The counter electrode is a Dirichlet region at φ_CE.

Site balance (net current into every free electrolyte site is zero) is solved by Newton's method
on the Butler–Volmer terms; each Newton step is a symmetric positive definite system solved by
Jacobi-preconditioned conjugate gradients, warm-started from the last potential. Dot products are
reduced block by block in order, so results do not depend on the thread count.
"""

import numpy as np
import taichi as ti

from ..mechanics.pmb import ID_MASK, SURFACE_FLAG, bond_is_set, nd
from ..mechanics.surface import surface_factors
from ..roles import LI, SE
from .kinetics import plating_current

BLOCK = 4096


@ti.func
def cond_factor(g2: ti.template(), xi: ti.template(), xlen: ti.template(), i, j, k, wi, wj):
    g = 1.0
    if (wi | wj) & SURFACE_FLAG:
        gb = 2.0 / (1.0 / g2[i] + 1.0 / g2[j])
        n = xi[k] / xlen[k]
        g = 1.0 / (n * n / gb).sum()
    return g


@ti.func
def kappa_pair(kappa: ti.template(), i, j):
    a = kappa[i]
    b = kappa[j]
    out = 0.0
    if a > 0 and b > 0:
        out = 2.0 * a * b / (a + b)
    return out


@ti.kernel
def residual(phi: nd, kappa: nd, mat: nd, role: nd, ce: nd, bits: nd, wet: nd, has_wet: int, lin: nd, xi: nd,
             xlen: nd, cw: nd, area: nd, g2: nd, press: nd, kp: nd, r: nd, diag: nd, dli: nd, rabs: nd,
             include_ce: int):
    """r_i = net current into free electrolyte site i; diag/dli: Jacobian diagonal parts; rabs: Σ|terms|.

    With ``include_ce`` the counter-electrode sites get their net inflow too (the CE current is
    minus its sum), which is how the current through the cell is measured. With ``has_wet`` the broken
    bonds flagged in ``wet`` (Li-filled cracks, mechanics/fluid.py) exchange current with the Li in them
    at the pressure of site i's body, ``press[i]``; without, ``wet`` is a placeholder never read.
    """
    for i in range(phi.shape[0]):
        ri = 0.0
        di = 0.0
        dl = 0.0
        ra = 0.0
        wi = mat[i]
        if role[wi & ID_MASK] == SE and (ce[i] == 0 or include_ce != 0):
            for k in range(lin.shape[0]):
                if bond_is_set(bits, i, k):
                    j = i + lin[k]
                    wj = mat[j]
                    rj = role[wj & ID_MASK]
                    if rj == SE:
                        c = kappa_pair(kappa, i, j) * cw[k] * cond_factor(g2, xi, xlen, i, j, k, wi, wj)
                        flow = c * (phi[j] - phi[i])
                        ri += flow
                        di += c
                        ra += ti.abs(flow)
                    elif rj == LI:
                        eta = phi[i] - kp[6] - kp[7] * press[j]
                        ip, dip = plating_current(kp, eta)
                        ri -= area[k] * ip
                        dl += area[k] * dip
                        ra += ti.abs(area[k] * ip)
                elif has_wet != 0 and bond_is_set(wet, i, k):
                    eta = phi[i] - kp[6] - kp[7] * press[i]
                    ip, dip = plating_current(kp, eta)
                    ri -= area[k] * ip
                    dl += area[k] * dip
                    ra += ti.abs(area[k] * ip)
        r[i] = ri
        diag[i] = di + dl
        dli[i] = dl
        rabs[i] = ra


@ti.kernel
def matvec(p: nd, kappa: nd, mat: nd, role: nd, ce: nd, bits: nd, lin: nd, xi: nd, xlen: nd, cw: nd, g2: nd,
           dli: nd, out: nd):
    """out = J p for the Newton system (p is zero off the free electrolyte sites)."""
    for i in range(p.shape[0]):
        acc = 0.0
        wi = mat[i]
        if role[wi & ID_MASK] == SE and ce[i] == 0:
            acc = dli[i] * p[i]
            for k in range(lin.shape[0]):
                if bond_is_set(bits, i, k):
                    j = i + lin[k]
                    wj = mat[j]
                    if role[wj & ID_MASK] == SE:
                        c = kappa_pair(kappa, i, j) * cw[k] * cond_factor(g2, xi, xlen, i, j, k, wi, wj)
                        acc += c * (p[i] - p[j])
        out[i] = acc


@ti.kernel
def block_dot(a: nd, b: nd, part: nd):
    n = a.shape[0]
    for blk in range(part.shape[0]):
        s = 0.0
        for i in range(blk * BLOCK, ti.min((blk + 1) * BLOCK, n)):
            s += a[i] * b[i]
        part[blk] = s


@ti.kernel
def block_sum(part: nd) -> float:
    s = 0.0
    for _ in range(1):
        for blk in range(part.shape[0]):
            s += part[blk]
    return s


@ti.kernel
def precondition(r: nd, diag: nd, z: nd):
    for i in range(r.shape[0]):
        z[i] = r[i] / diag[i] if diag[i] > 0 else 0.0


@ti.kernel
def axpy(alpha: float, x: nd, y: nd):
    """y += alpha x"""
    for i in range(y.shape[0]):
        y[i] += alpha * x[i]


@ti.kernel
def xpby(x: nd, beta: float, y: nd):
    """y = x + beta y"""
    for i in range(y.shape[0]):
        y[i] = x[i] + beta * y[i]


@ti.kernel
def plating_per_li_site(phi: nd, mat: nd, role: nd, bits: nd, wet: nd, has_wet: int, lin: nd, area: nd, press: nd,
                        kp: nd, out: nd, eta_area: nd, a_sum: nd):
    """Plating current (A) received by each Li site from its electrolyte neighbours, and by each electrolyte
    site through its wet bonds (the Li in the crack beside it, with ``has_wet``); Σ η a and Σ a."""
    for j in range(phi.shape[0]):
        q = 0.0
        ea = 0.0
        aa = 0.0
        rj = role[mat[j] & ID_MASK]
        if rj == LI:
            for k in range(lin.shape[0]):
                if bond_is_set(bits, j, k):
                    i = j + lin[k]
                    if role[mat[i] & ID_MASK] == SE:
                        eta = phi[i] - kp[6] - kp[7] * press[j]
                        ip, dip = plating_current(kp, eta)
                        q += area[k] * ip
                        ea += area[k] * eta
                        aa += area[k]
        elif rj == SE and has_wet != 0:
            for k in range(lin.shape[0]):
                if bond_is_set(wet, j, k):
                    eta = phi[j] - kp[6] - kp[7] * press[j]
                    ip, dip = plating_current(kp, eta)
                    q += area[k] * ip
                    ea += area[k] * eta
                    aa += area[k]
        out[j] = q
        eta_area[j] = ea
        a_sum[j] = aa


@ti.kernel
def current_density(phi: nd, kappa: nd, mat: nd, role: nd, bits: nd, lin: nd, xi: nd, beta: nd, gscale: float,
                    out: nd, dim: ti.template()):
    """|κ ∇φ| (A m⁻²) at electrolyte sites, ∇φ from the nonlocal gradient d/(Σβ|ξ|²) Σ β (φ_j − φ_i) ξ."""
    for i in range(phi.shape[0]):
        g = ti.Vector.zero(float, dim)
        if role[mat[i] & ID_MASK] == SE:
            for k in range(lin.shape[0]):
                if bond_is_set(bits, i, k):
                    j = i + lin[k]
                    if role[mat[j] & ID_MASK] == SE:
                        g += beta[k] * (phi[j] - phi[i]) * xi[k]
        out[i] = kappa[i] * gscale * g.norm()


class Conduction:
    """The potential field of one lattice body and its Newton–CG solver."""

    def __init__(self, model, role_of_material: np.ndarray, kappa0: np.ndarray, ce_mask: np.ndarray, kinetics,
                 tolerance: float = 1e-8):
        self.m = model
        L, st = model.lattice, model.stencil
        n, f = L.n_padded, model.fdtype
        sca = lambda: ti.ndarray(f, n)  # noqa: E731
        self.phi, self.kappa, self.r, self.diag, self.dli, self.rabs = (sca() for _ in range(6))
        self.z, self.p, self.ap, self.press, self.q, self.eta_area, self.a_sum, self.jmag = (sca() for _ in range(8))
        self.g2 = ti.Vector.ndarray(model.dim, f, n)
        self.ce = ti.ndarray(ti.i32, n)
        self.role = ti.ndarray(ti.i32, role_of_material.shape[0])
        self.part = ti.ndarray(f, (n + BLOCK - 1) // BLOCK)
        self.kp = ti.ndarray(f, 8)
        self._no_wet = ti.ndarray(ti.u32, (1, 1))  # stands for the wet bits where there is no fluid Li
        self.cw = ti.ndarray(f, st.size)
        self.area = ti.ndarray(f, st.size)
        self.tolerance = tolerance
        self.direct = None  # a DirectConduction (host sparse solve) with solver.method = "direct"
        for a in (self.phi, self.press, self.r, self.z, self.p, self.ap, self.q, self.eta_area, self.a_sum, self.jmag):
            a.fill(0)
        self.role.from_numpy(role_of_material.astype(np.int32))
        self.ce.from_numpy(L.scatter(ce_mask.astype(np.int32)))
        self.kappa0 = model.lattice.scatter(kappa0.astype(np.float64))
        self.kappa.from_numpy(self.kappa0.astype(model.np_float))
        self.set_kinetics(kinetics)
        dx, vol, d = L.dx, model.volume, model.dim
        sb = float(st.beta.sum()) * vol
        self.cw.from_numpy((2 * d * st.beta * vol * vol / ((st.length * dx) ** 2 * sb)).astype(model.np_float))
        on = st.offsets[:, 1]
        a_col = dx ** (d - 1) * (model.thickness if d == 2 else 1.0)
        self.area_per_bond = a_col / float((on[on > 0] * st.beta[on > 0]).sum())
        self.area.from_numpy((st.beta * self.area_per_bond).astype(model.np_float))
        self.gscale = d / (float((st.beta * st.length**2).sum()) * dx * dx)
        surface_factors(model.mat, model.allowed, model.lin, model.xi, model.xlen, model.beta, self.g2, d, 2, 0)

    def use_direct_solver(self, preconditioner: str = "auto") -> None:
        from .direct import DirectConduction

        self.direct = DirectConduction(self, preconditioner=preconditioner)

    def set_kinetics(self, kinetics) -> None:
        self.kinetics = kinetics
        self.kp.from_numpy(kinetics.as_array().astype(self.m.np_float))

    def set_counter_potential(self, value: float) -> None:
        ce = self.m.lattice.gather(self.ce.to_numpy()).astype(bool)
        phi = self.m.lattice.gather(self.phi.to_numpy())
        phi[ce] = value
        self.phi.from_numpy(self.m.lattice.scatter(phi.astype(self.m.np_float)))

    def _wet(self):
        """(wet bond bits, 1) of the fluid Li's cracks, or (a placeholder, 0) without fluid Li."""
        fluid = self.m.fluid
        return (fluid.wet, 1) if fluid is not None else (self._no_wet, 0)

    def _args(self):
        m = self.m
        return (self.kappa, m.mat, self.role, self.ce, m.bits, m.lin, m.xi, m.xlen, self.cw)

    def _dot(self, a, b) -> float:
        block_dot(a, b, self.part)
        return float(block_sum(self.part))

    def newton(self, max_newton: int = 50, max_cg: int = 20000) -> dict:
        """Solve the site balance to ‖r‖ ≤ tolerance·‖Σ|terms|‖; returns iteration counts."""
        m = self.m
        cg_total = 0
        res = float("inf")
        for it in range(max_newton):
            residual(self.phi, self.kappa, m.mat, self.role, self.ce, m.bits, *self._wet(), m.lin, m.xi, m.xlen,
                     self.cw, self.area, self.g2, self.press, self.kp, self.r, self.diag, self.dli, self.rabs, 0)
            rr = self._dot(self.r, self.r)
            aa = self._dot(self.rabs, self.rabs)
            res = 0.0 if rr == 0 else float(np.sqrt(rr / aa)) if aa > 0 else float("inf")
            if not np.isfinite(res):
                raise FloatingPointError("conduction residual is not finite")
            if res <= self.tolerance:
                return dict(newton=it, cg=cg_total, residual=res)
            if self.direct is not None:
                cg_total += self.direct.solve(first=it == 0)
            else:
                cg_total += self._pcg(max_cg, rr)
        return dict(newton=max_newton, cg=cg_total, residual=res)

    def _pcg(self, max_cg: int, rr0: float) -> int:
        """Solve J δ = r (in place of r → δ accumulated into φ)."""
        a = self._args()
        self.ap.fill(0)
        precondition(self.r, self.diag, self.z)
        self.p.copy_from(self.z)
        rz = self._dot(self.r, self.z)
        tol2 = (1e-3 * self.tolerance) ** 2 * rr0
        for it in range(1, max_cg + 1):
            matvec(self.p, *a, self.g2, self.dli, self.ap)
            pap = self._dot(self.p, self.ap)
            if pap <= 0:
                return it
            alpha = rz / pap
            axpy(alpha, self.p, self.phi)
            axpy(-alpha, self.ap, self.r)
            if self._dot(self.r, self.r) <= tol2:
                return it
            precondition(self.r, self.diag, self.z)
            rz_new = self._dot(self.r, self.z)
            xpby(self.z, rz_new / rz, self.p)
            rz = rz_new
        return max_cg

    def counter_electrode_current(self) -> float:
        """Current (A) leaving the counter electrode into the electrolyte (= the cell current)."""
        m = self.m
        residual(self.phi, self.kappa, m.mat, self.role, self.ce, m.bits, *self._wet(), m.lin, m.xi, m.xlen, self.cw,
                 self.area, self.g2, self.press, self.kp, self.r, self.diag, self.dli, self.rabs, 1)
        r = m.lattice.gather(self.r.to_numpy()).astype(np.float64)
        ce = m.lattice.gather(self.ce.to_numpy()).astype(bool)
        return float(-r[ce].sum())

    def plating(self) -> tuple[np.ndarray, float]:
        """Plating current per site (A, interior order: Li sites, and electrolyte sites through their wet bonds)
        and the area-weighted mean overpotential (V)."""
        m = self.m
        plating_per_li_site(self.phi, m.mat, self.role, m.bits, *self._wet(), m.lin, self.area, self.press, self.kp,
                            self.q, self.eta_area, self.a_sum)
        q = m.lattice.gather(self.q.to_numpy()).astype(np.float64)
        ea = float(self.eta_area.to_numpy().sum(dtype=np.float64))
        aa = float(self.a_sum.to_numpy().sum(dtype=np.float64))
        return q, ea / aa if aa > 0 else float("nan")

    def current_density_field(self) -> np.ndarray:
        m = self.m
        current_density(self.phi, self.kappa, m.mat, self.role, m.bits, m.lin, m.xi, m.beta, self.gscale,
                        self.jmag, m.dim)
        return m.lattice.gather(self.jmag.to_numpy())
