"""Hostile input: generated malformed and hostile scene and sweep files.

Every one must end with exit code 2 and a one-line message, no traceback, no output folder, and
in bounded time. Hypothesis is derandomized, so the same files are generated on every run.
"""

import copy
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from pdssb.cli import app

BASE2D = {
    "title": "fuzz base",
    "domain": {"dim": 2, "size": ["4 um", "4 um"], "dx": "0.5 um", "thickness": "1 um"},
    "materials": {"LAGP": {"base": "LAGP"}, "Li": {"base": "Li"}},
    "bodies": [{"material": "LAGP"}],
    "defects": [{"type": "semi_sphere", "radius": "1 um"}],
    "regions": {"top": {"face": "+y"}},
    "boundary": [{"region": "top", "kind": "displacement", "value": ["0 um", "0.001 um"]}],
    "solver": {"load_steps": 1},
}
BASE3D = {
    "domain": {"dim": 3, "size": ["4 um", "4 um", "4 um"], "dx": "1 um"},
    "materials": {"LAGP": {"base": "LAGP"}},
    "bodies": [{"material": "LAGP"}, {"material": "void", "shape": {"type": "stl", "path": "pore.stl"}}],
}
PER_EXAMPLE_S = 20  # a hang is an alarm, not a stuck CI job


def _set(d: dict, path: str, value) -> dict:
    d = copy.deepcopy(d)
    node = d
    parts = path.split(".")
    for p in parts[:-1]:
        node = node[int(p)] if isinstance(node, list) else node[p]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return d


def _delete(d: dict, path: str) -> dict:
    d = copy.deepcopy(d)
    node = d
    parts = path.split(".")
    for p in parts[:-1]:
        node = node[int(p)] if isinstance(node, list) else node[p]
    del node[int(parts[-1]) if isinstance(node, list) else parts[-1]]
    return d


def _toml(d: dict) -> bytes:
    return tomli_w.dumps(d).encode()


WRONG_TYPES = {
    "domain.dx": [True, 3, [1, 2], {"a": 1}, "12 GPa", "abc", "0.5"],
    "domain.dim": ["2", 2.5, 7, [2]],
    "domain.size": ["4 um", 4, [True, False], {"x": "4 um"}],
    "solver.load_steps": ["ten", 2.5, [], 0],
    "bodies": [1, "LAGP", {"material": "LAGP"}],
    "materials": [[], "LAGP", 1],
    "title": [1, [], {}],
    "defects.0.radius": [1, "1 s", ["1 um"]],
    "boundary.0.value": ["0 um", [1, 2], ["0 um"]],
    "regions.top.face": ["+w", 1, ["+y"]],
}
MISSING = ["domain", "domain.dim", "domain.size", "domain.dx", "materials", "bodies", "bodies.0.material",
           "defects.0.radius", "boundary.0.region", "boundary.0.kind"]
TABLES = ["", "domain", "solver", "materials.LAGP", "bodies.0", "defects.0", "regions.top", "boundary.0"]
NONFINITE = {
    "solver.tolerance": [float("nan"), float("inf")],
    "domain.horizon_factor": [float("nan"), float("inf"), -float("inf")],
    "domain.dx": ["nan um", "inf um", "1e999 um"],
    "defects.0.radius": ["nan um", "-inf um"],
    "solver.most_stretched_band": [float("nan")],
}
NEGATIVE = {
    "domain.size": [["-4 um", "4 um"], ["0 um", "4 um"]],
    "domain.dx": ["-0.5 um", "0 um"],
    "domain.thickness": ["-1 um", "0 um"],
    "defects.0.radius": ["-1 um"],
    "solver.load_steps": [-1, 0, 10**30],
    "materials.LAGP.youngs_modulus": ["-1 GPa", "0 GPa"],
}


