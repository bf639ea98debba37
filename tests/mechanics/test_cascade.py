"""The breaking cascade's contract with its equilibrium solver (mechanics/cascade.py)."""

import numpy as np

from .bars import elastic_bar


def _pulled_bar(solver: str):
    """A 30 × 8 bar clamped at its left end, its right end pulled by 5 % of its length: far past the
    critical stretch of the bonds that reach the grips."""
    lat, _, model = elastic_bar((30, 8), 1e-6)
    x = lat.positions()
    fix = np.zeros(lat.n_sites, np.int32)
    ends = (x[:, 0] < 3e-6) | (x[:, 0] > 27e-6)
    fix[ends] = 3
    u = np.zeros((lat.n_sites, 2))
    u[x[:, 0] > 27e-6, 0] = 0.05 * 30e-6
    zero = np.zeros_like(u)
    model.set_boundary(fix, u, zero, zero)
    model.use_solver(solver)
    return model


def test_a_relaxation_short_of_its_tolerance_ends_the_cascade_unbroken():
    """Bonds are broken only on an equilibrium. ADR held to 10 sweeps leaves the grips' bonds stretched
    many times past s0 (s/s0 > 1 is read back below), so a cascade that broke on that state would break
    them; it must instead stop at once, unconverged, with no bond broken and no damage committed."""
    from pdssb.mechanics.cascade import cascade

    model = _pulled_bar("adr")
    r = cascade(model, 1e-6, 10)
    assert not r.converged
    assert r.broken == 0 and r.rounds == 0 and model.broken_bond_count() == 0
    assert r.residual > 1e-6
    assert model.max_stretch_ratio() > 1.0  # the state the cascade declined to break on


def test_the_same_cascade_converged_breaks_the_bonds_past_s0():
    """The control of the test above: given the iterations to reach equilibrium, the same load breaks
    bonds and ends converged with no bond past s0."""
    from pdssb.mechanics.cascade import cascade

    model = _pulled_bar("direct")
    r = cascade(model, 1e-6, 200_000)
    assert r.converged and r.broken > 0 and model.broken_bond_count() == r.broken
    assert model.max_stretch_ratio() <= 1.0
