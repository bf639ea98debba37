"""The sparse bond stiffness on the host: the reference K and the current tangent K_t (the Newton solver's
matrices, newton.py).

K = Σ_bonds c_ij β G_ij V/|ξ| (e_i − e_j)(e_i − e_j)ᵀ ⊗ n nᵀ over the intact bonds: the small-strain bond
stiffness, the exact tangent at the reference state. Softening bonds enter with their stored damage,
μ(1 − d) (the secant). It is assembled with NumPy from the bond bits, vectorised per stencil offset, on
the free unknowns (``dof``: C order of (site, axis)), deterministically, so reruns agree bit for bit.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from ..bond_laws import BRITTLE, DAMAGE_LEVELS, damage_rows, softening_slope
from ..bonds import bond_bit, intact_pairs
from ..pmb import ID_MASK


def bond_eigenstrain(eps: np.ndarray, p: np.ndarray, q: np.ndarray, k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """ε*_pq of bonds (p, k→q): scalar per site, or a Voigt tensor per site (pmb.bond_eigenstrain, on the host)."""
    if eps.ndim == 1:
        return 0.5 * (eps[p] + eps[q])
    t = eps[p] + eps[q]
    nk = n[k]
    if eps.shape[1] == 3:
        return 0.5 * (nk[:, 0] ** 2 * t[:, 0] + nk[:, 1] ** 2 * t[:, 1] + 2.0 * nk[:, 0] * nk[:, 1] * t[:, 2])
    return 0.5 * (nk[:, 0] ** 2 * t[:, 0] + nk[:, 1] ** 2 * t[:, 1] + nk[:, 2] ** 2 * t[:, 2]
                  + 2.0 * (nk[:, 1] * nk[:, 2] * t[:, 3] + nk[:, 0] * nk[:, 2] * t[:, 4] + nk[:, 0] * nk[:, 1] * t[:, 5]))


class BondStiffness:
    """The stencil's constants, the unknowns' numbering of the last assembly, and the matrices built on it."""

    def __init__(self, model):
        self.m = model
        st = model.stencil
        self.lin = model.lin.to_numpy().astype(np.int64)
        self.half = np.nonzero(self.lin > 0)[0]  # each undirected bond once
        self.n = (st.offsets / st.length[:, None]).astype(np.float64)  # unit vectors
        self.kconst = (st.beta * model.volume / (st.length * model.lattice.dx)).astype(np.float64)
        self.d = model.dim
        oblique = (st.offsets != 0).all(axis=1) & (self.kconst > 0)
        self.oblique = np.nonzero(oblique)[0]  # offsets along no lattice axis
        self.offset_index = {tuple(o): k for k, o in enumerate(st.offsets.tolist())}
        self.oblique_set = set(self.oblique.tolist())
        self.version = 0  # bumped at every assembly: a new numbering or new materials (the tangent's pattern)
        self.dof = None
        self._near_null = None
        self._tp = None

    def dofs(self, mat: np.ndarray, fixmask: np.ndarray) -> np.ndarray:
        """dof[p, a]: index of the free component a of padded site p, or −1."""
        d = self.d
        free = np.zeros((mat.shape[0], d), dtype=bool)
        solid = (mat & ID_MASK) != 0
        for a in range(d):
            free[:, a] = solid & (((fixmask >> a) & 1) == 0)
        dof = np.full(free.shape, -1, dtype=np.int64)
        dof[free] = np.arange(int(free.sum()))
        return dof

    def intact(self, ids, bits, hist, p, q, k) -> np.ndarray:
        """μ(1 − d) of bonds (p, k→q): the bond bit times, on softening pairs, one less the stored damage."""
        on = bond_bit(bits, p, k).astype(np.float64)
        if hist is None:
            return on
        soft = self.law[ids[p], ids[q], 0] != BRITTLE
        return np.where(soft, on * (1.0 - hist[p, k] / DAMAGE_LEVELS), on)

    def bond_stiffness(self, ids, g, p, q, k) -> np.ndarray:
        """k_b of bonds (p, k→q): their block of K is k_b (n nᵀ) ⊗ [[1, −1], [−1, 1]]."""
        n = self.n[k]
        gb = 2.0 / (1.0 / g[p] + 1.0 / g[q])
        G = 1.0 / np.sqrt(((n * n)[None, :] / (gb * gb)).sum(axis=1))
        return self.cpair[ids[p], ids[q]] * self.kconst[k] * G

    def entries(self, ids, g, dof, p, q, k, sign, rows, cols, vals) -> None:
        """Append the 2d×2d stiffness blocks of bonds (p, k→q), times ``sign`` (a number or one per bond),
        as COO triplets."""
        n = self.n[k]
        kb = sign * self.bond_stiffness(ids, g, p, q, k)
        for a in range(self.d):
            for b in range(self.d):
                w = kb * (n[a] * n[b])
                for (r, c, sg) in ((p, p, 1.0), (q, q, 1.0), (p, q, -1.0), (q, p, -1.0)):
                    ra, cb = dof[r, a], dof[c, b]
                    keep = (ra >= 0) & (cb >= 0)
                    rows.append(ra[keep])
                    cols.append(cb[keep])
                    vals.append(sg * w[keep])

    @staticmethod
    def matrix(rows, cols, vals, ndof) -> sparse.csc_matrix:
        if not rows:
            return sparse.csc_matrix((ndof, ndof))
        K = sparse.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                              shape=(ndof, ndof)).tocsc()
        K.sum_duplicates()
        return K

    def assemble(self, mat: np.ndarray, bits: np.ndarray, fixmask: np.ndarray,
                 hist: np.ndarray | None = None) -> sparse.csc_matrix:
        """K of every intact bond (no shift; softening bonds with their stored damage, the secant); also
        sets the unknowns' numbering ``dof``."""
        ids = (mat & ID_MASK).astype(np.int64)
        self.cpair = self.m.table.c.astype(np.float64)
        self.law = self.m.table.law
        self.g = g = self.m.gcorr.to_numpy().astype(np.float64)
        self.dof = dof = self.dofs(mat, fixmask)
        self._near_null = None  # the numbering changed: rebuild the rigid-body modes on next use
        self.version += 1
        ndof = int((dof >= 0).sum())
        P = np.nonzero(ids)[0]
        solid = ids != 0
        rows, cols, vals = [], [], []
        for k in self.half:
            p, q = intact_pairs(bits, P, self.lin, k, solid)
            w = 1.0 if hist is None else self.intact(ids, bits, hist, p, q, k)
            self.entries(ids, g, dof, p, q, k, w, rows, cols, vals)
        return self.matrix(rows, cols, vals, ndof)

    def changes(self, mat, bits_before, hist_before, bits, hist):
        """The stiffness change since (bits_before, hist_before) on the present numbering: (ΔK, every changed
        bond as (p, q, k, weight), the bonds whose bit flipped as (p, q, k, sign): the graph's edges)."""
        ids = (mat & ID_MASK).astype(np.int64)
        changed = bits ^ bits_before
        touched = changed.any(axis=1)
        if hist is not None:
            touched |= (hist != hist_before).any(axis=1)
        P = np.nonzero(touched & (ids != 0))[0]
        rows, cols, vals = [], [], []
        terms, cuts = [], []
        for k in self.half:
            Q = P + self.lin[k]
            there = ids[Q] != 0
            flip = bond_bit(changed, P, k) & there
            now = bond_bit(bits, P, k)
            if hist is None:
                weight = np.where(now, 1.0, -1.0)
                moved = flip
            else:
                weight = self.intact(ids, bits, hist, P, Q, k) - self.intact(ids, bits_before, hist_before, P, Q, k)
                moved = (weight != 0.0) & there
            for sign, sel in ((-1.0, moved & (weight < 0)), (1.0, moved & (weight > 0))):
                if sel.any():
                    w = sign if hist is None else weight[sel]
                    self.entries(ids, self.g, self.dof, P[sel], Q[sel], k, w, rows, cols, vals)
                    terms.append((P[sel], Q[sel], k, w))
                    cut = sel & flip
                    if cut.any():
                        cuts.append((P[cut], Q[cut], k, sign))
        return self.matrix(rows, cols, vals, int((self.dof >= 0).sum())), terms, cuts, ids

    def near_null(self) -> np.ndarray:
        """Rigid-body modes on the free unknowns (ndof × d(d+1)/2): translations, then rotations
        about the lattice centre, in units of Δx (the AMG near-null space, and the fragment test).
        Built once per numbering of the unknowns (assemble), not at every refresh of K."""
        if self._near_null is not None:
            return self._near_null
        d, dof = self.d, self.dof
        ndof = int((dof >= 0).sum())
        x = np.stack(np.unravel_index(np.arange(dof.shape[0]), self.m.lattice.padded_shape), axis=1).astype(float)
        x -= x.mean(axis=0)
        pairs = [(0, 1)] if d == 2 else [(0, 1), (1, 2), (2, 0)]
        B = np.zeros((ndof, d + len(pairs)))
        for a in range(d):
            on = dof[:, a] >= 0
            B[dof[on, a], a] = 1.0
        for r, (a, b) in enumerate(pairs):  # rotation in the (a, b) plane: δu_a = −x_b, δu_b = x_a
            on = dof[:, a] >= 0
            B[dof[on, a], d + r] = -x[on, b]
            on = dof[:, b] >= 0
            B[dof[on, b], d + r] = x[on, a]
        self._near_null = B
        return B

    def tangent_pattern(self, mat: np.ndarray):
        """Every stencil pair of solid sites (p, q, offset k, ξ, |ξ|, k₀ = c β G V) and the CSC pattern of
        K_t's COO entries, built once per numbering of the unknowns (``version``; it depends on the
        materials and constraints only, so a resumed run builds the same): a tangent is then one pass of
        NumPy arithmetic (pairs without an intact bond weighted 0) and one ``reduceat``."""
        if self._tp is not None and self._tp[0] == self.version:
            return self._tp[1]
        m = self.m
        ids = (mat & ID_MASK).astype(np.int64)
        dof, d = self.dof, self.d
        st, dx = m.stencil, m.lattice.dx
        P = np.nonzero(ids)[0]
        ps, qs, ks = [], [], []
        for k in self.half:
            Q = P + self.lin[k]
            ok = ids[Q] != 0
            ps.append(P[ok])
            qs.append(Q[ok])
            ks.append(np.full(int(ok.sum()), k, dtype=np.int64))
        p, q, k = np.concatenate(ps), np.concatenate(qs), np.concatenate(ks)
        xlen = st.length[k] * dx
        k0 = np.concatenate([self.bond_stiffness(ids, self.g, pp, qq, kk) for pp, qq, kk in
                             zip(ps, qs, self.half)]) * xlen if len(p) else np.zeros(0)
        rows, cols, src, sgn = [], [], [], []
        bond = np.arange(len(p))
        for a in range(d):
            for b in range(d):
                for (r, c, sg) in ((p, p, 1.0), (q, q, 1.0), (p, q, -1.0), (q, p, -1.0)):
                    ra, cb = dof[r, a], dof[c, b]
                    keep = (ra >= 0) & (cb >= 0)
                    rows.append(ra[keep])
                    cols.append(cb[keep])
                    src.append(bond[keep] * d * d + a * d + b)  # index into W.ravel()
                    sgn.append(np.full(int(keep.sum()), sg))
        rows, cols, src, sgn = (np.concatenate(x) for x in (rows, cols, src, sgn))
        order = np.lexsort((rows, cols))  # CSC: by column, then row
        rows, cols = rows[order], cols[order]
        new = np.ones(len(rows), dtype=bool)
        new[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        starts = np.nonzero(new)[0]
        n = int((dof >= 0).sum())
        indptr = np.searchsorted(cols[starts], np.arange(n + 1))
        pat = dict(p=p, q=q, k=k, word=k >> 5, bit=(k & 31).astype(np.uint32), xi=st.offsets[k] * dx, xlen=xlen,
                   k0=k0, src=src[order], sgn=sgn[order], rows=self.law[ids[p], ids[q]],
                   starts=starts, indices=rows[starts], indptr=indptr)
        self._tp = (self.version, pat)
        return pat

    def current_tangent(self, mat: np.ndarray, bits: np.ndarray, hist: np.ndarray | None, shift: np.ndarray,
                        consistent: bool = False) -> sparse.csc_matrix:
        """The tangent of the net force at the model's u, plus diag(``shift``) (the support shift), with the
        geometric stiffness of bonds in tension only; ``bits``/``hist`` those K was last refreshed with.

        A bond's force on its first site is f = k₀ s ŷ, with y = ξ + u_j − u_i, L = |ξ|(1 + ε*_ij) the
        stress-free length, s = |y|/L − 1 and k₀ = c_ij β G_ij V (pmb.py). Its derivative is

            ∂f/∂y = k₀ [ŷŷᵀ/L + (s/|y|)(I − ŷŷᵀ)]

        (the material stiffness along the bond plus the geometric stiffness of its tension across it);
        at u = 0 and ε* = 0 it is the reference K's k₀/|ξ| n nᵀ. It follows a cluster that has turned
        about a hinge, which the reference K cannot (newton.py). A compressed bond (s < 0, the
        confined Li) has a negative geometric stiffness: the exact tangent is then indefinite where a
        site rests on compressed bonds alone, Newton's step is no longer a descent direction of the
        energy and may run to an unstable equilibrium. Its across term is therefore left out (max(s, 0)):
        the matrix stays positive (semi)definite, exact wherever no bond is compressed, and off by
        O(|s|) (≈ 1e-2) where one is, so the steps still contract the residual by about that much.
        """
        m = self.m
        pat = self.tangent_pattern(mat)
        p, q = pat["p"], pat["q"]
        u = m.u.to_numpy().astype(np.float64)
        eps = m.eps.to_numpy().astype(np.float64)
        y = pat["xi"] + (u[q] - u[p])
        ly = np.sqrt((y * y).sum(axis=1))
        yh = y / ly[:, None]
        L = pat["xlen"] * (1.0 + bond_eigenstrain(eps, p, q, pat["k"], self.n))
        k0 = pat["k0"] * ((bits[p, pat["word"]] >> pat["bit"]) & 1)  # 0 once broken
        slope = None
        if hist is not None:  # softening bonds: the secant, with the damage this iterate implies
            rows = pat["rows"]
            soft = rows[:, 0] != BRITTLE
            s_now = ly / L - 1.0
            d_law = damage_rows(rows, s_now)
            d_old = hist[p, pat["k"]] / DAMAGE_LEVELS
            d = np.maximum(d_old, d_law) if self.m.damage_grows else d_old
            if consistent and self.m.damage_grows:  # bonds loading along their softening branch: the branch's own (negative) slope
                loading = soft & (d_law > d_old) & (s_now < rows[:, 3])
                slope = np.where(loading, softening_slope(rows, s_now), 1.0 - d)
            k0 = np.where(soft, k0 * (1.0 - d), k0)
        along = k0 / L if slope is None else pat["k0"] * ((bits[p, pat["word"]] >> pat["bit"]) & 1) * \
            np.where(pat["rows"][:, 0] != BRITTLE, slope, 1.0) / L
        across = k0 * np.maximum(ly / L - 1.0, 0.0) / ly
        W = (along - across)[:, None, None] * yh[:, :, None] * yh[:, None, :] \
            + across[:, None, None] * np.eye(self.d)[None]
        vals = W.ravel()[pat["src"]] * pat["sgn"]
        data = np.add.reduceat(vals, pat["starts"]) if len(vals) else vals
        n = pat["indptr"].size - 1
        Kt = sparse.csc_matrix((data, pat["indices"], pat["indptr"]), shape=(n, n))
        return (Kt + sparse.diags(shift, format="csc")).tocsc()