@st.composite
def hostile_scene(draw):
    """(kind, scene bytes, {extra file: bytes}, 3D?) — each one invalid by construction."""
    kind = draw(st.sampled_from(["wrong_type", "missing", "unknown", "nonfinite", "negative", "absurd", "huge_array",
                                 "bomb", "escape", "fake_stl", "garbage", "markup"]))
    extra: dict[str, bytes] = {}
    if kind == "wrong_type":
        path = draw(st.sampled_from(sorted(WRONG_TYPES)))
        return kind, _toml(_set(BASE2D, path, draw(st.sampled_from(WRONG_TYPES[path])))), extra
    if kind == "missing":
        return kind, _toml(_delete(BASE2D, draw(st.sampled_from(MISSING)))), extra
    if kind in ("unknown", "markup"):
        table = draw(st.sampled_from(TABLES))
        key = "x_" + draw(st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True))
        if kind == "markup":  # the message quotes the key: it must not be read as console markup
            key = draw(st.sampled_from(["[/bold]", "[red]", "[/]", "[link=file:///etc]"])) + key
        d = copy.deepcopy(BASE2D)
        node = d
        for p in table.split(".") if table else []:
            node = node[int(p)] if isinstance(node, list) else node[p]
        node[key] = draw(st.one_of(st.integers(), st.text(max_size=20), st.booleans()))
        return kind, _toml(d), extra
    if kind == "nonfinite":
        path = draw(st.sampled_from(sorted(NONFINITE)))
        return kind, _toml(_set(BASE2D, path, draw(st.sampled_from(NONFINITE[path])))), extra
    if kind == "negative":
        path = draw(st.sampled_from(sorted(NEGATIVE)))
        return kind, _toml(_set(BASE2D, path, draw(st.sampled_from(NEGATIVE[path])))), extra
    if kind == "absurd":
        which = draw(st.sampled_from(["memory", "index", "tiny_dx", "huge_dx"]))
        if which == "memory":  # under the index limit, far over any machine's memory
            n = draw(st.integers(1100, 1200))
            d = _set(BASE3D, "domain.size", [f"{n} um"] * 3)
            d = _set(_set(d, "domain.dx", "1 um"), "bodies", [{"material": "LAGP"}])
        elif which == "index":
            d = _set(BASE2D, "domain.size", [f"{draw(st.integers(10**6, 10**9))} um"] * 2)
        elif which == "tiny_dx":
            d = _set(BASE2D, "domain.dx", f"1e-{draw(st.integers(30, 300))} um")
        else:
            d = _set(BASE2D, "domain.dx", "40 um")
        return f"{kind}:{which}", _toml(d), extra
    if kind == "huge_array":
        which = draw(st.sampled_from(["bodies", "regions", "polygon", "schedule", "filesize"]))
        d = copy.deepcopy(BASE2D)
        if which == "bodies":
            d["bodies"] = [{"material": "LAGP"}] * draw(st.integers(1025, 3000))
        elif which == "regions":
            d["regions"] = {f"r{i}": {"face": "+y"} for i in range(draw(st.integers(257, 600)))}
        elif which == "polygon":
            d["bodies"].append({"material": "Li", "shape": {"type": "polygon",
                                                            "vertices": [["1 um", "1 um"]] * 10001}})
        elif which == "schedule":
            d["electrochem"] = {"counter_electrode": "top", "t_end": "1 s", "dt": "0.1 s",
                                "control": {"mode": "voltage", "schedule": [["1 s", "0.1 V"]] * 100001}}
        else:
            d["description"] = "x" * draw(st.integers(1_000_001, 1_200_000))
        return f"{kind}:{which}", _toml(d), extra
    if kind == "bomb":
        depth = draw(st.integers(33, 4000))
        which = draw(st.sampled_from(["array", "table", "string"]))
        if which == "array":
            text = "a = " + "[" * depth + "1" + "]" * depth + "\n"
        elif which == "table":
            text = "a = " + "{b = " * depth + "1" + "}" * depth + "\n"
        else:
            text = 'title = "' + "A" * (1_000_001 + depth) + '"\n'
        return f"{kind}:{which}", text.encode(), extra
    if kind == "escape":
        target = draw(st.sampled_from(["../pore.stl", "/etc/passwd", "sub/../../pore.stl", "link.stl",
                                       "./../../../etc/hostname"]))
        if target == "link.stl":
            extra["link.stl"] = b"@symlink:/etc/hostname"
        return f"{kind}", _toml(_set(BASE3D, "bodies.1.shape.path", target)), extra
    if kind == "fake_stl":
        content = draw(st.one_of(st.binary(max_size=3000), st.text(max_size=300).map(str.encode),
                                 st.just(b"solid x\nendsolid x\n")))
        extra["pore.stl"] = content
        return kind, _toml(BASE3D), extra
    return kind, draw(st.binary(min_size=1, max_size=4000)), extra


