"""Start-up time of ``pdssb run SCENE``: process start → end of the first step.

Each measurement runs ``pdssb run SCENE --out TMP --quiet --no-figures`` in a fresh Python process
(``python -m pdssb.perf.startup``, which is ``pdssb.cli.main`` with time stamps: Simulation.steps is
wrapped so that the process writes its stamps and exits as soon as the first step has been yielded).
The clock starts in the parent just before the process is spawned (time.time(), shared by both).

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

_STAMP_ENV = "PDSSB_STARTUP_STAMPS"


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
    env = dict(os.environ, TI_OFFLINE_CACHE_FILE_PATH=str(cache), **{_STAMP_ENV: str(stamps)})
    args = [sys.executable, "-m", "pdssb.perf.startup", "run", str(scene), "--out", str(work / f"run_{safe}"),
            "--overwrite", "--quiet", "--no-figures", "--arch", arch]
    if precision:
        args += ["--precision", precision]
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


# ---------------------------------------------------------------- the child process
def _child() -> None:
    t_up = time.time()
    path = os.environ[_STAMP_ENV]
    stamps = dict(python_up=t_up)

    from ..backend import import_taichi

    import_taichi()
    from .. import cli, coupled, simulation

    stamps["imported"] = time.time()

    def done():
        stamps["first_step"] = time.time()
        Path(path).write_text(json.dumps(stamps))
        try:  # Taichi writes its offline cache when the program is finalised (at exit, or here)
            import taichi as ti

            ti.reset()
        except Exception:  # noqa: BLE001 - the stamps are written; a cache not written shows as a cold warm run
            pass
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    init0 = simulation.Simulation.__init__
    run0 = simulation.Simulation.run

    def init(self, *a, **k):
        stamps.setdefault("sim_init", time.time())
        init0(self, *a, **k)

    def run(self, *a, **k):
        stamps.setdefault("run", time.time())
        return run0(self, *a, **k)

    def wrap(steps0):
        def steps(self):
            for _ in steps0(self):
                done()
                yield _  # pragma: no cover - done() exits
        return steps

    simulation.Simulation.__init__ = init
    simulation.Simulation.run = run
    simulation.Simulation.steps = wrap(simulation.Simulation.steps)
    coupled.CoupledSimulation.steps = wrap(coupled.CoupledSimulation.steps)
    sys.argv = ["pdssb", *sys.argv[1:]]
    cli.main()


if __name__ == "__main__":
    _child()
