"""Bond laws with a strength and a toughness: brittle, exponential and bilinear softening.

A bond's force density is f = (1 − d)·c·s (s its stretch, c its micromodulus), with d ∈ [0, 1]
its damage. The damage follows the bond's history κ = max over time of s, so unloading goes down
the secant to the origin and damage never heals; at d = 1 the bond is broken (its bit is
cleared: it carries no force and no current, and Li may enter there). On the loading branch:

- ``brittle`` (today's prototype microelastic brittle bond): f = c·s up to s0, then 0;
- ``exponential`` (seed 000 eq. 9 carried over to bonds): f = c·s up to s0, then
  f = c·s0·exp(−(s − s0)/s_d), cut to 0 where it has fallen to TAIL_CUT of its peak
  (s_b = s0 + s_d ln(1/TAIL_CUT));
- ``bilinear`` (the common cohesive-zone law): f = c·s up to s0, then linear to 0 at s_f.

Calibration (lattice-exact, as the brittle critical stretch in fracture.py):

- the *toughness* sets the tail. Separating a plane of bonds makes every bond crossing it go
  through its whole law, so it costs G = c·S·W, with S the crossing sum of fracture.py and
  W = ∫ f/c ds the work per unit micromodulus: s0²/2 (brittle), s0²/2 + s0·s_d·(1 − TAIL_CUT)
  (exponential), s0·s_f/2 (bilinear). Given G_c, W = G_c/(c S) fixes s_d or s_f;
- the *strength* σ0 sets s0: σ0 is the peak of the uniaxial-stress response of the lattice
  under homogeneous strain (the virial stress of a bulk site, every stencil offset with its own
  stretch, damage and weight; lateral stress zero), which is what the peak stress of a
  defect-free bar is (it stays homogeneous up to its peak). :func:`strength_stretch` finds the s0
  for which that peak equals σ0, the tail following from G_c at every trial s0.

A law with a strength needs W ≥ s0²/2, i.e. a toughness at least what a brittle bond that
reaches σ0 stores at this horizon: otherwise the bond would break before it reaches its strength,
and the law is refused (:class:`LawError`). With both values fixed the horizon is a material
length: refining Δx at fixed δ leaves σ0 and G_c where they are (m-convergence).

Damage is stored per directed bond as a 16-bit integer q = ⌊d·DAMAGE_LEVELS⌋ (each end keeps its
own copy and updates it from bitwise-identical arithmetic, as the bond bits are kept). Rounding
down keeps the stored damage on or below the law's curve, so committing a state does not change
its forces.
"""

import functools
import math
from dataclasses import dataclass

import numpy as np
import taichi as ti

BRITTLE, EXPONENTIAL, BILINEAR = 0, 1, 2
LAW_IDS = {"brittle": BRITTLE, "exponential": EXPONENTIAL, "bilinear": BILINEAR}
LAW_NAMES = {v: k for k, v in LAW_IDS.items()}
#: the exponential tail is cut where its force has fallen to this fraction of the peak
TAIL_CUT = 1e-3
#: damage is kept per directed bond as q / DAMAGE_LEVELS, q a 16-bit integer
DAMAGE_LEVELS = 65535


class LawError(ValueError):
    """A strength and a toughness that no bond law of this kind can have at this horizon."""


@dataclass(frozen=True)
class BondLaw:
    """One pair's law in stretch units: linear to s0, tail parameter s1 (s_d or s_f), broken at s_b."""

    law: int
    s0: float
    s1: float = 0.0
    s_b: float = 0.0

    @property
    def softening(self) -> bool:
        return self.law != BRITTLE

    def as_row(self) -> tuple[float, float, float, float]:
        """[law, s0, s1, s_b]: the row of the pair table the kernels read."""
        return (float(self.law), self.s0, self.s1, self.s_b)


def brittle(s0: float) -> BondLaw:
    return BondLaw(BRITTLE, s0, s0, s0)


def work_per_c(law: BondLaw) -> float:
    """W = ∫ f/c ds over the whole law: the energy a bond takes to break, per unit c·|ξ|·(βV²)."""
    if law.law == EXPONENTIAL:
        return 0.5 * law.s0**2 + law.s0 * law.s1 * (1.0 - TAIL_CUT)
    if law.law == BILINEAR:
        return 0.5 * law.s0 * law.s1
    return 0.5 * law.s0**2


