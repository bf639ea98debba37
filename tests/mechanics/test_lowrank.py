"""Exact solves after a few bonds break, from the sparse LU of the stiffness before (linalg.LowRankUpdate)."""

import numpy as np
import pytest
from scipy import sparse
from scipy.sparse import linalg as spla

from pdssb.linalg import LowRankUpdate, factorise


def _laplacian(n: int) -> sparse.csc_matrix:
    """2D five-point Laplacian plus the identity: symmetric positive definite."""
    one = sparse.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n))
    return (sparse.kronsum(one, one) + sparse.identity(n * n)).tocsc()


def _terms(A, rng, count):
    """Bond-like rank-1 terms d v vᵀ (v = e_i − e_j, d < 0 removes stiffness) and diagonal shifts."""
    out = []
    N = A.shape[0]
    for t in range(count):
        if t % 3 == 2:
            out.append((np.array([rng.integers(N)]), np.ones(1), 0.5))
        else:
            i = int(rng.integers(N - 1))
            out.append((np.array([i, i + 1]), np.array([1.0, -1.0]), -0.4))
    return out


def _add_terms(lr, A, terms):
    """Add the terms to ``lr`` (each must be accepted); returns A + Σ d v vᵀ as a LIL matrix."""
    B = A.tolil()
    for idx, val, d in terms:
        assert lr.add(idx, val, d)
        for a, va in zip(idx, val):
            for b, vb in zip(idx, val):
                B[a, b] += d * va * vb
    return B


def test_woodbury_solve_equals_the_solve_with_the_updated_matrix():
    """Closed form (Sherman–Morrison–Woodbury): (A + U D Uᵀ)⁻¹ r = y − Z (D⁻¹ + Uᵀ Z)⁻¹ Uᵀ y with
    y = A⁻¹ r, Z = A⁻¹ U. Checked against a fresh sparse LU of A + Σ d v vᵀ to 1e-10."""
    rng = np.random.default_rng(3)
    A = _laplacian(20)
    lr = LowRankUpdate(factorise(A), A.shape[0], 64)
    B = _add_terms(lr, A, _terms(A, rng, 40))
    assert lr.rank == 40 and not lr.singular
    r = rng.standard_normal(A.shape[0])
    exact = spla.spsolve(B.tocsc(), r)
    assert np.linalg.norm(lr.solve(r) - exact) <= 1e-10 * np.linalg.norm(exact)


def test_capacity_is_respected():
    A = _laplacian(6)
    lr = LowRankUpdate(factorise(A), A.shape[0], 3)
    for t in range(3):
        assert lr.add(np.array([t]), np.ones(1), 1.0)
    assert not lr.add(np.array([4]), np.ones(1), 1.0)
    assert lr.rank == 3


def test_rebuilt_from_its_state_it_solves_bit_for_bit_the_same():
    """A resumed run rebuilds the update from the checkpointed terms: same K_f, same terms in the same
    order, so the same bits (each column of Z is solved alone)."""
    rng = np.random.default_rng(5)
    A = _laplacian(15)
    lu = factorise(A)
    lr = LowRankUpdate(lu, A.shape[0], 32)
    for idx, val, d in _terms(A, rng, 20):
        lr.add(idx, val, d)
    again = LowRankUpdate(factorise(A), A.shape[0], 32)
    again.load(lr.state("lr."), "lr.")
    r = rng.standard_normal(A.shape[0])
    assert np.array_equal(lr.solve(r), again.solve(r))


def test_an_update_that_makes_the_matrix_singular_is_refused():
    """Removing from a 1×1-block diagonal matrix exactly its stiffness at one unknown leaves it singular:
    the capacitance matrix D⁻¹ + vᵀ A⁻¹ v = 1/d + 1/a vanishes for d = −a."""
    A = sparse.diags(np.full(10, 2.0), format="csc")
    lr = LowRankUpdate(factorise(A), 10, 4)
    assert not lr.add(np.array([3]), np.ones(1), -2.0)
    assert lr.singular and lr.rank == 0
    assert not lr.add(np.array([4]), np.ones(1), 1.0)  # refused from then on: K is factorised afresh


