"""Per-material-pair bond constants: micromodulus c_ij, critical stretch s0_ij, density.

Materials are indexed 1..n (0 is void). A pair's micromodulus is the series spring of the two
materials' c; its critical stretch comes from the pair's G_c (an interface value if the scene
gives one, else the electrolyte's own G_c). Only electrolyte–electrolyte and electrolyte–Li
pairs break; anything involving "other" or Li–Li has s0 = 0, meaning unbreakable.

Bond laws (bond_laws.py): a pair's bonds are brittle (the default: s0 from G_c as above) or soften
with a strength and a toughness (exponential or bilinear: s0 from the strength, the tail from G_c).
``s0`` holds the critical stretch of brittle pairs only (0 for softening pairs, which break when
their damage reaches 1); ``law`` holds every pair's law as a row [law, s0, s1, s_b].

Fluid Li (``electrochem.li_mechanics = "fluid"``, mechanics/fluid.py): the free Li sites carry one more
pseudo id, appended last, whose bonds have c = 0 against every material: they carry no force, and never
break; the fluid's pressure acts on the electrolyte through the fluid module instead.

Grain boundaries (scene ``[grains]``, lattice/grains.py): the grains of one material carry that
material's id or one of its pseudo ids (one per grain colour, appended after the materials). Every
pseudo id copies its material's row of the table, except that a pair of two different ids of the
family is a grain-boundary bond: c_GB = boundary_stiffness · c_aa, and s0_GB = boundary_strength ·
s0_aa, or, when boundary_fracture_energy G_GB is given, s0_GB = √(2 G_GB/(c_GB S)) (the same
lattice-exact calibration as an interface's G_c). Breaking a flat, lattice-aligned plane of
grain-boundary bonds costs G = ½ c_GB s0_GB² S, i.e. G_GB = boundary_stiffness · boundary_strength² · G_c.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..lattice.stencil import Stencil
from . import bond_laws as bl
from .fracture import critical_stretch, crossing_sum
from .pmb import PD_POISSON, bulk_modulus_d, micromodulus, series, youngs_from_bulk_d


@dataclass(frozen=True)
class MaterialSpec:
    """A resolved material, SI: what the bond table needs."""

    name: str
    role: str  # electrolyte | lithium | other
    youngs_modulus: float
    poisson_ratio: float
    density: float
    fracture_energy: float | None
    poisson_mismatch: str  # error | match_bulk | match_young
    law: str = "brittle"  # brittle | exponential | bilinear (bond_laws.py)
    strength: float | None = None  # Pa: the uniaxial strength of a softening law


@dataclass(frozen=True)
class PairLaw:
    """An interface's bonds: a law with its fracture energy (J m⁻²) and, when softening, its strength (Pa)."""

    law: str
    fracture_energy: float
    strength: float | None = None


@dataclass(frozen=True)
class GrainBoundarySpec:
    """The grain-boundary bonds of one polycrystalline material (scene ``[grains]``)."""

    material_id: int  # 1..n
    pseudo_ids: tuple[int, ...]  # n+1.. : the material's other grain colours
    stiffness: float = 1.0  # factor on c
    strength: float | None = None  # factor on s0 (None and no fracture_energy: 1)
    fracture_energy: float | None = None  # J m^-2: G_c of the grain boundary (instead of strength)


