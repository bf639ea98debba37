"""Peridynamic virial stress and its invariants.

σ_i = ½ Σ_j f_ij ⊗ ξ_ij V_j (MODEL.md §3). For a bulk site under uniform strain this equals the
continuum stress of the calibrated body (e.g. isotropic strain e gives 3K e in 3D). In 2D the
out-of-plane component is σ_zz = ν_PD (σ_xx + σ_yy) in plane strain (ν_PD = 1/4) and 0 in
plane stress; von Mises and hydrostatic stress include it.
Components are stored Voigt-like: 2D (xx, yy, xy), 3D (xx, yy, zz, yz, xz, xy).
"""


import taichi as ti

from .pmb import ID_MASK, bond_factor, bond_is_set, intact_fraction, nd, stretch


@ti.kernel
def virial_stress(
    u: nd, eps: nd, mat: nd, gcorr: nd, bits: nd, lin: nd, xi: nd, xlen: nd, beta: nd,
    cpair: nd, lawpair: nd, hist: nd, volume: float, szz_factor: float, sigma: nd, vm: nd, hyd: nd,
    dim: ti.template(),
):
    for i in range(u.shape[0]):
        S = ti.Matrix.zero(float, dim, dim)
        wi = mat[i]
        mi = wi & ID_MASK
        if mi != 0:
            for k in range(lin.shape[0]):
                if bond_is_set(bits, i, k):
                    j = i + lin[k]
                    wj = mat[j]
                    s, y, ly = stretch(u, eps, xi, xlen, i, j, k)
                    if ly > 0:
                        mj = wj & ID_MASK
                        fm = cpair[mi, mj] * beta[k] * bond_factor(gcorr, xi, i, j, k, wi, wj) * s \
                            * intact_fraction(lawpair, hist, mi, mj, i, k, s)
                        S += (0.5 * fm * volume / ly) * y.outer_product(xi[k])
        S = 0.5 * (S + S.transpose())
        if ti.static(dim == 2):
            szz = szz_factor * (S[0, 0] + S[1, 1])
            sigma[i, 0] = S[0, 0]
            sigma[i, 1] = S[1, 1]
            sigma[i, 2] = S[0, 1]
            p = (S[0, 0] + S[1, 1] + szz) / 3.0
            vm[i] = ti.sqrt(0.5 * ((S[0, 0] - S[1, 1]) ** 2 + (S[1, 1] - szz) ** 2 + (szz - S[0, 0]) ** 2)
                            + 3.0 * S[0, 1] ** 2)
            hyd[i] = p
        else:
            sigma[i, 0] = S[0, 0]
            sigma[i, 1] = S[1, 1]
            sigma[i, 2] = S[2, 2]
            sigma[i, 3] = S[1, 2]
            sigma[i, 4] = S[0, 2]
            sigma[i, 5] = S[0, 1]
            p = (S[0, 0] + S[1, 1] + S[2, 2]) / 3.0
            vm[i] = ti.sqrt(0.5 * ((S[0, 0] - S[1, 1]) ** 2 + (S[1, 1] - S[2, 2]) ** 2 + (S[2, 2] - S[0, 0]) ** 2)
                            + 3.0 * (S[0, 1] ** 2 + S[1, 2] ** 2 + S[0, 2] ** 2))
            hyd[i] = p
