"""Measure the local-relaxation lever of issue 17 on a coupled scene (docs/benchmarks.md, "Local window").

After every ``--every``-th cascade round that breaks bonds, the state is the last equilibrium with the
new breaks. This takes the small-strain stiffness K with those breaks, the force residual F, and, for
windows of radius r·Δx around the sites whose bonds broke, solves K_WW δu_W = F_W with everything
outside the window held. It prints one JSON line per round: the relative residual ‖F‖/‖F_abs‖ before,
and after each window's solve the global residual ‖F − K_:W δu_W‖/‖F_abs‖, the quantity the solver's
tolerance bounds. A window whose residual is under the tolerance would spare that round's global solve.

    python tools/local_window.py scenes/seed000_semi_sphere.toml --every 60 --samples 12
"""

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.sparse import linalg as spla
from scipy.spatial import cKDTree

RADII = (2, 4, 8, 16, 32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scene", type=Path)
    ap.add_argument("--every", type=int, default=60, help="analyse every N-th round that breaks bonds")
    ap.add_argument("--samples", type=int, default=12, help="stop after this many analysed rounds")
    args = ap.parse_args()

    from pdssb import backend
    backend.init("cpu", "f64")
    from pdssb.config.loader import load_scene
    from pdssb.config.resolve import resolve
    from pdssb.coupled import CoupledSimulation

    sim = CoupledSimulation(resolve(load_scene(args.scene), args.scene.parent), "f64")
    m, lat = sim.model, sim.setup.lattice
    tol = sim.setup.scene.solver.tolerance
    xpad = lat.scatter(lat.positions())
    rounds, samples = [0], []
    break_bonds = m.break_bonds

    def analyse(bits_before: np.ndarray) -> None:
        cache, dof = m.solver.cache, m.solver.assembly.dof
        cache.refresh(m)
        K = cache.K
        free = dof >= 0
        m.compute_forces()
        rhs = m.force.to_numpy().astype(np.float64)[free]
        fabs = m.fabs.to_numpy().astype(np.float64)
        aa = float((fabs * fabs).sum())
        changed = np.nonzero((m.bits.to_numpy() != bits_before).any(axis=1))[0]
        site_of = np.repeat(np.arange(dof.shape[0]), dof.shape[1])[free.ravel()]
        dist, _ = cKDTree(xpad[changed]).query(xpad[site_of])
        row = dict(time_s=sim.t, sites_with_breaks=int(changed.size), unknowns=int(K.shape[0]), tolerance=tol,
                   residual_before=float(np.sqrt(rhs @ rhs / aa)), windows=[])
        for r in RADII:
            W = np.nonzero(dist <= r * lat.dx)[0]
            du = spla.spsolve(K[W][:, W].tocsc(), rhs[W])
            R = rhs - K[:, W] @ du
            row["windows"].append(dict(radius_dx=r, unknowns=int(W.size), residual=float(np.sqrt(R @ R / aa))))
        samples.append(row)
        print(json.dumps(row), flush=True)

    def counted(ratio: float = 1.0) -> int:
        before = m.bits.to_numpy().copy()
        n = break_bonds(ratio)
        if n > 0:
            rounds[0] += 1
            if rounds[0] % args.every == 1:
                analyse(before)
        return n

    m.break_bonds = counted
    for result in sim.steps():
        sim.record(result)
        if len(samples) >= args.samples or sim.failure:
            break


if __name__ == "__main__":
    main()
