"""Li intercalation on the lattice (electrochem/intercalation.py): conductance fit, balance, Crank's closed forms."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from pdssb.electrochem.crank import (
    centre_cylinder_constant_flux,
    lattice_ball,
    centre_sphere_constant_flux,
    uptake_cylinder_constant,
    uptake_cylinder_resistance,
    uptake_sphere_constant,
    uptake_sphere_resistance,
)
from pdssb.electrochem.intercalation import (
    Intercalation,
    fit_conductances,
    interface_bond_areas,
    second_moment,
    surface_areas,
)
from pdssb.lattice.grid import Lattice
from pdssb.lattice.stencil import Stencil

D_FAST = 1.0e-14  # m² s⁻¹, seed 003 D11 = D22
D_SLOW = 1.0e-20  # m² s⁻¹, seed 003 D33
DX = 1.0e-7
H = 1.0e-6  # 2D thickness


def ball(dim, radius_sites, m=3):
    return lattice_ball(dim, radius_sites, m, dx=DX, thickness=H, diffusivity=D_FAST)


def march(ic, a_eq, taus, flux, steps=15):
    """Backward-Euler steps up to each τ = D t/a²; ``flux(c)`` returns (q, ∂q/∂c). Returns Σ cV at each τ."""
    out, t = [], 0.0
    for tau in taus:
        dt = (tau * a_eq**2 / D_FAST - t) / steps
        for _ in range(steps):
            ic.step(dt, *flux(ic.c))
        t = tau * a_eq**2 / D_FAST
        out.append(ic.moles())
    return np.array(out)


# ---------------------------------------------------------------- conductance fit


@pytest.mark.parametrize("dim,m", [(2, 2), (2, 3), (3, 2), (3, 3)])
def test_isotropic_tensor_fitted_exactly(dim, m):
    """Second moment ½ Σ g_k ξ_k ξ_kᵀ = D·I exactly; the kernel is the stencil's own, g_k ∝ β_k/|ξ_k|²."""
    st = Stencil(dim, m)
    fit = fit_conductances(st, 3e-15 * np.eye(dim), DX)
    assert np.allclose(fit.represented, 3e-15 * np.eye(dim), rtol=0, atol=1e-13 * 3e-15)
    assert fit.residual < 1e-12
    shape = fit.g * st.length**2 / st.beta
    assert np.allclose(shape, shape[0], rtol=1e-12)


@pytest.mark.parametrize("dim", [2, 3])
def test_rotated_isotropic_tensor_fitted_exactly(dim):
    """Closed form: R (D I) Rᵀ = D I, so a grain with an isotropic D (seed 003 Cases 2–4), rotated as
    Cell.lab_tensors rotates it, gets the isotropic fit D·I whatever the round-off of its off-diagonal
    entries."""
    st = Stencil(dim, 3)
    rot = Rotation.random(50, random_state=3).as_matrix()
    tensors = np.einsum("gik,k,gjk->gij", rot, np.full(3, D_FAST), rot)[:, :dim, :dim]
    assert any((t != t.T).any() for t in tensors)  # round-off makes some of them unsymmetric
    for t in tensors:
        fit = fit_conductances(st, t, DX)
        assert np.allclose(fit.represented, D_FAST * np.eye(dim), rtol=0, atol=1e-12 * D_FAST)


