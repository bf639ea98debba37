"""Material data library for pdssb, in SI units, every value carrying its source.

Each number is a :class:`Sourced`: the value in SI, its SI unit, and a short
citation.  Values taken from the project's seed papers (``shared/seeds``) cite
the paper and where in it the number is; values the seeds do not give are
marked ``"literature value (not in the seeds): ..."`` or ``"assumed: ..."``
with the reason.  ``docs/materials.md`` tabulates the same data in readable
units.

Seed papers cited here:

* seed 000 -- Liu et al., Adv. Mater. 35 (2023) 2301152 (Table 1: LAGP and Li).
* seed 001 -- Singh et al., Adv. Sci. (2023), Li|Li6PS5Cl kinetics.
* seed 003 -- Yuan, Lu, Xu, composite-cathode failure in ASSBs (LLZO 150 GPa, NCM111 K_IC).
* seed 004 -- Yao et al., Adv. Energy Sustainability Res. (2023) 2300165
  (doi 10.1002/aesr.202300165), review quoting K_IC and moduli of SEs and Li.

Bond-based peridynamics fixes Poisson's ratio (1/4 in 3D and plane strain,
1/3 in plane stress); the bulk-modulus-matching rule for materials (Li) whose nu
differs lives with the bonds, in :mod:`pdssb.mechanics.bond_table`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from .units import BOLTZMANN_EV_PER_K

__all__ = [
    "Sourced",
    "MaterialData",
    "LIBRARY",
    "ALIASES",
    "get_material",
    "material_names",
    "arrhenius_factor",
    "DEFAULT_REFERENCE_TEMPERATURE_K",
    "TEMPERATURE_TOLERANCE_K",
]

#: the temperature a conductivity or exchange current is taken to hold at when nothing says otherwise (25 °C)
DEFAULT_REFERENCE_TEMPERATURE_K = 298.15
#: a temperature this close to the reference needs no activation energy (κ_ref is used as is)
TEMPERATURE_TOLERANCE_K = 0.5


def arrhenius_factor(activation_energy_ev: float, temperature: float, reference_temperature: float) -> float:
    """exp(−E_a/k_B (1/T − 1/T_ref)): the Arrhenius ratio X(T)/X(T_ref) for E_a in eV and T in K."""
    if not (temperature > 0.0 and reference_temperature > 0.0):
        raise ValueError("temperatures must be positive (K)")
    return math.exp(-activation_energy_ev / BOLTZMANN_EV_PER_K * (1.0 / temperature - 1.0 / reference_temperature))


_PLANES = ("strain", "stress", "3d")


@dataclass(frozen=True)
class Sourced:
    """A number in SI units with its unit and its source."""

    value: float  # SI
    unit: str  # the SI unit of value, e.g. "Pa", "J m^-2", "S m^-1"
    source: str  # short citation or "assumed: ... because ..."

    def __post_init__(self) -> None:
        v = float(self.value)
        if not math.isfinite(v):
            raise ValueError(f"Sourced value must be finite, got {self.value!r}")
        object.__setattr__(self, "value", v)
        if not isinstance(self.unit, str) or not self.unit.strip():
            raise ValueError("Sourced.unit must be a non-empty string")
        if not isinstance(self.source, str) or not self.source.strip():
            raise ValueError("Sourced.source must be a non-empty string")

    def __float__(self) -> float:
        return self.value


@dataclass(frozen=True)
class MaterialData:
    """Isotropic, linear-elastic material record (SI units)."""

    name: str
    role: str  # "electrolyte" | "lithium" | "other"
    description: str
    youngs_modulus: Sourced  # Pa
    poisson_ratio: Sourced  # -
    density: Sourced  # kg m^-3
    fracture_toughness: Sourced | None  # K_IC, Pa m^0.5 (None: ductile, never breaks)
    ionic_conductivity: Sourced | None  # S m^-1 (electrolytes)
    electronic_conductivity: Sourced | None  # S m^-1 (Li metal)
    yield_stress: Sourced | None  # Pa (Li metal)
    molar_volume: Sourced | None  # m^3 mol^-1 (Li metal)
    conductivity_activation_energy: Sourced | None  # eV (Arrhenius kappa(T))
    # K: the temperature ionic_conductivity was measured at (None: DEFAULT_REFERENCE_TEMPERATURE_K)
    conductivity_reference_temperature: Sourced | None = None

    def __post_init__(self) -> None:
        if self.role not in ("electrolyte", "lithium", "other"):
            raise ValueError(f"role must be electrolyte|lithium|other, got {self.role!r}")
        nu = self.poisson_ratio.value
        if not (-1.0 < nu < 0.5):
            raise ValueError(f"{self.name}: Poisson's ratio {nu} outside (-1, 0.5)")
        if self.youngs_modulus.value <= 0.0:
            raise ValueError(f"{self.name}: Young's modulus must be positive")

    # ------------------------------------------------------------------ #
    # Derived elastic and fracture quantities
    # ------------------------------------------------------------------ #
    @property
    def E(self) -> float:
        """Young's modulus in Pa."""
        return self.youngs_modulus.value

    @property
    def nu(self) -> float:
        """Poisson's ratio."""
        return self.poisson_ratio.value

    @property
    def rho(self) -> float:
        """Density in kg m^-3."""
        return self.density.value

    def bulk_modulus(self) -> float:
        """3D bulk modulus K = E / (3 (1 - 2 nu)) in Pa."""
        return self.E / (3.0 * (1.0 - 2.0 * self.nu))

    def shear_modulus(self) -> float:
        """Shear modulus G = E / (2 (1 + nu)) in Pa."""
        return self.E / (2.0 * (1.0 + self.nu))

    def fracture_energy(self, plane: str = "strain") -> float | None:
        """Critical energy release rate G_c in J m^-2 from K_IC.

        ``plane="strain"`` (and ``"3d"``): G_c = K_IC^2 (1 - nu^2) / E.
        ``plane="stress"``: G_c = K_IC^2 / E.
        Returns ``None`` when the material has no fracture toughness (Li).
        """
        p = _check_plane(plane)
        if self.fracture_toughness is None:
            return None
        k = self.fracture_toughness.value
        if p == "stress":
            return k * k / self.E
        return k * k * (1.0 - self.nu * self.nu) / self.E

    def reference_temperature(self) -> float:
        """K: the temperature the library's ionic conductivity holds at (25 °C unless sourced otherwise)."""
        if self.conductivity_reference_temperature is not None:
            return self.conductivity_reference_temperature.value
        return DEFAULT_REFERENCE_TEMPERATURE_K

    def ionic_conductivity_at(self, temperature: float, reference_temperature: float | None = None) -> float:
        """Ionic conductivity (S m^-1) at ``temperature`` (K), Arrhenius in kappa.

        kappa(T) = kappa_ref exp(-E_a/k_B (1/T - 1/T_ref)), with kappa_ref the library value,
        which holds at ``reference_temperature`` (default: the material's sourced reference
        temperature, see :meth:`reference_temperature`). Without an activation energy the
        conductivity is only known at the reference temperature (within
        ``TEMPERATURE_TOLERANCE_K``), so any other temperature raises ``ValueError``.
        """
        if self.ionic_conductivity is None:
            raise ValueError(f"{self.name} has no ionic conductivity")
        t_ref = self.reference_temperature() if reference_temperature is None else reference_temperature
        if temperature <= 0.0 or t_ref <= 0.0:
            raise ValueError("temperatures must be positive (K)")
        kappa = self.ionic_conductivity.value
        if self.conductivity_activation_energy is None:
            if abs(temperature - t_ref) <= TEMPERATURE_TOLERANCE_K:
                return kappa
            raise ValueError(
                f"{self.name} has no sourced conductivity activation energy; "
                f"kappa(T) is only defined at the reference temperature {t_ref:g} K"
            )
        return kappa * arrhenius_factor(self.conductivity_activation_energy.value, temperature, t_ref)

    def sourced_items(self) -> dict[str, Sourced]:
        """All non-``None`` :class:`Sourced` fields, by field name."""
        out: dict[str, Sourced] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, Sourced):
                out[f.name] = v
        return out


