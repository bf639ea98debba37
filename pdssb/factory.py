"""The one place that chooses the simulation a scene needs."""

from __future__ import annotations

from .config.resolve import Setup
from .simulation import Simulation


def make_simulation(setup: Setup, precision: str = "f64") -> Simulation:
    """A CoupledSimulation for a scene with [electrochem], else a (mechanical) Simulation."""
    if setup.scene.electrochem is not None:
        from .coupled import CoupledSimulation  # its electrochemistry kernels only when needed

        return CoupledSimulation(setup, precision)
    return Simulation(setup, precision)
