"""Adaptive dynamic relaxation as an equilibrium solver (``solver.method = "adr"``): the kernels of
mechanics/adr.py driven to ‖F‖ ≤ tol·‖F_abs‖ on the model's own arrays, warm-started from its u. Any
body, any backend; the scalars come to the host once every ``check_every`` sweeps."""

from __future__ import annotations

import numpy as np

from .. import adr
from ..relax import RelaxResult


class ADRSolver:
    """Kilic–Madenci ADR (mechanics/adr.py); it keeps no state between relaxations beyond the model's."""

    method = "adr"

    def __init__(self):
        self.stats: dict[str, int] = {}

    def relax(self, model, tolerance: float, max_iterations: int, check_every: int = 25) -> RelaxResult:
        m = model
        m.impose_boundary()
        m.v.fill(0)  # ADR restarts its fictitious dynamics from rest
        if m.fluid is not None and m.fluid.n_bodies:  # the pressure's stiffness keeps the scheme stable
            m.update_fictitious_density()
            m.lam.from_numpy(m.fluid.stiffen_density(m.lam.to_numpy(), m.fixmask.to_numpy()))
        it, res = 0, float("inf")
        while it < max_iterations:
            m.compute_forces()
            adr.adr_partials(m.u, m.v, m.force, m.force_old, m.lam, m.mat, m.fixmask, m.fabs, m.part, m.dim)
            adr.adr_reduce(m.part, m.stats)
            if it % check_every == 0:
                s = m.stats.to_numpy()
                res = 0.0 if s[3] == 0 else float(np.sqrt(s[3] / s[4])) if s[4] > 0 else float("inf")
                at_rest = s[3] <= m.force_floor2 and s[4] <= m.force_floor2
                if not np.isfinite(res) and not at_rest:
                    raise FloatingPointError("ADR residual is not finite")
                if res <= tolerance or at_rest:
                    return RelaxResult(it, res, True)
            adr.adr_update(m.u, m.v, m.force, m.force_old, m.lam, m.mat, m.fixmask, m.stats, int(it == 0), m.dim)
            it += 1
        return RelaxResult(it, res, False)

    def reset(self) -> None:
        """Nothing is cached between relaxations."""

    def state(self, prefix: str) -> dict[str, np.ndarray]:
        return {}

    def load(self, arrays: dict[str, np.ndarray], prefix: str) -> None:
        """Nothing to restore: the model's arrays are the whole state."""
