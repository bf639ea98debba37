"""Paper-style matplotlib figures of a run folder, as PNG and SVG (shared with the validation docs).

``figures_for_run(run_dir)`` writes into ``RUN_DIR/figures/``:

* ``timeseries``: max/mean von Mises and hydrostatic extremes, damage and broken bonds against time
  (load steps) and, for coupled runs, current density and deposited capacity;
* ``von_mises_histogram``: von Mises stress over the electrolyte sites of the last snapshot;
* ``von_mises_profile``: von Mises along x, averaged over a band (default 1 µm) at height Y = 5 µm
  (the seed-000 paper's Fig. 2e/2g);
* ``damage_profile``: damage along the height, averaged over a band at X = 5 µm (its Fig. 3).

The height axis is the last axis (y in 2D, z in 3D); in 3D the band is also 1 µm wide about the
middle of the remaining axis. A position outside the body falls back to the middle of the body
(the figure title says so). ``failure_time_bars(runs, out)`` compares failure times of several
coupled runs. Only the Agg backend is used (no display needed).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from .data import RunData, SnapshotData

__all__ = ["FIGURES", "FORMATS", "damage_profile", "failure_time_bars", "figures_for_run", "von_mises_profile"]

FORMATS = ("png", "svg")
#: the figures ``figures_for_run`` writes, in its order (file stems)
FIGURES = ("timeseries", "von_mises_histogram", "von_mises_profile", "damage_profile")


def _figure(size=(6.0, 4.0)):
    from matplotlib.figure import Figure

    return Figure(figsize=size, dpi=120, layout="constrained")


def _save(fig, out_dir: Path, stem: str, formats: Sequence[str]) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in formats:
        p = out_dir / f"{stem}.{ext}"
        fig.savefig(p)
        paths.append(p)
    return paths


def _position(value_um: float, lo: float, hi: float) -> tuple[float, bool]:
    """``value_um`` if it lies in [lo, hi], else the middle (and True: it was moved)."""
    if lo <= value_um <= hi:
        return value_um, False
    return 0.5 * (lo + hi), True


def _profile(snap: SnapshotData, values: np.ndarray, mask: np.ndarray, along: int, across: int,
             at_um: float, band_um: float):
    """Mean of ``values`` over sites within band_um/2 of ``at_um`` on axis ``across``, per site along ``along``."""
    x = snap.positions() * 1e6
    lo = snap.origin[across] * 1e6
    hi = lo + snap.extent[across] * 1e6
    at, moved = _position(at_um, lo, hi)
    half = max(0.5 * band_um, 0.5 * snap.dx * 1e6)
    band = mask & (np.abs(x[:, across] - at) <= half + 1e-9)
    if snap.dim == 3:
        other = ({0, 1, 2} - {along, across}).pop()
        c = (snap.origin[other] + 0.5 * snap.extent[other]) * 1e6
        band &= np.abs(x[:, other] - c) <= half + 1e-9
    idx = np.indices(snap.shape)[along].ravel()
    n = snap.shape[along]
    sums = np.bincount(idx[band], weights=values[band], minlength=n)
    counts = np.bincount(idx[band], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    coord = (snap.origin[along] + (np.arange(n) + 0.5) * snap.dx) * 1e6
    return coord, mean, at, moved


def electrolyte_mask(snap: SnapshotData, roles: Sequence[str]) -> np.ndarray:
    mat = np.asarray(snap.fields.get("material", np.ones(int(np.prod(snap.shape)))))
    ids = [i + 1 for i, r in enumerate(roles) if r == "electrolyte"]
    if ids:
        return np.isin(mat, ids)
    return mat != 0


def von_mises_profile(snap: SnapshotData, roles: Sequence[str] = (), y_um: float = 5.0, band_um: float = 1.0):
    """(x in µm, mean von Mises in MPa, the height used, whether it was moved to the middle)."""
    vm = np.asarray(snap.fields["von_mises_Pa"], dtype=np.float64) / 1e6
    return _profile(snap, vm, electrolyte_mask(snap, roles), 0, snap.dim - 1, y_um, band_um)


def damage_profile(snap: SnapshotData, roles: Sequence[str] = (), x_um: float = 5.0, band_um: float = 1.0):
    """(height in µm, mean damage, the x used, whether it was moved to the middle)."""
    d = np.asarray(snap.fields["damage"], dtype=np.float64)
    return _profile(snap, d, electrolyte_mask(snap, roles), snap.dim - 1, 0, x_um, band_um)


def _timeseries_figure(series: Mapping[str, np.ndarray], title: str):
    coupled = "capacity_mAh" in series
    t = series.get("time_s", series.get("step"))
    rows = 3 if coupled else 2
    fig = _figure((7.0, 2.4 * rows))
    axes = fig.subplots(rows, 1, sharex=True)
    ax = axes[0]
    for key, label in (("von_mises_max_MPa", "max von Mises"), ("von_mises_mean_MPa", "mean von Mises"),
                       ("hydrostatic_max_MPa", "max hydrostatic"), ("hydrostatic_min_MPa", "min hydrostatic")):
        if key in series:
            ax.plot(t, series[key], label=label)
    ax.set_ylabel("stress (MPa)")
    ax.legend(fontsize=7, ncol=2)
    ax.set_title(title, fontsize=9)
    ax = axes[1]
    for key, label, color in (("damage_max", "max damage", "C3"),
                              ("interface_damage_mean", "mean interface damage", "C1")):  # the cathode's
        if key in series:
            ax.plot(t, series[key], color=color, label=label)
    ax.set_ylabel("damage")
    ax.set_ylim(-0.02, 1.02)
    if "bonds_broken_total" in series:
        tw = ax.twinx()
        tw.plot(t, series["bonds_broken_total"], color="C7", ls="--", label="broken bonds")
        tw.set_ylabel("broken bonds")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="upper left")
    if coupled:
        ax = axes[2]
        if "capacity_mAh_cm2" in series and np.isfinite(series["capacity_mAh_cm2"]).any():
            ax.plot(t, series["capacity_mAh_cm2"], color="C2", label="capacity")
            ax.set_ylabel("capacity (mAh cm⁻²)")
        else:
            ax.plot(t, series["capacity_mAh"], color="C2", label="capacity")
            ax.set_ylabel("capacity (mAh)")
        if "current_density_mA_cm2" in series:
            tw = ax.twinx()
            tw.plot(t, series["current_density_mA_cm2"], color="C1", ls="--", label="current density")
            tw.set_ylabel("current density (mA cm⁻²)")
    axes[-1].set_xlabel("time (s)" if "time_s" in series else "step")
    return fig


def figures_for_run(run_dir: str | Path, out_dir: str | Path | None = None, formats: Sequence[str] = FORMATS,
                    y_um: float = 5.0, x_um: float = 5.0, band_um: float = 1.0) -> list[Path]:
    """Write the key figures of a run folder (default into RUN_DIR/figures/); returns the files."""
    run = RunData(run_dir)
    out = Path(out_dir) if out_dir is not None else run.run_dir / "figures"
    paths: list[Path] = []
    if run.series and len(run.series.get("step", ())):
        paths += _save(_timeseries_figure(run.series, run.title), out, "timeseries", formats)
    snap = run.snapshot(len(run) - 1)
    roles = run.material_roles
    when = f"t = {snap.time:.4g} s (step {snap.step})"
    sel = electrolyte_mask(snap, roles)
    vm = np.asarray(snap.fields["von_mises_Pa"], dtype=np.float64)[sel] / 1e6
    fig = _figure()
    ax = fig.subplots()
    ax.hist(vm[np.isfinite(vm)], bins=60, color="C0")
    ax.set_xlabel("von Mises stress (MPa)")
    ax.set_ylabel("sites")
    ax.set_yscale("log")
    ax.set_title(f"{run.title}\nvon Mises over the electrolyte, {when}", fontsize=9)
    paths += _save(fig, out, "von_mises_histogram", formats)

    x, prof, at, moved = von_mises_profile(snap, roles, y_um, band_um)
    fig = _figure()
    ax = fig.subplots()
    ax.plot(x, prof, color="C0")
    ax.set_xlabel("x (µm)")
    ax.set_ylabel("von Mises stress (MPa)")
    hname = "Y" if snap.dim == 2 else "Z"
    ax.set_title(f"{run.title}\nvon Mises along x, {band_um:g} µm band at {hname} = {at:.3g} µm"
                 f"{' (body middle)' if moved else ''}, {when}", fontsize=9)
    paths += _save(fig, out, "von_mises_profile", formats)

    h, dprof, at, moved = damage_profile(snap, roles, x_um, band_um)
    fig = _figure()
    ax = fig.subplots()
    ax.plot(h, dprof, color="C3")
    ax.set_xlabel(f"{hname.lower()} (µm)")
    ax.set_ylabel("damage")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(f"{run.title}\ndamage along {hname.lower()}, {band_um:g} µm band at X = {at:.3g} µm"
                 f"{' (body middle)' if moved else ''}, {when}", fontsize=9)
    paths += _save(fig, out, "damage_profile", formats)
    return paths


def failure_time_bars(runs: Mapping[str, str | Path] | Sequence[str | Path], out: str | Path,
                      formats: Sequence[str] = FORMATS) -> list[Path]:
    """Bar chart of the failure times of coupled runs ({label: run_dir} or run dirs); unfailed runs are hatched at their end time."""
    items = runs.items() if isinstance(runs, Mapping) else [(Path(r).name, r) for r in runs]
    labels, times, failed = [], [], []
    for label, rd in items:
        s = json.loads((Path(rd) / "summary.json").read_text())
        ft = s.get("failure_time_s")
        labels.append(str(label))
        times.append(float(ft if ft is not None else s.get("time_s") or np.nan))
        failed.append(ft is not None)
    fig = _figure((1.2 + 1.0 * len(labels), 3.6))
    ax = fig.subplots()
    bars = ax.bar(labels, times, color=["C3" if f else "C7" for f in failed])
    for b, f in zip(bars, failed):
        if not f:
            b.set_hatch("//")
    ax.set_ylabel("failure time (s)")
    ax.set_title("failure time (grey, hatched: no failure by the end of the run)", fontsize=8)
    out = Path(out)
    return _save(fig, out.parent, out.stem, formats)
