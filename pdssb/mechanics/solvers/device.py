"""Matrix-free Newton–Krylov in Taichi kernels (``solver.method = "device"``): the Newton solver's
reference-stiffness steps with every vector and scalar on the device.

Each Newton step solves K δu = F(u), K the small-strain bond stiffness of the intact bonds (the matrix of
assembly.py: k_b = c_ij β G_ij V/|ξ| (1 − d), d the stored damage of softening bonds), by conjugate
gradients preconditioned with K's diagonal (Jacobi). K is never formed: :func:`apply_stiffness` sums
k_b n (n·(v_i − v_j)) over a site's intact bonds, as the force kernel sums its bond forces. The CG
scalars (ρ = rᵀz, pᵀKp, α, β, ‖r‖²) live in a small device array that the update kernels read, so an
iteration launches six kernels and copies nothing to the host; the host reads the scalars once every
CHECK_EVERY iterations to stop, and once per Newton step for the residual. Reductions are summed per
fixed block in order (as adr.py's), so reruns agree bit for bit.

Steps are limited to ``max_step`` Δx (5 %, as the host Newton steps); the support shift of fragments and
mechanisms is not made here (K is only shifted by SHIFT_FLOOR of its own diagonal, so CG stays defined on
a fragment's rigid modes, which its consistent right-hand side leaves alone), nor the fluid Li's rank-one
stiffness or the current tangent: where the steps do not converge in MAX_OUTER, ADR takes over.
"""


import numpy as np
import taichi as ti

from ..adr import BLOCK
from ..pmb import ID_MASK, bond_factor, bond_is_set, intact_fraction, nd
from ..relax import RelaxResult
from .adr import ADRSolver
from .support import SHIFT_FLOOR

#: Newton steps per relaxation before ADR takes over
MAX_OUTER = 30
#: CG: relative residual per Newton step, iteration cap, and how often the host reads the scalars
CG_RTOL = 1e-3
CG_MAX = 2000
CHECK_EVERY = 10

# slots of the device scalar array
RZ, PKP, BETA, RR, RR0, SCALE, FF, AA = range(8)


@ti.func
def _free(fixmask: ti.template(), i, a):
    return (fixmask[i] >> a) & 1 == 0


@ti.func
def _bond_stiffness(mat: ti.template(), gcorr: ti.template(), xi: ti.template(), inv_len: ti.template(),
                    bvol: ti.template(), cpair: ti.template(), lawpair: ti.template(), hist: ti.template(), i, j, k):
    """k_b of bond (i, k→j): c β V G/|ξ|, times 1 − its stored damage on a softening pair."""
    wi = mat[i]
    wj = mat[j]
    mi = wi & ID_MASK
    mj = wj & ID_MASK
    return (cpair[mi, mj] * bond_factor(gcorr, xi, i, j, k, wi, wj) * bvol[k] * inv_len[k]
            * intact_fraction(lawpair, hist, mi, mj, i, k, 0.0, 0))


@ti.kernel
def apply_stiffness(v: nd, mat: nd, gcorr: nd, bits: nd, lin: nd, xi: nd, inv_len: nd, bvol: nd, cpair: nd,
                    lawpair: nd, hist: nd, fixmask: nd, dinv: nd, out: nd, dim: ti.template()):
    """out = K v on the free components (0 on prescribed ones and void sites), with the SHIFT_FLOOR term
    (read back from the Jacobi inverse: diag = 1/dinv)."""
    for i in range(v.shape[0]):
        acc = ti.Vector.zero(float, dim)
        if mat[i] & ID_MASK != 0:
            vi = v[i]
            for k in range(lin.shape[0]):
                if bond_is_set(bits, i, k):
                    j = i + lin[k]
                    n = xi[k] * inv_len[k]
                    kb = _bond_stiffness(mat, gcorr, xi, inv_len, bvol, cpair, lawpair, hist, i, j, k)
                    acc += kb * n.dot(vi - v[j]) * n
            for a in ti.static(range(dim)):
                if _free(fixmask, i, a) and dinv[i][a] > 0:
                    acc[a] += SHIFT_FLOOR / (1.0 + SHIFT_FLOOR) / dinv[i][a] * vi[a]
                else:
                    acc[a] = 0.0
        out[i] = acc


@ti.kernel
def jacobi(mat: nd, gcorr: nd, bits: nd, lin: nd, xi: nd, inv_len: nd, bvol: nd, cpair: nd, lawpair: nd,
           hist: nd, fixmask: nd, dinv: nd, dim: ti.template()):
    """dinv = 1/((1 + SHIFT_FLOOR) K_aa) per free component (0 where prescribed or unbonded)."""
    for i in range(mat.shape[0]):
        dg = ti.Vector.zero(float, dim)
        if mat[i] & ID_MASK != 0:
            for k in range(lin.shape[0]):
                if bond_is_set(bits, i, k):
                    n = xi[k] * inv_len[k]
                    dg += _bond_stiffness(mat, gcorr, xi, inv_len, bvol, cpair, lawpair, hist, i, i + lin[k], k) * n * n
        out = ti.Vector.zero(float, dim)
        for a in ti.static(range(dim)):
            if mat[i] & ID_MASK != 0 and _free(fixmask, i, a) and dg[a] > 0:
                out[a] = 1.0 / ((1.0 + SHIFT_FLOOR) * dg[a])
        dinv[i] = out


