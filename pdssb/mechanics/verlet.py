"""Explicit velocity Verlet for peridynamic dynamics: ρ ü = Σ_j f_ij V_j + b.

Kick–drift–kick with a stable step Δt = safety · min_i √(2ρ_i / Σ_j c_ij β V_j/|ξ|) (the
Silling & Askari 2005 bound). Prescribed components follow u = u_bc + v_bc t exactly.
"""


import taichi as ti

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
