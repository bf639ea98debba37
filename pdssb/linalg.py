"""Host-side sparse linear algebra shared by the direct mechanics and conduction solvers."""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy import sparse
from scipy.sparse import linalg as spla


def factorise(A: sparse.spmatrix):
    """Sparse LU (SuperLU) of a symmetric matrix, with a symmetric fill-reducing ordering."""
    return spla.splu(sparse.csc_matrix(A), permc_spec="MMD_AT_PLUS_A", options=dict(SymmetricMode=True))


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