def with_tail(kind: int, s0: float, work: float) -> BondLaw:
    """The law of kind ``kind`` with linear branch to s0 whose total work per unit c is ``work``."""
    if kind == BRITTLE:
        return brittle(s0)
    if not work > 0.5 * s0 * s0:
        raise LawError(f"a softening bond linear to s0 = {s0:.4g} stores {0.5 * s0 * s0:.4g} before softening, "
                       f"more than the {work:.4g} the toughness allows")
    if kind == EXPONENTIAL:
        sd = (work - 0.5 * s0 * s0) / (s0 * (1.0 - TAIL_CUT))
        return BondLaw(EXPONENTIAL, s0, sd, s0 + sd * math.log(1.0 / TAIL_CUT))
    if kind == BILINEAR:
        sf = 2.0 * work / s0
        return BondLaw(BILINEAR, s0, sf, sf)
    raise ValueError(f"unknown bond law {kind}")


def damage_np(law: BondLaw, s: np.ndarray) -> np.ndarray:
    """d(s) on the loading branch (NumPy, vectorised over s)."""
    s = np.asarray(s, dtype=np.float64)
    if law.law == BRITTLE:
        return np.where(s > law.s0, 1.0, 0.0) if law.s0 > 0 else np.zeros_like(s)
    safe = np.maximum(s, law.s0)
    if law.law == EXPONENTIAL:
        d = 1.0 - law.s0 * np.exp(-(safe - law.s0) / law.s1) / safe
    else:
        d = 1.0 - law.s0 * (law.s1 - safe) / ((law.s1 - law.s0) * safe)
    return np.where(s <= law.s0, 0.0, np.where(s >= law.s_b, 1.0, d))


def damage_rows(rows: np.ndarray, s: np.ndarray) -> np.ndarray:
    """d(s) on the loading branch for bonds with their own law rows [law, s0, s1, s_b] (NumPy, (n, 4) and (n,))."""
    s = np.asarray(s, dtype=np.float64)
    law, s0, s1, sb = (rows[:, c] for c in range(4))
    safe = np.maximum(s, np.where(s0 > 0, s0, 1.0))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        expo = 1.0 - s0 * np.exp(-(safe - s0) / np.where(law == EXPONENTIAL, s1, 1.0)) / safe
        lin = 1.0 - s0 * (s1 - safe) / (np.where(law == BILINEAR, s1 - s0, 1.0) * safe)
    d = np.where(law == EXPONENTIAL, expo, np.where(law == BILINEAR, lin, 1.0))
    d = np.where(s >= sb, 1.0, d)
    return np.where((s <= s0) | (s0 <= 0), 0.0, d)


def softening_slope(rows: np.ndarray, s: np.ndarray) -> np.ndarray:
    """d(f/c)/ds on the softening branch, for bonds with their own law rows (NumPy): −s0/s_d·exp(−(s − s0)/s_d)
    (exponential), −s0/(s_f − s0) (bilinear), 0 for brittle rows."""
    law, s0, s1 = rows[:, 0], rows[:, 1], rows[:, 2]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        expo = -s0 / s1 * np.exp(-(s - s0) / s1)
        lin = -s0 / (s1 - s0)
    return np.where(law == EXPONENTIAL, expo, np.where(law == BILINEAR, lin, 0.0))


def force_per_c(law: BondLaw, s: np.ndarray, kappa: np.ndarray | None = None) -> np.ndarray:
    """f/c at stretch s with history κ (default: on the loading branch, κ = s)."""
    s = np.asarray(s, dtype=np.float64)
    k = s if kappa is None else np.maximum(np.asarray(kappa, dtype=np.float64), s)
    return (1.0 - damage_np(law, k)) * s


def dissipated_per_c(law: BondLaw, kappa: np.ndarray) -> np.ndarray:
    """Energy dissipated by a bond loaded to κ and unloaded to rest, per unit c (NumPy):
    W(κ) − ½(1 − d(κ))κ², the work of the loading branch less what the secant gives back."""
    k = np.asarray(kappa, dtype=np.float64)
    s0, s1 = law.s0, law.s1
    if law.law == BRITTLE:
        return np.where(k > s0, 0.5 * s0 * s0, 0.0) if s0 > 0 else np.zeros_like(k)
    kk = np.clip(k, s0, law.s_b)
    if law.law == EXPONENTIAL:
        w = 0.5 * s0 * s0 + s0 * s1 * (1.0 - np.exp(-(kk - s0) / s1))
    else:
        w = 0.5 * s0 * s0 + s0 / (s1 - s0) * (s1 * (kk - s0) - 0.5 * (kk * kk - s0 * s0))
    out = w - 0.5 * (1.0 - damage_np(law, kk)) * kk * kk
    return np.where(k <= s0, 0.0, np.where(k >= law.s_b, work_per_c(law), out))


