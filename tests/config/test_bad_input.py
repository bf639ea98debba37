"""Bad input: one line naming the field and the reason, exit code 2, no traceback, no output."""

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pdssb.cli import app

BASE = '''
title = "bad-input base"
[domain]
dim = 2
size = ["4 um", "4 um"]
dx = "0.2 um"
thickness = "1 um"
[materials.LAGP]
base = "LAGP"
[materials.Li]
base = "Li"
[[bodies]]
material = "LAGP"
[[defects]]
type = "semi_sphere"
radius = "1 um"
[regions.top]
face = "+y"
[[boundary]]
region = "top"
kind = "displacement"
value = ["0 um", "0.001 um"]
[solver]
load_steps = 1
'''

PRECRACK = "[[precracks]]\n{}\n"
SEGMENT = 'type = "segment"\npoints = [["{}", "{}"], ["{}", "{}"]]'
BASE_3D = '''
[domain]
dim = 3
size = ["4 um", "4 um", "4 um"]
dx = "0.5 um"
[materials.LAGP]
base = "LAGP"
[[bodies]]
material = "LAGP"
'''

CASES = {
    "missing key": (BASE.replace('dx = "0.2 um"\n', ""), "domain.dx: missing required key"),
    "unknown key": (BASE.replace("dim = 2", "dim = 2\nspacing = 3"), "domain.spacing: unknown key"),
    "wrong unit": (BASE.replace('dx = "0.2 um"', 'dx = "0.2 GPa"'), "domain.dx: '0.2 GPa' is not a length"),
    "negative size": (BASE.replace('size = ["4 um", "4 um"]', 'size = ["-4 um", "4 um"]'), "domain: size entries must be positive"),
    "poisson ratio": (BASE.replace('base = "LAGP"', 'base = "LAGP"\npoisson_ratio = 0.3'),
                      "materials.LAGP.poisson_ratio: bond-based peridynamics can only represent nu = 0.25"),
    "dx larger than defect": (BASE.replace('radius = "1 um"', 'radius = "0.3 um"'),
                              "defects[0]: smallest size 0.3 um is under 2 lattice spacings"),
    "horizon too small": (BASE.replace("dim = 2", "dim = 2\nhorizon_factor = 1.5"), "domain: horizon_factor 1.5 is too small"),
    "unknown region": (BASE.replace('region = "top"', 'region = "roof"'), "boundary[0].region: unknown region 'roof'"),
    "not toml": ("[domain\nthis is not toml", "not valid TOML"),
    "pre-crack polygon in 2D": (BASE + PRECRACK.format('type = "polygon"\nvertices = [["1 um", "1 um"], ["2 um", "1 um"], '
                                                       '["2 um", "2 um"]]'),
                                "precracks[0].type: a polygon pre-crack is 3D; in 2D give a segment"),
    "pre-crack of no length": (BASE + PRECRACK.format(SEGMENT.format("1 um", "1 um", "1 um", "1 um")),
                               "precracks[0].points: the two points coincide"),
    "pre-crack outside the domain": (BASE + PRECRACK.format(SEGMENT.format("1 um", "1 um", "5 um", "1 um")),
                                     "precracks[0].points: point 1 (5, 1) um lies outside the domain [0, 4] x [0, 4] um"),
    "pre-crack with 3 coordinates in 2D": (BASE + PRECRACK.format('type = "segment"\npoints = [["1 um", "1 um", "0 um"], '
                                                                  '["2 um", "1 um", "0 um"]]'),
                                           "precracks[0].points: needs 2 components, got 3"),
    "pre-crack without units": (BASE + PRECRACK.format(SEGMENT.format("1", "1 um", "2 um", "1 um")),
                                "precracks[0].points[0][0]"),
    "pre-crack cutting no bond": (BASE + PRECRACK.format(SEGMENT.format("1.005 um", "1 um", "1.03 um", "1 um")),
                                  "precracks[0]: cuts no bond"),
    "pre-crack segment in 3D": (BASE_3D + PRECRACK.format(SEGMENT.format("1 um", "1 um", "2 um", "1 um")),
                                "precracks[0].type: a segment pre-crack is 2D; in 3D give a planar polygon"),
    "pre-crack polygon not planar": (BASE_3D + PRECRACK.format(
        'type = "polygon"\nvertices = [["0 um", "0 um", "1 um"], ["1 um", "0 um", "1 um"], ["1 um", "1 um", "1 um"], '
        '["0 um", "1 um", "1.2 um"]]'), "precracks[0].vertices: not planar: a vertex lies 0.04951 um off"),
    "pre-crack polygon of no area": (BASE_3D + PRECRACK.format(
        'type = "polygon"\nvertices = [["0 um", "0 um", "1 um"], ["1 um", "0 um", "1 um"], ["2 um", "0 um", "1 um"]]'),
        "precracks[0].vertices: the vertices enclose no area"),
}

