"""Tests for pdssb.materials: seed values, sources, derived quantities, lookup."""

from __future__ import annotations

import dataclasses
import math

import pytest

from pdssb.materials import LIBRARY, MaterialData, Sourced, get_material

EXPECTED_KEYS = {"LAGP", "LLZO", "LATP", "Li6PS5Cl", "Li", "NCM111", "ECBD"}

SI_UNITS = {
    "youngs_modulus": "Pa",
    "poisson_ratio": "-",
    "density": "kg m^-3",
    "fracture_toughness": "Pa m^0.5",
    "ionic_conductivity": "S m^-1",
    "electronic_conductivity": "S m^-1",
    "yield_stress": "Pa",
    "molar_volume": "m^3 mol^-1",
    "conductivity_activation_energy": "eV",
    "conductivity_reference_temperature": "K",
}


def _sourced_fields(mat: MaterialData):
    for f in dataclasses.fields(mat):
        v = getattr(mat, f.name)
        if isinstance(v, Sourced):
            yield f.name, v


def test_library_keys_exact():
    assert set(LIBRARY) == EXPECTED_KEYS
    for key, mat in LIBRARY.items():
        assert mat.name == key


def test_lagp_equals_seed000_table1_exactly():
    m = LIBRARY["LAGP"]
    assert m.role == "electrolyte"
    assert m.youngs_modulus.value == 120e9
    assert m.poisson_ratio.value == 0.25
    assert m.density.value == 3520.0
    assert m.ionic_conductivity.value == 0.01
    assert m.fracture_toughness.value == 1.1e6
    for s in (m.youngs_modulus, m.poisson_ratio, m.density, m.ionic_conductivity):
        assert "Table 1" in s.source
    assert "LATP" in m.fracture_toughness.source and "assumed" in m.fracture_toughness.source


def test_li_equals_seed000_table1_and_molar_volume():
    li = LIBRARY["Li"]
    assert li.role == "lithium"
    assert li.youngs_modulus.value == 4.9e9
    assert li.poisson_ratio.value == 0.36
    assert li.density.value == 534.0
    assert li.yield_stress.value == 0.4e6
    assert li.electronic_conductivity.value == 1.1e7
    assert li.molar_volume.value == pytest.approx(13.02e-6, rel=1e-12)


@pytest.mark.parametrize("key", sorted(EXPECTED_KEYS))
def test_every_sourced_has_source_unit_and_positive_value(key):
    mat = LIBRARY[key]
    items = list(_sourced_fields(mat))
    assert len(items) >= 3
    for fname, s in items:
        assert isinstance(s.source, str) and s.source.strip(), (key, fname)
        assert s.value > 0.0 and math.isfinite(s.value), (key, fname)
        assert s.unit == SI_UNITS[fname], (key, fname, s.unit)
    assert mat.description.strip()


@pytest.mark.parametrize("key", sorted(EXPECTED_KEYS))
def test_values_in_plausible_si_ranges(key):
    # guards against unit slips (GPa vs Pa, g/cm^3 vs kg/m^3, mS/cm vs S/m)
    m = LIBRARY[key]
    assert 1e9 <= m.youngs_modulus.value <= 1e12
    assert 0.0 < m.poisson_ratio.value < 0.5
    assert 100.0 <= m.density.value <= 20000.0
    if m.fracture_toughness is not None:
        assert 1e4 <= m.fracture_toughness.value <= 1e8
    if m.ionic_conductivity is not None:
        assert 1e-6 <= m.ionic_conductivity.value <= 10.0


def test_electrolytes_have_toughness_and_ionic_conductivity():
    for key in ("LAGP", "LLZO", "LATP", "Li6PS5Cl"):
        m = LIBRARY[key]
        assert m.role == "electrolyte"
        assert m.fracture_toughness is not None
        assert m.ionic_conductivity is not None
        assert m.fracture_energy() > 0.0


def test_composite_cathode_entries_cite_seed003():
    """NCM111's K_IC and the ECBD's stiffness are seed 003's; the values it does not give are marked assumed."""
    ncm, ecbd = LIBRARY["NCM111"], LIBRARY["ECBD"]
    assert ncm.fracture_toughness.value == 0.1e6 and "seed 003" in ncm.fracture_toughness.source
    assert ecbd.youngs_modulus.value == 150e9 and "seed 003" in ecbd.youngs_modulus.source
    assert "assumed" in ncm.youngs_modulus.source
    for s in (ecbd.ionic_conductivity, ecbd.electronic_conductivity):
        assert "assumed" in s.source
    assert ecbd.ionic_conductivity.value < LIBRARY["LLZO"].ionic_conductivity.value
    assert ecbd.role == "electrolyte" and ncm.role == "other"


