"""Checkpoint and restart: a run killed with SIGKILL and resumed ends bit for bit where an
uninterrupted run ends (CPU, f64), with the same time series and snapshot index; a diverging run
stops within one step with a diagnostic; a failing write stops the run with one line."""

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from pdssb.cli import app
from pdssb.config.loader import load_scene
from pdssb.config.resolve import resolve
from pdssb.io.checkpoint import read_checkpoint
from pdssb.io.snapshots import PvdIndex

from .scenes import clamped, swelling_pit

COUPLED = '''
title = "tiny coupled pit"
[domain]
dim = 2
size = ["6 um", "6.5 um"]
dx = "0.5 um"
thickness = "1 um"
[materials.LAGP]
base = "LAGP"
fracture_energy = "0.5 J m^-2"
[materials.Li]
base = "Li"
[[bodies]]
material = "LAGP"
[[bodies]]
material = "Li"
shape = { type = "box", lo = ["0 um", "0 um"], hi = ["6 um", "1 um"] }
[[defects]]
type = "semi_sphere"
face = "-y"
center = ["3 um", "1 um"]
radius = "1.5 um"
fill = "Li"
''' + clamped('depth = "1 um"') + '''[solver]
tolerance = 1e-4
[electrochem]
counter_electrode = "top"
control = { mode = "voltage", value = "0.135 V" }
kinetics = { model = "butler_volmer", exchange_current_density = "0.01 mA cm^-2" }
t_end = "600 s"
dt = "50 s"
max_eigenstrain_increment = 1e-3  # fluid Li: Δt from the body's volume strain; ≥ 20 rows to kill in
li_follows_crack = 0.35  # the fluid Li enters the cracks: its wet clusters are rebuilt on resume
[output]
every = 4
checkpoint_every = 3
'''

QUASI_STATIC = swelling_pit(load_steps=8, every=3, checkpoint_every=2)

DYNAMIC = '''
title = "tiny dynamic tension"
[domain]
dim = 2
size = ["4 um", "4 um"]
dx = "0.25 um"
thickness = "1 um"
[materials.LAGP]
base = "LAGP"
[[bodies]]
material = "LAGP"
[regions.top]
face = "+y"
[regions.bottom]
face = "-y"
[[boundary]]
region = "top"
kind = "velocity"
value = ["0 um/s", "2e6 um/s"]
[[boundary]]
region = "bottom"
kind = "displacement"
value = ["0 um", "0 um"]
[solver]
kind = "dynamic"
t_end = "2e-9 s"
[output]
every = 10
checkpoint_every = 20
'''

STATE_KEYS = ("model.u", "model.v", "model.bits", "model.eps", "model.dissipated", "model.mat")
COUPLED_KEYS = ("li_added", "ids", "cond.phi", "cond.kappa")


def _cli(args):
    res = CliRunner().invoke(app, args, catch_exceptions=False)
    return res


def _final_state(run_dir: Path) -> tuple[dict, dict]:
    found = read_checkpoint(run_dir)
    assert found is not None, f"{run_dir} has no checkpoint"
    record, arrays = found
    assert record["final"] is True
    return record, arrays


def _assert_same_run(ref: Path, other: Path, keys) -> None:
    rec_a, a = _final_state(ref)
    rec_b, b = _final_state(other)
    assert rec_a["step"] == rec_b["step"]
    for key in keys:
        assert a[key].dtype == b[key].dtype and a[key].shape == b[key].shape, key
        assert a[key].tobytes() == b[key].tobytes(), f"{key} differs after resume"
    for key in ("time", "load", "bonds_broken_total", "t", "charge", "phi_ce", "dt_next"):
        if key in rec_a:
            assert rec_a[key] == rec_b[key], key
    # the same rows, none duplicated or missing, byte for byte (floats are written with %.17g)
    assert (ref / "timeseries.csv").read_bytes() == (other / "timeseries.csv").read_bytes()
    assert PvdIndex(ref / "snapshots.pvd").entries == PvdIndex(other / "snapshots.pvd").entries
    names = sorted(p.name for p in (ref / "snapshots").iterdir())
    assert names == sorted(p.name for p in (other / "snapshots").iterdir())
    last = [n for n in names if n.endswith(".npz")][-1]
    with np.load(ref / "snapshots" / last) as sa, np.load(other / "snapshots" / last) as sb:
        for key in sa.files:
            assert sa[key].tobytes() == sb[key].tobytes(), f"snapshot {last}: {key}"
    sum_a = json.loads((ref / "summary.json").read_text())
    sum_b = json.loads((other / "summary.json").read_text())
    sum_a.pop("wall_time_s"), sum_b.pop("wall_time_s")
    assert sum_a == sum_b
    assert not [p for p in other.rglob(".*") if ".tmp" in p.name], "temp files left behind"