def _check_plane(plane: str) -> str:
    p = str(plane).lower()
    if p not in _PLANES:
        raise ValueError(f"plane must be one of {_PLANES}, got {plane!r}")
    return p


# ---------------------------------------------------------------------- #
# Citations
# ---------------------------------------------------------------------- #
_S000 = "Liu et al., Adv. Mater. 35 (2023) 2301152, Table 1 (seed 000)"
_S001 = "Singh et al., Adv. Sci. (2023), Li|Li6PS5Cl kinetics (seed 001)"
_S003 = "Yuan, Lu, Xu, composite cathode failure in ASSBs (seed 003)"
_S004 = "Yao et al., Adv. Energy Sustainability Res. (2023) 2300165, sec. 2 (seed 004)"

_G_CM3 = 1.0e3  # g cm^-3 -> kg m^-3
_CM3_MOL = 1.0e-6  # cm^3 mol^-1 -> m^3 mol^-1
_MS_CM = 0.1  # mS cm^-1 -> S m^-1
_S_CM = 100.0  # S cm^-1 -> S m^-1
_GPA = 1.0e9
_MPA = 1.0e6


# ---------------------------------------------------------------------- #
# LAGP: Li1+xAlxGe2-x(PO4)3, the reference electrolyte of seed 000
# ---------------------------------------------------------------------- #
LAGP = MaterialData(
    name="LAGP",
    role="electrolyte",
    description="Li1+xAlxGe2-x(PO4)3, NASICON-type oxide electrolyte; reference case of seed 000",
    youngs_modulus=Sourced(120.0 * _GPA, "Pa", f"{_S000}: Young's modulus of LAGP 120 GPa"),
    poisson_ratio=Sourced(0.25, "-", f"{_S000}: Poisson's ratio of LAGP 0.25"),
    density=Sourced(3.52 * _G_CM3, "kg m^-3", f"{_S000}: density of LAGP 3.52 g cm^-3"),
    fracture_toughness=Sourced(
        1.1 * _MPA,
        "Pa m^0.5",
        "assumed equal to LATP (NASICON), Yao et al. review, seed 004 "
        "(Jackman & Cutler, J. Power Sources 218 (2012) 65: 1.1 +/- 0.3 MPa m^0.5); "
        "K_IC of LAGP is not in seed 000",
    ),
    ionic_conductivity=Sourced(0.01, "S m^-1", f"{_S000}: ionic conductivity of LAGP 0.01 S m^-1"),
    electronic_conductivity=None,
    yield_stress=None,
    molar_volume=None,
    conductivity_activation_energy=None,  # not in seed 000
    conductivity_reference_temperature=Sourced(
        300.0, "K", f"{_S000}: temperature 300 K, the temperature of the model whose ionic conductivity is 0.01 S m^-1"
    ),
)

