"""Checkpoints: the full state of a run, so ``pdssb run --resume RUN_DIR`` can continue it.

A checkpoint lives in ``RUN_DIR/checkpoint/``:

* ``state_<step:08d>.npz`` - every array of the state (the raw padded Taichi ndarrays: displacement,
  velocity, forces, bond bits, eigenstrain, dissipated energy, material words, ADR masses; and the
  host arrays of a coupled run: plated Li per site, material ids, potential warm start, κ, Li
  pressure), written with :func:`~pdssb.io.atomic.atomic_savez` (temp file, fsync, rename);
* ``checkpoint.json`` - the commit record: which NPZ is current, its SHA-256, the step, the time,
  how many time-series rows and which snapshots belong to it, the scalar state (time, load,
  charge, Δt of the next step, failure ...) and the last time-series row. Floats are written
  with ``repr`` so they read back bit for bit. It is written atomically *after* the NPZ, so a
  kill at any moment leaves either the old or the new checkpoint complete; older NPZ files are
  removed only after the new record is durable;
* ``source.toml`` - the scene text the run was started from (the resolved ``scene.toml`` rounds
  quantities to 12 digits, which would not resume bit for bit).

There is no random number generator in the engine (bond breaking is deterministic) and ADR
restarts its fictitious dynamics from rest at every relaxation, so the arrays above are the
whole state; the record says so (``"rng": null``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import OutputWriteError, atomic_savez, atomic_write_text, ensure_dir

__all__ = ["CHECKPOINT_DIR", "Checkpointer", "read_checkpoint", "read_source", "write_checkpoint"]

CHECKPOINT_DIR = "checkpoint"
RECORD = "checkpoint.json"
SOURCE = "source.toml"
FORMAT = 1
_STATE = re.compile(r"state_(\d{8})\.npz")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_checkpoint(run_dir: str | os.PathLike[str], step: int, arrays: dict[str, np.ndarray],
                     meta: dict[str, Any]) -> Path:
    """Write the NPZ, then commit it with the JSON record; returns the NPZ path."""
    directory = ensure_dir(Path(run_dir) / CHECKPOINT_DIR)
    name = f"state_{int(step):08d}.npz"
    npz = atomic_savez(directory / name, **arrays)
    try:
        digest = _sha256(npz)
    except OSError as exc:
        raise OutputWriteError(npz, exc) from exc
    record = dict(meta, format=FORMAT, step=int(step), file=name, sha256=digest, written_unix=time.time())
    # allow_nan: a residual is NaN in dynamic runs; Python's json reads NaN back exactly
    atomic_write_text(directory / RECORD, json.dumps(record, indent=1, allow_nan=True) + "\n")
    for old in directory.iterdir():
        if _STATE.fullmatch(old.name) and old.name != name:
            try:
                old.unlink()
            except OSError:
                pass
    return npz


def read_checkpoint(run_dir: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
    """The last committed checkpoint as (record, arrays), or None if the run has none.

    A record whose NPZ is missing or does not match its checksum raises ``ValueError``.
    """
    directory = Path(run_dir) / CHECKPOINT_DIR
    path = directory / RECORD
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: unreadable checkpoint record ({exc})") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT or not _STATE.fullmatch(str(record.get("file"))):
        raise ValueError(f"{path}: not a pdssb checkpoint record of format {FORMAT}")
    npz = directory / record["file"]
    if not npz.is_file():
        raise ValueError(f"{npz}: checkpoint state file is missing")
    if _sha256(npz) != record.get("sha256"):
        raise ValueError(f"{npz}: checksum does not match the checkpoint record")
    with np.load(npz, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    return record, arrays


def write_source(run_dir: str | os.PathLike[str], text: str) -> Path:
    directory = ensure_dir(Path(run_dir) / CHECKPOINT_DIR)
    return atomic_write_text(directory / SOURCE, text)


def read_source(run_dir: str | os.PathLike[str]) -> str | None:
    path = Path(run_dir) / CHECKPOINT_DIR / SOURCE
    return path.read_text(encoding="utf-8") if path.is_file() else None


class Checkpointer:
    """Decides when a checkpoint is due (every N steps, or M seconds of wall time since the last one)."""

    def __init__(self, run_dir: str | os.PathLike[str], every: int | None, seconds: float | None):
        self.run_dir = Path(run_dir)
        self.every = every
        self.seconds = seconds
        self.last = time.monotonic()
        self.last_step = 0
        self.count = 0

    @property
    def enabled(self) -> bool:
        return self.every is not None or self.seconds is not None

    def due(self, step: int) -> bool:
        if self.every is not None and step - self.last_step >= self.every:
            return True
        return self.seconds is not None and time.monotonic() - self.last >= self.seconds

    def write(self, step: int, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> Path:
        path = write_checkpoint(self.run_dir, step, arrays, meta)
        self.last = time.monotonic()
        self.last_step = step
        self.count += 1
        return path


def load_resume(run_dir: str | os.PathLike[str], precision: str | None = None):
    """The Setup to resume ``run_dir`` with, and what the run recorded: (setup, manifest, finished).

    Everything that makes the folder unusable is an :class:`~pdssb.errors.InputError` (one line).
    The scene is rebuilt from the text the run started from (kept in ``checkpoint/source.toml``),
    resolved against the original scene's folder, and must resolve to the run's ``scene.toml``.
    """
    from ..config.loader import dump_scene, parse_scene_text, validate_scene
    from ..config.resolve import resolve
    from ..errors import InputError

    out = Path(run_dir)
    if not (out / "manifest.json").is_file():
        raise InputError(str(out), "not a run folder (no manifest.json)")
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(str(out / "manifest.json"), f"unreadable ({exc})") from None
    finished = (out / "summary.json").is_file()
    text = read_source(out)
    if text is None:
        raise InputError(str(out), "the run has no saved scene source (checkpoint/source.toml); cannot resume")
    scene_file = manifest.get("scene_file")
    base_dir = Path(scene_file).parent if scene_file else out
    prec = precision or manifest.get("precision")
    if manifest.get("precision") and prec != manifest["precision"]:
        raise InputError("--precision", f"the run was started in {manifest['precision']}; resume it in the same precision")
    scene = validate_scene(parse_scene_text(text, str(out / CHECKPOINT_DIR / SOURCE)))
    setup = resolve(scene, base_dir, prec)
    try:
        saved = (out / "scene.toml").read_text(encoding="utf-8")
    except OSError:
        saved = None
    if saved is not None and saved != dump_scene(setup.scene):
        raise InputError(str(out), "the scene resolves differently now (a changed STL file, material library or "
                                   "pdssb version); cannot resume")
    try:
        read_checkpoint(out)
    except ValueError as exc:
        raise InputError(str(out), str(exc).splitlines()[0]) from None
    return setup, manifest, finished
