"""The scene file, as pydantic models: what a run needs, with units on every quantity.

A scene is a TOML deck with the sections a peridynamics user expects (domain, materials,
interfaces, bodies, defects, regions, boundary, solver, output). Quantities are strings with
units (``"0.05 um"``, ``"120 GPa"``); they are converted to SI floats on load and written back in
readable units when the resolved scene is saved beside a run. Unknown keys are refused.
"""

from __future__ import annotations

import bisect
from typing import Annotated, Literal, Optional, Union

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, PrivateAttr, field_validator,
                      model_serializer, model_validator)

from ..units import UnitError, format_quantity, parse_activation_energy, parse_quantity, parse_temperature


def _quantity(kind: str, unit: str):
    def parse(v):
        try:
            return parse_quantity(v, kind)
        except UnitError as e:
            raise ValueError(str(e)) from None

    return Annotated[float, BeforeValidator(parse), PlainSerializer(lambda x: format_quantity(x, unit), return_type=str)]


Length = _quantity("length", "um")
Modulus = _quantity("pressure", "GPa")
Stress = _quantity("pressure", "MPa")
EnergyPerArea = _quantity("energy_per_area", "J m^-2")
Toughness = _quantity("toughness", "MPa m^0.5")
Time = _quantity("time", "s")
Velocity = _quantity("velocity", "um/s")
Density = _quantity("density", "g cm^-3")
Conductivity = _quantity("conductivity", "S m^-1")
CurrentDensity = _quantity("current_density", "mA cm^-2")
Voltage = _quantity("voltage", "V")
AreaResistance = _quantity("area_resistance", "Ohm cm^2")
Concentration = _quantity("concentration", "mol m^-3")
Diffusivity = _quantity("diffusivity", "m^2 s^-1")
MolarVolume = _quantity("molar_volume", "m^3 mol^-1")


def _temperature(v):
    try:
        return parse_temperature(v)
    except UnitError as e:
        raise ValueError(str(e)) from None


Temperature = Annotated[float, BeforeValidator(_temperature), PlainSerializer(lambda x: f"{x:.12g} K", return_type=str)]


def _activation_energy(v):
    try:
        return parse_activation_energy(v)
    except UnitError as e:
        raise ValueError(str(e)) from None


#: an activation energy, held in eV per particle ("0.40 eV", or "38.6 kJ mol^-1" converted)
ActivationEnergy = Annotated[float, BeforeValidator(_activation_energy),
                             PlainSerializer(lambda x: f"{x:.12g} eV", return_type=str)]
MAX_ACTIVATION_ENERGY_EV = 5.0


def _check_activation_energy(value, name: str) -> None:
    if value is not None and not (0.0 <= value <= MAX_ACTIVATION_ENERGY_EV):
        raise ValueError(f"{name} must lie between 0 and {MAX_ACTIVATION_ENERGY_EV:g} eV, got {value:.4g} eV")

