"""The half-stencil bond loop (each bond evaluated once, chunk colouring; pmb.bond_forces_half and
verlet.step_half) against the full-stencil kernels, on a body with everything the general path
handles: two materials, free surfaces, void sites, eigenstrain on part of the body, broken bonds,
prescribed components and a body force."""

import numpy as np
import pytest

from pdssb.lattice.grid import Lattice
from pdssb.lattice.stencil import Stencil
from pdssb.mechanics.bond_table import BondTable
from pdssb.mechanics.model import MechanicsModel


def _messy_body(dim: int, shape: tuple, prescribe: bool):
    st = Stencil(dim, 3.0)
    lat = Lattice(shape, 1e-6, halo=st.reach)
    rng = np.random.default_rng(7)
    ns = lat.n_sites
    x = lat.positions()
    mat = np.where(x[:, 0] < 0.5 * shape[0] * 1e-6, 1, 2).astype(np.int32)
    mat[rng.random(ns) < 0.03] = 0
    c = np.array([[0, 0, 0], [0, 1e20, 7e19], [0, 7e19, 5e19]])
    table = BondTable(c=c, s0=np.full((3, 3), 0.01), rho=np.array([0, 2000.0, 3000.0]), effective_youngs=np.zeros(3))
    model = MechanicsModel(lat, st, mat, table, "3d" if dim == 3 else "strain", None if dim == 3 else 1e-6, "f64")
    assert model.half_stencil  # the test session runs on the CPU
    model.set_field("u", rng.normal(0, 1e-8, (ns, dim)))
    eps = np.where(rng.random(ns) < 0.2, rng.normal(0, 1e-3, ns), 0.0)
    eps[x[:, 1] < 0.5 * shape[1] * 1e-6] = 0.0  # part of the body eigenstrain-free (the lean chunks)
    model.set_field("eps", eps)
    fix = (rng.random(ns) < 0.05).astype(np.int32) if prescribe else np.zeros(ns, np.int32)
    model.set_boundary(fix, rng.normal(0, 1e-8, (ns, dim)), rng.normal(0, 1e-3, (ns, dim)),
                       rng.normal(0, 1e3, (ns, dim)))
    model.load = 0.7
    assert model.break_bonds(0.3) > 0
    return model, mat


@pytest.mark.parametrize("dim,shape", [(2, (40, 33)), (3, (14, 12, 11))])
def test_half_stencil_momentum_balance(dim, shape):
    """Newton's third law, f_ji = −f_ij: with no prescribed component the bond forces cancel in
    pairs, so Σ_i force_i = load · Σ_i b_i exactly (up to round-off), for any displacement field."""
    model, mat = _messy_body(dim, shape, prescribe=False)
    model.compute_forces(with_abs=True)
    f = model.field("force")[mat != 0]
    b = model.load * model.field("body")[mat != 0]
    scale = np.abs(model.field("fabs")).sum()
    np.testing.assert_allclose(f.sum(axis=0), b.sum(axis=0), rtol=0, atol=1e-12 * scale)


@pytest.mark.parametrize("dim,shape", [(2, (40, 33)), (3, (14, 12, 11))])
def test_half_stencil_matches_full(dim, shape):
    """Σ_j f_ij over each site, and Σ_j |f_ij|, from the half stencil equal the full stencil's to
    round-off; five fused Verlet steps equal five kick–drift / force / kick steps to round-off."""
    model, _ = _messy_body(dim, shape, prescribe=True)
    out = {}
    for half in (False, True):
        model.half_stencil = half
        model.compute_forces(with_abs=True)
        out[half] = model.field("force"), model.field("fabs")
    for a, b in zip(out[False], out[True]):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-13 * np.abs(a).max())
    start = {k: model.field(k) for k in ("u", "v", "force")}
    runs = {}
    for half in (False, True):
        for k, a in start.items():
            model.set_field(k, a)
        model.time = 0.0
        model.half_stencil = half
        for _ in range(5):
            model.verlet_step(1e-10)
        runs[half] = {k: model.field(k) for k in ("u", "v", "force")}
    for k in ("u", "v", "force"):
        a, b = runs[False][k], runs[True][k]
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-13 * np.abs(a).max())
