"""Closed forms for diffusion into a sphere and a long cylinder (J. Crank, The Mathematics of Diffusion,
2nd ed., Oxford 1975, chs. 5–6), in the dimensionless time τ = D t / a², a the radius.

Uptake from a medium at concentration C_∞ into a body initially at 0, as M_t/M_∞:
- constant surface concentration: sphere eq. 6.20, cylinder eq. 5.23;
- surface resistance ("evaporation"), flux k (C_∞ − C_s), L = a k / D: sphere §6.3.3, cylinder §5.3.2.
Constant influx F at the surface, the centre concentration C(0, t)·D/(F a): sphere and cylinder, by
separation of variables (quasi-steady parabola plus decaying modes, ch. 5–6).

The series are summed to enough terms that their truncation is far below the lattice errors they are
compared with (the exponentials of the dropped terms are below e⁻⁴⁰ for τ ≥ 0.02).

:func:`lattice_ball` builds the lattice side of the comparison once, for the tests and for
tools/cathode_report.py.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq
from scipy.special import j0, j1, jn_zeros

from ..lattice.grid import Lattice
from ..lattice.stencil import Stencil
from .intercalation import Intercalation, surface_areas


def _roots(f, n: int, step: float = 1e-3) -> np.ndarray:
    """The first n positive roots of a continuous f (sign changes on a fine grid, refined by Brent)."""
    x = np.arange(step, 8.0 * n + 10.0, step)
    fx = f(x)
    idx = np.nonzero(np.sign(fx[:-1]) != np.sign(fx[1:]))[0]
    return np.array([brentq(f, x[i], x[i + 1]) for i in idx][:n])


def uptake_sphere_constant(tau, n: int = 400) -> np.ndarray:
    """Crank eq. 6.20: M_t/M_∞ = 1 − (6/π²) Σ e^{−n²π²τ}/n²."""
    tau = np.atleast_1d(np.asarray(tau, dtype=np.float64))
    k = np.arange(1, n + 1)
    return 1.0 - 6.0 / np.pi**2 * np.sum(np.exp(-np.outer(tau, k**2 * np.pi**2)) / k**2, axis=1)


def uptake_sphere_resistance(tau, L: float, n: int = 80) -> np.ndarray:
    """Crank §6.3.3: M_t/M_∞ = 1 − Σ 6L² e^{−β²τ} / (β² (β² + L(L − 1))), β cot β = 1 − L."""
    tau = np.atleast_1d(np.asarray(tau, dtype=np.float64))
    b = _roots(lambda x: x * np.cos(x) - (1.0 - L) * np.sin(x), n)
    return 1.0 - np.sum(6 * L**2 * np.exp(-np.outer(tau, b**2)) / (b**2 * (b**2 + L * (L - 1))), axis=1)


def uptake_cylinder_constant(tau, n: int = 400) -> np.ndarray:
    """Crank eq. 5.23: M_t/M_∞ = 1 − Σ (4/α_n²) e^{−α_n²τ}, J0(α_n) = 0."""
    tau = np.atleast_1d(np.asarray(tau, dtype=np.float64))
    a = jn_zeros(0, n)
    return 1.0 - np.sum(4.0 / a**2 * np.exp(-np.outer(tau, a**2)), axis=1)


def uptake_cylinder_resistance(tau, L: float, n: int = 80) -> np.ndarray:
    """Crank §5.3.2: M_t/M_∞ = 1 − Σ 4L² e^{−β²τ} / (β² (β² + L²)), β J1(β) = L J0(β)."""
    tau = np.atleast_1d(np.asarray(tau, dtype=np.float64))
    b = _roots(lambda x: x * j1(x) - L * j0(x), n)
    return 1.0 - np.sum(4 * L**2 * np.exp(-np.outer(tau, b**2)) / (b**2 * (b**2 + L**2)), axis=1)


def centre_sphere_constant_flux(tau, n: int = 600) -> np.ndarray:
    """C(0,t)·D/(F a) = 3τ − 3/10 − 2 Σ e^{−λ²τ} / (λ sin λ), tan λ = λ (λ > 0)."""
    tau = np.atleast_1d(np.asarray(tau, dtype=np.float64))
    lam = np.array([brentq(lambda x: np.tan(x) - x, k * np.pi + 1e-9, k * np.pi + np.pi / 2 - 1e-9)
                    for k in range(1, n + 1)])
    return 3 * tau - 0.3 - 2 * np.sum(np.exp(-np.outer(tau, lam**2)) / (lam * np.sin(lam)), axis=1)


def centre_cylinder_constant_flux(tau, n: int = 600) -> np.ndarray:
    """C(0,t)·D/(F a) = 2τ − 1/4 − 2 Σ e^{−λ²τ} / (λ² J0(λ)), J1(λ) = 0 (λ > 0)."""
    tau = np.atleast_1d(np.asarray(tau, dtype=np.float64))
    lam = jn_zeros(1, n)
    return 2 * tau - 0.25 - 2 * np.sum(np.exp(-np.outer(tau, lam**2)) / (lam**2 * j0(lam)), axis=1)


def lattice_ball(dim: int, radius_sites: float, m: float = 3.0, tensor: np.ndarray | None = None,
                 dx: float = 1e-7, thickness: float = 1e-6, diffusivity: float = 1e-14):
    """A sphere (3D) or disc (2D, of ``thickness``) of active material centred on a site, matrix around it.

    Returns (Intercalation, a, A, centre): a the radius of the lattice body's own volume, A the exact area of
    that sphere (4πa²) or disc side (2πa·h), centre the flat index of the centre site. ``tensor`` defaults to
    ``diffusivity``·I.
    """
    n = 2 * int(np.ceil(radius_sites)) + 5
    lattice = Lattice((n,) * dim, dx, 0, origin=(-(n / 2) * dx,) * dim)
    r = np.linalg.norm(lattice.positions(), axis=1)
    active = r < radius_sites * dx
    st = Stencil(dim, m)
    h = thickness if dim == 2 else None
    area = surface_areas(lattice, st, active, ~active, h)
    t = np.array([diffusivity * np.eye(dim) if tensor is None else tensor])
    ic = Intercalation(lattice, st, active, np.zeros(lattice.n_sites, int), t, area, thickness=h)
    if dim == 3:
        a = (3 * ic.n * dx**3 / (4 * np.pi)) ** (1 / 3)
        exact_area = 4 * np.pi * a**2
    else:
        a = np.sqrt(ic.n * dx**2 / np.pi)
        exact_area = 2 * np.pi * a * thickness
    return ic, float(a), float(exact_area), int(np.argmin(r))
