"""Running a sweep on Dask distributed.

The driver (``pdssb sweep``) validates every case first (:func:`~pdssb.sweep.spec.load_sweep`),
then submits the cases that are not finished to a Dask cluster: a ``LocalCluster`` of worker
*processes* (one thread each) by default, or an existing scheduler. Every case runs in
:func:`run_case` on a worker, which initialises that process's own Taichi runtime once and writes
the case's ordinary run folder ``OUT/cases/<hash>/``. A case that raises is recorded as failed
(``error.json``) and returned, never re-raised, so the sweep goes on. A worker killed mid-case
makes Dask reschedule the case on another worker, which resumes it from its last checkpoint.

A case is finished when its folder holds ``summary.json`` with status ``completed``; a rerun
skips it, and so does a task that Dask runs again after losing the worker that had finished it.
A failed case is rerun (from scratch) only with ``--retry-failed``.
"""

from __future__ import annotations

import json
import os
import re
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..io.atomic import atomic_write_json, ensure_dir
if TYPE_CHECKING:  # spec imports the lattice and Taichi: keep it off the workers' unpickling path
    from .spec import Sweep
from .table import case_row, case_status, write_table

_ADDRESS = re.compile(r"(tcp|tls|inproc|ucx|ws|wss)://[A-Za-z0-9_.\-\[\]:]+")


def run_case(job: dict[str, Any]) -> dict[str, Any]:
    """Run one case on this worker process; never raises for a failing case. Returns a small status dict."""
    t0 = time.time()
    out = Path(job["out_dir"])
    if case_status(out) == "completed":
        # Dask reruns the tasks a lost worker had finished (a worker that stopped answering is
        # restarted): the case's result is on disk, keep it rather than wipe it and run it again
        return dict(hash=job["hash"], status="completed", resumed=False, wall_time_s=0.0, error="")
    try:
        gpus = job.get("gpus")
        if gpus and "CUDA_VISIBLE_DEVICES" not in os.environ:
            try:  # one GPU per worker of a LocalCluster (workers are named 0..N-1)
                from distributed import get_worker

                os.environ["CUDA_VISIBLE_DEVICES"] = str(gpus[int(get_worker().name) % len(gpus)])
            except (ValueError, TypeError, ImportError):
                pass
        from .. import backend

        backend.import_taichi()  # quietly, before anything else imports it
        from ..config.loader import parse_scene_text, validate_scene
        from ..config.resolve import resolve
        from ..factory import make_simulation
        from ..io.run_folder import prepare_run_dir

        scene = validate_scene(parse_scene_text(job["text"], "case scene"))
        prec = job.get("precision") or scene.solver.precision
        setup = resolve(scene, Path(job["base_dir"]), prec)
        used = backend.init(job.get("arch", "auto"), prec)
        resume = (not job.get("fresh") and (out / "manifest.json").is_file()
                  and (out / "checkpoint" / "source.toml").is_file() and not (out / "summary.json").exists())
        if not resume:
            prepare_run_dir(out, overwrite=True)
        sim = make_simulation(setup, prec)
        extra = dict(arch=used, precision=prec, scene_file=job["scene_file"], sweep_case=job["hash"],
                     sweep_parameters=job["params"])
        summary = sim.run(out, extra_manifest=extra, resume=resume, source_text=job["text"])
        status = "completed" if summary["status"] == "completed" else "failed"
        return dict(hash=job["hash"], status=status, resumed=resume, wall_time_s=time.time() - t0,
                    error="" if status == "completed" else f"run {summary['status']}")
    except Exception as e:  # noqa: BLE001 - a failing case is a result, not a crash of the sweep
        msg = (str(e).splitlines() or [""])[0] or type(e).__name__
        error = f"{type(e).__name__}: {msg}"
        try:
            ensure_dir(out)
            atomic_write_json(out / "error.json", dict(error=error, traceback=traceback.format_exc(),
                                                       wall_time_s=time.time() - t0))
        except Exception:  # noqa: BLE001 - the folder itself may be the problem
            pass
        return dict(hash=job["hash"], status="failed", error=error, wall_time_s=time.time() - t0)


def _record_failure(run_dir: Path, error: str) -> None:
    try:
        ensure_dir(run_dir)
        atomic_write_json(run_dir / "error.json", dict(error=error))
    except Exception:  # noqa: BLE001
        pass


def _gpu_ids() -> list[int]:
    import subprocess

    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return list(range(len([ln for ln in out.splitlines() if ln.startswith("GPU ")])))


