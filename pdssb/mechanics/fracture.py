"""Fracture: critical stretch from G_c, bond breaking, damage.

Critical stretch. Breaking every bond that crosses a plane costs, per unit area,
G = ½ c s0² S with S = Σ_{k: o_n > 0} o_n β_k |ξ_k| V² / (Δx^{d−1} h_2D), the lattice sum over
the offsets that cross a plane between two lattice rows (o_n rows of sites below the plane
reach across it through offset k). Setting G = G_c gives s0 = √(2 G_c / (c S)). Its continuum
limit is the textbook 3D s0 = √(5G_c/(9Kδ)), plane stress s0 = √(4πG_c/(9Eδ)), plane strain
s0 = √(5πG_c/(12Eδ)) (:func:`critical_stretch_continuum`); the lattice form makes the energy
to separate the lattice exactly G_c instead of G_c up to the stencil's quadrature error.

Only electrolyte–electrolyte and electrolyte–Li bonds break; a pair with s0 ≤ 0 never breaks.
Softening pairs (bond_laws.py) have s0 = 0 here: their damage grows in :func:`commit_damage`, and
they break when it reaches 1.
Damage φ_i = Σ_j β_j (1 − μ_ij (1 − d_ij)) / Σ_j β_j over the bonds the geometry allows (line of
sight): the volume-weighted mean of the bond damage, a broken bond counting 1 (for brittle bonds the
usual 1 − Σ μβ/Σβ).
"""


import math

import taichi as ti

from ..lattice.stencil import Stencil
from .bond_laws import BRITTLE, DAMAGE_LEVELS, dissipated_of, kappa_of, quantise, stored_damage, trial_damage
from .pmb import ID_MASK, bond_factor, bond_is_set, nd, stretch


def crossing_sum(stencil: Stencil, dx: float, volume: float, thickness: float | None) -> float:
    """S = Σ_{k: o_y > 0} o_y β_k |ξ_k| V² / (Δx^{d−1} h_2D): bonds crossing a unit lattice plane."""
    on = stencil.offsets[:, 1].astype(float)
    mask = on > 0
    s = float((on[mask] * stencil.beta[mask] * stencil.length[mask]).sum()) * dx
    area_per_column = dx ** (stencil.dim - 1) * (thickness if stencil.dim == 2 else 1.0)
    return s * volume * volume / area_per_column


def critical_stretch(gc: float, c: float, stencil: Stencil, dx: float, volume: float, thickness: float | None) -> float:
    """s0 = √(2 G_c / (c S)): the stretch at which breaking a plane of bonds costs G_c."""
    return math.sqrt(2.0 * gc / (c * crossing_sum(stencil, dx, volume, thickness)))


def critical_stretch_continuum(gc: float, E: float, setting: str, delta: float) -> float:
    """Textbook s0 for the PD Poisson ratio: 3D √(5G_c/(9Kδ)), plane stress √(4πG_c/(9Eδ)), strain √(5πG_c/(12Eδ))."""
    if setting == "3d":
        return math.sqrt(5.0 * gc / (9.0 * (E / 1.5) * delta))
    if setting == "stress":
        return math.sqrt(4.0 * math.pi * gc / (9.0 * E * delta))
    return math.sqrt(5.0 * math.pi * gc / (12.0 * E * delta))


@ti.kernel
def max_stretch_ratio(u: nd, eps: nd, mat: nd, bits: nd, lin: nd, xi: nd, xlen: nd, s0pair: nd) -> float:
    """max over breakable intact bonds of s / s0 (a max reduction: exact, so deterministic)."""
    r = 0.0
    for i in range(u.shape[0]):
        mi = mat[i] & ID_MASK
        if mi != 0:
            for k in range(lin.shape[0]):
                if bond_is_set(bits, i, k):
                    j = i + lin[k]
                    s0 = s0pair[mi, mat[j] & ID_MASK]
                    if s0 > 0:
                        s, y, ly = stretch(u, eps, xi, xlen, i, j, k)
                        ti.atomic_max(r, s / s0)
    return r


@ti.kernel
def break_bonds(
    u: nd, eps: nd, mat: nd, gcorr: nd, bits: nd, lin: nd, xi: nd, xlen: nd, beta: nd,
    cpair: nd, s0pair: nd, ratio: float, volume: float, dissipated: nd,
) -> int:
    """Clear every breakable bond with s > ratio·s0; add its energy to ``dissipated`` (J m⁻³).

    Each end clears its own bit from identical arithmetic, so no atomics are needed on the bits.
    Returns the number of directed bonds cleared (twice the number of bonds).
    """
    n = 0
    for i in range(u.shape[0]):
        wi = mat[i]
        mi = wi & ID_MASK
        if mi != 0:
            e = 0.0
            for w in range(bits.shape[1]):
                word = bits[i, w]
                new = word
                for b in range(32):
                    k = w * 32 + b
                    if k < lin.shape[0] and ((word >> ti.cast(b, ti.u32)) & ti.u32(1)) != 0:
                        j = i + lin[k]
                        wj = mat[j]
                        s0 = s0pair[mi, wj & ID_MASK]
                        if s0 > 0:
                            s, y, ly = stretch(u, eps, xi, xlen, i, j, k)
                            if s > ratio * s0:
                                new &= ~(ti.u32(1) << ti.cast(b, ti.u32))
                                n += 1
                                gij = bond_factor(gcorr, xi, i, j, k, wi, wj)
                                e += 0.25 * cpair[mi, wj & ID_MASK] * beta[k] * gij * s * s * xlen[k] * volume
                bits[i, w] = new
            dissipated[i] += e
    return n


