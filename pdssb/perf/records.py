"""Recorded benchmark figures (``docs/bench_records.json``) and the regression check.

The file is a JSON object ``{"schema": 1, "records": [...]}``; every record names its case, size,
precision and arch (the key), the figure (``metric``, ``value``, ``unit``), and where it came from
(``date``, ``machine``, ``commit``, ``command``). ``pdssb bench --record`` appends a record;
``pdssb bench --check`` compares a fresh figure against the last record with the same key and flags a
drop of more than ``tolerance`` (20 %). Records are history: the last one of a key is the baseline.

A missing record is not a failure: ``--check`` prints a note and exits 0 (a new machine, a new
backend or a new size has no baseline until someone records one).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
from pathlib import Path

from ..errors import InputError

SCHEMA = 1
KEY = ("case", "size", "precision", "arch")
DEFAULT_TOLERANCE = 0.20
REPO_ROOT = Path(__file__).resolve().parents[2]


def default_path() -> Path:
    return REPO_ROOT / "docs" / "bench_records.json"


def cpu_string() -> str:
    """The CPU model (``/proc/cpuinfo``'s model name) or platform's best guess."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_string() -> str:
    """``Linux x86_64, <CPU model>, <n> cores, <memory> GiB``: enough to tell machines apart."""
    mem = ""
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    mem = f", {int(line.split()[1]) / 2**20:.0f} GiB"
                    break
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {cpu_string()}, {os.cpu_count()} cores{mem}"


def git_commit() -> str:
    """Short hash of HEAD, with ``+dirty`` when the working tree has changes; ``unknown`` outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def load_average() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def busy_note() -> str:
    """`` (load average X on N cores: ...)`` when the machine is busier than its core count."""
    la = load_average()
    n = os.cpu_count() or 1
    if la and la[0] > n:
        return f" (load average {la[0]:.1f} on {n} cores: a busy machine times slower; retry with --repeat)"
    return ""


def key_of(rec: dict) -> tuple:
    return tuple(rec.get(k) for k in KEY)


def describe_key(rec: dict) -> str:
    return " ".join(f"{k}={rec.get(k)}" for k in KEY)


def load(path: Path) -> list[dict]:
    """The records of ``path``; an absent file holds none. A malformed file is an InputError."""
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(str(path), f"cannot read the records file ({e.__class__.__name__})") from None
    recs = data.get("records") if isinstance(data, dict) else None
    if not isinstance(recs, list) or not all(isinstance(r, dict) for r in recs):
        raise InputError(str(path), "not a records file (expected an object with a 'records' list)")
    for r in recs:
        if not isinstance(r.get("value"), (int, float)) or any(k not in r for k in KEY):
            raise InputError(str(path), f"a record lacks {', '.join(KEY)} or a numeric value")
    return recs


def latest(records: list[dict], probe: dict) -> dict | None:
    """The last record with the key of ``probe`` (records are appended in time order)."""
    k = key_of(probe)
    found = [r for r in records if key_of(r) == k]
    return found[-1] if found else None


def provenance(command: str) -> dict:
    """Where a figure came from: date, machine, commit, command and the load average when measured."""
    return dict(date=_dt.date.today().isoformat(), machine=machine_string(), commit=git_commit(), command=command,
                load_average=load_average())


def make_record(result: dict, metric: str, unit: str, command: str) -> dict:
    rec = {k: result[k] for k in KEY}
    rec.update(metric=metric, value=float(result[metric]), unit=unit, **provenance(command))
    for extra in ("steps", "sites", "loop_s"):
        if extra in result:
            rec[extra] = result[extra]
    return rec


def append(path: Path, rec: dict) -> None:
    """Append ``rec`` to the records file (created if absent), written atomically."""
    from ..io.atomic import OutputWriteError, atomic_write_text

    records = load(path)
    records.append(rec)
    text = json.dumps({"schema": SCHEMA, "records": records}, indent=1) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
    except (OSError, OutputWriteError) as e:
        raise InputError(str(path), f"cannot write the records file ({str(e).splitlines()[0]})") from None


def check(result: dict, records: list[dict], metric: str, tolerance: float = DEFAULT_TOLERANCE) -> tuple[str, str]:
    """Compare one fresh figure with its last record: (status, one-line message).

    status: ``ok``, ``regression`` (value < (1 − tolerance) × recorded) or ``missing`` (no record).
    """
    rec = latest(records, result)
    value = float(result[metric])
    where = describe_key(result)
    if rec is None:
        return "missing", f"no record for {where}: nothing to compare (record one with `pdssb bench --record`)"
    base = float(rec["value"])
    change = value / base - 1.0 if base > 0 else float("inf")
    origin = f"recorded {rec.get('date', '?')} at {rec.get('commit', '?')}"
    if rec.get("machine") and rec.get("machine") != machine_string():
        origin += " on another machine"
    if value < (1.0 - tolerance) * base:
        return "regression", (f"REGRESSION {where}: {metric} {value:.3e} is {-change:.0%} below the record "
                              f"{base:.3e} ({origin}); the limit is {tolerance:.0%}{busy_note()}")
    return "ok", f"ok {where}: {metric} {value:.3e} vs record {base:.3e} ({change:+.0%}, {origin})"
