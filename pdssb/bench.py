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
from pathlib import Path

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


# ---------------------------------------------------------------- `pdssb bench` front ends (cli.py calls these)
UNIT = "directed bond evaluations / s"
METRIC = "bond_evals_per_s"


def parse_sizes(text: str, count: int, where: str) -> list[int]:
    from .errors import InputError

    try:
        sizes = [int(v) for v in text.split(",")]
    except ValueError:
        raise InputError(where, f"'{text}' is not {count} comma-separated integers") from None
    if len(sizes) != count or not all(10 <= v <= 2000 for v in sizes):  # n ≥ 10: the pit spans ≥ 2 spacings
        raise InputError(where, f"'{text}': needs {count} comma-separated sizes between 10 and 2000")
    return sizes


def _command(case: str, size: int, steps: int, precision: str, arch: str) -> str:
    return f"pdssb bench --case {case} --size {size} --steps {steps} --precision {precision} --arch {arch}"


def throughput_cli(case: str, size: int, steps: int, precision: str, arch: str, repeat: int, check: bool,
                   record: bool, records_path: Path | None, tolerance: float, console) -> dict:
    """``pdssb bench`` (pmb-cube): best of ``repeat`` timings; ``check`` against / ``record`` into the records."""
    from . import backend
    from .errors import InputError
    from .perf import records as R

    if case != "pmb-cube":
        raise InputError("--case", f"unknown case '{case}' (available: pmb-cube, coupled)")
    if not 2 <= size <= 2000:
        raise InputError("--size", "must lie between 2 and 2000")
    if not 1 <= steps <= 1_000_000:
        raise InputError("--steps", "must lie between 1 and 1000000")
    path = records_path or R.default_path()
    known = R.load(path) if (check or record) else []  # a malformed file is an input error, before timing
    backend.init(arch, precision)
    runs = [pmb_cube(size, steps, precision) for _ in range(repeat)]
    res = max(runs, key=lambda r: r[METRIC])
    if repeat > 1:
        res["repeats"] = [r[METRIC] for r in runs]
    res["text"] = (f"pdssb {res['case']}: sites={res['sites']} directed_bonds={res['directed_bonds']} steps={steps} "
                   f"precision={precision} arch={res['arch']} loop_s={res['loop_s']:.3f} "
                   f"bond_evals_per_s={res[METRIC]:.3e}")
    if check:
        status, line = R.check(res, known, METRIC, tolerance)
        res["check"] = dict(status=status, message=line, records=str(path))
        console.print(line, markup=False, highlight=False, soft_wrap=True)
        if status == "regression":
            res["exit_code"] = 1
    if record:
        rec = R.make_record(res, METRIC, UNIT, _command(case, size, steps, precision, arch)
                            + (f" --repeat {repeat}" if repeat > 1 else ""))
        R.append(path, rec)
        res["recorded"] = rec
        console.print(f"recorded {R.describe_key(rec)} {METRIC}={rec['value']:.3e} → {path}", markup=False,
                      highlight=False, soft_wrap=True)
    return res


def coupled_cli(geometry: str, scene: Path | None, dx_um: float | None, method: str | None, arch: str,
                t_end_s: float | None, console) -> dict:
    """``pdssb bench --case coupled``: a seed-000 scene (or ``scene``) at Δx = ``dx_um`` µm to failure
    (perf/coupled.py), with the machine and commit it ran on."""
    from .errors import InputError
    from .perf import records as R
    from .perf.coupled import GEOMETRIES, coupled_bench, scene_path

    if geometry not in GEOMETRIES:
        raise InputError("--geometry", f"unknown geometry '{geometry}' (use {', '.join(GEOMETRIES)})")
    if dx_um is None or not 0.0 < dx_um <= 10.0:
        raise InputError("--dx", "the coupled case needs a lattice spacing in µm, above 0 and at most 10")
    if t_end_s is not None and not t_end_s > 0.0:
        raise InputError("--t-end", "must be a positive time in seconds")
    path = scene if scene is not None else scene_path(geometry)
    if not path.is_file():
        raise InputError(str(path), "scene not found")
    command = (f"pdssb bench --case coupled --dx {dx_um:g} --arch {arch}"
               + (f" --scene {scene}" if scene is not None else f" --geometry {geometry}")
               + (f" --method {method}" if method else "") + (f" --t-end {t_end_s:g}" if t_end_s else ""))
    res = coupled_bench(path, dx_um, method, t_end_s, arch)
    res.update(R.provenance(command))
    fail = (f"failure at {res['failure_time_s']:.6g} s ({res['failure_cause']})" if res["failure_time_s"] is not None
            else f"no failure by {res['time_s']} s")
    res["text"] = (f"pdssb coupled: {path.name} dx={dx_um:g} um sites={res['sites']} method={res['method']} "
                   f"arch={res['arch']}: {fail}, wall_s={res['wall_s']:.1f} steps={res['steps']} "
                   f"equilibrium_solves={res['equilibrium_solves']} bonds_broken={res['bonds_broken']}")
    return res


