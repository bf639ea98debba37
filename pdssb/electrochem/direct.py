"""Host-side sparse solve of the conduction Newton system (``solver.method = "direct"``).

The Newton step of conduction.py solves J δ = r on the free electrolyte sites (not the counter
electrode), with J = Σ_bonds c_ij (e_i − e_j)(e_i − e_j)ᵀ + diag(∂i/∂η a) (the Butler–Volmer
derivative on interface bonds). The Taichi kernel ``residual`` already gives r and the diagonal
of J; this module adds the off-diagonal conductances, assembled from the same bonds with NumPy,
and solves by conjugate gradients preconditioned with J as it was at the first Newton step of
each solve (a SuperLU factorisation, or smoothed-aggregation AMG for large systems: see
``solver.preconditioner`` and linalg.Preconditioner); later Newton steps (which change only the
interface diagonal) and later solves with unchanged bonds and κ reuse it.
"""

from __future__ import annotations

import hashlib

import numpy as np
from scipy import sparse

from ..linalg import Preconditioner, pcg, preconditioner_kind, sparse_load, sparse_state
from ..mechanics.bonds import intact_pairs
from ..mechanics.pmb import ID_MASK, SURFACE_FLAG


class DirectConduction:
    def __init__(self, cond, refactor_after: int = 20, preconditioner: str = "auto"):
        self.c = cond
        self.preconditioner = preconditioner
        m = cond.m
        st = m.stencil
        self.lin = m.lin.to_numpy().astype(np.int64)
        self.half = np.nonzero(self.lin > 0)[0]
        self.n = (st.offsets / st.length[:, None]).astype(np.float64)
        self.cw = cond.cw.to_numpy().astype(np.float64)
        self.refactor_after = refactor_after
        self._key = None
        self.offdiag = None
        self.factor = None
        self.Jf = None
        self.stats = dict(factorisations=0, cg_iterations=0)

    def reset(self) -> None:
        """Forget the matrix and its factorisation; the next solve assembles and factorises afresh."""
        self._key = None
        self.offdiag = None
        self.factor = None
        self.Jf = None

    def state(self, prefix: str) -> dict[str, np.ndarray]:
        """The matrix the preconditioner factorises (the rest is rebuilt from the state)."""
        out = sparse_state(self.Jf, prefix + "Jf.")
        if self._key is not None:
            out[prefix + "key"] = np.frombuffer(self._key, dtype=np.uint8)
        return out

    def load(self, arrays: dict[str, np.ndarray], prefix: str) -> None:
        self.reset()
        Jf = sparse_load(arrays, prefix + "Jf.")
        if Jf is not None:
            self.Jf, self.factor = Jf, self._precondition(Jf)
        if prefix + "key" in arrays:
            self._key = arrays[prefix + "key"].tobytes()

    def _precondition(self, J):
        return Preconditioner(J, preconditioner_kind(self.preconditioner, J.shape[0]))

    def _offdiag(self):
        """Off-diagonal part −c_ij among free electrolyte sites, and the free-site index."""
        c, m = self.c, self.c.m
        mat = m.mat.to_numpy()
        bits = m.bits.to_numpy()
        kappa = c.kappa.to_numpy().astype(np.float64)
        role = c.role.to_numpy()
        ce = c.ce.to_numpy()
        h = hashlib.blake2b(digest_size=16)
        for a in (mat, bits, kappa):
            h.update(a.tobytes())
        key = h.digest()
        if key == self._key and self.offdiag is not None:
            return False
        changed = key != self._key
        self._key = key
        se = role[mat & ID_MASK] == 1
        free = se & (ce == 0)
        idx = np.full(mat.shape[0], -1, dtype=np.int64)
        idx[free] = np.arange(int(free.sum()))
        g2 = c.g2.to_numpy().astype(np.float64)
        P = np.nonzero(free)[0]
        rows, cols, vals = [], [], []
        for k in self.half:
            p, q = intact_pairs(bits, P, self.lin, k, free)
            a, b = kappa[p], kappa[q]
            kp = np.where((a > 0) & (b > 0), 2.0 * a * b / np.where(a + b > 0, a + b, 1.0), 0.0)
            surf = ((mat[p] | mat[q]) & SURFACE_FLAG) != 0
            n2 = self.n[k] ** 2
            gb = 2.0 / (1.0 / g2[p] + 1.0 / g2[q])
            G = np.where(surf, 1.0 / (n2[None, :] / gb).sum(axis=1), 1.0)
            w = -kp * self.cw[k] * G
            rows += [idx[p], idx[q]]
            cols += [idx[q], idx[p]]
            vals += [w, w]
        nf = int(free.sum())
        self.free = free
        self.offdiag = sparse.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                                         shape=(nf, nf)).tocsc()
        return changed

    def solve(self, first: bool) -> int:
        """δ = J⁻¹ r added to φ (r, diag already computed by the residual kernel). Returns CG iterations."""
        c = self.c
        changed = self._offdiag()
        free = self.free
        diag = c.diag.to_numpy().astype(np.float64)[free]
        r = c.r.to_numpy().astype(np.float64)[free]
        J = (self.offdiag + sparse.diags(np.where(diag > 0, diag, 1.0), format="csc")).tocsc()
        if self.factor is None or changed and first:
            self.factor, self.Jf = self._precondition(J), J
            self.stats["factorisations"] += 1
        x, it = pcg(J, self.factor.solve, r, 1e-10, 10 * self.refactor_after)
        self.stats["cg_iterations"] += it
        if it > self.refactor_after:
            self.factor, self.Jf = self._precondition(J), J
            self.stats["factorisations"] += 1
        phi = c.phi.to_numpy()
        phi[free] += x.astype(phi.dtype)
        c.phi.from_numpy(phi)
        return it

