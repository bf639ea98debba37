"""The scenario library (issue: seed 000 and the scenario library): run, measure, draw.

Each scenario is a sweep file in ``scenes/scenarios/`` (or ``scenes/seed000_sweep_*.toml``) run
through the sweep runner, then measured from its case folders:

=================  ====================================================================
flaw_vs_current    failure time against current density; the flaw-free surface at the
                   highest current (seed 001)
stack_pressure     compressive traction on the counter electrode, 0–20 MPa (seeds 002, 004)
inplane_stress     compression parallel to the interface, 0–200 MPa; crack angle (seed 004)
pulse_vs_dc        pulsed and DC current at equal average current (seed 004)
pores              subsurface voids near and away from the pit
temperature        25 / 60 / 80 °C, Arrhenius κ(T) and i0(T)
polycrystal        Voronoi grains with compliant, weak grain boundaries (seeds 001, 004)
scenes_3d          a 3D scene of each defect shape and one STL defect (to 20 s)
scenes_3d_onset    the same five 3D scenes to 6 s (stress and Li pressure at crack onset)
pyramid_ar         seed 000 Fig. 6: pyramid aspect ratio on the reference problem
griffith           critical overpotential of a Li-filled flaw against its size (seed 004)
xct                seed 000 Fig. 7: cracks against deposited capacity (from the seed-000 runs)
=================  ====================================================================

Writes OUT/<scenario>/ (the sweep folders), OUT/figures/*.png|svg, OUT/results.json and
OUT/report.md (one table per scenario). ``docs/validation.md`` quotes the report.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

DAMAGED = 0.2  # a site counts as cracked above this damage (a crack face sits at 0.35-0.5)


@dataclass
class Scenario:
    sweep: str  # path relative to the scenes folder; "" for scenarios computed without a sweep
    labels: list[str] = field(default_factory=list)  # one per case, in the sweep's case order
    title: str = ""


SCENARIOS: dict[str, Scenario] = {
    "flaw_vs_current": Scenario("scenarios/flaw_vs_current.toml",
                                ["0.25 mA/cm²", "0.5 mA/cm²", "1 mA/cm²", "2 mA/cm²", "flaw-free, 2 mA/cm²"],
                                "flawed vs flaw-free surface; current sweep"),
    "stack_pressure": Scenario("scenarios/stack_pressure.toml", ["0 MPa", "5 MPa", "10 MPa", "20 MPa"],
                               "stack pressure on the counter electrode"),
    "inplane_stress": Scenario("scenarios/inplane_stress.toml", ["0 MPa", "10 MPa", "30 MPa", "70 MPa", "200 MPa"],
                               "in-plane compression"),
    "pulse_vs_dc": Scenario("scenarios/pulse_vs_dc.toml", ["DC 0.5 mA/cm²", "pulse 1 mA/cm², 20 s period",
                                                            "pulse 1 mA/cm², 4 s period"], "pulse vs DC"),
    "pores": Scenario("scenarios/pores.toml", ["pit, no pore", "pit + void above", "pit + void aside",
                                               "no pit, void under the surface"], "pores and subsurface voids"),
    "temperature": Scenario("scenarios/temperature.toml",
                            [f"{t} °C, i0 {e}" for t in (25, 60, 80) for e in ("fixed", "0.40 eV")],
                            "temperature (κ: 0.40 eV assumed; i0 fixed or 0.40 eV assumed)"),
    "polycrystal": Scenario("scenarios/polycrystal.toml", ["single crystal", "GB ×0.1", "GB ×0.01"], "polycrystal"),
    "scenes_3d": Scenario("scenarios/scenes_3d.toml", ["semi-sphere", "semi-ellipsoid", "pyramid", "cube", "STL pit"],
                          "3D defect shapes"),
    "scenes_3d_onset": Scenario("scenarios/scenes_3d_onset.toml",
                                ["semi-sphere", "semi-ellipsoid", "pyramid", "cube", "STL pit"],
                                "3D defect shapes, first 6 s"),
    "pyramid_ar": Scenario("seed000_sweep_pyramid_ar.toml",
                           [f"AR {a:g}" for a in (0.2, 0.33, 0.5, 1.0, 2.0, 3.5, 5.0)],
                           "seed 000 Fig. 6: pyramid aspect ratio"),
    "griffith": Scenario("", [], "Griffith limit of a Li-filled flaw"),
    "xct": Scenario("", [], "seed 000 Fig. 7: cracks against deposited capacity"),
}

PYRAMID_AR = (0.2, 0.33, 0.5, 1.0, 2.0, 3.5, 5.0)


# ---------------------------------------------------------------- reading a case
def read_results(sweep_dir: Path) -> list[dict[str, str]]:
    with open(sweep_dir / "results.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return sorted(rows, key=lambda r: int(r["index"]))


def initial_state(run_dir: Path, scenes_dir: Path, points_um: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(initial Li mask, initial grain ids or None) at the snapshot's sites ``points_um``, from the
    run's resolved scene (the snapshots start after the first steps; STL paths resolve in
    ``scenes_dir``)."""
    from ..config.loader import load_scene
    from ..config.resolve import resolve

    setup = resolve(load_scene(run_dir / "scene.toml"), scenes_dir)
    x = setup.lattice.positions() * 1e6
    dx = setup.lattice.dx * 1e6
    li_id = [k + 1 for k, m in enumerate(setup.materials) if m.role == "lithium"]
    li = np.isin(setup.material_ids, li_id)
    grain = setup.grain_ids

    def key(p):
        return [tuple(r) for r in np.floor(p / dx + 1e-6).astype(np.int64)]

    where = {k: q for q, k in enumerate(key(x))}
    idx = np.array([where[k] for k in key(points_um)])
    return li[idx], (None if grain is None else np.asarray(grain)[idx])