def test_li_has_no_fracture_toughness():
    li = get_material("Li")
    assert li.fracture_toughness is None
    assert li.fracture_energy() is None
    assert li.fracture_energy("stress") is None


def test_lagp_fracture_energy_plane_strain_matches_formula():
    m = LIBRARY["LAGP"]
    k, e, nu = 1.1e6, 120e9, 0.25
    expected = k**2 * (1.0 - nu**2) / e
    assert expected == pytest.approx(9.453125, rel=1e-12)
    assert m.fracture_energy("strain") == pytest.approx(expected, rel=1e-12)
    assert m.fracture_energy() == pytest.approx(expected, rel=1e-12)
    assert m.fracture_energy("3d") == pytest.approx(expected, rel=1e-12)


def test_fracture_energy_plane_stress_and_bad_plane():
    m = LIBRARY["LAGP"]
    assert m.fracture_energy("stress") == pytest.approx(1.1e6**2 / 120e9, rel=1e-12)
    with pytest.raises(ValueError):
        m.fracture_energy("axisymmetric")


def test_bulk_and_shear_modulus():
    m = LIBRARY["LAGP"]
    assert m.bulk_modulus() == pytest.approx(120e9 / (3 * (1 - 0.5)), rel=1e-12)  # 80 GPa
    assert m.shear_modulus() == pytest.approx(120e9 / 2.5, rel=1e-12)
    li = LIBRARY["Li"]
    assert li.bulk_modulus() == pytest.approx(4.9e9 / (3 * (1 - 0.72)), rel=1e-12)


def test_get_material_alias_and_case():
    assert get_material("LPSCl") is LIBRARY["Li6PS5Cl"]
    assert get_material("Li6PS5Cl") is LIBRARY["Li6PS5Cl"]
    assert get_material("lagp") is LIBRARY["LAGP"]


def test_unknown_material_raises_keyerror_listing_names():
    with pytest.raises(KeyError) as exc:
        get_material("unobtainium")
    msg = str(exc.value)
    for name in ("LAGP", "LLZO", "LATP", "Li6PS5Cl", "LPSCl", "Li"):
        assert name in msg


def test_activation_energy_only_where_sourced():
    lpscl = LIBRARY["Li6PS5Cl"]
    assert lpscl.conductivity_activation_energy.value == 0.40
    assert lpscl.ionic_conductivity.value == pytest.approx(0.165, rel=1e-12)
    for key in ("LAGP", "LLZO", "LATP", "Li", "NCM111", "ECBD"):
        assert LIBRARY[key].conductivity_activation_energy is None


def test_arrhenius_conductivity():
    m = LIBRARY["Li6PS5Cl"]
    t_ref = 298.15
    assert m.ionic_conductivity_at(t_ref) == pytest.approx(0.165, rel=1e-12)
    hot = m.ionic_conductivity_at(333.15)
    kb = 8.617333262e-5
    assert hot == pytest.approx(0.165 * math.exp(-0.40 / kb * (1 / 333.15 - 1 / t_ref)), rel=1e-12)
    assert hot > 0.165
    lagp = LIBRARY["LAGP"]
    assert lagp.ionic_conductivity_at(300.0) == 0.01  # seed 000 Table 1: the model's 300 K
    assert lagp.ionic_conductivity_at(300.4) == 0.01  # within TEMPERATURE_TOLERANCE_K
    with pytest.raises(ValueError):
        lagp.ionic_conductivity_at(298.15)
    with pytest.raises(ValueError):
        lagp.ionic_conductivity_at(350.0)
    with pytest.raises(ValueError):
        LIBRARY["Li"].ionic_conductivity_at(298.15)


def test_sourced_validation_and_immutability():
    with pytest.raises(ValueError):
        Sourced(1.0, "Pa", "")
    with pytest.raises(ValueError):
        Sourced(float("nan"), "Pa", "x")
    s = Sourced(1, "Pa", "x")
    assert isinstance(s.value, float)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.value = 2.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        LIBRARY["LAGP"].youngs_modulus = s  # type: ignore[misc]
