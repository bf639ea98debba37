"""Uniaxial tension: the elastic modulus of the calibrated bond-based body (MODEL.md §7.1)."""

import pytest

from pdssb.verification import uniaxial_tension


@pytest.mark.parametrize("setting,width", [("strain", 30), ("stress", 30), ("3d", 20)])
def test_uniaxial_tension_recovers_youngs_modulus(setting, width):
    """Closed form: σ_xx/ε_xx = E in 3D and plane stress, E/(1−ν²) in plane strain (ν = 1/4).

    A bar with free lateral faces, pulled by its clamped ends; stress from the clamp reaction over
    the cross-section, strain from the slope of u_x in the middle third. Tolerance 2 % (spec).
    The bar is 10 horizons wide in 2D and 6.7 in 3D; the directional surface correction leaves
    an error that falls as δ/W (docs/verification.md).
    """
    r = uniaxial_tension(setting, width)
    assert r["converged"]
    assert r["modulus"] == pytest.approx(r["expected"], rel=0.02)


def test_tension_modulus_error_falls_with_width():
    """The surface error is a boundary-layer effect: doubling the width must roughly halve it."""
    narrow = uniaxial_tension("strain", 16)
    wide = uniaxial_tension("strain", 32)
    e_narrow = abs(narrow["modulus"] / narrow["expected"] - 1)
    e_wide = abs(wide["modulus"] / wide["expected"] - 1)
    assert e_wide < 0.65 * e_narrow
