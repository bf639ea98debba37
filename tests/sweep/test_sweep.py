"""`pdssb sweep`: a LocalCluster sweep with a failing case, skipping on rerun, refusal of an invalid
case up front, and a real `dask scheduler` + two `dask worker` processes with one killed mid-case."""

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pdssb.cli import app

from ..scenes import swelling_pit

pytest.importorskip("distributed")

BASE = swelling_pit(checkpoint_every=1)

SWEEP = '''
scene = "base.toml"
title = "tiny sweep"
combine = "grid"
[parameters]
"eigenstrains.0.strain" = [0.04, 0.08, 0.12]
"defects.0.aspect_ratio" = [0.5, 1.0]
[[cases]]  # Δt four times the stable bound: the run diverges, the case fails, the sweep goes on
"solver.kind" = "dynamic"
"solver.t_end" = "2e-9 s"
"solver.dt" = "2e-10 s"
'''


def _table(out: Path) -> list[dict]:
    with open(out / "results.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def _lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip()]


def test_local_cluster_sweep_then_rerun_skips(tmp_path):
    (tmp_path / "base.toml").write_text(BASE)
    (tmp_path / "sweep.toml").write_text(SWEEP)
    out = tmp_path / "out"
    args = ["sweep", str(tmp_path / "sweep.toml"), "--out", str(out), "--workers", "2", "--arch", "cpu", "--quiet"]
    res = CliRunner().invoke(app, args, catch_exceptions=False)
    assert res.exit_code == 1, res.output  # one case failed; the others ran
    rows = _table(out)
    assert len(rows) == 7
    done = [r for r in rows if r["status"] == "completed"]
    assert len(done) == 6
    assert {(float(r["eigenstrains.0.strain"]), float(r["defects.0.aspect_ratio"])) for r in done} == {
        (s, a) for s in (0.04, 0.08, 0.12) for a in (0.5, 1.0)}
    for r in done:
        assert int(r["steps"]) == 4 and float(r["von_mises_max_MPa"]) > 0 and r["bonds_broken"] != ""
        run = Path(r["run_dir"])
        assert run == out / "cases" / r["case"]
        manifest = json.loads((run / "manifest.json").read_text())
        assert manifest["sweep_case"] == r["case"] and manifest["status"] == "completed"
    # more swelling breaks more bonds (the key figures come from each case's own run)
    by = {(float(r["eigenstrains.0.strain"]), float(r["defects.0.aspect_ratio"])): int(r["bonds_broken"]) for r in done}
    assert by[(0.12, 1.0)] > by[(0.04, 1.0)]
    (bad,) = [r for r in rows if r["status"] == "failed"]
    assert bad["solver.kind"] == "dynamic" and "diverged" in bad["error"]
    assert len({r["case"] for r in rows}) == 7
    assert "case " + bad["case"] + " failed" in res.output

    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    again = CliRunner().invoke(app, args, catch_exceptions=False)
    assert again.exit_code == 0, again.output
    assert "6 of 7 cases already finished: skipped" in again.output
    assert "1 failed cases not rerun (use --retry-failed)" in again.output
    assert "nothing to run" in again.output
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == stamps  # nothing touched


def test_invalid_case_refuses_the_sweep_up_front(tmp_path):
    (tmp_path / "base.toml").write_text(BASE)
    (tmp_path / "sweep.toml").write_text(SWEEP.replace("[0.5, 1.0]", "[0.5, -1.0]"))
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["sweep", str(tmp_path / "sweep.toml"), "--out", str(out)], catch_exceptions=False)
    assert res.exit_code == 2
    lines = _lines(res.output)
    assert len(lines) == 1, res.output
    assert "case 1 (" in lines[0] and "defects.0.aspect_ratio=-1.0" in lines[0] and "aspect_ratio must be positive" in lines[0]
    assert not out.exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rows(path: Path) -> int:
    try:
        return max(0, path.read_bytes().count(b"\n") - 1)
    except OSError:
        return 0


def test_dask_scheduler_with_a_worker_killed_mid_case(tmp_path):
    from distributed import Client

    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    worker = [sys.executable, "-m", "distributed.cli.dask_worker"]
    (tmp_path / "base.toml").write_text(swelling_pit(load_steps=12, checkpoint_every=1))
    (tmp_path / "sweep.toml").write_text('scene = "base.toml"\n[parameters]\n'
                                         '"eigenstrains.0.strain" = [0.05, 0.07, 0.09, 0.11]\n')
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, PDSSB_THREADS="1")
    procs = []
    client = None
    try:
        procs.append(subprocess.Popen(dask + ["--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        workers = [subprocess.Popen(worker + [address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                                              "--name", f"w{i}"], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(2)]
        procs += workers
        client = Client(address, timeout="30s")
        client.wait_for_workers(2, timeout=60)
        pids = client.run(os.getpid)  # worker address -> pid (no nanny: the pid we started)
        out = tmp_path / "out"
        sweep = subprocess.Popen([sys.executable, "-m", "pdssb.cli", "sweep", str(tmp_path / "sweep.toml"), "--scheduler",
                                  address, "--out", str(out), "--arch", "cpu", "--quiet"], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(sweep)
        deadline = time.monotonic() + 90
        victim = case = None
        while victim is None:  # a worker that is inside a case: its run folder has rows
            assert time.monotonic() < deadline and sweep.poll() is None, "no case was seen running"
            for addr, keys in client.processing().items():
                for key in keys:
                    h = str(key).removeprefix("pdssb-case-")
                    if _rows(out / "cases" / h / "timeseries.csv") >= 2:
                        victim, case = pids[addr], h
            time.sleep(0.05)
        proc = next(p for p in workers if p.pid == victim)
        os.kill(victim, signal.SIGKILL)
        proc.wait(timeout=30)
        assert (out / "cases" / case / "checkpoint" / "checkpoint.json").is_file()  # killed mid-case
        assert not (out / "cases" / case / "summary.json").exists()
        stdout, stderr = sweep.communicate(timeout=120)
        assert sweep.returncode == 0, stderr
        rows = _table(out)
        assert len(rows) == 4 and all(r["status"] == "completed" for r in rows), rows
        manifest = json.loads((out / "cases" / case / "manifest.json").read_text())
        assert manifest["resumes"], "the rescheduled case did not resume from its checkpoint"
        assert all(int(r["steps"]) == 12 for r in rows)
    finally:
        if client is not None:
            client.close()
        for p in reversed(procs):
            if p.poll() is None:
                p.kill()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass


def test_a_finished_case_run_again_by_dask_keeps_its_result(tmp_path):
    """Dask reruns the tasks of a worker it lost, finished ones included (seen when a worker stopped
    answering its heartbeat for 979 s). run_case must then keep the finished case's folder as it is,
    not wipe it and run the case from scratch."""
    from pdssb.sweep.runner import run_case

    out = tmp_path / "cases" / "abc"
    out.mkdir(parents=True)
    summary = out / "summary.json"
    summary.write_text(json.dumps({"status": "completed", "failure_time_s": 55.2}))
    (out / "timeseries.csv").write_text("step\n1\n")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    job = dict(hash="abc", out_dir=str(out), text=BASE, base_dir=str(tmp_path), scene_file="base.toml",
               params={}, arch="cpu")
    res = run_case(job)
    assert res["status"] == "completed" and res["hash"] == "abc"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
