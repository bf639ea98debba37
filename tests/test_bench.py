"""`pdssb bench --check / --record` against a records file, and the other bench modes' argument
checks. Nothing here asserts a speed: the figures are measured by `pdssb bench` (docs/benchmarks.md)."""

import json

import pytest
from typer.testing import CliRunner

from pdssb.cli import app
from pdssb.perf import records as R

TINY = ["bench", "--size", "6", "--steps", "20", "--precision", "f64", "--arch", "cpu"]


def _invoke(*args):
    return CliRunner().invoke(app, [*TINY, *args])


def _scale_records(path, factor):
    data = json.loads(path.read_text())
    for r in data["records"]:
        r["value"] *= factor
    path.write_text(json.dumps(data))


def test_record_then_check(tmp_path):
    path = tmp_path / "records.json"
    res = _invoke("--record", "--records", str(path))
    assert res.exit_code == 0, res.output
    (rec,) = json.loads(path.read_text())["records"]
    assert (rec["case"], rec["size"], rec["precision"], rec["arch"]) == ("pmb-cube", 6, "f64", "cpu")
    assert rec["value"] > 0 and rec["unit"] and rec["metric"] == "bond_evals_per_s"
    assert rec["date"] and rec["machine"] and rec["commit"] and rec["command"].startswith("pdssb bench ")
    # (a) a matching record passes (its value cut to a quarter: a tiny case's timing is noisy)
    _scale_records(path, 0.25)
    res = _invoke("--check", "--records", str(path), "--repeat", "3")
    assert res.exit_code == 0, res.output
    assert "ok case=pmb-cube size=6 precision=f64 arch=cpu" in res.output


def test_check_flags_a_drop(tmp_path):
    path = tmp_path / "records.json"
    assert _invoke("--record", "--records", str(path)).exit_code == 0
    # (b) a record 10x what this machine achieves: flagged, one line, exit 1
    _scale_records(path, 10.0)
    res = _invoke("--check", "--records", str(path), "--json")
    assert res.exit_code == 1, res.output
    lines = [ln for ln in res.output.splitlines() if ln.startswith("REGRESSION")]
    assert len(lines) == 1 and "case=pmb-cube size=6" in lines[0] and "below the record" in lines[0]
    fig = json.loads(res.stdout.strip().splitlines()[-1])
    assert fig["check"]["status"] == "regression"


def test_check_against_the_last_record_of_the_key(tmp_path):
    path = tmp_path / "records.json"
    assert _invoke("--record", "--records", str(path)).exit_code == 0
    assert _invoke("--record", "--records", str(path)).exit_code == 0
    data = json.loads(path.read_text())
    data["records"][0]["value"] *= 1000.0  # an old, unreachable record: superseded by the later one
    data["records"][1]["value"] *= 0.25
    path.write_text(json.dumps(data))
    assert _invoke("--check", "--records", str(path), "--repeat", "3").exit_code == 0


def test_check_without_a_record_is_a_note(tmp_path):
    # (c) no record for the key: a note, exit 0 (docs/benchmarks.md)
    path = tmp_path / "records.json"
    res = _invoke("--check", "--records", str(path))
    assert res.exit_code == 0, res.output
    assert "no record for case=pmb-cube size=6 precision=f64 arch=cpu" in res.output
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"schema": 1, "records": [
        {"case": "pmb-cube", "size": 40, "precision": "f64", "arch": "cpu", "value": 1e8}]}))
    res = _invoke("--check", "--records", str(other))
    assert res.exit_code == 0 and "no record for" in res.output


@pytest.mark.parametrize("args, where", [
    (["--tolerance", "1.5", "--check"], "--tolerance"),
    (["--repeat", "0"], "--repeat"),
    (["--memory", "--scaling"], "--scaling"),
    (["--memory", "--check"], "--check"),
    (["--scaling", "--scaling-sizes", "10,20"], "--scaling-sizes"),
    (["--scaling", "--scaling-solvers", "mechanics/gauss"], "--scaling-solvers"),
    (["--memory", "--memory-sizes", "a,b,c,d"], "--memory-sizes"),
    (["--startup", "no/such/scene.toml"], "no/such/scene.toml"),
    (["--precision", "f16"], "--precision"),
])
def test_bad_arguments_exit_2(args, where):
    res = _invoke(*args)
    assert res.exit_code == 2, res.output
    assert where in res.output and "Traceback" not in res.output


