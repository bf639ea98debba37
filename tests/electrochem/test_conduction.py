"""Ionic conduction on the bonds: Ohm's law and cracks as insulators (MODEL.md §7.5)."""

import numpy as np
import pytest

from pdssb.electrochem.conduction import Conduction, residual
from pdssb.electrochem.kinetics import KineticsParams
from pdssb.lattice.grid import Lattice
from pdssb.lattice.stencil import Stencil
from pdssb.mechanics.bond_table import MaterialSpec, build_bond_table
from pdssb.mechanics.model import MechanicsModel
from pdssb.mechanics.pmb import site_volume

KAPPA = 0.01  # S m^-1, LAGP


def _slab(width, length=60, method="cg"):
    dx = h = 1e-6
    st = Stencil(2, 3.0)
    lat = Lattice((length, width), dx, halo=st.reach)
    vol = site_volume(dx, 2, h)
    table = build_bond_table([MaterialSpec("se", "electrolyte", 100e9, 0.25, 1000.0, 1.0, "error")], {}, "strain",
                             st, dx, vol, h)
    model = MechanicsModel(lat, st, np.ones(lat.n_sites, np.int32), table, "strain", h, "f64")
    x = lat.positions()
    left, right = x[:, 0] < 3 * dx, x[:, 0] > (length - 3) * dx
    kin = KineticsParams(0, 0.1, 0.5, 0.5, 38.7, 1.0, 0.0, 0.0)
    cond = Conduction(model, np.array([0, 1]), np.full(lat.n_sites, KAPPA), left | right, kin, 1e-11)
    cond.phi.from_numpy(lat.scatter(np.where(left, 1.0, 0.0)))
    if method.startswith("direct"):
        cond.use_direct_solver("amg" if method == "direct-amg" else "lu")
    return model, cond, x, left, dx, h


def _left_current(model, cond, left):
    residual(cond.phi, cond.kappa, model.mat, cond.role, cond.ce, model.bits, *cond._wet(), model.lin, model.xi,
             model.xlen, cond.cw, cond.area, cond.g2, cond.press, cond.kp, cond.r, cond.diag, cond.dli, cond.rabs, 1)
    return -model.lattice.gather(cond.r.to_numpy())[left].sum()


@pytest.mark.parametrize("method", ["cg", "direct", "direct-amg"])
def test_slab_obeys_ohms_law(method):
    """Closed form: a slab carries I = κ A ΔV / L, i.e. R = L/(κA). Measured: the current leaving the
    high-potential electrode against κ A |dφ/dx| in the middle third. Tolerance 1 % (spec).
    Every solver: Jacobi-PCG in Taichi, and the host PCG (solver.method = "direct") preconditioned
    by the sparse LU or by algebraic multigrid."""
    model, cond, x, left, dx, h = _slab(40, method=method)
    out = cond.newton()
    assert out["residual"] < 1e-10
    current = _left_current(model, cond, left)
    phi = model.lattice.gather(cond.phi.to_numpy())
    mid = (x[:, 0] > 20 * dx) & (x[:, 0] < 40 * dx)
    slope = np.polyfit(x[mid, 0], phi[mid], 1)[0]
    assert current == pytest.approx(KAPPA * 40 * dx * h * abs(slope), rel=0.01)
    assert np.std(phi[mid] - np.polyval(np.polyfit(x[mid, 0], phi[mid], 1), x[mid, 0])) < 1e-4


@pytest.mark.parametrize("method", ["cg", "direct", "direct-amg"])
def test_plane_of_broken_bonds_cuts_the_current(method):
    """A crack is an insulator: with every bond across x = L/2 broken, no current flows (to round-off:
    1e-12 of the uncut slab's current), and each half sits at its electrode's potential. The bond
    graph then holds the slab in exactly two pieces (the coupled run's separation check)."""
    model, cond, x, left, dx, h = _slab(20, method=method)
    assert model.pieces(np.ones(model.lattice.n_sites, bool))[0] == 1
    cond.newton()
    intact = _left_current(model, cond, left)
    lat = model.lattice
    bits = model.bits.to_numpy()
    idx = lat.interior_index()
    lin = lat.linear_offsets(model.stencil)
    half = (x[:, 0] < 30 * dx).astype(np.int8)
    half_p = lat.scatter(half, fill=-1)
    for k in range(model.stencil.size):
        crosses = half_p[idx + lin[k]] != half
        crosses &= half_p[idx + lin[k]] != -1
        bits[idx[crosses], k >> 5] &= ~np.uint32(1 << (k & 31))
    model.bits.from_numpy(bits)
    n, labels = model.pieces(np.ones(lat.n_sites, bool))
    assert n == 2 and len(set(labels[half == 1])) == 1 and len(set(labels[half == 0])) == 1
    cond.newton()
    assert abs(_left_current(model, cond, left)) < 1e-12 * intact
    phi = lat.gather(cond.phi.to_numpy())
    assert np.allclose(phi[half == 1], 1.0, atol=1e-12) and np.allclose(phi[half == 0], 0.0, atol=1e-12)
