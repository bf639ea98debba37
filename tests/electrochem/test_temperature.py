"""Temperature: Arrhenius ionic conductivity κ(T) and exchange current i0(T) (docs/scenes.md, [electrochem])."""

import math

import pytest
from typer.testing import CliRunner

from pdssb.cli import app
from pdssb.config.loader import parse_scene_text, validate_scene
from pdssb.config.resolve import conductivity_at, resolve
from pdssb.coupled import CoupledSimulation
from pdssb.electrochem.kinetics import KineticsParams
from pdssb.materials import LIBRARY
from pdssb.units import BOLTZMANN_EV_PER_K as KB
from pdssb.units import FARADAY_C_PER_MOL as F
from pdssb.units import GAS_CONSTANT_J_PER_MOL_K as R

from ..scenes import clamped

CELL = '''
[domain]
dim = 2
size = ["4 um", "3 um"]
dx = "0.1 um"
thickness = "1 um"
[materials.SE]
base = "LAGP"
{se}
[materials.Li]
base = "Li"
[[bodies]]
material = "SE"
[[bodies]]
material = "Li"
shape = {{ type = "box", lo = ["0 um", "0 um"], hi = ["4 um", "0.3 um"] }}
''' + clamped('depth = "0.3 um"') + '''[electrochem]
temperature = "{T}"
counter_electrode = "top"
control = {{ mode = "voltage", value = "0.01 V" }}
kinetics = {{ {kinetics} }}
t_end = "1 s"
dt = "0.5 s"
solve_tolerance = 1e-11
'''
BV = 'model = "butler_volmer", exchange_current_density = "0.01 mA cm^-2", mechanical_overpotential = false'


def arrhenius(x_ref, ea_ev, t, t_ref):
    """Closed form: X(T) = X_ref exp(−E_a/k_B (1/T − 1/T_ref))."""
    return x_ref * math.exp(-ea_ev / KB * (1.0 / t - 1.0 / t_ref))


def scene(se="", t="300 K", kinetics=BV):
    return validate_scene(parse_scene_text(CELL.format(se=se, T=t, kinetics=kinetics)))


def test_conductivity_arrhenius_closed_form():
    """κ(T) = κ_ref exp(−E_a/k_B (1/T − 1/T_ref)): library Li6PS5Cl (0.40 eV, seed 001) and a scene override."""
    lpscl = LIBRARY["Li6PS5Cl"]
    for t in (213.15, 298.15, 333.15, 353.15):
        assert lpscl.ionic_conductivity_at(t) == pytest.approx(arrhenius(0.165, 0.40, t, 298.15), rel=1e-12)
    # the scene route: the override of E_a and T_ref, and the field the conduction solver is given
    s = scene(se='conductivity_activation_energy = "0.30 eV"\nreference_temperature = "25 degC"', t="60 degC")
    setup = resolve(s)
    expected = arrhenius(0.01, 0.30, 333.15, 298.15)
    info = setup.conductivity["SE"]
    assert info["kappa"] == pytest.approx(expected, rel=1e-12)
    assert info["arrhenius_factor"] == pytest.approx(expected / 0.01, rel=1e-12)
    se_sites = setup.material_ids == 1
    assert (setup.kappa[se_sites] == info["kappa"]).all()
    assert (setup.kappa[~se_sites] == 0).all()
    # the saved scene states κ_ref, T_ref and E_a, and reproduces κ(T) on its own
    m = setup.scene.materials["SE"]
    assert (m.ionic_conductivity, m.reference_temperature, m.conductivity_activation_energy) == (0.01, 298.15, 0.30)
    # the function the resolver uses, on the scene entry alone
    assert conductivity_at("SE", s.materials["SE"], 333.15)["kappa"] == pytest.approx(expected, rel=1e-12)
    # kJ/mol is the same activation energy: 0.30 eV = 28.94560 kJ mol^-1
    molar = scene(se='conductivity_activation_energy = "28.94560 kJ mol^-1"\nreference_temperature = "298.15 K"',
                  t="60 degC")
    assert resolve(molar).conductivity["SE"]["kappa"] == pytest.approx(expected, rel=1e-5)


def test_library_reference_temperature_is_kept():
    """LAGP's κ holds at seed 000's 300 K: a run at 300 K needs no activation energy; 300.4 K is within 0.5 K."""
    for t in ("300 K", "300.4 K"):
        setup = resolve(scene(t=t))
        assert setup.conductivity["SE"]["kappa"] == 0.01
        assert setup.conductivity["SE"]["reference_temperature"] == 300.0