def case_measures(run_dir: Path, scenes_dir: Path = Path("scenes/scenarios")) -> dict[str, Any]:
    """The figures of one coupled case: from its time series, summary and last snapshot."""
    from ..viz.data import RunData
    run = RunData(run_dir)
    s = run.series
    t = np.asarray(s["time_s"], dtype=float)
    out: dict[str, Any] = dict(
        failure_time_s=run.summary.get("failure_time_s"), failure_cause=run.summary.get("failure_cause"),
        end_time_s=float(t[-1]), wall_time_s=run.summary.get("wall_time_s"),
        bonds_broken=int(np.asarray(s["bonds_broken_total"])[-1]),
        damage_sum=float(np.asarray(s["damage_sum"])[-1]),
        crack_area_um2=float(np.asarray(s["crack_area_um2"])[-1]),
        crack_depth_um=float(np.asarray(s["crack_depth_um"])[-1]),
        capacity_mAh_cm2=float(np.asarray(s["capacity_mAh_cm2"])[-1]),
        li_pressure_max_MPa=float(np.max(s["li_pressure_max_MPa"])),
        von_mises_max_MPa=float(np.max(s["von_mises_max_MPa"])),
    )
    from .seed000 import COMPARE_AT_S, _snapshot_at

    snap12 = _snapshot_at(run, COMPARE_AT_S) if len(run) else None
    if snap12 is not None and snap12.dim == 2:
        from ..viz.figures import damage_profile

        y, dmg12, _, _ = damage_profile(snap12, run.material_roles, 5.0, 1.0)
        out["damage_x5_12s"] = [np.asarray(y).tolist(), np.nan_to_num(np.asarray(dmg12, float)).tolist()]
    broken = np.asarray(s["bonds_broken_total"], dtype=float)
    first = np.nonzero(broken > 0)[0]
    out["first_break_s"] = float(t[first[0]]) if first.size else None
    out["series"] = dict(time_s=t.tolist(), crack_area_um2=np.asarray(s["crack_area_um2"], float).tolist(),
                         capacity_mAh_cm2=np.asarray(s["capacity_mAh_cm2"], float).tolist(),
                         current_density_mA_cm2=np.asarray(s["current_density_mA_cm2"], float).tolist(),
                         li_pressure_max_MPa=np.asarray(s["li_pressure_max_MPa"], float).tolist(),
                         bonds_broken_total=broken.tolist())
    if len(run):
        snap = run.snapshot(len(run) - 1)
        x = snap.positions() * 1e6
        dmg = np.asarray(snap.fields["damage"], dtype=float)
        # the crack: damaged electrolyte, and sites that Li has filled since the start (Li follows cracks)
        li_init, grain0 = initial_state(run_dir, scenes_dir, x)
        cracked = dmg > DAMAGED
        if "li_fraction" in snap.fields:  # and the sites Li has filled since the start (Li follows cracks)
            cracked |= (np.asarray(snap.fields["li_fraction"], dtype=float) > 0.5) & ~li_init
        # the pit's crown: the highest site of the initial Li near the lattice's centre line
        xc = 0.5 * (x[:, 0].min() + x[:, 0].max())
        col = li_init & (np.abs(x[:, 0] - xc) < 0.3)
        if snap.dim == 3:
            zc = 0.5 * (x[:, 2].min() + x[:, 2].max())
            col &= np.abs(x[:, 2] - zc) < 0.3
        crown = np.array([xc, x[col, 1].max() if col.any() else 0.0])
        above = cracked & (x[:, 1] > crown[1] + 0.3)
        if grain0 is not None and snap.dim == 2:
            out.update(grain_boundary_measures(x, grain0, cracked))
        out["crack_angle_deg"] = crack_angle(x[above], crown) if above.sum() >= 3 else None
        if cracked.any():
            xc = x[cracked]
            out["crack_extent_um"] = (np.ptp(xc, axis=0)).tolist()
    return out


