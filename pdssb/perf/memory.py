"""Memory per site: the bytes of every array a run allocates, counted from the objects themselves.

``census(root)`` walks a Simulation (or any pdssb object) and adds up
- device arrays: every Taichi ndarray (shape × components × element size), which is what lives in
  GPU memory on CUDA (on the CPU backend, in Taichi's host memory pool);
- host arrays: NumPy arrays, SciPy sparse matrices (data, indices, indptr), and SuperLU factors
  (the L and U non-zeros, their indices and the two permutations), which stay in host memory on
  every backend (the direct solvers run on the host).
Each array is counted once however many objects refer to it. Taichi's own runtime (its memory pool
reserve, compiled kernels) and transient copies (``to_numpy`` inside a step) are not counted.

``memory_bench`` builds the generated coupled cell (perf/scenes.py) at two sizes per (dim,
precision) and reports bytes per site: the per-padded-site slope (exact for per-site arrays) and
the fixed part, for the mechanics fields (Simulation) and for a coupled run (CoupledSimulation),
with the ADR / Jacobi-PCG path (device only) and, optionally, the direct solvers after their first
factorisation (host factor).
"""

from __future__ import annotations

import numpy as np

GB = 1e9


def _ndarray_bytes(arr) -> int:
    from taichi.lang.util import to_numpy_type

    comps = int(np.prod(getattr(arr, "element_shape", ()) or (1,)))
    return int(np.prod(arr.shape)) * comps * np.dtype(to_numpy_type(arr.dtype)).itemsize


def _sparse_bytes(a) -> int:
    return sum(int(getattr(a, name).nbytes) for name in ("data", "indices", "indptr") if hasattr(a, name))


def _superlu_bytes(f) -> int:
    n = f.shape[0]
    total = 2 * 4 * n  # perm_r, perm_c
    for part in (f.L, f.U):  # copies made on access; their size is what SuperLU stores (plus its supernode index)
        total += _sparse_bytes(part)
    return total


def census(root, name: str = "sim") -> dict:
    """{'device': bytes, 'host': bytes, 'items': [(path, kind, bytes)]} for everything reachable from root."""
    from scipy import sparse
    from scipy.sparse.linalg import SuperLU
    from taichi.lang._ndarray import Ndarray

    seen: set[int] = set()
    items: list[tuple[str, str, int]] = []

    def walk(obj, path: str, depth: int) -> None:
        if id(obj) in seen or depth > 8:
            return
        if isinstance(obj, Ndarray):
            seen.add(id(obj))
            items.append((path, "device", _ndarray_bytes(obj)))
        elif isinstance(obj, np.ndarray):
            seen.add(id(obj))
            base = obj.base if isinstance(obj.base, np.ndarray) else None
            if base is not None and id(base) in seen:
                return
            if obj.dtype != object:
                items.append((path, "host", int(obj.nbytes)))
        elif sparse.issparse(obj):
            seen.add(id(obj))
            items.append((path, "host", _sparse_bytes(obj)))
        elif isinstance(obj, SuperLU):
            seen.add(id(obj))
            items.append((path, "host", _superlu_bytes(obj)))
        elif isinstance(obj, dict):
            seen.add(id(obj))
            for k, v in obj.items():
                walk(v, f"{path}[{k}]", depth + 1)
        elif isinstance(obj, (list, tuple)):
            seen.add(id(obj))
            for i, v in enumerate(obj):
                walk(v, f"{path}[{i}]", depth + 1)
        elif type(obj).__module__.startswith("pdssb") and hasattr(obj, "__dict__"):
            seen.add(id(obj))
            for k, v in vars(obj).items():
                walk(v, f"{path}.{k}", depth + 1)

    walk(root, name, 0)
    device = sum(b for _, k, b in items if k == "device")
    host = sum(b for _, k, b in items if k == "host")
    return dict(device=device, host=host, items=sorted(items, key=lambda t: -t[2]))


def _build(kind: str, dim: int, n: int, precision: str, method: str):
    from ..factory import make_simulation
    from .scenes import coupled_scene, mechanics_scene, setup_of

    scene = (mechanics_scene if kind == "mechanics" else coupled_scene)(dim, n, method=method, precision=precision)
    setup = setup_of(scene, precision)
    sim = make_simulation(setup, precision)
    if method == "direct":  # the host factors exist after the first solves
        if kind == "coupled":
            sim.solve_at(sim.phi_ce)
        m = sim.model
        m.load = 1.0
        m.set_field("eps", setup.eigenstrain if np.any(setup.eigenstrain) else np.zeros(setup.lattice.n_sites))
        m.solver.cache.refresh(m)  # assemble K and factorise it, as the first relax does
    return sim, setup


def measure(kind: str, dim: int, n: int, precision: str, method: str = "adr") -> dict:
    sim, setup = _build(kind, dim, n, precision, method)
    c = census(sim)
    lat = setup.lattice
    top = [(p, k, b) for p, k, b in c["items"][:6]]
    out = dict(kind=kind, dim=dim, n=n, precision=precision, method=method, sites=lat.n_sites, padded=lat.n_padded,
               offsets=setup.stencil.size, device_bytes=c["device"], host_bytes=c["host"], largest=top)
    del sim
    return out


def fit(a: dict, b: dict, what: str) -> dict:
    """Bytes = fixed + per_site × padded sites, from two sizes; also per interior site at each size."""
    per = (b[what] - a[what]) / (b["padded"] - a["padded"])
    fixed = a[what] - per * a["padded"]
    return dict(per_padded_site=per, fixed=fixed, per_site_small=a[what] / a["sites"],
                per_site_large=b[what] / b["sites"])


def capacity(per_site: float, fixed: float, memory_bytes: float) -> float:
    """Sites that fit in ``memory_bytes`` (halo neglected: at 10^8+ sites it is < 5 % in 3D)."""
    return max(0.0, (memory_bytes - fixed) / per_site)


DEFAULT_SIZES = {2: (50, 100), 3: (12, 16)}


def memory_bench(dims=(2, 3), precisions=("f32", "f64"), sizes: dict | None = None, direct: bool = True,
                 progress=None) -> dict:
    """Measured bytes per site, mechanics and coupled, ADR path (and direct with ``direct``)."""
    sizes = sizes or DEFAULT_SIZES
    rows = []
    for dim in dims:
        for precision in precisions:
            for kind in ("mechanics", "coupled"):
                methods = ("adr", "direct") if direct else ("adr",)
                for method in methods:
                    a, b = (measure(kind, dim, n, precision, method) for n in sizes[dim])
                    row = dict(kind=kind, dim=dim, precision=precision, method=method,
                               sizes=[a["sites"], b["sites"]], padded=[a["padded"], b["padded"]],
                               offsets=a["offsets"], device=fit(a, b, "device_bytes"), host=fit(a, b, "host_bytes"),
                               device_bytes=[a["device_bytes"], b["device_bytes"]],
                               host_bytes=[a["host_bytes"], b["host_bytes"]], largest=b["largest"])
                    rows.append(row)
                    if progress is not None:
                        progress(row)
    caps = {}
    for row in rows:
        if row["kind"] == "coupled" and row["dim"] == 3 and row["method"] == "adr":
            d = row["device"]
            caps[row["precision"]] = {name: capacity(d["per_padded_site"], max(d["fixed"], 0.0), mem * GB)
                                      for name, mem in (("H200_139GB", 139.0), ("H100_78GB", 78.0))}
    return dict(rows=rows, capacity_3d_coupled_m3=caps)
