"""Quasi-static equilibrium by Newton steps on the sparse bond stiffness, solved by preconditioned CG.

The alternative to ADR (``solver.method = "direct"``). Equilibrium is the same as ADR's: the net PMB
force (pmb.bond_forces, geometrically non-linear, with eigenstrains) vanishes on every free
component, to ‖F‖ ≤ tol·‖F_abs‖. It is reached by Newton-like steps K δu = F(u), u ← u + δu, with K
the small-strain bond stiffness of the intact bonds, K = Σ_bonds c_ij β G_ij V/|ξ| (e_i − e_j)(e_i −
e_j)ᵀ ⊗ n nᵀ: the exact tangent at the reference state, so each step cuts the residual by the order
of the strain (1e-3) and two or three steps converge.

K δu = F is solved by conjugate gradients preconditioned with the matrix as it was when the
preconditioner was last built (``solver.preconditioner``, linalg.Preconditioner): a sparse LU
(SuperLU) for small systems, smoothed-aggregation algebraic multigrid (pyamg, with the rigid-body
modes as near-null space) for large ones, since the LU's fill grows as n^1.5 and AMG's cost as n.
Breaking b bonds changes K by a matrix of rank ≤ b (one rank-1 term per bond). With the LU these
terms are folded into the solves exactly (Sherman–Morrison–Woodbury, linalg.LowRankUpdate) until
LOW_RANK_MAX have gathered, then K is factorised afresh: CG then returns at once. With AMG, CG
converges in about as many iterations as AMG needs plus b; the preconditioner is rebuilt when CG
needs more than ``refactor_after`` iterations. This is what makes the breaking cascade cheap: a few
bonds break, one or two exact solves re-establish equilibrium, where ADR needs thousands of sweeps
over the whole body.

Unsupported modes. A detached fragment (a connected part of the intact-bond graph with no
prescribed displacement) has rigid-body modes, and a site left with collinear bonds is a
mechanism; K is singular there. Those unknowns, and only those, get a diagonal shift of ``shift``
(1e-3) × the mean diagonal (of K at its last full assembly, so that the shifts change only where an
unknown loses its support): the fragments are found as connected components of K whose rigid-body
modes have a vanishing Rayleigh quotient, the mechanisms as sites whose own d×d block of K has a
smallest eigenvalue below 1e-3 of the mean diagonal. Everything else gets only 1e-9 of it, so the
Newton steps model the body's softest elastic modes exactly at every lattice size: the lowest
elastic mode is ≈ (π/n)² × the mean diagonal on a side of n sites, below any shift that large once
n exceeds ~100 (docs/benchmarks.md, "Solver scaling"). No reference Newton step moves a site by
more than 5 % of Δx (a current-tangent step, below: TANGENT_MAX_STEP, 50 %).

Large rotations: the current tangent. K is the tangent at the reference state. Where a cluster of
sites has turned about a hinge (a site it still hangs on once the bonds around it broke), or the
eigenstrains are large, its steps stop contracting the residual: they leave more than CONTRACTION
of it, make it grow, or must be clipped. The relaxation then goes on with Newton steps on the
current tangent K_t (current_tangent: each bond's stiffness along its present direction plus the
geometric stiffness of its tension across it), solved by CG preconditioned with K's factorisation
(K_t − K is small on most bonds: one to three iterations); a step that made the residual grow is
taken back first. These steps converge quadratically where the reference ones fall into a two-cycle
(docs/validation.md, "Solver tolerance"). Every relaxation starts with the reference K again, which
keeps the break sequence the one that runs at tighter tolerances converge to (docs/benchmarks.md,
"ADR fall-backs replaced by current-tangent Newton steps"). ADR remains the last resort when neither
converges in ``max_outer`` steps. Known limit: a hinge in compression has a negative stiffness that
K_t leaves out, so near such a (nearly unstable) equilibrium K_t's steps can drive the residual up
before it falls again, and ADR may take over (docs/benchmarks.md records a case); a step control on
the energy instead of the residual would be the remedy.

Fluid Li (fluid.py) adds one rank-one stiffness per pressurised body, K/(V V_Li) a aᵀ: every CG operator
below carries it and every preconditioner takes it in by Sherman–Morrison–Woodbury (fluid.RankUpdate),
so the Newton steps stay exact however stiff the Li is against the crack it fills.

K is assembled on the host with NumPy from the bond bits (vectorised per stencil offset).
Everything is deterministic, so reruns agree bit for bit.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from scipy.sparse.csgraph import connected_components

from ..linalg import (LowRankUpdate, Preconditioner, pcg, positive_definite_solve, preconditioner_kind, sparse_load,
                      sparse_state)
from .bond_laws import BRITTLE, DAMAGE_LEVELS, damage_rows, softening_slope
from .bonds import bond_bit, intact_pairs
from .fluid import NoFluid
from .pmb import ID_MASK
from .relax import RelaxResult

#: diagonal shift of the supported unknowns, relative to the mean diagonal of K (round-off guard)
SHIFT_FLOOR = 1e-9
#: with the sparse LU: bonds broken (and shifts added) since the factorisation that are folded into
#: the solves exactly (linalg.LowRankUpdate) before K is factorised afresh: the Woodbury correction
#: costs O(n·b) per solve, so it stays cheaper than a new factorisation while b is a few hundred
#: (docs/benchmarks.md, "Figures behind code constants").
LOW_RANK_MAX = 256
#: a reference-K Newton step that leaves more than this fraction of the residual hands over to the
#: current tangent for the rest of the relaxation (normal steps leave O(strain), ≈ 1e-3–1e-2)
CONTRACTION = 0.1
#: largest displacement update of a current-tangent step, in Δx
TANGENT_MAX_STEP = 0.5
#: CG iterations on K_t δu = F with the reference preconditioner before K_t is factorised itself
TANGENT_CG_MAX = 30
#: Newton steps per relaxation before ADR takes over (brittle bonds; softening bonds)
MAX_OUTER = 12
MAX_OUTER_SOFTENING = 80
#: force evaluations of one line search along a secant step (softening bonds)
LINE_SEARCH_EVALS = 4
#: shifts μ (× the mean diagonal) tried on a consistent tangent that is not positive definite
LM_SHIFTS = (0.0, 1e-4, 1e-3, 1e-2, 1e-1)


#: the counters in ``DirectSolver.stats`` that a checkpoint carries (so a resumed run's go on)
STAT_KEYS = ("factorisations", "cg_iterations", "outer_iterations", "shifted_unknowns", "tangent_steps",
             "tangent_factorisations", "adr_fallbacks")


def bond_eigenstrain(eps: np.ndarray, p: np.ndarray, q: np.ndarray, k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """ε*_pq of bonds (p, k→q) from a padded eigenstrain array: scalar per site, or a Voigt tensor per site
    (pmb.bond_eigenstrain, on the host)."""
    if eps.ndim == 1:
        return 0.5 * (eps[p] + eps[q])
    t = eps[p] + eps[q]
    nk = n[k]
    if eps.shape[1] == 3:
        return 0.5 * (nk[:, 0] ** 2 * t[:, 0] + nk[:, 1] ** 2 * t[:, 1] + 2.0 * nk[:, 0] * nk[:, 1] * t[:, 2])
    return 0.5 * (nk[:, 0] ** 2 * t[:, 0] + nk[:, 1] ** 2 * t[:, 1] + nk[:, 2] ** 2 * t[:, 2]
                  + 2.0 * (nk[:, 1] * nk[:, 2] * t[:, 3] + nk[:, 0] * nk[:, 2] * t[:, 4] + nk[:, 0] * nk[:, 1] * t[:, 5]))


class _Operator:
    """``A @ x`` from a function (what linalg.pcg needs of A)."""

    def __init__(self, apply):
        self.apply = apply

    def __matmul__(self, x):
        return self.apply(x)


class DirectSolver:
    """Sparse small-strain stiffness of the intact bonds, its factorisation, and the equilibrium loop."""

    def __init__(self, model, refactor_after: int = 10, shift: float = 1e-3, max_step: float = 0.05,
                 preconditioner: str = "auto"):
        self.m = model
        self.refactor_after = refactor_after
        self.preconditioner = preconditioner
        self.shift = shift
        self.max_step = max_step * model.lattice.dx  # largest displacement update per Newton step
        st = model.stencil
        self.lin = model.lin.to_numpy().astype(np.int64)
        self.half = np.nonzero(self.lin > 0)[0]  # each undirected bond once
        self.n = (st.offsets / st.length[:, None]).astype(np.float64)  # unit vectors
        self.kconst = (st.beta * model.volume / (st.length * model.lattice.dx)).astype(np.float64)
        self.d = model.dim
        self._K = None
        self.Kb = None
        self.Kf = None
        self.factor = None
        self.lowrank = None  # LowRankUpdate on the LU factor (preconditioner "lu")
        self._near_null = None
        self._scale = None  # mean diagonal of K at the last full assembly (the shifts' unit)
        self._shift = None  # the diagonal shift now in K
        self._version = 0  # bumped when the numbering or the materials change (the tangent's pattern)
        self._tp = None
        self._hist = None  # the stored bond damage K was built with (softening scenes)
        self._keys = None  # column·n + row of every stored entry of Kb (its pattern; _add_in_place)
        self._cc = None  # (count, labels) of the connected components of Kb's graph (_support_shift)
        oblique = (st.offsets != 0).all(axis=1) & (self.kconst > 0)
        self._oblique = np.nonzero(oblique)[0]  # offsets along no lattice axis
        self._offset_index = {tuple(o): k for k, o in enumerate(st.offsets.tolist())}
        self._oblique_set = set(self._oblique.tolist())
        self.stats = dict(factorisations=0, cg_iterations=0, outer_iterations=0, shifted_unknowns=0)
        self._fl = NoFluid  # the fluid Li bodies' stiffness at the current Newton iterate (fluid.RankUpdate)

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
                prefix + "scale": np.array([self._scale]),
                prefix + "stats": np.array([self.stats.get(k, 0) for k in STAT_KEYS], dtype=np.int64),
                prefix + "mat": self._mat, prefix + "bits": self._bits, prefix + "fix": self._fix,
                **({prefix + "hist": self._hist} if self._hist is not None else {})}

    def load(self, arrays: dict[str, np.ndarray], prefix: str) -> None:
        self.reset()
        Kb, Kf = sparse_load(arrays, prefix + "Kb."), sparse_load(arrays, prefix + "Kf.")
        if Kb is None:
            return
        mat, bits, fix = (arrays[prefix + n] for n in ("mat", "bits", "fix"))
        hist = arrays.get(prefix + "hist")
        if prefix + "stats" in arrays:  # the counters go on from the checkpoint's
            self.stats.update({k: int(v) for k, v in zip(STAT_KEYS, arrays[prefix + "stats"])})
        self.assemble_bonds(mat, bits, fix, hist)  # dof map, g, cpair for later incremental updates
        self._version += 1
        self._scale = float(arrays[prefix + "scale"][0]) if prefix + "scale" in arrays else None
        self._set_bonds(Kb)
        self._mat, self._bits, self._fix, self._hist = mat, bits, fix, hist
        if Kf is not None:
            self.Kf = Kf
            self.factor = self._precondition(Kf)
            self.factor_shape = Kf.shape
            self.lowrank = self._lowrank_on(self.factor)
            if self.lowrank is not None:
                self.lowrank.load(arrays, prefix + "lr.")

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

    def _intact(self, ids, bits, hist, p, q, k) -> np.ndarray:
        """μ(1 − d) of bonds (p, k→q): the bond bit times, on softening pairs, one less the stored damage."""
        on = bond_bit(bits, p, k).astype(np.float64)
        if hist is None:
            return on
        soft = self.law[ids[p], ids[q], 0] != BRITTLE
        return np.where(soft, on * (1.0 - hist[p, k] / DAMAGE_LEVELS), on)

    def _bond_stiffness(self, ids, g, p, q, k) -> np.ndarray:
        """k_b of bonds (p, k→q): their block of K is k_b (n nᵀ) ⊗ [[1, −1], [−1, 1]]."""
        n = self.n[k]
        gb = 2.0 / (1.0 / g[p] + 1.0 / g[q])
        G = 1.0 / np.sqrt(((n * n)[None, :] / (gb * gb)).sum(axis=1))
        return self.cpair[ids[p], ids[q]] * self.kconst[k] * G

    def _entries(self, ids, g, dof, p, q, k, sign, rows, cols, vals) -> None:
        """Append the 2d×2d stiffness blocks of bonds (p, k→q), times ``sign`` (a number or one per bond),
        as COO triplets."""
        n = self.n[k]
        kb = sign * self._bond_stiffness(ids, g, p, q, k)
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

    def assemble(self, mat: np.ndarray, bits: np.ndarray, fixmask: np.ndarray, hist: np.ndarray | None = None) -> None:
        """K of every intact bond, plus the diagonal shift of the unsupported unknowns (module docstring)."""
        Kb = self.assemble_bonds(mat, bits, fixmask, hist)
        self._version += 1  # a new numbering or new materials: the tangent's pattern is rebuilt
        self._scale = None  # the shifts' unit: this assembly's mean diagonal
        self._set_bonds(Kb)

    def _set_bonds(self, Kb: sparse.csc_matrix, broken=None) -> None:
        """Make Kb the bond stiffness and recompute the support shifts. ``broken``: (bonds broken since
        the last call, the bits after) when Kb was updated in place from the previous one for exactly
        those bonds (the connected components may then be kept: _support_shift)."""
        if self._scale is None:
            diag = Kb.diagonal()
            self._scale = float(diag[diag > 0].mean()) if (diag > 0).any() else 1.0
        if Kb is not self.Kb:
            self._keys = None  # a new pattern
            broken = None
        self.Kb = Kb
        self._shift = self._support_shift(Kb, broken)
        self._K = None  # K = Kb + diag(shift), built when a factorisation needs it (relax uses Kb, shift)

    def _add_in_place(self, delta: sparse.csc_matrix) -> bool:
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
            self._K = (self.Kb + sparse.diags(self._shift, format="csc")).tocsc()
        return self._K

    def _apply(self, x: np.ndarray) -> np.ndarray:
        """K x without forming K."""
        return self.Kb @ x + self._shift * x

    def assemble_bonds(self, mat: np.ndarray, bits: np.ndarray, fixmask: np.ndarray,
                       hist: np.ndarray | None = None) -> sparse.csc_matrix:
        """K of every intact bond (no shift; softening bonds with their stored damage, the secant); also
        sets the unknowns' numbering ``dof``."""
        ids = (mat & ID_MASK).astype(np.int64)
        self.cpair = self.m.table.c.astype(np.float64)
        self.law = self.m.table.law
        self.g = g = self.m.gcorr.to_numpy().astype(np.float64)
        self.dof = dof = self._dofs(mat, fixmask)
        self._near_null = None  # the numbering changed: rebuild the rigid-body modes on next use
        self._cc = None
        ndof = int((dof >= 0).sum())
        P = np.nonzero(ids)[0]
        solid = ids != 0
        rows, cols, vals = [], [], []
        for k in self.half:
            p, q = intact_pairs(bits, P, self.lin, k, solid)
            w = 1.0 if hist is None else self._intact(ids, bits, hist, p, q, k)
            self._entries(ids, g, dof, p, q, k, w, rows, cols, vals)
        return self._matrix(rows, cols, vals, ndof)

    def _tangent_pattern(self):
        """Every stencil pair of solid sites (p, q, offset k, ξ, |ξ|, k₀ = c β G V) and the CSC pattern of
        K_t's COO entries, built once per numbering of the unknowns (``self._version``; it depends on the
        materials and constraints only, so a resumed run builds the same): a tangent is then one pass of
        NumPy arithmetic (pairs without an intact bond weighted 0) and one ``reduceat``."""
        if self._tp is not None and self._tp[0] == self._version:
            return self._tp[1]
        m = self.m
        ids = (self._mat & ID_MASK).astype(np.int64)
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
        k0 = np.concatenate([self._bond_stiffness(ids, self.g, pp, qq, kk) for pp, qq, kk in
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
        n = self.Kb.shape[0]
        indptr = np.searchsorted(cols[starts], np.arange(n + 1))
        pat = dict(p=p, q=q, k=k, word=k >> 5, bit=(k & 31).astype(np.uint32), xi=st.offsets[k] * dx, xlen=xlen,
                   k0=k0, src=src[order], sgn=sgn[order], rows=self.law[ids[p], ids[q]],
                   starts=starts, indices=rows[starts], indptr=indptr)
        self._tp = (self._version, pat)
        return pat

    def current_tangent(self, consistent: bool = False) -> sparse.csc_matrix:
        """The tangent of the net force at the current u (support shift included), with the geometric
        stiffness of bonds in tension only.

        A bond's force on its first site is f = k₀ s ŷ, with y = ξ + u_j − u_i, L = |ξ|(1 + ε*_ij) the
        stress-free length, s = |y|/L − 1 and k₀ = c_ij β G_ij V (pmb.py). Its derivative is

            ∂f/∂y = k₀ [ŷŷᵀ/L + (s/|y|)(I − ŷŷᵀ)]

        (the material stiffness along the bond plus the geometric stiffness of its tension across it);
        at u = 0 and ε* = 0 it is the reference K's k₀/|ξ| n nᵀ. It follows a cluster that has turned
        about a hinge, which the reference K cannot (module docstring). A compressed bond (s < 0, the
        confined Li) has a negative geometric stiffness: the exact tangent is then indefinite where a
        site rests on compressed bonds alone, Newton's step is no longer a descent direction of the
        energy and may run to an unstable equilibrium. Its across term is therefore left out (max(s, 0)):
        the matrix stays positive (semi)definite, exact wherever no bond is compressed, and off by
        O(|s|) (≈ 1e-2) where one is, so the steps still contract the residual by about that much.
        """
        m = self.m
        pat = self._tangent_pattern()
        p, q = pat["p"], pat["q"]
        u = m.u.to_numpy().astype(np.float64)
        eps = m.eps.to_numpy().astype(np.float64)
        y = pat["xi"] + (u[q] - u[p])
        ly = np.sqrt((y * y).sum(axis=1))
        yh = y / ly[:, None]
        L = pat["xlen"] * (1.0 + bond_eigenstrain(eps, p, q, pat["k"], self.n))
        k0 = pat["k0"] * ((self._bits[p, pat["word"]] >> pat["bit"]) & 1)  # 0 once broken
        slope = None
        if self._hist is not None:  # softening bonds: the secant, with the damage this iterate implies
            rows = pat["rows"]
            soft = rows[:, 0] != BRITTLE
            s_now = ly / L - 1.0
            d_law = damage_rows(rows, s_now)
            d_old = self._hist[p, pat["k"]] / DAMAGE_LEVELS
            d = np.maximum(d_old, d_law) if self.m.damage_grows else d_old
            if consistent and self.m.damage_grows:  # bonds loading along their softening branch: the branch's own (negative) slope
                loading = soft & (d_law > d_old) & (s_now < rows[:, 3])
                slope = np.where(loading, softening_slope(rows, s_now), 1.0 - d)
            k0 = np.where(soft, k0 * (1.0 - d), k0)
        along = k0 / L if slope is None else pat["k0"] * ((self._bits[p, pat["word"]] >> pat["bit"]) & 1) * \
            np.where(pat["rows"][:, 0] != BRITTLE, slope, 1.0) / L
        across = k0 * np.maximum(ly / L - 1.0, 0.0) / ly
        W = (along - across)[:, None, None] * yh[:, :, None] * yh[:, None, :] \
            + across[:, None, None] * np.eye(self.d)[None]
        vals = W.ravel()[pat["src"]] * pat["sgn"]
        data = np.add.reduceat(vals, pat["starts"]) if len(vals) else vals
        n = self.Kb.shape[0]
        Kt = sparse.csc_matrix((data, pat["indices"], pat["indptr"]), shape=(n, n))
        return (Kt + sparse.diags(self._shift, format="csc")).tocsc()

    def _consistent_step(self, rhs: np.ndarray) -> tuple[np.ndarray | None, int]:
        """The Newton step on the consistent tangent of softening bonds (their loading branch's negative
        slope included), and its CG iterations. First by CG preconditioned with K's factorisation (the
        tangent differs from it on the process zone only); when CG meets negative curvature or does not
        converge, by factorising the tangent itself, or, where it is not positive definite (the state is
        unstable: a process zone is about to localise), K_t + μ·mean(diag) I with the smallest μ of
        LM_SHIFTS that is (a Levenberg–Marquardt step, which turns towards the negative-curvature
        directions); the line search then sets its length. None when no shift helps (the secant step
        is taken instead)."""
        Kt = self.current_tangent(consistent=True)
        fl = self._fl
        op = _Operator(fl.operator(Kt.__matmul__))
        solve = fl.preconditioner(self.lowrank.solve if self.lowrank is not None else self.factor.solve)
        du, it, positive = pcg(op, solve, rhs, rtol=1e-3, maxiter=TANGENT_CG_MAX, curvature=True)
        if positive and float(np.linalg.norm(rhs - op @ du)) <= 1e-3 * float(np.linalg.norm(rhs)) \
                and float(du @ rhs) > 0.0:
            return du, it
        diag = Kt.diagonal()
        scale = float(diag[diag > 0].mean()) if (diag > 0).any() else 1.0
        for mu in LM_SHIFTS:
            A = Kt if mu == 0.0 else (Kt + sparse.diags(np.full(Kt.shape[0], mu * scale), format="csc")).tocsc()
            solve = positive_definite_solve(A)
            self.stats["tangent_factorisations"] = self.stats.get("tangent_factorisations", 0) + 1
            if solve is not None:
                du = fl.preconditioner(solve)(rhs)
                if np.all(np.isfinite(du)) and float(du @ rhs) > 0.0:
                    return du, it
        return None, it

    def _tangent_step(self, rhs: np.ndarray) -> tuple[np.ndarray, int]:
        """Solve K_t δu = F with the current tangent: CG preconditioned by the reference K's
        factorisation (K_t − K differs by O(strain) on most bonds, so few iterations), else with a
        factorisation of K_t itself."""
        Kt = self.current_tangent()
        fl = self._fl
        op = _Operator(fl.operator(Kt.__matmul__))
        solve = fl.preconditioner(self.lowrank.solve if self.lowrank is not None else self.factor.solve)
        du, it = pcg(op, solve, rhs, rtol=1e-3, maxiter=TANGENT_CG_MAX)
        if float(np.linalg.norm(rhs - op @ du)) > 1e-3 * float(np.linalg.norm(rhs)):
            exact = self._precondition(Kt)
            self.stats["tangent_factorisations"] = self.stats.get("tangent_factorisations", 0) + 1
            du, it2 = pcg(op, fl.preconditioner(exact.solve), rhs, rtol=1e-3, maxiter=TANGENT_CG_MAX)
            it += it2
        return du, it

    # ------------------------------------------------------------ unsupported modes
    def near_null(self) -> np.ndarray:
        """Rigid-body modes on the free unknowns (ndof × d(d+1)/2): translations, then rotations
        about the lattice centre, in units of Δx (the AMG near-null space, and the fragment test).
        Built once per numbering of the unknowns (assemble_bonds), not at every refresh of K."""
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

    def _joined(self, broken) -> bool:
        """True when the bonds just broken cannot have split a connected component of K's graph: the
        two ends of each are still joined through a common neighbour r, by intact bonds along no
        lattice axis (so every component of p couples to every component of r, and of r to q), with
        all of r's components free. (Breaking a bond removes the graph's edges between its ends'
        unknowns, and changes their diagonal blocks; removing edges whose ends stay connected leaves
        every component as it was.)"""
        terms, bits, ids = broken
        free = (self.dof >= 0).all(axis=1) & (ids != 0)
        offsets = self.m.stencil.offsets
        for P, Q, kb, sign in terms:
            if sign > 0:
                return False  # a bond restored: components may merge
            ok = np.zeros(len(P), dtype=bool)
            for k in self._oblique:
                k2 = self._offset_index.get(tuple((offsets[k] - offsets[kb]).tolist()))
                if k2 is None or k2 not in self._oblique_set:
                    continue
                R = P + self.lin[k]
                ok |= (bond_bit(bits, P, k) & bond_bit(bits, Q, k2) & free[R]
                       & (self.cpair[ids[P], ids[R]] > 0) & (self.cpair[ids[Q], ids[R]] > 0))
                if ok.all():
                    break
            if not ok.all():
                return False
        return True

    def _support_shift(self, K: sparse.csc_matrix, broken=None) -> np.ndarray:
        """Per-unknown diagonal shift: ``shift`` × the mean diagonal of K at its last full assembly on
        fragments and mechanisms, else SHIFT_FLOOR × it (fixed between assemblies, so a shift changes
        only where an unknown loses its support: a rank-1 change, linalg.LowRankUpdate). The connected
        components are those of the stored nonzeros; after a refresh that only broke bonds whose ends
        stay joined (_joined), those of the previous call."""
        ndof = K.shape[0]
        diag = K.diagonal()
        scale = self._scale
        out = np.full(ndof, SHIFT_FLOOR * scale)
        if ndof == 0:
            return out
        weak = diag < self.shift * scale
        # fragments: connected components on which a rigid-body mode costs (almost) no energy
        if broken is not None and self._cc is not None and self._joined(broken):
            ncomp, label = self._cc
        else:
            G = K.copy()
            G.eliminate_zeros()  # broken bonds' entries, kept as zeros by _add_in_place, are no edges
            ncomp, label = self._cc = connected_components(G, directed=False)
        B = self.near_null()
        KB = K @ B
        for r in range(B.shape[1]):
            energy = np.bincount(label, weights=B[:, r] * KB[:, r], minlength=ncomp)
            norm = np.bincount(label, weights=B[:, r] * B[:, r], minlength=ncomp)
            free = (norm > 0) & (energy <= 1e-6 * scale * norm)
            weak |= free[label]
        # mechanisms: a site whose own d×d block of K is (nearly) singular
        d, dof = self.d, self.dof
        full = (dof >= 0).all(axis=1)
        if full.any():
            idx = dof[full]
            dg = [diag[idx[:, a]] for a in range(d)]
            off = {(a, b): np.asarray(K[idx[:, a], idx[:, b]]).ravel() for a in range(d) for b in range(a + 1, d)}
            if d == 2:  # smallest eigenvalue of [[p, r], [r, q]] in closed form
                p_, q_, r_ = dg[0], dg[1], off[(0, 1)]
                lam = 0.5 * (p_ + q_) - np.sqrt(0.25 * (p_ - q_) ** 2 + r_ * r_)
            else:
                blk = np.empty((idx.shape[0], d, d))
                for a in range(d):
                    blk[:, a, a] = dg[a]
                for (a, b), v in off.items():
                    blk[:, a, b] = blk[:, b, a] = v
                lam = np.linalg.eigvalsh(blk)[:, 0]
            low = lam < self.shift * scale
            weak[idx[low].ravel()] = True
        out[weak] = self.shift * scale
        self.stats["shifted_unknowns"] = int(weak.sum())
        return out

    def _refresh(self) -> None:
        """Bring K up to date: a full assembly when materials or constraints changed, otherwise only
        the blocks of the bonds whose bits changed since the last call (broken: subtracted, in place on
        the pattern of the last assembly, with the connected components kept when they cannot have
        changed: _add_in_place, _joined). With the sparse LU the changes are folded into the solves as
        rank-1 terms (linalg.LowRankUpdate) until LOW_RANK_MAX of them have gathered; then, and after a
        full assembly, K is factorised afresh."""
        m = self.m
        mat = m.mat.to_numpy()
        bits = m.bits.to_numpy()
        fix = m.fixmask.to_numpy()
        hist = m.hist.to_numpy() if m.softening else None
        if self.Kb is None or not (np.array_equal(mat, self._mat) and np.array_equal(fix, self._fix)):
            self.assemble(mat, bits, fix, hist)
            if self.lowrank is not None:
                self.factor = None  # K changed by more than a few bonds: factorise it afresh
        elif not (np.array_equal(bits, self._bits) and (hist is None or np.array_equal(hist, self._hist))):
            ids = (mat & ID_MASK).astype(np.int64)
            changed = bits ^ self._bits
            touched = changed.any(axis=1)
            if hist is not None:
                touched |= (hist != self._hist).any(axis=1)
            P = np.nonzero(touched & (ids != 0))[0]
            rows, cols, vals = [], [], []
            terms, cuts = [], []  # every change of stiffness; the bonds whose bit changed (the graph's edges)
            for k in self.half:
                Q = P + self.lin[k]
                there = ids[Q] != 0
                flip = bond_bit(changed, P, k) & there
                now = bond_bit(bits, P, k)
                if hist is None:
                    weight = np.where(now, 1.0, -1.0)
                    moved = flip
                else:
                    weight = self._intact(ids, bits, hist, P, Q, k) - self._intact(ids, self._bits, self._hist, P, Q, k)
                    moved = (weight != 0.0) & there
                for sign, sel in ((-1.0, moved & (weight < 0)), (1.0, moved & (weight > 0))):
                    if sel.any():
                        w = sign if hist is None else weight[sel]
                        self._entries(ids, self.g, self.dof, P[sel], Q[sel], k, w, rows, cols, vals)
                        terms.append((P[sel], Q[sel], k, w))
                        cut = sel & flip
                        if cut.any():
                            cuts.append((P[cut], Q[cut], k, sign))
            shift_before = self._shift
            delta = self._matrix(rows, cols, vals, self.Kb.shape[0])
            if self._add_in_place(delta):
                self._set_bonds(self.Kb, broken=(cuts, bits, ids))
            else:
                self._set_bonds(self.Kb + delta)
            if self.lowrank is not None and self.factor is not None and self.factor_shape == self.Kb.shape:
                if not self._fold(terms, ids, shift_before):
                    self.factor = None
        else:
            return
        self._mat, self._bits, self._fix, self._hist = mat, bits, fix, hist
        if self.factor is None or self.factor_shape != self.Kb.shape:
            self._factorise()

    def _fold(self, terms, ids, shift_before) -> bool:
        """Add the changed bonds and shifts to the LU's low-rank update; False when it is full."""
        lr, dof, d = self.lowrank, self.dof, self.d
        if lr.rank + sum(len(p) for p, _, _, _ in terms) > LOW_RANK_MAX:
            return False
        # shifts first: every intermediate matrix is then the final one plus stiffness still to be
        # removed, positive definite whenever the final one is, so no Schur complement vanishes
        for u in np.nonzero(self._shift != shift_before)[0]:
            if not lr.add(np.array([u]), np.ones(1), float(self._shift[u] - shift_before[u])):
                return False
        for p, q, k, sign in terms:
            n = self.n[k]
            kb = sign * self._bond_stiffness(ids, self.g, p, q, k)
            kb = np.broadcast_to(kb, p.shape)
            for j in range(len(p)):  # v = (e_p − e_q) ⊗ n on the free unknowns
                idx = np.concatenate([dof[p[j]], dof[q[j]]])
                val = np.concatenate([n, -n])
                keep = idx >= 0
                if keep.any() and not lr.add(idx[keep], val[keep], float(kb[j])):
                    return False
        return True

    def _precondition(self, A):
        kind = preconditioner_kind(self.preconditioner, A.shape[0])
        return Preconditioner(A, kind, self.near_null() if kind == "amg" else None)

    def _lowrank_on(self, factor):
        return LowRankUpdate(factor, factor.n, LOW_RANK_MAX) if factor.kind == "lu" else None

    def _factorise(self) -> None:
        self.factor = self._precondition(self.K)
        self.lowrank = self._lowrank_on(self.factor)
        self.Kf = self.K
        self.factor_shape = self.K.shape
        self.stats["factorisations"] += 1

    # ------------------------------------------------------------ solve
    def relax(self, tolerance: float, max_outer: int | None = None):
        """Equilibrium to ‖F‖ ≤ tolerance·‖F_abs‖ (the ADR criterion), warm-started from the current u.

        ``max_outer`` Newton steps at most (default MAX_OUTER, or MAX_OUTER_SOFTENING when bonds soften:
        the secant steps of a growing process zone converge linearly)."""
        m = self.m
        if max_outer is None:
            max_outer = MAX_OUTER_SOFTENING if m.softening else MAX_OUTER
        m.impose_boundary()
        self._refresh()
        dof = self.dof
        free = dof >= 0
        res = prev = float("inf")
        tangent = clipped = False
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
            # the reference K's steps contract the residual by O(strain) each; when one did not
            # (less than CONTRACTION), or had to be clipped, the rest of this relaxation uses the
            # current tangent (a cluster has turned about a hinge, or eigenstrains are large)
            if not tangent and (clipped or res > CONTRACTION * prev):
                tangent = True
                if res > prev:  # the reference step made it worse: take it back, go on from before it
                    m.u.from_numpy(u_last)
                    continue
            prev = res
            # the fluid Li bodies' stiffness at this iterate (rank one each, fluid.py), in every solve below
            self._fl = m.fluid.stiffness(dof) if m.fluid is not None else NoFluid
            if tangent:
                du, cg_it = self._consistent_step(rhs) if m.softening and m.damage_grows else (None, 0)
                if du is None:
                    du, more = self._tangent_step(rhs)
                    cg_it += more
                self.stats["tangent_steps"] = self.stats.get("tangent_steps", 0) + 1
                limit = TANGENT_MAX_STEP * self.m.lattice.dx
            else:
                solve = self.lowrank.solve if self.lowrank is not None else self.factor.solve
                du, cg_it = pcg(_Operator(self._fl.operator(self._apply)), self._fl.preconditioner(solve), rhs,
                                rtol=1e-3, maxiter=10 * self.refactor_after)
                limit = self.max_step
            self.stats["cg_iterations"] += cg_it
            self.stats["outer_iterations"] += 1
            big = float(np.abs(du).max(initial=0.0))
            clipped = big > limit
            if clipped:  # a near-mechanism (a site left with collinear bonds): damp the step
                du *= limit / big
            u = u_last = m.u.to_numpy()
            upd = np.zeros(F.shape)
            upd[free] = du
            if tangent and m.softening and m.damage_grows:
                upd *= self._line_search(u, upd, free, float(du @ rhs), limit / max(big, 1e-300))
            else:
                m.u.from_numpy((u + upd).astype(m.np_float))
            if not tangent and cg_it > self.refactor_after:
                self._factorise()
        return RelaxResult(max_outer, res, False)

    def _line_search(self, u: np.ndarray, upd: np.ndarray, free: np.ndarray, g0: float, alpha_max: float) -> float:
        """A step length α along a secant step, leaving u + α·upd in the model; returns α.

        Softening bonds make the secant stiffer than the body's tangent, so the plain step falls short of
        equilibrium along its own direction. α is the root of g(α) = updᵀ F(u + α upd), the derivative of
        the incremental energy along the step (g(0) = g0 > 0): secant extrapolation from α = 1 while g stays
        positive, then one regula-falsi step once it is bracketed, at most LINE_SEARCH_EVALS force evaluations,
        α ≤ ``alpha_max`` (the step limit)."""
        m = self.m
        d = upd[free]

        def g(alpha):
            m.u.from_numpy((u + alpha * upd).astype(m.np_float))
            m.compute_forces(with_abs=False)
            return float(d @ m.force.to_numpy().astype(np.float64)[free])

        a0, g_lo = 0.0, g0
        a1 = min(1.0, alpha_max)
        g1 = g(a1)
        for _ in range(LINE_SEARCH_EVALS - 1):
            if g1 <= 0.0 or a1 >= alpha_max:
                break
            nxt = a1 + (a1 - a0) * g1 / (g_lo - g1) if g_lo > g1 else 2.0 * a1
            a0, g_lo = a1, g1
            a1 = min(max(nxt, 1.25 * a1), 4.0 * a1, alpha_max)
            g1 = g(a1)
        if g1 < 0.0 < g_lo:  # bracketed: regula falsi between a0 and a1
            a1 = a0 + (a1 - a0) * g_lo / (g_lo - g1)
        m.u.from_numpy((u + a1 * upd).astype(m.np_float))
        return a1
