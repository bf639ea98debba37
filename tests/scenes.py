"""Scene texts shared by the tests: one factory per kind of tiny scene, keyword overrides for what a
test varies."""


def swelling_pit(*, title: str = "tiny swelling pit", size_um: float = 4.0, dx_um: float = 0.25,
                 width_um: float = 2.0, strain: float = 0.12, load_steps: int = 4, every: int = 2,
                 checkpoint_every: int | None = None) -> str:
    """A 2D LAGP square clamped top and bottom, with a Li-filled pyramid pit in its -y face whose Li
    swells by ``strain`` over ``load_steps`` quasi-static load steps (a mechanical scene)."""
    checkpoint = f"checkpoint_every = {checkpoint_every}\n" if checkpoint_every is not None else ""
    return f'''
title = "{title}"
[domain]
dim = 2
size = ["{size_um:g} um", "{size_um:g} um"]
dx = "{dx_um:g} um"
thickness = "1 um"
[materials.LAGP]
base = "LAGP"
[materials.Li]
base = "Li"
[[bodies]]
material = "LAGP"
[[defects]]
type = "pyramid"
aspect_ratio = 1.0
width = "{width_um:g} um"
[regions.top]
face = "+y"
[regions.bottom]
face = "-y"
material = "LAGP"
[[boundary]]
region = "top"
kind = "displacement"
value = ["0 um", "0 um"]
[[boundary]]
region = "bottom"
kind = "displacement"
value = ["0 um", "0 um"]
[[eigenstrains]]
material = "Li"
strain = {strain!r}
[solver]
load_steps = {load_steps}
tolerance = 1e-4
[output]
every = {every}
{checkpoint}'''