def test_malformed_records_file_exit_2(tmp_path):
    path = tmp_path / "records.json"
    path.write_text("{not json")
    res = _invoke("--check", "--records", str(path))
    assert res.exit_code == 2 and "records" in res.output


def test_records_check_logic():
    rec = {"case": "c", "size": 1, "precision": "f32", "arch": "cpu", "value": 100.0, "date": "d", "commit": "x"}
    fresh = dict(rec, value=81.0)
    assert R.check(fresh, [rec], "value")[0] == "ok"
    status, line = R.check(dict(rec, value=79.0), [rec], "value")
    assert status == "regression" and "\n" not in line and "21%" in line
    assert R.check(dict(rec, size=2), [rec], "value")[0] == "missing"


def test_memory_census_counts_device_and_host():
    from pdssb.perf.memory import capacity, fit, measure

    a = measure("coupled", 2, 12, "f64", "adr")
    b = measure("coupled", 2, 16, "f64", "adr")
    f = fit(a, b, "device_bytes")
    # at least the mechanics arrays of config.resolve.bytes_per_site, plus the conduction fields
    from pdssb.config.resolve import bytes_per_site

    assert f["per_padded_site"] > bytes_per_site(2, "f64", 2)
    assert capacity(f["per_padded_site"], 0.0, 1e9) == pytest.approx(1e9 / f["per_padded_site"])


def test_startup_scene_with_changed_values(tmp_path):
    import tomli_w

    from pdssb.config.loader import load_scene
    from pdssb.perf.scenes import coupled_scene
    from pdssb.perf.startup import changed_scene

    src = tmp_path / "cell.toml"
    src.write_text(tomli_w.dumps(coupled_scene(2, 20, dx_um=0.2)))
    (tmp_path / "out").mkdir()
    path, changes = changed_scene(src, tmp_path / "out", "values")
    scene = load_scene(path)
    assert len(changes) == 1 and scene.domain.dx == pytest.approx(0.2e-6)
    assert scene.electrochem.control.value == pytest.approx(0.1485)
    path, changes = changed_scene(src, tmp_path / "out", "dx")
    scene = load_scene(path)
    assert len(changes) == 1 and scene.domain.dx == pytest.approx(0.1e-6)
    assert scene.electrochem.control.value == pytest.approx(0.135)


def test_coupled_case_prints_one_consistent_json_line():
    """`--case coupled` runs the seed-000 semi-sphere for 1 s (no failure yet) and prints its figures with
    the machine and commit; every coupled step solves equilibrium at least once."""
    res = CliRunner().invoke(app, ["bench", "--case", "coupled", "--dx", "0.2", "--t-end", "1", "--arch", "cpu",
                                   "--json"])
    assert res.exit_code == 0, res.output
    fig = json.loads(res.stdout.strip().splitlines()[-1])
    assert fig["case"] == "coupled" and fig["dx_um"] == 0.2 and fig["arch"] == "cpu"
    assert fig["sites"] == 50 * 53  # 10 µm × 10.6 µm at 0.2 µm
    assert fig["method"] == "direct" and fig["status"] == "completed"
    assert fig["time_s"] == pytest.approx(1.0) and fig["failure_time_s"] is None and fig["failure_cause"] is None
    assert fig["steps"] >= 1 and fig["equilibrium_solves"] >= fig["steps"] and fig["bonds_broken"] >= 0
    assert fig["wall_s"] > 0
    assert fig["date"] and fig["machine"] and fig["commit"] and fig["command"].startswith("pdssb bench --case coupled")


@pytest.mark.parametrize("args, field", [
    (["--dx", "0"], "--dx"), ([], "--dx"), (["--dx", "0.2", "--geometry", "sphere"], "--geometry"),
    (["--dx", "0.2", "--t-end", "-1"], "--t-end"), (["--dx", "0.2", "--record"], "--record"),
    (["--dx", "0.2", "--method", "newton"], "solver.method"),
])
def test_coupled_case_refuses_bad_input(args, field):
    res = CliRunner().invoke(app, ["bench", "--case", "coupled", "--arch", "cpu", *args])
    assert res.exit_code == 2 and field in res.output, res.output
