"""The unit grammar of scene quantities: SI conversion, dimension checks, no evaluation."""

import math

import pytest

from pdssb.units import UnitError, format_quantity, parse_quantity, parse_temperature


@pytest.mark.parametrize("text,kind,si", [
    ("0.05 um", "length", 0.05e-6),
    ("0.05 µm", "length", 0.05e-6),
    ("120 GPa", "pressure", 120e9),
    ("9.45 J m^-2", "energy_per_area", 9.45),
    ("9.45 J/m^2", "energy_per_area", 9.45),
    ("1.1 MPa m^0.5", "toughness", 1.1e6),
    ("1.1 MPa m^(1/2)", "toughness", 1.1e6),
    ("0.14 mA cm^-2", "current_density", 1.4),
    ("0.14 mA/cm^2", "current_density", 1.4),
    ("3.52 g cm^-3", "density", 3520.0),
    ("0.01 S m^-1", "conductivity", 0.01),
    ("13.02 cm^3 mol^-1", "molar_volume", 13.02e-6),
    ("4.4 mAh", "charge", 4.4 * 3.6),
    ("12 s", "time", 12.0),
    ("2 min", "time", 120.0),
])
def test_parse_to_si(text, kind, si):
    assert parse_quantity(text, kind) == pytest.approx(si, rel=1e-12)


@pytest.mark.parametrize("text,kind", [
    ("10 MPa", "length"), ("10", "length"), ("10 furlongs", "length"), ("1e999 um", "length"),
    ("__import__('os') um", "length"), ("2**30 um", "length"), ("1 um/s/s", "velocity"), ("nan um", "length"),
])
def test_refuses_wrong_or_unreadable_units(text, kind):
    with pytest.raises(UnitError):
        parse_quantity(text, kind)


def test_bare_number_needs_unit_and_message_suggests_one():
    with pytest.raises(UnitError, match="needs a unit, e.g. '0.1 um'"):
        parse_quantity(0.1, "length")


def test_round_trip_formatting():
    for v, unit, kind in ((1.234e-7, "um", "length"), (1.2e11, "GPa", "pressure"), (9.453125, "J m^-2", "energy_per_area")):
        assert parse_quantity(format_quantity(v, unit), kind) == pytest.approx(v, rel=1e-11)


def test_temperature():
    assert parse_temperature("300 K") == 300.0
    assert parse_temperature("25 degC") == pytest.approx(298.15)
    with pytest.raises(UnitError):
        parse_temperature("300 um")
    assert math.isfinite(parse_temperature("0 K"))