# ---------------------------------------------------------------------- #
# LLZO: garnet Li7La3Zr2O12
# ---------------------------------------------------------------------- #
LLZO = MaterialData(
    name="LLZO",
    role="electrolyte",
    description="Li7La3Zr2O12, cubic garnet oxide electrolyte (Al/Ta-doped in practice)",
    youngs_modulus=Sourced(
        150.0 * _GPA,
        "Pa",
        f"{_S003}: 'LLZO solid electrolyte owns Young's modulus of 150 GPa'; "
        f"consistent with {_S004}: 149.8 GPa at 3 % porosity (Ni et al., J. Mater. Sci. 47 (2012) 7978) "
        "and 140-150 GPa (Yu et al., Chem. Mater. 28 (2016) 197)",
    ),
    poisson_ratio=Sourced(
        0.26,
        "-",
        "literature value (not in the seeds): Yu et al., Chem. Mater. 28 (2016) 197, "
        "Al/Ta-doped LLZO, nu ~ 0.26 (Ni et al., J. Mater. Sci. 47 (2012) 7978: 0.257)",
    ),
    density=Sourced(
        5.11 * _G_CM3,
        "kg m^-3",
        "literature value (not in the seeds): crystallographic density of cubic Li7La3Zr2O12, "
        "a = 12.97 A, Z = 8, M = 839.7 g mol^-1 -> 5.11 g cm^-3 "
        "(cubic garnet: Murugan, Thangadurai, Weppner, Angew. Chem. Int. Ed. 46 (2007) 7778)",
    ),
    fracture_toughness=Sourced(
        1.25 * _MPA,
        "Pa m^0.5",
        f"{_S004}: LLZO K_IC 0.86-1.63 MPa m^0.5 (Wolfenstine et al., Mater. Lett. 96 (2013) 117); "
        "midpoint of that range",
    ),
    ionic_conductivity=Sourced(
        3.0e-4 * _S_CM,
        "S m^-1",
        "literature value (not in the seeds): Murugan, Thangadurai, Weppner, "
        "Angew. Chem. Int. Ed. 46 (2007) 7778, total conductivity 3e-4 S cm^-1 at 25 C",
    ),
    electronic_conductivity=None,
    yield_stress=None,
    molar_volume=None,
    conductivity_activation_energy=None,  # no seed gives it
    conductivity_reference_temperature=Sourced(
        298.15, "K", "literature value (not in the seeds): Murugan, Thangadurai, Weppner 2007, conductivity at 25 C"
    ),
)

