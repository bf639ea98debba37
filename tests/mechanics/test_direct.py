"""The direct quasi-static solver (sparse factorisation + PCG) against ADR and the closed forms."""

import pytest

from pdssb.verification import uniaxial_tension


def test_direct_tension_recovers_youngs_modulus_and_matches_adr():
    """Closed form: σ_xx/ε_xx = E/(1−ν²) in plane strain (ν = 1/4), within 2 % (spec), as with ADR.

    Both solvers reach the same equilibrium (‖F‖ ≤ 1e-9 ‖F_abs‖), so their moduli agree to 1e-6.
    """
    direct = uniaxial_tension("strain", 30, method="direct")
    adr = uniaxial_tension("strain", 30)
    assert direct["converged"]
    assert direct["modulus"] == pytest.approx(direct["expected"], rel=0.02)
    assert direct["modulus"] == pytest.approx(adr["modulus"], rel=1e-6)
