"""Prototype microelastic brittle (PMB) bonds: micromodulus calibration and the bond-force kernel.

Bond ξ = x_j − x_i, deformed y = ξ + u_j − u_i. With isotropic eigenstrains ε*_i (Li insertion)
the stress-free bond length is |ξ|(1 + (ε*_i + ε*_j)/2); with tensor eigenstrains E*_i (anisotropic
intercalation strain) it is |ξ|(1 + ξ̂·(E*_i + E*_j)·ξ̂/2) (:func:`bond_eigenstrain`). The stretch is
s = |y| / (|ξ|(1 + ε*_ij)) − 1. The pairwise force density is f = c_ij β G_ij s μ_ij y/|y|, with
β the quadrature weight of the offset, G_ij the directional surface correction and μ_ij
the bond bit. A softening bond (bond_laws.py) carries a factor (1 − d), d = max(its stored damage, the
damage its current stretch implies): the force of the current iterate with the history committed at
the last accepted state (fracture.commit_damage).

Micromodulus. Under an isotropic expansion ε every bond has s = ε, so the strain-energy density
of a bulk site is W = ¼ c ε² Σ_k β_k |ξ_k| V. Equating it with the continuum ½ κ_d (d ε)², with
κ_d the bulk modulus of the d-dimensional body (3D: K; plane strain: E/(2(1+ν)(1−2ν)); plane
stress: E/(2(1−ν))), gives c = 2 d² κ_d / (Σ_k β_k |ξ_k| V). Replacing the lattice sum by its
integral recovers the textbook forms (3D 18K/(πδ⁴), plane stress 9E/(πhδ³), plane strain
48E/(5πhδ³)); calibrating on the lattice sum removes the quadrature error of the stencil.
Bonds between two materials are springs in series: c_ij = 2 c_i c_j / (c_i + c_j).
"""

import taichi as ti

from ..lattice.stencil import Stencil
from .bond_laws import BRITTLE, stored_damage, trial_damage

nd = ti.types.ndarray()

#: bit set in a site's material word when it lies within a horizon of a free surface
SURFACE_FLAG = 1 << 16
#: bit set when a site's neighbourhood holds a surface site or another material: the general path
MIXED_FLAG = 1 << 17
ID_MASK = SURFACE_FLAG - 1

#: Poisson's ratio a bond-based body has, per kinematic setting
PD_POISSON = {"3d": 0.25, "strain": 0.25, "stress": 1.0 / 3.0}


def bulk_modulus_d(E: float, nu: float, setting: str) -> float:
    """Bulk modulus of the d-dimensional body: 3D K, or the in-plane 2D modulus (plane strain/stress)."""
    if setting == "3d":
        return E / (3.0 * (1.0 - 2.0 * nu))
    if setting == "strain":
        return E / (2.0 * (1.0 + nu) * (1.0 - 2.0 * nu))
    if setting == "stress":
        return E / (2.0 * (1.0 - nu))
    raise ValueError(f"unknown setting {setting!r}")


def youngs_from_bulk_d(kappa: float, setting: str) -> float:
    """Young's modulus that a bond-based body with bulk modulus κ_d has (ν fixed by PD_POISSON)."""
    return {"3d": 1.5, "strain": 1.25, "stress": 4.0 / 3.0}[setting] * kappa


def site_volume(dx: float, dim: int, thickness: float | None) -> float:
    """Volume of one lattice cell: Δx³ in 3D, Δx²·h in 2D."""
    return dx**3 if dim == 3 else dx * dx * float(thickness)


def bond_sum(stencil: Stencil, dx: float, volume: float) -> float:
    """Σ_k β_k |ξ_k| V over a full bulk neighbourhood (m⁴ in 3D, m⁴ in 2D with h folded into V)."""
    return float((stencil.beta * stencil.length).sum()) * dx * volume


def micromodulus(kappa_d: float, stencil: Stencil, dx: float, volume: float) -> float:
    """c = 2 d² κ_d / Σ_k β_k |ξ_k| V, in N m⁻⁶ (see module docstring)."""
    d = stencil.dim
    return 2.0 * d * d * kappa_d / bond_sum(stencil, dx, volume)


def series(c_i: float, c_j: float) -> float:
    return 2.0 * c_i * c_j / (c_i + c_j)


@ti.func
def bond_is_set(bits: ti.template(), i, k):
    return ((bits[i, k >> 5] >> ti.cast(k & 31, ti.u32)) & ti.u32(1)) != 0


