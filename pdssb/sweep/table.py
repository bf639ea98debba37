"""The results table of a sweep: one row per case, from the case's run folder.

Columns, in order: ``case`` (the case hash, its folder under ``cases/``), ``index``, one column per
swept parameter (its dotted key), ``status`` (completed | failed | pending), ``error``, then the key
figures, each taken from the case's ``timeseries.csv`` when it has the column, else from its
``summary.json`` (empty when neither has it):

=====================  ==========================================================
failure_time_s         time of the first failure (coupled runs), empty if none
failure_cause          short_circuit | damage_path | crack_depth, empty if none
wall_time_s            wall time of the run (all its resumed parts)
steps                  rows in the time series
time_s                 simulated time reached
von_mises_max_MPa      peak over the run of the largest von Mises stress
hydrostatic_max_MPa    peak over the run of the largest hydrostatic stress
li_pressure_max_MPa    peak over the run of the Li pressure
damage_sum             final sum of damage over the electrolyte
damage_max             final largest damage
bonds_broken           final count of broken bonds
crack_depth_um         deepest crack reached
crack_area_um2         final crack area
capacity_mAh           final plated capacity
capacity_mAh_cm2       final areal capacity
=====================  ==========================================================

``run_dir`` closes the row. The table is written as CSV (atomically), and as Parquet when
pyarrow can be imported.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..io.atomic import atomic_write_text, atomic_write_with
from ..io.timeseries import read_timeseries

# name -> (time-series column, reduction over the rows, summary.json key)
KEY_FIGURES: dict[str, tuple[str | None, str | None, str | None]] = {
    "failure_time_s": (None, None, "failure_time_s"),
    "failure_cause": (None, None, "failure_cause"),
    "wall_time_s": (None, None, "wall_time_s"),
    "steps": (None, None, "steps"),
    "time_s": ("time_s", "last", "time_s"),
    "von_mises_max_MPa": ("von_mises_max_MPa", "max", "von_mises_max_MPa"),
    "hydrostatic_max_MPa": ("hydrostatic_max_MPa", "max", None),
    "li_pressure_max_MPa": ("li_pressure_max_MPa", "max", None),
    "damage_sum": ("damage_sum", "last", None),
    "damage_max": ("damage_max", "last", "damage_max"),
    "bonds_broken": ("bonds_broken_total", "last", "bonds_broken"),
    "crack_depth_um": ("crack_depth_um", "max", None),
    "crack_area_um2": ("crack_area_um2", "last", None),
    "capacity_mAh": ("capacity_mAh", "last", "capacity_mAh"),
    "capacity_mAh_cm2": ("capacity_mAh_cm2", "last", None),
}


def case_status(run_dir: Path) -> str:
    """completed (summary.json says so), failed (error.json, or a run that diverged), or pending."""
    summary = run_dir / "summary.json"
    if summary.is_file():
        try:
            status = json.loads(summary.read_text(encoding="utf-8")).get("status")
        except (OSError, ValueError):
            return "failed"
        if status == "completed" and not (run_dir / "error.json").is_file():
            return "completed"
        return "failed"
    if (run_dir / "error.json").is_file():
        return "failed"
    return "pending"


def _error(run_dir: Path) -> str:
    path = run_dir / "error.json"
    if path.is_file():
        try:
            return str(json.loads(path.read_text(encoding="utf-8")).get("error", ""))
        except (OSError, ValueError):
            return "unreadable error.json"
    path = run_dir / "diagnostic.json"
    if path.is_file():
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
            return f"diverged at step {d.get('step')} ({d.get('field')}: {d.get('kind')})"
        except (OSError, ValueError):
            return "diverged"
    return ""


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (np.floating, float)):
        return float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    return value


def case_row(case, keys: list[str], run_dir: Path) -> dict[str, Any]:
    row: dict[str, Any] = {"case": case.hash, "index": case.index}
    for key in keys:
        v = case.params.get(key, "")
        row[key] = v if isinstance(v, (str, int, float)) and not isinstance(v, bool) else json.dumps(v)
    status = case_status(run_dir)
    row["status"] = status
    row["error"] = _error(run_dir) if status == "failed" else ""
    summary: dict = {}
    if (run_dir / "summary.json").is_file():
        try:
            summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            summary = {}
    series: dict[str, np.ndarray] = {}
    if status != "pending" and (run_dir / "timeseries.csv").is_file():
        try:
            series = read_timeseries(run_dir / "timeseries.csv")
        except (OSError, ValueError):
            series = {}
    for name, (column, how, skey) in KEY_FIGURES.items():
        value = None
        if column is not None and column in series and len(series[column]):
            values = series[column]
            value = float(np.nanmax(values)) if how == "max" and np.isfinite(values).any() else float(values[-1])
        elif skey is not None:
            value = summary.get(skey)
        if name == "steps" and series:
            value = len(next(iter(series.values())))
        if name in ("steps", "bonds_broken") and isinstance(value, float) and value.is_integer():
            value = int(value)
        row[name] = _cell(value)
    row["run_dir"] = str(run_dir)
    return row


def write_table(rows: list[dict[str, Any]], out_dir: Path) -> list[Path]:
    """results.csv (and results.parquet with pyarrow); returns the files written."""
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: repr(row[c]) if isinstance(row.get(c), float) else row.get(c, "") for c in columns})
    written = [atomic_write_text(out_dir / "results.csv", buf.getvalue())]
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return written
    data = {}
    for c in columns:
        values = [None if row.get(c, "") == "" else row[c] for row in rows]
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values if v is not None)
        data[c] = [None if v is None else (float(v) if numeric else str(v)) for v in values]
    table = pa.table(data)
    written.append(atomic_write_with(out_dir / "results.parquet", lambda fh: pq.write_table(table, fh.name),
                                     suffix=".tmp.parquet"))
    return written