# ---------------------------------------------------------------------- #
# LATP: Li1.3Al0.3Ti1.7(PO4)3, NASICON
# ---------------------------------------------------------------------- #
LATP = MaterialData(
    name="LATP",
    role="electrolyte",
    description="Li1.3Al0.3Ti1.7(PO4)3, NASICON-type phosphate electrolyte",
    youngs_modulus=Sourced(
        115.0 * _GPA,
        "Pa",
        f"{_S004}: LATP E = 81-115 GPa, correlated with grain size and microcracking "
        "(Jackman & Cutler, J. Power Sources 218 (2012) 65); upper end taken as the "
        "microcrack-free solid, since the engine models cracking explicitly",
    ),
    poisson_ratio=Sourced(
        0.25,
        "-",
        "assumed: equal to LAGP (seed 000 Table 1, 0.25) because both are NASICON phosphates "
        "and no seed gives nu for LATP",
    ),
    density=Sourced(
        2.93 * _G_CM3,
        "kg m^-3",
        "literature value (not in the seeds): crystallographic density of NASICON "
        "Li1.3Al0.3Ti1.7(PO4)3, R-3c, a = 8.50 A, c = 20.82 A, Z = 6, M = 383.4 g mol^-1 -> 2.93 g cm^-3",
    ),
    fracture_toughness=Sourced(
        1.1 * _MPA,
        "Pa m^0.5",
        f"{_S004}: LATP K_IC 1.1 +/- 0.3 MPa m^0.5, single-edge precracked beam "
        "(Jackman & Cutler, J. Power Sources 218 (2012) 65)",
    ),
    ionic_conductivity=Sourced(
        7.0e-4 * _S_CM,
        "S m^-1",
        "literature value (not in the seeds): Aono et al., J. Electrochem. Soc. 137 (1990) 1023, "
        "Li1.3Al0.3Ti1.7(PO4)3 7e-4 S cm^-1 at 25 C",
    ),
    electronic_conductivity=None,
    yield_stress=None,
    molar_volume=None,
    conductivity_activation_energy=None,  # no seed gives it
    conductivity_reference_temperature=Sourced(
        298.15, "K", "literature value (not in the seeds): Aono et al. 1990, conductivity at 25 C"
    ),
)

# ---------------------------------------------------------------------- #
# Li6PS5Cl: argyrodite sulfide (alias LPSCl)
# ---------------------------------------------------------------------- #
# E and K_IC: no seed gives them for Li6PS5Cl; seed 004 gives them for
# Li2S-P2S5 (LPS) sulfide glass, used here as the closest sourced proxy.
_LPS_E = 18.5 * _GPA  # McGrogan et al. via seed 004
_LPS_K = 16.0 * _GPA  # Baranowski et al. via seed 004 (dense beta-Li3PS4, predicted)
_LPS_NU = round(0.5 * (1.0 - _LPS_E / (3.0 * _LPS_K)), 2)  # 0.31

