"""Linear scaling of the solvers: wall time of one conduction solve and one mechanical equilibrium
solve at three sizes, per site, and the fitted exponent (time ∝ sites^p; p = 1 is linear).

The problem is the generated 2D coupled cell (perf/scenes.py): n × n sites, Δx = 0.1 µm, m = 3.
- conduction: Newton on the Butler–Volmer terms from φ = 0 at the seed-000 voltage (0.135 V), with
  the Jacobi-PCG in Taichi (``pcg``, the ``adr`` scenes' solver) and with the host PCG of the
  ``direct`` method preconditioned by SuperLU (``lu``) or smoothed-aggregation AMG (``amg``): the
  first solve, which includes the assembly and the preconditioner's set-up;
- mechanics: equilibrium from u = 0 with the top face pulled up by 0.002 µm = 0.02 Δx at every size
  (no breaking; below the direct method's 5 %-of-Δx step limit, so no Newton step is damped), with
  ADR, with the direct method (assembly, preconditioner, Newton–PCG on the host) with either
  preconditioner, and with the device method (Newton with matrix-free Jacobi-PCG in Taichi kernels),
  to the tolerance 1e-4.
Each is timed ``repeat`` times (best wall time kept; its process CPU time too, which a shared machine
disturbs less) after a warm-up solve on the smallest size (kernels compiled or loaded).
"""

from __future__ import annotations

import time

import numpy as np

DEFAULT_SIZES = (40, 80, 160)
SOLVERS = ("conduction/pcg", "conduction/lu", "conduction/amg", "mechanics/adr", "mechanics/lu", "mechanics/amg",
           "mechanics/device")


def _sim(n: int, precision: str):
    from ..coupled import CoupledSimulation
    from .scenes import coupled_scene, setup_of

    setup = setup_of(coupled_scene(2, n, top_displacement_um=0.002, precision=precision), precision)
    return CoupledSimulation(setup, precision), setup


def _conduction(sim, method: str) -> tuple[float, dict]:
    c = sim.cond
    c.direct = None
    if method != "pcg":
        c.use_direct_solver(method)
    c.phi.fill(0)
    t0, c0 = time.perf_counter(), time.process_time()
    _, counts = sim.solve_at(sim.phi_ce)
    out = dict(counts, cpu_s=time.process_time() - c0)
    if c.direct is not None:
        out.update({"host " + k: v for k, v in c.direct.stats.items()})
    return time.perf_counter() - t0, out


def _mechanics(sim, method: str, tolerance: float, max_iterations: int) -> tuple[float, dict]:
    m = sim.model
    if method in ("adr", "device"):
        m.use_solver(method)
    else:
        m.use_solver("direct", method)
    m.load = 1.0
    m.u.fill(0)
    m.v.fill(0)
    t0, c0 = time.perf_counter(), time.process_time()
    r = m.relax(tolerance, max_iterations)
    out = dict(iterations=r.iterations, residual=r.residual, converged=r.converged, cpu_s=time.process_time() - c0)
    out.update(m.solver.stats)
    return time.perf_counter() - t0, out


def exponent(sites, times) -> float:
    """Least-squares slope of log(time) against log(sites)."""
    return float(np.polyfit(np.log(np.asarray(sites, float)), np.log(np.asarray(times, float)), 1)[0])


def scaling_bench(sizes=DEFAULT_SIZES, precision: str = "f64", tolerance: float = 1e-4,
                  max_iterations: int = 2_000_000, repeat: int = 3, progress=None, solvers=SOLVERS) -> dict:
    cases = [tuple(name.split("/")) for name in solvers]
    warm, _ = _sim(min(sizes), precision)  # compile / load every kernel before timing
    for what, method in cases:
        (_conduction(warm, method) if what == "conduction" else _mechanics(warm, method, tolerance, max_iterations))
    del warm
    rows = []
    for n in sizes:
        sim, setup = _sim(n, precision)
        for what, method in cases:
            runs = [_conduction(sim, method) if what == "conduction" else
                    _mechanics(sim, method, tolerance, max_iterations) for _ in range(repeat)]
            t, info = min(runs, key=lambda r: r[0])
            row = dict(solve=what, method=method, n=n, sites=setup.lattice.n_sites, seconds=t,
                       us_per_site=1e6 * t / setup.lattice.n_sites, cpu_s=info["cpu_s"],
                       all_seconds=[r[0] for r in runs], info=info)
            rows.append(row)
            if progress is not None:
                progress(row)
        del sim
    fits = {}
    for what, method in cases:
        sel = [r for r in rows if r["solve"] == what and r["method"] == method]
        fits[f"{what}/{method}"] = exponent([r["sites"] for r in sel], [r["seconds"] for r in sel])
        fits[f"{what}/{method} (cpu time)"] = exponent([r["sites"] for r in sel], [r["cpu_s"] for r in sel])
    return dict(precision=precision, tolerance=tolerance, repeat=repeat, rows=rows, exponents=fits)
