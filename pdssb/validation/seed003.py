"""Seed 003 (Yuan, Lu, Xu, composite cathode) side by side with pdssb: the paper's four studies as sweeps.

Each study varies one setting of ``scenes/seed003_<dim>d.toml`` (the baseline: σc = 100 MPa, Gc = 1 J m⁻²,
1C, no external pressure, anisotropy Case 1); cases shared between studies run once. Writes into OUT:

- ``cases/<case>.csv``: the time series of each case (pdssb/cathode.py's columns), ``cases/<case>.toml``
  its scene, ``cases/<case>_end_of_charge.npz`` its von Mises field at the end of charge;
- ``results.json``: per case D_G_ave_nm, D_G_max_nm, von_mises_max_GPa, capacity_mAh and the other
  measures of :func:`metrics` (from the case's time series), with the paper's numbers beside them;
- ``table.md``: the markdown tables of the four studies;
- ``figures/``: the baseline's voltage curve, D_G against time and the von Mises field of the particle's
  section at the end of charge (PNG).
"""

from __future__ import annotations

import copy
import csv
import io
from pathlib import Path
from typing import Any

import numpy as np

from .jobs import run_jobs

BASELINE = "sigma100"
#: (σc MPa, Gc J m⁻²) of the interface study, seed 003 §3.3
STRENGTHS = {"sigma50": (50, 0.5), "sigma100": (100, 1.0), "sigma200": (200, 2.0), "sigma500": (500, 5.0)}
C_RATES = {"rate0.1": 0.1, "rate0.5": 0.5, "rate1": 1.0, "rate2": 2.0}
PRESSURES = {"p0": 0.0, "p5": 5.0, "p10": 10.0, "p15": 15.0}
#: seed 003 §3.2: (D11 = D22, D33 in m² s⁻¹; θ33 with θ11 = θ22 = 1). Case 1 is the baseline; Cases 2–4
#: have an isotropic D ("Case 2, 3, and 4 are to study the heterogeneity effect from expansion")
ANISOTROPY = {"case1": (1e-14, 1e-20, -1.0), "case2": (1e-14, 1e-14, -1.0), "case3": (1e-14, 1e-14, -0.5),
              "case4": (1e-14, 1e-14, 0.0)}
#: the baseline is the same run in every study
SAME = {"rate1": BASELINE, "p0": BASELINE, "case1": BASELINE}
STUDIES = {"strength": STRENGTHS, "c_rate": C_RATES, "pressure": PRESSURES, "anisotropy": ANISOTROPY}

#: seed 003's numbers (issue 21; 1C unless stated)
PAPER: dict[str, dict[str, float]] = {
    "sigma50": dict(D_G_ave_nm=19.9, von_mises_max_GPa=2.1),
    "sigma100": dict(D_G_ave_nm=14.3, D_G_max_nm=55.0, von_mises_max_GPa=2.64, charge_time_s=3103.0,
                     discharge_time_s=3008.0, coulomb_efficiency=0.9694, li_end_of_charge_pmol=3.203,
                     li_start_pmol=24.659, volumetric_strain_extreme=-0.0253),
    "sigma200": dict(D_G_ave_nm=1.1, von_mises_max_GPa=3.86),
    "sigma500": dict(D_G_ave_nm=0.027, von_mises_max_GPa=9.7),
    "rate0.1": dict(li_end_of_charge_pmol=1.666, residual_von_mises_GPa=0.003),
    "rate0.5": dict(li_end_of_charge_pmol=2.362, residual_von_mises_GPa=0.048),
    "rate1": dict(li_end_of_charge_pmol=3.203, residual_von_mises_GPa=0.166),
    "rate2": dict(li_end_of_charge_pmol=4.615, residual_von_mises_GPa=0.327),
    "p0": dict(D_G_ave_nm=14.3),
    "p5": dict(D_G_ave_nm=12.8),
    "p10": dict(D_G_ave_nm=12.5),
    "p15": dict(D_G_ave_nm=12.2),
    # §3.2: Case 1 is the baseline; Case 2's times and CE; its peaks of D_G_ave and σ_Mises,max "close" to
    # Case 1's; Cases 2–4 only as orderings (σ_Mises,max 4 < 3 < 2, D_G 4 > 3 > 2), no numbers
    "case1": dict(charge_time_s=3103.0, discharge_time_s=3008.0, coulomb_efficiency=0.9694, D_G_ave_nm=14.3,
                  D_G_max_nm=55.0, von_mises_max_GPa=2.64, volumetric_strain_extreme=-0.0253,
                  residual_von_mises_GPa=0.166),
    "case2": dict(charge_time_s=3185.0, discharge_time_s=3155.0, coulomb_efficiency=0.9906,
                  residual_von_mises_GPa=0.069),
}


