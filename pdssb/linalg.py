"""Host-side sparse linear algebra shared by the direct mechanics and conduction solvers."""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy import sparse
from scipy.sparse import linalg as spla


#: "auto" preconditioner: the sparse LU up to this many unknowns, algebraic multigrid above: the LU's
#: set-up and fill grow as n^1.5 in 2D, AMG's as n (docs/benchmarks.md, "Figures behind code constants").
AUTO_LU_MAX_UNKNOWNS = 20_000


def factorise(A: sparse.spmatrix):
    """Sparse LU (SuperLU) of a symmetric matrix, with a symmetric fill-reducing ordering."""
    return spla.splu(sparse.csc_matrix(A), permc_spec="MMD_AT_PLUS_A", options=dict(SymmetricMode=True))


#: the "lu" preconditioner uses a banded Cholesky factorisation (LAPACK dpbtrf) instead of SuperLU
#: when the matrix, in the lattice's own numbering, has at most this bandwidth: the 2D lattices that
#: the LU is used for, where the band is narrow and has no fill outside it. In 3D the bandwidth is a
#: whole plane of sites and SuperLU's fill-reducing ordering wins (docs/benchmarks.md, "Banded
#: Cholesky for narrow systems").
BANDED_MAX_BANDWIDTH = 600


class BandedCholesky:
    """A = L Lᵀ of a symmetric positive definite band matrix (LAPACK dpbtrf, L in lower band storage,
    column-major), with its two triangular solves also available apart: ``forward`` (L y = v, from the
    first nonzero of v on: the rows above it stay 0) and ``backward`` (Lᵀ x = y). ``solve`` is LAPACK
    dpbtrs, which runs the same two band solves (dtbsv) one after the other, so forward then backward
    gives the same bits as solve."""

    def __init__(self, L: np.ndarray):
        self.L = L
        self.n = L.shape[1]

    def solve(self, b: np.ndarray) -> np.ndarray:
        from scipy.linalg.lapack import dpbtrs

        x, info = dpbtrs(self.L, b, lower=1)
        if info != 0:
            raise np.linalg.LinAlgError(f"dpbtrs: info {info}")
        return x

    def forward(self, v: np.ndarray, start: int = 0) -> np.ndarray:
        """L⁻¹ v for a v that is 0 above ``start`` (so is the result): a solve with L's trailing block."""
        from scipy.linalg.lapack import dtbtrs

        y = np.zeros(self.n)
        y[start:], info = dtbtrs(self.L[:, start:], v[start:], uplo="L", trans="N")
        if info != 0:
            raise np.linalg.LinAlgError(f"dtbtrs: info {info}")
        return y

    def forward_many(self, V: np.ndarray, start: int = 0) -> np.ndarray:
        """L⁻¹ V for the columns of V (n × k), all 0 above ``start``, in one pass over L: LAPACK dtbtrs
        solves them column by column with the same band solve (dtbsv) as :meth:`forward`, whose
        column-oriented updates leave exact zeros unchanged, so each column has the bits that
        :meth:`forward` from that column's own first nonzero gives."""
        from scipy.linalg.lapack import dtbtrs

        Y = np.zeros((self.n, V.shape[1]), order="F")
        if V.shape[1]:
            Y[start:], info = dtbtrs(self.L[:, start:], np.asfortranarray(V[start:]), uplo="L", trans="N")
            if info != 0:
                raise np.linalg.LinAlgError(f"dtbtrs: info {info}")
        return Y

    def backward(self, y: np.ndarray) -> np.ndarray:
        """L⁻ᵀ y."""
        from scipy.linalg.lapack import dtbtrs

        x, info = dtbtrs(self.L, y, uplo="L", trans="T")
        if info != 0:
            raise np.linalg.LinAlgError(f"dtbtrs: info {info}")
        return x


def _banded_cholesky(A: sparse.spmatrix) -> BandedCholesky | None:
    """The banded Cholesky factorisation of A, or None (too wide, or not positive definite)."""
    from scipy.linalg.lapack import dpbtrf

    C = sparse.csc_matrix(A)
    C.sum_duplicates()  # each (row, col) once, so the band can be filled by assignment
    C = C.tocoo()
    if C.nnz == 0:
        return None
    lower = C.row >= C.col
    bw = int((C.row[lower] - C.col[lower]).max())
    if bw > BANDED_MAX_BANDWIDTH:
        return None
    ab = np.zeros((bw + 1, A.shape[0]), order="F")
    ab[(C.row - C.col)[lower], C.col[lower]] = C.data[lower]
    L, info = dpbtrf(ab, lower=1, overwrite_ab=1)
    if info != 0:
        return None
    return BandedCholesky(np.asfortranarray(L))


