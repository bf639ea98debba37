"""Run manifest: provenance keys, JSON round trip, atomic finalisation."""

import json
from datetime import datetime

import pytest

from pdssb.io import manifest as manifest_module
from pdssb.io.manifest import build_manifest, finalize_manifest, write_manifest

SCENE = {
    "name": "notch",
    "material": {"E": 200e9, "nu": 0.25},
    "grid": {"dx": 1e-4, "shape": [100, 50]},
    "outputs": ["damage", "u"],
}

REQUIRED = {
    "pdssb_version",
    "python",
    "platform",
    "hostname",
    "versions",
    "git",
    "started_utc",
    "scene",
}


def test_build_manifest_keys_and_serialisable():
    manifest = build_manifest(SCENE, extra={"run_id": "abc", "seed": 3})
    assert REQUIRED <= set(manifest)
    assert manifest["scene"] == SCENE
    assert manifest["scene"] is not SCENE
    assert manifest["run_id"] == "abc" and manifest["seed"] == 3
    assert set(manifest["versions"]) == {"numpy", "taichi", "meshio", "scipy", "pydantic"}
    assert manifest["versions"]["numpy"]  # installed in the test environment
    assert isinstance(manifest["pdssb_version"], str) and manifest["pdssb_version"]
    git = manifest["git"]
    assert git is None or (len(git["commit"]) == 40 and isinstance(git["dirty"], bool))
    started = datetime.fromisoformat(manifest["started_utc"])
    assert started.utcoffset().total_seconds() == 0
    assert json.loads(json.dumps(manifest, allow_nan=False)) == manifest


def test_git_failure_gives_null(monkeypatch):
    def no_git(*args, **kwargs):
        raise FileNotFoundError("git")

    monkeypatch.setattr(manifest_module.subprocess, "run", no_git)
    assert build_manifest(SCENE)["git"] is None


def test_write_and_finalize(tmp_path):
    run_dir = tmp_path / "runs" / "r1"
    path = write_manifest(run_dir, build_manifest(SCENE))
    assert path == run_dir / "manifest.json"
    updated = finalize_manifest(
        run_dir, status="completed", wall_time_s=12.5, summary={"max_damage": 0.9}
    )
    on_disk = json.loads(path.read_text())
    assert on_disk == updated
    assert on_disk["status"] == "completed" and on_disk["wall_time_s"] == 12.5
    assert on_disk["summary"] == {"max_damage": 0.9}
    assert on_disk["scene"] == SCENE
    assert REQUIRED <= set(on_disk)
    assert [p.name for p in run_dir.iterdir()] == ["manifest.json"]


def test_finalize_rejects_nan_and_keeps_file(tmp_path):
    write_manifest(tmp_path, build_manifest(SCENE))
    before = (tmp_path / "manifest.json").read_text()
    with pytest.raises(ValueError):
        finalize_manifest(tmp_path, wall_time_s=float("nan"))
    assert (tmp_path / "manifest.json").read_text() == before