@ti.kernel
def residual_partials(force: nd, fabs: nd, mat: nd, fixmask: nd, part: nd, dim: ti.template()):
    """Per block: ‖F‖² over free components and ‖F_abs‖² (the ADR criterion's sums, adr.adr_partials)."""
    n = force.shape[0]
    for b in range(part.shape[0]):
        rr = 0.0
        aa = 0.0
        for i in range(b * BLOCK, ti.min((b + 1) * BLOCK, n)):
            if mat[i] != 0:
                for a in ti.static(range(dim)):
                    if _free(fixmask, i, a):
                        rr += force[i][a] * force[i][a]
                aa += fabs[i] * fabs[i]
        part[b, 0] = rr
        part[b, 1] = aa


@ti.kernel
def cg_start(force: nd, x: nd, r: nd, z: nd, p: nd, dinv: nd, mat: nd, fixmask: nd, part: nd, dim: ti.template()):
    """x = 0, r = F on the free components, z = p = D⁻¹ r; per block rᵀz and rᵀr."""
    n = force.shape[0]
    for b in range(part.shape[0]):
        rz = 0.0
        rr = 0.0
        for i in range(b * BLOCK, ti.min((b + 1) * BLOCK, n)):
            ri = ti.Vector.zero(float, dim)
            if mat[i] & ID_MASK != 0:
                for a in ti.static(range(dim)):
                    if _free(fixmask, i, a):
                        ri[a] = force[i][a]
            zi = dinv[i] * ri
            x[i] = ti.Vector.zero(float, dim)
            r[i] = ri
            z[i] = zi
            p[i] = zi
            rz += ri.dot(zi)
            rr += ri.dot(ri)
        part[b, 0] = rz
        part[b, 1] = rr


@ti.kernel
def dot_partials(a: nd, b: nd, part: nd):
    """Per block: aᵀb (column 0)."""
    n = a.shape[0]
    for blk in range(part.shape[0]):
        s = 0.0
        for i in range(blk * BLOCK, ti.min((blk + 1) * BLOCK, n)):
            s += a[i].dot(b[i])
        part[blk, 0] = s


@ti.kernel
def reduce_start(part: nd, sc: nd):
    """sc[RZ] = ρ, sc[RR] = sc[RR0] = ‖r‖² from cg_start's blocks; (sc[FF], sc[AA]) likewise from residual_partials."""
    for _ in range(1):
        s0 = 0.0
        s1 = 0.0
        for b in range(part.shape[0]):
            s0 += part[b, 0]
            s1 += part[b, 1]
        sc[RZ] = s0
        sc[RR] = s1
        sc[RR0] = s1
        sc[FF] = s0
        sc[AA] = s1


@ti.kernel
def reduce_pkp(part: nd, sc: nd):
    for _ in range(1):
        s = 0.0
        for b in range(part.shape[0]):
            s += part[b, 0]
        sc[PKP] = s


@ti.kernel
def cg_update(x: nd, r: nd, z: nd, p: nd, q: nd, dinv: nd, sc: nd, part: nd):
    """α = ρ/pᵀKp (0 on a breakdown); x += α p, r −= α K p, z = D⁻¹ r; per block rᵀz and rᵀr."""
    alpha = 0.0
    if sc[PKP] > 0:
        alpha = sc[RZ] / sc[PKP]
    n = x.shape[0]
    for b in range(part.shape[0]):
        rz = 0.0
        rr = 0.0
        for i in range(b * BLOCK, ti.min((b + 1) * BLOCK, n)):
            x[i] += alpha * p[i]
            ri = r[i] - alpha * q[i]
            zi = dinv[i] * ri
            r[i] = ri
            z[i] = zi
            rz += ri.dot(zi)
            rr += ri.dot(ri)
        part[b, 0] = rz
        part[b, 1] = rr


@ti.kernel
def reduce_update(part: nd, sc: nd):
    """ρ' and ‖r‖² from cg_update's blocks; β = ρ'/ρ, ρ ← ρ'."""
    for _ in range(1):
        rz = 0.0
        rr = 0.0
        for b in range(part.shape[0]):
            rz += part[b, 0]
            rr += part[b, 1]
        beta = 0.0
        if sc[RZ] != 0:
            beta = rz / sc[RZ]
        sc[BETA] = beta
        sc[RZ] = rz
        sc[RR] = rr


@ti.kernel
def cg_direction(p: nd, z: nd, sc: nd):
    beta = sc[BETA]
    for i in range(p.shape[0]):
        p[i] = z[i] + beta * p[i]