def positive_definite_solve(A: sparse.spmatrix) -> Callable[[np.ndarray], np.ndarray] | None:
    """A solver for A x = b when the symmetric A is positive definite, else None: the banded Cholesky
    factorisation when A is narrow, else SuperLU without pivoting in symmetric mode, whose U diagonal
    then carries the signs of A's eigenvalues (Sylvester's inertia)."""
    banded = _banded_cholesky(A)
    if banded is not None:
        return banded.solve
    C = sparse.coo_matrix(A)
    lower = C.row >= C.col
    if C.nnz and int((C.row[lower] - C.col[lower]).max()) <= BANDED_MAX_BANDWIDTH:
        return None  # narrow enough for the band factorisation, which failed: not positive definite
    try:
        lu = spla.splu(sparse.csc_matrix(A), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                       options=dict(SymmetricMode=True))
    except RuntimeError:
        return None
    if not np.all(lu.U.diagonal() > 0):
        return None
    return lu.solve


def preconditioner_kind(requested: str, unknowns: int) -> str:
    """The preconditioner that ``requested`` ("auto", "lu" or "amg") means for a system of this size."""
    if requested == "auto":
        return "lu" if unknowns <= AUTO_LU_MAX_UNKNOWNS else "amg"
    return requested


class Preconditioner:
    """An approximate inverse of a symmetric positive definite A for :func:`pcg`.

    ``lu``: an exact factorisation of the matrix it was built from (CG then needs ≤ b + 1 iterations
    after a rank-b change): banded Cholesky when the bandwidth is at most BANDED_MAX_BANDWIDTH and the
    matrix is positive definite, else SuperLU. ``amg``: one V-cycle of pyamg's smoothed-aggregation multigrid, with the
    given near-null space (rigid-body modes for elasticity; constants otherwise), set-up and
    application O(n), iteration count nearly independent of n. Both are deterministic, so a resumed
    run that rebuilds one from the same matrix takes the same CG iterates.
    """

    def __init__(self, A: sparse.spmatrix, kind: str, near_null: np.ndarray | None = None):
        self.kind = kind
        self.n = A.shape[0]
        if kind == "lu":
            banded = _banded_cholesky(A)
            self.method = "banded-cholesky" if banded is not None else "superlu"
            self.solve = banded.solve if banded is not None else factorise(A).solve
            self.cholesky = banded  # its triangular solves apart: LowRankUpdate's cheaper terms
        elif kind == "amg":
            import pyamg

            B = None if near_null is None else np.ascontiguousarray(near_null, dtype=np.float64)
            self._ml = pyamg.smoothed_aggregation_solver(sparse.csr_matrix(A), B=B, max_coarse=500)
            self._op = self._ml.aspreconditioner(cycle="V")
            self.solve = self._op.matvec
            self.method = "amg"
            self.cholesky = None
        else:
            raise ValueError(f"unknown preconditioner {kind!r}")