@pytest.fixture(scope="module")
def coupled_reference(tmp_path_factory):
    base = tmp_path_factory.mktemp("coupled")
    scene = base / "coupled.toml"
    scene.write_text(COUPLED)
    ref = base / "ref"
    res = _cli(["run", str(scene), "--out", str(ref), "--arch", "cpu", "--quiet"])
    assert res.exit_code == 0, res.output
    n_rows = len((ref / "timeseries.csv").read_text().splitlines()) - 1
    assert n_rows >= 20  # the kill points below lie inside the run
    return scene, ref, n_rows


def _rows(path: Path) -> int:
    try:
        return max(0, path.read_bytes().count(b"\n") - 1)
    except OSError:
        return 0


@pytest.mark.parametrize("kill_after_rows", [1, 11, 19])
def test_sigkill_and_resume_is_bitwise(coupled_reference, kill_after_rows, tmp_path):
    """kill -9 at three points (before the first checkpoint, mid-run, late), resume, compare."""
    scene, ref, n_rows = coupled_reference
    run = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "pdssb.cli", "run", str(scene), "--out", str(run), "--arch", "cpu",
                             "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while _rows(run / "timeseries.csv") < kill_after_rows and proc.poll() is None:
            assert time.monotonic() < deadline, "the run did not reach the kill point"
            time.sleep(0.01)
        assert proc.poll() is None, f"the run ended before the kill point: {proc.stderr.read().decode()}"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    killed_rows = _rows(run / "timeseries.csv")
    assert kill_after_rows <= killed_rows < n_rows
    assert not (run / "summary.json").exists()
    res = _cli(["run", "--resume", str(run), "--arch", "cpu", "--quiet"])
    assert res.exit_code == 0, res.output
    _assert_same_run(ref, run, STATE_KEYS + COUPLED_KEYS)
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "completed" and len(manifest["resumes"]) == 1
    # a finished run is not run again
    again = _cli(["run", "--resume", str(run), "--arch", "cpu", "--quiet"])
    assert again.exit_code == 0 and "already finished" in again.output


class _Stop(Exception):
    pass


def _interrupted_then_resumed(text: str, tmp_path: Path, stop_at: int, inspect=None) -> tuple[Path, Path]:
    """Reference run and a run stopped in-process after ``stop_at`` steps, then resumed by the CLI
    (``inspect(run_dir)`` is called between the two)."""
    from pdssb.factory import make_simulation

    scene = tmp_path / "scene.toml"
    scene.write_text(text)
    ref = tmp_path / "ref"
    assert _cli(["run", str(scene), "--out", str(ref), "--arch", "cpu", "--quiet"]).exit_code == 0
    setup = resolve(load_scene(scene), tmp_path)
    sim = make_simulation(setup, "f64")
    run = tmp_path / "run"
    run.mkdir()

    def stop(done, total, row):
        if row["step"] >= stop_at:
            raise _Stop

    with pytest.raises(_Stop):
        sim.run(run, on_step=stop, extra_manifest=dict(arch="cpu", precision="f64", scene_file=str(scene)),
                source_text=text)
    assert _rows(run / "timeseries.csv") < _rows(ref / "timeseries.csv")
    if inspect is not None:
        inspect(run)
    res = _cli(["run", "--resume", str(run), "--arch", "cpu", "--quiet"])
    assert res.exit_code == 0, res.output
    return ref, run


