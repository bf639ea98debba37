"""NCM111 open-circuit potential and intercalation constants (electrochem/ocv.py)."""

import math

import numpy as np
import pytest

from pdssb.electrochem.ocv import (
    CUTOFF_HIGH,
    CUTOFF_LOW,
    NCM111,
    Y_MAX,
    Y_MIN,
    ncm111_ocp,
    ncm111_ocp_slope,
    ncm111_stoichiometry,
)
from pdssb.materials import Sourced

F = 96485.33212


def test_transcription_of_the_published_fit():
    """U(y) = 6.0826 − 6.9922y + 7.1062y² − 2.5947y³ − 5.4549·10⁻⁵ exp(124.23y − 114.2593), evaluated by hand at
    y = 0.5 (4.0387 V, the exponential is 10⁻²⁰) and y = 1 (3.6019 − 1.1666 = 2.4353 V)."""
    assert ncm111_ocp(0.5) == pytest.approx(6.0826 - 3.4961 + 1.77655 - 0.3243375, abs=1e-12)
    assert ncm111_ocp(1.0) == pytest.approx(3.6019 - 5.4549e-5 * math.exp(124.23 - 114.2593), abs=1e-12)


def test_monotone_and_inside_the_cutoffs_over_the_papers_window():
    """U falls strictly on the whole fit range; between the paper's initial Li fraction (24.659 pmol in the 5 µm
    particle, y0 = 0.954) and the 4.3 V end of charge it stays inside 3.0–4.3 V."""
    y = np.linspace(Y_MIN, Y_MAX, 4001)
    assert np.all(np.diff(ncm111_ocp(y)) < 0) and np.all(ncm111_ocp_slope(y) < 0)
    y0 = NCM111.stoichiometry(NCM111.initial_concentration.value)
    window = np.linspace(ncm111_stoichiometry(CUTOFF_HIGH), y0, 500)
    u = ncm111_ocp(window)
    assert np.all(u <= CUTOFF_HIGH + 1e-12) and np.all(u > CUTOFF_LOW)
    assert 3.55 < float(ncm111_ocp(y0)) < 3.7


def test_slope_and_inverse():
    """dU/dy equals the centred difference of U; ncm111_stoichiometry inverts U to 1e-12 V."""
    y = np.linspace(0.3, 0.99, 50)
    h = 1e-6
    assert np.allclose(ncm111_ocp_slope(y), (ncm111_ocp(y + h) - ncm111_ocp(y - h)) / (2 * h), rtol=1e-6)
    for u in (3.0, 3.7, 4.1, 4.3):
        assert float(ncm111_ocp(ncm111_stoichiometry(u))) == pytest.approx(u, abs=1e-12)


def test_capacity_between_the_cutoffs_matches_measured_ncm111():
    """The fit's Li window between 4.3 and 3.0 V times the theoretical 277.9 mAh g⁻¹ (F/M, M = 96.46 g mol⁻¹) is
    170 mAh g⁻¹; NCM111 delivers 163 mAh g⁻¹ between 3.0 and 4.3 V at 0.1C (Noh et al., J. Power Sources 233
    (2013) 121): within 6 %."""
    m = 6.94 + (58.693 + 54.938 + 58.933) / 3 + 2 * 15.999
    q_th = F / 3.6 / m
    assert q_th == pytest.approx(277.9, abs=0.1)
    window = ncm111_stoichiometry(CUTOFF_LOW) - ncm111_stoichiometry(CUTOFF_HIGH)
    assert window * q_th == pytest.approx(163.0, rel=0.06)


def test_ncm111_constants():
    """Every constant is Sourced and positive; the seed-003 values are the paper's; c0 is the paper's Li amount
    over the particle volume; tr(θ) = θ11 + θ22 + θ33 = 1, so the volumetric chemical strain is β Δc."""
    for name in ("max_concentration", "diffusivity_ab", "diffusivity_c", "expansion_coefficient",
                 "exchange_current_density", "transfer_coefficient", "initial_concentration"):
        s = getattr(NCM111, name)
        assert isinstance(s, Sourced) and s.value > 0 and s.source.strip()
    assert NCM111.diffusivity_ab.value == 1e-14 and NCM111.diffusivity_c.value == 1e-20
    assert "seed 003" in NCM111.diffusivity_ab.source and "seed 003" in NCM111.expansion_ratio_source
    assert NCM111.expansion_ratios == (1.0, 1.0, -1.0)
    assert NCM111.initial_concentration.value * 4 / 3 * math.pi * (5e-6) ** 3 == pytest.approx(24.659e-12, rel=1e-12)
    assert 48000 < NCM111.max_concentration.value < 51000
    assert NCM111.principal_expansion().sum() == pytest.approx(NCM111.expansion_coefficient.value, rel=1e-12)
    assert np.array_equal(NCM111.principal_diffusivity(), [1e-14, 1e-14, 1e-20])
    window = ncm111_stoichiometry(CUTOFF_LOW) - ncm111_stoichiometry(CUTOFF_HIGH)
    dv = NCM111.expansion_coefficient.value * window * NCM111.max_concentration.value
    assert dv == pytest.approx(0.012, rel=1e-9)


def test_bad_input():
    with pytest.raises(ValueError, match="Li fraction"):
        ncm111_ocp(1.2)
    with pytest.raises(ValueError, match="Li fraction"):
        ncm111_ocp(np.array([0.5, np.nan]))
    with pytest.raises(ValueError, match="outside"):
        ncm111_stoichiometry(6.0)
