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


def preconditioner_kind(requested: str, unknowns: int) -> str:
    """The preconditioner that ``requested`` ("auto", "lu" or "amg") means for a system of this size."""
    if requested == "auto":
        return "lu" if unknowns <= AUTO_LU_MAX_UNKNOWNS else "amg"
    return requested


class Preconditioner:
    """An approximate inverse of a symmetric positive definite A for :func:`pcg`.

    ``lu``: SuperLU factors (exact for the matrix it was built from; CG then needs ≤ b + 1 iterations
    after a rank-b change). ``amg``: one V-cycle of pyamg's smoothed-aggregation multigrid, with the
    given near-null space (rigid-body modes for elasticity; constants otherwise), set-up and
    application O(n), iteration count nearly independent of n. Both are deterministic, so a resumed
    run that rebuilds one from the same matrix takes the same CG iterates.
    """

    def __init__(self, A: sparse.spmatrix, kind: str, near_null: np.ndarray | None = None):
        self.kind = kind
        if kind == "lu":
            self._lu = factorise(A)
            self.solve = self._lu.solve
        elif kind == "amg":
            import pyamg

            B = None if near_null is None else np.ascontiguousarray(near_null, dtype=np.float64)
            self._ml = pyamg.smoothed_aggregation_solver(sparse.csr_matrix(A), B=B, max_coarse=500)
            self._op = self._ml.aspreconditioner(cycle="V")
            self.solve = self._op.matvec
        else:
            raise ValueError(f"unknown preconditioner {kind!r}")


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
