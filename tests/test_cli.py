"""`pdssb run` and `pdssb bench` from the command line: what a run folder must hold."""

import json

import meshio
import numpy as np
import pytest
from typer.testing import CliRunner

from pdssb.cli import app
from pdssb.config.loader import load_scene
from pdssb.io.timeseries import read_timeseries

from .scenes import swelling_pit

SCENE = swelling_pit(size_um=3, dx_um=0.1, width_um=1, strain=0.02)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    base = tmp_path_factory.mktemp("cli")
    scene = base / "tiny.toml"
    scene.write_text(SCENE)
    out = base / "run"
    res = CliRunner().invoke(app, ["run", str(scene), "--out", str(out), "--arch", "cpu", "--json"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return out, json.loads(res.stdout.strip().splitlines()[-1])


def test_run_folder_contents(run_dir):
    out, summary = run_dir
    for name in ("manifest.json", "scene.toml", "timeseries.csv", "snapshots.pvd", "summary.json"):
        assert (out / name).is_file(), name
    assert summary["status"] == "completed" and summary["steps"] == 4
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["wall_time_s"] > 0
    assert manifest["versions"]["taichi"]
    assert "git" in manifest and "material_sources" in manifest
    assert manifest["scene"]["materials"]["LAGP"]["youngs_modulus"] == "120 GPa"


def test_timeseries_has_one_row_per_step(run_dir):
    out, _ = run_dir
    ts = read_timeseries(out / "timeseries.csv")
    assert list(ts["step"]) == [1, 2, 3, 4]
    assert np.all(np.diff(ts["load"]) > 0)
    assert np.all(np.diff(ts["strain_energy_J"]) > 0)  # the swelling inclusion loads the body more each step


def test_snapshots_are_readable_vtu_and_npz(run_dir):
    out, _ = run_dir
    vtus = sorted((out / "snapshots").glob("*.vtu"))
    assert [v.name for v in vtus] == ["snapshots_000002.vtu", "snapshots_000004.vtu"]
    mesh = meshio.read(vtus[-1])
    assert mesh.points.shape == (900, 3)
    for f in ("damage", "von_mises_Pa", "displacement_m", "material"):
        assert f in mesh.point_data
    npz = np.load(vtus[-1].with_suffix(".npz"))
    assert np.allclose(npz["von_mises_Pa"], mesh.point_data["von_mises_Pa"])
    assert (out / "snapshots.pvd").read_text().count("<DataSet") == 2


def test_resolved_scene_reproduces_the_run_alone(run_dir):
    """The saved scene has every default and library value filled in, and loads to the same model."""
    out, _ = run_dir
    resolved = load_scene(out / "scene.toml")
    assert resolved.materials["Li"].youngs_modulus == pytest.approx(4.9e9)
    assert resolved.materials["LAGP"].fracture_energy is not None
    assert resolved.solver.break_mode == "most_stretched"


def test_bench_json_tiny():
    res = CliRunner().invoke(app, ["bench", "--size", "6", "--steps", "3", "--precision", "f64", "--arch", "cpu",
                                   "--json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    fig = json.loads(res.stdout.strip().splitlines()[-1])
    assert fig["case"] == "pmb-cube" and fig["sites"] == 7**3 and fig["bond_evals_per_s"] > 0


def test_bench_refuses_bad_size():
    res = CliRunner().invoke(app, ["bench", "--size", "0"])
    assert res.exit_code == 2 and "--size" in res.output


def test_f32_run_matches_f64(run_dir, tmp_path):
    """Precision is selectable: the same scene in f32 (its own process, so its own Taichi runtime)
    gives the f64 run's peak von Mises stress and strain energy within 1e-3 relative."""
    import subprocess
    import sys

    _, summary64 = run_dir
    scene = tmp_path / "tiny.toml"
    scene.write_text(SCENE)
    proc = subprocess.run([sys.executable, "-m", "pdssb.cli", "run", str(scene), "--out", str(tmp_path / "r32"),
                           "--arch", "cpu", "--precision", "f32", "--json"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    summary32 = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary32["von_mises_max_MPa"] == pytest.approx(summary64["von_mises_max_MPa"], rel=1e-3)
    assert summary32["strain_energy_J"] == pytest.approx(summary64["strain_energy_J"], rel=1e-3)
    manifest = json.loads((tmp_path / "r32" / "manifest.json").read_text())
    assert manifest["precision"] == "f32"


@pytest.mark.parametrize("args,needle", [
    (["validate", "seed999"], "unknown reproduction"),
    (["validate", "seed000", "--only", "sphere"], "unknown geometry"),
    (["validate", "seed000", "--set", "no-equals-sign"], "KEY=VALUE"),
    (["validate", "seed000", "--scenes", "/nonexistent"], "scene not found"),
    (["validate", "scenarios", "--only", "nonsense"], "unknown scenario"),
    (["validate", "scenarios", "--only", "pores", "--scenes", "/nonexistent"], "sweep file not found"),
    (["validate", "scenarios", "--only", "pores", "--analyse-only"], "no results to analyse"),
    (["validate", "scenarios", "--set", "a=1"], "seed000 only"),
])
def test_validate_refuses_bad_arguments(args, needle, tmp_path):
    """Bad arguments to `pdssb validate`: one line naming the problem, exit code 2, nothing run."""
    res = CliRunner().invoke(app, args + ["--out", str(tmp_path / "v")])
    assert res.exit_code == 2
    assert needle in res.output and len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "v").exists()
