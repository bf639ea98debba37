"""The factor cache: the bond stiffness Kb kept up to date with the bonds, its support shift, and the
preconditioner of the Newton solver's CG solves with the low-rank update that defers refactorisation.

The preconditioner (``solver.preconditioner``, linalg.Preconditioner) is the matrix as it was when it was
last built: a sparse LU (SuperLU or banded Cholesky) for small systems, smoothed-aggregation algebraic
multigrid (pyamg, with the rigid-body modes as near-null space) for large ones, since the LU's fill grows
as n^1.5 and AMG's cost as n. Breaking b bonds changes K by a matrix of rank ≤ b (one rank-1 term per
bond). With the LU these terms are folded into the solves exactly (Sherman–Morrison–Woodbury,
linalg.LowRankUpdate) until LOW_RANK_MAX have gathered, then K is factorised afresh: CG then returns at
once. With AMG, CG converges in about as many iterations as AMG needs plus b; the Newton driver rebuilds
the preconditioner when CG needs more than its ``refactor_after`` iterations. This is what makes the
breaking cascade cheap: a few bonds break, one or two exact solves re-establish equilibrium.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from ...linalg import LowRankUpdate, Preconditioner, preconditioner_kind, sparse_load, sparse_state

#: with the sparse LU: bonds broken (and shifts added) since the factorisation that are folded into
#: the solves exactly (linalg.LowRankUpdate) before K is factorised afresh: the Woodbury correction
#: costs O(n·b) per solve, so it stays cheaper than a new factorisation while b is a few hundred
#: (docs/benchmarks.md, "Figures behind code constants").
LOW_RANK_MAX = 256

#: the counters in ``stats`` that a checkpoint carries (so a resumed run's go on)
STAT_KEYS = ("factorisations", "cg_iterations", "outer_iterations", "shifted_unknowns", "tangent_steps",
             "tangent_factorisations", "adr_fallbacks")


class FactorCache:
    """Kb (bond stiffness), the shift, K = Kb + diag(shift), and the preconditioner built from Kf (K as it
    was then) with its pending low-rank terms; the bonds, materials and constraints K was built from."""

    def __init__(self, assembly, support, preconditioner: str = "auto", stats: dict | None = None):
        self.asm = assembly
        self.support = support
        self.preconditioner = preconditioner
        self.stats = stats if stats is not None else {}
        self.Kb = None
        self.Kf = None
        self._K = None
        self.factor = None
        self.lowrank = None  # LowRankUpdate on the LU factor (preconditioner "lu")
        self.factor_shape = None
        self.scale = None  # mean diagonal of K at the last full assembly (the shifts' unit)
        self.shift = None  # the diagonal shift now in K
        self._keys = None  # column·n + row of every stored entry of Kb (its pattern; add_in_place)
        self.mat = self.bits = self.fix = self.hist = None  # what K was last refreshed with

    def reset(self) -> None:
        """Forget K and its factorisation; the next solve assembles and factorises afresh."""
        self._K = None
        self.Kb = None
        self.factor = None
        self.lowrank = None
        self.Kf = None

    def state(self, prefix: str) -> dict[str, np.ndarray]:
        """The bond stiffness and the matrix the preconditioner was built from: with them a resumed run
        is bitwise the same (K's incremental updates sum in a different order than a fresh assembly)."""
        if self.Kb is None:
            return {}
        return {**sparse_state(self.Kb, prefix + "Kb."), **sparse_state(self.Kf, prefix + "Kf."),
                **(self.lowrank.state(prefix + "lr.") if self.lowrank is not None else {}),
                prefix + "scale": np.array([self.scale]),
                prefix + "stats": np.array([self.stats.get(k, 0) for k in STAT_KEYS], dtype=np.int64),
                prefix + "mat": self.mat, prefix + "bits": self.bits, prefix + "fix": self.fix,
                **({prefix + "hist": self.hist} if self.hist is not None else {})}

    def load(self, arrays: dict[str, np.ndarray], prefix: str) -> None:
        self.reset()
        Kb, Kf = sparse_load(arrays, prefix + "Kb."), sparse_load(arrays, prefix + "Kf.")
        if Kb is None:
            return
        mat, bits, fix = (arrays[prefix + n] for n in ("mat", "bits", "fix"))
        hist = arrays.get(prefix + "hist")
        if prefix + "stats" in arrays:  # the counters go on from the checkpoint's
            self.stats.update({k: int(v) for k, v in zip(STAT_KEYS, arrays[prefix + "stats"])})
        self.asm.assemble(mat, bits, fix, hist)  # dof map, g, cpair for later incremental updates
        self.support.forget()
        self.scale = float(arrays[prefix + "scale"][0]) if prefix + "scale" in arrays else None
        self.set_bonds(Kb)
        self.mat, self.bits, self.fix, self.hist = mat, bits, fix, hist
        if Kf is not None:
            self.Kf = Kf
            self.factor = self.precondition(Kf)
            self.factor_shape = Kf.shape
            self.lowrank = self._lowrank_on(self.factor)
            if self.lowrank is not None:
                self.lowrank.load(arrays, prefix + "lr.")

    # ------------------------------------------------------------ K
    def assemble(self, mat: np.ndarray, bits: np.ndarray, fixmask: np.ndarray, hist: np.ndarray | None = None) -> None:
        """K of every intact bond, plus the diagonal shift of the unsupported unknowns (support.py)."""
        Kb = self.asm.assemble(mat, bits, fixmask, hist)
        self.support.forget()
        self.scale = None  # the shifts' unit: this assembly's mean diagonal
        self.set_bonds(Kb)

    def set_bonds(self, Kb: sparse.csc_matrix, broken=None) -> None:
        """Make Kb the bond stiffness and recompute the support shifts. ``broken``: (bonds broken since
        the last call, the bits after, the ids, the sites whose bonds changed) when Kb was updated in
        place from the previous one for exactly those bonds (the connected components, and the shifts
        away from those sites, may then be kept: SupportShift)."""
        if self.scale is None:
            diag = Kb.diagonal()
            self.scale = float(diag[diag > 0].mean()) if (diag > 0).any() else 1.0
        if Kb is not self.Kb:
            self._keys = None  # a new pattern
            broken = None
        self.Kb = Kb
        self.shift = self.support(Kb, self.scale, broken)
        self._K = None  # K = Kb + diag(shift), built when a factorisation needs it (relax uses Kb, shift)

    def add_in_place(self, delta: sparse.csc_matrix) -> bool:
        """Kb += delta on Kb's own pattern (entries of broken bonds stay stored, as exact zeros); False,
        and Kb untouched, when delta has an entry outside that pattern. Per entry this is the same
        addition as ``Kb + delta``, without rebuilding the matrix (which cost more than the rest of a
        refresh at 19 400 unknowns)."""
        Kb = self.Kb
        n = Kb.shape[0]
        if self._keys is None:
            Kb.sort_indices()
            self._keys = np.repeat(np.arange(n, dtype=np.int64), np.diff(Kb.indptr)) * n + Kb.indices
        keys = self._keys
        want = np.repeat(np.arange(n, dtype=np.int64), np.diff(delta.indptr)) * n + delta.indices
        pos = np.searchsorted(keys, want)
        if len(keys) == 0 or (pos >= len(keys)).any() or not np.array_equal(keys[pos], want):
            return False
        Kb.data[pos] += delta.data
        return True

    @property
    def K(self) -> sparse.csc_matrix | None:
        """The stiffness with its support shift, Kb + diag(shift)."""
        if self._K is None and self.Kb is not None:
            self._K = (self.Kb + sparse.diags(self.shift, format="csc")).tocsc()
        return self._K

    def apply(self, x: np.ndarray) -> np.ndarray:
        """K x without forming K."""
        return self.Kb @ x + self.shift * x

    def refresh(self, model) -> None:
        """Bring K up to date with ``model``: a full assembly when materials or constraints changed,
        otherwise only the blocks of the bonds whose bits (or stored damage) changed since the last call
        (broken: subtracted, in place on the pattern of the last assembly, with the connected components
        kept when they cannot have changed: add_in_place, SupportShift.joined). With the sparse LU the
        changes are folded into the solves as rank-1 terms until LOW_RANK_MAX of them have gathered;
        then, and after a full assembly, K is factorised afresh."""
        m = model
        mat = m.mat.to_numpy()
        bits = m.bits.to_numpy()
        fix = m.fixmask.to_numpy()
        hist = m.hist.to_numpy() if m.softening else None
        if self.Kb is None or not (np.array_equal(mat, self.mat) and np.array_equal(fix, self.fix)):
            self.assemble(mat, bits, fix, hist)
            if self.lowrank is not None:
                self.factor = None  # K changed by more than a few bonds: factorise it afresh
        elif not (np.array_equal(bits, self.bits) and (hist is None or np.array_equal(hist, self.hist))):
            delta, terms, cuts, ids = self.asm.changes(mat, self.bits, self.hist, bits, hist)
            shift_before = self.shift
            sites = np.unique(np.concatenate([np.concatenate([p, q]) for p, q, _, _ in terms])) if terms \
                else np.zeros(0, np.int64)
            if self.add_in_place(delta):
                self.set_bonds(self.Kb, broken=(cuts, bits, ids, sites))
            else:
                self.set_bonds(self.Kb + delta)
            if self.lowrank is not None and self.factor is not None and self.factor_shape == self.Kb.shape:
                if not self._fold(terms, ids, shift_before):
                    self.factor = None
        else:
            return
        self.mat, self.bits, self.fix, self.hist = mat, bits, fix, hist
        if self.factor is None or self.factor_shape != self.Kb.shape:
            self.factorise()

    def _fold(self, terms, ids, shift_before) -> bool:
        """Add the changed bonds and shifts to the LU's low-rank update; False when it is full."""
        lr, asm = self.lowrank, self.asm
        dof = asm.dof
        if lr.rank + sum(len(p) for p, _, _, _ in terms) > LOW_RANK_MAX:
            return False
        # shifts first: every intermediate matrix is then the final one plus stiffness still to be
        # removed, positive definite whenever the final one is, so no Schur complement vanishes
        new = [(np.array([u]), np.ones(1), float(self.shift[u] - shift_before[u]))
               for u in np.nonzero(self.shift != shift_before)[0]]
        for p, q, k, sign in terms:
            n = asm.n[k]
            kb = sign * asm.bond_stiffness(ids, asm.g, p, q, k)
            kb = np.broadcast_to(kb, p.shape)
            for j in range(len(p)):  # v = (e_p − e_q) ⊗ n on the free unknowns
                idx = np.concatenate([dof[p[j]], dof[q[j]]])
                val = np.concatenate([n, -n])
                keep = idx >= 0
                if keep.any():
                    new.append((idx[keep], val[keep], float(kb[j])))
        return lr.add_many(new)

    # ------------------------------------------------------------ the preconditioner
    def precondition(self, A):
        kind = preconditioner_kind(self.preconditioner, A.shape[0])
        return Preconditioner(A, kind, self.asm.near_null() if kind == "amg" else None)

    @staticmethod
    def _lowrank_on(factor):
        return LowRankUpdate(factor, factor.n, LOW_RANK_MAX) if factor.kind == "lu" else None

    def factorise(self) -> None:
        self.factor = self.precondition(self.K)
        self.lowrank = self._lowrank_on(self.factor)
        self.Kf = self.K
        self.factor_shape = self.K.shape
        self.stats["factorisations"] += 1

    @property
    def solve(self):
        """K⁻¹ as the preconditioner has it: the factor with its pending low-rank terms folded in."""
        return self.lowrank.solve if self.lowrank is not None else self.factor.solve
