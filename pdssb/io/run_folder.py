"""The run folder of one simulation: everything a run writes, apart from the run itself.

A run folder holds ``manifest.json`` (resolved scene, versions, git hash, wall time, status),
``scene.toml`` (the resolved scene alone), ``timeseries.csv`` (one row per step), ``snapshots/``
(VTU + NPZ, indexed by ``snapshots.pvd`` for ParaView), ``checkpoint/`` (the state for
``pdssb run --resume``, and the scene text the run started from), and at the end ``summary.json``
(and ``diagnostic.json`` when the run diverged). Every write is atomic (io/atomic.py).

:class:`RunFolder` is driven by ``Simulation.run``: :meth:`RunFolder.start` or
:meth:`RunFolder.resume`, then :meth:`RunFolder.write_step` after every step, :meth:`RunFolder.end`
and :meth:`RunFolder.finish`. It reads the simulation (rows, fields, state) and never steps it.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from ..config.loader import dump_scene
from ..config.resolve import material_sources
from ..errors import InputError
from .atomic import atomic_write_json, atomic_write_text, ensure_dir
from .checkpoint import Checkpointer, read_checkpoint, write_source
from .manifest import build_manifest, finalize_manifest, write_manifest
from .snapshots import PvdIndex, SnapshotWriter
from .timeseries import TimeSeriesWriter, read_timeseries

if TYPE_CHECKING:
    from ..simulation import Simulation
    from ..step import StepResult

__all__ = ["RunFolder", "prepare_run_dir"]


def prepare_run_dir(out: Path, overwrite: bool) -> Path:
    """Create the run folder; an existing non-empty folder is refused unless ``overwrite``."""
    if out.exists() and not out.is_dir():
        raise InputError(str(out), "exists and is not a folder")
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise InputError(str(out), "run folder exists and is not empty (use --overwrite to replace it)")
        shutil.rmtree(out)
    try:
        return ensure_dir(out)
    except OSError as e:  # pragma: no cover - depends on the filesystem
        raise InputError(str(out), f"cannot create run folder ({e.strerror})") from None


class RunFolder:
    """Writes one simulation's run folder: start or resume, per-step output, checkpoints, finish.

    ``on_frame(step, time, fields)`` is called after every step of a quasi-static run and every snapshot of
    a dynamic one (viz.render.LiveVideo: a video with a frame per load or plating step, however sparse the
    snapshots).
    """

    def __init__(self, out: Path, sim: Simulation,
                 on_frame: Callable[[int, float, dict], None] | None = None):
        self.out = Path(out)
        self.sim = sim
        self.on_frame = on_frame
        self.t0 = time.time()
        self.wall_before = 0.0  # wall time of the run before a resume
        self.last_snap = 0  # step of the last snapshot written
        self.positions = sim.setup.lattice.positions()
        self.ts: TimeSeriesWriter | None = None
        self.snaps: SnapshotWriter | None = None
        self.ckpt: Checkpointer | None = None

    # ------------------------------------------------------------ opening
    def start(self, extra_manifest: dict | None = None, source_text: str | None = None) -> RunFolder:
        """A new run: the manifest, the resolved scene and (``source_text``) the scene file's text,
        kept beside the checkpoints for ``--resume``."""
        setup = self.sim.setup
        scene = setup.scene
        resolved = scene.model_dump(mode="json", exclude_none=True)
        manifest = build_manifest(resolved, dict(
            material_sources=material_sources(setup.names, scene),
            bond_constants=setup.table.describe(setup.names),
            lattice=dict(shape=list(setup.lattice.shape), sites=setup.lattice.n_sites,
                         stencil_offsets=setup.stencil.size), **(extra_manifest or {})))
        write_manifest(self.out, manifest)
        atomic_write_text(self.out / "scene.toml", dump_scene(scene))
        if source_text is not None:
            write_source(self.out, source_text)
        self._open_writers(resumed=False)
        return self

    def resume(self) -> RunFolder:
        """Continue the run in this folder from its last checkpoint (from the start if it has none):
        the state goes back into the simulation, and the time series, the snapshots and their index
        are cut back to the checkpoint."""
        found = read_checkpoint(self.out)
        step, t_ckpt = 0, None
        if found is not None:
            record, arrays = found
            step = int(record["step"])
            self.sim.load_state(step, arrays, record, self._rows_before(int(record["n_records"])))
            self.wall_before, self.last_snap = float(record["wall_time_s"]), int(record["last_snap"])
            t_ckpt = float(self.sim.model.time)
        # no checkpoint: the run starts over (snapshot times are positive)
        PvdIndex(self.out / "snapshots.pvd").truncate_after(-1.0 if t_ckpt is None else t_ckpt)
        for folder in (self.out, self.out / "snapshots", self.out / "checkpoint"):
            for f in folder.iterdir() if folder.is_dir() else ():
                num = f.name.split(".")[0].rsplit("_", 1)[-1]
                if folder.name == "snapshots" and num.isdigit() and int(num) > self.last_snap:
                    f.unlink()  # a snapshot newer than the checkpoint
                elif f.name.startswith(".") and ".tmp" in f.name:
                    f.unlink()  # a temp file orphaned by a kill during an atomic write
        manifest = json.loads((self.out / "manifest.json").read_text(encoding="utf-8"))
        resumes = list(manifest.get("resumes", [])) + [dict(from_step=step,
                                                            utc=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))]
        finalize_manifest(self.out, resumes=resumes, status="running")
        self._open_writers(resumed=True)
        return self

    def _rows_before(self, n: int) -> list[dict]:
        """The first n − 1 rows of the time series (the checkpoint itself holds the n-th)."""
        if n <= 1:
            return []
        table = read_timeseries(self.out / "timeseries.csv")
        if len(next(iter(table.values()))) < n:
            raise ValueError(f"{self.out / 'timeseries.csv'} has fewer rows than the checkpoint holds")
        return [{c: float(table[c][r]) for c in table} for r in range(n - 1)]

    def _open_writers(self, resumed: bool) -> None:
        self.ts = TimeSeriesWriter(self.out / "timeseries.csv", self.sim.columns)
        if resumed:
            self.ts.truncate_rows(min(len(self.sim.records), self.ts.n_rows))
        self.snaps = SnapshotWriter(self.out)
        o = self.sim.setup.scene.output
        ckpt = Checkpointer(self.out, o.checkpoint_every, o.checkpoint_seconds)
        if o.checkpoint and ckpt.enabled:
            ckpt.last_step = self.sim.resume_step
            self.ckpt = ckpt

    # ------------------------------------------------------------ while running
    def wall(self) -> float:
        """Wall time of the run so far, earlier sessions of a resumed run included."""
        return self.wall_before + time.time() - self.t0

    def write_step(self, result: StepResult, row: dict) -> None:
        """The step's time-series row; a snapshot every ``output.every`` steps and at the scene's
        output times; a checkpoint when one is due."""
        self.ts.append(row)
        fields = None
        if result.step % self.sim.setup.scene.output.every == 0 or result.output_time:
            fields = self.snapshot(result.step)
        if self.on_frame is not None:
            if fields is None and self.sim.setup.scene.solver.kind == "quasi_static":
                fields = self.sim.snapshot_fields()
            if fields is not None:
                self.on_frame(result.step, self.sim.model.time, fields)
        if self.ckpt is not None and self.ckpt.due(result.step):
            self.checkpoint(result.step)

    def snapshot(self, step: int) -> dict:
        fields = self.sim.snapshot_fields()
        self.snaps.write(step, self.sim.model.time, self.positions, fields)
        self.last_snap = step
        return fields

    def checkpoint(self, step: int, final: bool = False) -> None:
        arrays, scalars = self.sim.state_dict()
        self.ckpt.write(step, arrays, dict(scalars, last_snap=self.last_snap, wall_time_s=self.wall(), final=final,
                                           precision="f64" if self.sim.model.np_float == np.float64 else "f32"))

    def last_checkpoint_step(self) -> int | None:
        """The step of the last checkpoint this run has (written now or resumed from), or None."""
        ckpt = self.ckpt
        return ckpt.last_step if ckpt is not None and ckpt.count + self.sim.resume_step else None

    # ------------------------------------------------------------ the end
    def end(self, step: int, problem: dict | None) -> None:
        """After the last step: ``diagnostic.json`` when the run diverged (the last good state stays
        the last checkpoint), else the final snapshot and the final checkpoint (marked final;
        rewritten if the last step had one)."""
        if problem is not None:
            atomic_write_json(self.out / "diagnostic.json", problem)
            return
        if step and self.last_snap != step:
            self.snapshot(step)
        if self.ckpt is not None:
            self.checkpoint(step, final=True)

    def close(self) -> None:
        if self.ts is not None:
            self.ts.close()

    def __enter__(self) -> RunFolder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def finish(self, summary: dict) -> None:
        """The manifest's wall time, status and summary; ``summary.json``."""
        finalize_manifest(self.out, wall_time_s=summary["wall_time_s"], status=summary["status"], summary=summary)
        atomic_write_json(self.out / "summary.json", summary)
