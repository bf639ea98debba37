"""The Python API (pdssb/api.py, docs/api.md): scenes with overrides, runs, run folders, frames."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pdssb
from pdssb import api
from pdssb.errors import InputError
from pdssb.io.timeseries import read_timeseries
from pdssb.viz.compose import CRACK_RGB
from pdssb.viz.figures import FIGURES

from .scenes import swelling_pit
from .viz.conftest import write_run

ROOT = Path(__file__).resolve().parents[1]
SEED000 = ROOT / "scenes" / "seed000_semi_sphere.toml"
NO_VULKAN = {"VK_ICD_FILENAMES": "/nonexistent", "VK_DRIVER_FILES": "/nonexistent"}


def doc_code(path: Path) -> str:
    """The ```python blocks of a Markdown page, in order."""
    return "\n".join(re.findall(r"^```python\n(.*?)^```$", path.read_text(encoding="utf-8"), flags=re.S | re.M))


def test_docs_api_example_runs_without_vulkan(tmp_path):
    """docs/api.md's code, run as written in a fresh process from a folder holding the seed-000
    scene, with the Vulkan driver hidden: it runs to the end and leaves what it says it writes."""
    code = doc_code(ROOT / "docs" / "api.md")
    assert code.count("pdssb.run(") == 1 and "run.frame(" in code and "open_run(" in code
    (tmp_path / "scenes").mkdir()
    shutil.copy(SEED000, tmp_path / "scenes")
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg", **NO_VULKAN)
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "domain.dx: '0.1 kg' is not a length" in out  # the bad override's one line
    assert re.search(r"<pdssb Run 'runs/pit': completed, \d+ steps>", out)
    summary = json.loads((tmp_path / "runs/pit/summary.json").read_text())
    assert summary["status"] == "completed" and summary["time_s"] == pytest.approx(10.0)
    import imageio.v3 as iio

    png = iio.imread(tmp_path / "damage_10s.png")
    assert png.shape == (540, 960, 3) and len(np.unique(png.reshape(-1, 3), axis=0)) > 50
    assert (png == CRACK_RGB).all(axis=2).sum() > 20  # the broken bonds, drawn as crack faces
    assert sorted(p.name for p in (tmp_path / "runs/pit/figures").glob("*.png")) == \
        sorted(f"{stem}.png" for stem in FIGURES)


def test_import_pdssb_is_cheap():
    """`import pdssb` (the API included) imports neither Taichi nor pandas nor pydantic."""
    code = "import sys, pdssb; print(sorted(m for m in ('taichi', 'pandas', 'pydantic', 'numpy') if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, PYTHONPATH=str(ROOT)),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stdout + proc.stderr


# ---------------------------------------------------------------- load_scene
def test_overrides_dotted_and_nested_mean_the_same():
    dotted = pdssb.load_scene(SEED000, **{"domain.dx": "0.1 um", "electrochem.t_end": "10 s",
                                          "defects.0.radius": "1.5 um"})
    nested = pdssb.load_scene(SEED000, domain={"dx": "0.1 um"}, electrochem={"t_end": "10 s"},
                              defects={"0": {"radius": "1.5 um"}})
    base = pdssb.load_scene(SEED000)
    assert dotted.domain.dx == pytest.approx(1e-7) and dotted.electrochem.t_end == 10.0
    assert dotted.defects[0].radius == pytest.approx(1.5e-6)
    assert dotted.model_dump() == nested.model_dump()
    # a dict merges into its table: the keys it does not name keep the file's values
    assert nested.electrochem.dt == base.electrochem.dt and nested.domain.size == base.domain.size
    assert nested.model_dump(exclude={"domain", "electrochem", "defects"}) == \
        base.model_dump(exclude={"domain", "electrochem", "defects"})


def test_overrides_are_what_validate_set_would_write(tmp_path):
    """An override equals the same value written into the scene file."""
    text = SEED000.read_text().replace('dx = "0.2 um"', 'dx = "0.1 um"')
    edited = tmp_path / "edited.toml"
    edited.write_text(text)
    assert pdssb.load_scene(SEED000, **{"domain.dx": "0.1 um"}).model_dump() == \
        pdssb.load_scene(edited).model_dump()


@pytest.mark.parametrize("overrides,where", [
    ({"domain.dx": "fast"}, "domain.dx"),
    ({"domain.dx": "0.1 kg"}, "domain.dx"),
    ({"domain": {"dxx": "1 um"}}, "domain.dxx"),
    ({"defects.5.radius": "1 um"}, "defects.5.radius"),
    ({"title.text": "x"}, "title.text"),
    ({"domain..dx": "1 um"}, "domain..dx"),
    ({"electrochem.t_end": -3}, "electrochem.t_end"),
])
def test_bad_overrides_raise_input_error_naming_the_field(overrides, where):
    with pytest.raises(InputError) as e:
        pdssb.load_scene(SEED000, **overrides)
    assert e.value.where == where, str(e.value)
    assert "\n" not in str(e.value)


def test_missing_scene_file_is_input_error(tmp_path):
    with pytest.raises(InputError, match="no such scene file"):
        pdssb.load_scene(tmp_path / "nope.toml")


# ---------------------------------------------------------------- run and Run
@pytest.fixture(scope="module")
def api_run(tmp_path_factory):
    """A tiny mechanical scene (4 load steps, snapshots at steps 2 and 4) run through the API."""
    base = tmp_path_factory.mktemp("api")
    scene_file = base / "tiny.toml"
    scene_file.write_text(swelling_pit(size_um=3, dx_um=0.1, width_um=1, strain=0.02, every=2, checkpoint_every=2))
    scene = pdssb.load_scene(scene_file, solver={"load_steps": 4})
    return pdssb.run(scene, base / "run", arch="cpu", figures=False), scene_file


def test_run_writes_the_cli_run_folder(api_run):
    run, scene_file = api_run
    for name in ("manifest.json", "scene.toml", "timeseries.csv", "snapshots.pvd", "summary.json"):
        assert (run.folder / name).is_file(), name
    assert run.summary == json.loads((run.folder / "summary.json").read_text())
    assert run.summary["status"] == "completed" and run.summary["steps"] == 4
    assert run.manifest["scene_file"] == str(scene_file.resolve()) and run.manifest["precision"] == "f64"
    assert not (run.folder / "figures").exists()  # figures=False


def test_timeseries_is_the_csv(api_run):
    run, _ = api_run
    ts = run.timeseries
    table = read_timeseries(run.folder / "timeseries.csv")
    header = (run.folder / "timeseries.csv").read_text().splitlines()[0].split(",")
    assert list(ts.columns) == header and "von_mises_max_MPa" in header
    assert list(ts["step"]) == [1, 2, 3, 4]
    for column in header:
        np.testing.assert_array_equal(ts[column].to_numpy(), table[column])


def test_snapshot_at_or_before_t(api_run):
    run, _ = api_run
    times = run.times
    assert len(times) == 2 and times[0] < times[1]
    npz = [np.load(p) for p in sorted((run.folder / "snapshots").glob("*.npz"))]
    assert [float(z["time"]) for z in npz] == list(times)
    mid = 0.5 * (times[0] + times[1])
    assert run.snapshot(mid).step == 2 and run.snapshot(times[1]).step == 4
    assert run.snapshot().step == 4 and run.snapshot(10 * times[1]).step == 4
    assert run.snapshot(f"{float(times[0])!r} s").step == 2
    snap = run.snapshot(times[0])
    for key in npz[0].files:
        if key not in ("points", "time", "step"):
            np.testing.assert_array_equal(snap[key], npz[0][key])
    np.testing.assert_allclose(snap["positions"], npz[0]["points"], rtol=0, atol=1e-15)
    assert snap["positions"].shape == (900, 2) and snap.time == times[0]
    with pytest.raises(InputError, match="before the first snapshot"):
        run.snapshot(0.5 * times[0])
    with pytest.raises(InputError, match="^t: "):
        run.snapshot("3 um")


def test_open_run_reads_the_same_folder(api_run, tmp_path):
    run, _ = api_run
    again = pdssb.open_run(run.folder)
    assert again.summary == run.summary and list(again.times) == list(run.times)
    with pytest.raises(InputError, match="run folder not found"):
        pdssb.open_run(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="not a run folder"):
        pdssb.open_run(tmp_path / "empty")


def test_a_run_from_a_scene_object_can_be_resumed(api_run):
    """The scene text a Scene-object run keeps for --resume resolves to the run's own scene.toml
    (load_resume refuses it otherwise); a finished run has nothing to resume."""
    run, _ = api_run
    assert api.plan_resume(run.folder, arch="cpu").finished
    summary = (run.folder / "summary.json").read_bytes()
    (run.folder / "summary.json").unlink()
    try:
        plan = api.plan_resume(run.folder, arch="cpu")
        assert not plan.finished and plan.setup.lattice.n_sites == 900
    finally:
        (run.folder / "summary.json").write_bytes(summary)


def test_figures_made_when_missing_else_kept(api_run):
    run, _ = api_run
    paths = run.figures()
    stems = [p.stem for p in paths if p.suffix == ".png"]
    assert stems == list(FIGURES)  # the constant names what figures_for_run writes
    stamp = {p: p.stat().st_mtime_ns for p in paths}
    assert pdssb.open_run(run.folder).figures() == paths
    assert all(p.stat().st_mtime_ns == stamp[p] for p in paths)  # not remade


def test_cli_and_api_write_the_same_run(tmp_path):
    """`pdssb run SCENE --json` and pdssb.run(SCENE) (one code path): the same summary (bar the wall
    time and the keys the CLI adds), time series, snapshots and manifest scene."""
    from typer.testing import CliRunner

    from pdssb.cli import app

    scene = tmp_path / "tiny.toml"
    scene.write_text(swelling_pit(size_um=2, dx_um=0.25, width_um=1, strain=0.02, load_steps=2, every=1))
    res = CliRunner().invoke(app, ["run", str(scene), "--out", str(tmp_path / "cli"), "--arch", "cpu", "--json"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    cli_summary = json.loads(res.stdout.strip().splitlines()[-1])
    run = pdssb.run(scene, tmp_path / "api", arch="cpu")
    assert cli_summary["run_dir"] == str(tmp_path / "cli") and len(cli_summary["figures"]) == 2 * len(FIGURES)
    assert [Path(p).name for p in cli_summary["figures"]] == [p.name for p in run.figures()]
    drop = ("wall_time_s", "run_dir", "figures")
    assert {k: v for k, v in cli_summary.items() if k not in drop} == \
        {k: v for k, v in run.summary.items() if k not in drop}
    cli_run = pdssb.open_run(tmp_path / "cli")
    assert cli_run.timeseries.equals(run.timeseries) and list(cli_run.times) == list(run.times)
    for key, value in cli_run.snapshot().items():
        np.testing.assert_array_equal(value, run.snapshot()[key])
    assert cli_run.manifest["scene"] == run.manifest["scene"]
    assert cli_run.manifest["scene_file"] == run.manifest["scene_file"] == str(scene)


def test_a_diverging_run_is_returned_with_a_warning(tmp_path):
    """Δt four times the stable bound (tests/test_checkpoint.py): the Run comes back, diverged."""
    from .test_checkpoint import DYNAMIC

    scene = tmp_path / "bad.toml"
    scene.write_text(DYNAMIC.replace('t_end = "2e-9 s"', 't_end = "2e-9 s"\ndt = "2e-10 s"')
                     .replace("every = 10", "every = 1"))
    with pytest.warns(RuntimeWarning, match="run diverged at step .* see .*diagnostic.json"):
        run = pdssb.run(scene, tmp_path / "run", arch="cpu")
    assert run.summary["status"] == "diverged" and (run.folder / "diagnostic.json").is_file()
    assert not (run.folder / "figures").exists()


def test_run_without_a_folder_uses_a_fresh_temporary_one(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    scene = tmp_path / "tiny.toml"
    scene.write_text(swelling_pit(size_um=2, dx_um=0.25, width_um=1, strain=0.01, load_steps=1, every=1))
    run = pdssb.run(scene, arch="cpu", figures=False)
    assert run.folder.parent == tmp_path and run.folder.name.startswith("pdssb-tiny-")
    assert run.summary["status"] == "completed"


def test_bad_run_input_writes_nothing(tmp_path):
    scene = pdssb.load_scene(SEED000, **{"domain.dx": "0.3 um"})
    with pytest.raises(InputError, match="^domain.dx: must divide"):
        pdssb.run(scene, tmp_path / "r", arch="cpu")
    with pytest.raises(InputError, match="^scene: "):
        pdssb.run(42, tmp_path / "r")
    assert not (tmp_path / "r").exists()


# ---------------------------------------------------------------- frames
@pytest.fixture(scope="module")
def crack_run(tmp_path_factory):
    """A synthetic 2D run folder with an open crack (tests/viz/conftest.py)."""
    cuts = [(0, 19.5, (0, 9.5), (0, 19.5))]
    return write_run(tmp_path_factory.mktemp("api") / "crack", (40, 30), 0.1e-6, (slice(17, 23), slice(8, 21)),
                     steps=2, cuts=cuts)


def test_frame_is_the_software_renderers_picture(crack_run, tmp_path, monkeypatch):
    """Run.frame draws with the software renderer (GGUI is never asked: it is made unavailable
    here) exactly what SoftwareRenderer draws for the snapshot; the PNG Jupyter shows and the saved
    file decode to the same image."""
    import imageio.v3 as iio

    from pdssb.viz import frame as ggui
    from pdssb.viz.data import RunData
    from pdssb.viz.software import SoftwareRenderer

    monkeypatch.setattr(ggui, "vulkan_problem", lambda: "hidden by the test")
    run = pdssb.open_run(crack_run)
    frame = run.frame("damage", t=1.5, resolution=(480, 320))
    assert frame.step == 1 and frame.time == 1.0 and frame.shape == (320, 480, 3)
    opts = api.frame_options("damage", resolution="480x320")
    expected = SoftwareRenderer((480, 320)).draw(RunData(crack_run).snapshot(0), opts)
    np.testing.assert_array_equal(frame.to_numpy(), expected)
    assert (frame.to_numpy() == CRACK_RGB).all(axis=2).sum() > 50  # the crack is drawn
    np.testing.assert_array_equal(iio.imread(frame._repr_png_()), expected)
    saved = frame.save(tmp_path / "f.png")
    np.testing.assert_array_equal(iio.imread(saved), expected)
    with pytest.raises(InputError, match="png"):
        frame.save(tmp_path / "f.bmp")


def test_frame_options_from_python_values_or_cli_text():
    a = api.frame_options("von_mises", clip=(1, "<", 0.5), camera=(-30, 20), resolution=(800, 600))
    b = api.frame_options("von_mises", clip="y<0.5", camera="-30,20", resolution="800x600")
    assert a == b and a.clip == (1, "<", 0.5) and a.camera == (-30.0, 20.0, 1.0)
    assert api.frame_options(value_range=(0, 2)).value_range == (0.0, 2.0)
    for bad, where in ((dict(field="nonsense"), "--field"), (dict(resolution=(10, 10)), "--resolution"),
                       (dict(clip="w<2"), "--clip"), (dict(clip=(1, "<")), "--clip"),
                       (dict(value_range=(1, 1)), "value_range"), (dict(value_range=("a", 1)), "value_range"),
                       (dict(crack_only="half"), "--crack-only"), (dict(crack_only=2), "--crack-only"),
                       (dict(style="dots"), "--style")):
        with pytest.raises(InputError) as e:
            api.frame_options(**bad)
        assert where in str(e.value)
