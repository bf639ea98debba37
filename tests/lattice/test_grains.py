"""Polycrystals: Voronoi grains, grain-boundary bonds in the pair table, intergranular fracture ([grains])."""

import numpy as np
import pytest
from scipy.spatial import cKDTree
from typer.testing import CliRunner

from pdssb.cli import app
from pdssb.config.loader import parse_scene_text, validate_scene
from pdssb.config.resolve import resolve
from pdssb.lattice.grains import equivalent_diameter, grain_count
from pdssb.mechanics.fracture import critical_stretch, crossing_sum
from pdssb.simulation import Simulation

BLOCK = '''
[domain]
dim = {dim}
size = {size}
dx = "{dx}"
[materials.SE]
base = "LAGP"
[materials.Li]
base = "Li"
[[bodies]]
material = "SE"
{extra}
[grains]
{grains}
'''
GRAINS = 'material = "SE"\nmean_size = "{d}"\nseed = {seed}\nboundary_stiffness = {fc}\nboundary_strength = {fs}'

BAR = '''
[domain]
dim = 2
size = ["6 um", "1.6 um"]
dx = "0.2 um"
[materials.SE]
base = "LAGP"
[[bodies]]
material = "SE"
[regions.left]
face = "-x"
[regions.right]
face = "+x"
[[boundary]]
region = "left"
kind = "displacement"
value = ["0 um", "0 um"]
[[boundary]]
region = "right"
kind = "displacement"
value = ["{pull}", "0 um"]
[solver]
load_steps = 2
break_mode = "all"
{grains}
'''


def setup_of(grains, dim=2, size='["20 um", "10 um"]', dx="0.2 um", extra=""):
    return resolve(validate_scene(parse_scene_text(BLOCK.format(dim=dim, size=size, dx=dx, extra=extra, grains=grains))))


def bond_pairs(setup):
    """(i, j) interior indices of every stencil bond between two sites of the lattice (each direction)."""
    lat = setup.lattice
    grid = np.arange(lat.n_sites).reshape(lat.shape)
    out = []
    for o in setup.stencil.offsets:
        if any(abs(int(c)) >= n for c, n in zip(o, lat.shape)):
            continue
        src = tuple(slice(max(0, -c), n - max(0, c)) for c, n in zip(o, lat.shape))
        dst = tuple(slice(max(0, c), n - max(0, -c)) for c, n in zip(o, lat.shape))
        out.append(np.stack([grid[src].ravel(), grid[dst].ravel()], axis=1))
    return np.concatenate(out)


def test_deterministic_for_a_seed_and_nearest_centre():
    """The same seed gives the same grains; another seed other grains; each site's grain is its nearest centre."""
    g = GRAINS.format(d="2.8 um", seed=7, fc=0.1, fs=0.1)
    a, b = setup_of(g), setup_of(g)
    assert np.array_equal(a.grain_ids, b.grain_ids) and np.array_equal(a.mechanics_ids, b.mechanics_ids)
    other = setup_of(GRAINS.format(d="2.8 um", seed=8, fc=0.1, fs=0.1))
    assert not np.array_equal(a.grain_ids, other.grain_ids)
    # number of centres N = round(A / (π d²/4)) = round(200 / 6.158) = 32, every one holds sites here
    assert grain_count(np.array([20e-6, 10e-6]), 2.8e-6) == 32 == a.grains.n_grains
    x = a.lattice.positions()
    _, nearest = cKDTree(a.grains.centres).query(x)
    assert np.array_equal(a.grain_ids, nearest + 1)
    # the material ids of the host side are untouched; only the bond ids carry the grain colours
    assert (a.material_ids == 1).all()
    assert set(np.unique(a.mechanics_ids)) == set(a.grains.family())


def test_grain_boundary_bonds_are_exactly_the_bonds_between_grains():
    """Colouring: a bond joins two different ids of the family iff its ends lie in different grains (3D too)."""
    for dim, size, dx, d in ((2, '["20 um", "10 um"]', "0.2 um", "2.8 um"), (3, '["6 um", "6 um", "4 um"]', "0.4 um", "2 um")):
        s = setup_of(GRAINS.format(d=d, seed=1, fc=0.1, fs=0.1), dim=dim, size=size, dx=dx)
        p = bond_pairs(s)
        gb = s.grain_ids[p[:, 0]] != s.grain_ids[p[:, 1]]
        diff = s.mechanics_ids[p[:, 0]] != s.mechanics_ids[p[:, 1]]
        assert gb.any() and (~gb).any()
        assert np.array_equal(gb, diff)
        assert s.grains.n_colours <= (10 if dim == 2 else 30)