# ---------------------------------------------------------------- kernels' view of a law
@ti.func
def damage_of(row, s):
    """d(s) on the loading branch of the law in ``row`` = [law, s0, s1, s_b] (the pair table's row)."""
    d = 0.0
    law = ti.cast(row[0], ti.i32)
    s0 = row[1]
    if s > s0:
        d = 1.0
        if law != BRITTLE and s < row[3]:
            if law == EXPONENTIAL:
                d = 1.0 - s0 * ti.exp(-(s - s0) / row[2]) / s
            else:
                d = 1.0 - s0 * (row[2] - s) / ((row[2] - s0) * s)
    return d


@ti.func
def stored_damage(hist: ti.template(), i, k):
    return ti.cast(hist[i, k], float) * (1.0 / DAMAGE_LEVELS)


@ti.func
def trial_damage(row, d_old, s):
    """The damage a bond with stored damage d_old has at stretch s: max(d_old, d(s))."""
    return ti.max(d_old, damage_of(row, s))


@ti.func
def quantise(d):
    """The 16-bit code of damage d (rounded down; ≥ 1 saturates)."""
    q = DAMAGE_LEVELS
    if d < 1.0:
        q = ti.cast(ti.floor(d * DAMAGE_LEVELS), ti.i32)
    return ti.cast(q, ti.u16)


@ti.func
def kappa_of(row, d):
    """The history stretch κ whose damage is d (inverse of :func:`damage_of` on its softening branch)."""
    law = ti.cast(row[0], ti.i32)
    s0, s1 = row[1], row[2]
    k = s0
    if d > 0.0:
        if law == BILINEAR:
            k = s0 * s1 / ((1.0 - d) * (s1 - s0) + s0)
        elif d < 1.0:  # exponential: ln((1 − d) κ / s0) + (κ − s0)/s_d = 0, increasing and concave in κ,
            # so Newton from κ = s0 (left of the root) climbs to it monotonically
            k = s0
            for _ in range(60):
                h = ti.log((1.0 - d) * k / s0) + (k - s0) / s1
                k -= h / (1.0 / k + 1.0 / s1)
        else:
            k = row[3]
    return k


@ti.func
def dissipated_of(row, k):
    """Energy per unit c dissipated by a softening bond with history κ (:func:`dissipated_per_c`)."""
    law = ti.cast(row[0], ti.i32)
    s0, s1, sb = row[1], row[2], row[3]
    out = 0.0
    if k > s0:
        kk = ti.min(k, sb)
        w = 0.0
        if law == EXPONENTIAL:
            w = 0.5 * s0 * s0 + s0 * s1 * (1.0 - ti.exp(-(kk - s0) / s1))
        else:
            w = 0.5 * s0 * s0 + s0 / (s1 - s0) * (s1 * (kk - s0) - 0.5 * (kk * kk - s0 * s0))
        out = w - 0.5 * (1.0 - damage_of(row, kk)) * kk * kk
        if k >= sb:
            out = w
    return out


# ---------------------------------------------------------------- strength: the homogeneous uniaxial response
def _uniaxial_state(stencil, setting: str):
    """Direction cosines n (K, d) and weights β|ξ| (in Δx) of the offsets, for the uniaxial response."""
    n = stencil.offsets / stencil.length[:, None]
    return n, stencil.beta * stencil.length


def _slope_per_c(law: BondLaw, s: np.ndarray, kappa: np.ndarray) -> np.ndarray:
    """d(f/c)/ds at stretch s with history κ: the secant below κ, the loading branch's slope above it."""
    k = np.maximum(kappa, s)
    d = damage_np(law, k)
    slope = 1.0 - d
    loading = (s >= kappa) & (s > law.s0) & (s < law.s_b)
    if law.law == EXPONENTIAL:
        with np.errstate(over="ignore"):
            branch = -law.s0 * np.exp(-(s - law.s0) / law.s1) / law.s1
    elif law.law == BILINEAR:
        branch = np.full_like(s, -law.s0 / (law.s1 - law.s0))
    else:
        branch = np.zeros_like(s)
    return np.where(loading, branch, slope)


