"""Print the intercalation figures of docs/cathode.md (markdown tables) from scratch.

Usage: python tools/cathode_report.py [orientations]   (default 500 random orientations for the fit table)
"""

import sys
import time

import numpy as np
from scipy.spatial.transform import Rotation

from pdssb.electrochem import crank
from pdssb.electrochem.intercalation import fit_conductances
from pdssb.lattice.stencil import Stencil

D11, D33, DX, H = 1e-14, 1e-20, 1e-7, 1e-6


def fit_table(n: int) -> None:
    rot = Rotation.random(n, random_state=np.random.default_rng(2024)).as_matrix()
    print("| lattice | m | offsets | residual ‖D_fit − D‖_F/D11: mean / max | slow-axis leakage / D11: mean / max "
          "| fast-axis error: max |")
    print("|---|---|---|---|---|---|")
    for dim, m in ((2, 2), (2, 3), (3, 2), (3, 3), (3, 4), (3, 5)):
        st = Stencil(dim, m)
        res, leak, fast = [], [], []
        for R in rot:
            D = (R @ np.diag([D11, D11, D33]) @ R.T)[:dim, :dim]
            fit = fit_conductances(st, D, DX)
            ev, V = np.linalg.eigh(D)
            res.append(fit.residual)
            leak.append((fit.along(V[:, 0]) - ev[0]) / D11)
            fast.append(abs(fit.along(V[:, -1]) - ev[-1]) / D11)
        name = "2D section (x–y block of R D Rᵀ)" if dim == 2 else "3D"
        print(f"| {name} | {m} | {st.size} | {np.mean(res):.4f} / {np.max(res):.4f} | "
              f"{np.mean(leak):.4f} / {np.max(leak):.4f} | {np.max(fast):.1e} |")


def crank_table() -> None:
    taus = np.array([0.02, 0.05, 0.1, 0.2, 0.4, 0.8])
    print("| body | a/Δx | m | boundary | area count / exact | lattice / closed form at τ = "
          + ", ".join(f"{t:g}" for t in taus) + " | wall s |")
    print("|---|---|---|---|---|---|---|")
    for dim, radius in ((3, 8), (3, 10), (2, 16), (2, 24)):
        for kind in ("resistance L = 2", "constant concentration (L = 10⁴)", "constant flux, centre"):
            t0 = time.time()
            ic, a_eq, a_exact, centre = crank.lattice_ball(dim, radius, dx=DX, thickness=H, diffusivity=D11)
            ic.set_concentration(0.0)
            ratio = a_exact / ic.area.sum()
            out, t = [], 0.0
            for tau in taus:
                steps = 20
                dt = (tau * a_eq**2 / D11 - t) / steps
                for _ in range(steps):
                    if kind.startswith("constant flux"):
                        ic.step(dt, 1e-6 * ratio)
                    else:
                        L = 2.0 if kind.startswith("resistance") else 1e4
                        k = L * D11 / a_eq * ratio
                        ic.step(dt, k * (1.0 - ic.c), -k)
                t = tau * a_eq**2 / D11
                out.append(ic.c[ic.index[centre]] * D11 / (1e-6 * a_eq) if kind.startswith("constant flux")
                           else ic.moles() / (ic.n * ic.volume))
            if kind.startswith("resistance"):
                exact = (crank.uptake_sphere_resistance if dim == 3 else crank.uptake_cylinder_resistance)(taus, 2.0)
            elif kind.startswith("constant concentration"):
                exact = (crank.uptake_sphere_constant if dim == 3 else crank.uptake_cylinder_constant)(taus)
            else:
                exact = (crank.centre_sphere_constant_flux if dim == 3 else crank.centre_cylinder_constant_flux)(taus)
            body = "sphere" if dim == 3 else "disc"
            # the centre has not yet risen where the closed form is below 5 % of F a/D: no ratio there
            cells = ["—" if abs(e) < 0.05 else f"{v / e:.3f}" for v, e in zip(out, exact)]
            print(f"| {body} | {radius} | 3 | {kind} | {1 / ratio:.3f} | " + ", ".join(cells)
                  + f" | {time.time() - t0:.1f} |")


if __name__ == "__main__":
    fit_table(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
    print()
    crank_table()