@ti.func
def bond_factor(gcorr: ti.template(), xi: ti.template(), i, j, k, wi, wj):
    """Directional surface correction G_ij = (Σ_a n_a² / ḡ_a²)^(−½), ḡ the harmonic mean of g_i, g_j (surface.py).

    ``wi``/``wj`` are the material words: bulk–bulk bonds (no SURFACE_FLAG) have G = 1 exactly.
    """
    g = 1.0
    if (wi | wj) & SURFACE_FLAG:
        gb = 2.0 / (1.0 / gcorr[i] + 1.0 / gcorr[j])
        n = xi[k].normalized()
        g = 1.0 / ti.sqrt((n * n / (gb * gb)).sum())
    return g


@ti.func
def bond_eigenstrain(eps: ti.template(), xi: ti.template(), i, j, k):
    """ε*_ij of bond (i, k→j): (ε*_i + ε*_j)/2 for isotropic eigenstrains (``eps`` one number per site), or
    ξ̂·(E*_i + E*_j)·ξ̂/2 for tensor ones (``eps`` holds E* per site in Voigt order: 2D xx, yy, xy; 3D
    xx, yy, zz, yz, xz, xy), so that the bond's stress-free length is |ξ|(1 + ε*_ij). Which one is
    fixed by the array's rank when the kernel compiles."""
    e = 0.0
    if ti.static(len(eps.shape) == 1):
        e = 0.5 * (eps[i] + eps[j])
    else:
        n = xi[k].normalized()
        if ti.static(n.n == 2):  # 2D: xx, yy, xy
            t = ti.Vector([eps[i, c] + eps[j, c] for c in ti.static(range(3))])
            e = 0.5 * (n[0] * n[0] * t[0] + n[1] * n[1] * t[1] + 2.0 * n[0] * n[1] * t[2])
        else:
            t = ti.Vector([eps[i, c] + eps[j, c] for c in ti.static(range(6))])
            e = 0.5 * (n[0] * n[0] * t[0] + n[1] * n[1] * t[1] + n[2] * n[2] * t[2]
                       + 2.0 * (n[1] * n[2] * t[3] + n[0] * n[2] * t[4] + n[0] * n[1] * t[5]))
    return e


@ti.func
def stretch(u: ti.template(), eps: ti.template(), xi: ti.template(), xlen: ti.template(), i, j, k):
    """(s, y, |y|) of bond (i, k→j); both ends compute bitwise-identical s, so breaking is symmetric."""
    y = xi[k] + (u[j] - u[i])
    ly = y.norm()
    s = ly / (xlen[k] * (1.0 + bond_eigenstrain(eps, xi, i, j, k))) - 1.0
    return s, y, ly


@ti.func
def rest_inv_length(inv_len_k, ei, ej, branchless: ti.template()):
    """1/(|ξ|(1 + ε*_ij)) with ε*_ij = (ε*_i + ε*_j)/2: the stress-free inverse bond length.

    The scalar form skips the division when ε*_ij = 0; ``branchless`` always divides (by exactly 1.0
    then: the same value), which lets a loop over sites vectorise (blocked.py).
    """
    ebar = 0.5 * (ei + ej)
    inv_l0 = inv_len_k
    if ti.static(branchless):
        inv_l0 = inv_len_k / (1.0 + ebar)
    elif ebar != 0.0:
        inv_l0 = inv_len_k / (1.0 + ebar)
    return inv_l0


@ti.func
def _force_from_bond(u: ti.template(), eps: ti.template(), xi: ti.template(), inv_len: ti.template(),
                     bvol: ti.template(), ui, ei, i, j, k, c):
    """(c β V s / |y|) y for bond (i, k→j): s = |y|/(|ξ|(1 + ε*_ij)) − 1, as in :func:`stretch`."""
    y = xi[k] + (u[j] - ui)
    inv_ly = 1.0 / ti.sqrt(y.dot(y))
    inv_l0 = inv_len[k]
    if ti.static(len(eps.shape) == 1):
        inv_l0 = rest_inv_length(inv_len[k], ei, eps[j], False)
    else:
        ebar = bond_eigenstrain(eps, xi, i, j, k)
        if ebar != 0.0:
            inv_l0 = inv_len[k] / (1.0 + ebar)
    return c * bvol[k] * (inv_l0 / inv_ly - 1.0), y, inv_ly


