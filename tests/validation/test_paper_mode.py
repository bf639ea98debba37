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


def test_paper_length_is_paper_mode_with_its_rule_read_over_a_resolved_length():
    """MODELS["paper-length"] changes paper mode in three values only (the mesh, the recalibrated strength,
    the failure length), and each of the four scenes it poses resolves, with the length resolved by at
    least four lattice spacings (where docs/validation.md shows the failure times converged)."""
    from pdssb.config.loader import validate_scene
    from pdssb.config.resolve import resolve
    from pdssb.validation.seed000 import GEOMETRIES, case_scene

    paper, length = MODELS["paper"], MODELS["paper-length"]
    changed = {k for k in length if paper.get(k) != length[k]}
    assert changed == {"domain.dx", "materials.LAGP.damage", "electrochem.failure.length"}
    assert set(paper) <= set(length)
    for g in GEOMETRIES:
        setup = resolve(validate_scene(case_scene(SCENES / f"seed000_{g}.toml", length)), SCENES)
        failure = setup.scene.electrochem.failure
        assert failure.span == "point" and failure.length >= 4 * setup.lattice.dx * (1 - 1e-9)
