"""Interface kinetics: plating current density as a function of the local overpotential.

On every intact Li–electrolyte bond the plating overpotential is
η = φ_SE − φ_Li − U − Δφ_mech, with Δφ_mech = Ω_Li p / F (McMeeking's form of Monroe–Newman: Li
under compressive pressure p plates less) and φ_Li = 0 (Li metal is an equipotential and the
reference). The plating current density i(η) (A m⁻², positive = Li deposited) is one of
- Butler–Volmer: i = i0 [exp(α_c f η) − exp(−α_a f η)], f = F/(RT);
- linear: i = η / R_ct, R_ct = 1/(i0 f (α_a + α_c)) unless the scene gives it (= RT/(F i0) at α_a + α_c = 1);
- Tafel: i = i0 exp(α_c f η), the plating branch alone (no back reaction);
- sinh (seed 001): i = 2 i0 sinh(ᾱ f η), ᾱ = (α_a + α_c)/2 (symmetric Butler–Volmer).
Exponents are clipped at ±EXP_CLIP so that an extreme trial potential in a root-find cannot
overflow.

Temperature enters through f = F/(RT) and, when the scene gives an activation energy E_a,i0,
through the exchange current: i0(T) = i0_ref exp(−E_a,i0/k_B (1/T − 1/T_ref)), with i0_ref the
scene's exchange_current_density at kinetics.reference_temperature (298.15 K by default). Without
E_a,i0, i0 does not depend on T (no seed paper gives an activation energy for i0, so the value
must come from the user's own source). A charge-transfer resistance given in the scene is used as
is at the run temperature; the default R_ct = 1/(i0(T) f (α_a + α_c)) follows i0(T) and f(T).
"""

from dataclasses import dataclass

import numpy as np
import taichi as ti

from ..materials import arrhenius_factor
from ..units import FARADAY_C_PER_MOL, GAS_CONSTANT_J_PER_MOL_K

MODELS = {"butler_volmer": 0, "linear": 1, "tafel": 2, "sinh": 3}
EXP_CLIP = 60.0


@dataclass(frozen=True)
class KineticsParams:
    model: int
    i0: float  # A m^-2
    alpha_a: float
    alpha_c: float
    f: float  # F/(RT), V^-1
    r_ct: float  # Ohm m^2 (linear model)
    u_eq: float  # V
    omega_over_f: float  # m^3 C^-1: Ω_Li / F (mechanical overpotential per Pa), 0 when switched off

    @staticmethod
    def exchange_current_at(k, temperature: float) -> float:
        """i0(T) (A m⁻²) of the scene's kinetics ``k``: Arrhenius from kinetics.reference_temperature, or
        i0_ref unchanged when no exchange_current_activation_energy is given."""
        ea = getattr(k, "exchange_current_activation_energy", None)
        if ea is None:
            return k.exchange_current_density
        return k.exchange_current_density * arrhenius_factor(ea, temperature, k.reference_temperature)

    @classmethod
    def from_scene(cls, k, temperature: float, molar_volume: float) -> "KineticsParams":
        f = FARADAY_C_PER_MOL / (GAS_CONSTANT_J_PER_MOL_K * temperature)
        i0 = cls.exchange_current_at(k, temperature)
        r_ct = k.charge_transfer_resistance or 1.0 / (i0 * f * (k.alpha_a + k.alpha_c))
        return cls(MODELS[k.model], i0, k.alpha_a, k.alpha_c, f, r_ct,
                   k.equilibrium_potential, molar_volume / FARADAY_C_PER_MOL if k.mechanical_overpotential else 0.0)

    def as_array(self) -> np.ndarray:
        return np.array([self.model, self.i0, self.alpha_a, self.alpha_c, self.f, self.r_ct, self.u_eq,
                         self.omega_over_f], dtype=np.float64)

    def current(self, eta):
        """NumPy version of :func:`plating_current` (for tests and reports)."""
        eta = np.asarray(eta, dtype=float)
        ec = np.clip(self.alpha_c * self.f * eta, -EXP_CLIP, EXP_CLIP)
        ea = np.clip(self.alpha_a * self.f * eta, -EXP_CLIP, EXP_CLIP)
        if self.model == 0:
            return self.i0 * (np.exp(ec) - np.exp(-ea))
        if self.model == 1:
            return eta / self.r_ct
        if self.model == 2:
            return self.i0 * np.exp(ec)
        am = 0.5 * (self.alpha_a + self.alpha_c) * self.f * eta
        return 2 * self.i0 * np.sinh(np.clip(am, -EXP_CLIP, EXP_CLIP))


@ti.func
def plating_current(kp: ti.template(), eta):
    """(i, di/dη) for the kinetics packed in ``kp`` = [model, i0, α_a, α_c, f, R_ct, U, Ω/F]."""
    model = ti.cast(kp[0], ti.i32)
    i0 = kp[1]
    ec = ti.min(ti.max(kp[3] * kp[4] * eta, -EXP_CLIP), EXP_CLIP)
    ea = ti.min(ti.max(kp[2] * kp[4] * eta, -EXP_CLIP), EXP_CLIP)
    i = 0.0
    di = 0.0
    if model == 0:
        i = i0 * (ti.exp(ec) - ti.exp(-ea))
        di = i0 * kp[4] * (kp[3] * ti.exp(ec) + kp[2] * ti.exp(-ea))
    elif model == 1:
        i = eta / kp[5]
        di = 1.0 / kp[5]
    elif model == 2:
        i = i0 * ti.exp(ec)
        di = kp[3] * kp[4] * i
    else:
        am = 0.5 * (kp[2] + kp[3]) * kp[4]
        x = ti.min(ti.max(am * eta, -EXP_CLIP), EXP_CLIP)
        i = i0 * (ti.exp(x) - ti.exp(-x))
        di = i0 * am * (ti.exp(x) + ti.exp(-x))
    return i, di
