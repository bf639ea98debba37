"""The step contract of Simulation: steps() yields frozen StepResults and keeps the totals;
record() turns a result into a row and changes no state."""

import dataclasses

import pytest

from pdssb.config.loader import parse_scene_text, validate_scene
from pdssb.config.resolve import resolve
from pdssb.factory import make_simulation
from pdssb.simulation import Simulation

from .scenes import swelling_pit


def test_totals_come_from_stepping_and_record_changes_none():
    sim = make_simulation(resolve(validate_scene(parse_scene_text(swelling_pit()))))
    assert type(sim) is Simulation  # no [electrochem]: the mechanical simulation
    results = list(sim.steps())
    assert [r.step for r in results] == [1, 2, 3, 4] and [r.load for r in results] == [0.25, 0.5, 0.75, 1.0]
    total = sim.bonds_broken_total
    assert total > 0 and total == sum(r.bonds_broken for r in results) == results[-1].bonds_broken_total
    row = sim.record(results[-1])
    assert sim.bonds_broken_total == total and row["bonds_broken_total"] == total and sim.records == [row]
    assert list(row) == sim.columns
    with pytest.raises(dataclasses.FrozenInstanceError):
        results[0].bonds_broken = 0