def grain_boundary_measures(x: np.ndarray, grain: np.ndarray, cracked: np.ndarray) -> dict[str, float]:
    """How intergranular a crack is: the share of cracked sites that lie on a grain boundary (a site
    with a 4-neighbour of another grain) against the share of all grain sites that do (the value a
    crack blind to the grains would have)."""
    img, _ = _raster(x, grain.astype(float))
    g = np.nan_to_num(img, nan=0.0)
    on = np.zeros_like(g, dtype=bool)
    for ax in (0, 1):
        for sh in (1, -1):
            nb = np.roll(g, sh, axis=ax)
            edge = np.zeros_like(on)
            if ax == 0:
                edge[0 if sh == 1 else -1, :] = True
            else:
                edge[:, 0 if sh == 1 else -1] = True
            on |= (g > 0) & (nb > 0) & (nb != g) & ~edge
    dx = float(np.min(np.diff(np.unique(np.round(x[:, 0], 9)))))
    i = np.rint((x[:, 0] - x[:, 0].min()) / dx).astype(int)
    j = np.rint((x[:, 1] - x[:, 1].min()) / dx).astype(int)
    gb = on[j, i]
    grains = grain > 0
    c = cracked & grains
    return dict(gb_site_share=float(gb[grains].mean()) if grains.any() else None,
                cracked_on_gb_share=float(gb[c].mean()) if c.any() else None)


def crack_angle(points: np.ndarray, crown: np.ndarray) -> float:
    """Mean angle (degrees) between the interface normal (y) and the line from the pit's crown to
    each cracked site above it: 0° is a crack running straight into the electrolyte, 90° one running
    parallel to the interface (a symmetric V of half-angle θ gives θ)."""
    d = points[:, :2] - crown[:2]
    return float(np.degrees(np.mean(np.arctan2(np.abs(d[:, 0]), d[:, 1]))))


# ---------------------------------------------------------------- figures
def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, out: Path, stem: str, formats=("png", "svg")) -> list[Path]:
    plt = _plt()
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in formats:
        p = out / f"{stem}.{ext}"
        fig.savefig(p, dpi=110, bbox_inches="tight")
        paths.append(p)
    plt.close(fig)
    return paths