@pytest.mark.parametrize("dim,m", [(2, 3), (3, 2), (3, 3)])
def test_representable_tensors_fitted_exactly(dim, m):
    """A tensor in the cone {Σ a_k ξ_k ξ_kᵀ, a_k ≥ 0} comes back to 1e-10: the c-axis along a lattice axis
    (D = diag(D11, D11, D33), the slow direction exactly 1e-20), and a random non-negative mix of offsets."""
    st = Stencil(dim, m)
    D = np.diag([D_FAST] * (dim - 1) + [D_SLOW])
    fit = fit_conductances(st, D, DX)
    assert fit.residual < 1e-10
    assert abs(fit.along(np.eye(dim)[-1]) - D_SLOW) < 1e-10 * D_FAST
    assert (fit.g >= 0).all() and np.array_equal(fit.g, fit.g[st.opposite()])
    rng = np.random.default_rng(4)
    g = np.zeros(st.size)
    pick = rng.choice(st.size, 5, replace=False)
    g[pick] = rng.uniform(0.5, 2.0, 5)
    g = 0.5 * (g + g[st.opposite()]) * D_FAST / DX**2
    target = second_moment(st, g, DX)
    assert fit_conductances(st, target, DX).residual < 1e-10


def test_ncm_tensor_leakage_at_random_orientations():
    """The NCM111 tensor R diag(1e-14, 1e-14, 1e-20) Rᵀ at uniformly random R (3D, m = 3): the NNLS residual is
    almost all leakage of the fast diffusivity into the slow c-axis, n_cᵀ D_fit n_c, which stays below 3.5 %
    of D11 (mean below 1.2 %); the fast plane is represented to 0.1 %. Bounds from docs/cathode.md's table."""
    st = Stencil(3, 3)
    rot = Rotation.random(40, random_state=np.random.default_rng(11)).as_matrix()
    leak, fast, res = [], [], []
    for R in rot:
        fit = fit_conductances(st, R @ np.diag([D_FAST, D_FAST, D_SLOW]) @ R.T, DX)
        leak.append((fit.along(R[:, 2]) - D_SLOW) / D_FAST)
        fast.append(max(abs(fit.along(R[:, a]) / D_FAST - 1.0) for a in (0, 1)))
        res.append(fit.residual)
    leak, fast, res = map(np.array, (leak, fast, res))
    assert (leak > 0).all() and leak.max() < 0.035 and leak.mean() < 0.012
    assert fast.max() < 1e-3
    assert np.allclose(res, leak, rtol=0.05)


def test_point_source_spreads_with_2Dt_along_fast_and_slow_axes():
    """A plane source spreads with variance 2 D_nn t along n (D_nn = nᵀDn): the projection onto n of the point
    source. For the lattice operator this is exact: each backward-Euler step adds 2 D_fit Δt to the covariance
    (Σ x xᵀ (L c) = 2 D_fit Σ c). A grain rotated arbitrarily: fast directions give D11 to 0.1 %, the slow
    c-axis gives D33 plus the fit's leakage; with the c-axis on a lattice axis the slow variance is 2·1e-20·t."""
    rng = np.random.default_rng(5)
    for R, exact in ((Rotation.random(random_state=rng).as_matrix(), False), (np.eye(3), True)):
        D = R @ np.diag([D_FAST, D_FAST, D_SLOW]) @ R.T
        n = 19
        lattice = Lattice((n,) * 3, DX, 0, origin=(-(n / 2) * DX,) * 3)
        x = lattice.positions()
        st = Stencil(3, 2)
        ic = Intercalation(lattice, st, np.ones(lattice.n_sites, bool), np.zeros(lattice.n_sites, int),
                           np.array([D]), np.zeros(lattice.n_sites))
        c0 = np.zeros(lattice.n_sites)
        c0[np.argmin(np.linalg.norm(x, axis=1))] = 1.0
        ic.set_concentration(c0)
        dt, steps = 0.5 * DX**2 / D_FAST, 2
        for _ in range(steps):
            ic.step(dt, 0.0)
        t = dt * steps
        c = ic.field()
        cov = np.einsum("i,ij,ik->jk", c, x, x) / c.sum()
        fit = ic.fits[0]
        assert np.allclose(cov, 2 * fit.represented * t, rtol=0, atol=2e-3 * 2 * D_FAST * t)
        for a in (0, 1):
            assert R[:, a] @ cov @ R[:, a] / (2 * t) == pytest.approx(D_FAST, rel=3e-3)
        slow = R[:, 2] @ cov @ R[:, 2] / (2 * t)
        if exact:
            assert slow == pytest.approx(D_SLOW, rel=1e-6)
        else:
            assert slow == pytest.approx(fit.along(R[:, 2]), rel=0, abs=2e-3 * D_FAST)
            assert 0 < slow / D_FAST < 0.035