def test_mean_grain_size_of_a_large_domain():
    """mean_size is the diameter of the circle of the mean grain area: within 20 % for a 400-grain domain.

    Measured two ways: from the mean grain area (exact up to rounding N) and as the mean of the
    grains' own equivalent diameters (Poisson–Voronoi: a few per cent below, grains cut by faces)."""
    s = setup_of(GRAINS.format(d="10 um", seed=3, fc=1.0, fs=1.0), size='["200 um", "200 um"]', dx="1 um")
    area = np.bincount(s.grain_ids)[1:] * 1e-12
    assert s.grains.n_grains == 509  # round(4e4 um^2 / 78.54 um^2)
    assert equivalent_diameter(area.mean(), 2) == pytest.approx(10e-6, rel=0.02)
    assert equivalent_diameter(area, 2).mean() == pytest.approx(10e-6, rel=0.20)
    s3 = setup_of(GRAINS.format(d="6 um", seed=3, fc=1.0, fs=1.0), dim=3, size='["30 um", "30 um", "30 um"]', dx="1 um")
    vol = np.bincount(s3.grain_ids)[1:] * 1e-18
    assert equivalent_diameter(vol, 3).mean() == pytest.approx(6e-6, rel=0.20)


def test_grain_boundary_constants_in_the_bond_table():
    """c_GB = f_c c, s0_GB = f_s s0 exactly; or s0_GB from the boundary's G_c; other pairs copy the material's."""
    s = setup_of(GRAINS.format(d="2.8 um", seed=1, fc=0.1, fs=0.25),
                 extra='[[bodies]]\nmaterial = "Li"\nshape = { type = "box", lo = ["0 um", "0 um"], hi = ["20 um", "1 um"] }')
    t, fam, li = s.table, s.grains.family(), 2
    c, s0 = t.c[1, 1], t.s0[1, 1]
    assert len(fam) >= 3 and t.c.shape == (3 + len(fam) - 1,) * 2
    for x in fam:
        assert t.c[x, x] == c and t.s0[x, x] == s0
        assert t.c[x, li] == t.c[1, li] and t.s0[x, li] == t.s0[1, li] and t.s0[li, x] == t.s0[li, 1]
        assert t.rho[x] == t.rho[1] and t.effective_youngs[x] == t.effective_youngs[1]
        for y in fam:
            if x != y:
                assert t.c[x, y] == 0.1 * c and t.s0[x, y] == 0.25 * s0
    # read back per bond: every grain-boundary bond of the lattice has the scaled constants
    p = bond_pairs(s)
    ends = s.mechanics_ids[p]
    se = (s.material_ids[p] == 1).all(axis=1)
    gb = se & (s.grain_ids[p[:, 0]] != s.grain_ids[p[:, 1]])
    assert np.all(t.c[ends[gb, 0], ends[gb, 1]] == 0.1 * c) and np.all(t.s0[ends[gb, 0], ends[gb, 1]] == 0.25 * s0)
    assert np.all(t.c[ends[se & ~gb, 0], ends[se & ~gb, 1]] == c)
    # the energy to break a plane of them: G_GB = f_c f_s² G_c
    st, vol = s.stencil, s.volume
    gc = s.materials[0].fracture_energy
    info = t.describe(s.names)["SE grain boundary"]
    assert info["fracture_energy_J_m2"] == pytest.approx(0.1 * 0.25**2 * gc, rel=1e-12)
    assert 0.5 * c * s0**2 * crossing_sum(st, s.lattice.dx, vol, s.thickness) == pytest.approx(gc, rel=1e-12)
    # the boundary's own fracture energy, as an interface's is given
    g = 'material = "SE"\nmean_size = "2.8 um"\nseed = 1\nboundary_stiffness = 0.5\nboundary_fracture_energy = "2 J m^-2"'
    s2 = setup_of(g)
    a, b = s2.grains.family()[:2]
    assert s2.table.c[a, b] == 0.5 * s2.table.c[1, 1]
    assert s2.table.s0[a, b] == critical_stretch(2.0, s2.table.c[a, b], s2.stencil, s2.lattice.dx, s2.volume, s2.thickness)
    assert s2.table.describe(s2.names)["SE grain boundary"]["fracture_energy_J_m2"] == pytest.approx(2.0, rel=1e-12)


def _broken_bonds(setup, sim, bits0):
    """(number of broken directed bonds, how many of them join two grains)."""
    broken = bits0 & ~sim.model.bits.to_numpy()
    lat = setup.lattice
    idx = lat.interior_index()
    lin = lat.linear_offsets(setup.stencil)
    grain = lat.scatter(setup.grain_ids)
    total = across = 0
    for k in range(setup.stencil.size):
        m = ((broken[idx, k >> 5] >> np.uint32(k & 31)) & np.uint32(1)).astype(bool)
        total += int(m.sum())
        across += int((grain[idx[m]] != grain[idx[m] + lin[k]]).sum())
    return total, across


def bar(pull, grains=""):
    setup = resolve(validate_scene(parse_scene_text(BAR.format(pull=pull, grains=grains))))
    sim = Simulation(setup)
    return setup, sim, sim.model.bits.to_numpy().copy()


