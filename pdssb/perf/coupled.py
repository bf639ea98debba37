"""Time to failure of a coupled run: the seed-000 scenes at a chosen lattice spacing (``pdssb bench --case
coupled``).

A scene (by default ``scenes/seed000_<geometry>.toml``) is read with ``domain.dx`` set to the spacing asked
for, optionally its solver method and end time changed, and run to failure (or its end) without a run
folder. The figures: the wall time of the run (``wall_s``, set-up of the simulation included, Taichi's
start excluded), the sites, the failure time and cause, the coupled steps, the bonds broken, and the
equilibrium solves (``MechanicsModel.equilibrium_solves``: calls of ``relax``, over every cascade round
and root-find evaluation), which with the steps tell where the time goes.
"""

from __future__ import annotations

import time
from pathlib import Path

GEOMETRIES = ("semi_sphere", "cube", "pyramid", "semi_ellipsoid")
SCENES = Path(__file__).resolve().parents[2] / "scenes"


def scene_path(geometry: str) -> Path:
    return SCENES / f"seed000_{geometry}.toml"


def coupled_bench(scene: Path, dx_um: float, method: str | None = None, t_end_s: float | None = None,
                  arch: str = "auto") -> dict:
    """Run ``scene`` at Δx = ``dx_um`` µm to failure; the figures of the module docstring."""
    from .. import backend
    from ..api import load_scene
    from ..config.resolve import resolve
    from ..factory import make_simulation

    overrides = {"domain.dx": f"{dx_um} um"}
    if method is not None:
        overrides["solver.method"] = method
    if t_end_s is not None:
        overrides["electrochem.t_end"] = f"{t_end_s} s"
    sc = load_scene(scene, **overrides)
    setup = resolve(sc, scene.parent)
    precision = sc.solver.precision
    used = backend.init(arch, precision)
    t0 = time.perf_counter()
    sim = make_simulation(setup, precision)
    summary = sim.run(None)
    wall = time.perf_counter() - t0
    return {
        "case": "coupled", "scene": str(scene), "dx_um": dx_um, "sites": setup.lattice.n_sites,
        "method": sc.solver.method, "precision": precision, "arch": used, "status": summary["status"],
        "wall_s": wall, "failure_time_s": summary.get("failure_time_s"), "failure_cause": summary.get("failure_cause"),
        "time_s": summary.get("time_s"), "steps": summary["steps"], "bonds_broken": summary["bonds_broken"],
        "equilibrium_solves": sim.model.equilibrium_solves,
        **({"solver": summary["solver"]} if "solver" in summary else {}),
    }