@ti.func
def intact_fraction(lawpair: ti.template(), hist: ti.template(), mi, mj, i, k, s, grow=1):
    """1 − d of bond (i, k) at stretch s: 1 for a brittle pair, else 1 − its trial damage
    (bond_laws.trial_damage), or 1 − its stored damage when ``grow`` is 0 (damage held: the elastic
    predictor of MechanicsModel.relax)."""
    f = 1.0
    row = lawpair[mi, mj]
    if ti.cast(row[0], ti.i32) != BRITTLE:
        d = stored_damage(hist, i, k)
        if grow != 0:
            d = trial_damage(row, d, s)
        f = 1.0 - d
    return f


@ti.func
def finish_site(acc, body: ti.template(), body_scale, fixmask: ti.template(), i, dim: ti.template()):
    """Add the body force b_i (scaled by the load) and zero the prescribed components of site i."""
    acc += body_scale * body[i]
    fm_mask = fixmask[i]
    for a in ti.static(range(dim)):
        if (fm_mask >> a) & 1:
            acc[a] = 0.0
    return acc


@ti.func
def site_force(u: ti.template(), eps: ti.template(), mat: ti.template(), gcorr: ti.template(),
               bits: ti.template(), lin: ti.template(), xi: ti.template(), inv_len: ti.template(),
               bvol: ti.template(), cpair: ti.template(), lawpair: ti.template(), hist: ti.template(), grow,
               body: ti.template(), body_scale, fixmask: ti.template(), i, dim: ti.template(),
               with_abs: ti.template()):
    """(force_i, fabs_i) of one site with the engine's full semantics (zero for a void site).

    force_i = Σ_j f_ij V + b_i (zeroed on prescribed components); fabs_i = Σ_j |f_ij| V if ``with_abs``
    (else 0). A site whose neighbourhood is one material with no surface site (no MIXED_FLAG) takes
    a lean loop: c is its own and G = 1 for every bond. Other sites take the general loop (pair-table
    c, surface correction, softening laws: flag_mixed_sites marks the sites of softening materials). The
    branch is per site, so the lean loop compiles without the general one's code in it (that code slows
    the whole loop on the CPU; docs/benchmarks.md, "History"). Used by :func:`bond_forces` for every site
    and by the site-blocked kernel (blocked.py) for the sites of its mixed and void blocks.
    """
    nk = lin.shape[0]
    acc = ti.Vector.zero(float, dim)
    aabs = 0.0
    wi = mat[i]
    mi = wi & ID_MASK
    if mi != 0:
        ui = u[i]
        ei = 0.0
        if ti.static(len(eps.shape) == 1):
            ei = eps[i]
        ci = cpair[mi, mi]
        if wi & MIXED_FLAG == 0:
            for k in range(nk):
                if bond_is_set(bits, i, k):
                    j = i + lin[k]
                    cbv, y, inv_ly = _force_from_bond(u, eps, xi, inv_len, bvol, ui, ei, i, j, k, ci)
                    acc += (cbv * inv_ly) * y
                    if ti.static(with_abs):
                        aabs += ti.abs(cbv)
        else:
            for k in range(nk):
                if bond_is_set(bits, i, k):
                    j = i + lin[k]
                    wj = mat[j]
                    mj = wj & ID_MASK
                    c = cpair[mi, mj] * bond_factor(gcorr, xi, i, j, k, wi, wj)
                    cbv, y, inv_ly = _force_from_bond(u, eps, xi, inv_len, bvol, ui, ei, i, j, k, c)
                    if ti.cast(lawpair[mi, mj][0], ti.i32) != BRITTLE:
                        cbv *= intact_fraction(lawpair, hist, mi, mj, i, k, cbv / (c * bvol[k]), grow)
                    acc += (cbv * inv_ly) * y
                    if ti.static(with_abs):
                        aabs += ti.abs(cbv)
        acc = finish_site(acc, body, body_scale, fixmask, i, dim)
    return acc, aabs