# ---------------------------------------------------------------- balance and monotonicity


def random_grains(dim=3, n=14, grains=5, seed=2):
    rng = np.random.default_rng(seed)
    lattice = Lattice((n,) * dim, DX, 0)
    x = lattice.positions() / DX - n / 2 + 0.5
    active = np.linalg.norm(x, axis=1) < n / 2 - 1.5
    grain = np.argmin(np.linalg.norm(x[:, None, :] - rng.uniform(-4, 4, (grains, dim))[None], axis=2), axis=1)
    rot = Rotation.random(grains, random_state=rng).as_matrix()
    t = np.einsum("gik,k,gjk->gij", rot, [D_FAST, D_FAST, D_SLOW], rot)[:, :dim, :dim]
    st = Stencil(dim, 3)
    h = H if dim == 2 else None
    area = surface_areas(lattice, st, active, ~active, h)
    return lattice, st, active, grain, t, area, h, rng


@pytest.mark.parametrize("dim", [2, 3])
def test_mass_balance_exact(dim):
    """Σ V (c^{n+1} − c^n) = Δt Σ A_i q_i(c^{n+1}) to 1e-12 relative, over grains of random orientation,
    a random surface flux with a random non-positive slope, changing Δt, and with cut bonds."""
    lattice, st, active, grain, t, area, h, rng = random_grains(dim)
    cut = rng.uniform(size=(lattice.n_sites, st.size)) > 0.1
    for mask in (None, cut):
        ic = Intercalation(lattice, st, active, grain, t, area, thickness=h, bond_mask=mask)
        ic.set_concentration(rng.uniform(2e4, 4e4, ic.n))
        for k in range(6):
            q = rng.uniform(-2e-5, 1e-5, ic.n)
            s = -rng.uniform(0, 1e-9, ic.n)
            c_old = ic.c.copy()
            r = ic.step(rng.uniform(1.0, 50.0), q, s)
            assert abs(r.balance_error()) < 1e-12 and r.residual < 1e-10
            assert r.influx == pytest.approx(float((ic.area * (q + s * (ic.c - c_old))).sum()), rel=1e-12)


@pytest.mark.parametrize("dim", [2, 3])
def test_maximum_principle_across_grains(dim):
    """M-matrix: with no surface flux, any Δt (up to D Δt/Δx² = 10⁶) keeps every c inside [min c⁰, max c⁰] (no
    over- or undershoot), across grain boundaries of random orientation, and the mean is conserved."""
    lattice, st, active, grain, t, area, h, rng = random_grains(dim)
    ic = Intercalation(lattice, st, active, grain, t, area, thickness=h)
    c0 = rng.uniform(0.0, 1.0, ic.n)
    ic.set_concentration(c0)
    for dt in (1e-3, 1.0, 1e3, 1e6):
        assert ic.step(dt, 0.0).residual < 1e-8
        assert ic.c.min() >= c0.min() - 1e-12 and ic.c.max() <= c0.max() + 1e-12
    assert ic.c.mean() == pytest.approx(c0.mean(), rel=1e-12)


