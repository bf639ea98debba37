"""NCM111 (LiyNi1/3Mn1/3Co1/3O2): its open-circuit potential U(y) and the intercalation constants seed 003 leaves out.

Open-circuit potential vs Li/Li⁺ at 25 °C, y the Li fraction of the layered oxide (y = c/c_max):

    U(y) = 6.0826 − 6.9922 y + 7.1062 y² − 2.5947 y³ − 5.4549·10⁻⁵ exp(124.23 y − 114.2593)   (V)

the LiyNi1/3Mn1/3Co1/3O2 fit of the Penn State electrochemical–thermal models: Ji, Zhang, Wang, "Li-ion cell
operation at low temperatures", J. Electrochem. Soc. 160 (2013) A636, doi:10.1149/2.047304jes (the same
coefficients appear, labelled NMC111, in public P2D codes; the attribution to that paper's parameter table is
to be confirmed against the paper, see docs/cathode.md). The polynomial is the solid-solution branch; the
exponential is the steep rise of the potential as the oxide fills (y → 1). U falls monotonically for all
y ∈ [0.2, 1]; the cut-offs of seed 003 map to U(0.383) = 4.3 V and U(0.995) = 3.0 V, a window of 0.611
Li per formula unit, i.e. 170 mAh g⁻¹ of the 277.9 mAh g⁻¹ theoretical capacity, against the 163 mAh g⁻¹
measured for NCM111 between 3.0 and 4.3 V at 0.1C (Noh, Youn, Yoon, Sun, J. Power Sources 233 (2013) 121,
doi:10.1016/j.jpowsour.2013.01.063).

Constants (each a :class:`~pdssb.materials.Sourced`) are collected in :data:`NCM111`: the maximum Li
concentration, the principal diffusivities and expansion ratios (seed 003), the base expansion
coefficient (from the NCM111 unit-cell volume change), the exchange current density, the transfer
coefficient and the initial concentration of the paper's particle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..materials import Sourced

#: the fit's range of validity in y; the potential is monotone and finite on it
Y_MIN, Y_MAX = 0.2, 1.0
#: seed 003's cut-off voltages (V vs Li/Li⁺)
CUTOFF_LOW, CUTOFF_HIGH = 3.0, 4.3
_COEFF = (6.0826, -6.9922, 7.1062, -2.5947)
_EXP_A, _EXP_B, _EXP_C = 5.4549e-5, 124.23, 114.2593


def _check_y(y) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    if np.any(~np.isfinite(y)) or np.any(y < Y_MIN) or np.any(y > Y_MAX):
        raise ValueError(f"NCM111 Li fraction must lie in [{Y_MIN}, {Y_MAX}] (the fit's range)")
    return y


def ncm111_ocp(y):
    """U(y) in V vs Li/Li⁺ for the Li fraction y ∈ [0.2, 1]."""
    y = _check_y(y)
    a0, a1, a2, a3 = _COEFF
    return a0 + y * (a1 + y * (a2 + y * a3)) - _EXP_A * np.exp(_EXP_B * y - _EXP_C)


def ncm111_ocp_slope(y):
    """dU/dy in V (negative everywhere on the fit's range)."""
    y = _check_y(y)
    _, a1, a2, a3 = _COEFF
    return a1 + y * (2.0 * a2 + y * 3.0 * a3) - _EXP_A * _EXP_B * np.exp(_EXP_B * y - _EXP_C)


def ncm111_stoichiometry(potential: float) -> float:
    """The Li fraction y at which U(y) equals ``potential`` (V); U is monotone, so y is unique."""
    from scipy.optimize import brentq

    lo, hi = float(ncm111_ocp(Y_MAX)), float(ncm111_ocp(Y_MIN))
    if not lo <= potential <= hi:
        raise ValueError(f"potential {potential} V outside U([{Y_MIN}, {Y_MAX}]) = [{lo:.3f}, {hi:.3f}] V")
    return float(brentq(lambda y: float(ncm111_ocp(y)) - potential, Y_MIN, Y_MAX, xtol=1e-14))


@dataclass(frozen=True)
class ActiveMaterial:
    """Intercalation data of an active material (SI), every number with its source."""

    name: str
    max_concentration: Sourced  # mol m^-3: c at y = 1
    diffusivity_ab: Sourced  # m^2 s^-1: D11 = D22, in the layers ([100], [010])
    diffusivity_c: Sourced  # m^2 s^-1: D33, across the layers ([001])
    expansion_ratios: tuple[float, float, float]  # θ11, θ22, θ33 (multiply expansion_coefficient)
    expansion_ratio_source: str
    expansion_coefficient: Sourced  # m^3 mol^-1: ε* = θ · β · Δc in the grain frame
    exchange_current_density: Sourced  # A m^-2 at y = 1/2
    transfer_coefficient: Sourced  # -
    initial_concentration: Sourced  # mol m^-3: the paper's particle at the start of charge

    def principal_diffusivity(self) -> np.ndarray:
        """(D11, D22, D33) in m² s⁻¹ along [100], [010], [001]."""
        return np.array([self.diffusivity_ab.value, self.diffusivity_ab.value, self.diffusivity_c.value])

    def principal_expansion(self) -> np.ndarray:
        """(θ11, θ22, θ33)·β in m³ mol⁻¹: the chemical strain per unit Δc along the crystal axes."""
        return np.asarray(self.expansion_ratios, dtype=np.float64) * self.expansion_coefficient.value

    def stoichiometry(self, c) -> np.ndarray:
        """y = c / c_max."""
        return np.asarray(c, dtype=np.float64) / self.max_concentration.value


_S003 = "Yuan, Lu, Xu, composite cathode failure in ASSBs (seed 003)"
_M_NCM111 = 6.94 + (58.693 + 54.938 + 58.933) / 3.0 + 2 * 15.999  # g mol^-1, LiNi1/3Mn1/3Co1/3O2
_A_HEX, _C_HEX = 2.86e-10, 14.24e-10  # m, R-3m hexagonal cell, Z = 3
_RHO_NCM111 = 3 * _M_NCM111 * 1e-3 / (6.02214076e23 * math.sqrt(3.0) / 2.0 * _A_HEX**2 * _C_HEX)  # kg m^-3
_C_MAX = _RHO_NCM111 / (_M_NCM111 * 1e-3)  # mol m^-3
_PARTICLE_VOLUME = 4.0 / 3.0 * math.pi * (5.0e-6) ** 3  # m^3, seed 003: radius 5 µm
_C0 = 24.659e-12 / _PARTICLE_VOLUME  # mol m^-3, seed 003: M_Li = 24.659 pmol at t = 0
_Y_43 = ncm111_stoichiometry(CUTOFF_HIGH)  # 0.383
_Y_30 = ncm111_stoichiometry(CUTOFF_LOW)  # 0.995

NCM111 = ActiveMaterial(
    name="NCM111",
    max_concentration=Sourced(
        _C_MAX,
        "mol m^-3",
        "literature value (not in the seeds): ρ/M of LiNi1/3Mn1/3Co1/3O2, M = 96.46 g mol^-1, crystallographic "
        "density 4.76 g cm^-3 from the R-3m cell a = 2.86 A, c = 14.24 A, Z = 3 (Ohzuku & Makimura, "
        "Chem. Lett. 30 (2001) 642, doi:10.1246/cl.2001.642)",
    ),
    diffusivity_ab=Sourced(1.0e-14, "m^2 s^-1", f"{_S003}, sec. 3.2: D_s11 = D_s22 = 1e-14 m^2/s (Case 1 baseline)"),
    diffusivity_c=Sourced(1.0e-20, "m^2 s^-1", f"{_S003}, sec. 3.2: D_s33 = 1e-20 m^2/s along [001] (Case 1)"),
    expansion_ratios=(1.0, 1.0, -1.0),
    expansion_ratio_source=f"{_S003}, sec. 3.2: theta_b11 = theta_b22 = 1, theta_b33 = -1 (Case 1 baseline)",
    expansion_coefficient=Sourced(
        0.012 / ((_Y_30 - _Y_43) * _C_MAX),
        "m^3 mol^-1",
        "literature value (not in the seeds): NCM111 unit-cell volume change of about -1.2 % between 3.0 and "
        "4.3 V vs Li/Li+ (Kondrakov et al., J. Phys. Chem. C 121 (2017) 3286, doi:10.1021/acs.jpcc.6b12885; "
        "seed 003 ref. 21) over the Li window of the OCP, y = 0.995 -> 0.383, i.e. beta = 0.012/(0.611 c_max); "
        "with theta = diag(1, 1, -1) the volumetric strain is beta*dc. Not calibrated: seed 003's "
        "eps_V,max = -0.0253 at 1C would take 9.26e-7 in the 2D section, not shipped (docs/validation.md)",
    ),
    exchange_current_density=Sourced(
        2.0,
        "A m^-2",
        "assumed: seed 003's supplementary kinetics are not available; 2 A m^-2 (0.2 mA cm^-2) at y = 1/2 is "
        "of the order of published NCM values (e.g. Chen et al., J. Electrochem. Soc. 167 (2020) 080534: "
        "about 3 A m^-2 at mid stoichiometry for NMC811 in a liquid electrolyte) and makes the 1C surface "
        "overpotential of the 5 um particle (2.1 A m^-2) a few mV, consistent with seed 003's statement "
        "that the interfacial voltage drop stays below 0.015 V",
    ),
    transfer_coefficient=Sourced(
        0.5, "-", "assumed: symmetric Butler-Volmer, alpha_a = alpha_c = 0.5, as in seed 000 Table 1"
    ),
    initial_concentration=Sourced(
        _C0,
        "mol m^-3",
        f"{_S003}, sec. 3.1: M_Li = 24.659e-12 mol at t = 0 in the particle of radius 5 um, "
        "c0 = M_Li / (4/3 pi r^3)",
    ),
)


@dataclass(frozen=True)
class LiWindow:
    """The stoichiometry y(c) that the open-circuit potential, the exchange current and the chemical strain
    read, for the particle's Li concentration c (mol m⁻³).

    ``physical``: y = c/c_max, NCM111 as it is: from the paper's initial state y0 = c0/c_max = 0.954 it can
    give up Li only down to y = 0.383 (4.3 V), 69 % of what the paper's particle gives up.
    ``paper``: seed 003's particle gives up 87 % of its Li within 4.3 V (24.659 → 3.203 pmol), more than
    NCM111's open-circuit potential allows; this mode maps the paper's inventory onto the potential's
    window, y = y_top + (c/c0)(y0 − y_top), y_top = y at the upper cut-off, so that c = c0 is the paper's
    start and c → 0 reaches the cut-off, with the shape of U(y) kept (docs/cathode.md §7).
    """

    mode: str  # "physical" | "paper"
    max_concentration: float  # mol m^-3
    initial_concentration: float  # mol m^-3
    top: float  # y at the upper cut-off voltage

    @property
    def y0(self) -> float:
        return self.initial_concentration / self.max_concentration

    def y(self, c):
        """y(c), clipped to the fit's range [Y_MIN, Y_MAX]."""
        c = np.asarray(c, dtype=np.float64)
        if self.mode == "physical":
            y = c / self.max_concentration
        else:
            y = self.top + c / self.initial_concentration * (self.y0 - self.top)
        return np.clip(y, Y_MIN, Y_MAX)

    def dy_dc(self) -> float:
        """dy/dc (m³ mol⁻¹), a constant of the map."""
        if self.mode == "physical":
            return 1.0 / self.max_concentration
        return (self.y0 - self.top) / self.initial_concentration


def exchange_current(i0_ref: float, y):
    """i0(y) = i0_ref · 2√(y(1 − y)) (A m⁻²): symmetric Butler–Volmer with a solid electrolyte of constant Li⁺
    site concentration, normalised to i0_ref at y = ½."""
    y = np.asarray(y, dtype=np.float64)
    return i0_ref * 2.0 * np.sqrt(np.clip(y * (1.0 - y), 0.0, None))
