"""Bad coupled scenes: one line naming the problem, exit code 2 (issue: coupling, bad input)."""

import pytest
from typer.testing import CliRunner

from pdssb.cli import app

from .test_kinetics import CELL

GOOD = CELL.format(mode="voltage", value="0.135 V", model="butler_volmer", kappa="0.01 S m^-1")

CASES = {
    "no interface": (GOOD.replace('[[bodies]]\nmaterial = "Li"', '[[bodies]]\nmaterial = "SE"'),
                     "electrochem: the scene has no Li|electrolyte interface"),
    "counter electrode off the electrolyte": (GOOD.replace('counter_electrode = "top"', 'counter_electrode = "bottom"')
                                              .replace('[regions.bottom]\nface = "-y"\ndepth = "0.3 um"',
                                                       '[regions.bottom]\nface = "-y"\ndepth = "0.3 um"\nmaterial = "Li"'),
                                              "electrochem.counter_electrode: the counter electrode does not touch the electrolyte"),
    "zero i0": (GOOD.replace('exchange_current_density = "0.01 mA cm^-2"', 'exchange_current_density = "0 mA cm^-2"'),
                "exchange_current_density must be positive"),
    "negative i0": (GOOD.replace('exchange_current_density = "0.01 mA cm^-2"', 'exchange_current_density = "-1 mA cm^-2"'),
                    "exchange_current_density must be positive"),
    "zero conductivity": (GOOD.replace('ionic_conductivity = "0.01 S m^-1"', 'ionic_conductivity = "0 S m^-1"'),
                          "materials.SE: ionic_conductivity must be positive"),
    "negative temperature": (GOOD.replace('temperature = "300 K"', 'temperature = "-5 K"'), "temperature must be positive"),
    "zero temperature": (GOOD.replace('temperature = "300 K"', 'temperature = "0 K"'), "temperature must be positive"),
    "schedule not monotonic": (GOOD.replace('control = { mode = "voltage", value = "0.135 V" }',
                                            'control = { mode = "current", schedule = [["0 s", "1 mA cm^-2"], ["5 s", "0 mA cm^-2"], ["2 s", "1 mA cm^-2"]] }'),
                               "schedule times must increase strictly"),
    "failure length under the spacing": (GOOD + '[electrochem.failure]\nlength = "0.05 um"\n',
                                         "electrochem.failure.length: 0.05 um is shorter than the lattice spacing (0.1 um)"),
    "negative failure length": (GOOD + '[electrochem.failure]\nlength = "-1 um"\n', "length must be positive"),
    "current in volts": (GOOD.replace('control = { mode = "voltage", value = "0.135 V" }',
                                      'control = { mode = "current", value = "0.135 V" }'),
                         "is not a current density"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_coupled_scene(name, tmp_path):
    text, expected = CASES[name]
    scene = tmp_path / "cell.toml"
    scene.write_text(text)
    res = CliRunner().invoke(app, ["check", str(scene)], catch_exceptions=False)
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1, res.output
    assert expected in lines[0]


def test_good_cell_passes(tmp_path):
    scene = tmp_path / "cell.toml"
    scene.write_text(GOOD)
    res = CliRunner().invoke(app, ["check", str(scene)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
