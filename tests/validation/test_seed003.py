"""`pdssb validate seed003` (pdssb/validation/seed003.py): its case list, the scenes it derives, its input
errors. The runs themselves are long (docs/validation.md); tests/test_cathode.py checks their trends on a
coarse section."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pdssb.cli import app
from pdssb.config.loader import parse_scene_text
from pdssb.config.schema import Scene
from pdssb.validation import seed003

SCENES = Path(__file__).resolve().parents[2] / "scenes"


@pytest.mark.parametrize("dim", [2, 3])
def test_every_case_scene_is_a_valid_scene_with_its_setting(dim):
    """Each of the 13 distinct cases (the baseline shared by four studies) is a valid scene that differs
    from the baseline in its study's setting."""
    base = parse_scene_text((SCENES / f"seed003_{dim}d.toml").read_text(), "seed003")
    spec = seed003.cases()
    assert len(spec) == 13 and seed003.BASELINE in spec
    for case, s in spec.items():
        scene = Scene.model_validate(seed003.case_scene(base, case, s["value"], s["study"]))
        c = scene.cathode
        if s["study"] == "strength":
            law = next(i.damage for i in scene.interfaces if sorted(i.materials) == ["ECBD", "NCM111"])
            assert law.strength == pytest.approx(s["value"][0] * 1e6)
            assert law.fracture_energy == pytest.approx(s["value"][1])
        elif s["study"] == "c_rate":
            assert c.c_rate == s["value"]
        elif s["study"] == "pressure" and s["value"] > 0:
            traction = [b for b in scene.boundary if b.kind == "traction"]
            assert traction and traction[0].value[0] == pytest.approx(s["value"] * 1e6)
        elif s["study"] == "anisotropy":
            assert c.expansion_ratios[2] == s["value"][2]
            assert c.diffusivity[2] == pytest.approx(s["value"][1])
            # seed 003 §3.2: Cases 2–4 (Case 1 is the baseline) have an isotropic D_s
            assert c.diffusivity[2] == pytest.approx(c.diffusivity[0])


@pytest.mark.parametrize("args,field", [(["--dim", "4"], "--dim"), (["--only", "nope"], "--only"),
                                        (["--set", "a=1"], "--set")])
def test_bad_options_exit_2_naming_the_option(args, field, tmp_path):
    r = CliRunner().invoke(app, ["validate", "seed003", "-o", str(tmp_path / "o"), "--scenes", str(SCENES), *args])
    assert r.exit_code == 2
    assert field in r.output
