"""Per-pair bond constants: series springs, which pairs may break, the Poisson policy."""

import numpy as np
import pytest

from pdssb.lattice.stencil import Stencil
from pdssb.mechanics.bond_table import MaterialSpec, build_bond_table
from pdssb.mechanics.pmb import site_volume
from pdssb.verification import bimaterial_bar

SE = MaterialSpec("LAGP", "electrolyte", 120e9, 0.25, 3520.0, 9.45, "error")
LI = MaterialSpec("Li", "lithium", 4.9e9, 0.36, 534.0, None, "match_bulk")
INERT = MaterialSpec("steel", "other", 200e9, 0.25, 7800.0, None, "error")


def _table(interfaces=None):
    st = Stencil(2, 3.0)
    return build_bond_table([SE, LI, INERT], interfaces or {}, "strain", st, 1e-7, site_volume(1e-7, 2, 1e-6), 1e-6)


def test_only_electrolyte_and_interface_bonds_break():
    """SE–SE and SE–Li have s0 > 0; Li–Li and anything with an inert material never break (s0 = 0)."""
    t = _table()
    assert t.s0[1, 1] > 0 and t.s0[1, 2] > 0 and t.s0[2, 1] == t.s0[1, 2]
    assert t.s0[2, 2] == 0 and t.s0[1, 3] == 0 and t.s0[3, 3] == 0 and t.s0[2, 3] == 0


def test_series_spring_micromodulus():
    """Closed form: two springs in series, c_ij = 2 c_i c_j / (c_i + c_j)."""
    t = _table()
    ci, cj = t.c[1, 1], t.c[2, 2]
    assert t.c[1, 2] == pytest.approx(2 * ci * cj / (ci + cj), rel=1e-14)


def test_interface_fracture_energy_override():
    """s0 ∝ √G_c: an interface with a quarter of the fracture energy has half the critical stretch
    of the same pair at full G_c (G_c = ½ c s0² S)."""
    base = _table()
    weak = _table({(1, 2): 9.45 / 4})
    assert weak.s0[1, 2] == pytest.approx(0.5 * base.s0[1, 2], rel=1e-12)
    assert weak.s0[1, 1] == base.s0[1, 1]


def test_li_keeps_its_bulk_modulus():
    """Li (ν = 0.36) is matched by its plane-strain bulk modulus E/(2(1+ν)(1−2ν)); the bond-based body
    then has E_PD = 1.25 κ (ν = 1/4)."""
    t = _table()
    kappa = 4.9e9 / (2 * 1.36 * (1 - 0.72))
    assert t.effective_youngs[2] == pytest.approx(1.25 * kappa, rel=1e-12)


@pytest.mark.parametrize("ratio", [4.0, 0.25])
def test_bimaterial_bar_compliance_adds_in_series(ratio):
    """Closed form (Reuss): a bar of two equal-length halves with moduli E_a, E_b under uniaxial stress
    σ stretches by σL/2 (1/E_a + 1/E_b). The measured effective modulus within 2 %."""
    r = bimaterial_bar(ratio)
    assert r["modulus"] == pytest.approx(r["expected"], rel=0.02)
    assert np.isfinite(r["modulus"])