def cases(studies: tuple[str, ...] = tuple(STUDIES)) -> dict[str, dict[str, Any]]:
    """{case: its settings} of the studies asked for, shared cases once (under the baseline's name)."""
    out: dict[str, dict[str, Any]] = {}
    for study in studies:
        for name, value in STUDIES[study].items():
            out.setdefault(SAME.get(name, name), dict(study=study, name=name, value=value))
    return out


def case_scene(base: dict, case: str, value: Any, study: str) -> dict:
    """The scene data of one case: the baseline with the study's setting."""
    data = copy.deepcopy(base)
    c = data["cathode"]
    if study == "strength":
        sigma, gc = value
        for itf in data["interfaces"]:
            if sorted(itf["materials"]) == sorted([c["particle"], c["matrix"]]):
                itf["damage"] = dict(law="bilinear", strength=f"{sigma} MPa", fracture_energy=f"{gc} J m^-2")
    elif study == "c_rate":
        c["c_rate"] = float(value)
        c["dt_max"] = f"{120.0 / max(float(value), 0.25):g} s"
    elif study == "pressure" and value > 0:
        # seed 003 §2: P_ext on the left side, the right boundary fixed
        data.setdefault("regions", {})["right"] = dict(face="+x")
        data["boundary"] = [b for b in data["boundary"] if b["region"] != "left"]
        data["boundary"].append(dict(region="left", kind="traction", value=[f"{value} MPa"] + ["0 MPa"] * (
            data["domain"]["dim"] - 1)))
        data["boundary"].append(dict(region="right", kind="displacement", value=["0 um"] * data["domain"]["dim"]))
    elif study == "anisotropy":
        d_ab, d_c, theta = value
        c["diffusivity"] = [f"{d_ab} m^2 s^-1", f"{d_ab} m^2 s^-1", f"{d_c} m^2 s^-1"]
        c["expansion_ratios"] = [1.0, 1.0, float(theta)]
    data["title"] = f"{data.get('title', 'seed 003')}: {case}"
    return data


def run_case(job: dict) -> dict:
    """Run one case (in this process): its CSV, its end-of-charge section and its metrics."""
    from .. import backend
    from ..config.loader import load_scene
    from ..config.resolve import resolve
    from ..factory import make_simulation
    from ..io.atomic import atomic_savez, atomic_write_text
    import tomli_w

    backend.init(job.get("arch", "cpu"), "f64")
    out = Path(job["out"])
    scene_path = out / "cases" / f"{job['case']}.toml"
    scene_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(scene_path, tomli_w.dumps(job["scene"]))
    setup = resolve(load_scene(scene_path), Path(job["scene_dir"]))
    sim = make_simulation(setup, "f64")
    end_of_charge = None
    for result in sim.steps():
        row = sim.record(result)
        if row["phase"] == 1:
            end_of_charge = dict(vm=sim.model.field("vm"), step=row["step"], time=row["time_s"])
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=sim.columns)
    w.writeheader()
    w.writerows(sim.records)
    atomic_write_text(out / "cases" / f"{job['case']}.csv", buf.getvalue())
    if end_of_charge is not None:
        atomic_savez(out / "cases" / f"{job['case']}_end_of_charge.npz", von_mises_Pa=end_of_charge["vm"],
                     positions_m=setup.lattice.positions(), material=setup.material_ids,
                     particle=np.array([setup.cathode.particle]), time_s=np.array([end_of_charge["time"]]))
    return metrics(sim.records)