def test_direct_solver_folds_broken_bonds_into_exact_solves():
    """After a first equilibrium, a few bonds of a clamped, sheared bar are broken: K changes by one
    rank-1 term per bond, folded into the LU solves (no new factorisation, no CG iteration), and the
    corrected solve equals a fresh sparse solve with the new K (Woodbury identity, to 1e-9)."""
    from .bars import elastic_bar

    dx = 1e-6
    lat, st, model = elastic_bar((30, 10), dx)
    x = lat.positions()
    fix = np.zeros(lat.n_sites, np.int32)
    left, right = x[:, 0] < 3 * dx, x[:, 0] > 26 * dx
    fix[left | right] = 3
    u_bc = np.zeros((lat.n_sites, 2))
    u_bc[right, 1] = 1e-3 * dx
    model.set_boundary(fix, u_bc, np.zeros_like(u_bc), np.zeros_like(u_bc))
    model.use_solver("direct", "lu")
    assert model.relax(1e-10, 200_000).converged
    bits = model.bits.to_numpy()
    d = model.solver
    f0, cg0 = d.stats["factorisations"], d.stats["cg_iterations"]
    # break 6 bonds of one site in the middle of the bar (both directions, as break_bonds does)
    idx = lat.interior_index()
    lin = model.lin.to_numpy()
    centre = idx[np.argmin(np.linalg.norm(lat.positions() - np.array([15 * dx, 5 * dx]), axis=1))]
    broken = 0
    for k in np.nonzero(lin > 0)[0][:6]:
        back = int(np.nonzero(lin == -lin[k])[0][0])
        for site, kk in ((centre, k), (centre + lin[k], back)):
            bits[site, kk >> 5] &= ~np.uint32(1 << (kk & 31))
        broken += 1
    assert broken == 6
    model.bits.from_numpy(bits)
    res = model.relax(1e-10, 200_000)
    assert res.converged
    assert d.stats["factorisations"] == f0
    assert d.cache.lowrank is not None and d.cache.lowrank.rank == 6
    assert d.stats["cg_iterations"] == cg0
    r = np.random.default_rng(0).standard_normal(d.cache.K.shape[0])
    exact = spla.spsolve(d.cache.K, r)
    assert np.linalg.norm(d.cache.lowrank.solve(r) - exact) <= 1e-9 * np.linalg.norm(exact)


def test_lu_preconditioner_is_banded_cholesky_on_narrow_matrices_and_superlu_on_wide_ones():
    """The documented switch (linalg.BANDED_MAX_BANDWIDTH): a 2D five-point Laplacian on 20² sites
    (bandwidth 20, positive definite) takes the banded Cholesky; an indefinite diagonal matrix, and a
    positive definite one with bandwidth BANDED_MAX_BANDWIDTH + 1, take SuperLU. Each solve is exact
    (A x = r to 1e-10)."""
    from pdssb.linalg import BANDED_MAX_BANDWIDTH, Preconditioner

    rng = np.random.default_rng(1)
    for A, method in ((_laplacian(20), "banded-cholesky"),
                      (sparse.diags([1.0, -1.0] * 50, format="csc"), "superlu"),
                      (sparse.diags([-1.0, 4.0, -1.0], [-(BANDED_MAX_BANDWIDTH + 1), 0, BANDED_MAX_BANDWIDTH + 1],
                                    shape=(2000, 2000), format="csc"), "superlu")):
        P = Preconditioner(A, "lu")
        assert P.method == method
        r = rng.standard_normal(A.shape[0])
        x = P.solve(r)
        assert np.linalg.norm(A @ x - r) <= 1e-10 * np.linalg.norm(r)


