"""Adaptive dynamic relaxation (Kilic & Madenci, Theor. Appl. Fract. Mech. 53 (2010) 194).

Quasi-static equilibrium as the steady state of fictitious, critically damped dynamics with
Δt = 1: a diagonal fictitious density λ_i that keeps the explicit scheme stable, and a damping
coefficient from Rayleigh's quotient of the local diagonal stiffness,
c = 2 √(uᵀK u / uᵀu), K_ii = −(F_i^n − F_i^{n−1}) / (λ_i v_i^{n−½}). Updates:
v^{n+½} = ((2 − c) v^{n−½} + 2 F^n/λ) / (2 + c), u^{n+1} = u^n + v^{n+½}; the first step is
v^{½} = F^0 / (2λ). It is warm-started from the current displacement (the last equilibrium).

Reductions are summed per fixed-size block in a serial inner loop and then over the blocks in
order, so the result does not depend on the number of threads: reruns agree bit for bit.
"""


import taichi as ti

from .pmb import ID_MASK, bond_factor, bond_is_set, nd

BLOCK = 4096


@ti.kernel
def fictitious_density(mat: nd, gcorr: nd, bits: nd, lin: nd, xi: nd, xlen: nd, beta: nd, cpair: nd,
                       volume: float, safety: float, lam: nd):
    """λ_i = safety · ½ Σ_j c_ij β G_ij V / |ξ| (Gershgorin bound on the bond stiffness row, Δt = 1)."""
    for i in range(mat.shape[0]):
        acc = 0.0
        wi = mat[i]
        mi = wi & ID_MASK
        if mi != 0:
            for k in range(lin.shape[0]):
                if bond_is_set(bits, i, k):
                    j = i + lin[k]
                    wj = mat[j]
                    acc += cpair[mi, wj & ID_MASK] * beta[k] * bond_factor(gcorr, xi, i, j, k, wi, wj) * volume / xlen[k]
        lam[i] = safety * 0.5 * acc if acc > 0 else 1.0


@ti.kernel
def adr_partials(u: nd, v: nd, force: nd, force_old: nd, lam: nd, mat: nd, fixmask: nd, fabs: nd,
                 part: nd, dim: ti.template()):
    """Per-block sums: uᵀKu, uᵀu, |F|², |F_abs|² over free components."""
    n = u.shape[0]
    for b in range(part.shape[0]):
        kuu = 0.0
        uu = 0.0
        rr = 0.0
        aa = 0.0
        for i in range(b * BLOCK, ti.min((b + 1) * BLOCK, n)):
            if mat[i] != 0:
                fm = fixmask[i]
                for a in ti.static(range(dim)):
                    if (fm >> a) & 1 == 0:
                        va = v[i][a]
                        ua = u[i][a]
                        if va != 0:
                            kuu += ua * ua * (-(force[i][a] - force_old[i][a]) / (lam[i] * va))
                        uu += ua * ua
                        rr += force[i][a] * force[i][a]
                aa += fabs[i] * fabs[i]
        part[b, 0] = kuu
        part[b, 1] = uu
        part[b, 2] = rr
        part[b, 3] = aa


@ti.kernel
def adr_reduce(part: nd, stats: nd):
    """stats = [c, uᵀKu, uᵀu, |F|², |F_abs|²], summed block by block in order."""
    for _ in range(1):
        for q in ti.static(range(4)):
            stats[q + 1] = 0.0
        for b in range(part.shape[0]):
            for q in ti.static(range(4)):
                stats[q + 1] += part[b, q]
        c = 0.0
        if stats[2] > 0 and stats[1] > 0:
            c = 2.0 * ti.sqrt(stats[1] / stats[2])
        stats[0] = ti.min(c, 1.9)


@ti.kernel
def adr_update(u: nd, v: nd, force: nd, force_old: nd, lam: nd, mat: nd, fixmask: nd, stats: nd,
               first: int, dim: ti.template()):
    c = stats[0]
    for i in range(u.shape[0]):
        if mat[i] != 0:
            fm = fixmask[i]
            for a in ti.static(range(dim)):
                if (fm >> a) & 1 == 0:
                    if first:
                        v[i][a] = 0.5 * force[i][a] / lam[i]
                    else:
                        v[i][a] = ((2.0 - c) * v[i][a] + 2.0 * force[i][a] / lam[i]) / (2.0 + c)
                    u[i][a] += v[i][a]
                else:
                    v[i][a] = 0.0
            force_old[i] = force[i]