def test_quasi_static_resume_is_bitwise(tmp_path):
    ref, run = _interrupted_then_resumed(QUASI_STATIC, tmp_path, stop_at=5)  # checkpoint at 4, rows 5 cut
    _assert_same_run(ref, run, STATE_KEYS)
    assert json.loads((ref / "summary.json").read_text())["bonds_broken"] > 0  # the cascade ran


def test_dynamic_resume_is_bitwise(tmp_path):
    ref, run = _interrupted_then_resumed(DYNAMIC, tmp_path, stop_at=50)  # checkpoint at 40
    _assert_same_run(ref, run, STATE_KEYS + ("model.force",))


@pytest.mark.parametrize("preconditioner", ["lu", "amg"])
def test_direct_solver_coupled_resume_is_bitwise(tmp_path, preconditioner):
    """solver.method = "direct": the matrices the preconditioners were built from are checkpointed with
    the state, and both preconditioners (SuperLU, AMG) are rebuilt from them deterministically, so the
    resumed run takes the same conjugate-gradient iterates, bit for bit. With the LU the checkpoint is
    taken with bonds broken since the last factorisation, so the low-rank update of the factors
    (linalg.LowRankUpdate) is rebuilt from its checkpointed terms too."""
    text = COUPLED.replace("tolerance = 1e-4", f'tolerance = 1e-4\nmethod = "direct"\npreconditioner = "{preconditioner}"')

    def inspect(run):
        _, arrays = read_checkpoint(run)
        if preconditioner == "lu":
            assert arrays["direct.lr.coef"].size > 0  # terms pending at the checkpoint
        else:
            assert "direct.lr.coef" not in arrays

    ref, run = _interrupted_then_resumed(text, tmp_path, stop_at=20, inspect=inspect)  # checkpoint at 18
    _assert_same_run(ref, run, STATE_KEYS + COUPLED_KEYS)  # summaries equal: the solver counters too
    summary = json.loads((ref / "summary.json").read_text())
    assert summary["bonds_broken"] > 0
    # the counters went on from the checkpoint's: the resumed run did the same Newton steps in all
    assert summary["solver"]["newton_steps"] > 0 and summary["solver"]["factorisations"] > 0
    _, arrays = read_checkpoint(run)
    assert 0 < arrays["direct.stats"][2] <= summary["solver"]["newton_steps"]


def test_diverging_run_stops_with_a_diagnostic(tmp_path):
    """Δt four times the stable bound: |u| passes the domain size; the run stops at that step."""
    scene = tmp_path / "bad.toml"
    scene.write_text(DYNAMIC.replace('t_end = "2e-9 s"', 't_end = "2e-9 s"\ndt = "2e-10 s"')
                     .replace("every = 10", "every = 1").replace("checkpoint_every = 20", "checkpoint_every = 1"))
    out = tmp_path / "run"
    res = _cli(["run", str(scene), "--out", str(out), "--arch", "cpu", "--quiet"])
    assert res.exit_code == 3
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "diverged" in lines[0] and "diagnostic.json" in lines[0]
    diag = json.loads((out / "diagnostic.json").read_text())
    assert diag["field"] == "u" and diag["step"] >= 2
    assert any(c.startswith("time step") for c in diag["likely_causes"])
    record, arrays = read_checkpoint(out)
    assert record["step"] == diag["step"] - 1 == diag["last_checkpoint_step"]  # the last good state is kept
    u = arrays["model.u"]
    assert np.isfinite(u).all() and np.abs(u).max() <= 4e-6
    assert _rows(out / "timeseries.csv") == diag["step"] - 1  # the bad step is not recorded
    assert json.loads((out / "summary.json").read_text())["status"] == "diverged"


