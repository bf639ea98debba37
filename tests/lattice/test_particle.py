"""The seed-003 cell (lattice/particle.py): grain count and sizes, uniform orientations, seeding, layout, 2D section."""

import math

import numpy as np
import pytest
from scipy import stats

from pdssb.lattice.particle import ECBD, LI, LLZO, NCM, CellSpec, build_cell, make_microstructure
from pdssb.lattice.stencil import Stencil

DX = 0.25e-6


@pytest.fixture(scope="module")
def cell3d():
    return build_cell(CellSpec(seed=3), DX, dim=3)


def test_grain_count_and_sizes(cell3d):
    """53 grains, all present on the lattice, filling the 5 µm sphere (volume within 1 % of 4πa³/3, the
    lattice staircase), with equivalent radii inside seed 003's 0.1–3 µm and the mean grain volume V/53."""
    radii = cell3d.grain_radii()
    assert len(radii) == 53 == len(cell3d.grains_present())
    assert radii.min() >= 0.1e-6 and radii.max() <= 3.0e-6
    v = cell3d.mask(NCM).sum() * DX**3
    assert v == pytest.approx(4 / 3 * math.pi * (5e-6) ** 3, rel=0.01)
    assert np.mean(4 / 3 * math.pi * radii**3) == pytest.approx(v / 53, rel=1e-12)


def test_orientations_uniform_on_so3():
    """Uniform rotations put the c-axis n uniformly on the sphere: E[n nᵀ] = I/3, so the mean of cos² along each
    lab axis is 1/3. cos² has variance 1/5 − 1/9 = 4/45 (σ = 0.298): with N = 20 000 grains the mean lies
    within 4σ/√N = 0.0084 of 1/3. n_z is uniform on [−1, 1] (Archimedes): a Kolmogorov–Smirnov test must not
    reject it at p = 0.001. Every R is proper orthogonal."""
    micro = make_microstructure(CellSpec(grains=20000, seed=17))
    n = micro.c_axes
    tol = 4 * math.sqrt(4 / 45) / math.sqrt(len(n))
    second = n.T @ n / len(n)
    assert np.allclose(np.diag(second), 1 / 3, atol=tol)
    assert np.abs(second - np.diag(np.diag(second))).max() < tol
    assert stats.kstest(n[:, 2], stats.uniform(loc=-1, scale=2).cdf).pvalue > 1e-3
    R = micro.rotations
    assert np.allclose(np.einsum("gki,gkj->gij", R, R), np.eye(3), atol=1e-12)
    assert np.allclose(np.linalg.det(R), 1.0, atol=1e-12)


def test_reproducible_with_seed():
    """A seed fixes the microstructure at every resolution; another seed gives another one."""
    a = build_cell(CellSpec(seed=5), 0.5e-6, dim=3)
    b = build_cell(CellSpec(seed=5), 0.5e-6, dim=3)
    c = build_cell(CellSpec(seed=6), 0.5e-6, dim=3)
    assert np.array_equal(a.grain, b.grain) and np.array_equal(a.material, b.material)
    assert np.array_equal(a.micro.rotations, b.micro.rotations)
    assert not np.array_equal(a.grain, c.grain)
    assert not np.allclose(a.micro.rotations, c.micro.rotations)
    fine = build_cell(CellSpec(seed=5), 0.25e-6, dim=3)
    assert np.array_equal(fine.micro.grain_centres, a.micro.grain_centres)


def test_cell_layout_and_width_from_the_areal_capacity(cell3d):
    """Stacking along x: ECBD around the particle up to 15 µm, LLZO to 20 µm, Li to 21 µm. The 15 µm square
    cross-section is what seed 003's numbers give: the 1C current I = 21.456 pmol·F / 3 103 s over the areal
    capacity 0.295 mAh cm⁻² (a 1-hour current) is W² = I·3600 s / (0.295 mAh cm⁻²)."""
    F = 96485.33212
    current = (24.659 - 3.203) * 1e-12 * F / 3103.0
    width = math.sqrt(current * 3600.0 / (0.295e-3 * 3600.0 / 1e-4))
    assert width == pytest.approx(cell3d.spec.width, rel=0.01)
    x = cell3d.lattice.positions()
    m = cell3d.material
    assert set(np.unique(m)) == {ECBD, NCM, LLZO, LI}
    assert np.all(m[x[:, 0] < 15e-6] != LLZO) and np.all(m[x[:, 0] < 15e-6] != LI)
    assert np.all(m[(x[:, 0] > 15e-6) & (x[:, 0] < 20e-6)] == LLZO)
    assert np.all(m[x[:, 0] > 20e-6] == LI)
    r = np.linalg.norm(x - cell3d.micro.centre, axis=1)
    assert np.array_equal(m == NCM, r < 5e-6)
    assert cell3d.lattice.shape == (84, 60, 60)


