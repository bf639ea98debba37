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

from ..scenes import li_pit

VOLTAGES = (0.135, 0.17, 0.2)


def _run(tmp_path: Path, voltage: str, defect: bool, t_end: float) -> dict:
    text = li_pit(title="coarse seed-000 pit", dx_um=0.3, fracture_energy="0.002 J m^-2", tolerance=1e-4,
                  voltage=voltage, t_end=f"{t_end:g} s", defect=defect, output="[output]\ncheckpoint = false\n")
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
