"""The direct quasi-static solver (Newton steps on the bond stiffness, preconditioned CG) against ADR
and the closed forms, with either preconditioner (sparse LU, smoothed-aggregation AMG)."""

import numpy as np
import pytest

from pdssb.linalg import AUTO_LU_MAX_UNKNOWNS, preconditioner_kind
from pdssb.verification import uniaxial_tension


def test_direct_tension_recovers_youngs_modulus_and_matches_adr():
    """Closed form: σ_xx/ε_xx = E/(1−ν²) in plane strain (ν = 1/4), within 2 % (spec), as with ADR.

    Both solvers reach the same equilibrium (‖F‖ ≤ 1e-9 ‖F_abs‖), so their moduli agree to 1e-6.
    """
    direct = uniaxial_tension("strain", 30, method="direct", preconditioner="lu")
    adr = uniaxial_tension("strain", 30)
    assert direct["converged"]
    assert direct["modulus"] == pytest.approx(direct["expected"], rel=0.02)
    assert direct["modulus"] == pytest.approx(adr["modulus"], rel=1e-6)


def test_amg_preconditioner_reaches_the_same_equilibrium_as_lu():
    """Closed form E/(1−ν²) (plane strain, ν = 1/4) within 2 %, and the AMG-preconditioned solve
    agrees with the LU-preconditioned one to 1e-6 (both to ‖F‖ ≤ 1e-9 ‖F_abs‖). Neither shifts any
    unknown: the bar is held against every rigid-body mode, so K is the exact tangent."""
    lu = uniaxial_tension("strain", 30, method="direct", preconditioner="lu")
    amg = uniaxial_tension("strain", 30, method="direct", preconditioner="amg")
    assert amg["converged"]
    assert amg["modulus"] == pytest.approx(amg["expected"], rel=0.02)
    assert amg["modulus"] == pytest.approx(lu["modulus"], rel=1e-6)
    assert lu["solver_stats"]["shifted_unknowns"] == amg["solver_stats"]["shifted_unknowns"] == 0
    assert amg["solver_stats"]["cg_iterations"] > 0  # AMG is not exact: CG iterated


def test_newton_steps_do_not_grow_with_the_lattice():
    """With the shift confined to unsupported unknowns, K is the exact small-strain tangent of a held
    body at every size, so Newton needs the same few steps at 20 and 60 sites across (it needed 4, 7
    and 12 at 40², 80², 160² with a uniform shift of 1e-3 of the mean diagonal)."""
    small = uniaxial_tension("strain", 20, method="direct", preconditioner="amg")
    large = uniaxial_tension("strain", 60, method="direct", preconditioner="amg")
    assert small["converged"] and large["converged"]
    assert large["solver_stats"]["outer_iterations"] <= small["solver_stats"]["outer_iterations"] + 1 <= 4


def test_auto_preconditioner_switches_at_the_documented_size():
    assert preconditioner_kind("auto", AUTO_LU_MAX_UNKNOWNS) == "lu"
    assert preconditioner_kind("auto", AUTO_LU_MAX_UNKNOWNS + 1) == "amg"
    assert preconditioner_kind("lu", 10**9) == "lu" and preconditioner_kind("amg", 10) == "amg"


@pytest.mark.parametrize("when", ["before assembly", "after assembly"])
def test_detached_fragment_is_shifted_and_the_body_is_not(when):
    """A bar with every bond across a cut broken: the free end is a fragment with rigid-body modes.
    Exactly its unknowns get the support shift (found from the vanishing Rayleigh quotient of the rigid
    modes on its connected component), the clamped part keeps the exact tangent, and the solve still
    converges (the fragment sits at rest: no load reaches it). "after assembly": the cut is made after a
    first solve, so K is updated incrementally; the connectivity test must see the cut there too
    (csgraph counts stored zeros as edges; SciPy's sparse sum drops the cancelled entries)."""
    from .bars import elastic_bar

    dx = 1e-6
    lat, st, model = elastic_bar((40, 12), dx)
    x = lat.positions()
    fix = np.zeros(lat.n_sites, np.int32)
    left = x[:, 0] < 3 * dx
    fix[left] = 3
    u_bc = np.zeros((lat.n_sites, 2))
    u_bc[left, 1] = 1e-3 * dx
    model.set_boundary(fix, u_bc, np.zeros_like(u_bc), np.zeros_like(u_bc))
    model.use_direct_solver("lu")
    if when == "after assembly":
        assert model.relax(1e-8, 100_000).converged
        assert model.direct.stats["shifted_unknowns"] == 0
    # cut at x = 25 dx: clear every bond whose ends lie on opposite sides
    side = lat.scatter((x[:, 0] < 25 * dx).astype(np.int8), fill=-1)
    idx = lat.interior_index()
    lin = lat.linear_offsets(st)
    bits = model.bits.to_numpy()
    for k in range(st.size):
        cross = (side[idx + lin[k]] != side[idx]) & (side[idx + lin[k]] != -1)
        bits[idx[cross], k >> 5] &= ~np.uint32(1 << (k & 31))
    model.bits.from_numpy(bits)
    res = model.relax(1e-8, 100_000)
    assert res.converged
    fragment_sites = int((x[:, 0] >= 25 * dx).sum())
    assert model.direct.stats["shifted_unknowns"] == 2 * fragment_sites
    assert model.direct.stats.get("adr_fallbacks", 0) == 0
    u = model.field("u")
    if when == "before assembly":
        assert np.abs(u[x[:, 0] >= 25 * dx]).max() < 1e-12 * dx  # unloaded fragment: at rest