@ti.kernel
def commit_damage(
    u: nd, eps: nd, mat: nd, gcorr: nd, bits: nd, hist: nd, lin: nd, xi: nd, xlen: nd, beta: nd,
    cpair: nd, lawpair: nd, volume: float, dissipated: nd,
) -> int:
    """Make the damage of the current state the softening bonds' history; clear the bits of those at d = 1.

    d ← max(d, d(s)) on every intact softening bond, stored rounded down (bond_laws.quantise); the
    energy dissipated since the last commit, c β G |ξ| V (D(κ_new) − D(κ_old)) with D the law's
    dissipation per unit c and κ the history stretches of the stored codes (so the bookings telescope:
    a bond that breaks has booked exactly its whole work), is booked half to each end, in
    ``dissipated`` (J m⁻³). Each end updates its own copy from identical arithmetic, as
    :func:`break_bonds` does. Returns the directed bonds cleared.
    """
    n = 0
    for i in range(u.shape[0]):
        wi = mat[i]
        mi = wi & ID_MASK
        if mi != 0:
            e = 0.0
            for k in range(lin.shape[0]):
                if bond_is_set(bits, i, k):
                    j = i + lin[k]
                    wj = mat[j]
                    mj = wj & ID_MASK
                    row = lawpair[mi, mj]
                    if ti.cast(row[0], ti.i32) != BRITTLE:
                        s, y, ly = stretch(u, eps, xi, xlen, i, j, k)
                        q_old = hist[i, k]
                        q_new = quantise(trial_damage(row, stored_damage(hist, i, k), s))
                        if q_new > q_old:
                            k_old = kappa_of(row, ti.cast(q_old, float) * (1.0 / DAMAGE_LEVELS))
                            k_new = kappa_of(row, ti.cast(q_new, float) * (1.0 / DAMAGE_LEVELS))
                            gain = dissipated_of(row, k_new) - dissipated_of(row, k_old)
                            e += 0.5 * cpair[mi, mj] * beta[k] * bond_factor(gcorr, xi, i, j, k, wi, wj) \
                                * xlen[k] * volume * gain
                            hist[i, k] = q_new
                            d_new = ti.cast(q_new, float) * (1.0 / DAMAGE_LEVELS)
                            if d_new >= 1.0:
                                bits[i, k >> 5] &= ~(ti.u32(1) << ti.cast(k & 31, ti.u32))
                                n += 1
            dissipated[i] += e
    return n


@ti.kernel
def reset_damage(mat: nd, convert: nd, lin: nd, hist: nd):
    """Zero the stored damage of every bond touching a site flagged in ``convert`` (both ends' codes)."""
    for i in range(mat.shape[0]):
        if mat[i] != 0:
            for k in range(lin.shape[0]):
                if convert[i] != 0 or convert[i + lin[k]] != 0:
                    hist[i, k] = ti.u16(0)


@ti.kernel
def damage_growth(hist: nd, before: nd) -> float:
    """max over directed bonds of the stored damage gained since ``before`` (exact max: deterministic)."""
    r = 0
    for i, k in hist:
        ti.atomic_max(r, ti.cast(hist[i, k], ti.i32) - ti.cast(before[i, k], ti.i32))
    return ti.cast(r, float) * (1.0 / DAMAGE_LEVELS)


@ti.kernel
def damage(mat: nd, bits: nd, allowed: nd, hist: nd, lin: nd, beta: nd, lawpair: nd, out: nd, directional: ti.i32):
    """φ_i = Σ β (1 − μ (1 − d)) / Σ β over the allowed bonds (those the geometry permits, pmb.init_bonds),
    d the stored bond damage.

    A bond cut by a pre-crack is allowed, so it counts as damage (a pre-crack is a crack); a bond
    that line of sight never created (it crosses void) is geometry, and does not.

    ``directional`` ≠ 0: D_i = max over the allowed bonds of their damage (a cut bond 1), the loss of
    secant stiffness in the site's most damaged direction: the counterpart of a continuum scalar damage,
    which is the stiffness lost along the load (docs/coupled_model.md, "Damage measures").
    """
    for i in range(mat.shape[0]):
        d = 0.0
        mi = mat[i] & ID_MASK
        if mi != 0:
            tot = 0.0
            alive = 0.0
            worst = 0.0
            for k in range(lin.shape[0]):
                if bond_is_set(allowed, i, k):
                    mj = mat[i + lin[k]] & ID_MASK
                    tot += beta[k]
                    dk = 1.0
                    if bond_is_set(bits, i, k):
                        dk = 0.0
                        if ti.cast(lawpair[mi, mj][0], ti.i32) != BRITTLE:
                            dk = stored_damage(hist, i, k)
                    alive += beta[k] * (1.0 - dk)
                    worst = ti.max(worst, dk)
            if directional != 0:
                d = worst
            elif tot > 0:
                d = 1.0 - alive / tot
        out[i] = d