Face = Literal["-x", "+x", "-y", "+y", "-z", "+z"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


# ---------------------------------------------------------------- domain
#: largest horizon factor m = δ/Δx: the stencil holds ~π m² (2D) or ~4/3 π m³ (3D) offsets per site
MAX_HORIZON_FACTOR = {2: 12.0, 3: 6.0}


class Domain(Strict):
    """The lattice. The horizon is either ``horizon_factor`` m (δ = m·Δx, refined with Δx) or ``horizon``, a
    length (a material length: refining Δx at fixed δ is peridynamics' m-convergence)."""

    dim: Literal[2, 3]
    size: list[Length] = Field(min_length=2, max_length=3)
    dx: Length
    horizon_factor: Optional[float] = None
    horizon: Optional[Length] = None
    partial_volume: Literal["linear", "none"] = "linear"
    surface_correction: bool = True
    plane: Literal["strain", "stress"] = "strain"
    thickness: Optional[Length] = None

    @model_validator(mode="after")
    def _check(self):
        if len(self.size) != self.dim:
            raise ValueError(f"size has {len(self.size)} entries but dim = {self.dim}")
        if any(s <= 0 for s in self.size):
            raise ValueError("size entries must be positive")
        if self.dx <= 0:
            raise ValueError("dx must be positive")
        if self.dx > min(self.size):
            raise ValueError("dx is larger than the domain")
        if self.horizon is not None and self.horizon_factor is not None:
            raise ValueError("give horizon (a length) or horizon_factor (a multiple of dx), not both")
        if self.horizon is not None and not self.horizon > 0:
            raise ValueError("horizon must be positive")
        m = self.m
        what = (f"horizon {self.horizon * 1e6:.4g} um is {m:.4g} lattice spacings" if self.horizon is not None
                else f"horizon_factor {m}")
        if not (m >= 2.0 - 1e-9):
            raise ValueError(f"{what} is too small: the horizon must span at least 2 lattice spacings (m >= 2; "
                             "3 is usual) for the bonds to represent a continuum")
        if m > MAX_HORIZON_FACTOR[self.dim] + 1e-9:
            raise ValueError(f"{what} is more than {MAX_HORIZON_FACTOR[self.dim]:g} in {self.dim}D, whose stencil "
                             "would hold too many bonds per site")
        if self.thickness is not None and self.thickness <= 0:
            raise ValueError("thickness must be positive")
        if self.dim == 3 and self.thickness is not None:
            raise ValueError("thickness applies to 2D only")
        return self

    @property
    def m(self) -> float:
        """The horizon factor δ/Δx (3 when neither horizon nor horizon_factor is given)."""
        if self.horizon is not None:
            return round(self.horizon / self.dx, 9)  # no round-off in the stencil's partial volumes
        return 3.0 if self.horizon_factor is None else self.horizon_factor

    @property
    def delta(self) -> float:
        """The horizon δ in metres."""
        return self.m * self.dx


# ---------------------------------------------------------------- materials
class Damage(Strict):
    """How a material's (or an interface's) bonds fail (mechanics/bond_laws.py): ``brittle`` (the default:
    a critical stretch from the fracture energy alone), or ``exponential``/``bilinear`` softening with a
    ``strength`` (the uniaxial tensile strength, which sets where softening starts) and a
    ``fracture_energy`` (the energy to separate a unit area, which sets the tail; default: the
    material's own fracture energy or toughness)."""

    law: Literal["brittle", "exponential", "bilinear"] = "brittle"
    strength: Optional[Stress] = None
    fracture_energy: Optional[EnergyPerArea] = None

    @model_validator(mode="after")
    def _check(self):
        if self.law == "brittle" and self.strength is not None:
            raise ValueError("a brittle bond has no strength of its own (its critical stretch follows from the "
                             "fracture energy and the horizon); use law = \"exponential\" or \"bilinear\"")
        if self.law != "brittle" and self.strength is None:
            raise ValueError(f"law = \"{self.law}\" needs a strength")
        if self.strength is not None and not self.strength > 0:
            raise ValueError("strength must be positive")
        if self.fracture_energy is not None and not self.fracture_energy > 0:
            raise ValueError("fracture_energy must be positive")
        return self


class Material(Strict):
    """A material from the library (``base``) with any property overridden."""

    base: Optional[str] = None
    role: Optional[Literal["electrolyte", "lithium", "other"]] = None
    youngs_modulus: Optional[Modulus] = None
    poisson_ratio: Optional[float] = None
    density: Optional[Density] = None
    fracture_toughness: Optional[Toughness] = None
    fracture_energy: Optional[EnergyPerArea] = None
    poisson_mismatch: Optional[Literal["error", "match_bulk", "match_young"]] = None
    ionic_conductivity: Optional[Conductivity] = None
    # Arrhenius κ(T) = κ_ref exp(−E_a/k_B (1/T − 1/T_ref)); κ_ref = ionic_conductivity at reference_temperature
    conductivity_activation_energy: Optional[ActivationEnergy] = None
    reference_temperature: Optional[Temperature] = None
    damage: Optional[Damage] = None

    @model_validator(mode="after")
    def _check(self):
        if self.ionic_conductivity is not None and self.ionic_conductivity <= 0:
            raise ValueError("ionic_conductivity must be positive")
        _check_activation_energy(self.conductivity_activation_energy, "conductivity_activation_energy")
        if self.reference_temperature is not None and not self.reference_temperature > 0:
            raise ValueError("reference_temperature must be positive")
        if self.youngs_modulus is not None and self.youngs_modulus <= 0:
            raise ValueError("youngs_modulus must be positive")
        if self.poisson_ratio is not None and not (-1.0 < self.poisson_ratio < 0.5):
            raise ValueError("poisson_ratio must lie in (-1, 0.5)")
        if self.density is not None and self.density <= 0:
            raise ValueError("density must be positive")
        for name in ("fracture_toughness", "fracture_energy"):
            v = getattr(self, name)
            if v is not None and v <= 0:
                raise ValueError(f"{name} must be positive")
        if self.fracture_toughness is not None and self.fracture_energy is not None:
            raise ValueError("give fracture_toughness or fracture_energy, not both")
        return self


class Interface(Strict):
    """The bonds between two materials: unbreakable, brittle with their own fracture energy, or with a
    softening ``damage`` law (a cohesive interface with a strength and a fracture energy)."""

    materials: list[str] = Field(min_length=2, max_length=2)
    fracture_energy: Optional[EnergyPerArea] = None
    breakable: bool = True
    damage: Optional[Damage] = None

    @model_validator(mode="after")
    def _check(self):
        if self.fracture_energy is not None and self.fracture_energy <= 0:
            raise ValueError("fracture_energy must be positive")
        if self.damage is not None and not self.breakable:
            raise ValueError("an unbreakable interface takes no damage law")
        if self.damage is not None and self.fracture_energy is not None and self.damage.fracture_energy is not None:
            raise ValueError("give the fracture energy once: in damage or beside it")
        return self


# ---------------------------------------------------------------- geometry
class BoxShape(Strict):
    type: Literal["box"]
    lo: list[Length]
    hi: list[Length]


class SphereShape(Strict):
    type: Literal["sphere", "circle"]
    center: list[Length]
    radius: Length


class EllipsoidShape(Strict):
    type: Literal["ellipsoid", "ellipse"]
    center: list[Length]
    semi_axes: list[Length]


class HalfSpaceShape(Strict):
    type: Literal["half_space"]
    point: list[Length]
    normal: list[float]


class PolygonShape(Strict):
    type: Literal["polygon"]
    vertices: list[list[Length]] = Field(max_length=10000)


class StlShape(Strict):
    type: Literal["stl"]
    path: str = Field(max_length=400)
    unit: Literal["m", "mm", "um", "nm"] = "um"
    translate: list[Length] = Field(default_factory=lambda: [0.0, 0.0, 0.0])


Shape = Annotated[
    Union[BoxShape, SphereShape, EllipsoidShape, HalfSpaceShape, PolygonShape, StlShape],
    Field(discriminator="type"),
]


class Body(Strict):
    """Paint ``material`` (or ``"void"``) on every site inside ``shape`` (the whole domain if absent)."""

    material: str
    shape: Optional[Shape] = None


class SemiSphereDefect(Strict):
    type: Literal["semi_sphere"]
    face: Face = "-y"
    center: Optional[list[Length]] = None
    radius: Length
    fill: str = "Li"


class SemiEllipsoidDefect(Strict):
    type: Literal["semi_ellipsoid"]
    face: Face = "-y"
    center: Optional[list[Length]] = None
    half_width: Length
    depth: Length
    fill: str = "Li"


class PyramidDefect(Strict):
    type: Literal["pyramid"]
    face: Face = "-y"
    center: Optional[list[Length]] = None
    aspect_ratio: float
    width: Optional[Length] = None
    height: Optional[Length] = None
    fill: str = "Li"

    @model_validator(mode="after")
    def _check(self):
        if not self.aspect_ratio > 0:
            raise ValueError("aspect_ratio must be positive")
        if self.width is None and self.height is None:
            raise ValueError("give width or height (AR = height / width fixes the other)")
        return self


class CubeDefect(Strict):
    type: Literal["cube"]
    face: Face = "-y"
    center: Optional[list[Length]] = None
    width: Length
    depth: Optional[Length] = None
    fill: str = "Li"


Defect = Annotated[
    Union[SemiSphereDefect, SemiEllipsoidDefect, PyramidDefect, CubeDefect], Field(discriminator="type")
]


class SegmentPreCrack(Strict):
    """A 2D pre-crack: the segment between two points. It cuts bonds and removes no material."""

    type: Literal["segment"]
    points: list[list[Length]] = Field(min_length=2, max_length=2)


class PolygonPreCrack(Strict):
    """A 3D pre-crack: a planar polygon (either orientation). It cuts bonds and removes no material."""

    type: Literal["polygon"]
    vertices: list[list[Length]] = Field(min_length=3, max_length=1000)


PreCrack = Annotated[Union[SegmentPreCrack, PolygonPreCrack], Field(discriminator="type")]


class Region(Strict):
    """Sites on a domain face (a layer ``depth`` thick, one horizon by default) or inside a shape."""

    face: Optional[Face] = None
    depth: Optional[Length] = None
    shape: Optional[Shape] = None
    material: Optional[str] = None

    @model_validator(mode="after")
    def _check(self):
        if (self.face is None) == (self.shape is None):
            raise ValueError("a region needs exactly one of face or shape")
        if self.depth is not None and (self.face is None or self.depth <= 0):
            raise ValueError("depth needs a face and must be positive")
        return self


def _free_or(kind: str, unit: str):
    def parse(v):
        if v == "free":
            return "free"
        try:
            return parse_quantity(v, kind)
        except UnitError as e:
            raise ValueError(str(e)) from None

    def dump(x):
        return x if x == "free" else format_quantity(x, unit)

    return Annotated[Union[Literal["free"], float], BeforeValidator(parse), PlainSerializer(dump)]


class DisplacementBC(Strict):
    region: str
    kind: Literal["displacement"]
    value: list[_free_or("length", "um")]


class VelocityBC(Strict):
    region: str
    kind: Literal["velocity"]
    value: list[_free_or("velocity", "um/s")]


class TractionBC(Strict):
    region: str
    kind: Literal["traction"]
    value: list[Stress]


Boundary = Annotated[Union[DisplacementBC, VelocityBC, TractionBC], Field(discriminator="kind")]


class Eigenstrain(Strict):
    """An isotropic stress-free strain ε* (e.g. Li swelling), ramped with the load, on a material or region."""

    strain: float = Field(ge=-0.5, le=2.0)
    material: Optional[str] = None
    region: Optional[str] = None

    @model_validator(mode="after")
    def _check(self):
        if (self.material is None) == (self.region is None):
            raise ValueError("an eigenstrain needs exactly one of material or region")
        return self


# ---------------------------------------------------------------- solver, output
class Solver(Strict):
    kind: Literal["quasi_static", "dynamic"] = "quasi_static"
    # quasi-static equilibrium (mechanics/solvers/): adaptive dynamic relaxation (any body, any backend), a
    # sparse factorisation + PCG on the host (needs prescribed displacements that remove rigid modes), or
    # Newton steps with matrix-free Jacobi-PCG in Taichi kernels (device; conduction by the Taichi PCG)
    method: Literal["adr", "direct", "device"] = "adr"
    # method = "direct": preconditioner of its conjugate-gradient solves; "auto" takes the sparse LU
    # up to 20 000 unknowns and smoothed-aggregation algebraic multigrid above (linalg.py)
    preconditioner: Literal["auto", "lu", "amg"] = "auto"
    precision: Literal["f32", "f64"] = "f64"
    load_steps: int = Field(default=10, ge=1, le=1_000_000)
    tolerance: float = Field(default=1e-5, gt=0, lt=1)
    max_iterations: int = Field(default=100_000, ge=10, le=100_000_000)
    break_mode: Literal["all", "most_stretched"] = "most_stretched"
    most_stretched_band: float = Field(default=0.02, ge=0, lt=1)
    max_cascade: int = Field(default=100_000, ge=1)
    # softening bonds (bond_laws.py): the largest damage one bond may gain in a load step; a step past it
    # is undone and split in two (mechanics/cascade.advance)
    max_damage_increment: float = Field(default=0.1, gt=0, le=1)
    t_end: Optional[Time] = None  # dynamic: end time; quasi-static: pseudo-time of the last load step
    dt: Optional[Time] = None
    dt_safety: float = Field(default=0.7, gt=0, le=1)

    @model_validator(mode="after")
    def _check(self):
        if self.kind == "dynamic" and self.t_end is None:
            raise ValueError("a dynamic solver needs t_end")
        for name in ("t_end", "dt"):
            v = getattr(self, name)
            if v is not None and v <= 0:
                raise ValueError(f"{name} must be positive")
        return self


class Kinetics(Strict):
    """Interface kinetics on every Li–electrolyte bond (MODEL.md §4)."""

    model: Literal["butler_volmer", "linear", "tafel", "sinh"] = "butler_volmer"
    exchange_current_density: CurrentDensity = 0.1  # 0.01 mA cm^-2, seed 000 Table 1
    alpha_a: float = Field(default=0.5, gt=0, lt=1)
    alpha_c: float = Field(default=0.5, gt=0, lt=1)
    equilibrium_potential: Voltage = 0.0
    charge_transfer_resistance: Optional[AreaResistance] = None  # linear model; default RT/(F i0)
    mechanical_overpotential: bool = True
    # Arrhenius i0(T) = i0_ref exp(−E_a/k_B (1/T − 1/T_ref)), i0_ref = exchange_current_density at
    # reference_temperature; no activation energy: i0 does not depend on T (no seed gives one)
    exchange_current_activation_energy: Optional[ActivationEnergy] = None
    reference_temperature: Temperature = 298.15

    @model_validator(mode="after")
    def _check(self):
        if not self.exchange_current_density > 0:
            raise ValueError("exchange_current_density must be positive")
        _check_activation_energy(self.exchange_current_activation_energy, "exchange_current_activation_energy")
        if not self.reference_temperature > 0:
            raise ValueError("reference_temperature must be positive")
        if self.charge_transfer_resistance is not None and self.charge_transfer_resistance <= 0:
            raise ValueError("charge_transfer_resistance must be positive")
        return self


class Control(Strict):
    """Potentiostatic (``mode = "voltage"``: the counter electrode's potential against Li) or
    galvanostatic (``mode = "current"``: the plating current density over the counter electrode's
    area). Constant ``value`` or a ``schedule`` of [time, value] pairs, held piecewise constant
    (``interpolation = "step"``, for steps and pulses) or interpolated linearly."""

    mode: Literal["voltage", "current"] = "voltage"
    value: Optional[float] = None
    schedule: Optional[list[tuple[float, float]]] = Field(default=None, max_length=100_000)
    interpolation: Literal["step", "linear"] = "step"

    @model_validator(mode="before")
    @classmethod
    def _parse_quantities(cls, data):
        if not isinstance(data, dict):
            return data
        data = dict(data)
        kind = "current_density" if data.get("mode") == "current" else "voltage"
        try:
            if "value" in data:
                data["value"] = parse_quantity(data["value"], kind)
            if isinstance(data.get("schedule"), list):
                rows = []
                for q, row in enumerate(data["schedule"]):
                    if not isinstance(row, (list, tuple)) or len(row) != 2:
                        raise UnitError(f"schedule[{q}] must be [time, value]")
                    rows.append((parse_quantity(row[0], "time"), parse_quantity(row[1], kind)))
                data["schedule"] = rows
        except UnitError as e:
            raise ValueError(str(e)) from None
        return data

    @model_validator(mode="after")
    def _check(self):
        if (self.value is None) == (self.schedule is None):
            raise ValueError("give exactly one of value or schedule")
        if self.schedule is not None:
            times = [t for t, _ in self.schedule]
            if not times:
                raise ValueError("schedule is empty")
            if any(b <= a for a, b in zip(times, times[1:])):
                raise ValueError("schedule times must increase strictly (the schedule is not monotonic in time)")
            if times[0] < 0:
                raise ValueError("schedule times must be non-negative")
        return self

    @model_serializer(mode="wrap")
    def _dump(self, handler):
        out = handler(self)
        unit = "mA cm^-2" if self.mode == "current" else "V"
        if self.value is not None:
            out["value"] = format_quantity(self.value, unit)
        if self.schedule is not None:
            out["schedule"] = [[format_quantity(t, "s"), format_quantity(v, unit)] for t, v in self.schedule]
        return out

    def at(self, t: float) -> float:
        """The controlled quantity (SI: V or A m⁻²) at time t."""
        if self.value is not None:
            return self.value
        times = [p[0] for p in self.schedule]
        values = [p[1] for p in self.schedule]
        if t <= times[0]:
            return values[0]
        if t >= times[-1]:
            return values[-1]
        k = bisect.bisect_right(times, t) - 1
        if self.interpolation == "step":
            return values[k]
        w = (t - times[k]) / (times[k + 1] - times[k])
        return values[k] + w * (values[k + 1] - values[k])

    def next_change(self, t: float) -> float | None:
        """The next schedule time after t (a step must not jump over it), or None."""
        if self.schedule is None:
            return None
        for tk, _ in self.schedule:
            if tk > t * (1 + 1e-12) + 1e-300:
                return tk
        return None


class Grains(Strict):
    """A polycrystalline material: Voronoi grains from random centres; bonds across a grain boundary
    (two sites of the material in different grains) get scaled bond constants."""

    material: str
    mean_size: Length  # diameter of the circle (2D) or sphere (3D) of the mean grain area/volume
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    boundary_stiffness: float = 1.0  # factor on the micromodulus c of grain-boundary bonds
    boundary_strength: Optional[float] = None  # factor on the critical stretch s0 of grain-boundary bonds
    boundary_fracture_energy: Optional[EnergyPerArea] = None  # or: the grain boundary's G_c, as interfaces set it

    @model_validator(mode="after")
    def _check(self):
        if not self.mean_size > 0:
            raise ValueError("mean_size must be positive")
        for name in ("boundary_stiffness", "boundary_strength"):
            v = getattr(self, name)
            if v is not None and not (0.0 < v <= 100.0):
                raise ValueError(f"{name} must be a factor in (0, 100], got {v:g}")
        if self.boundary_fracture_energy is not None and not self.boundary_fracture_energy > 0:
            raise ValueError("boundary_fracture_energy must be positive")
        if self.boundary_strength is not None and self.boundary_fracture_energy is not None:
            raise ValueError("give boundary_strength (a factor on the critical stretch) or boundary_fracture_energy, not both")
        return self


class Failure(Strict):
    damage_threshold: float = Field(default=0.8, gt=0, le=1)
    crack_depth: Optional[Length] = None
    # the damage rule: a connected path of damage ≥ damage_threshold from the Li to the counter electrode
    # ("electrodes"), across the electrolyte between any two opposite faces ("any"), any one site ("point"),
    # or sites at the threshold cutting the electrolyte into pieces of at least `separation` of it each
    # ("pieces": disintegration read on the damage field)
    span: Literal["electrodes", "any", "point", "pieces"] = "electrodes"
    # the rule reads the electrolyte's damage averaged over a disc (2D) or ball (3D) of this radius round
    # each site, a length of the material and not of the lattice: where the stress is singular (a corner of
    # a defect) the time one site reaches the threshold falls without limit as Δx shrinks, the time its mean
    # over a fixed length does converges (docs/coupled_model.md, "Failure read over a length"); unset: each
    # site's own damage
    length: Optional[Length] = None
    # the electrolyte falls apart: its intact bonds hold it in two or more pieces, each at least
    # this fraction of the electrolyte sites (0 switches the check off)
    separation: float = Field(default=0.05, ge=0, lt=0.5)

    @model_validator(mode="after")
    def _pieces_need_a_size(self):
        if self.span == "pieces" and self.separation == 0:
            raise ValueError("span = \"pieces\" counts pieces of at least `separation` of the electrolyte: "
                             "give it a fraction > 0")
        if self.length is not None and not self.length > 0:
            raise ValueError("length must be positive")
        return self


class Electrochem(Strict):
    """Ionic conduction, interface kinetics, deposition and failure (MODEL.md §4–5)."""

    temperature: Temperature = 300.0
    counter_electrode: str
    kinetics: Kinetics = Field(default_factory=Kinetics)
    control: Control
    conductivity_damage: Literal["bonds", "seed000"] = "seed000"
    deposition: Literal["local", "fluid"] = "local"
    # free Li (outside prescribed-displacement regions) as a pressurised fluid, one pressure per connected
    # body (mechanics/fluid.py), or as elastic PMB bonds with an eigenstrain (docs/coupled_model.md)
    li_mechanics: Literal["fluid", "elastic"] = "fluid"
    # the site damage the coupling reads (conductivity, Li following cracks, the failure path): "mean", the
    # share of a site's bond stiffness lost (φ); "directional", the damage of its most damaged bond, the
    # counterpart of a continuum damage variable (docs/coupled_model.md, "Damage measures")
    damage_measure: Literal["mean", "directional"] = "mean"
    # damage past which Li follows a crack; false: Li stays where it is (seed 000's own model)
    li_follows_crack: Optional[float] = Field(default=0.8, gt=0, le=1)

    @field_validator("li_follows_crack", mode="before")
    @classmethod
    def _off(cls, v):
        if v is False:
            return None
        if v is True:
            raise ValueError("give the damage threshold (e.g. 0.8), or false to keep Li out of cracks")
        return v
    failure: Failure = Field(default_factory=Failure)
    t_end: Time
    dt: Time
    dt_min: Optional[Time] = None
    max_eigenstrain_increment: float = Field(default=2e-4, gt=0, le=0.1)
    max_broken_per_step: int = Field(default=200, ge=1)
    # softening bonds: the largest damage one bond may gain in a step (a step past it is undone and halved)
    max_damage_increment: float = Field(default=0.1, gt=0, le=1)
    solve_tolerance: float = Field(default=1e-8, gt=0, lt=1e-2)
    # a step that breaks the first bonds of the run is undone and halved until it is at most this long,
    # so that the time series brackets the first break this finely (None: the step is kept)
    first_break_resolution: Optional[Time] = None

    @model_validator(mode="after")
    def _check(self):
        if not self.temperature > 0:
            raise ValueError("temperature must be positive")
        if self.t_end <= 0 or self.dt <= 0:
            raise ValueError("t_end and dt must be positive")
        if self.first_break_resolution is not None and not self.first_break_resolution > 0:
            raise ValueError("first_break_resolution must be positive")
        return self


class Cathode(Strict):
    """The composite-cathode cell of seed 003 (docs/cathode.md): a polycrystalline active particle in a
    composite matrix, charged and discharged at constant current against a Li anode.

    The scene's bodies paint the matrix, the separator and the anode; this section paints the particle
    (a sphere in 3D, its section through the centre in 2D) and its Voronoi grains, each with a random
    crystal orientation. Intercalation values left out are NCM111's (electrochem/ocv.py, each sourced).
    """

    particle: str  # material name of the active particle (painted here, over the bodies)
    matrix: str  # the composite matrix around the particle (ionic conductor; electronically equipotential)
    separator: str  # the electrolyte between the cathode and the anode
    anode: str  # Li metal at 0 V
    center: list[Length] = Field(min_length=2, max_length=3)
    radius: Length
    grains: int = Field(default=53, ge=1, le=10_000)
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    # intercalation and kinetics (None: NCM111's sourced value)
    max_concentration: Optional[Concentration] = None
    initial_concentration: Optional[Concentration] = None
    diffusivity: Optional[list[Diffusivity]] = Field(default=None, min_length=3, max_length=3)  # [100], [010], [001]
    expansion_ratios: Optional[list[float]] = Field(default=None, min_length=3, max_length=3)  # θ11, θ22, θ33
    expansion_coefficient: Optional[MolarVolume] = None  # β: ε* = θ β Δc in the grain frame
    exchange_current_density: Optional[CurrentDensity] = None  # i0 at y = 1/2
    transfer_coefficient: Optional[float] = Field(default=None, gt=0, lt=1)  # α_a = α_c
    # the stoichiometry that U(y), i0(y) and the strain read: "physical" y = c/c_max; "paper" maps the
    # paper's Li inventory (c0 → 0) onto the open-circuit potential's window (y0 → y at voltage_max)
    li_window: Literal["physical", "paper"] = "physical"
    # interfacial resistance R_int = R_0 exp(D_G/δ_c) at each surface site (D_G its debonding gap)
    interface_resistance: AreaResistance = 1e-3
    gap_length: Optional[Length] = None  # δ_c; default G_c/σ_c of the particle–matrix interface
    anode_exchange_current_density: CurrentDensity = 128.0
    temperature: Temperature = 298.15
    # galvanostatic cycling: 1C drains the particle's initial Li in one hour
    c_rate: float = Field(default=1.0, gt=0, le=100)
    protocol: Literal["charge_discharge", "charge"] = "charge_discharge"
    voltage_max: Voltage = 4.3
    voltage_min: Voltage = 3.0
    charge_time: Optional[Time] = None  # the charge ends at voltage_max or after this time
    discharge_time: Optional[Time] = None  # the discharge ends at voltage_min or after this time
    # time steps
    dt_max: Time = 60.0
    dt_initial: Time = 1.0
    max_stoichiometry_step: float = Field(default=0.02, gt=0, le=0.5)  # largest Δy of a surface site per step
    max_voltage_step: Voltage = 0.02
    diffusion_horizon: Optional[float] = Field(default=None, ge=1, le=6)  # m of the diffusion stencil
    conduction_horizon: float = Field(default=1.0, ge=1, le=3)  # m of the ionic-conduction stencil
    solve_tolerance: float = Field(default=1e-10, gt=0, lt=1e-3)  # of the potential solve, relative to I

    @model_validator(mode="after")
    def _check(self):
        if not self.radius > 0:
            raise ValueError("radius must be positive")
        for name in ("max_concentration", "initial_concentration", "expansion_coefficient",
                     "exchange_current_density"):
            v = getattr(self, name)
            if v is not None and not v > 0:
                raise ValueError(f"{name} must be positive")
        if self.diffusivity is not None and not all(d > 0 for d in self.diffusivity):
            raise ValueError("diffusivity entries must be positive")
        if not self.interface_resistance > 0:
            raise ValueError("interface_resistance must be positive")
        if self.gap_length is not None and not self.gap_length > 0:
            raise ValueError("gap_length must be positive")
        if not self.anode_exchange_current_density > 0:
            raise ValueError("anode_exchange_current_density must be positive")
        if not self.temperature > 0:
            raise ValueError("temperature must be positive")
        if not self.voltage_min < self.voltage_max:
            raise ValueError("voltage_min must lie below voltage_max")
        for name in ("charge_time", "discharge_time"):
            v = getattr(self, name)
            if v is not None and not v > 0:
                raise ValueError(f"{name} must be positive")
        if not (self.dt_max > 0 and self.dt_initial > 0):
            raise ValueError("dt_max and dt_initial must be positive")
        if not self.max_voltage_step > 0:
            raise ValueError("max_voltage_step must be positive")
        return self


class Output(Strict):
    every: int = Field(default=1, ge=1)
    # coupled runs: also a snapshot at exactly these times (a step never crosses one)
    times: list[Time] = Field(default_factory=list, max_length=1000)
    vtu: bool = True
    npz: bool = True
    # checkpoints (full state, for `pdssb run --resume`): every N steps and/or every M seconds of wall
    # time, whichever comes first; both absent or checkpoint = false: no checkpoint
    checkpoint: bool = True
    checkpoint_every: Optional[int] = Field(default=None, ge=1, le=1_000_000_000)
    checkpoint_seconds: Optional[Time] = 600.0

    @model_validator(mode="after")
    def _check_times(self):
        if any(not t > 0 for t in self.times) or list(self.times) != sorted(self.times):
            raise ValueError("times must be positive and increasing")
        return self

    @model_validator(mode="after")
    def _check_checkpoint(self):
        if self.checkpoint_seconds is not None and not self.checkpoint_seconds > 0:
            raise ValueError("checkpoint_seconds must be positive")
        return self


class Scene(Strict):
    title: str = Field(default="untitled", max_length=200)
    description: str = Field(default="", max_length=4000)
    domain: Domain
    materials: dict[str, Material] = Field(min_length=1, max_length=64)
    interfaces: list[Interface] = Field(default_factory=list, max_length=256)
    bodies: list[Body] = Field(min_length=1, max_length=1024)
    defects: list[Defect] = Field(default_factory=list, max_length=1024)
    precracks: list[PreCrack] = Field(default_factory=list, max_length=1024)
    regions: dict[str, Region] = Field(default_factory=dict, max_length=256)
    boundary: list[Boundary] = Field(default_factory=list, max_length=256)
    eigenstrains: list[Eigenstrain] = Field(default_factory=list, max_length=256)
    grains: Optional[Grains] = None
    solver: Solver = Field(default_factory=Solver)
    electrochem: Optional[Electrochem] = None
    cathode: Optional[Cathode] = None
    output: Output = Field(default_factory=Output)
    # the file a scene was read from (pdssb.load_scene): relative paths in it (an STL) are read from its
    # folder, and a run of it records it (manifest scene_file, for --resume); not part of the scene itself
    _source_file: Optional[str] = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check_cells(self):
        if self.cathode is not None and self.electrochem is not None:
            raise ValueError("a scene is either a Li-plating cell ([electrochem]) or a cathode cell ([cathode]), "
                             "not both")
        return self
