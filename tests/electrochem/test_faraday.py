"""Faraday mass balance of the coupled step (MODEL.md §7.7), and the coupled run as a whole."""

import numpy as np
import pytest

from pdssb.config.loader import parse_scene_text, validate_scene
from pdssb.config.resolve import resolve
from pdssb.coupled import CoupledSimulation
from pdssb.units import FARADAY_C_PER_MOL, LI_MOLAR_VOLUME_M3_PER_MOL

from .test_kinetics import CELL

PIT = '''
[[defects]]
type = "semi_sphere"
face = "-y"
center = ["3 um", "0.3 um"]
radius = "0.8 um"
fill = "Li"
'''


@pytest.mark.parametrize("deposition", ["local", "fluid"])
def test_inserted_volume_equals_charge_times_molar_volume(deposition):
    """Closed form: inserted Li volume = ∫ I dt · Ω_Li / F, to 1e-9 relative (spec), in both deposition
    modes; the plated volume is split between the pit (eigenstrain) and the anode reservoir."""
    text = CELL.format(mode="voltage", value="0.135 V", model="butler_volmer", kappa="0.01 S m^-1")
    text = text.replace('t_end = "1 s"\ndt = "0.5 s"', f't_end = "40 s"\ndt = "10 s"\ndeposition = "{deposition}"')
    sim = CoupledSimulation(resolve(validate_scene(parse_scene_text(text + PIT))))
    charge = 0.0
    for result in sim.steps():
        sim.record(result)
        charge += result.cell.current_A * result.dt_s
    inserted = sim.li_added.sum() + sim.reservoir
    assert charge == pytest.approx(sim.charge, rel=1e-12)
    assert inserted == pytest.approx(charge * LI_MOLAR_VOLUME_M3_PER_MOL / FARADAY_C_PER_MOL, rel=1e-9)
    assert sim.li_added.sum() > 0 and sim.reservoir > 0
    li = sim.role_of[sim.ids] == 2
    eps = sim.model.field("eps")
    assert np.all(eps[li & sim.free] >= 0) and eps[li].max() > 0
    if deposition == "fluid":  # the free Li of the pit shares one eigenstrain
        pit = li & sim.free
        assert np.ptp(eps[pit]) < 1e-12 * eps[pit].max()