SWEEP_OK = {"scene": "base.toml", "parameters": {"solver.tolerance": [1e-4, 1e-3]}}


@st.composite
def hostile_sweep(draw):
    kind = draw(st.sampled_from(["missing_scene", "unknown_key", "escape", "not_list", "empty_list", "zip_mismatch",
                                 "bad_key", "invalid_case", "index_range", "through_scalar", "too_many", "garbage",
                                 "bomb", "nan_value", "no_parameters"]))
    d = copy.deepcopy(SWEEP_OK)
    if kind == "missing_scene":
        del d["scene"]
    elif kind == "unknown_key":
        d["x_" + draw(st.from_regex(r"[a-z]{1,10}", fullmatch=True))] = 1
    elif kind == "escape":
        d["scene"] = draw(st.sampled_from(["../base.toml", "/etc/passwd", "sub/../../base.toml", "missing.toml",
                                           "link.toml"]))
    elif kind == "not_list":
        d["parameters"]["solver.tolerance"] = draw(st.sampled_from([1e-4, "1e-4", {"a": 1}]))
    elif kind == "empty_list":
        d["parameters"]["solver.tolerance"] = []
    elif kind == "zip_mismatch":
        d["combine"] = "zip"
        d["parameters"]["solver.load_steps"] = [1, 2, 3]
    elif kind == "bad_key":
        key = draw(st.sampled_from(["a..b", "__import__('os').system('true')", ".x", "x.", "a b", "", "x" * 2000,
                                    "bodies.-1.material", "[/bold]x", "[red]x[/red]"]))
        d["parameters"] = {key: [1, 2]}
    elif kind == "invalid_case":
        path, values = draw(st.sampled_from([("domain.dx", ["0.5 um", "-1 um"]), ("domain.dx", ["0.5 um", "3 GPa"]),
                                             ("solver.load_steps", [1, 0]), ("defects.0.type", ["cube_x"]),
                                             ("materials.LAGP.poisson_ratio", [0.3])]))
        d["parameters"] = {path: values}
    elif kind == "index_range":
        d["parameters"] = {f"bodies.{draw(st.integers(1, 10**5))}.material": ["LAGP"]}
    elif kind == "through_scalar":
        d["parameters"] = {"title.x": ["a"]}
    elif kind == "too_many":
        d["parameters"] = {f"x{i}.y": list(range(11)) for i in range(5)}
    elif kind == "nan_value":
        d["parameters"] = {"solver.tolerance": [float("nan")], "domain.horizon_factor": [float("inf")]}
        d["combine"] = "zip"
    elif kind == "no_parameters":
        d["parameters"] = {}
    if kind == "garbage":
        return kind, draw(st.binary(min_size=1, max_size=3000))
    if kind == "bomb":
        return kind, ("scene = " + "[" * draw(st.integers(33, 3000)) + "]" * 0 + "\n").encode()
    return kind, _toml(d)


def _alarm(signum, frame):
    raise TimeoutError("hostile input took too long (a hang?)")


