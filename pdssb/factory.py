"""The one place that chooses the simulation a scene needs."""

from __future__ import annotations

from .config.resolve import Setup
from .simulation import Simulation


def make_simulation(setup: Setup, precision: str = "f64") -> Simulation:
    """A CoupledSimulation for a scene with [electrochem], a CathodeSimulation for one with [cathode], else a
    (mechanical) Simulation."""
    if setup.scene.electrochem is not None:
        from .coupled import CoupledSimulation  # its electrochemistry kernels only when needed

        return CoupledSimulation(setup, precision)
    if setup.scene.cathode is not None:
        from .cathode import CathodeSimulation

        return CathodeSimulation(setup, precision)
    return Simulation(setup, precision)