def uniaxial_response(law: BondLaw, stencil, c: float, volume: float, dx: float, strains: np.ndarray) -> np.ndarray:
    """σ_xx (Pa) of a bulk site under homogeneous uniaxial stress, loaded monotonically through ``strains``.

    Strain E = diag(ε, ε_l, ε_l); ε_l solves σ_yy = 0 (and σ_zz = 0 by symmetry in 3D), by Newton's
    method from the previous strain's ratio ε_l/ε, bracketed. A bond of direction n stretches s = nᵀEn;
    its force is (1 − d(κ))·c·s with κ its largest stretch so far; the virial stress
    σ = ½ Σ_k c (1 − d_k) s_k β_k |ξ_k| V n_k n_kᵀ.
    """
    n, w = _uniaxial_state(stencil, "")
    nx2 = n[:, 0] ** 2
    rest2 = 1.0 - nx2
    wy = w * n[:, 1] ** 2
    scale = 0.5 * c * volume * dx
    kappa = np.zeros(len(w))
    out = np.empty(len(strains))
    ratio = -0.25
    for j, eps in enumerate(strains):
        def syy(e_l):
            return float((wy * force_per_c(law, nx2 * eps + rest2 * e_l, kappa)).sum())

        lo, hi = -abs(eps), abs(eps)
        while syy(lo) > 0:
            lo *= 2.0
        while syy(hi) < 0:
            hi *= 2.0
        el = min(max(ratio * eps, lo), hi)
        for _ in range(60):
            s = nx2 * eps + rest2 * el
            f = float((wy * force_per_c(law, s, kappa)).sum())
            if abs(f) <= 1e-13 * float((wy * np.abs(force_per_c(law, s, kappa))).sum()) + 1e-300:
                break
            if f > 0:
                hi = el
            else:
                lo = el
            df = float((wy * rest2 * _slope_per_c(law, s, kappa)).sum())
            step = el - f / df if df > 0 else 0.5 * (lo + hi)
            el = step if lo < step < hi else 0.5 * (lo + hi)
        ratio = el / eps
        s = nx2 * eps + rest2 * el
        kappa = np.maximum(kappa, s)
        out[j] = scale * float((w * force_per_c(law, s, kappa) * nx2).sum())
    return out


def uniaxial_peak(law: BondLaw, stencil, c: float, volume: float, dx: float) -> float:
    """The peak σ_xx (Pa) of :func:`uniaxial_response`, traced to the law's breaking stretch."""
    top = 1.5 * max(law.s_b, law.s0)
    strains = np.geomspace(0.5 * law.s0, top, 300)
    sig = uniaxial_response(law, stencil, c, volume, dx, strains)
    j = int(np.argmax(sig))
    if 0 < j < len(sig) - 1:  # refine around the peak of the coarse trace (history reset: monotone path)
        fine = np.concatenate([strains[:j - 1], np.linspace(strains[j - 1], strains[j + 1], 101)])
        return float(uniaxial_response(law, stencil, c, volume, dx, fine).max())
    return float(sig[j])


def strength_stretch(kind: int, strength: float, work: float, stencil, c: float, volume: float,
                     dx: float) -> BondLaw:
    """The law of kind ``kind`` whose uniaxial peak is ``strength`` (Pa) and whose work per c is ``work``."""
    scale = c * volume * dx  # the response is linear in c V Δx: solve it once per stencil, in those units
    s0 = _strength_stretch(kind, strength / scale, work, stencil.dim, float(stencil.horizon_factor),
                           stencil.partial_volume, stencil.isotropic)
    return with_tail(kind, s0, work)


@functools.lru_cache(maxsize=256)
def _strength_stretch(kind: int, strength: float, work: float, dim: int, m: float, partial_volume: str,
                      isotropic: bool) -> float:
    from scipy import optimize

    from ..lattice.stencil import Stencil

    stencil = Stencil(dim, m, partial_volume, isotropic)
    s_max = math.sqrt(2.0 * work) * (1.0 - 1e-9)  # above it the tail would need negative work

    def peak(s0):
        return uniaxial_peak(with_tail(kind, s0, work), stencil, 1.0, 1.0, 1.0)

    top = peak(s_max)
    if strength >= top:
        raise LawError(f"the strength needs more toughness at this horizon: with this fracture energy a bond "
                       f"breaks at {top / strength:.3g} of the strength (raise fracture_energy, lower the strength, "
                       "or shorten the horizon)")
    lo = s_max * 1e-6
    if strength <= peak(lo):
        raise LawError("the strength is below what this law can represent")
    return optimize.brentq(lambda s: peak(s) - strength, lo, s_max, rtol=1e-10, maxiter=200)
