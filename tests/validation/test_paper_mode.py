"""Seed 000's paper mode: one definition (pdssb.validation.seed000.MODELS["paper"]) that the aspect-ratio
sweep file repeats as data, and the CLI switch that selects it."""

from pathlib import Path

import tomllib

from pdssb.validation.seed000 import MODELS

SCENES = Path(__file__).resolve().parents[2] / "scenes"


def test_the_paper_mode_sweep_poses_the_paper_mode():
    """Every paper-mode override appears, with the same value, as a one-value parameter of
    scenes/seed000_sweep_pyramid_ar_paper.toml, and the sweep varies nothing else but the defect."""
    data = tomllib.loads((SCENES / "seed000_sweep_pyramid_ar_paper.toml").read_text())
    params = data["parameters"]
    assert {k: v[0] for k, v in params.items() if k != "defects.0"} == MODELS["paper"]
    assert all(len(v) == 1 for k, v in params.items() if k != "defects.0")
    plain = tomllib.loads((SCENES / "seed000_sweep_pyramid_ar.toml").read_text())
    assert params["defects.0"] == plain["parameters"]["defects.0"] and data["scene"] == plain["scene"]