def metrics(rows: list[dict]) -> dict:
    """The numbers a case is compared on, from its time series alone (so that ``--analyse-only`` finds them
    in the CSVs): peaks over the run, end-of-charge and end-of-run values."""
    from ..units import FARADAY_C_PER_MOL

    rows = [{k: float(v) for k, v in r.items()} for r in rows]
    charge = [r for r in rows if r["phase"] > 0]
    discharge = [r for r in rows if r["phase"] < 0]
    last = rows[-1] if rows else {}
    eoc = charge[-1] if charge else {}
    q_ch = last.get("capacity_charge_mAh")
    q_dis = last.get("capacity_discharge_mAh") if discharge else None
    first = rows[0] if rows else None
    return dict(
        D_G_ave_nm=max((r["D_G_ave_nm"] for r in rows), default=None),
        D_G_max_nm=max((r["D_G_max_nm"] for r in rows), default=None),
        D_G_ave_nm_end_of_charge=eoc.get("D_G_ave_nm"), D_G_max_nm_end_of_charge=eoc.get("D_G_max_nm"),
        von_mises_max_GPa=max((r["von_mises_max_MPa"] for r in rows), default=0.0) / 1e3,
        von_mises_max_GPa_end_of_charge=eoc.get("von_mises_max_MPa", float("nan")) / 1e3,
        volumetric_strain_extreme=(min((r["volumetric_strain_extreme"] for r in rows), default=None)
                                   if rows and "volumetric_strain_extreme" in rows[0] else None),
        residual_von_mises_GPa=last.get("von_mises_max_MPa", float("nan")) / 1e3 if discharge else None,
        capacity_mAh=q_dis if q_dis is not None else q_ch, capacity_charge_mAh=q_ch, capacity_discharge_mAh=q_dis,
        charge_time_s=sum(r["dt_s"] for r in charge), discharge_time_s=sum(r["dt_s"] for r in discharge),
        coulomb_efficiency=(q_dis / q_ch) if q_dis is not None and q_ch else None,
        li_start_pmol=(first["li_particle_pmol"] + first["current_nA"] * 1e-9 * first["dt_s"] / FARADAY_C_PER_MOL
                       * 1e12) if first else None,
        li_end_of_charge_pmol=eoc.get("li_particle_pmol"),
        steps=len(rows), discharged=bool(discharge),
    )


def read_case(out: Path, case: str) -> list[dict] | None:
    path = out / "cases" / f"{case}.csv"
    if not path.is_file():
        return None
    with open(path) as fh:
        return list(csv.DictReader(fh))


# ---------------------------------------------------------------- tables and figures
def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


TABLE_COLUMNS = {
    "strength": ("D_G_ave_nm", "D_G_max_nm", "von_mises_max_GPa", "capacity_mAh"),
    "c_rate": ("li_end_of_charge_pmol", "residual_von_mises_GPa", "D_G_ave_nm", "charge_time_s", "capacity_mAh"),
    "pressure": ("D_G_ave_nm", "D_G_max_nm", "von_mises_max_GPa", "capacity_mAh"),
    "anisotropy": ("D_G_ave_nm", "D_G_max_nm", "von_mises_max_GPa", "volumetric_strain_extreme", "charge_time_s",
                   "coulomb_efficiency", "residual_von_mises_GPa", "capacity_mAh"),
}


def table(results: dict[str, dict], dim: int) -> str:
    """Markdown: one table per study, pdssb's value (labelled by dimension) beside the paper's."""
    lines = [f"# Seed 003 side by side (pdssb {dim}D)", ""]
    base = results.get(BASELINE)
    if base is not None:
        p = PAPER[BASELINE]
        lines += ["## Baseline (σc = 100 MPa, 1C, no pressure, Case 1)", "",
                  f"| quantity | pdssb {dim}D | paper |", "|---|---|---|"]
        for key in ("charge_time_s", "discharge_time_s", "coulomb_efficiency", "li_start_pmol",
                    "li_end_of_charge_pmol", "D_G_ave_nm_end_of_charge", "D_G_max_nm_end_of_charge",
                    "von_mises_max_GPa", "volumetric_strain_extreme"):
            paper_key = key.replace("_end_of_charge", "") if key.startswith("D_G") else key
            lines.append(f"| {key} | {_fmt(base['metrics'].get(key))} | {_fmt(p.get(paper_key))} |")
        lines.append("")
    for study, values in STUDIES.items():
        names = [n for n in values if SAME.get(n, n) in results]
        if not names:
            continue
        cols = TABLE_COLUMNS[study]
        lines += [f"## {study}", "", "| case | " + " | ".join(f"{c} (pdssb {dim}D / paper)" for c in cols) + " |",
                  "|---" * (len(cols) + 1) + "|"]
        for n in names:
            m = results[SAME.get(n, n)]["metrics"]
            p = PAPER.get(n, {})
            lines.append(f"| {n} | " + " | ".join(f"{_fmt(m.get(c))} / {_fmt(p.get(c))}" for c in cols) + " |")
        lines.append("")
    return "\n".join(lines)