def test_weak_boundaries_break_intergranular(tmp_path):
    """A bar of two grains pulled to 0.8 % strain: past the boundary's s0 (0.3 × 1.3 %) but below the grains'
    (1.3 %). Every broken bond crosses the boundary, the boundary is cut through, no bond inside a grain breaks.
    The snapshots carry the grain of each site."""
    g = '[grains]\nmaterial = "SE"\nmean_size = "2.4 um"\nseed = 1\nboundary_stiffness = 1.0\nboundary_strength = 0.3'
    setup, sim, bits0 = bar("0.048 um", g)
    grid = setup.grain_ids.reshape(setup.lattice.shape)
    assert setup.grains.n_grains == 2 and set(grid[:4].ravel()) == {2} and set(grid[-4:].ravel()) == {1}
    sim.run(tmp_path / "run")
    total, across = _broken_bonds(setup, sim, bits0)
    assert total > 0 and across == total
    assert sim.model.pieces(setup.material_ids != 0)[0] == 2  # separated along the boundary
    last = sorted((tmp_path / "run" / "snapshots").glob("*.npz"))[-1]
    assert np.array_equal(np.load(last)["grain"], setup.grain_ids)
    # the same pull without grains breaks nothing
    setup, sim, bits0 = bar("0.048 um")
    sim.run(None)
    assert sim.bonds_broken_total == 0


def test_unit_factors_behave_as_without_grains():
    """boundary_stiffness = boundary_strength = 1: the same bonds break and the same displacements result."""
    g = '[grains]\nmaterial = "SE"\nmean_size = "1.2 um"\nseed = 2\nboundary_stiffness = 1.0\nboundary_strength = 1.0'
    results = []
    for grains in ("", g):
        setup, sim, _ = bar("0.12 um", grains)
        sim.run(None)
        results.append((sim.bonds_broken_total, sim.model.field("u"), sim.model.field("dmg")))
    assert results[0][0] > 0 and results[0][0] == results[1][0]
    assert np.array_equal(results[0][1], results[1][1])
    assert np.array_equal(results[0][2], results[1][2])


@pytest.mark.parametrize("grains,expected", [
    (GRAINS.format(d="2.8 um", seed=1, fc=0, fs=0.1), "boundary_stiffness must be a factor in (0, 100], got 0"),
    (GRAINS.format(d="2.8 um", seed=1, fc=0.1, fs=-1), "boundary_strength must be a factor in (0, 100], got -1"),
    (GRAINS.format(d="30 um", seed=1, fc=0.1, fs=0.1), "grains.mean_size: a grain of 30 um is larger than the domain"),
    (GRAINS.format(d="0.3 um", seed=1, fc=0.1, fs=0.1), "grains.mean_size: 0.3 um is under 2 lattice spacings"),
    (GRAINS.format(d="-1 um", seed=1, fc=0.1, fs=0.1), "mean_size must be positive"),
    (GRAINS.format(d="2.8", seed=1, fc=0.1, fs=0.1), "needs a unit"),
    (GRAINS.format(d="2.8 um", seed=-1, fc=0.1, fs=0.1), "seed"),
    (GRAINS.format(d="2.8 um", seed=1, fc=0.1, fs=0.1).replace('"SE"', '"LLZO"'), "grains.material: unknown material 'LLZO'"),
    (GRAINS.format(d="2.8 um", seed=1, fc=0.1, fs=0.1).replace('"SE"', '"Li"'), "grains.material: 'Li' is lithium"),
    (GRAINS.format(d="2.8 um", seed=1, fc=0.1, fs=0.1) + '\nboundary_fracture_energy = "1 J m^-2"',
     "give boundary_strength (a factor on the critical stretch) or boundary_fracture_energy, not both"),
])
def test_bad_grains_one_line_exit_2(tmp_path, grains, expected):
    path = tmp_path / "scene.toml"
    path.write_text(BLOCK.format(dim=2, size='["20 um", "10 um"]', dx="0.2 um", grains=grains,
                                 extra='[[bodies]]\nmaterial = "Li"\nshape = { type = "box", lo = ["0 um", "0 um"], '
                                       'hi = ["20 um", "1 um"] }'))
    res = CliRunner().invoke(app, ["check", str(path)], catch_exceptions=False)
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert res.exit_code == 2 and len(lines) == 1, res.output
    assert expected in lines[0]


def test_coupled_cell_with_grains_conducts_as_without():
    """Grains are mechanical only: the conduction solve sees every grain colour as the electrolyte."""
    from pdssb.coupled import CoupledSimulation

    from ..electrochem.test_temperature import BV, CELL

    currents = []
    for grains in ("", '\n[grains]\nmaterial = "SE"\nmean_size = "1 um"\nseed = 4\nboundary_stiffness = 0.1'):
        s = resolve(validate_scene(parse_scene_text(CELL.format(se="", T="300 K", kinetics=BV) + grains)))
        sim = CoupledSimulation(s)
        currents.append(sim.solve_electrochemistry(0.0)["current"])
        if grains:
            assert len(s.grains.pseudo_ids) >= 2 and len(sim.role_of) == s.table.c.shape[0]
            assert (sim.role_of[s.grains.family()] == sim.role_of[1]).all()
            assert np.array_equal(sim.snapshot_fields()["grain"], s.grain_ids)
    assert currents[0] > 0 and currents[1] == pytest.approx(currents[0], rel=1e-12)