@dataclass
class BondTable:
    c: np.ndarray  # (m, m) N m^-6, m = n + 1 + number of grain pseudo ids
    s0: np.ndarray  # (m, m), 0 = unbreakable
    rho: np.ndarray  # (m,) kg m^-3
    effective_youngs: np.ndarray  # (m,) Pa, of the bond-based body
    law: np.ndarray | None = None  # (m, m, 4): [law, s0, s1, s_b] per pair (bond_laws.BondLaw.as_row)
    grain_boundary: dict | None = None  # constants of the grain-boundary bonds, for the manifest
    fluid_id: int | None = None  # the pseudo id of fluid Li (with_fluid_li), the last id of the table
    fluid_bulk_modulus: float | None = None  # Pa: κ_d of fluid Li (kappa_for), its pressure per volume strain

    def __post_init__(self):
        if self.law is None:
            m = self.c.shape[0]
            self.law = np.zeros((m, m, 4))
            self.law[..., 1] = self.law[..., 2] = self.law[..., 3] = self.s0

    @property
    def softening(self) -> bool:
        """Whether any pair softens (its bonds then keep a damage history)."""
        return bool((self.law[..., 0] != bl.BRITTLE).any())

    def pair_law(self, a: int, b: int) -> bl.BondLaw:
        row = self.law[a, b]
        return bl.BondLaw(int(row[0]), float(row[1]), float(row[2]), float(row[3]))

    def describe(self, names: list[str]) -> dict:
        out = {}
        for a, name in enumerate(names, start=1):
            law = self.pair_law(a, a)
            out[name] = {
                "micromodulus_N_m6": float(self.c[a, a]),
                "critical_stretch": float(self.s0[a, a]),
                "effective_youngs_modulus_GPa": float(self.effective_youngs[a] / 1e9),
                "bond_law": bl.LAW_NAMES[law.law],
            }
            if law.softening:
                out[name].update(linear_stretch=law.s0, tail_stretch=law.s1, breaking_stretch=law.s_b)
        if self.grain_boundary is not None:
            gb = self.grain_boundary
            out[f"{names[gb['material_id'] - 1]} grain boundary"] = {
                k: v for k, v in gb.items() if k not in ("material_id", "pseudo_ids")}
        return out


def kappa_for(m: MaterialSpec, setting: str) -> float:
    """The bulk modulus the bond-based body gets (see the mismatch policy in config.resolve)."""
    if m.poisson_mismatch == "match_young":
        return bulk_modulus_d(m.youngs_modulus, PD_POISSON[setting], setting)
    return bulk_modulus_d(m.youngs_modulus, m.poisson_ratio, setting)


def build_bond_table(
    materials: list[MaterialSpec],
    interfaces: dict[tuple[int, int], float | PairLaw | None],
    setting: str,
    stencil: Stencil,
    dx: float,
    volume: float,
    thickness: float | None,
    grains: GrainBoundarySpec | None = None,
) -> BondTable:
    """``interfaces`` maps a sorted material-index pair to its G_c or :class:`PairLaw` (None = unbreakable);
    ``grains`` adds the pseudo ids of a polycrystalline material with their grain-boundary pairs.
    A softening law whose strength and toughness cannot go together raises bond_laws.LawError."""
    n = len(materials)
    c = np.zeros((n + 1, n + 1))
    s0 = np.zeros((n + 1, n + 1))
    law = np.zeros((n + 1, n + 1, 4))
    rho = np.zeros(n + 1)
    eff = np.zeros(n + 1)
    ci = np.zeros(n + 1)
    for a, m in enumerate(materials, start=1):
        kappa = kappa_for(m, setting)
        ci[a] = micromodulus(kappa, stencil, dx, volume)
        rho[a] = m.density
        eff[a] = youngs_from_bulk_d(kappa, setting)
    crossing = crossing_sum(stencil, dx, volume, thickness)
    for a, ma in enumerate(materials, start=1):
        for b, mb in enumerate(materials, start=1):
            c[a, b] = ci[a] if a == b else series(ci[a], ci[b])
            if b < a:  # symmetric: the pair was done as (b, a)
                s0[a, b], law[a, b] = s0[b, a], law[b, a]
                continue
            spec = _pair_spec(a, b, ma, mb, interfaces)
            if spec is None:
                continue
            pl = _pair_law(spec, c[a, b], crossing, stencil, dx, volume, thickness)
            law[a, b] = pl.as_row()
            s0[a, b] = 0.0 if pl.softening else pl.s0
    table = BondTable(c=c, s0=s0, rho=rho, effective_youngs=eff, law=law)
    if grains is None:
        return table
    return _with_grain_boundaries(table, grains, stencil, dx, volume, thickness)


def _pair_spec(a: int, b: int, ma: MaterialSpec, mb: MaterialSpec, interfaces) -> PairLaw | None:
    """What breaks the bonds between materials a and b: an interface's own spec, else the electrolyte's law.

    Only electrolyte–electrolyte and electrolyte–Li pairs break unless an interface says otherwise."""
    key = (min(a, b), max(a, b))
    if key in interfaces:
        spec = interfaces[key]
        return PairLaw("brittle", spec) if isinstance(spec, float) else spec
    if a == b and ma.role == "electrolyte":
        src = ma
    elif {ma.role, mb.role} == {"electrolyte", "lithium"}:
        src = ma if ma.role == "electrolyte" else mb
    elif ma.role == "electrolyte" and mb.role == "electrolyte":
        src = min((ma, mb), key=lambda m: m.fracture_energy)
    else:
        return None
    return PairLaw(src.law, src.fracture_energy, src.strength)


