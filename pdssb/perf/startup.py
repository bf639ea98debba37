"""Start-up time of ``pdssb run SCENE``: process start → end of the first step.

Each measurement runs what ``pdssb run SCENE --out TMP --quiet --no-figures`` runs, in a fresh Python
process (``python -m pdssb.perf.startup_child``: the same steps as the command, with time stamps,
exiting as soon as the first step has been taken). The clock starts in the parent just before the
process is spawned (time.time(), shared by both).

- cold: Taichi's offline cache (TI_OFFLINE_CACHE_FILE_PATH) points at a fresh, empty folder, so every
  kernel is compiled;
- warm: a second run with the same cache folder;
- warm2: the same again (the spread between warm and warm2 is the machine's noise);
- values: the scene with only values changed (the control value, or an eigenstrain, × 1.1), same
  cache; dx/2: Δx halved (2^dim × the sites, so its first step does more work). Neither may compile
  anything, which the cache folder shows (the files a run added are counted; a compiled kernel
  adds one).

Python's own bytecode cache (__pycache__) is warm in all three; only Taichi's kernel cache differs.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .startup_child import STAMP_ENV


def _files(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*") if p.is_file()}


def _scale_quantity(value, factor: float):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value * factor
    m = re.match(r"^\s*([-+]?[0-9.]+(?:[eE][-+]?[0-9]+)?)\s*(.*)$", str(value))
    if not m:
        return value
    return f"{float(m.group(1)) * factor:.6g} {m.group(2)}".strip()


def changed_scene(scene: Path, folder: Path, what: str = "values") -> tuple[Path, list[str]]:
    """The scene with only values changed, written into ``folder``.

    ``values``: the control value × 1.1 (coupled scenes), else the first eigenstrain × 1.1, else
    the solver tolerance × 0.5 (the lattice is unchanged); ``dx``: Δx halved (2^dim × the sites).
    """
    import tomli_w

    from ..config.loader import read_scene_file

    data = read_scene_file(scene)
    changes = []
    if what == "dx":
        dom = data.get("domain", {})
        old = dom["dx"]
        dom["dx"] = _scale_quantity(old, 0.5)
        changes.append(f"domain.dx {old} → {dom['dx']}")
    else:
        ctrl = (data.get("electrochem") or {}).get("control")
        eig = data.get("eigenstrains") or []
        if isinstance(ctrl, dict) and isinstance(ctrl.get("value"), (str, int, float)):
            old = ctrl["value"]
            ctrl["value"] = _scale_quantity(old, 1.1)
            changes.append(f"electrochem.control.value {old} → {ctrl['value']}")
        elif eig and isinstance(eig[0].get("strain"), (int, float)):
            old = eig[0]["strain"]
            eig[0]["strain"] = old * 1.1
            changes.append(f"eigenstrains[0].strain {old} → {eig[0]['strain']:.6g}")
        else:
            solver = data.setdefault("solver", {})
            old = solver.get("tolerance", 1e-5)
            solver["tolerance"] = old * 0.5
            changes.append(f"solver.tolerance {old} → {solver['tolerance']:.6g}")
    out = folder / f"{scene.stem}_{what}.toml"
    out.write_text(tomli_w.dumps(data), encoding="utf-8")
    return out, changes


def run_once(scene: Path, cache: Path, work: Path, arch: str, precision: str | None, tag: str,
             timeout: float = 1800.0) -> dict:
    """One ``pdssb run`` in a new process, stopped after its first step; seconds per phase."""
    safe = tag.replace("/", "_")
    stamps = work / f"stamps_{safe}.json"
    env = dict(os.environ, TI_OFFLINE_CACHE_FILE_PATH=str(cache), **{STAMP_ENV: str(stamps)})
    args = [sys.executable, "-m", "pdssb.perf.startup_child", str(scene), str(work / f"run_{safe}"), arch]
    if precision:
        args.append(precision)
    before = _files(cache)
    t0 = time.time()
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)
    t_end = time.time()
    if not stamps.exists():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"pdssb run exited ({proc.returncode}) before its first step: {tail[0]}")
    s = json.loads(stamps.read_text())
    after = _files(cache)
    added = sorted(set(after) - set(before))
    grown = sorted(k for k in before if k in after and after[k] != before[k])
    return dict(
        tag=tag, total_s=s["first_step"] - t0, process_wall_s=t_end - t0,
        python_and_imports_s=s["imported"] - t0, setup_s=s["sim_init"] - s["imported"],
        model_s=s["run"] - s["sim_init"], first_step_s=s["first_step"] - s["run"],
        cache_files_added=len(added), cache_files_changed=len(grown),
        cache_bytes=sum(after.values()), kernels_compiled_hint=[a for a in added if not a.endswith(".tcb")][:5],
    )


def startup_bench(scene: Path, arch: str = "cpu", precision: str | None = None, progress=None) -> dict:
    with tempfile.TemporaryDirectory(prefix="pdssb_startup_") as tmp:
        tmp = Path(tmp)
        cache = tmp / "ticache"
        cache.mkdir()
        values, changes = changed_scene(scene, tmp, "values")
        finer, dx_changes = changed_scene(scene, tmp, "dx")
        out = dict(scene=str(scene), arch=arch, precision=precision, value_changes=changes, dx_changes=dx_changes,
                   runs=[])
        for tag, sc in (("cold", scene), ("warm", scene), ("warm2", scene), ("values", values), ("dx/2", finer)):
            r = run_once(sc, cache, tmp, arch, precision, tag)
            out["runs"].append(r)
            if progress is not None:
                progress(r)
        return out
