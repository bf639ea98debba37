"""Interface kinetics: Butler–Volmer limits, and the full cell solve through the Li interface (§7.6)."""

import numpy as np
import pytest

from pdssb.config.loader import parse_scene_text, validate_scene
from pdssb.config.resolve import resolve
from pdssb.coupled import CoupledSimulation
from pdssb.electrochem.kinetics import KineticsParams
from pdssb.units import FARADAY_C_PER_MOL as F, GAS_CONSTANT_J_PER_MOL_K as R

from ..scenes import clamped

T = 300.0
I0 = 0.1  # A m^-2 = 0.01 mA cm^-2

CELL = '''
[domain]
dim = 2
size = ["6 um", "4.3 um"]
dx = "0.1 um"
thickness = "1 um"
[materials.SE]
base = "LAGP"
ionic_conductivity = "{kappa}"
[materials.Li]
base = "Li"
[[bodies]]
material = "SE"
[[bodies]]
material = "Li"
shape = {{ type = "box", lo = ["0 um", "0 um"], hi = ["6 um", "0.3 um"] }}
''' + clamped('depth = "0.3 um"') + '''[electrochem]
temperature = "300 K"
counter_electrode = "top"
control = {{ mode = "{mode}", value = "{value}" }}
kinetics = {{ model = "{model}", exchange_current_density = "0.01 mA cm^-2", alpha_a = 0.5, alpha_c = 0.5, mechanical_overpotential = false }}
t_end = "1 s"
dt = "0.5 s"
solve_tolerance = 1e-11
'''


def cell(mode="voltage", value="0.001 V", model="butler_volmer", kappa="1e4 S m^-1"):
    scene = validate_scene(parse_scene_text(CELL.format(mode=mode, value=value, model=model, kappa=kappa)))
    return CoupledSimulation(resolve(scene))


def test_linear_regime_charge_transfer_resistance():
    """Closed form: near equilibrium BV is linear with R_ct = RT/(F i0) (α_a + α_c = 1).

    Function level (dI/dη at 0), and through the whole cell: with a highly conducting electrolyte the
    cell current at 1 mV is A·V/R_ct, which also checks the interface area carried by the bonds."""
    k = KineticsParams(0, I0, 0.5, 0.5, F / (R * T), 1.0, 0.0, 0.0)
    eta = 1e-7
    slope = (k.current(eta) - k.current(-eta)) / (2 * eta)
    assert 1.0 / slope == pytest.approx(R * T / (F * I0), rel=1e-6)
    sim = cell()
    state = sim.solve_electrochemistry(0.0)
    area = 6e-6 * 1e-6  # flat Li|SE interface, 6 um × 1 um thickness
    assert state["current"] == pytest.approx(area * 1e-3 / (R * T / (F * I0)), rel=0.01)


def test_tafel_slope_at_large_overpotential():
    """Closed form: at large η, d ln i / dη = α_c F/(RT). Measured from two cell solves at 0.3 and 0.4 V."""
    currents = []
    for v in ("0.3 V", "0.4 V"):
        currents.append(cell(value=v).solve_electrochemistry(0.0)["current"])
    slope = np.log(currents[1] / currents[0]) / 0.1
    assert slope == pytest.approx(0.5 * F / (R * T), rel=0.01)


@pytest.mark.parametrize("model", ["linear", "tafel", "sinh"])
def test_alternative_kinetics(model):
    """Closed forms: linear i = η/R_ct; Tafel i = i0 exp(α_c f η); sinh i = 2 i0 sinh(ᾱ f η)."""
    f = F / (R * T)
    k = KineticsParams({"linear": 1, "tafel": 2, "sinh": 3}[model], I0, 0.5, 0.5, f, 1 / (I0 * f), 0.0, 0.0)
    eta = 0.05
    expected = {"linear": eta * I0 * f, "tafel": I0 * np.exp(0.5 * f * eta), "sinh": 2 * I0 * np.sinh(0.5 * f * eta)}
    assert k.current(eta) == pytest.approx(expected[model], rel=1e-12)


def test_galvanostatic_control_hits_the_set_current():
    """The root-find on the counter-electrode potential delivers the set current to 1e-6 (spec)."""
    sim = cell(mode="current", value="0.5 mA cm^-2", kappa="0.01 S m^-1")
    state = sim.solve_electrochemistry(0.0)
    target = 5.0 * sim.ce_area  # 0.5 mA cm^-2 = 5 A m^-2
    assert state["current"] == pytest.approx(target, rel=1e-6)
    assert sim.cond.counter_electrode_current() == pytest.approx(target, rel=1e-6)
