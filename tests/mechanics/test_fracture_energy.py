"""Fracture energy: breaking every bond across a plane costs G_c (MODEL.md §7.3)."""

import math

import pytest

from pdssb.lattice.stencil import Stencil
from pdssb.mechanics.fracture import critical_stretch, critical_stretch_continuum
from pdssb.mechanics.pmb import bulk_modulus_d, micromodulus, site_volume
from pdssb.verification import fracture_energy


@pytest.mark.parametrize("setting,shape", [("strain", (40, 16)), ("stress", (40, 16)), ("3d", (16, 12))])
def test_energy_to_separate_a_plane_equals_gc(setting, shape):
    """Closed form: G = ∫∫ w_c dV dV over bonds crossing a unit plane = G_c.

    The upper half is opened rigidly in small increments; the break kernel books each bond's
    energy when it passes s0. Only columns more than a horizon from the lateral faces count.
    Every crossing bond must be broken at the end. Tolerance 2 % (spec); the finite increments
    overshoot s0 slightly, so the measured value may only exceed G_c.
    """
    r = fracture_energy(setting, width=shape[0], height=shape[1], steps=2000 if setting != "3d" else 1500)
    assert r["intact_crossing"] == 0
    assert r["energy_per_area"] == pytest.approx(r["expected"], rel=0.02)
    assert r["energy_per_area"] >= r["expected"] * (1 - 1e-9)


@pytest.mark.parametrize("setting", ["3d", "strain", "stress"])
def test_lattice_critical_stretch_approaches_textbook_form(setting):
    """Closed forms: 3D s0 = √(5G_c/(9Kδ)); plane stress √(4πG_c/(9Eδ)); plane strain √(5πG_c/(12Eδ)).

    The lattice-calibrated s0 must converge to them as the horizon holds more sites (m = 4: the
    stencil sum approximates the integral to a few per cent).
    """
    dim = 3 if setting == "3d" else 2
    E, nu = 100e9, (1 / 3 if setting == "stress" else 0.25)
    gc, dx, h = 5.0, 1e-6, 1e-6
    errors = []
    for m in (3.0, 4.0):
        st = Stencil(dim, m)
        vol = site_volume(dx, dim, h if dim == 2 else None)
        c = micromodulus(bulk_modulus_d(E, nu, setting), st, dx, vol)
        s_lat = critical_stretch(gc, c, st, dx, vol, h if dim == 2 else None)
        s_cont = critical_stretch_continuum(gc, E, setting, m * dx)
        errors.append(abs(s_lat / s_cont - 1))
    assert errors[1] < 0.05
    assert math.isfinite(errors[0]) and errors[0] < 0.10