@ti.kernel
def bond_forces(
    u: nd, eps: nd, mat: nd, gcorr: nd, bits: nd, lin: nd, xi: nd, inv_len: nd, bvol: nd,
    cpair: nd, lawpair: nd, hist: nd, grow: ti.i32, body: nd, body_scale: float, fixmask: nd,
    force: nd, fabs: nd, dim: ti.template(), with_abs: ti.template(),
):
    """The per-site force kernel: force_i, fabs_i of :func:`site_force` for every padded site.

    ``inv_len`` = 1/|ξ| and ``bvol`` = β V per offset. The CUDA path (one thread per site); on the CPU
    the site-blocked kernel of blocked.py vectorises the lean sites across consecutive sites.
    """
    for i in range(u.shape[0]):
        acc, aabs = site_force(u, eps, mat, gcorr, bits, lin, xi, inv_len, bvol, cpair, lawpair, hist, grow, body,
                               body_scale, fixmask, i, dim, with_abs)
        force[i] = acc
        if ti.static(with_abs):
            fabs[i] = aabs


@ti.kernel
def flag_mixed_sites(mat: nd, lin: nd, lawpair: nd):
    """MIXED_FLAG on sites with a surface site or another material among their neighbours (or themselves),
    and on sites of a material whose own bonds soften (the lean loops have no damage)."""
    for i in range(mat.shape[0]):
        wi = mat[i]
        if wi != 0:
            mi = wi & ID_MASK
            mixed = (wi & SURFACE_FLAG) != 0 or ti.cast(lawpair[mi, mi][0], ti.i32) != BRITTLE
            for k in range(lin.shape[0]):
                wj = mat[i + lin[k]]
                if wj != 0 and ((wj & SURFACE_FLAG) != 0 or (wj & ID_MASK) != (wi & ID_MASK)):
                    mixed = True
            mat[i] = (wi & ~MIXED_FLAG) | (MIXED_FLAG if mixed else 0)


@ti.kernel
def strain_energy_density(
    u: nd, eps: nd, mat: nd, gcorr: nd, bits: nd, lin: nd, xi: nd, xlen: nd, beta: nd,
    cpair: nd, lawpair: nd, hist: nd, volume: float, out: nd,
):
    """W_i = ¼ Σ_j (1 − d) c_ij β G_ij s² |ξ| V_j (J m⁻³); Σ_i W_i V_i is the elastic energy of the body
    (a softening bond stores what its secant gives back)."""
    for i in range(u.shape[0]):
        w = 0.0
        wi = mat[i]
        mi = wi & ID_MASK
        if mi != 0:
            for k in range(lin.shape[0]):
                if bond_is_set(bits, i, k):
                    j = i + lin[k]
                    wj = mat[j]
                    s, y, ly = stretch(u, eps, xi, xlen, i, j, k)
                    g = bond_factor(gcorr, xi, i, j, k, wi, wj)
                    mj = wj & ID_MASK
                    w += 0.25 * cpair[mi, mj] * beta[k] * g * s * s * xlen[k] * volume \
                        * intact_fraction(lawpair, hist, mi, mj, i, k, s)
        out[i] = w


@ti.kernel
def init_bonds(mat: nd, lin: nd, cross_start: nd, cross_lin: nd, bits: nd, allowed: nd):
    """Set the bit of every offset whose two ends are non-void and see each other, in ``bits`` and ``allowed``.

    The ends see each other when no cell the bond's segment crosses is void: offset k crosses the
    cells at flat offsets ``cross_lin[cross_start[k]:cross_start[k + 1]]`` (lattice/sight.py).
    """
    for i in range(mat.shape[0]):
        for w in range(bits.shape[1]):
            bits[i, w] = ti.u32(0)
        if mat[i] != 0:
            for k in range(lin.shape[0]):
                if mat[i + lin[k]] != 0:
                    seen = True
                    for q in range(cross_start[k], cross_start[k + 1]):
                        if mat[i + cross_lin[q]] == 0:
                            seen = False
                    if seen:
                        bits[i, k >> 5] |= ti.u32(1) << ti.cast(k & 31, ti.u32)
        for w in range(bits.shape[1]):
            allowed[i, w] = bits[i, w]


@ti.kernel
def reform_bonds(mat: nd, convert: nd, lin: nd, allowed: nd, bits: nd):
    """Set the bit of every allowed bond touching a converted site (both ends).

    ``allowed`` holds the bonds the material geometry permits (line of sight, :func:`init_bonds`), so a
    bond through void is never re-formed, while one across a pre-crack that Li has filled is.
    """
    for i in range(mat.shape[0]):
        if mat[i] != 0:
            for k in range(lin.shape[0]):
                if (convert[i] != 0 or convert[i + lin[k]] != 0) and bond_is_set(allowed, i, k):
                    bits[i, k >> 5] |= ti.u32(1) << ti.cast(k & 31, ti.u32)