STL_SCENE = BASE_3D + '''[[bodies]]
material = "void"
shape = { type = "stl", path = "pore.stl" }
'''


def _run(args, tmp_path):
    return CliRunner().invoke(app, args, catch_exceptions=False)


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_scene_exits_2_with_one_line(name, tmp_path):
    text, expected = CASES[name]
    scene = tmp_path / "scene.toml"
    scene.write_text(text)
    out = tmp_path / "run"
    res = _run(["run", str(scene), "--out", str(out), "--arch", "cpu"], tmp_path)
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1, res.output
    assert expected in lines[0]
    assert "Traceback" not in res.output
    assert not out.exists()


@pytest.mark.parametrize("content", [b"\x00\x01garbage" * 50, b"this is a text file, not a mesh\n"])
def test_unreadable_stl_exits_2(content, tmp_path):
    (tmp_path / "pore.stl").write_bytes(content)
    scene = tmp_path / "scene.toml"
    scene.write_text(STL_SCENE)
    res = _run(["check", str(scene)], tmp_path)
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "bodies[1].shape.path" in lines[0]


def test_stl_path_may_not_escape_scene_folder(tmp_path):
    scene = tmp_path / "scene.toml"
    scene.write_text(STL_SCENE.replace("pore.stl", "../../etc/passwd"))
    res = _run(["check", str(scene)], tmp_path)
    assert res.exit_code == 2 and "inside the scene's folder" in res.output


def test_subprocess_bad_input_has_no_traceback(tmp_path):
    """The installed console entry point, as a user runs it: stderr one line, stdout empty, exit 2."""
    scene = tmp_path / "scene.toml"
    scene.write_text(CASES["wrong unit"][0])
    proc = subprocess.run([sys.executable, "-m", "pdssb.cli", "run", str(scene), "--out", str(tmp_path / "r")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "domain.dx" in proc.stderr and "Traceback" not in proc.stderr


def test_existing_run_folder_is_not_overwritten(tmp_path):
    scene = tmp_path / "scene.toml"
    scene.write_text(BASE)
    out = tmp_path / "run"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    res = _run(["run", str(scene), "--out", str(out), "--arch", "cpu"], tmp_path)
    assert res.exit_code == 2 and "--overwrite" in res.output
    assert (out / "precious.txt").read_text() == "keep me"


def test_repo_scenes_are_valid():
    """Every scene shipped in scenes/ (any depth) passes the schema and physics checks; every sweep
    file there (a top-level `scene = "base.toml"`) loads with all its cases validated."""
    import tomllib

    from pdssb.sweep.spec import load_sweep

    files = sorted((Path(__file__).parents[2] / "scenes").rglob("*.toml"))
    assert files
    n_sweeps = 0
    for s in files:
        if isinstance(tomllib.loads(s.read_text()).get("scene"), str):
            assert load_sweep(s).cases, s
            n_sweeps += 1
            continue
        res = CliRunner().invoke(app, ["check", str(s)], catch_exceptions=False)
        assert res.exit_code == 0, (s, res.output)
    assert 0 < n_sweeps < len(files)