def test_split_woodbury_on_the_banded_cholesky_equals_the_solve_with_the_updated_matrix():
    """Closed form (Woodbury in the Cholesky factor): with A = L Lᵀ and W = L⁻¹ U,
    (A + U D Uᵀ)⁻¹ r = L⁻ᵀ (y − W (D⁻¹ + Wᵀ W)⁻¹ Wᵀ y), y = L⁻¹ r. The banded preconditioner keeps
    the terms in that form (each added by a forward solve from its first unknown on); checked against
    a fresh sparse LU of A + Σ d v vᵀ to 1e-10, and rebuilt from its state bit for bit."""
    from pdssb.linalg import Preconditioner

    rng = np.random.default_rng(7)
    A = _laplacian(20)
    P = Preconditioner(A, "lu")
    assert P.method == "banded-cholesky"
    lr = LowRankUpdate(P, A.shape[0], 64)
    assert lr.chol is not None
    B = _add_terms(lr, A, _terms(A, rng, 40))
    r = rng.standard_normal(A.shape[0])
    exact = spla.spsolve(B.tocsc(), r)
    assert np.linalg.norm(lr.solve(r) - exact) <= 1e-10 * np.linalg.norm(exact)
    again = LowRankUpdate(Preconditioner(A, "lu"), A.shape[0], 64)
    again.load(lr.state("lr."), "lr.")
    assert np.array_equal(lr.solve(r), again.solve(r))


def test_banded_forward_solve_from_the_first_nonzero_equals_the_whole_forward_solve():
    """Lower-triangular L y = v with v = 0 above row s has y = 0 above s and y[s:] = L[s:, s:]⁻¹ v[s:]
    (forward substitution); and backward(forward(r)) = L⁻ᵀ L⁻¹ r = A⁻¹ r."""
    from pdssb.linalg import Preconditioner

    A = _laplacian(12)
    ch = Preconditioner(A, "lu").cholesky
    rng = np.random.default_rng(2)
    v = np.zeros(A.shape[0])
    v[70:75] = rng.standard_normal(5)
    full = ch.forward(v)
    assert np.all(full[:70] == 0.0)
    assert np.allclose(ch.forward(v, 70), full, rtol=0, atol=1e-14 * np.abs(full).max())
    r = rng.standard_normal(A.shape[0])
    x = ch.backward(ch.forward(r))
    assert np.linalg.norm(A @ x - r) <= 1e-12 * np.linalg.norm(r)
    assert np.array_equal(x, ch.solve(r))


def test_terms_added_together_equal_terms_added_one_by_one_bit_for_bit():
    """One pass of forward substitution for several right-hand sides (BandedCholesky.forward_many) is the
    single-vector substitution column by column, and its updates y_i −= y_j L_ij leave the rows above a
    column's first nonzero exactly 0 and change nothing below them: so terms added in a group
    (LowRankUpdate.add_many, one group per cascade round) give the W columns and S⁻¹ that adding them one
    by one gives, bit for bit, which a resumed run (rebuilt one by one from its state) relies on."""
    from pdssb.linalg import Preconditioner

    rng = np.random.default_rng(11)
    A = _laplacian(40)  # bandwidth 40
    terms = _terms(A, rng, 60)
    one = LowRankUpdate(Preconditioner(A, "lu"), A.shape[0], 64)
    _add_terms(one, A, terms)
    many = LowRankUpdate(Preconditioner(A, "lu"), A.shape[0], 64)
    at = 0
    for size in (1, 4, 7, 2, 13, 3, 30):
        assert many.add_many(terms[at:at + size])
        at += size
    assert at == len(terms) and many.rank == one.rank == 60
    assert np.array_equal(one.Z[:, :60], many.Z[:, :60])
    assert np.array_equal(one.Sinv[:60, :60], many.Sinv[:60, :60])
    r = rng.standard_normal(A.shape[0])
    assert np.array_equal(one.solve(r), many.solve(r))
    # past the capacity the group stops where add would, with the terms before it kept
    full = LowRankUpdate(Preconditioner(A, "lu"), A.shape[0], 5)
    assert not full.add_many(terms[:8]) and full.rank == 5
