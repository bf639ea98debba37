"""Scene texts shared by the tests: one factory per kind of tiny scene, keyword overrides for what a
test varies."""


def clamped(bottom: str) -> str:
    """The top and bottom faces held fixed; ``bottom`` completes the bottom region (its depth or material)."""
    return f'''[regions.top]
face = "+y"
[regions.bottom]
face = "-y"
{bottom}
[[boundary]]
region = "top"
kind = "displacement"
value = ["0 um", "0 um"]
[[boundary]]
region = "bottom"
kind = "displacement"
value = ["0 um", "0 um"]
'''


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
{clamped('material = "LAGP"')}[[eigenstrains]]
material = "Li"
strain = {strain!r}
[solver]
load_steps = {load_steps}
tolerance = 1e-4
[output]
every = {every}
{checkpoint}'''


def li_pit(*, title: str = "tiny Li-filled pit", dx_um: float = 0.2, fracture_energy: str = "9.45 J m^-2",
           tolerance: float = 1e-6, voltage: str = "0.135 V", t_end: str = "10 s", defect: bool = True,
           output: str = "") -> str:
    """Seed 000's reference problem in small (a coupled scene): a 6 µm × 6.6 µm LAGP cross-section in
    plane strain on a fixed 0.6 µm Li anode layer (an unbreakable interface), top and bottom clamped,
    with a Li-filled semi-circular pit of radius 1 µm (``defect``) plating at ``voltage`` against the
    top face; the pit's Li is a pressurised fluid that follows cracks at damage 0.35."""
    pit = '''[[defects]]
type = "semi_sphere"
face = "-y"
center = ["3 um", "0.6 um"]
radius = "1 um"
fill = "Li"
''' if defect else ""
    return f'''
title = "{title}"
[domain]
dim = 2
size = ["6 um", "6.6 um"]
dx = "{dx_um:g} um"
plane = "strain"
thickness = "1 um"
[materials.LAGP]
base = "LAGP"
fracture_energy = "{fracture_energy}"
[materials.Li]
base = "Li"
[[interfaces]]
materials = ["LAGP", "Li"]
breakable = false
[[bodies]]
material = "LAGP"
[[bodies]]
material = "Li"
shape = {{ type = "box", lo = ["0 um", "0 um"], hi = ["6 um", "0.6 um"] }}
{pit}{clamped('depth = "0.6 um"')}[solver]
method = "direct"
tolerance = {tolerance!r}
[electrochem]
counter_electrode = "top"
control = {{ mode = "voltage", value = "{voltage}" }}
kinetics = {{ model = "butler_volmer", exchange_current_density = "0.01 mA cm^-2" }}
deposition = "fluid"
li_follows_crack = 0.35
t_end = "{t_end}"
dt = "5 s"
max_eigenstrain_increment = 5e-4
{output}'''
