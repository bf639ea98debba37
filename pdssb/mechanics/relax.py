"""What an equilibrium solve returns, whichever solver ran it (mechanics/solvers/)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RelaxResult:
    iterations: int
    residual: float
    converged: bool
