"""The current-configuration tangent of the direct solver (NewtonSolver.current_tangent) and the Newton
steps that use it when the reference stiffness stops contracting the residual."""

import numpy as np
import pytest
from scipy import sparse

from .bars import elastic_bar


def _clamped_bar(shape, dx, u_left=None):
    """A bar held on its three left columns (prescribed u_left(x) there, else 0), direct solver, LU."""
    lat, st, model = elastic_bar(shape, dx)
    x = lat.positions()
    left = x[:, 0] < 3 * dx
    fix = np.zeros(lat.n_sites, np.int32)
    fix[left] = 3
    u_bc = np.zeros((lat.n_sites, 2))
    if u_left is not None:
        u_bc[left] = u_left(x[left])
    model.set_boundary(fix, u_bc, np.zeros_like(u_bc), np.zeros_like(u_bc))
    model.use_solver("direct", "lu")
    return lat, model, x, left


def _net_force(model, lat, u):
    model.set_field("u", u)
    model.compute_forces()
    return model.field("force")


def test_current_tangent_is_the_derivative_of_the_bond_forces():
    """Closed form: ∂f/∂y = k₀ [ŷŷᵀ/L + (s/|y|)(I − ŷŷᵀ)] for the PMB bond force f = k₀ s ŷ, s = |y|/L − 1,
    L = |ξ|(1 + ε*_ij). On a bar turned by 0.4 rad (held part included), with random displacements of 2 % of Δx and random
    eigenstrains of −10 % to −15 % (every bond in tension, where K_t is the exact derivative), K_t v
    equals −(F(u + h v) − F(u − h v))/2h (central differences, error O(h²)) to 1e-6 of its norm, for
    random v on the free unknowns."""
    dx = 1e-6
    rng = np.random.default_rng(11)
    lat, model, x, left = _clamped_bar((10, 8), dx)
    th = 0.4
    R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    u = (x - x.mean(axis=0)) @ (R - np.eye(2)).T + 0.02 * dx * rng.standard_normal(x.shape)
    model.set_field("eps", -0.10 - 0.05 * rng.random(lat.n_sites))
    ds = model.solver
    model.set_field("u", u)
    ds.cache.refresh(model)
    Kt = ds.current_tangent()
    free = ~left
    for _ in range(3):
        v = np.zeros_like(u)
        v[free] = dx * rng.standard_normal((int(free.sum()), 2))
        h = 1e-5
        dF = (_net_force(model, lat, u + h * v) - _net_force(model, lat, u - h * v)) / (2 * h)
        vf = np.zeros(Kt.shape[0])
        dof = lat.gather(ds.assembly.dof)
        vf[dof[free].ravel()] = v[free].ravel()
        Kv = Kt @ vf - ds.cache.shift * vf  # the support shift is not part of the force's derivative
        expect = -dF[free].ravel()[np.argsort(dof[free].ravel())]
        assert np.linalg.norm(Kv - expect) <= 1e-6 * np.linalg.norm(expect)


def test_current_tangent_at_rest_is_the_reference_stiffness():
    """Closed form: at u = 0, ε* = 0 every bond has y = ξ, s = 0, L = |ξ|, so ∂f/∂y = k₀/|ξ| n nᵀ, the
    reference K the solver factorises (equal to round-off)."""
    lat, model, x, left = _clamped_bar((12, 6), 1e-6)
    ds = model.solver
    ds.cache.refresh(model)
    diff = ds.current_tangent() - ds.cache.K
    assert abs(diff).max() <= 1e-12 * abs(ds.cache.K).max()


def test_compressed_bonds_keep_only_their_stiffness_along_the_bond():
    """Closed form: at u = 0 with a uniform eigenstrain ε* = 5 %, every bond is compressed to
    s = 1/(1 + ε*) − 1 < 0 along its own direction; its negative geometric term is left out, so
    K_t = Σ k₀/L n nᵀ = Kb/(1 + ε*) exactly (L = |ξ|(1 + ε*)), positive definite on the held bar."""
    lat, model, x, left = _clamped_bar((12, 6), 1e-6)
    ds = model.solver
    ds.cache.refresh(model)
    model.set_field("eps", np.full(lat.n_sites, 0.05))
    Kt = ds.current_tangent()
    expect = ds.cache.Kb / 1.05 + sparse.diags(ds.cache.shift)
    assert abs(Kt - expect).max() <= 1e-12 * abs(expect).max()
    assert np.linalg.eigvalsh(Kt.toarray()).min() > 0


@pytest.mark.parametrize("angle", [0.15, 0.3])
def test_a_large_rigid_rotation_is_reached_by_newton_steps(angle):
    """Closed form (frame indifference of the PMB force): with the held columns turned by θ about the bar's
    centre, u = (R(θ) − I)(x − c) is the equilibrium, every bond at its rest length. The reference K
    (small-strain) cannot follow the turn: its steps leave most of the residual and are clipped, which
    used to end in ADR. With the current tangent the Newton steps reach it: no ADR fall-back, and u
    equals the rigid rotation to 1e-6 Δx."""
    dx = 1e-6
    R = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    c = np.array([8 * dx, 4 * dx])
    lat, model, x, left = _clamped_bar((16, 8), dx, lambda xl: (xl - c) @ (R - np.eye(2)).T)
    res = model.relax(1e-10, 100_000)
    stats = model.solver.stats
    assert res.converged
    assert stats.get("adr_fallbacks", 0) == 0
    assert stats.get("tangent_steps", 0) > 0
    exact = (x - c) @ (R - np.eye(2)).T
    assert np.abs(model.field("u") - exact).max() <= 1e-6 * dx
