"""Equilibrium solvers of the quasi-static mechanics, peers behind one interface (as Peridynamics.jl's
``time_solvers/``); :func:`make_solver` picks one from the scene's ``solver.method``.

Every solver has

- ``method``: the scene's name for it;
- ``relax(model, tolerance, max_iterations, check_every) -> RelaxResult``: the model's equilibrium at
  its present load, ‖F‖ ≤ tolerance·‖F_abs‖ on the free components, warm-started from its u;
- ``reset()``: forget what it cached from the bonds (the next relax builds afresh);
- ``state(prefix)`` / ``load(arrays, prefix)``: what a checkpoint needs for a bitwise resume;
- ``stats``: counters over the run (a checkpoint carries them).

The peers: :class:`~.adr.ADRSolver` (adaptive dynamic relaxation in Taichi kernels, any backend),
:class:`~.newton.NewtonSolver` (Newton–PCG on the host factorisation of the bond stiffness:
assembly.py, support.py, factor.py, newton.py) and :class:`~.device.DeviceNewtonSolver` (Newton steps
with matrix-free Jacobi-PCG in Taichi kernels, the scalars on the device). A solver takes the model as an argument and imports
nothing of mechanics/model.py.
"""

from __future__ import annotations

METHODS = ("adr", "direct", "device")


def make_solver(model, method: str = "adr", preconditioner: str = "auto"):
    """The solver of ``solver.method`` for ``model`` (``preconditioner``: the direct method's)."""
    if method == "adr":
        from .adr import ADRSolver

        return ADRSolver()
    if method == "direct":
        from .newton import NewtonSolver

        return NewtonSolver(model, preconditioner=preconditioner)
    if method == "device":
        from .device import DeviceNewtonSolver

        return DeviceNewtonSolver(model)
    raise ValueError(f"unknown equilibrium solver {method!r} (use {', '.join(METHODS)})")
