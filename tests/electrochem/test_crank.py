"""Crank's closed forms (electrochem/crank.py) against their own limits and short-time expansions."""

import numpy as np

from pdssb.electrochem.crank import (
    centre_cylinder_constant_flux,
    centre_sphere_constant_flux,
    uptake_cylinder_constant,
    uptake_cylinder_resistance,
    uptake_sphere_constant,
    uptake_sphere_resistance,
)


def test_short_time_expansions():
    """Small τ: sphere M_t/M_∞ = 6√(τ/π) − 3τ (Crank eq. 6.21), cylinder 4√(τ/π) − τ (Crank eq. 5.24's leading
    terms, next term O(τ^{3/2}))."""
    tau = np.array([1e-4, 1e-3])
    assert np.allclose(uptake_sphere_constant(tau), 6 * np.sqrt(tau / np.pi) - 3 * tau, rtol=1e-6)
    assert np.allclose(uptake_cylinder_constant(tau), 4 * np.sqrt(tau / np.pi) - tau, rtol=3e-3)


def test_resistance_series_tend_to_constant_concentration_and_to_linear_uptake():
    """L → ∞ recovers eqs. 6.20 / 5.23; at small L the surface resistance controls, M_t/M_∞ ≈ (d·L) τ with
    d = 3 (sphere) or 2 (cylinder) while the body is nearly uniform; both go to 1 at long times."""
    tau = np.array([0.05, 0.2, 0.5])
    assert np.allclose(uptake_sphere_resistance(tau, 1e5), uptake_sphere_constant(tau), atol=1e-4)
    assert np.allclose(uptake_cylinder_resistance(tau, 1e5), uptake_cylinder_constant(tau), atol=1e-4)
    small = np.array([1e-3, 2e-3])
    assert np.allclose(uptake_sphere_resistance(small, 0.01), 3 * 0.01 * small, rtol=2e-3)
    assert np.allclose(uptake_cylinder_resistance(small, 0.01), 2 * 0.01 * small, rtol=2e-3)
    late = np.array([20.0])
    assert abs(uptake_sphere_resistance(late, 2.0)[0] - 1) < 1e-9
    assert abs(uptake_cylinder_resistance(late, 2.0)[0] - 1) < 1e-9


def test_constant_flux_centre_starts_at_zero_and_grows_at_the_mean_rate():
    """The centre starts at 0 (the series sums to 3/10 and 1/4 at τ = 0, to the truncation of the slowly
    converging τ = 0 series) and, once the modes have decayed, grows as the mean: 3τ − 3/10 and 2τ − 1/4."""
    assert abs(centre_sphere_constant_flux(np.array([1e-3]))[0]) < 1e-4
    assert abs(centre_cylinder_constant_flux(np.array([1e-3]))[0]) < 1e-4
    assert np.allclose(centre_sphere_constant_flux(np.array([3.0])), 3 * 3.0 - 0.3, atol=1e-12)
    assert np.allclose(centre_cylinder_constant_flux(np.array([3.0])), 2 * 3.0 - 0.25, atol=1e-12)
