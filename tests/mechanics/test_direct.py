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


def _cut(model, lat, st, side):
    """Break every bond whose ends lie on different sides (``side``: padded labels, −1 outside)."""
    idx = lat.interior_index()
    lin = lat.linear_offsets(st)
    bits = model.bits.to_numpy()
    for k in range(st.size):
        cross = (side[idx + lin[k]] != side[idx]) & (side[idx + lin[k]] != -1)
        bits[idx[cross], k >> 5] &= ~np.uint32(1 << (k & 31))
    model.bits.from_numpy(bits)


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
    model.use_solver("direct", "lu")
    if when == "after assembly":
        assert model.relax(1e-8, 100_000).converged
        assert model.solver.stats["shifted_unknowns"] == 0
    # cut at x = 25 dx: clear every bond whose ends lie on opposite sides
    side = lat.scatter((x[:, 0] < 25 * dx).astype(np.int8), fill=-1)
    _cut(model, lat, st, side)
    res = model.relax(1e-8, 100_000)
    assert res.converged
    fragment_sites = int((x[:, 0] >= 25 * dx).sum())
    assert model.solver.stats["shifted_unknowns"] == 2 * fragment_sites
    assert model.solver.stats.get("adr_fallbacks", 0) == 0
    u = model.field("u")
    if when == "before assembly":
        assert np.abs(u[x[:, 0] >= 25 * dx]).max() < 1e-12 * dx  # unloaded fragment: at rest


def _clamped_bar(shape, dx):
    """An unloaded bar clamped at its left end, with the direct solver's K assembled:
    (lattice, stencil, model, solver)."""
    from .bars import elastic_bar

    lat, st, model = elastic_bar(shape, dx)
    x = lat.positions()
    fix = np.zeros(lat.n_sites, np.int32)
    fix[x[:, 0] < 3 * dx] = 3
    zero = np.zeros((lat.n_sites, 2))
    model.set_boundary(fix, zero, zero, zero)
    model.use_solver("direct", "lu")
    model.solver.cache.refresh(model)
    return lat, st, model, model.solver


def _fresh_components(d):
    """The connected components of the stored nonzeros of K (explicit zeros are no edges)."""
    from scipy.sparse.csgraph import connected_components

    G = d.cache.Kb.copy()
    G.eliminate_zeros()
    return connected_components(G, directed=False)


def test_components_kept_between_refreshes_equal_a_fresh_search_while_a_cut_grows():
    """Breaking bonds only removes edges from K's graph, and removing an edge whose ends stay connected
    leaves every connected component as it was (graph theory), so a refresh may keep the previous
    components when each broken bond's ends are still joined through a common neighbour. A cut across
    the bar, made a few bonds per refresh from the bottom up: at every refresh the support shift equals
    the one from a fresh component search of the stored nonzeros; the components are kept while the
    cut's tip has intact bonds ahead of it, searched afresh when the cut closes, and the detached end
    is shifted."""
    dx = 1e-6
    lat, st, model, d = _clamped_bar((40, 12), dx)
    x = lat.positions()
    side = lat.scatter((x[:, 0] < 25 * dx).astype(np.int8), fill=-1)
    height = lat.scatter(np.floor(x[:, 1] / dx).astype(np.int64), fill=-1)
    idx = lat.interior_index()
    lin = lat.linear_offsets(st)
    kept = searched = 0
    calls = []
    joined = d.support.joined
    d.support.joined = lambda broken: calls.append(joined(broken)) or calls[-1]
    for row in range(1, 13):  # the bonds crossing the cut whose midpoints lie below this height
        bits = model.bits.to_numpy()
        for k in range(st.size):
            q = idx + lin[k]
            mid = 0.5 * (height[idx] + height[q])
            cross = (side[q] != side[idx]) & (side[q] != -1) & (mid < row) & (mid >= row - 1)
            bits[idx[cross], k >> 5] &= ~np.uint32(1 << (k & 31))
        model.bits.from_numpy(bits)
        n_calls = len(calls)
        d.cache.refresh(model)
        assert len(calls) == n_calls + 1  # an in-place update: the components were tested for reuse
        kept += calls[-1]
        searched += not calls[-1]
        fresh_n, fresh_label = _fresh_components(d)
        assert d.support._cc[0] == fresh_n
        d_fresh = d.cache.shift.copy()
        d.support._cc = (fresh_n, fresh_label)
        assert np.array_equal(d.support(d.cache.Kb, d.cache.scale, None), d_fresh)
    assert kept >= 6 and searched >= 1
    fragment = int((x[:, 0] >= 25 * dx).sum())
    assert d.stats["shifted_unknowns"] == 2 * fragment


def test_a_block_cut_loose_in_one_refresh_is_found_as_its_own_component():
    """Every bond between a 4 × 4 block of bulk sites and the rest broken at once: each broken bond's
    ends have intact bonds to sites on their own side, but none to a common neighbour (every such
    path crosses the cut), so the components must be searched afresh: the block is then a component
    of its own (two components), as a fresh search of K's stored nonzeros finds, and its 32 unknowns
    (a fragment with rigid-body modes) are shifted."""
    dx = 1e-6
    lat, st, model, d = _clamped_bar((30, 14), dx)
    x = lat.positions()
    before = d.stats["shifted_unknowns"]
    inside = (x[:, 0] > 13 * dx) & (x[:, 0] < 17 * dx) & (x[:, 1] > 5 * dx) & (x[:, 1] < 9 * dx)
    assert inside.sum() == 16
    side = lat.scatter(inside.astype(np.int8), fill=-1)
    _cut(model, lat, st, side)
    d.cache.refresh(model)
    assert _fresh_components(d)[0] == 2
    assert d.support._cc[0] == 2
    assert d.stats["shifted_unknowns"] == before + 32


def test_the_last_site_cut_loose_is_found_though_every_broken_bond_starts_elsewhere():
    """The bar's corner site of highest index, every bond cut: it is the second end of each broken bond
    (the first ends still have intact bonds to common neighbours, but those neighbours' bonds to the
    corner are broken), so only the test of the second end's bonds sees the split. Its two unknowns
    become components of their own (three components, as a fresh search of K's stored nonzeros
    finds), and both are shifted."""
    dx = 1e-6
    lat, st, model, d = _clamped_bar((20, 10), dx)
    x = lat.positions()
    before = d.stats["shifted_unknowns"]
    idx = lat.interior_index()
    lin = lat.linear_offsets(st)
    site = int(idx.max())
    mat = model.mat.to_numpy()
    assert all(mat[site + lin[k]] == 0 for k in np.nonzero(lin > 0)[0])  # no bond starts at it
    bits = model.bits.to_numpy()
    for k in range(st.size):
        back = int(np.nonzero(lin == -lin[k])[0][0])
        bits[site, k >> 5] &= ~np.uint32(1 << (k & 31))
        bits[site + lin[k], back >> 5] &= ~np.uint32(1 << (back & 31))
    model.bits.from_numpy(bits)
    d.cache.refresh(model)
    assert _fresh_components(d)[0] == 3
    assert d.support._cc[0] == 3
    assert d.stats["shifted_unknowns"] == before + 2