LI6PS5CL = MaterialData(
    name="Li6PS5Cl",
    role="electrolyte",
    description="Li6PS5Cl, argyrodite sulfide electrolyte (LPSCl); seed 001's electrolyte",
    youngs_modulus=Sourced(
        _LPS_E,
        "Pa",
        f"assumed equal to Li2S-P2S5 (LPS) sulfide glass, {_S004}: E = 18.5 +/- 0.9 GPa "
        "(McGrogan et al., Adv. Energy Mater. 7 (2017) 1602011); no seed gives E of Li6PS5Cl",
    ),
    poisson_ratio=Sourced(
        _LPS_NU,
        "-",
        f"assumed: nu = (1 - E/3K)/2 = 0.31 from the LPS values in {_S004}, "
        "E = 18.5 GPa (McGrogan et al. 2017) and K = 16 GPa (Baranowski et al., dense beta-Li3PS4); "
        "no seed gives nu of Li6PS5Cl",
    ),
    density=Sourced(
        1.87 * _G_CM3,
        "kg m^-3",
        "literature value (not in the seeds): crystallographic density of cubic Li6PS5Cl, "
        "F-43m, a = 9.85 A, Z = 4, M = 268.4 g mol^-1 -> 1.87 g cm^-3 "
        "(structure: Deiseroth et al., Angew. Chem. Int. Ed. 47 (2008) 755)",
    ),
    fracture_toughness=Sourced(
        0.23 * _MPA,
        "Pa m^0.5",
        f"assumed equal to Li2S-P2S5 (LPS) sulfide glass, {_S004}: K_IC = 0.23 +/- 0.04 MPa m^0.5 "
        "(McGrogan et al., Adv. Energy Mater. 7 (2017) 1602011); seed 001 only states that "
        "K_IC of sulfide SEs is low",
    ),
    ionic_conductivity=Sourced(
        1.65 * _MS_CM,
        "S m^-1",
        f"{_S001}, sec. 2: sigma_ion = 1.65 mS cm^-1 (pressed pellet, PEIS, room temperature)",
    ),
    electronic_conductivity=None,
    yield_stress=None,
    molar_volume=None,
    conductivity_activation_energy=Sourced(
        0.40,
        "eV",
        f"{_S001}, sec. 2: E_A = 0.40 eV from -60 to +25 C",
    ),
    conductivity_reference_temperature=Sourced(
        298.15,
        "K",
        f"assumed: 25 C; {_S001}, sec. 2 does not state the temperature of sigma_ion = 1.65 mS cm^-1 "
        "(a room-temperature PEIS measurement); its E_A was measured from -60 to +25 C",
    ),
)

# ---------------------------------------------------------------------- #
# Li metal
# ---------------------------------------------------------------------- #
LI = MaterialData(
    name="Li",
    role="lithium",
    description="Lithium metal anode and plated Li; ductile (bonds never break), electronic conductor",
    youngs_modulus=Sourced(4.9 * _GPA, "Pa", f"{_S000}: Young's modulus of Li metal 4.9 GPa"),
    poisson_ratio=Sourced(0.36, "-", f"{_S000}: Poisson's ratio of Li metal 0.36"),
    density=Sourced(0.534 * _G_CM3, "kg m^-3", f"{_S000}: density of Li metal 0.534 g cm^-3"),
    fracture_toughness=None,  # ductile: Li-Li bonds never break
    ionic_conductivity=None,
    electronic_conductivity=Sourced(
        1.1e7, "S m^-1", f"{_S000}: electronic conductivity of Li 11 000 000 S m^-1"
    ),
    yield_stress=Sourced(0.4 * _MPA, "Pa", f"{_S000}: yield stress of Li metal 0.4 MPa"),
    molar_volume=Sourced(
        13.02 * _CM3_MOL,
        "m^3 mol^-1",
        f"{_S001}, eq. 9: molar volume of lithium 13.02 cm^3 mol^-1 "
        "(also MODEL.md sec. 1; seed 004 quotes 13 cm^3 mol^-1)",
    ),
    conductivity_activation_energy=None,
)


# ---------------------------------------------------------------------- #
# NCM111 and the ECBD: the composite cathode of seed 003
# ---------------------------------------------------------------------- #
# The intercalation data of NCM111 (c_max, diffusivity tensor, expansion, kinetics, OCP) live with its
# open-circuit potential in pdssb/electrochem/ocv.py.
NCM111_MATERIAL = MaterialData(
    name="NCM111",
    role="other",
    description="LiNi1/3Mn1/3Co1/3O2, layered oxide cathode active material (the secondary particle of seed 003)",
    youngs_modulus=Sourced(
        150.0 * _GPA,
        "Pa",
        "assumed: seed 003 gives no modulus for NCM111; 150 GPa, equal to the surrounding LLZO (seed 003), "
        "is within the 10^2 GPa range that nanoindentation reports for layered NCM oxides (seed 003 ref. 47: "
        "Sharma et al., Extreme Mech. Lett. 58 (2023) 101920); to be replaced by a measured NCM111 value",
    ),
    poisson_ratio=Sourced(
        0.25,
        "-",
        "assumed: no seed gives nu of NCM111; 0.25 is what bond-based peridynamics represents in 3D and "
        "plane strain",
    ),
    density=Sourced(
        4.76 * _G_CM3,
        "kg m^-3",
        "literature value (not in the seeds): crystallographic density of LiNi1/3Mn1/3Co1/3O2, R-3m, "
        "a = 2.86 A, c = 14.24 A, Z = 3, M = 96.46 g mol^-1 (Ohzuku & Makimura, Chem. Lett. 30 (2001) 642)",
    ),
    fracture_toughness=Sourced(
        0.1 * _MPA,
        "Pa m^0.5",
        f"{_S003}, sec. 2: 'fracture toughness (~0.1 MPa m^1/2 for NCM)', after Sharma et al., "
        "Extreme Mech. Lett. 58 (2023) 101920",
    ),
    ionic_conductivity=None,
    electronic_conductivity=None,
    yield_stress=None,
    molar_volume=None,
    conductivity_activation_energy=None,
)

