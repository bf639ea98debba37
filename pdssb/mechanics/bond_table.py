"""Per-material-pair bond constants: micromodulus c_ij, critical stretch s0_ij, density.

Materials are indexed 1..n (0 is void). A pair's micromodulus is the series spring of the two
materials' c; its critical stretch comes from the pair's G_c (an interface value if the scene
gives one, else the electrolyte's own G_c). Only electrolyte–electrolyte and electrolyte–Li
pairs break; anything involving "other" or Li–Li has s0 = 0, meaning unbreakable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..lattice.stencil import Stencil
from .fracture import critical_stretch
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


@dataclass
class BondTable:
    c: np.ndarray  # (n+1, n+1) N m^-6
    s0: np.ndarray  # (n+1, n+1), 0 = unbreakable
    rho: np.ndarray  # (n+1,) kg m^-3
    effective_youngs: np.ndarray  # (n+1,) Pa, of the bond-based body

    def describe(self, names: list[str]) -> dict:
        out = {}
        for a, name in enumerate(names, start=1):
            out[name] = {
                "micromodulus_N_m6": float(self.c[a, a]),
                "critical_stretch": float(self.s0[a, a]),
                "effective_youngs_modulus_GPa": float(self.effective_youngs[a] / 1e9),
            }
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
) -> BondTable:
    """``interfaces`` maps a sorted material-index pair to its G_c (None = unbreakable)."""
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
    return BondTable(c=c, s0=s0, rho=rho, effective_youngs=eff)
