"""The run manifest: what produced a run folder, so results can be reproduced.

``manifest.json`` records the fully resolved scene together with the software
(pdssb and key dependency versions, git commit and dirty flag), the machine
and the start time.  It is written when a run starts and updated when it ends
(status, wall time, summary); both writes are atomic, so the file is always
valid JSON.  Collecting provenance never fails the run: anything that cannot
be determined is recorded as ``null`` or ``"unknown"``.
"""

from __future__ import annotations

import copy
import json
import os
import platform
import socket
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping

from pdssb.io.atomic import atomic_write_json, ensure_dir

__all__ = ["MANIFEST_NAME", "build_manifest", "finalize_manifest", "write_manifest"]

MANIFEST_NAME = "manifest.json"
_DEPENDENCIES = ("numpy", "taichi", "meshio", "scipy", "pydantic")
_GIT_TIMEOUT_S = 5


def _package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _pdssb_version() -> str:
    """The installed distribution's version; "unknown" when pdssb runs from a source tree on the path."""
    return _package_version("pdssb") or "unknown"


def _git(*args: str) -> str | None:
    """stdout of a git command run in the pdssb source tree, or None on any failure."""
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=Path(__file__).resolve().parents[1],
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT_S,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout if result.returncode == 0 else None


def _git_info() -> dict[str, Any] | None:
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain")
    if commit is None or status is None:
        return None
    return {"commit": commit.strip(), "dirty": bool(status.strip())}


def build_manifest(
    scene_resolved: Mapping[str, Any], extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Collect provenance for a run of ``scene_resolved``; ``extra`` keys are merged last."""
    manifest: dict[str, Any] = {
        "pdssb_version": _pdssb_version(),
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "hostname": socket.gethostname(),
        "versions": {name: _package_version(name) for name in _DEPENDENCIES},
        "git": _git_info(),
        "started_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "scene": copy.deepcopy(dict(scene_resolved)),
    }
    manifest.update(extra or {})
    return manifest


def write_manifest(run_dir: str | os.PathLike[str], manifest: Mapping[str, Any]) -> Path:
    """Atomically write ``run_dir/manifest.json`` (creating ``run_dir`` if needed)."""
    return atomic_write_json(ensure_dir(run_dir) / MANIFEST_NAME, dict(manifest))


def finalize_manifest(run_dir: str | os.PathLike[str], **updates: Any) -> dict[str, Any]:
    """Merge ``updates`` (e.g. ``status``, ``wall_time_s``, ``summary``) into the manifest.

    Returns the updated manifest after rewriting it atomically.
    """
    path = Path(run_dir) / MANIFEST_NAME
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest.update(updates)
    atomic_write_json(path, manifest)
    return manifest