class LowRankUpdate:
    """Exact solves with K = K_f + Σ_j d_j v_j v_jᵀ from a factorisation of K_f (Woodbury).

    Breaking a bond changes the mechanics stiffness by one rank-1 term (−k_b v vᵀ, v = (e_i − e_j) ⊗ n
    on the free unknowns); a support shift added to one unknown is another (+s e eᵀ). With
    Z = K_f⁻¹ U and the capacitance matrix S = D⁻¹ + Uᵀ Z,

        K⁻¹ r = y − Z S⁻¹ (Uᵀ y),   y = K_f⁻¹ r,

    so every solve costs one triangular solve pair plus O(n·b), and each term costs one solve when it
    is added (S⁻¹ is grown by bordering, O(b²)), instead of the b + 1 CG iterations (each a triangular
    solve pair) that the stale factorisation needs as a preconditioner.

    With a banded Cholesky factor K_f = L Lᵀ (``lu.cholesky``) the update is kept in the split form
    W = L⁻¹ U, S = D⁻¹ + Wᵀ W:

        K⁻¹ r = L⁻ᵀ (y − W S⁻¹ (Wᵀ y)),   y = L⁻¹ r,

    so a solve still costs one forward and one backward band solve plus O(n·b), but a term costs only
    the forward solve, started at the first unknown the term touches (the rows above stay 0): for a
    bond in the middle of the numbering, the trailing half of one triangular solve. The terms of one
    cascade round share that pass over L (:meth:`add_many`); each column gets the bits that solving it
    alone gives, and S⁻¹ is bordered in the order the terms were added: the same terms give the same
    bits, added together or one by one, which is what a resumed run (rebuilt one by one) relies on.
    """

    def __init__(self, lu, n: int, capacity: int):
        self.lu = lu  # anything with .solve(r) -> K_f⁻¹ r
        self.chol = getattr(lu, "cholesky", None)  # with .forward/.backward: the split form W = L⁻¹ U
        self.n = n
        self.capacity = capacity
        self.Z = np.empty((n, min(capacity, 16)), order="F")  # grown by doubling, up to ``capacity``
        self.Sinv = np.empty((self.Z.shape[1],) * 2)  # S⁻¹, grown by bordering (O(b²) per term)
        self.idx = np.zeros(0, dtype=np.int64)  # the terms' nonzeros, concatenated
        self.val = np.zeros(0)
        self.owner = np.zeros(0, dtype=np.int64)  # which term each nonzero belongs to
        self.lens: list[int] = []
        self.coef: list[float] = []
        self.singular = False

    @property
    def rank(self) -> int:
        return len(self.coef)

    def _Ut(self, x: np.ndarray) -> np.ndarray:
        """Uᵀ x."""
        return np.bincount(self.owner, weights=self.val * x[self.idx], minlength=self.rank)

    def add(self, idx: np.ndarray, val: np.ndarray, coef: float) -> bool:
        """Append d vvᵀ (v sparse: values ``val`` at ``idx``). False when full, or when the updated
        matrix is (numerically) singular: the Schur complement γ of the new term in S vanishes."""
        if self.rank >= self.capacity or self.singular:
            return False
        v = np.zeros(self.n)
        v[idx] = val
        z = self.chol.forward(v, int(np.min(idx))) if self.chol is not None else self.lu.solve(v)
        return self._append(z, idx, val, coef)

    def add_many(self, terms) -> bool:
        """Append the terms ``[(idx, val, coef), ...]`` in order, as :meth:`add` one by one would, bit for
        bit; with a banded Cholesky factor their forward solves share one pass over L
        (BandedCholesky.forward_many). False at the first term that :meth:`add` would refuse."""
        if self.chol is None or len(terms) < 2:
            return all(self.add(*t) for t in terms)
        start = min(int(np.min(idx)) for idx, _, _ in terms)
        V = np.zeros((self.n, len(terms)), order="F")
        for j, (idx, val, _) in enumerate(terms):
            V[idx, j] = val
        Z = self.chol.forward_many(V, start)
        for j, (idx, val, coef) in enumerate(terms):
            if self.rank >= self.capacity or self.singular or not self._append(Z[:, j], idx, val, coef):
                return False
        return True

    def _append(self, z: np.ndarray, idx: np.ndarray, val: np.ndarray, coef: float) -> bool:
        """Border S⁻¹ with the term whose solve (W's or Z's new column) is ``z``."""
        b = self.rank
        val = np.asarray(val, dtype=np.float64)
        if self.chol is not None:
            start = int(np.min(idx))  # z is 0 above it
            zs = z[start:]
            c = self.Z[start:, :b].T @ zs  # S's new column (S = D⁻¹ + Wᵀ W)
            s = 1.0 / coef + float(zs @ zs)
        else:
            c = self._Ut(z)  # S's new column (S = D⁻¹ + Uᵀ Z, symmetric)
            s = 1.0 / coef + float(val @ z[idx])
        w = self.Sinv[:b, :b] @ c
        cw = float(c @ w)
        gamma = s - cw
        if not np.isfinite(gamma) or abs(gamma) <= 1e-12 * (abs(s) + abs(cw)):
            self.singular = True
            return False
        if b == self.Z.shape[1]:
            m = min(2 * b, self.capacity)
            Z = np.empty((self.n, m), order="F")
            Z[:, :b] = self.Z[:, :b]
            self.Z = Z
            Si = np.empty((m, m))
            Si[:b, :b] = self.Sinv[:b, :b]
            self.Sinv = Si
        Si = self.Sinv
        Si[:b, :b] += np.outer(w, w) / gamma
        Si[:b, b] = -w / gamma
        Si[b, :b] = -w / gamma
        Si[b, b] = 1.0 / gamma
        self.Z[:, b] = z
        self.idx = np.concatenate([self.idx, np.asarray(idx, dtype=np.int64)])
        self.val = np.concatenate([self.val, val])
        self.owner = np.concatenate([self.owner, np.full(len(val), b, dtype=np.int64)])
        self.lens.append(len(val))
        self.coef.append(float(coef))
        return True

    def solve(self, r: np.ndarray) -> np.ndarray:
        b = self.rank
        if self.chol is not None:
            if b == 0:
                return self.lu.solve(r)  # the same two band solves, in one LAPACK call
            y = self.chol.forward(r)
            W = self.Z[:, :b]
            return self.chol.backward(y - W @ (self.Sinv[:b, :b] @ (W.T @ y)))
        y = self.lu.solve(r)
        if b == 0:
            return y
        return y - self.Z[:, :b] @ (self.Sinv[:b, :b] @ self._Ut(y))

    def state(self, prefix: str) -> dict[str, np.ndarray]:
        """The terms, in order (enough to rebuild Z and S bit for bit from the same K_f)."""
        return {prefix + "lens": np.array(self.lens, dtype=np.int64), prefix + "idx": self.idx,
                prefix + "val": self.val, prefix + "coef": np.array(self.coef, dtype=np.float64)}

    def load(self, arrays: dict[str, np.ndarray], prefix: str) -> None:
        if prefix + "lens" not in arrays:
            return
        lens, idx, val, coef = (arrays[prefix + k] for k in ("lens", "idx", "val", "coef"))
        at = 0
        for n_j, c in zip(lens, coef):
            if not self.add(idx[at:at + n_j], val[at:at + n_j], float(c)):
                raise ValueError("checkpoint: the low-rank update does not rebuild (capacity or singular)")
            at += int(n_j)


