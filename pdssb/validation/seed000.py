"""Seed 000 (Liu et al., Adv. Mater. 35 (2023) 2301152) side by side with pdssb.

Runs the four defect geometries (``scenes/seed000_<shape>.toml``), optionally a convergence set in
Δx and m for one geometry, and writes into OUT:

- ``runs/<case>/``: the normal run folders;
- ``results.json`` and ``table.md``: failure time and cause, max von Mises, damage sum, broken
  bonds and crack area at t = 12 s, each beside the paper's number and their ratio;
- ``figures/``: failure-time bars, von Mises along the 1 µm band at Y = 5 µm (Fig. 2e), the von
  Mises histogram (Fig. 2g), damage and displacement along X = 5 µm and Y = 5 µm (Fig. 3), all at
  t = 12 s, PNG + SVG.

Every scene gets ``output.times = [12 s]``, so a step ends, and a snapshot is written, exactly at
the paper's comparison time. ``overrides`` ({dotted key: value}) apply to every case: the one shared
calibration the reproduction allows goes in this way.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np

from .jobs import run_jobs

GEOMETRIES = ("semi_sphere", "semi_ellipsoid", "pyramid", "cube")
COMPARE_AT_S = 12.0
HALF_DEPTH_UM = 5.0  # a crack through half the 10 µm electrolyte (reported beside the failure time)

#: seed 000, Results (failure times, Figure S6) and Figure 2f (max von Mises at 12 s)
PAPER = {
    "semi_sphere": dict(failure_time_s=37.6, von_mises_max_12s_MPa=24.1),
    "semi_ellipsoid": dict(failure_time_s=13.0, von_mises_max_12s_MPa=147.1),
    "pyramid": dict(failure_time_s=25.8, von_mises_max_12s_MPa=61.2),
    "cube": dict(failure_time_s=12.8, von_mises_max_12s_MPa=126.4),
}
#: seed 000, Figure S5: crack amount at 12 s, largest first
PAPER_CRACK_ORDER = ("semi_ellipsoid", "cube", "pyramid", "semi_sphere")

#: LAGP's strength in paper mode: the one parameter calibrated, on the semi-sphere's 37.6 s
#: (docs/validation.md, "Paper mode")
PAPER_MODE_STRENGTH = "48 MPa"
#: The paper's own model, as closely as pdssb poses it (MODEL.md §8, "paper mode"): LAGP softens
#: exponentially with a strength and the literature toughness (K_IC = 1.1 MPa m^½ → G_c = K²(1 − ν²)/E),
#: κ falls linearly with damage to 0 at 0.8, Li stays in the pit (a pressurised fluid), and failure is the
#: first electrolyte site whose most damaged bond reaches 0.8 (docs/validation.md, "Paper mode").
MODELS: dict[str, dict[str, Any]] = {
    "li-wedge": {},
    "paper": {
        "materials.LAGP.fracture_energy": "9.453125 J m^-2",
        "materials.LAGP.damage": {"law": "exponential", "strength": PAPER_MODE_STRENGTH},
        "electrochem.conductivity_damage": "seed000",
        "electrochem.li_follows_crack": False,
        "electrochem.li_mechanics": "fluid",
        "electrochem.damage_measure": "directional",
        "electrochem.failure.damage_threshold": 0.8,
        "electrochem.failure.span": "point",
    },
}

#: LAGP's strength in paper mode with the failure read over a length, calibrated again on the semi-sphere
PAPER_LENGTH_STRENGTH = "52 MPa"
#: Paper mode with its 80 % rule read over a material length: the mean directional damage of the
#: electrolyte within 0.2 µm of a site (electrochem.failure.length), at Δx = 0.05 µm, where the failure
#: times have converged (docs/validation.md, "Paper mode, the failure read over a length")
MODELS["paper-length"] = {
    **MODELS["paper"],
    "domain.dx": "0.05 um",
    "materials.LAGP.damage": {"law": "exponential", "strength": PAPER_LENGTH_STRENGTH},
    "electrochem.failure.length": "0.2 um",
}


def case_scene(scene_file: Path, overrides: dict[str, Any], t_end: float | None = None) -> dict:
    """The scene of one case as TOML data: the file, the overrides, a snapshot at 12 s."""
    from ..config.loader import parse_scene_text, set_dotted

    data = parse_scene_text(Path(scene_file).read_text(), str(scene_file))
    data = copy.deepcopy(data)
    for key, value in overrides.items():
        set_dotted(data, key, value)
    out = data.setdefault("output", {})
    times = [t for t in out.get("times", []) if t != f"{COMPARE_AT_S:g} s"]
    out["times"] = [f"{COMPARE_AT_S:g} s"] + times
    if t_end is not None:
        data["electrochem"]["t_end"] = f"{t_end:g} s"
    return data


def run_case(job: dict) -> dict:
    """Run one case into its folder (in this process); returns the run summary."""
    import tomli_w

    from .. import backend
    from ..config.loader import load_scene
    from ..config.resolve import resolve
    from ..coupled import CoupledSimulation
    from ..io.run_folder import prepare_run_dir

    backend.init(job.get("arch", "cpu"), "f64")
    out = Path(job["out"])
    scene_path = out.parent / f"{out.name}.toml"
    scene_path.parent.mkdir(parents=True, exist_ok=True)
    scene_path.write_text(tomli_w.dumps(job["scene"]))
    setup = resolve(load_scene(scene_path), Path(job["scene_dir"]))
    sim = CoupledSimulation(setup, "f64")
    run_dir = prepare_run_dir(out, overwrite=True)
    return sim.run(run_dir, extra_manifest=dict(arch=job.get("arch", "cpu"), precision="f64",
                                                scene_file=str(scene_path)))


def run_all(scenes_dir: Path, out: Path, overrides: dict[str, Any], cases: dict[str, dict[str, Any]],
            jobs: int = 1, t_end: float | None = None, arch: str = "cpu") -> dict[str, Path]:
    """Run {case name: {"geometry": g, extra overrides}}; returns {case: run folder}."""
    todo = []
    for name, spec in cases.items():
        spec = dict(spec)
        geometry = spec.pop("geometry")
        scene = case_scene(scenes_dir / f"seed000_{geometry}.toml", {**overrides, **spec}, t_end)
        todo.append(dict(out=str(out / "runs" / name), scene=scene, scene_dir=str(scenes_dir), arch=arch))
    run_jobs(run_case, todo, jobs)
    return {name: out / "runs" / name for name in cases}


# ---------------------------------------------------------------- analysis
def _snapshot_at(run, t: float):
    for i in range(len(run)):
        snap = run.snapshot(i)
        if abs(snap.time - t) <= 1e-9 * max(1.0, t):
            return snap
    return None


def analyse(run_dir: Path) -> dict:
    """The comparison figures of one run folder."""
    from ..viz.data import RunData
    from ..viz.figures import damage_profile, electrolyte_mask, von_mises_profile

    run = RunData(run_dir)
    s = run.series
    t = np.asarray(s["time_s"])
    out: dict[str, Any] = dict(
        failure_time_s=run.summary.get("failure_time_s"), failure_cause=run.summary.get("failure_cause"),
        end_time_s=float(t[-1]), steps=int(len(t)), wall_time_s=run.summary.get("wall_time_s"),
        bonds_broken=run.summary.get("bonds_broken"), sites=run.summary.get("sites"),
    )
    broke = np.nonzero(np.asarray(s["bonds_broken_total"]) > 0)[0]
    if broke.size:  # the step the first bonds broke in: after its start, by its end
        j = int(broke[0])
        out["first_break_s"] = [float(t[j] - s["dt_s"][j]), float(t[j])]
    deep = np.nonzero(np.asarray(s["crack_depth_um"]) >= HALF_DEPTH_UM)[0]
    out["crack_half_depth_time_s"] = float(t[deep[0]]) if deep.size else None
    hit = np.nonzero(np.abs(t - COMPARE_AT_S) <= 1e-9 * COMPARE_AT_S)[0]
    if hit.size:
        j = int(hit[0])
        out.update(von_mises_max_12s_MPa=float(s["von_mises_max_MPa"][j]), damage_sum_12s=float(s["damage_sum"][j]),
                   bonds_broken_12s=int(s["bonds_broken_total"][j]), crack_area_12s_um2=float(s["crack_area_um2"][j]),
                   li_pressure_max_12s_MPa=float(s["li_pressure_max_MPa"][j]), current_12s_mA=float(s["current_mA"][j]))
    snap = _snapshot_at(run, COMPARE_AT_S)
    if snap is not None:
        roles = run.material_roles
        x, vm, _, _ = von_mises_profile(snap, roles, 5.0, 1.0)
        y, dmg, _, _ = damage_profile(snap, roles, 5.0, 1.0)
        sel = electrolyte_mask(snap, roles)
        umag = np.linalg.norm(np.asarray(snap.fields["displacement_m"], dtype=np.float64), axis=1) * 1e6
        from ..viz.figures import _profile

        xu, ux_line, _, _ = _profile(snap, umag, sel, 0, snap.dim - 1, 5.0, 1.0)
        yu, uy_line, _, _ = _profile(snap, umag, sel, snap.dim - 1, 0, 5.0, 1.0)
        vm_all = np.asarray(snap.fields["von_mises_Pa"], dtype=np.float64)[sel] / 1e6
        out["profiles_12s"] = dict(x_um=x.tolist(), von_mises_MPa=_nan_none(vm), y_um=y.tolist(),
                                   damage=_nan_none(dmg), displacement_y5_um=_nan_none(ux_line),
                                   displacement_x5_um=_nan_none(uy_line))
        hist, edges = np.histogram(vm_all[np.isfinite(vm_all)], bins=40)
        out["von_mises_histogram_12s"] = dict(counts=hist.tolist(), edges_MPa=edges.tolist())
    return out


def _nan_none(a: np.ndarray) -> list:
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(a, dtype=np.float64)]


def _arr(v: list) -> np.ndarray:
    return np.array([np.nan if x is None else x for x in v], dtype=np.float64)


# ---------------------------------------------------------------- report
def compare(results: dict[str, dict]) -> dict:
    """Ratios to the paper, and whether the crack ordering at 12 s agrees."""
    rows = {}
    for g in GEOMETRIES:
        r = results.get(g)
        if r is None:
            continue
        p = PAPER[g]
        ft = r.get("failure_time_s")
        vm = r.get("von_mises_max_12s_MPa")
        rows[g] = dict(failure_time_ratio=(ft / p["failure_time_s"]) if ft else None,
                       von_mises_ratio=(vm / p["von_mises_max_12s_MPa"]) if vm is not None else None)
    have = [g for g in PAPER_CRACK_ORDER if g in results and results[g].get("bonds_broken_12s") is not None]
    # broken bonds first; softening bonds that have not broken yet are ranked by their damage
    ours = sorted(have, key=lambda g: (-results[g]["bonds_broken_12s"], -(results[g].get("damage_sum_12s") or 0.0)))
    paper = [g for g in PAPER_CRACK_ORDER if g in have]
    timed = [g for g in GEOMETRIES if g in results]
    inf = float("inf")
    fail_ours = sorted(timed, key=lambda g: results[g].get("failure_time_s") or inf)
    fail_paper = sorted(timed, key=lambda g: PAPER[g]["failure_time_s"])
    return dict(ratios=rows, crack_order_12s=ours, paper_crack_order_12s=paper, crack_order_agrees=ours == paper,
                failure_order=fail_ours, paper_failure_order=fail_paper, failure_order_agrees=fail_ours == fail_paper)


def table_markdown(results: dict[str, dict], cmp: dict) -> str:
    def f(v, fmt="{:.3g}"):
        return "—" if v is None else fmt.format(v)

    lines = [
        "| geometry | failure time, paper (s) | pdssb (s) | ratio | cause | first break (s) | crack 5 µm deep at (s) | max σ_vM at 12 s, paper (MPa) | pdssb (MPa) | ratio | Σ damage at 12 s | broken bonds at 12 s | crack area at 12 s (µm²) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for g in GEOMETRIES:
        if g not in results:
            continue
        r, p, c = results[g], PAPER[g], cmp["ratios"][g]
        ft = r.get("failure_time_s")
        lines.append(
            f"| {g.replace('_', '-')} | {p['failure_time_s']:g} | {f(ft) if ft else 'none by ' + f(r['end_time_s'])} "
            f"| {f(c['failure_time_ratio'], '{:.2f}')} | {r.get('failure_cause') or '—'} "
            f"| {_bracket(r.get('first_break_s'))} | {f(r.get('crack_half_depth_time_s'))} "
            f"| {p['von_mises_max_12s_MPa']:g} "
            f"| {f(r.get('von_mises_max_12s_MPa'))} | {f(c['von_mises_ratio'], '{:.2f}')} | {f(r.get('damage_sum_12s'))} "
            f"| {r.get('bonds_broken_12s', '—')} | {f(r.get('crack_area_12s_um2'))} |")
    lines.append("")
    lines.append(f"Crack amount at 12 s (broken bonds, then Σ damage), largest first — paper: "
                 f"{', '.join(cmp['paper_crack_order_12s'])}; pdssb: {', '.join(cmp['crack_order_12s'])} "
                 f"({'agrees' if cmp['crack_order_agrees'] else 'differs'}).")
    if cmp.get("failure_order"):
        lines.append("")
        lines.append(f"Failure order, first first — paper: {', '.join(cmp['paper_failure_order'])}; pdssb: "
                     f"{', '.join(cmp['failure_order'])} ({'agrees' if cmp['failure_order_agrees'] else 'differs'}).")
    return "\n".join(lines) + "\n"


def _bracket(span) -> str:
    """"a–b" for the step [a, b] (s) in which the first bonds broke."""
    return "—" if not span else f"{span[0]:.3f}–{span[1]:.3f}"


def figures(results: dict[str, dict], out: Path, formats=("png", "svg")) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []

    def save(fig, stem):
        for ext in formats:
            p = out / f"{stem}.{ext}"
            fig.savefig(p, dpi=110, bbox_inches="tight")
            paths.append(p)
        plt.close(fig)

    geos = [g for g in GEOMETRIES if g in results]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    w = 0.38
    xs = np.arange(len(geos))
    ax.bar(xs - w / 2, [PAPER[g]["failure_time_s"] for g in geos], w, label="paper (COMSOL, Δx 0.02 µm)", color="C7")
    ours = [results[g].get("failure_time_s") or np.nan for g in geos]
    ax.bar(xs + w / 2, ours, w, label="pdssb", color="C3")
    for x, g in zip(xs, geos):
        if not results[g].get("failure_time_s"):
            ax.text(x + w / 2, 0.5, f"none by\n{results[g]['end_time_s']:.0f} s", ha="center", fontsize=7)
    ax.set_xticks(xs, [g.replace("_", "-") for g in geos])
    ax.set_ylabel("failure time (s)")
    ax.legend(fontsize=8)
    save(fig, "failure_time")

    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.bar(xs - w / 2, [PAPER[g]["von_mises_max_12s_MPa"] for g in geos], w, label="paper", color="C7")
    ax.bar(xs + w / 2, [results[g].get("von_mises_max_12s_MPa") or np.nan for g in geos], w, label="pdssb", color="C0")
    ax.set_xticks(xs, [g.replace("_", "-") for g in geos])
    ax.set_ylabel("max von Mises in the electrolyte at 12 s (MPa)")
    ax.legend(fontsize=8)
    save(fig, "von_mises_max_12s")

    panels = [("von_mises_MPa", "x_um", "x (µm)", "von Mises (MPa), 1 µm band at Y = 5 µm", "von_mises_y5"),
              ("damage", "y_um", "y (µm)", "damage, 1 µm band at X = 5 µm", "damage_x5"),
              ("displacement_y5_um", "x_um", "x (µm)", "|u| (µm), 1 µm band at Y = 5 µm", "displacement_y5"),
              ("displacement_x5_um", "y_um", "y (µm)", "|u| (µm), 1 µm band at X = 5 µm", "displacement_x5")]
    for key, axis, xlabel, ylabel, stem in panels:
        fig, ax = plt.subplots(figsize=(6, 3.6))
        for i, g in enumerate(geos):
            pr = results[g].get("profiles_12s")
            if pr:
                ax.plot(pr[axis], _arr(pr[key]), label=g.replace("_", "-"), color=f"C{i}")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title("pdssb at t = 12 s", fontsize=9)
        ax.legend(fontsize=8)
        save(fig, stem)

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for i, g in enumerate(geos):
        h = results[g].get("von_mises_histogram_12s")
        if h:
            e = np.asarray(h["edges_MPa"])
            ax.step(0.5 * (e[1:] + e[:-1]), h["counts"], where="mid", label=g.replace("_", "-"), color=f"C{i}")
    ax.set_xlabel("von Mises stress (MPa)")
    ax.set_ylabel("electrolyte sites")
    ax.set_yscale("log")
    ax.set_title("von Mises histogram at t = 12 s (Fig. 2g)", fontsize=9)
    ax.legend(fontsize=8)
    save(fig, "von_mises_histogram_12s")
    return paths


def validate(scenes_dir: Path, out: Path, overrides: dict[str, Any] | None = None, jobs: int = 1,
             t_end: float | None = None, convergence: bool = False, arch: str = "cpu",
             geometries=GEOMETRIES, run: bool = True, model: str = "li-wedge") -> dict:
    """Run, analyse and report; returns the results (also written to OUT/results.json).

    ``model``: "li-wedge" (the scenes as they are: Li enters and pressurises cracks), "paper" (MODELS:
    the paper's damage law and failure rule) or "paper-length" (the same with the rule read over a
    length, at a mesh where it has converged). ``overrides`` apply on top of the model's.
    ``run=False`` analyses the run folders already in OUT/runs (every case folder found there).
    """
    from ..io.atomic import atomic_write_json, atomic_write_text

    overrides = {**MODELS[model], **dict(overrides or {})}
    cases: dict[str, dict[str, Any]] = {g: dict(geometry=g) for g in geometries}
    if convergence:
        cases["semi_sphere_dx0.1"] = dict(geometry="semi_sphere", **{"domain.dx": "0.1 um"})
        cases["semi_sphere_m4"] = dict(geometry="semi_sphere", **{"domain.horizon_factor": 4.0})
    if run:
        dirs = run_all(scenes_dir, out, overrides, cases, jobs, t_end, arch)
    else:
        dirs = {d.name: d for d in sorted((out / "runs").iterdir()) if d.is_dir() and (d / "timeseries.csv").exists()}
    results = {name: analyse(d) for name, d in dirs.items()}
    cmp = compare(results)
    report = dict(model=model, overrides=overrides, results=results, comparison=cmp, paper=PAPER)
    atomic_write_json(out / "results.json", report)
    atomic_write_text(out / "table.md", table_markdown(results, cmp))
    figures(results, out / "figures")
    return report