def _raster(x: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """Values on the sites of a regular lattice as an image (NaN where no site), and its extent."""
    dx = float(np.min(np.diff(np.unique(np.round(x[:, 0], 9)))))
    i = np.rint((x[:, 0] - x[:, 0].min()) / dx).astype(int)
    j = np.rint((x[:, 1] - x[:, 1].min()) / dx).astype(int)
    img = np.full((j.max() + 1, i.max() + 1), np.nan)
    img[j, i] = values
    ext = [x[:, 0].min() - dx / 2, x[:, 0].max() + dx / 2, x[:, 1].min() - dx / 2, x[:, 1].max() + dx / 2]
    return img, ext


def damage_panels(run_dirs: list[Path], labels: list[str], out: Path, stem: str, title: str,
                  field: str = "damage", scenes_dir: Path = Path("scenes/scenarios")) -> list[Path]:
    """Small multiples of the last snapshot of each case: damage of the electrolyte, Li in blue-grey."""
    from ..viz.data import RunData

    plt = _plt()
    n = len(run_dirs)
    if n == 0:
        return []
    cols = min(n, 5)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.9 * rows), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, d, lab in zip(axes.flat, run_dirs, labels):
        run = RunData(d)
        if not len(run):
            continue
        snap = run.snapshot(len(run) - 1)
        x = snap.positions() * 1e6
        keep = np.ones(len(x), bool)
        if snap.dim == 3:  # the mid-plane z = centre
            zs = np.unique(np.round(x[:, 2], 9))
            keep = np.isclose(x[:, 2], zs[len(zs) // 2])
        x = x[keep]
        v = np.asarray(snap.fields[field], dtype=float)[keep]
        li = np.asarray(snap.fields["li_fraction"], dtype=float)[keep] > 0.5 if "li_fraction" in snap.fields \
            else np.zeros(len(v), bool)
        solid = np.asarray(snap.fields["material"])[keep] > 0
        img, ext = _raster(x, np.where(solid & ~li, v, np.nan))
        lim, _ = _raster(x, np.where(solid & li, 1.0, np.nan))
        ax.imshow(lim, origin="lower", extent=ext, cmap="Blues", vmin=0, vmax=2.5, interpolation="nearest")
        ax.imshow(img, origin="lower", extent=ext, cmap="inferno", vmin=0, vmax=0.5, interpolation="nearest")
        if "grain" in snap.fields and snap.dim == 2:  # grain boundaries of the initial grains, in grey
            g0 = initial_state(Path(d), scenes_dir, x)[1].astype(float)
            gimg, _ = _raster(x, g0)
            gb = np.zeros_like(gimg, dtype=bool)
            gb[:, 1:] |= (gimg[:, 1:] != gimg[:, :-1]) & (gimg[:, 1:] > 0) & (gimg[:, :-1] > 0)
            gb[1:, :] |= (gimg[1:, :] != gimg[:-1, :]) & (gimg[1:, :] > 0) & (gimg[:-1, :] > 0)
            ax.imshow(np.where(gb & ~(np.nan_to_num(img) > 0.05), 1.0, np.nan), origin="lower", extent=ext,
                      cmap="Greys", vmin=0, vmax=2.5, interpolation="nearest", alpha=0.8)
        ax.set_aspect("equal")
        ft = run.summary.get("failure_time_s")
        sub = (f"fails {ft:.1f} s ({run.summary.get('failure_cause')})" if ft
               else f"no failure by {float(np.asarray(run.series['time_s'])[-1]):.1f} s"
               + ("" if run.summary else " (stopped)"))
        ax.set_title(f"{lab}\n{sub}", fontsize=7)
    fig.suptitle(title + " (last snapshot; damage 0–0.5 black→yellow, Li blue)", fontsize=9)
    return _save(fig, out, stem)


def _bar_or_line(xs, ys, xlabel, ylabel, title, out, stem, log=False, extra=None):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    ax.plot(xs, ys, "o-", color="C3")
    if extra:
        extra(ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_title(title, fontsize=9)
    return _save(fig, out, stem)


# ---------------------------------------------------------------- the scenarios
def _table(header: list[str], rows: list[list[Any]]) -> str:
    def cell(v):
        if v is None:
            return "—"
        if isinstance(v, float):
            return f"{v:.3g}"
        return str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


STANDARD = ["case", "failure (s)", "cause", "first break (s)", "bonds broken", "crack depth (µm)",
            "crack angle (°)", "max Li pressure (MPa)", "capacity (mAh/cm²)"]


def _standard_rows(labels, ms):
    return [[lab, m["failure_time_s"], m["failure_cause"], m["first_break_s"], m["bonds_broken"],
             m["crack_depth_um"], m.get("crack_angle_deg"), m["li_pressure_max_MPa"], m["capacity_mAh_cm2"]]
            for lab, m in zip(labels, ms)]


def analyse_sweep(name: str, sweep_dir: Path, figs: Path, scenes_dir: Path = Path("scenes")) -> dict[str, Any]:
    from ..sweep.spec import load_sweep

    sc = SCENARIOS[name]
    # the cases of the sweep file, in its order, each in its content-hashed folder (a sweep that was
    # stopped part-way is analysed as far as it got: unfinished cases are listed as not finished)
    cases = load_sweep(scenes_dir / sc.sweep).cases
    dirs = [sweep_dir / "cases" / c.hash for c in cases]
    # the folders the sweep recorded win: a case's hash includes the code version that resolved it
    if (sweep_dir / "results.csv").is_file():
        for r in read_results(sweep_dir):
            k = int(r["index"])
            if k < len(dirs) and not (dirs[k] / "timeseries.csv").is_file():
                dirs[k] = sweep_dir / "cases" / r["case"]
    labels = sc.labels if len(sc.labels) == len(cases) else [f"case {k}" for k in range(len(cases))]
    ms = []
    for d in dirs:
        try:
            if not (d / "timeseries.csv").is_file():
                raise ValueError("not run")
            m = case_measures(d, (scenes_dir / sc.sweep).parent)
            if not (d / "summary.json").is_file():  # stopped part-way: report how far it got
                m["failure_cause"] = f"(stopped at {m['end_time_s']:.1f} s)"
            ms.append(m)
        except (OSError, KeyError, ValueError) as exc:
            ms.append(dict(error=str(exc), failure_time_s=None, failure_cause=None, first_break_s=None,
                           bonds_broken=None, crack_depth_um=None, li_pressure_max_MPa=None,
                           capacity_mAh_cm2=None, series=None))
    paths = damage_panels([d for d, m in zip(dirs, ms) if "error" not in m],
                          [lab for lab, m in zip(labels, ms) if "error" not in m], figs, f"{name}_damage", sc.title,
                          scenes_dir=(scenes_dir / sc.sweep).parent)
    extra = ANALYSES.get(name)
    more = extra(labels, ms, figs) if extra else {}
    paths += more.pop("paths", [])
    for m in ms:
        m.pop("series", None)
    rows = _standard_rows(labels, ms)
    for r, m in zip(rows, ms):
        if "error" in m:
            r[1:] = [m["error"]] + ["—"] * (len(r) - 2)
    return dict(title=sc.title, labels=labels, cases=ms, figures=[str(p) for p in paths],
                table=_table(STANDARD, rows), **more)


def _flaw_current(labels, ms, figs):
    cur = np.array([0.25, 0.5, 1.0, 2.0])
    ft = np.array([m["failure_time_s"] or np.nan for m in ms[:4]])
    paths = _bar_or_line(cur, ft, "current density (mA cm⁻²)", "failure time (s)",
                         "flawed surface: failure time against current (flaw-free: no fracture)", figs,
                         "flaw_vs_current_failure_time", log=True,
                         extra=lambda ax: ax.plot(cur, ft[0] * cur[0] / cur, "--", color="0.6", label="∝ 1/i (charge)")
                         or ax.legend(fontsize=8))
    ok = np.all(np.diff(ft[np.isfinite(ft)]) < 0)
    slope = float(np.polyfit(np.log(cur[np.isfinite(ft)]), np.log(ft[np.isfinite(ft)]), 1)[0]) if np.isfinite(ft).sum() >= 2 else None
    return dict(paths=paths, monotone=bool(ok), loglog_slope=slope,
                flaw_free_bonds_broken=ms[4]["bonds_broken"] if len(ms) > 4 else None)


def _series_plot(labels, ms, figs, stem, title, xkey="time_s", ykey="crack_area_um2", xlabel="time (s)",
                 ylabel="crack area (µm²)"):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    for i, (lab, m) in enumerate(zip(labels, ms)):
        s = m.get("series")
        if s:
            ax.plot(s[xkey], s[ykey], label=lab, color=f"C{i}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
    ax.set_title(title, fontsize=9)
    return _save(fig, figs, stem)


def _pulse(labels, ms, figs):
    paths = _series_plot(labels, ms, figs, "pulse_vs_dc_crack", "pulse vs DC: crack area against plated charge",
                         xkey="capacity_mAh_cm2", xlabel="plated charge (mAh cm⁻²)")
    paths += _series_plot(labels, ms, figs, "pulse_vs_dc_pressure", "pulse vs DC: Li pressure",
                          ykey="li_pressure_max_MPa", ylabel="max Li pressure (MPa)")
    cap = [m["capacity_mAh_cm2"] if m["failure_time_s"] else None for m in ms]
    return dict(paths=paths, capacity_at_failure_mAh_cm2=cap)


def _angle(labels, ms, figs):
    s = np.array([0, 10, 30, 70, 200], dtype=float)[: len(ms)]
    ang = np.array([m.get("crack_angle_deg") if m.get("crack_angle_deg") is not None else np.nan for m in ms])
    paths = _bar_or_line(s, ang, "in-plane compression (MPa)", "crack angle from the interface normal (°)",
                         "in-plane compression deflects the crack (0° = straight in, 90° = parallel)", figs,
                         "inplane_stress_angle")
    return dict(paths=paths)


def _stack(labels, ms, figs):
    return dict(paths=_series_plot(labels, ms, figs, "stack_pressure_crack", "stack pressure: crack area against time"))


def _temperature(labels, ms, figs):
    paths = _series_plot(labels, ms, figs, "temperature_current", "temperature: plating current",
                         ykey="current_density_mA_cm2", ylabel="current density (mA cm⁻²)")
    paths += _series_plot(labels, ms, figs, "temperature_crack", "temperature: crack area against time")
    return dict(paths=paths)


def _ar(labels, ms, figs):
    plt = _plt()
    ar = np.array(PYRAMID_AR[: len(ms)])
    fig, ax = plt.subplots(figsize=(5.6, 3.4))
    ax.plot(ar, [m.get("damage_sum") or np.nan for m in ms], "o-", label="sum damage (final)", color="C3")
    ax2 = ax.twinx()
    ax2.plot(ar, [m.get("crack_area_um2") or np.nan for m in ms], "s--", label="crack area (final, µm²)", color="C0")
    ax.set_xlabel("aspect ratio (height / width)")
    ax.set_ylabel("sum damage")
    ax2.set_ylabel("crack area (µm²)")
    ax.axvline(1.25, color="0.8", lw=0.8)
    ax.set_title("Fig. 6i analogue (paper: minima at AR 0.33 and 2.0, maxima at 1.0 and 3.5)", fontsize=8)
    paths = _save(fig, figs, "pyramid_ar_sums")
    ft = [m["failure_time_s"] or np.nan for m in ms]
    paths += _bar_or_line(ar, ft, "aspect ratio (height / width)", "failure time (s)",
                          "Fig. 6j analogue (paper: longest at AR 2.0)", figs, "pyramid_ar_failure_time")
    # Fig. 5e-f: damage along the centre line X = 5 µm (a 1 µm band) at the paper's 12 s
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
    for i, (a, m) in enumerate(zip(ar, ms)):
        pr = m.get("damage_x5_12s")
        if pr:
            ax = axes[0] if a <= 1.0 else axes[1]
            ax.plot(pr[0], pr[1], label=f"AR {a:g}", color=f"C{i}")
    for ax, t in zip(axes, ("AR 0.2–1.0 (height 1 µm)", "AR 2–5 (width 1 µm)")):
        ax.set_xlabel("y (µm)")
        ax.set_title(t, fontsize=9)
        ax.legend(fontsize=7)
    axes[0].set_ylabel("damage, 1 µm band at X = 5 µm, t = 12 s")
    paths += _save(fig, figs, "pyramid_ar_centre_line")
    return dict(paths=paths)


def _polycrystal(labels, ms, figs):
    rows = [[lab, m.get("cracked_on_gb_share"), m.get("gb_site_share"), m["bonds_broken"], m["failure_time_s"]]
            for lab, m in zip(labels, ms)]
    return dict(grain_table=_table(["case", "cracked sites on a grain boundary", "all sites on a grain boundary",
                                    "bonds broken", "failure (s)"], rows))


ANALYSES: dict[str, Callable] = {"polycrystal": _polycrystal, "flaw_vs_current": _flaw_current, "pulse_vs_dc": _pulse, "inplane_stress": _angle,
                                 "stack_pressure": _stack, "temperature": _temperature, "pyramid_ar": _ar}


# ---------------------------------------------------------------- computed without a sweep
def griffith(figs: Path, sizes=(8, 12, 16, 24)) -> dict[str, Any]:
    """Critical overpotential of a Li-filled slit against its half-length.

    Plating into a confined flaw stops when the mechanical overpotential p·V_m/F equals the applied
    one (MODEL.md §4), so the flaw cracks once F·η/V_m reaches the Griffith pressure: the critical
    overpotential is ΔΦ_c = V_m·p_c/F with p_c the onset pressure measured by
    :func:`pdssb.verification.li_slit_onset` (literature LAGP, K_IC = 1.1 MPa m^½), against the
    closed form ΔΦ = V_m·K_IC/(F·Y·√(πa)) (seed 004, eqs. 5–6)."""
    from ..materials import get_material
    from ..units import FARADAY_C_PER_MOL
    from ..verification import li_slit_onset

    vm = get_material("Li").molar_volume.value
    rows = []
    for n in sizes:
        r = li_slit_onset(n, thickness=4)
        rows.append(dict(half_length_um=r["half_length"] * 1e6, onset_pressure_MPa=r["onset_pressure"] / 1e6,
                         griffith_pressure_MPa=r["griffith"] / 1e6,
                         critical_overpotential_mV=1e3 * vm * r["onset_pressure"] / FARADAY_C_PER_MOL,
                         griffith_overpotential_mV=1e3 * vm * r["griffith"] / FARADAY_C_PER_MOL))
    a = np.array([r["half_length_um"] for r in rows])
    eta = np.array([r["critical_overpotential_mV"] for r in rows])
    eta_g = np.array([r["griffith_overpotential_mV"] for r in rows])
    slope = float(np.polyfit(np.log(a), np.log(eta), 1)[0])
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    ax.plot(a, eta, "o", color="C3", label="pdssb (onset of the Li-filled slit)")
    ax.plot(a, eta_g, "-", color="0.3", label="V_m K_IC / (F Y √(πa))")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("flaw half-length a (µm)")
    ax.set_ylabel("critical overpotential (mV)")
    ax.set_title(f"Griffith limit of a Li-filled flaw (fitted slope {slope:.2f}, closed form −0.5)", fontsize=9)
    ax.legend(fontsize=8)
    paths = _save(fig, figs, "griffith_overpotential")
    table = _table(["a (µm)", "ΔΦ_c pdssb (mV)", "ΔΦ closed form (mV)", "ratio"],
                   [[r["half_length_um"], r["critical_overpotential_mV"], r["griffith_overpotential_mV"],
                     r["critical_overpotential_mV"] / r["griffith_overpotential_mV"]] for r in rows])
    return dict(title=SCENARIOS["griffith"].title, rows=rows, slope=slope, table=table,
                figures=[str(p) for p in paths])


def xct(seed000_runs: Path, figs: Path) -> dict[str, Any]:
    """Seed 000 Fig. 7c analogue: crack amount against deposited charge, normalised to the charge at
    failure (the paper: massive cracking sets in after about half of the 4.4 mAh, i.e. > 2.0 mAh)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    rows = []
    for i, g in enumerate(("cube", "semi_sphere", "semi_ellipsoid", "pyramid")):
        d = seed000_runs / g
        if not (d / "timeseries.csv").exists():
            continue
        m = case_measures(d, Path("scenes"))
        s = m["series"]
        q = np.asarray(s["capacity_mAh_cm2"])
        c = np.asarray(s["crack_area_um2"])
        if q[-1] <= 0 or c[-1] <= 0:
            continue
        qn, cn = q / q[-1], c / c[-1]
        half = float(np.interp(0.5, cn, qn))
        rows.append([g.replace("_", "-"), q[-1], half])
        ax.plot(qn, cn, label=g.replace("_", "-"), color=f"C{i}", lw=2 if g == "cube" else 1)
    ax.axvline(2.0 / 4.4, color="0.5", ls="--", lw=0.8, label="paper: sharp growth after 2.0 of 4.4 mAh")
    ax.set_xlabel("deposited charge / charge at failure")
    ax.set_ylabel("crack area / final crack area")
    ax.legend(fontsize=7)
    ax.set_title("Fig. 7c analogue: cracks against deposited Li (normalised)", fontsize=9)
    paths = _save(fig, figs, "xct_cracks_vs_capacity")
    table = _table(["defect", "charge at failure (mAh/cm²)", "charge fraction at half the final crack"], rows)
    return dict(title=SCENARIOS["xct"].title, rows=rows, table=table, figures=[str(p) for p in paths])


# ---------------------------------------------------------------- driver
def validate(names: list[str], scenes_dir: Path, out: Path, workers: int = 1, run: bool = True,
             arch: str = "cpu", seed000_runs: Path | None = None) -> dict[str, Any]:
    from ..io.atomic import atomic_write_json, atomic_write_text
    from ..sweep.runner import run_sweep
    from ..sweep.spec import load_sweep

    figs = out / "figures"
    results_path = out / "results.json"
    results: dict[str, Any] = json.loads(results_path.read_text()) if results_path.exists() else {}
    for name in names:
        sc = SCENARIOS[name]
        if name == "griffith":
            from .. import backend

            backend.init(arch, "f64")
            results[name] = griffith(figs)
        elif name == "xct":
            results[name] = xct(seed000_runs or Path("out/validation/seed000/runs"), figs)
        else:
            sweep_dir = out / name
            if run:
                run_sweep(load_sweep(scenes_dir / sc.sweep), sweep_dir, workers=workers, arch=arch, quiet=True)
            results[name] = analyse_sweep(name, sweep_dir, figs, scenes_dir)
        atomic_write_json(results_path, results)
    lines = ["# Scenario library: measured\n"]
    for name, r in results.items():
        lines.append(f"## {name}: {r.get('title', '')}\n")
        lines.append(r.get("table", ""))
        extra = {k: v for k, v in r.items() if k not in ("title", "labels", "cases", "figures", "table", "rows")}
        if extra:
            lines.append("`" + json.dumps(extra) + "`\n")
    atomic_write_text(out / "report.md", "\n".join(lines))
    return results
