"""Quasi-static crack growth at fixed load: relax, then let bonds fail and relax again until none does.

Brittle bonds break most-stretched-first (``break_mode = "most_stretched"``: every bond within a
band of the largest stretch ratio, then a new equilibrium) or all at once past s0 (``"all"``).
Softening bonds take their damage in rounds: each relaxation may raise a bond's damage by at most
``damage_step`` over what is stored (bond_laws.trial_damage), the result is committed, and the body
is relaxed again while any bond asks for more than ``damage_tolerance`` more. A process zone that
runs unstably at this load is thus followed in small increments, the most-loaded bonds first, as
the brittle cascade follows a running crack bond by bond; the final state does not depend on how
large the load step before it was (tests/mechanics/test_bond_laws.py).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class CascadeResult:
    iterations: int  # solver iterations over all relaxations
    broken: int  # bonds broken (brittle past s0, softening at d = 1)
    residual: float  # of the last relaxation
    rounds: int  # relaxations after the first


def cascade(model, tolerance: float, max_iterations: int, break_mode: str = "most_stretched",
            band: float = 0.02, max_rounds: int = 100_000, damage_step: float = 1.0,
            damage_tolerance: float = 1e-3) -> CascadeResult:
    """Equilibrium at the model's current load with every bond that fails there failed (module docstring)."""
    m = model
    m.set_damage_cap(damage_step)
    r = m.relax(tolerance, max_iterations)
    iters, broken, rounds = r.iterations, 0, 0
    for _ in range(max_rounds):
        n = _break_brittle(m, break_mode, band)
        if n == 0 and m.softening:
            broken += m.commit_damage()
            if m.damage_increment() <= damage_tolerance:
                break
        elif n == 0:
            break
        broken += n
        r = m.relax(tolerance, max_iterations)
        iters += r.iterations
        rounds += 1
    return CascadeResult(iters, broken, r.residual, rounds)


def _break_brittle(m, break_mode: str, band: float) -> int:
    """Break the brittle bonds past s0 (all of them, or those within ``band`` of the most stretched)."""
    if break_mode == "all":
        return m.break_bonds(1.0)
    rmax = m.max_stretch_ratio()
    if rmax <= 1.0:
        return 0
    return m.break_bonds(max(1.0, rmax * (1.0 - band)))
