"""An independent check of the closed forms the edge-crack tests use: a plane-strain finite-element
solution (bilinear quads, 2×2 Gauss, meshes graded towards the tip) of an edge crack of depth a under
a uniform pressure p on its faces. Half model (symmetry on the ligament), free outer edges.

Prints CMOD·E″/(p a) and the opening area A·E″/(p a²) for a large plate (the half-plane limit: Tada's
CMOD 4·1.454 = 5.816, area π·1.1215² = 3.951) and for the test's plate (b = 5a wide, 2b high: Tada's
single-edge-notch form 4·V1(0.2) = 7.197), each at two mesh sizes.

Usage: python tools/edge_crack_fe.py
"""

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spl

NU = 0.25  # E = p = a = 1; results scale with p a/E″


def graded(length: float, n: int, h0: float) -> np.ndarray:
    """n + 1 points on [0, length], the first interval h0, growing geometrically."""
    lo, hi = 1.0 + 1e-9, 2.0
    for _ in range(200):  # bisect the ratio r: h0 (r^n − 1)/(r − 1) = length
        r = 0.5 * (lo + hi)
        lo, hi = (lo, r) if h0 * (r**n - 1) / (r - 1) > length else (r, hi)
    x = np.concatenate([[0.0], np.cumsum(h0 * r ** np.arange(n))])
    x[-1] = length
    return x


def solve(width: float, height: float, h0: float, n: int) -> tuple[float, float]:
    """(CMOD E″/(p a), area E″/(p a²)) for a plate ``width`` × 2·``height`` with a = 1."""
    e2 = 1.0 / (1.0 - NU**2)
    xs = np.unique(np.concatenate([1.0 - graded(1.0, n, h0)[::-1], 1.0 + graded(width - 1.0, n, h0)]))
    ys = graded(height, 2 * n, h0)
    nx, ny = len(xs), len(ys)
    node = np.arange(nx * ny).reshape(nx, ny)
    nu2 = NU / (1.0 - NU)  # plane strain as plane stress with E″ and ν/(1 − ν)
    dmat = e2 / (1 - nu2**2) * np.array([[1, nu2, 0], [nu2, 1, 0], [0, 0, (1 - nu2) / 2]])
    gauss = np.array([-1.0, 1.0]) / np.sqrt(3.0)
    rows, cols, vals = [], [], []
    for i in range(nx - 1):
        for j in range(ny - 1):
            hx, hy = xs[i + 1] - xs[i], ys[j + 1] - ys[j]
            ke = np.zeros((8, 8))
            for xi in gauss:
                for eta in gauss:
                    dnx = 0.5 / hx * np.array([-(1 - eta), 1 - eta, 1 + eta, -(1 + eta)])
                    dny = 0.5 / hy * np.array([-(1 - xi), -(1 + xi), 1 + xi, 1 - xi])
                    b = np.zeros((3, 8))
                    b[0, 0::2], b[1, 1::2], b[2, 0::2], b[2, 1::2] = dnx, dny, dny, dnx
                    ke += b.T @ dmat @ b * hx * hy / 4
            dofs = np.ravel([[2 * k, 2 * k + 1] for k in (node[i, j], node[i + 1, j], node[i + 1, j + 1], node[i, j + 1])])
            rows.append(np.repeat(dofs, 8))
            cols.append(np.tile(dofs, 8))
            vals.append(ke.ravel())
    ndof = 2 * nx * ny
    k = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(ndof, ndof)).tocsr()
    f = np.zeros(ndof)
    for i in np.nonzero(xs[1:] <= 1.0 + 1e-12)[0]:  # pressure on the crack face y = 0, 0 < x < a
        h = xs[i + 1] - xs[i]
        f[2 * node[i, 0] + 1] += 0.5 * h
        f[2 * node[i + 1, 0] + 1] += 0.5 * h
    fixed = [2 * node[i, 0] + 1 for i in range(nx) if xs[i] >= 1.0 - 1e-12] + [2 * node[-1, 0]]
    free = np.setdiff1d(np.arange(ndof), fixed)
    u = np.zeros(ndof)
    u[free] = spl.spsolve(k[free][:, free].tocsc(), f[free])
    uy = u[2 * node[:, 0] + 1]
    crack = xs <= 1.0 + 1e-12
    area = 2.0 * float(np.sum(0.5 * (uy[crack][1:] + uy[crack][:-1]) * np.diff(xs[crack])))
    return 2.0 * uy[0] * e2, area * e2


def main() -> None:
    for label, width, height in (("half-plane (40a × 40a half model)", 40.0, 40.0), ("test plate b = 5a, 2b high", 5.0, 5.0)):
        for h0, n in ((0.01, 60), (0.005, 80)):
            cmod, area = solve(width, height, h0, n)
            print(f"{label}, tip element {h0:g} a: CMOD E''/(p a) = {cmod:.4f}, area E''/(p a^2) = {area:.4f}")
    c = np.cos(0.5 * np.pi * 0.2)
    print(f"Tada: half-plane CMOD 4*1.454 = {4 * 1.454:.4f}, area pi*1.1215^2 = {np.pi * 1.1215**2:.4f}; "
          f"a/b = 0.2: 4*V1 = {4 * (1.46 + 3.42 * (1 - c)) / c**2:.4f}")


if __name__ == "__main__":
    main()
