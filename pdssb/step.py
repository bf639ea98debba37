"""What one step of a run hands to its caller: :class:`StepResult`, yielded by ``Simulation.steps``.

The totals (bonds broken, charge, plated volume, time) are updated while stepping; a result is a
read-only account of the step just taken, from which ``Simulation.record`` builds the row of the
time series.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CellSolve:
    """The electrochemistry that drove one coupled step (solved at the step's start)."""

    current_A: float  # plating current through the Li interface
    mean_overpotential_V: float
    cell_voltage_V: float  # the counter electrode's potential against Li
    newton_iterations: int
    cg_iterations: int


@dataclass(frozen=True)
class FailureChecks:
    """The failure checks after one coupled step (coupled.CoupledSimulation.check_failure)."""

    damage_path: bool  # a connected path of damage ≥ threshold spans the cell
    short_circuit: bool  # Li reaches the counter electrode
    crack_depth: bool  # the crack reached the scene's failure depth
    separation: bool  # the electrolyte's bond graph fell into pieces
    depth_m: float  # deepest damaged or Li-filled electrolyte site, from the anode surface
    se_pieces: int  # pieces of the electrolyte holding at least failure.separation of it
    failed: bool  # the run has failed (it stops after this step)


@dataclass(frozen=True)
class StepResult:
    step: int
    time_s: float
    dt_s: float  # Δt of the step (dynamic: of each Verlet step since the last result)
    load: float  # the load factor (quasi-static ramp; 1 in coupled and dynamic runs)
    equilibrium_iterations: int  # mechanics: ADR iterations, or Newton steps (plus any ADR fall-back) of the other solvers
    residual: float  # of the last equilibrium (NaN in dynamic runs)
    bonds_broken: int  # in this step (dynamic: since the last result)
    bonds_broken_total: int
    output_time: bool = False  # the step ends at one of the scene's output times (a snapshot is due)
    cell: CellSolve | None = None  # coupled runs
    failure: FailureChecks | None = None  # coupled runs
