"""What an equilibrium solve returns, whichever solver ran it (ADR in model.py, Newton–PCG in direct.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RelaxResult:
    iterations: int
    residual: float
    converged: bool
