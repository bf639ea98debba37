"""The coarse seed-000 reproduction: physics that must hold whatever the calibration (issue: seed 000).

A small version of the reference problem (a Li-filled semi-circular pit under a 6 µm × 6 µm LAGP
cross-section, top and bottom fixed, Li as a pressurised fluid that follows cracks) at Δx = 0.3 µm:

- failure time falls monotonically as the applied voltage (and so the plating current) rises;
- a flaw-free surface at the highest voltage does not fracture over the time in which the flawed one fails;
- each flawed run fails, by a Li-filled crack reaching the counter electrode (short circuit) or the
  electrolyte falling apart (separation), and records its time and cause.

The Griffith a^(-1/2) scaling of the Li-filled slit is tests/electrochem/test_griffith.py.
"""

from pathlib import Path

import pytest

from pdssb.config.loader import load_scene
from pdssb.config.resolve import resolve
from pdssb.coupled import CoupledSimulation

SCENE = '''
title = "coarse seed-000 pit"
[domain]
dim = 2
size = ["6 um", "6.6 um"]
dx = "0.3 um"
plane = "strain"
thickness = "1 um"
[materials.LAGP]
base = "LAGP"
fracture_energy = "0.002 J m^-2"
[materials.Li]
base = "Li"
[[interfaces]]
materials = ["LAGP", "Li"]
breakable = false
[[bodies]]
material = "LAGP"
[[bodies]]
material = "Li"
shape = { type = "box", lo = ["0 um", "0 um"], hi = ["6 um", "0.6 um"] }
DEFECT
[regions.top]
face = "+y"
[regions.bottom]
face = "-y"
depth = "0.6 um"
[[boundary]]
region = "top"
kind = "displacement"
value = ["0 um", "0 um"]
[[boundary]]
region = "bottom"
kind = "displacement"
value = ["0 um", "0 um"]
[solver]
method = "direct"
tolerance = 1e-4
[electrochem]
counter_electrode = "top"
control = { mode = "voltage", value = "VOLTAGE" }
kinetics = { model = "butler_volmer", exchange_current_density = "0.01 mA cm^-2" }
deposition = "fluid"
li_follows_crack = 0.35
t_end = "TEND"
dt = "5 s"
max_eigenstrain_increment = 5e-4
[output]
checkpoint = false
'''
PIT = '''[[defects]]
type = "semi_sphere"
face = "-y"
center = ["3 um", "0.6 um"]
radius = "1 um"
fill = "Li"'''


VOLTAGES = (0.135, 0.17, 0.2)


def _run(tmp_path: Path, voltage: str, defect: bool, t_end: float) -> dict:
    text = SCENE.replace("DEFECT", PIT if defect else "").replace("VOLTAGE", voltage).replace("TEND", f"{t_end:g} s")
    path = tmp_path / f"scene_{voltage.split()[0]}_{int(defect)}.toml"
    path.write_text(text)
    sim = CoupledSimulation(resolve(load_scene(path), tmp_path), "f64")
    return sim.run(None)


@pytest.fixture(scope="module")
def flawed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("seed000")
    return {v: _run(tmp, f"{v} V", True, 400.0) for v in VOLTAGES}


def test_failure_time_falls_as_the_current_rises(flawed):
    """Each voltage fails, and a higher voltage (a larger plating current) fails sooner."""
    times = [flawed[v]["failure_time_s"] for v in VOLTAGES]
    assert all(t is not None for t in times), times
    assert all(flawed[v]["failure_cause"] in ("separation", "short_circuit") for v in VOLTAGES)
    assert all(flawed[v]["bonds_broken"] > 100 for v in VOLTAGES)
    assert times[0] > times[1] > times[2]


def test_flaw_free_surface_does_not_fracture(flawed, tmp_path):
    """Without the pit, at the highest voltage and for longer than the flawed run took to fail,
    no bond breaks: a flat Li|LAGP interface plating into the anode loads nothing."""
    t_fail = flawed[VOLTAGES[-1]]["failure_time_s"]
    flat = _run(tmp_path, f"{VOLTAGES[-1]} V", False, 2.0 * t_fail)
    assert flat["failure_cause"] is None
    assert flat["bonds_broken"] == 0
