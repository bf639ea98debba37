"""The potential problem of a composite-cathode cell at a set current (seed 003; docs/cathode.md §4).

Unknowns: the ionic potential φ (V) on every electrolyte site (the composite matrix and the separator) and
the cell voltage V. Electrons are taken as an equipotential at V in the particle and the carbon of the
matrix (10 S m⁻¹ against the matrix's 0.02 S m⁻¹ ionic conductivity: their drop over the cathode is
microvolts), and the Li anode is at 0 V, the reference.

- Conduction: the current out of site i through the electrolyte is (L φ)_i = Σ_j V g_ij (φ_i − φ_j), with
  ½ Σ_k g_k ξ_k ξ_kᵀ = κ I per material and harmonic means between materials (intercalation.bond_laplacian:
  the diffusion operator with κ for D), so Σ_j over a site is −V ∇·(κ∇φ) for a quadratic φ.
- Particle surface: each surface site s (area A_s) passes i_s = i0_s [exp(α f η_s) − exp(−α f η_s)],
  η_s = ψ_s − R_s i_s, ψ_s = V − (Pφ)_s − U_s, positive when the particle gives up Li (charge). R_s is
  the site's interfacial resistance (it grows with the debonding gap). The relation is implicit in i_s;
  it is solved per site (the root lies between η = 0 and η = ψ), with di_s/dψ_s = i'(η)/(1 + R_s i'(η)).
  The current enters the electrolyte at the first matrix sites of the site's interface bonds, in
  proportion to their areas: row s of P holds those weights (each row sums to 1), and (Pφ)_s is the
  potential the site sees.
- Anode: each separator site next to the Li passes i_a = i0_a [exp(α_a f φ) − exp(−α_c f φ)] per unit
  area (plating positive) over its share A^a of the Li surface.
- Galvanostatic control: Σ_s A_s i_s = I.

Newton on (φ, V): with K = L + diag(A^a i_a') + Pᵀ diag(A_s g_s) P (symmetric positive definite), b =
Pᵀ(A g) and σ = Σ A_s g_s, the step is the bordered system

    K δφ − b δV = −R,   −bᵀ δφ + σ δV = −C,

(R the site balances, C = Σ A i − I), solved with two CG solves on K: x1 = K⁻¹R, x2 = K⁻¹b, δV = −(C +
bᵀx1)/(σ − bᵀx2), δφ = δV x2 − x1. K is preconditioned with a factorisation (or AMG) of K as it was
when last built, rebuilt when CG needs more than a few iterations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ..linalg import Preconditioner, pcg, preconditioner_kind, sparse_load, sparse_state
from .kinetics import EXP_CLIP

#: relative residual of the CG solves inside Newton
CG_RTOL = 1e-12
#: CG iterations above which the preconditioner is rebuilt from the current K
REFACTOR_AFTER = 12
#: largest change of the cell voltage in one Newton step (V)
MAX_VOLTAGE_STEP = 0.2
MAX_NEWTON = 60


def butler_volmer(i0, alpha_a: float, alpha_c: float, f: float, eta):
    """(i, di/dη): i0 [exp(α_a f η) − exp(−α_c f η)], exponents clipped at ±EXP_CLIP."""
    ea = np.exp(np.clip(alpha_a * f * eta, -EXP_CLIP, EXP_CLIP))
    ec = np.exp(np.clip(-alpha_c * f * eta, -EXP_CLIP, EXP_CLIP))
    return i0 * (ea - ec), i0 * f * (alpha_a * ea + alpha_c * ec)


def surface_current(psi, i0, resistance, alpha: float, f: float):
    """(i, di/dψ, η) of i = BV(ψ − R i) per site: safeguarded Newton on η, bracketed by 0 and ψ."""
    psi = np.asarray(psi, dtype=np.float64)
    lo, hi = np.minimum(psi, 0.0), np.maximum(psi, 0.0)
    eta = np.where(resistance > 0, 0.5 * (lo + hi), psi)
    for _ in range(200):
        i, di = butler_volmer(i0, alpha, alpha, f, eta)
        h = resistance * i + eta - psi  # increasing in η
        done = np.abs(h) <= 1e-14 * np.maximum(np.abs(psi), 1e-3)
        if done.all():
            break
        lo = np.where(h < 0, eta, lo)
        hi = np.where(h > 0, eta, hi)
        step = eta - h / (resistance * di + 1.0)
        eta = np.where(done, eta, np.where((step > lo) & (step < hi), step, 0.5 * (lo + hi)))
    i, di = butler_volmer(i0, alpha, alpha, f, eta)
    return i, di / (1.0 + resistance * di), eta


@dataclass(frozen=True)
class CellSolution:
    """The potential field of one solve and what it implies."""

    voltage: float  # V: the cell voltage (the electrons' potential against the Li)
    current: float  # A: Σ A_s i_s, the particle's current (positive on charge)
    anode_current: float  # A: Σ A^a i_a, the Li plating current (equal to the particle's at convergence)
    phi: np.ndarray  # (n_e,) V: the ionic potential on the electrolyte sites
    i: np.ndarray  # (n_s,) A m^-2: the current density of each surface site
    g: np.ndarray  # (n_s,) A m^-2 V^-1: di/dψ of each surface site
    eta: np.ndarray  # (n_s,) V: the kinetic overpotential
    drop: np.ndarray  # (n_s,) V: R_s i_s, the drop across the interfacial resistance
    newton: int
    cg: int


class IonicCell:
    """The Newton solve of the cell's potentials (module docstring) on a fixed set of sites.

    ``laplacian``: L (S) on the electrolyte unknowns; ``surface_area``: A_s (m²); ``spread``: P (n_s × n_e);
    ``anode_area``: A^a (m²) per electrolyte unknown; ``anode_i0``: the anode's exchange current density
    (A m⁻²); ``alpha``: the transfer coefficients (α_a = α_c) of both electrodes; ``f`` = F/(RT).
    """

    def __init__(self, laplacian: sparse.spmatrix, surface_area: np.ndarray, spread: sparse.spmatrix,
                 anode_area: np.ndarray, anode_i0: float, alpha: float, f: float, tolerance: float,
                 preconditioner: str = "auto"):
        self.L = sparse.csr_matrix(laplacian)
        self.area = np.asarray(surface_area, dtype=np.float64)
        self.P = sparse.csr_matrix(spread)
        self.anode_area = np.asarray(anode_area, dtype=np.float64)
        if not (self.anode_area > 0).any():
            raise ValueError("the electrolyte does not touch the anode")
        self.anode_i0, self.alpha, self.f, self.tol = float(anode_i0), float(alpha), float(f), float(tolerance)
        self.preconditioner = preconditioner
        self.n = self.L.shape[0]
        self._factor = None
        self._factor_matrix = None
        self.stats = dict(factorisations=0)

    def _residual(self, phi, voltage, U, i0, resistance, current):
        i, g, eta = surface_current(voltage - self.P @ phi - U, i0, resistance, self.alpha, self.f)
        ia, ga = butler_volmer(self.anode_i0, self.alpha, self.alpha, self.f, phi)
        R = self.L @ phi + self.anode_area * ia - self.P.T @ (self.area * i)
        C = float((self.area * i).sum()) - current
        return R, C, i, g, eta, ia, ga

    def solve(self, current: float, U: np.ndarray, i0: np.ndarray, resistance: np.ndarray, voltage: float,
              phi: np.ndarray) -> CellSolution:
        """The potentials that pass ``current`` (A, positive on charge) from a start (``voltage``, ``phi``)."""
        phi = np.array(phi, dtype=np.float64)
        scale = max(abs(current), float((self.area * i0).sum()) * 1e-6, 1e-300)
        cg_total = 0
        for it in range(1, MAX_NEWTON + 1):
            R, C, i, g, eta, ia, ga = self._residual(phi, voltage, U, i0, resistance, current)
            if max(np.abs(R).sum(), abs(C)) <= self.tol * scale:
                break
            ag = self.area * g
            K = (self.L + sparse.diags(self.anode_area * ga) + self.P.T @ sparse.diags(ag) @ self.P).tocsr()
            b = self.P.T @ ag
            if self._factor is None:
                self._factorise(K)
            x1, n1 = pcg(K, self._factor.solve, R, CG_RTOL, 1000)
            x2, n2 = pcg(K, self._factor.solve, b, CG_RTOL, 1000)
            cg_total += n1 + n2
            if max(n1, n2) > REFACTOR_AFTER:
                self._factorise(K)
            denom = float(ag.sum()) - float(b @ x2)
            dV = -(C + float(b @ x1)) / denom if denom > 0 else 0.0
            scale_step = min(1.0, MAX_VOLTAGE_STEP / abs(dV)) if dV != 0 else 1.0
            voltage += scale_step * dV
            phi += scale_step * (dV * x2 - x1)
        else:
            raise FloatingPointError(f"cell potential solve: no convergence in {MAX_NEWTON} Newton steps "
                                     f"(current residual {C:.3g} A)")
        return CellSolution(float(voltage), float((self.area * i).sum()), float((self.anode_area * ia).sum()),
                            phi, i, g, eta, resistance * i, it, cg_total)

    def _factorise(self, K: sparse.csr_matrix) -> None:
        self._factor = Preconditioner(K, preconditioner_kind(self.preconditioner, self.n))
        self._factor_matrix = K
        self.stats["factorisations"] += 1

    def state(self, prefix: str) -> dict[str, np.ndarray]:
        """The matrix the preconditioner was built from: a resumed run rebuilds the same one."""
        return sparse_state(self._factor_matrix, prefix + "factor.")

    def load(self, arrays: dict[str, np.ndarray], prefix: str) -> None:
        K = sparse_load(arrays, prefix + "factor.")
        self._factor = None
        if K is not None:
            self._factorise(K.tocsr())
            self.stats["factorisations"] -= 1  # rebuilt, not a new one