ECBD = MaterialData(
    name="ECBD",
    role="electrolyte",
    description="electrolyte-carbon black domain of seed 003: LLZO with carbon black, homogenised, "
                "conducting both Li ions and electrons",
    youngs_modulus=Sourced(
        150.0 * _GPA,
        "Pa",
        f"{_S003}: LLZO 'owns Young's modulus of 150 GPa'; the homogenised ECBD is taken as stiff as LLZO "
        "(assumed: the carbon fraction and porosity are not given)",
    ),
    poisson_ratio=Sourced(0.26, "-", "assumed equal to LLZO: Yu et al., Chem. Mater. 28 (2016) 197"),
    density=Sourced(5.11 * _G_CM3, "kg m^-3", "assumed equal to LLZO (crystallographic 5.11 g cm^-3)"),
    fracture_toughness=Sourced(
        1.25 * _MPA, "Pa m^0.5", f"assumed equal to LLZO, {_S004}: 0.86-1.63 MPa m^0.5 (midpoint)"
    ),
    ionic_conductivity=Sourced(
        3.0e-4 * _S_CM * 0.8**1.5,
        "S m^-1",
        "assumed: LLZO 3e-4 S cm^-1 (Murugan, Thangadurai, Weppner 2007) times the Bruggeman factor "
        "phi^1.5 of an LLZO volume fraction phi = 0.8 in the ECBD (seed 003 gives neither the fraction nor "
        "the effective conductivity)",
    ),
    electronic_conductivity=Sourced(
        10.0,
        "S m^-1",
        "assumed: 10 S m^-1, the order of carbon-black percolated composites; seed 003 gives no value. "
        "Over the 15 um cathode at 1C it drops microvolts, so the electrons never limit the cell",
    ),
    yield_stress=None,
    molar_volume=None,
    conductivity_activation_energy=None,
    conductivity_reference_temperature=Sourced(
        298.15, "K", "LLZO's: Murugan, Thangadurai, Weppner 2007, conductivity at 25 C"
    ),
)


#: The material library, keyed by canonical name.
LIBRARY: dict[str, MaterialData] = {
    "LAGP": LAGP,
    "LLZO": LLZO,
    "LATP": LATP,
    "Li6PS5Cl": LI6PS5CL,
    "Li": LI,
    "NCM111": NCM111_MATERIAL,
    "ECBD": ECBD,
}

#: Alternative names accepted by :func:`get_material`.
ALIASES: dict[str, str] = {
    "LPSCl": "Li6PS5Cl",
}


def material_names() -> list[str]:
    """Canonical library names followed by aliases."""
    return list(LIBRARY) + list(ALIASES)


def get_material(name: str) -> MaterialData:
    """Look up a material by canonical name or alias (exact, then case-insensitive).

    Raises ``KeyError`` listing the known names when ``name`` is unknown.
    """
    if name in LIBRARY:
        return LIBRARY[name]
    if name in ALIASES:
        return LIBRARY[ALIASES[name]]
    lowered = str(name).lower()
    for key in LIBRARY:
        if key.lower() == lowered:
            return LIBRARY[key]
    for alias, key in ALIASES.items():
        if alias.lower() == lowered:
            return LIBRARY[key]
    raise KeyError(f"unknown material {name!r}; known names: {', '.join(material_names())}")