def test_exchange_current_arrhenius_closed_form():
    """i0(T) = i0_ref exp(−E_a,i0/k_B (1/T − 1/T_ref)); without E_a,i0, i0 does not depend on T."""
    ea, t_ref = 0.35, 298.15
    kin = scene(kinetics=BV + f', exchange_current_activation_energy = "{ea} eV"').electrochem.kinetics
    assert kin.reference_temperature == t_ref  # the default
    for t in (263.15, 298.15, 300.0, 333.15):
        kp = KineticsParams.from_scene(kin, t, 13.02e-6)
        assert kp.i0 == pytest.approx(arrhenius(0.1, ea, t, t_ref), rel=1e-12)
        assert kp.f == pytest.approx(F / (R * t), rel=1e-14)
        # the default linear R_ct follows i0(T) and f(T)
        assert kp.r_ct == pytest.approx(1.0 / (kp.i0 * kp.f), rel=1e-12)
    kin = scene(kinetics=BV + ', exchange_current_activation_energy = "0.35 eV", reference_temperature = "300 K"'
                ).electrochem.kinetics
    assert KineticsParams.from_scene(kin, 300.0, 13.02e-6).i0 == 0.1
    plain = scene().electrochem.kinetics
    assert KineticsParams.from_scene(plain, 333.15, 13.02e-6).i0 == 0.1


def test_hot_cell_conducts_more_by_the_arrhenius_factor():
    """Ohmic limit: with a negligible, temperature-independent R_ct the cell current scales as κ(T).

    Linear kinetics with R_ct = 1e-5 Ω cm² against an electrolyte resistance of about 2.7 Ω cm²;
    I(60 °C)/I(25 °C) = κ(60 °C)/κ(25 °C) = exp(−E_a/k_B (1/333.15 − 1/298.15)) for E_a = 0.40 eV.
    """
    se = 'conductivity_activation_energy = "0.40 eV"\nreference_temperature = "25 degC"'
    kinetics = ('model = "linear", exchange_current_density = "0.01 mA cm^-2", charge_transfer_resistance = '
                '"1e-5 Ohm cm^2", mechanical_overpotential = false')
    currents = {}
    for t in ("25 degC", "60 degC"):
        sim = CoupledSimulation(resolve(scene(se=se, t=t, kinetics=kinetics)))
        currents[t] = sim.solve_electrochemistry(0.0)["current"]
    factor = arrhenius(1.0, 0.40, 333.15, 298.15)
    assert factor == pytest.approx(5.13, rel=1e-3)
    assert currents["60 degC"] / currents["25 degC"] == pytest.approx(factor, rel=2e-4)


def _check(tmp_path, text):
    path = tmp_path / "cell.toml"
    path.write_text(text)
    res = CliRunner().invoke(app, ["check", str(path)], catch_exceptions=False)
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    return res.exit_code, lines


def test_missing_activation_energy_is_refused(tmp_path):
    """LAGP has no sourced activation energy: at 60 °C its κ is unknown, so the scene is refused (exit 2, one line)."""
    code, lines = _check(tmp_path, CELL.format(se="", T="60 degC", kinetics=BV))
    assert code == 2 and len(lines) == 1, lines
    assert "materials.SE.conductivity_activation_energy" in lines[0]
    assert "333.15 K differs from the 300 K" in lines[0]
    # an explicit activation energy makes it valid
    code, lines = _check(tmp_path, CELL.format(se='conductivity_activation_energy = "0.3 eV"', T="60 degC", kinetics=BV))
    assert code == 0, lines


@pytest.mark.parametrize("se,kinetics,expected", [
    ('conductivity_activation_energy = "0.4 V"', BV, "is not an activation energy"),
    ('conductivity_activation_energy = "-0.1 eV"', BV, "must lie between 0 and 5 eV"),
    ('conductivity_activation_energy = 0.4', BV, "needs an activation energy"),
    ('reference_temperature = "0 K"', BV, "reference_temperature must be positive"),
    ("", BV + ', exchange_current_activation_energy = "12 eV"', "must lie between 0 and 5 eV"),
])
def test_bad_temperature_inputs(tmp_path, se, kinetics, expected):
    code, lines = _check(tmp_path, CELL.format(se=se, T="300 K", kinetics=kinetics))
    assert code == 2 and len(lines) == 1, lines
    assert expected in lines[0]