@ti.kernel
def step_partials(x: nd, part: nd):
    """Per block: max |x_a| (column 0)."""
    n = x.shape[0]
    for b in range(part.shape[0]):
        big = 0.0
        for i in range(b * BLOCK, ti.min((b + 1) * BLOCK, n)):
            big = ti.max(big, ti.abs(x[i]).max())
        part[b, 0] = big


@ti.kernel
def step_scale(part: nd, sc: nd, limit: float):
    """sc[SCALE] = min(1, limit / max|x_a|): the step limit, decided on the device."""
    for _ in range(1):
        big = 0.0
        for b in range(part.shape[0]):
            big = ti.max(big, part[b, 0])
        s = 1.0
        if big > limit:
            s = limit / big
        sc[SCALE] = s


@ti.kernel
def add_step(u: nd, x: nd, sc: nd):
    s = sc[SCALE]
    for i in range(u.shape[0]):
        u[i] += s * x[i]


class DeviceNewtonSolver:
    """Newton steps with matrix-free Jacobi-PCG in Taichi kernels (module docstring); ADR when they stall."""

    method = "device"

    def __init__(self, model, max_step: float = 0.05):
        self.m = model
        self.max_step = max_step * model.lattice.dx
        n, d, f = model.lattice.n_padded, model.dim, model.fdtype
        self.x, self.r, self.z, self.p, self.q, self.dinv = (ti.Vector.ndarray(d, f, n) for _ in range(6))
        self.part = ti.ndarray(f, ((n + BLOCK - 1) // BLOCK, 2))
        self.sc = ti.ndarray(f, 8)
        self.sc.fill(0)
        self.stats = dict(outer_iterations=0, cg_iterations=0, adr_fallbacks=0)
        self.fallback = ADRSolver()

    def relax(self, model, tolerance: float, max_iterations: int, check_every: int = 25) -> RelaxResult:
        r = self.newton(tolerance)
        if r.converged:
            return r
        self.stats["adr_fallbacks"] += 1
        a = self.fallback.relax(model, tolerance, max_iterations, check_every)
        return RelaxResult(r.iterations + a.iterations, a.residual, a.converged)

    def _stiffness_args(self):
        m = self.m
        return (m.mat, m.gcorr, m.bits, m.lin, m.xi, m.inv_len, m.bvol, m.cpair, m.lawpair, m.hist, m.fixmask)

    def newton(self, tolerance: float) -> RelaxResult:
        m = self.m
        m.impose_boundary()
        args = self._stiffness_args()
        jacobi(*args, self.dinv, m.dim)  # the bonds do not change within a relaxation
        res = float("inf")
        for it in range(MAX_OUTER + 1):
            m.compute_forces()
            residual_partials(m.force, m.fabs, m.mat, m.fixmask, self.part, m.dim)
            reduce_start(self.part, self.sc)
            s = self.sc.to_numpy()
            rr, aa = float(s[FF]), float(s[AA])
            res = 0.0 if rr == 0 else (float(np.sqrt(rr / aa)) if aa > 0 else float("inf"))
            at_rest = rr <= m.force_floor2 and aa <= m.force_floor2
            if not np.isfinite(res) and not at_rest:
                raise FloatingPointError("device Newton: residual is not finite")
            if res <= tolerance or at_rest:
                return RelaxResult(it, res, True)
            if it == MAX_OUTER:
                break
            self.stats["cg_iterations"] += self._cg(args)
            self.stats["outer_iterations"] += 1
            step_partials(self.x, self.part)
            step_scale(self.part, self.sc, self.max_step)
            add_step(m.u, self.x, self.sc)
        return RelaxResult(MAX_OUTER, res, False)

    def _cg(self, args) -> int:
        """K x = F by Jacobi-PCG to CG_RTOL, the scalars on the device; returns the iterations."""
        m = self.m
        x, r, z, p, q, part, sc = self.x, self.r, self.z, self.p, self.q, self.part, self.sc
        cg_start(m.force, x, r, z, p, self.dinv, m.mat, m.fixmask, part, m.dim)
        reduce_start(part, sc)
        it = 0
        while it < CG_MAX:
            apply_stiffness(p, *args, self.dinv, q, m.dim)
            dot_partials(p, q, part)
            reduce_pkp(part, sc)
            cg_update(x, r, z, p, q, self.dinv, sc, part)
            reduce_update(part, sc)
            cg_direction(p, z, sc)
            it += 1
            if it % CHECK_EVERY == 0:
                s = sc.to_numpy()
                if s[RR] <= CG_RTOL * CG_RTOL * s[RR0] or s[PKP] <= 0:
                    break
        return it

    def reset(self) -> None:
        """Nothing is cached between relaxations."""

    def state(self, prefix: str) -> dict[str, np.ndarray]:
        return {}

    def load(self, arrays: dict[str, np.ndarray], prefix: str) -> None:
        """Nothing to restore: the model's arrays are the whole state."""