def test_cut_bonds_carry_no_flux():
    """A plane of cut bonds splits a bar: the half without surface flux keeps its concentration exactly."""
    n = (12, 6, 6)
    lattice = Lattice(n, DX, 0)
    st = Stencil(3, 3)
    x = np.stack(np.unravel_index(np.arange(lattice.n_sites), n), axis=1)
    mask = np.ones((lattice.n_sites, st.size), bool)
    for k, o in enumerate(st.offsets):
        crosses = (x[:, 0] < 6) != (x[:, 0] + o[0] < 6)
        mask[crosses, k] = False
    active = np.ones(lattice.n_sites, bool)
    area = np.where(x[:, 0] == 0, DX * DX, 0.0)
    ic = Intercalation(lattice, st, active, np.zeros(lattice.n_sites, int), np.array([D_FAST * np.eye(3)]),
                       area, bond_mask=mask)
    ic.set_concentration(1.0)
    for _ in range(5):
        ic.step(10.0, 1e-6)
    right = ic.field()[x[:, 0] >= 6]
    assert np.abs(right - 1.0).max() < 1e-14
    assert ic.field()[x[:, 0] < 6].mean() > 1.0


# ---------------------------------------------------------------- surface area


@pytest.mark.parametrize("dim,m", [(2, 2), (2, 3), (3, 2), (3, 3)])
def test_flat_surface_area_exact_and_on_the_outer_layer(dim, m):
    """The interface bonds crossing a flat face add up to its area exactly (the rule conduction.py uses): away
    from the lattice's lateral edges every outermost site carries one face Δx^{d−1}(·h), and no deeper site
    carries any, so the area is not spread over a layer as deep as the horizon."""
    n = (10, 7) if dim == 2 else (10, 7, 9)
    lattice = Lattice(n, DX, 0)
    x = np.stack(np.unravel_index(np.arange(lattice.n_sites), n), axis=1)
    active = x[:, 1] < 4
    st = Stencil(dim, m)
    h = H if dim == 2 else None
    area = surface_areas(lattice, st, active, ~active, h)
    face = DX ** (dim - 1) * (H if dim == 2 else 1.0)
    lateral = [a for a in range(dim) if a != 1]
    interior = np.all([(x[:, a] >= st.reach) & (x[:, a] < n[a] - st.reach) for a in lateral], axis=0)
    outer = x[:, 1] == 3
    assert (interior & outer).any()
    assert np.allclose(area[interior & outer], face, rtol=1e-12, atol=0)
    assert np.all(area[~outer] == 0.0)
    assert np.all(area[outer] <= face * (1 + 1e-12))
    assert interface_bond_areas(st, DX, h).min() > 0


@pytest.mark.parametrize("dim,m,tol", [(2, 3, 0.03), (3, 3, 0.03)])
def test_curved_surface_area(dim, m, tol):
    """The bond count of a circle's perimeter (×h) / sphere's area is within a few % of 2πa·h / 4πa²
    (a the radius of the lattice body's own volume): the bond rule's small orientation dependence."""
    ic, a_eq, a_exact, _ = ball(dim, 10, m)
    assert ic.area.sum() / a_exact == pytest.approx(1.0, abs=tol)


# ---------------------------------------------------------------- Crank's closed forms


def robin(ic, a_exact, L, a_eq, c_out=1.0):
    """q = k (c_out − c), k = L D / a, scaled by A_exact / A_lattice so the test sees the operator, not the area."""
    k = L * D_FAST / a_eq * a_exact / ic.area.sum()
    return lambda c: (k * (c_out - c), -k * np.ones_like(c))


def test_sphere_uptake_matches_crank():
    """Diffusion into a sphere (3D, a = 8 Δx, m = 3) through a surface resistance, L = a k/D = 2: the uptake
    M_t/M_∞ follows Crank's surface-evaporation series within 5 % for τ = Dt/a² ≥ 0.05; with L = 10⁴ (constant
    surface concentration) it follows Crank eq. 6.20 within 5 % for τ ≥ 0.2 (before that the outer layer of
    sites, filled at once, is a Δx/a effect)."""
    taus = np.array([0.05, 0.1, 0.2, 0.4])
    for L, exact, tol_from in ((2.0, uptake_sphere_resistance(taus, 2.0), 0), (1e4, uptake_sphere_constant(taus), 2)):
        ic, a_eq, a_exact, _ = ball(3, 8)
        ic.set_concentration(0.0)
        m = march(ic, a_eq, taus, robin(ic, a_exact, L, a_eq)) / (ic.n * ic.volume)
        assert np.allclose(m[tol_from:] / exact[tol_from:], 1.0, atol=0.05), (L, m / exact)


