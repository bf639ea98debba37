"""Quasi-static equilibrium by a sparse direct factorisation and preconditioned conjugate gradients.

The alternative to ADR (``solver.method = "direct"``) for bodies with enough prescribed
displacement to have no rigid-body mode (every free site connected, through intact bonds, to a
fixed one). A detached fragment, or a site left with collinear bonds (a mechanism), is held by a
small diagonal shift of K (1e-3 of its mean diagonal), and no Newton step moves a site by more than
5 % of Δx, so such modes cannot blow up; the residual criterion is unaffected (the shift only slows
the Newton steps' convergence to about 1e-3 per step). With a shift of 1e-7 instead, the cascade of
one hard step of the seed-000 pyramid took 90 s and fell back to ADR in 130 of 143 relaxations;
with 1e-3 it took 8 s with none (same 366–369 bonds broken).

Equilibrium is the same as ADR's: the net PMB force (pmb.bond_forces, geometrically non-linear,
with eigenstrains) vanishes on every free component, to ‖F‖ ≤ tol·‖F_abs‖. It is reached by
Newton-like steps K δu = F(u), u ← u + δu, with K the small-strain bond stiffness of the intact
bonds, K = Σ_bonds c_ij β G_ij V/|ξ| (e_i − e_j)(e_i − e_j)ᵀ ⊗ n nᵀ: the exact tangent at the
reference state, so each step cuts the residual by the order of the strain (1e-3) and two or three
steps converge. K δu = F is solved by conjugate gradients preconditioned with a sparse LU
factorisation of K as it was at the last factorisation. Breaking b bonds changes K by a matrix of
rank ≤ b, so CG with the old factor converges in at most b + 1 iterations (in exact arithmetic),
usually far fewer; the factorisation is renewed when CG needs more than ``refactor_after``
iterations. This is what makes the breaking cascade cheap: a few bonds break, a few CG iterations
re-establish equilibrium, where ADR needs thousands of sweeps over the whole body.

K is assembled on the host with NumPy from the bond bits (vectorised per stencil offset), and
factorised with SuperLU (scipy). Everything is deterministic, so reruns agree bit for bit.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from ..linalg import factorise, pcg, sparse_load, sparse_state
from .pmb import ID_MASK


class DirectSolver:
    """Sparse small-strain stiffness of the intact bonds, its factorisation, and the equilibrium loop."""

    def __init__(self, model, refactor_after: int = 10, shift: float = 1e-3, max_step: float = 0.05):
        self.m = model
        self.refactor_after = refactor_after
        self.shift = shift
        self.max_step = max_step * model.lattice.dx  # largest displacement update per Newton step
        st = model.stencil
        self.lin = model.lin.to_numpy().astype(np.int64)
        self.half = np.nonzero(self.lin > 0)[0]  # each undirected bond once
        self.n = (st.offsets / st.length[:, None]).astype(np.float64)  # unit vectors
        self.kconst = (st.beta * model.volume / (st.length * model.lattice.dx)).astype(np.float64)
        self.d = model.dim
        self.K = None
        self.Kf = None
        self.factor = None
        self.stats = dict(factorisations=0, cg_iterations=0, outer_iterations=0)

    def reset(self) -> None:
        """Forget K and its factorisation; the next solve assembles and factorises afresh."""
        self.K = None
        self.factor = None
        self.Kf = None

    def state(self, prefix: str) -> dict[str, np.ndarray]:
        """K and the matrix the preconditioner factorises: with them a resumed run is bitwise the same."""
        if self.K is None:
            return {}
        return {**sparse_state(self.K, prefix + "K."), **sparse_state(self.Kf, prefix + "Kf."),
                prefix + "mat": self._mat, prefix + "bits": self._bits, prefix + "fix": self._fix}

    def load(self, arrays: dict[str, np.ndarray], prefix: str) -> None:
        self.reset()
        K, Kf = sparse_load(arrays, prefix + "K."), sparse_load(arrays, prefix + "Kf.")
        if K is None:
            return
        mat, bits, fix = (arrays[prefix + n] for n in ("mat", "bits", "fix"))
        self.assemble(mat, bits, fix)  # dof map, g, cpair for later incremental updates
        self.K, self._mat, self._bits, self._fix = K, mat, bits, fix
        if Kf is not None:
            self.Kf = Kf
            self.factor = factorise(Kf)
            self.factor_shape = Kf.shape

    # ------------------------------------------------------------ assembly
    def _dofs(self, mat: np.ndarray, fixmask: np.ndarray) -> np.ndarray:
        """dof[p, a]: index of the free component a of padded site p, or −1."""
        d = self.d
        free = np.zeros((mat.shape[0], d), dtype=bool)
        solid = (mat & ID_MASK) != 0
        for a in range(d):
            free[:, a] = solid & (((fixmask >> a) & 1) == 0)
        dof = np.full(free.shape, -1, dtype=np.int64)
        dof[free] = np.arange(int(free.sum()))
        return dof

    def _entries(self, ids, g, dof, p, q, k, sign, rows, cols, vals) -> None:
        """Append the 2d×2d stiffness blocks of bonds (p, k→q), times ``sign``, as COO triplets."""
        n = self.n[k]
        gb = 2.0 / (1.0 / g[p] + 1.0 / g[q])
        G = 1.0 / np.sqrt(((n * n)[None, :] / (gb * gb)).sum(axis=1))
        kb = sign * self.cpair[ids[p], ids[q]] * self.kconst[k] * G
        for a in range(self.d):
            for b in range(self.d):
                w = kb * (n[a] * n[b])
                for (r, c, sg) in ((p, p, 1.0), (q, q, 1.0), (p, q, -1.0), (q, p, -1.0)):
                    ra, cb = dof[r, a], dof[c, b]
                    keep = (ra >= 0) & (cb >= 0)
                    rows.append(ra[keep])
                    cols.append(cb[keep])
                    vals.append(sg * w[keep])

    def _matrix(self, rows, cols, vals, ndof) -> sparse.csc_matrix:
        if not rows:
            return sparse.csc_matrix((ndof, ndof))
        K = sparse.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                              shape=(ndof, ndof)).tocsc()
        K.sum_duplicates()
        return K

    def assemble(self, mat: np.ndarray, bits: np.ndarray, fixmask: np.ndarray) -> sparse.csc_matrix:
        """K of every intact bond, plus a diagonal shift of ``shift`` × the mean diagonal."""
        ids = (mat & ID_MASK).astype(np.int64)
        self.cpair = self.m.table.c.astype(np.float64)
        self.g = g = self.m.gcorr.to_numpy().astype(np.float64)
        self.dof = dof = self._dofs(mat, fixmask)
        ndof = int((dof >= 0).sum())
        P = np.nonzero(ids)[0]
        rows, cols, vals = [], [], []
        for k in self.half:
            Q = P + self.lin[k]
            ok = ((bits[P, k >> 5] >> np.uint32(k & 31)) & 1).astype(bool) & (ids[Q] != 0)
            self._entries(ids, g, dof, P[ok], Q[ok], k, 1.0, rows, cols, vals)
        K = self._matrix(rows, cols, vals, ndof)
        diag = K.diagonal()
        scale = float(diag[diag > 0].mean()) if (diag > 0).any() else 1.0
        return K + sparse.diags(np.full(ndof, self.shift * scale), format="csc")

    def _refresh(self) -> None:
        """Bring K up to date: a full assembly when materials or constraints changed, otherwise only
        the blocks of the bonds whose bits changed since the last call (broken: subtracted)."""
        m = self.m
        mat = m.mat.to_numpy()
        bits = m.bits.to_numpy()
        fix = m.fixmask.to_numpy()
        if self.K is None or not (np.array_equal(mat, self._mat) and np.array_equal(fix, self._fix)):
            self.K = self.assemble(mat, bits, fix)
        elif not np.array_equal(bits, self._bits):
            ids = (mat & ID_MASK).astype(np.int64)
            changed = bits ^ self._bits
            P = np.nonzero(changed.any(axis=1) & (ids != 0))[0]
            rows, cols, vals = [], [], []
            for k in self.half:
                Q = P + self.lin[k]
                flip = ((changed[P, k >> 5] >> np.uint32(k & 31)) & 1).astype(bool) & (ids[Q] != 0)
                now = ((bits[P, k >> 5] >> np.uint32(k & 31)) & 1).astype(bool)
                for sign, sel in ((-1.0, flip & ~now), (1.0, flip & now)):
                    if sel.any():
                        self._entries(ids, self.g, self.dof, P[sel], Q[sel], k, sign, rows, cols, vals)
            self.K = self.K + self._matrix(rows, cols, vals, self.K.shape[0])
        else:
            return
        self._mat, self._bits, self._fix = mat, bits, fix
        if self.factor is None or self.factor_shape != self.K.shape:
            self._factorise()

    def _factorise(self) -> None:
        self.factor = factorise(self.K)
        self.Kf = self.K
        self.factor_shape = self.K.shape
        self.stats["factorisations"] += 1

    # ------------------------------------------------------------ solve
    def relax(self, tolerance: float, max_outer: int = 12):
        """Equilibrium to ‖F‖ ≤ tolerance·‖F_abs‖ (the ADR criterion), warm-started from the current u."""
        from .model import RelaxResult

        m = self.m
        m.impose_boundary()
        self._refresh()
        dof = self.dof
        free = dof >= 0
        res = float("inf")
        for it in range(max_outer + 1):
            m.compute_forces()
            F = m.force.to_numpy().astype(np.float64)
            fabs = m.fabs.to_numpy().astype(np.float64)
            rhs = F[free]  # free components, in dof order (C order of (site, axis))
            aa = float((fabs * fabs).sum())
            rr = float((rhs * rhs).sum())
            res = 0.0 if rr == 0 else (float(np.sqrt(rr / aa)) if aa > 0 else float("inf"))
            at_rest = rr <= m.force_floor2 and aa <= m.force_floor2
            if not np.isfinite(res) and not at_rest:
                raise FloatingPointError("direct solve: residual is not finite")
            if res <= tolerance or at_rest:
                return RelaxResult(it, res, True)
            if it == max_outer:
                break
            du, cg_it = pcg(self.K, self.factor.solve, rhs, rtol=1e-3, maxiter=10 * self.refactor_after)
            self.stats["cg_iterations"] += cg_it
            self.stats["outer_iterations"] += 1
            big = float(np.abs(du).max(initial=0.0))
            if big > self.max_step:  # a near-mechanism (a site left with collinear bonds): damp the step
                du *= self.max_step / big
            u = m.u.to_numpy()
            upd = np.zeros(F.shape)
            upd[free] = du
            m.u.from_numpy((u + upd).astype(m.np_float))
            if cg_it > self.refactor_after:
                self._factorise()
        return RelaxResult(max_outer, res, False)