def figures(out: Path, case: str = BASELINE) -> list[Path]:
    """The baseline's voltage curve, D_G against time and its von Mises section at the end of charge."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    csv_path = out / "cases" / f"{case}.csv"
    if not csv_path.is_file():
        return []
    with open(csv_path) as fh:
        rows = list(csv.DictReader(fh))
    t = np.array([float(r["time_s"]) for r in rows])
    v = np.array([float(r["cell_voltage_V"]) for r in rows])
    g_ave = np.array([float(r["D_G_ave_nm"]) for r in rows])
    g_max = np.array([float(r["D_G_max_nm"]) for r in rows])
    fig_dir = out / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    made = []
    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=110)
    ax.plot(t, v, "k-")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("cell voltage (V)")
    ax.set_title(f"seed 003, {case}: CC charge / discharge")
    fig.tight_layout()
    made.append(_save(fig, fig_dir / "voltage.png"))
    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=110)
    ax.plot(t, g_ave, "b-", label="D_G,ave")
    ax.plot(t, g_max, "r--", label="D_G,max")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("debonding gap (nm)")
    ax.legend()
    fig.tight_layout()
    made.append(_save(fig, fig_dir / "gap.png"))
    npz = out / "cases" / f"{case}_end_of_charge.npz"
    if npz.is_file():
        d = np.load(npz)
        x, vm, mat = d["positions_m"], d["von_mises_Pa"], d["material"]
        sel = mat == int(d["particle"][0])
        if x.shape[1] == 3:  # the section through the particle's centre
            zc = np.median(x[sel, 2])
            sel &= np.abs(x[:, 2] - zc) <= 0.5 * np.diff(np.unique(x[:, 2]))[0] + 1e-12
        dx = float(np.diff(np.unique(x[:, 0]))[0])
        lo = x[sel, :2].min(axis=0)
        ij = np.rint((x[sel, :2] - lo) / dx).astype(int)
        img = np.full(ij.max(axis=0) + 1, np.nan)
        img[ij[:, 0], ij[:, 1]] = vm[sel] / 1e9
        fig, ax = plt.subplots(figsize=(4.2, 3.6), dpi=110)
        ext = [(lo[0] - dx / 2) * 1e6, (lo[0] + (img.shape[0] - 0.5) * dx) * 1e6, (lo[1] - dx / 2) * 1e6,
               (lo[1] + (img.shape[1] - 0.5) * dx) * 1e6]
        im = ax.imshow(img.T, origin="lower", extent=ext, cmap="viridis", interpolation="nearest")
        fig.colorbar(im, ax=ax, label="von Mises (GPa)")
        ax.set_aspect("equal")
        ax.set_xlabel("x (µm)")
        ax.set_ylabel("y (µm)")
        ax.set_title(f"end of charge, t = {float(d['time_s'][0]):.0f} s")
        fig.tight_layout()
        made.append(_save(fig, fig_dir / "von_mises_end_of_charge.png"))
    return made


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    from ..io.atomic import atomic_write_bytes

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())


def validate(scene_file: Path, out: Path, studies: tuple[str, ...] = tuple(STUDIES), jobs: int = 1,
             arch: str = "cpu", dim: int = 2, run: bool = True) -> dict:
    """Run the cases (``run``; else only tabulate the CSVs already in OUT/cases), write results.json,
    table.md and the figures; returns the results of the cases that have a time series."""
    from ..config.loader import parse_scene_text
    from ..io.atomic import atomic_write_json, atomic_write_text

    base = parse_scene_text(Path(scene_file).read_text(), str(scene_file))
    spec = cases(studies)
    if run:
        todo = [dict(case=case, out=str(out), scene=case_scene(base, case, s["value"], s["study"]),
                     scene_dir=str(Path(scene_file).parent), arch=arch) for case, s in spec.items()]
        run_jobs(run_case, todo, jobs)
    results = {}
    for case, s in spec.items():
        rows = read_case(out, case)
        if rows:
            results[case] = dict(study=s["study"], metrics=metrics(rows), paper=PAPER.get(case, {}), dim=dim)
    atomic_write_json(out / "results.json", results)
    atomic_write_text(out / "table.md", table(results, dim))
    figures(out)
    return results