def test_disc_uptake_matches_crank():
    """Diffusion into a disc (2D, a = 16 Δx, m = 3): L = 2 against Crank's cylinder surface-evaporation series
    within 3 % for τ ≥ 0.02; L = 10⁴ against Crank eq. 5.23 within 5 % for τ ≥ 0.1."""
    taus = np.array([0.02, 0.05, 0.1, 0.2, 0.4])
    for L, exact, tol, tol_from in ((2.0, uptake_cylinder_resistance(taus, 2.0), 0.03, 0),
                                    (1e4, uptake_cylinder_constant(taus), 0.05, 2)):
        ic, a_eq, a_exact, _ = ball(2, 16)
        ic.set_concentration(0.0)
        m = march(ic, a_eq, taus, robin(ic, a_exact, L, a_eq)) / (ic.n * ic.volume)
        assert np.allclose(m[tol_from:] / exact[tol_from:], 1.0, atol=tol), (L, m / exact)


@pytest.mark.parametrize("dim,radius,tol,steps", [(2, 16, 0.02, 20), (3, 10, 0.05, 10)])
def test_centre_concentration_under_constant_flux(dim, radius, tol, steps):
    """Constant flux F into a sphere / disc (Crank's constant-flux solutions, chs. 5–6): the centre concentration
    c(0,t)·D/(F a) within 2 % (disc, a = 16 Δx) / 5 % (sphere, a = 10 Δx) for τ = 0.2–0.8. The late-time
    offset from the mean, −3/10 (sphere) and −1/4 (disc), is the particle's diffusion resistance; the
    coarse nonlocal surface layer overstates it (docs/cathode.md)."""
    taus = np.array([0.2, 0.4, 0.8])
    ic, a_eq, a_exact, centre = ball(dim, radius)
    ic.set_concentration(0.0)
    F = 1e-6
    q = F * a_exact / ic.area.sum()
    out, t = [], 0.0
    for tau in taus:
        dt = (tau * a_eq**2 / D_FAST - t) / steps
        for _ in range(steps):
            ic.step(dt, q)
        t = tau * a_eq**2 / D_FAST
        out.append(ic.c[ic.index[centre]] * D_FAST / (F * a_eq))
    exact = centre_sphere_constant_flux(taus) if dim == 3 else centre_cylinder_constant_flux(taus)
    assert np.allclose(np.array(out) / exact, 1.0, atol=tol), np.array(out) / exact


# ---------------------------------------------------------------- bad input


def test_bad_input():
    st = Stencil(3, 2)
    with pytest.raises(ValueError, match="symmetric"):
        fit_conductances(st, np.array([[1.0, 2.0, 0], [0, 1, 0], [0, 0, 1]]) * D_FAST, DX)
    with pytest.raises(ValueError, match="semi-definite"):
        fit_conductances(st, -D_FAST * np.eye(3), DX)
    lattice = Lattice((4, 4), DX, 0)
    with pytest.raises(ValueError, match="thickness"):
        Intercalation(lattice, Stencil(2, 2), np.ones(16, bool), np.zeros(16, int),
                      np.array([D_FAST * np.eye(2)]), np.zeros(16))
    ic = Intercalation(lattice, Stencil(2, 2), np.ones(16, bool), np.zeros(16, int),
                       np.array([D_FAST * np.eye(2)]), np.zeros(16), thickness=H)
    with pytest.raises(ValueError, match="slope"):
        ic.step(1.0, 0.0, 1e-6)
    with pytest.raises(ValueError, match="dt"):
        ic.step(0.0, 0.0)
