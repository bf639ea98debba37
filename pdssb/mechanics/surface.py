"""Surface correction: the directional energy method (Madenci & Oterkus, Peridynamic Theory and
Its Applications, Springer 2014, §4.3; compared with other corrections by Le & Bobaru, Comput.
Mech. 61 (2018) 499).

A site near a free surface has fewer neighbours and is too soft. Under a uniaxial strain e along
axis a a bond carries s = e n_a², so the strain energy of site i is ∝ Σ_k β_k |ξ_k| n_a⁴ over
the bonds it has. The factor g_{a,i} = (that sum for a bulk site) / (that sum for site i) restores
the bulk energy for each axis separately: bonds parallel to a surface are not stiffened, only the
directions that lost neighbours. A bond takes the harmonic mean ḡ = 2/(1/g_i + 1/g_j) (the
arithmetic mean of the original method over-stiffens the rows just inside a face: measured
uniaxial-tension modulus error on a 16-site-wide plane-strain strip 1.8 % → 1.4 %, 12³-section
3D bar 3.7 % → 2.7 %) and the ellipse/ellipsoid interpolation G_ij = (Σ_a n_a² / ḡ_a²)^(−½).
The remaining error falls as δ/W with the bar width W (see docs/verification.md).

Factors come once from the bonds the geometry allows (line of sight, pmb.init_bonds): the faces of
void, slits one site wide included, are free surfaces. Bonds cut by a pre-crack count as present, as
those of a crack the run grows do, so a pre-crack's faces are not corrected (the choice and its
measured cost: docs/scenes.md, "Line of sight and pre-cracks"). Interfaces between two materials
are not free surfaces (both sides are solid): g = 1 there.
"""

import taichi as ti

from .pmb import SURFACE_FLAG, bond_is_set, nd


@ti.kernel
def surface_factors(mat: nd, present: nd, lin: nd, xi: nd, xlen: nd, beta: nd, out: nd, dim: ti.template(),
                    p: ti.template(), q: ti.template()):
    """g_a = Σ_all w / Σ_present w per axis a, with w = β |ξ|^q n_a^p; ``present``: bond bits.

    p = 4, q = 1 for the elastic energy of a PMB body (this module); p = 2, q = 0 for the
    conduction operator (electrochem/conduction.py), whose flux is second order in the bond.
    """
    for i in range(mat.shape[0]):
        g = ti.Vector.one(float, dim)
        if mat[i] != 0:
            full = ti.Vector.zero(float, dim)
            have = ti.Vector.zero(float, dim)
            for k in range(lin.shape[0]):
                n = xi[k] / xlen[k]
                w = beta[k] * xlen[k] ** q * n**p
                full += w
                if bond_is_set(present, i, k):
                    have += w
            for a in ti.static(range(dim)):
                if have[a] > 0:
                    g[a] = full[a] / have[a]
        out[i] = g


@ti.kernel
def flag_surface_sites(mat: nd, gcorr: nd, dim: ti.template()):
    """Mark sites whose correction differs from 1, so bulk–bulk bonds can skip it."""
    for i in range(mat.shape[0]):
        if mat[i] != 0:
            bulk = True
            for a in ti.static(range(dim)):
                if gcorr[i][a] != 1.0:
                    bulk = False
            mat[i] = (mat[i] & ~SURFACE_FLAG) | (0 if bulk else SURFACE_FLAG)