def test_section_keeps_3d_grains_and_projects_tensors():
    """The 2D section z = z_c: a disc of radius 5 µm whose sites carry the grain of the nearest 3D centre (so its
    grains are 3D grains with their 3D orientation), and whose tensors are the x–y blocks of R diag(p) Rᵀ."""
    spec = CellSpec(seed=3)
    sec = build_cell(spec, 0.1e-6, dim=2, thickness=0.1e-6)
    x = sec.lattice.positions()
    disc = sec.mask(NCM)
    assert disc.sum() * 0.1e-6**2 == pytest.approx(math.pi * (5e-6) ** 2, rel=0.01)
    pts = np.column_stack([x[disc], np.full(disc.sum(), spec.particle_centre[2])])
    assert np.array_equal(sec.grain[disc], sec.micro.grain_of(pts))
    present = sec.grains_present()
    assert 10 < len(present) < 53
    p = np.array([1e-14, 1e-14, 1e-20])
    t2 = sec.tensors(p)
    t3 = sec.micro.lab_tensors(p)
    assert t2.shape == (53, 2, 2) and np.array_equal(t2, t3[:, :2, :2])
    radii = sec.grain_radii()
    assert radii.min() >= 0.05e-6 and radii.max() <= 3.0e-6


def test_plane_strain_eigenstrain_gives_the_3d_stress():
    """Plane strain (ε_zz = 0): the 2D isotropic law with e* = ε*_xy + ν ε*_zz I gives, for any in-plane strain,
    the in-plane stress of the 3D law σ = λ tr(ε − ε*) I + 2μ (ε − ε*) with the full 3D eigenstrain."""
    sec = build_cell(CellSpec(seed=8), 0.25e-6, dim=2, thickness=0.25e-6)
    E, nu = 150e9, 0.25
    lam, mu = E * nu / ((1 + nu) * (1 - 2 * nu)), E / (2 * (1 + nu))
    theta = np.array([1.0, 1.0, -1.0]) * 4e-7 * -3e4
    e2 = sec.plane_strain_eigenstrain(theta, nu)
    e3 = sec.micro.lab_tensors(theta)
    rng = np.random.default_rng(0)
    for g in range(sec.micro.n_grains):
        eps2 = rng.normal(scale=1e-3, size=(2, 2))
        eps2 = 0.5 * (eps2 + eps2.T)
        eps3 = np.zeros((3, 3))
        eps3[:2, :2] = eps2
        s3 = lam * np.trace(eps3 - e3[g]) * np.eye(3) + 2 * mu * (eps3 - e3[g])
        s2 = lam * np.trace(eps2 - e2[g]) * np.eye(2) + 2 * mu * (eps2 - e2[g])
        assert np.allclose(s2, s3[:2, :2], rtol=0, atol=1e-9 * E * 1e-3)
    with pytest.raises(ValueError, match="2D"):
        build_cell(CellSpec(seed=8), 0.5e-6, dim=3).plane_strain_eigenstrain(theta, nu)


def test_grain_map_separates_adjacent_grains(cell3d):
    """The colour pseudo ids (lattice/grains.py) differ across every grain boundary of the particle, so a bond
    joins two ids of the NCM family exactly when it crosses a grain boundary; the matrix keeps its id."""
    st = Stencil(3, 2)
    gm = cell3d.grain_map(st)
    assert gm.n_grains == 53
    ids = gm.bond_ids.reshape(cell3d.lattice.shape)
    grain = gm.grain_ids.reshape(cell3d.lattice.shape)
    for o in st.offsets[:13]:
        src = tuple(slice(max(0, -c), n - max(0, c)) for c, n in zip(o, ids.shape))
        dst = tuple(slice(max(0, c), n - max(0, -c)) for c, n in zip(o, ids.shape))
        both = (grain[src] > 0) & (grain[dst] > 0)
        across = both & (grain[src] != grain[dst])
        assert np.array_equal(ids[src][both] != ids[dst][both], across[both])
    assert np.all(gm.bond_ids[~cell3d.mask(NCM)] == cell3d.material[~cell3d.mask(NCM)])


def test_bad_input():
    with pytest.raises(ValueError, match="fit"):
        CellSpec(width=8e-6)
    with pytest.raises(ValueError, match="thickness"):
        build_cell(CellSpec(), DX, dim=2)
    with pytest.raises(ValueError, match="grain"):
        CellSpec(grains=0)
