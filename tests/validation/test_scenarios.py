"""The scenario library's files and measures (docs/validation.md, scenario library).

The scenario runs themselves are long (`pdssb validate scenarios`); what CI checks here is that every
scenario file in the repository validates as a sweep, with one label per case, and that the crack
measures mean what the report says they mean.
"""

from pathlib import Path

import numpy as np
import pytest

from pdssb.sweep.spec import load_sweep
from pdssb.validation.scenarios import SCENARIOS, crack_angle

SCENES = Path(__file__).resolve().parents[2] / "scenes"


@pytest.mark.parametrize("name", [n for n, s in SCENARIOS.items() if s.sweep])
def test_every_scenario_sweep_validates_with_one_label_per_case(name):
    """Each scenario's sweep file loads, every case validates and resolves (as `pdssb check`), and the
    report's labels line up with the cases one to one."""
    sc = SCENARIOS[name]
    sweep = load_sweep(SCENES / sc.sweep)
    assert len(sweep.cases) == len(sc.labels)
    assert len({c.hash for c in sweep.cases}) == len(sweep.cases)


@pytest.mark.parametrize("theta", [0.0, 20.0, 45.0, 70.0])
def test_crack_angle_of_a_symmetric_v_is_its_half_angle(theta):
    """Closed form: two straight cracks leaving the crown at ±θ from the interface normal have
    mean angle θ (0° straight into the electrolyte, 90° along the interface)."""
    r = np.linspace(0.2, 3.0, 30)
    t = np.radians(theta)
    crown = np.array([3.0, 1.6])
    pts = np.concatenate([np.stack([crown[0] + s * r * np.sin(t), crown[1] + r * np.cos(t)], axis=1)
                          for s in (-1, 1)])
    assert crack_angle(pts, crown) == pytest.approx(theta, abs=1e-9)
