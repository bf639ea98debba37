"""Per-material-pair bond constants: micromodulus c_ij, critical stretch s0_ij, density.

Materials are indexed 1..n (0 is void). A pair's micromodulus is the series spring of the two
materials' c; its critical stretch comes from the pair's G_c (an interface value if the scene
gives one, else the electrolyte's own G_c). Only electrolyte–electrolyte and electrolyte–Li
pairs break; anything involving "other" or Li–Li has s0 = 0, meaning unbreakable.

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
    grain_boundary: dict | None = None  # constants of the grain-boundary bonds, for the manifest

    def describe(self, names: list[str]) -> dict:
        out = {}
        for a, name in enumerate(names, start=1):
            out[name] = {
                "micromodulus_N_m6": float(self.c[a, a]),
                "critical_stretch": float(self.s0[a, a]),
                "effective_youngs_modulus_GPa": float(self.effective_youngs[a] / 1e9),
            }
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
    interfaces: dict[tuple[int, int], float | None],
    setting: str,
    stencil: Stencil,
    dx: float,
    volume: float,
    thickness: float | None,
    grains: GrainBoundarySpec | None = None,
) -> BondTable:
    """``interfaces`` maps a sorted material-index pair to its G_c (None = unbreakable); ``grains`` adds
    the pseudo ids of a polycrystalline material with their grain-boundary pairs."""
    n = len(materials)
    c = np.zeros((n + 1, n + 1))
    s0 = np.zeros((n + 1, n + 1))
    rho = np.zeros(n + 1)
    eff = np.zeros(n + 1)
    ci = np.zeros(n + 1)
    for a, m in enumerate(materials, start=1):
        kappa = kappa_for(m, setting)
        ci[a] = micromodulus(kappa, stencil, dx, volume)
        rho[a] = m.density
        eff[a] = youngs_from_bulk_d(kappa, setting)
    for a, ma in enumerate(materials, start=1):
        for b, mb in enumerate(materials, start=1):
            c[a, b] = ci[a] if a == b else series(ci[a], ci[b])
            key = (min(a, b), max(a, b))
            if key in interfaces:
                gc = interfaces[key]
            elif a == b and ma.role == "electrolyte":
                gc = ma.fracture_energy
            elif {ma.role, mb.role} == {"electrolyte", "lithium"}:
                gc = (ma if ma.role == "electrolyte" else mb).fracture_energy
            elif ma.role == "electrolyte" and mb.role == "electrolyte":
                gc = min(ma.fracture_energy, mb.fracture_energy)
            else:
                gc = None
            if gc is not None:
                s0[a, b] = critical_stretch(gc, c[a, b], stencil, dx, volume, thickness)
    if grains is None:
        return BondTable(c=c, s0=s0, rho=rho, effective_youngs=eff)
    return _with_grain_boundaries(BondTable(c=c, s0=s0, rho=rho, effective_youngs=eff), grains,
                                  stencil, dx, volume, thickness)


def _with_grain_boundaries(table: BondTable, g: GrainBoundarySpec, stencil: Stencil, dx: float, volume: float,
                           thickness: float | None) -> BondTable:
    n1 = table.c.shape[0]
    a = g.material_id
    if list(g.pseudo_ids) != list(range(n1, n1 + len(g.pseudo_ids))):
        raise ValueError("grain pseudo ids must follow the materials' ids")
    parent = np.concatenate([np.arange(n1), np.full(len(g.pseudo_ids), a)])
    c = table.c[np.ix_(parent, parent)].copy()
    s0 = table.s0[np.ix_(parent, parent)].copy()
    c_gb = g.stiffness * table.c[a, a]
    if g.fracture_energy is not None:
        s0_gb = critical_stretch(g.fracture_energy, c_gb, stencil, dx, volume, thickness)
    else:
        s0_gb = (1.0 if g.strength is None else g.strength) * table.s0[a, a]
    family = [a] + list(g.pseudo_ids)
    for x in family:
        for y in family:
            if x != y:
                c[x, y] = c_gb
                s0[x, y] = s0_gb
    info = {
        "material_id": a,
        "pseudo_ids": list(g.pseudo_ids),
        "micromodulus_N_m6": float(c_gb),
        "critical_stretch": float(s0_gb),
        "stiffness_factor": float(g.stiffness),
        "critical_stretch_factor": float(s0_gb / table.s0[a, a]) if table.s0[a, a] > 0 else None,
        # energy to break a flat lattice plane of grain-boundary bonds: ½ c s0² S
        "fracture_energy_J_m2": float(0.5 * c_gb * s0_gb**2 * crossing_sum(stencil, dx, volume, thickness)),
        "grain_colours": len(family),
    }
    return BondTable(c=c, s0=s0, rho=table.rho[parent].copy(), effective_youngs=table.effective_youngs[parent].copy(),
                     grain_boundary=info)