@pytest.mark.parametrize("kind", ["quasi_static", "coupled"])
def test_a_load_with_no_equilibrium_ends_the_run_with_that_cause(tmp_path, kind):
    """ADR held to 10 sweeps cannot reach the tolerance: the first step finds no equilibrium (a coupled
    run first retries it at a shorter Δt). The run ends "diverged" with the cause in its diagnostic,
    nothing recorded of the step and no bond broken on the unconverged state, instead of breaking bonds
    on it."""
    text = QUASI_STATIC if kind == "quasi_static" else COUPLED
    scene = tmp_path / "scene.toml"
    scene.write_text(text.replace("tolerance = 1e-4", 'tolerance = 1e-4\nmethod = "adr"\nmax_iterations = 10'))
    out = tmp_path / "run"
    res = _cli(["run", str(scene), "--out", str(out), "--arch", "cpu", "--quiet"])
    assert res.exit_code == 3
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "diverged at step 1 (equilibrium: not_converged)" in lines[0]
    diag = json.loads((out / "diagnostic.json").read_text())
    assert diag["field"] == "equilibrium" and diag["kind"] == "not_converged" and diag["residual"] > 1e-4
    assert "no equilibrium" in diag["message"]
    assert any("solver.max_iterations = 10" in c for c in diag["likely_causes"])
    assert _rows(out / "timeseries.csv") == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "diverged" and summary["bonds_broken"] == 0


def test_disk_full_stops_with_one_line_and_keeps_earlier_files(tmp_path, monkeypatch):
    """ENOSPC while writing the third checkpoint: one line, exit 2, earlier outputs stay readable."""
    import pdssb.io.checkpoint as ck
    from pdssb.io.atomic import atomic_write_with

    scene = tmp_path / "scene.toml"
    scene.write_text(swelling_pit(load_steps=8, every=3, checkpoint_every=1))
    real = ck.atomic_savez
    calls = []

    def flaky(path, **arrays):
        calls.append(path)
        if len(calls) == 3:
            return atomic_write_with(path, lambda fh: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")))
        return real(path, **arrays)

    monkeypatch.setattr(ck, "atomic_savez", flaky)
    out = tmp_path / "run"
    res = _cli(["run", str(scene), "--out", str(out), "--arch", "cpu", "--quiet"])
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "No space left on device" in lines[0] and "state_00000003.npz" in lines[0]
    record, arrays = read_checkpoint(out)  # the second checkpoint is intact
    assert record["step"] == 2 and np.isfinite(arrays["model.u"]).all()
    assert _rows(out / "timeseries.csv") == 3
    assert PvdIndex(out / "snapshots.pvd").entries  # readable
    assert not [p for p in out.rglob(".*") if ".tmp" in p.name]
    # and the run can be resumed from there once the disk has room again
    monkeypatch.setattr(ck, "atomic_savez", real)
    assert _cli(["run", "--resume", str(out), "--arch", "cpu", "--quiet"]).exit_code == 0
    assert _rows(out / "timeseries.csv") == 8


def test_cathode_resume_is_bitwise(tmp_path):
    """The composite-cathode cycle (cathode.py) stopped in-process after its 14th step, past the checkpoint
    of step 12 and past the end of the charge (600 s), and resumed by the CLI: the same final state (the
    mechanics, the Li concentration, the potentials and the interface gaps), the same rows and snapshots
    byte for byte, and the same cycle bookkeeping (phase, capacities, voltage)."""
    import tomli_w

    from pdssb.cathode import DISCHARGE

    from .test_cathode import coarse

    data = coarse(charge_time="600 s")
    data["output"] = {"every": 1, "checkpoint_every": 4}
    ref, run = _interrupted_then_resumed(tomli_w.dumps(data), tmp_path, stop_at=14)
    _assert_same_run(ref, run, ("model.u", "model.bits", "model.eps", "inter.c", "cathode.phi", "cathode.eps",
                                "cathode.gap"))
    rec_a, _ = _final_state(ref)
    rec_b, _ = _final_state(run)
    for key in ("phase", "capacity", "phase_time", "voltage", "finished"):
        assert rec_a[key] == rec_b[key], key
    assert rec_a["phase"] == DISCHARGE  # the run went past the charge into the discharge
