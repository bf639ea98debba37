"""Explicit velocity Verlet for peridynamic dynamics: ρ ü = Σ_j f_ij V_j + b.

Kick–drift–kick with a stable step Δt = safety · min_i √(2ρ_i / Σ_j c_ij β V_j/|ξ|) (the
Silling & Askari 2005 bound). Prescribed components follow u = u_bc + v_bc t exactly.
"""


import taichi as ti

from . import pmb
from .pmb import ID_MASK, nd


@ti.kernel
def kick_drift(u: nd, v: nd, force: nd, mat: nd, rho: nd, fixmask: nd, u_bc: nd, v_bc: nd,
               load: float, t_new: float, dt: float, dim: ti.template()):
    for i in range(u.shape[0]):
        mi = mat[i] & ID_MASK
        if mi != 0:
            fm = fixmask[i]
            for a in ti.static(range(dim)):
                if (fm >> a) & 1:
                    v[i][a] = v_bc[i][a]
                    u[i][a] = load * u_bc[i][a] + t_new * v_bc[i][a]
                else:
                    v[i][a] += 0.5 * dt * force[i][a] / rho[mi]
                    u[i][a] += dt * v[i][a]


@ti.kernel
def kick(v: nd, force: nd, mat: nd, rho: nd, fixmask: nd, dt: float, dim: ti.template()):
    for i in range(v.shape[0]):
        mi = mat[i] & ID_MASK
        if mi != 0:
            fm = fixmask[i]
            for a in ti.static(range(dim)):
                if (fm >> a) & 1 == 0:
                    v[i][a] += 0.5 * dt * force[i][a] / rho[mi]


@ti.kernel
def impose(u: nd, v: nd, fixmask: nd, u_bc: nd, v_bc: nd, load: float, t: float, dim: ti.template()):
    """Prescribed components to u = load·u_bc + t·v_bc and v = v_bc (on the device, no host copy)."""
    for i in range(u.shape[0]):
        fm = fixmask[i]
        if fm != 0:
            for a in ti.static(range(dim)):
                if (fm >> a) & 1:
                    u[i][a] = load * u_bc[i][a] + t * v_bc[i][a]
                    v[i][a] = v_bc[i][a]


@ti.func
def _kick_drift_site(u: ti.template(), v: ti.template(), force: ti.template(), mat: ti.template(),
                     rho: ti.template(), fixmask: ti.template(), u_bc: ti.template(), v_bc: ti.template(),
                     load, t_new, dt, i, dim: ti.template()):
    """:func:`kick_drift` for one site (the same arithmetic)."""
    mi = mat[i] & ID_MASK
    if mi != 0:
        fm = fixmask[i]
        for a in ti.static(range(dim)):
            if (fm >> a) & 1:
                v[i][a] = v_bc[i][a]
                u[i][a] = load * u_bc[i][a] + t_new * v_bc[i][a]
            else:
                v[i][a] = v[i][a] + 0.5 * dt * force[i][a] / rho[mi]  # not +=: that would be atomic here
                u[i][a] = u[i][a] + dt * v[i][a]


@ti.func
def _kick_site(v: ti.template(), force: ti.template(), mat: ti.template(), rho: ti.template(),
               fixmask: ti.template(), dt, i, dim: ti.template()):
    """:func:`kick` for one site (the same arithmetic)."""
    mi = mat[i] & ID_MASK
    if mi != 0:
        fm = fixmask[i]
        for a in ti.static(range(dim)):
            if (fm >> a) & 1 == 0:
                v[i][a] = v[i][a] + 0.5 * dt * force[i][a] / rho[mi]


@ti.kernel
def step_half(
    u: nd, v: nd, eps: nd, mat: nd, gcorr: nd, bits: nd, lin: nd, xi: nd, inv_len: nd, bvol: nd,
    cpair: nd, body: nd, load: float, fixmask: nd, half: nd, epsfree: nd, B: ti.i32,
    force: nd, fabs: nd, rho: nd, u_bc: nd, v_bc: nd, t_new: float, dt: float, dim: ti.template(),
):
    """One whole velocity-Verlet step in one launch: kick–drift, half-stencil forces, kick.

    The chunk colouring of pmb.bond_forces_half: a half-stencil bond reads u only in its own and the
    next chunk, so the task of even chunk 2m kick-drifts chunks 2m and 2m+1 (and zeroes their
    forces) right before their bonds; the odd pass ends, per task, with chunks 2m+1 and 2m+2 complete,
    which get the body force, the prescribed-component zeroing and the closing kick. The arithmetic
    of kick_drift/kick per site is unchanged.
    """
    n = u.shape[0]
    nc = epsfree.shape[0]
    m_tasks = (nc + 1) // 2
    ti.loop_config(block_dim=1)
    for c in range(nc):
        epsfree[c] = pmb.chunk_eps_free(eps, c, B, n)
    ti.loop_config(block_dim=1)
    for m in range(m_tasks):
        c = 2 * m
        lo, _ = pmb.chunk_range(c, B, n)
        _, hi = pmb.chunk_range(c + 1, B, n)
        for i in range(lo, hi):
            _kick_drift_site(u, v, force, mat, rho, fixmask, u_bc, v_bc, load, t_new, dt, i, dim)
            force[i] = ti.Vector.zero(float, dim)
        pmb.half_chunk(u, eps, mat, gcorr, bits, lin, xi, inv_len, bvol, cpair, half, epsfree, force, fabs,
                       c, B, n, nc, dim, False)
    ti.loop_config(block_dim=1)
    for m in range(m_tasks):
        c = 2 * m + 1
        if c < nc:
            pmb.half_chunk(u, eps, mat, gcorr, bits, lin, xi, inv_len, bvol, cpair, half, epsfree, force, fabs,
                           c, B, n, nc, dim, False)
        lo, _ = pmb.chunk_range(ti.select(m == 0, 0, c), B, n)
        _, hi = pmb.chunk_range(c + 1, B, n)
        for i in range(lo, ti.min(hi, n)):
            pmb.finish_force(mat, body, load, fixmask, force, i, dim)
            _kick_site(v, force, mat, rho, fixmask, dt, i, dim)
