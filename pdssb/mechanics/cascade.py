"""Quasi-static crack growth at fixed load: relax, then let bonds fail and relax again until none does.

Brittle bonds break most-stretched-first (``break_mode = "most_stretched"``: every bond within a
band of the largest stretch ratio, then a new equilibrium) or all at once past s0 (``"all"``).
Softening bonds need no rounds: each relaxation solves for the damage its own stretches imply
(bond_laws.trial_damage), and once the brittle bonds hold, that damage is committed as the bonds'
history. Between loads, :func:`advance` splits a load step so that no bond gains more than a set
damage in one sub-step: damage is irreversible, so the path of the history matters, and a process
zone is followed in small increments of it (the final state then does not depend on the load
steps the scene asked for; tests/mechanics/test_bond_laws.py).

A relaxation that does not reach the tolerance ends the cascade there, unconverged: which bond is the
most stretched is a question only an equilibrium answers, and a bond broken on a state that is not one
is a bond the physics did not break. The caller decides what an unconverged load means (a run ends
there: it raises :class:`NoEquilibrium`, which simulation.Simulation.run reports as the cause).
"""

from dataclasses import dataclass


class NoEquilibrium(RuntimeError):
    """A load at which the equilibrium solver did not reach its tolerance: the run ends there, its last
    good state kept (simulation.Simulation.run)."""

    def __init__(self, result: "CascadeResult", tolerance: float, time_s: float):
        super().__init__(f"no equilibrium at t = {time_s:.6g} s: the residual stayed at {result.residual:.3g} "
                         f"(tolerance {tolerance:g}) after {result.iterations} solver iterations")
        self.result = result


@dataclass(frozen=True)
class CascadeResult:
    iterations: int  # solver iterations over all relaxations
    broken: int  # bonds broken (brittle past s0, softening at d = 1)
    residual: float  # of the last relaxation
    rounds: int  # relaxations after the first
    converged: bool = True  # every relaxation reached the tolerance (else the cascade stopped at the first that did not)


def cascade(model, tolerance: float, max_iterations: int, break_mode: str = "most_stretched",
            band: float = 0.02, max_rounds: int = 100_000) -> CascadeResult:
    """Equilibrium at the model's current load with every bond that fails there failed (module docstring)."""
    m = model
    r = m.relax(tolerance, max_iterations)
    iters, broken, rounds = r.iterations, 0, 0
    for _ in range(max_rounds):
        if not r.converged:
            return CascadeResult(iters, broken, r.residual, rounds, False)
        n = _break_brittle(m, break_mode, band)
        if n == 0:
            break
        broken += n
        r = m.relax(tolerance, max_iterations)
        iters += r.iterations
        rounds += 1
    if not r.converged:
        return CascadeResult(iters, broken, r.residual, rounds, False)
    broken += m.commit_damage()
    return CascadeResult(iters, broken, r.residual, rounds)


#: stretch ratios within this relative distance of the largest are ties (the kernels compare s with
#: ratio·s0, while the largest ratio is read as s/s0: the two roundings differ), broken together
TIE = 1e-9


def _break_brittle(m, break_mode: str, band: float) -> int:
    """Break the brittle bonds past s0 (all of them, or those within ``band`` of the most stretched, ties
    included: with ``band`` 0 the most stretched bond alone)."""
    if break_mode == "all":
        return m.break_bonds(1.0)
    rmax = m.max_stretch_ratio()
    if rmax <= 1.0:
        return 0
    return m.break_bonds(max(1.0, rmax * (1.0 - max(band, TIE))))


def advance(model, apply, lam0: float, lam1: float, tolerance: float, max_iterations: int,
            max_damage_increment: float = 1.0, min_fraction: float = 2.0 ** -12, **cascade_args) -> CascadeResult:
    """From load λ0 to λ1 (``apply(λ)`` sets the model's load for λ), with the cascade at each load, in
    sub-steps that damage no softening bond by more than ``max_damage_increment``: a sub-step past it is
    undone and halved, down to ``min_fraction`` of the step, or until halving no longer softens it (the
    growth is unstable: it runs at the load already reached). Brittle-only bodies take one step. A
    sub-step whose cascade did not converge ends the advance there (its result says so)."""
    m = model
    if not m.softening:
        apply(lam1)
        return cascade(m, tolerance, max_iterations, **cascade_args)
    iters = broken = rounds = 0
    res = 0.0
    lam, h = lam0, lam1 - lam0
    h_min = min_fraction * (lam1 - lam0)
    tried = None
    while lam < lam1:
        h = min(h, lam1 - lam)
        m.save()
        apply(lam + h)
        r = cascade(m, tolerance, max_iterations, **cascade_args)
        if not r.converged:
            return CascadeResult(iters + r.iterations, broken + r.broken, r.residual, rounds + r.rounds, False)
        growth = m.damage_growth()
        if growth > max_damage_increment and h > h_min and not (tried is not None and growth > 0.75 * tried):
            m.restore()
            tried, h = growth, 0.5 * h
            continue
        iters, broken, rounds, res = iters + r.iterations, broken + r.broken, rounds + r.rounds, r.residual
        lam, tried = lam + h, None
        if growth <= 0.25 * max_damage_increment:
            h *= 2.0
    return CascadeResult(iters, broken, res, rounds)