def _check_refused(args: list[str], out: Path) -> str:
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(PER_EXAMPLE_S)
    t0 = time.monotonic()
    try:
        res = CliRunner().invoke(app, args, catch_exceptions=False)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert res.exit_code == 2, (res.exit_code, res.output[:2000])
    assert len(lines) == 1, res.output[:2000]
    assert lines[0].startswith("error: ") and "Traceback" not in res.output
    assert not out.exists(), "an output folder was left behind"
    assert time.monotonic() - t0 < PER_EXAMPLE_S
    return lines[0]


def _write_extra(folder: Path, extra: dict[str, bytes]) -> None:
    for name, content in extra.items():
        if content.startswith(b"@symlink:"):
            os.symlink(content.removeprefix(b"@symlink:").decode(), folder / name)
        else:
            (folder / name).write_bytes(content)


def test_hostile_scenes_and_sweeps_exit_2():
    seen: dict[str, int] = {}
    messages = []

    @settings(max_examples=100, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
    @given(hostile_scene())
    def scenes(example):
        kind, content, extra = example
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "scenes"
            folder.mkdir()
            (folder / "scene.toml").write_bytes(content)
            _write_extra(folder, extra)
            out = Path(tmp) / "run"
            msg = _check_refused(["run", str(folder / "scene.toml"), "--out", str(out), "--arch", "cpu"], out)
            if kind == "absurd:memory":
                assert "needs about" in msg and "GiB" in msg, msg  # refused before allocating, estimate shown
            if kind == "escape":
                assert "inside the scene's folder" in msg or "stay inside" in msg, msg
            if kind == "markup":
                assert "[" in msg and "unknown key" in msg, msg
        seen[kind] = seen.get(kind, 0) + 1
        messages.append(msg)

    @settings(max_examples=50, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(hostile_sweep())
    def sweeps(example):
        kind, content = example
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "campaign"
            folder.mkdir()
            (folder / "base.toml").write_bytes(_toml(BASE2D))
            (Path(tmp) / "base.toml").write_bytes(_toml(BASE2D))  # a valid scene just outside the folder
            os.symlink("../base.toml", folder / "link.toml")
            (folder / "sweep.toml").write_bytes(content)
            out = Path(tmp) / "out"
            msg = _check_refused(["sweep", str(folder / "sweep.toml"), "--out", str(out), "--workers", "1"], out)
            if kind == "invalid_case":
                assert "case " in msg, msg
        seen["sweep:" + kind] = seen.get("sweep:" + kind, 0) + 1
        messages.append(msg)

    t0 = time.monotonic()
    scenes()
    sweeps()
    n_scene = sum(v for k, v in seen.items() if not k.startswith("sweep:"))
    n_sweep = sum(v for k, v in seen.items() if k.startswith("sweep:"))
    assert n_scene >= 50 and n_sweep >= 30, seen
    kinds = {k.split(":")[0] for k in seen if not k.startswith("sweep:")}
    assert kinds >= {"wrong_type", "missing", "unknown", "nonfinite", "negative", "absurd", "huge_array", "bomb",
                     "escape", "fake_stl", "garbage", "markup"}, seen
    assert "absurd:memory" in seen and "bomb:array" in seen and "bomb:table" in seen, seen
    assert len({k for k in seen if k.startswith("sweep:")}) >= 12, seen
    assert time.monotonic() - t0 < 60


@pytest.mark.parametrize("content", [b"a = " + b"[" * 100_000 + b"]" * 100_000, bytes(range(256)) * 40],
                         ids=["toml_bomb", "binary"])
def test_hostile_scene_in_a_subprocess(content, tmp_path):
    """The console entry point itself: stderr one line, no traceback, exit 2, no folder, no hang."""
    scene = tmp_path / "scene.toml"
    scene.write_bytes(content)
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "pdssb.cli", "run", str(scene), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert not out.exists()