def _pair_law(spec: PairLaw, c: float, crossing: float, stencil: Stencil, dx: float, volume: float,
              thickness: float | None) -> bl.BondLaw:
    """The calibrated law of a pair with micromodulus c: the tail from G_c on the crossing sum, s0 from the
    strength on the lattice's uniaxial response (or from G_c alone, brittle)."""
    work = spec.fracture_energy / (c * crossing)
    kind = bl.LAW_IDS[spec.law]
    if kind == bl.BRITTLE:
        return bl.brittle(critical_stretch(spec.fracture_energy, c, stencil, dx, volume, thickness))
    return bl.strength_stretch(kind, spec.strength, work, stencil, c, volume, dx)


def _with_grain_boundaries(table: BondTable, g: GrainBoundarySpec, stencil: Stencil, dx: float, volume: float,
                           thickness: float | None) -> BondTable:
    n1 = table.c.shape[0]
    a = g.material_id
    if list(g.pseudo_ids) != list(range(n1, n1 + len(g.pseudo_ids))):
        raise ValueError("grain pseudo ids must follow the materials' ids")
    parent = np.concatenate([np.arange(n1), np.full(len(g.pseudo_ids), a)])
    c = table.c[np.ix_(parent, parent)].copy()
    s0 = table.s0[np.ix_(parent, parent)].copy()
    law = table.law[np.ix_(parent, parent)].copy()
    c_gb = g.stiffness * table.c[a, a]
    own = table.pair_law(a, a)
    crossing = crossing_sum(stencil, dx, volume, thickness)
    if own.softening:
        if g.strength is not None or g.fracture_energy is not None:
            raise bl.LawError("grain-boundary strength and fracture-energy factors apply to brittle bonds; "
                              "this material's bonds soften")
        gb = bl.BondLaw(own.law, own.s0, own.s1, own.s_b)
    elif g.fracture_energy is not None:
        gb = bl.brittle(critical_stretch(g.fracture_energy, c_gb, stencil, dx, volume, thickness))
    else:
        gb = bl.brittle((1.0 if g.strength is None else g.strength) * table.s0[a, a])
    family = [a] + list(g.pseudo_ids)
    for x in family:
        for y in family:
            if x != y:
                c[x, y] = c_gb
                s0[x, y] = 0.0 if gb.softening else gb.s0
                law[x, y] = gb.as_row()
    info = {
        "material_id": a,
        "pseudo_ids": list(g.pseudo_ids),
        "micromodulus_N_m6": float(c_gb),
        "critical_stretch": float(gb.s0),
        "stiffness_factor": float(g.stiffness),
        "critical_stretch_factor": float(gb.s0 / own.s0) if own.s0 > 0 else None,
        # energy to break a flat lattice plane of grain-boundary bonds: c S W
        "fracture_energy_J_m2": float(c_gb * bl.work_per_c(gb) * crossing),
        "grain_colours": len(family),
    }
    return BondTable(c=c, s0=s0, rho=table.rho[parent].copy(), effective_youngs=table.effective_youngs[parent].copy(),
                     law=law, grain_boundary=info)


def with_fluid_li(table: BondTable, li_id: int, bulk_modulus: float) -> BondTable:
    """The table with a fluid-Li pseudo id appended: c = 0 and unbreakable against every id, Li's density
    (``li_id``: the Li material's id) and ``bulk_modulus`` (κ_d of that Li, Pa) for its pressure."""
    m = table.c.shape[0]
    grow = lambda a: np.pad(a, [(0, 1)] * 2 + [(0, 0)] * (a.ndim - 2))  # noqa: E731
    return BondTable(c=grow(table.c), s0=grow(table.s0), rho=np.append(table.rho, table.rho[li_id]),
                     effective_youngs=np.append(table.effective_youngs, table.effective_youngs[li_id]),
                     law=grow(table.law), grain_boundary=table.grain_boundary, fluid_id=m,
                     fluid_bulk_modulus=float(bulk_modulus))
