"""Host-side sparse linear algebra shared by the direct mechanics and conduction solvers."""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy import sparse
from scipy.sparse import linalg as spla


#: "auto" preconditioner: the sparse LU up to this many unknowns, algebraic multigrid above. Measured
#: (docs/benchmarks.md, "Preconditioners"): at 11 520 unknowns (2D, 80² sites) SuperLU factorises in
#: 0.95 s and its fill is 8.0 M entries, smoothed aggregation sets up in 0.17 s; at 47 040 (160²) the
#: LU takes 8.6 s and 51 M entries (400 MB) against 0.63 s, and grows as n^1.5, AMG as n.
AUTO_LU_MAX_UNKNOWNS = 20_000


def factorise(A: sparse.spmatrix):
    """Sparse LU (SuperLU) of a symmetric matrix, with a symmetric fill-reducing ordering."""
    return spla.splu(sparse.csc_matrix(A), permc_spec="MMD_AT_PLUS_A", options=dict(SymmetricMode=True))


#: the "lu" preconditioner uses a banded Cholesky factorisation (LAPACK dpbtrf) instead of SuperLU
#: when the matrix, in the lattice's own numbering, has at most this bandwidth: the 2D lattices that
#: the LU is used for. Measured on the seed-000 scene (4 700 unknowns, bandwidth 285): factorisation
#: 38 ms against SuperLU's 178 ms, one solve 2.0 ms against 3.9 ms (docs/benchmarks.md). In 3D the
#: bandwidth is a whole plane of sites and SuperLU's fill-reducing ordering wins.
BANDED_MAX_BANDWIDTH = 600


def _banded_cholesky(A: sparse.spmatrix):
    """The solve of a banded Cholesky factorisation of A, or None (too wide, or not positive definite)."""
    import scipy.linalg as sl

    C = sparse.coo_matrix(A)
    if C.nnz == 0:
        return None
    lower = C.row >= C.col
    bw = int((C.row[lower] - C.col[lower]).max())
    if bw > BANDED_MAX_BANDWIDTH:
        return None
    ab = np.zeros((bw + 1, A.shape[0]))
    np.add.at(ab, ((C.row - C.col)[lower], C.col[lower]), C.data[lower])
    try:
        c = sl.cholesky_banded(ab, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        return None
    return lambda b: sl.cho_solve_banded((c, True), b, check_finite=False)


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
            self.solve = banded if banded is not None else factorise(A).solve
        elif kind == "amg":
            import pyamg

            B = None if near_null is None else np.ascontiguousarray(near_null, dtype=np.float64)
            self._ml = pyamg.smoothed_aggregation_solver(sparse.csr_matrix(A), B=B, max_coarse=500)
            self._op = self._ml.aspreconditioner(cycle="V")
            self.solve = self._op.matvec
            self.method = "amg"
        else:
            raise ValueError(f"unknown preconditioner {kind!r}")


class LowRankUpdate:
    """Exact solves with K = K_f + Σ_j d_j v_j v_jᵀ from the sparse LU of K_f (Woodbury).

    Breaking a bond changes the mechanics stiffness by one rank-1 term (−k_b v vᵀ, v = (e_i − e_j) ⊗ n
    on the free unknowns); a support shift added to one unknown is another (+s e eᵀ). With
    Z = K_f⁻¹ U and the capacitance matrix S = D⁻¹ + Uᵀ Z,

        K⁻¹ r = y − Z S⁻¹ (Uᵀ y),   y = K_f⁻¹ r,

    so every solve costs one triangular solve pair plus O(n·b), and each term costs one solve when it
    is added (S⁻¹ is grown by bordering, O(b²)), instead of the b + 1 CG iterations (each a triangular solve pair) that the stale LU
    needs as a preconditioner. Every column of Z is solved alone, in the order the terms were added:
    the same terms give the same bits, which is what a resumed run relies on.
    """

    def __init__(self, lu, n: int, capacity: int):
        self.lu = lu  # anything with .solve(r) -> K_f⁻¹ r
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
        b = self.rank
        if b >= self.capacity or self.singular:
            return False
        v = np.zeros(self.n)
        v[idx] = val
        z = self.lu.solve(v)
        val = np.asarray(val, dtype=np.float64)
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
            self.Z = np.asfortranarray(np.concatenate([self.Z, np.empty((self.n, m - b))], axis=1))
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
        y = self.lu.solve(r)
        b = self.rank
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
        maxiter: int) -> tuple[np.ndarray, int]:
    """Conjugate gradients on A x = b (A symmetric positive definite), preconditioned by ``solve``.

    Starts from x = solve(b), so with an exact factorisation of A it returns at once (0 iterations);
    with the factorisation of a nearby matrix it needs few. Returns (x, iterations).
    """
    bn = float(np.linalg.norm(b))
    if bn == 0.0:
        return np.zeros_like(b), 0
    x = solve(b)
    r = b - A @ x
    if float(np.linalg.norm(r)) <= rtol * bn:
        return x, 0
    z = solve(r)
    p = z.copy()
    rz = float(r @ z)
    it = 0
    while float(np.linalg.norm(r)) > rtol * bn and it < maxiter:
        Ap = A @ p
        pAp = float(p @ Ap)
        if pAp <= 0.0:
            break
        alpha = rz / pAp
        x += alpha * p
        r -= alpha * Ap
        z = solve(r)
        rz_new = float(r @ z)
        p = z + (rz_new / rz) * p
        rz = rz_new
        it += 1
    return x, it


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
