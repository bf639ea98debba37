"""Benchmarks: bond throughput of the force kernel, on the same problem as LAMMPS peri/pmb.

``pmb-cube`` is ``shared/anchors/lammps/in.pmb_cube``: a simple-cubic (N+1)³ lattice with
spacing 0.5 mm, horizon δ = 3.015 Δx with the LAMMPS neighbour set (|ξ| ≤ δ: 122 bonds for an
interior site), micromodulus c = 1.6863e22 N m⁻⁶, ρ = 2200 kg m⁻³, Gaussian initial velocities
of 1 mm/s, NVE velocity Verlet with Δt = 1e-8 s, no breaking, and, as in LAMMPS, no surface
correction (with it, two thirds of this small cube's sites lie within a horizon of a surface site
and take the general bond loop). The figure of merit is directed
bond evaluations per second: Σ over sites of intact bonds, times steps, over the loop time of
the full Verlet step (forces plus integration), which is what LAMMPS's loop time covers.
"""

from __future__ import annotations

import platform
import time

import numpy as np

from .lattice.grid import Lattice
from .lattice.stencil import Stencil
from .mechanics.bond_table import BondTable

LAMMPS_C = 1.6863e22
SPACING = 0.0005
DENSITY = 2200.0


def pmb_cube(size: int = 40, steps: int = 100, precision: str = "f32", seed: int = 4928459) -> dict:
    from .backend import current
    from .mechanics.model import MechanicsModel

    n = size + 1
    stencil = Stencil(3, 3.015, partial_volume="none", isotropic=False)
    lattice = Lattice((n, n, n), SPACING, halo=stencil.reach)
    table = BondTable(c=np.array([[0.0, 0.0], [0.0, LAMMPS_C]]), s0=np.zeros((2, 2)),
                      rho=np.array([0.0, DENSITY]), effective_youngs=np.zeros(2))
    model = MechanicsModel(lattice, stencil, np.ones(lattice.n_sites, np.int32), table, "3d", None, precision,
                           surface_correction=False)
    rng = np.random.default_rng(seed)
    model.set_field("v", rng.normal(0.0, 1e-3, size=(lattice.n_sites, 3)))
    directed = _directed_bonds(n, stencil)
    dt = 1.0e-8
    t0 = time.perf_counter()
    model.compute_forces()
    model.verlet_step(dt)  # compile (or load from the offline cache) and warm up
    model.u.to_numpy()
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(steps):
        model.verlet_step(dt)
    model.u.to_numpy()  # synchronise
    loop = time.perf_counter() - t0
    return {
        "case": "pmb-cube", "size": size, "sites": lattice.n_sites, "directed_bonds": directed, "steps": steps,
        "precision": precision, "arch": current().get("arch"), "loop_s": loop, "first_step_s": warm,
        "bond_evals_per_s": directed * steps / loop, "machine": platform.node(),
        "processor": platform.processor() or platform.machine(),
    }


def _directed_bonds(n: int, stencil: Stencil) -> int:
    """Directed bonds with both ends inside the cube: Σ_k Π_a (n − |o_ka|) (as LAMMPS's run.sh counts)."""
    return int(sum(np.prod([n - abs(int(c)) for c in o]) for o in stencil.offsets))