def memory_cli(sizes: list[int], direct: bool, arch: str, console) -> dict:
    from . import backend
    from .perf.memory import memory_bench

    rows, caps = [], {}
    for precision in ("f32", "f64"):
        backend.init(arch, precision)
        out = memory_bench(precisions=(precision,), sizes={2: tuple(sizes[:2]), 3: tuple(sizes[2:])}, direct=direct,
                           progress=lambda r: console.print(_memory_line(r), markup=False, highlight=False,
                                                            soft_wrap=True))
        rows += out["rows"]
        caps.update(out["capacity_3d_coupled_m3"])
    lines = [_memory_line(r) for r in rows]
    for p, c in caps.items():
        lines.append(f"3D coupled m=3 {p} (device arrays): {c['H200_139GB']:.3e} sites in 139 GB (H200), "
                     f"{c['H100_78GB']:.3e} sites in 78 GB (H100)")
    return dict(case="memory", arch=backend.current().get("arch"), rows=rows, capacity_3d_coupled_m3=caps,
                text="\n".join(lines))


def _memory_line(r: dict) -> str:
    d, h = r["device"], r["host"]
    return (f"{r['kind']:9s} {r['dim']}D {r['precision']} {r['method']:6s} offsets={r['offsets']} "
            f"sites={r['sizes'][0]},{r['sizes'][1]}: device {d['per_padded_site']:.0f} B/padded site "
            f"(+{d['fixed']:.0f} B fixed; {d['per_site_small']:.0f}, {d['per_site_large']:.0f} B/site), "
            f"host {h['per_site_small']:.0f}, {h['per_site_large']:.0f} B/site")


def startup_cli(scene: Path, arch: str, console) -> dict:
    from .errors import InputError
    from .perf.startup import startup_bench

    if not scene.is_file():
        raise InputError(str(scene), "scene not found")
    from .config.loader import load_scene

    load_scene(scene)  # a bad scene is an input error here, not a failed child process
    use = "cpu" if arch == "auto" and not _cuda() else ("cuda" if arch in ("auto", "gpu") else arch)
    try:
        out = startup_bench(scene, use, progress=lambda r: console.print(_startup_line(r), markup=False,
                                                                           highlight=False, soft_wrap=True))
    except RuntimeError as e:  # the scene (or its changed copy) does not run
        raise InputError(str(scene), str(e)) from None
    out["case"] = "startup"
    out["text"] = "\n".join([f"values: {'; '.join(out['value_changes'])}; dx/2: {'; '.join(out['dx_changes'])}"]
                            + [_startup_line(r) for r in out["runs"]])
    return out


def _cuda() -> bool:
    from .backend import cuda_present

    return cuda_present()


def _startup_line(r: dict) -> str:
    return (f"{r['tag']:7s} to first step {r['total_s']:.2f} s (python+imports {r['python_and_imports_s']:.2f}, "
            f"scene {r['setup_s']:.2f}, model {r['model_s']:.2f}, first step {r['first_step_s']:.2f}); "
            f"kernel cache files added {r['cache_files_added']}, cache {r['cache_bytes'] / 1e6:.1f} MB")


def scaling_cli(sizes: list[int], precision: str, arch: str, console, solvers: str | None = None,
                repeat: int = 3) -> dict:
    from . import backend
    from .errors import InputError
    from .perf.scaling import SOLVERS, scaling_bench

    chosen = SOLVERS if solvers is None else tuple(v.strip() for v in solvers.split(",") if v.strip())
    bad = [v for v in chosen if v not in SOLVERS]
    if bad or not chosen:
        raise InputError("--scaling-solvers", f"unknown solver '{bad[0] if bad else solvers}' "
                         f"(use a comma-separated list of {', '.join(SOLVERS)})")
    backend.init(arch, precision)

    def line(r):
        return (f"{r['solve']:10s} {r['method']:4s} n={r['n']} sites={r['sites']}: {r['seconds']:.3f} s "
                f"(best of {len(r['all_seconds'])}), {r['us_per_site']:.1f} us/site, cpu {r['cpu_s']:.3f} s; "
                + ", ".join(f"{k} {v}" for k, v in r["info"].items() if isinstance(v, int) and not isinstance(v, bool)))

    out = scaling_bench(tuple(sizes), precision, repeat=repeat, solvers=chosen,
                        progress=lambda r: console.print(line(r), markup=False, highlight=False, soft_wrap=True))
    out.update(case="scaling", arch=backend.current().get("arch"))
    out["text"] = "\n".join([line(r) for r in out["rows"]]
                            + [f"exponent {k}: {v:.2f}" for k, v in out["exponents"].items()])
    return out