def _client(scheduler: str | None, workers: int, arch: str):
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError("pdssb sweep", "needs dask distributed: pip install 'pdssb[sweep]'") from None
    if scheduler is not None:
        if not _ADDRESS.fullmatch(scheduler):
            raise InputError("--scheduler", f"'{scheduler[:80]}' is not an address such as tcp://HOST:PORT")
        try:
            return Client(scheduler, timeout="20s"), None
        except (OSError, TimeoutError) as e:
            raise InputError("--scheduler", f"cannot connect to {scheduler} ({e})") from None
    cores = os.cpu_count() or 1
    # each worker process gets its share of the cores for Taichi's CPU threads (inherited env)
    os.environ.setdefault("PDSSB_THREADS", str(max(1, cores // workers)))
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster), cluster


def run_sweep(sweep: Sweep, out: Path, workers: int | None = None, scheduler: str | None = None,
              retry_failed: bool = False, arch: str = "auto", precision: str | None = None,
              console=None, quiet: bool = False) -> dict[str, Any]:
    """Run the unfinished cases of ``sweep`` into ``out``; returns counts. Writes ``out/results.csv``."""
    from rich.console import Console

    console = console or Console(stderr=True)
    out = ensure_dir(out)
    cases_dir = out / "cases"
    keys = sweep.parameter_keys
    unique: dict[str, Any] = {}
    for case in sweep.cases:
        unique.setdefault(case.hash, case)
    status = {h: case_status(cases_dir / h) for h in unique}
    done = [h for h, s in status.items() if s == "completed"]
    failed = [h for h, s in status.items() if s == "failed"]
    todo = [h for h, s in status.items() if s == "pending" or (s == "failed" and retry_failed)]
    n = len(unique)
    if done:
        console.print(f"{len(done)} of {n} cases already finished: skipped")
    if failed and not retry_failed:
        console.print(f"{len(failed)} failed cases not rerun (use --retry-failed)")
    if not todo:
        console.print(f"nothing to run: all {n} cases are finished or failed ({out / 'results.csv'})", markup=False)
        if not (out / "results.csv").is_file():
            write_table([case_row(c, keys, cases_dir / c.hash) for c in sweep.cases], out)
        return dict(cases=n, ran=0, completed=len(done), failed=len(failed), skipped=len(done) + len(failed))
    atomic_write_json(out / "sweep.json", dict(
        sweep_file=str(sweep.path), scene=str(sweep.scene_path), title=sweep.spec.title,
        cases=[dict(index=c.index, hash=c.hash, params=c.params) for c in sweep.cases]))
    workers = max(1, min(workers or (os.cpu_count() or 1), len(todo)))
    client, cluster = _client(scheduler, workers, arch)
    gpus = _gpu_ids() if arch in ("gpu", "cuda") and scheduler is None else []
    results: dict[str, dict] = {}
    try:
        from distributed import wait

        futures = {}
        for h in todo:
            c = unique[h]
            job = dict(hash=h, text=c.text, base_dir=str(sweep.scene_path.parent), scene_file=str(sweep.scene_path),
                       out_dir=str(cases_dir / h), arch=arch, precision=precision, params=c.params,
                       fresh=status[h] == "failed", gpus=gpus)
            futures[client.submit(run_case, job, key=f"pdssb-case-{h}", pure=False)] = h
        pending = set(futures)
        n_failed = 0
        progress = None
        if not quiet:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, \
                TimeRemainingColumn

            progress = Progress(TextColumn("[bold]sweep"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TextColumn("ETA"),
                                TimeRemainingColumn(), console=console)
            progress.start()
            task = progress.add_task("sweep", total=len(todo), info="")
        try:
            while pending:
                try:
                    finished, pending = wait(list(pending), timeout=1.0, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    finished = set()
                for fut in finished:
                    h = futures[fut]
                    try:
                        res = fut.result()
                    except Exception as e:  # noqa: BLE001 - e.g. KilledWorker after repeated worker deaths
                        res = dict(hash=h, status="failed", error=f"{type(e).__name__}: {(str(e).splitlines() or [''])[0]}")
                        _record_failure(cases_dir / h, res["error"])
                    results[h] = res
                    n_failed += res["status"] != "completed"
                if progress is not None:
                    try:
                        processing = client.processing()
                        running = sum(1 for ks in processing.values() for k in ks if str(k).startswith("pdssb-case-"))
                    except Exception:  # noqa: BLE001 - progress only
                        running = 0
                    progress.update(task, completed=len(results), info=f"done {len(results) - n_failed}  "
                                    f"failed {n_failed}  running {running}")
        finally:
            if progress is not None:
                progress.stop()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    rows = [case_row(c, keys, cases_dir / c.hash) for c in sweep.cases]
    written = write_table(rows, out)
    ran_failed = [h for h, r in results.items() if r["status"] != "completed"]
    for h in ran_failed:
        console.print(f"case {h} failed: {results[h].get('error', '')}", highlight=False, soft_wrap=True, markup=False)
    n_done = sum(1 for r in rows if r["status"] == "completed")
    n_fail = len({r["case"] for r in rows if r["status"] == "failed"})
    console.print(f"sweep: {len(results)} run, {n_done} completed, {n_fail} failed, "
                  f"{len(done)} skipped → {written[0]}", highlight=False, markup=False)
    return dict(cases=n, ran=len(results), completed=n_done, failed=n_fail, skipped=len(done))