def pcg(A: sparse.spmatrix, solve: Callable[[np.ndarray], np.ndarray], b: np.ndarray, rtol: float,
        maxiter: int, curvature: bool = False):
    """Conjugate gradients on A x = b (A symmetric positive definite), preconditioned by ``solve``.

    Starts from x = solve(b), so with an exact factorisation of A it returns at once (0 iterations);
    with the factorisation of a nearby matrix it needs few. Returns (x, iterations), and with
    ``curvature`` also whether every search direction had positive curvature pᵀAp > 0 (False: A is
    not positive definite, and CG stopped where it met the first direction that showed it).
    """
    bn = float(np.linalg.norm(b))
    if bn == 0.0:
        return (np.zeros_like(b), 0, True) if curvature else (np.zeros_like(b), 0)
    x = solve(b)
    r = b - A @ x
    positive = float(x @ (b - r)) > 0.0  # xᵀA x of the first iterate
    if float(np.linalg.norm(r)) <= rtol * bn or not positive:
        return (x, 0, positive) if curvature else (x, 0)
    z = solve(r)
    p = z.copy()
    rz = float(r @ z)
    it = 0
    while float(np.linalg.norm(r)) > rtol * bn and it < maxiter:
        Ap = A @ p
        pAp = float(p @ Ap)
        if pAp <= 0.0:
            positive = False
            break
        alpha = rz / pAp
        x += alpha * p
        r -= alpha * Ap
        z = solve(r)
        rz_new = float(r @ z)
        p = z + (rz_new / rz) * p
        rz = rz_new
        it += 1
    return (x, it, positive) if curvature else (x, it)


def sparse_state(A: sparse.spmatrix | None, prefix: str) -> dict[str, np.ndarray]:
    """A CSC matrix as plain arrays (for a checkpoint); nothing when A is None."""
    if A is None:
        return {}
    A = sparse.csc_matrix(A)
    return {prefix + "data": A.data, prefix + "indices": A.indices, prefix + "indptr": A.indptr,
            prefix + "shape": np.array(A.shape, dtype=np.int64)}


def sparse_load(arrays: dict[str, np.ndarray], prefix: str) -> sparse.csc_matrix | None:
    if prefix + "data" not in arrays:
        return None
    shape = tuple(int(v) for v in arrays[prefix + "shape"])
    return sparse.csc_matrix((arrays[prefix + "data"], arrays[prefix + "indices"], arrays[prefix + "indptr"]),
                             shape=shape)
