"""The fixed neighbour stencil of a regular lattice.

On a regular lattice every site sees the same set of integer offsets within the horizon
δ = m·Δx, so no neighbour list is stored: a bond is (site, offset index) and its state is one
bit. Each offset carries its partial-volume weight β: the fraction of the neighbour's cell that
lies inside the horizon sphere, approximated linearly across the cell (the usual PD correction,
e.g. Seleson, Comput. Methods Appl. Mech. Eng. 282 (2014)). ``partial_volume="none"`` keeps only
offsets with |ξ| ≤ δ at full weight, which is the neighbour set of LAMMPS peri/pmb.

Isotropy. A square or cubic stencil has a cubic elastic tensor: its fourth moment
Σ_k w_k n_x⁴ differs from 3 Σ_k w_k n_x² n_y², which is what isotropy requires (m = 3 in 2D:
uniaxial-stress modulus 2.4 % stiff along an axis). With ``isotropic=True`` every weight is
multiplied by (1 + a·h(n)), h the cubic harmonic Σ_a n_a⁴ − ⟨Σ_a n_a⁴⟩ (3/4 in 2D, 3/5 in 3D),
and a is solved from one linear equation so the discrete fourth moment is exactly isotropic.
The factors stay within ±7 % for m ≥ 2 in 2D (±4 % at m = 3 in 3D). β below is the product of
the partial-volume weight and this factor: the quadrature weight of the offset.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Stencil:
    """Integer lattice offsets within the horizon, with |ξ|/Δx and partial-volume weights."""

    dim: int
    horizon_factor: float
    partial_volume: str = "linear"
    isotropic: bool = True
    offsets: np.ndarray = field(init=False, repr=False)  # (K, dim) int32
    length: np.ndarray = field(init=False, repr=False)  # (K,) |ξ| in units of Δx
    beta: np.ndarray = field(init=False, repr=False)  # (K,) partial-volume weight in (0, 1]

    def __post_init__(self) -> None:
        if self.dim not in (2, 3):
            raise ValueError("dim must be 2 or 3")
        if self.partial_volume not in ("linear", "none"):
            raise ValueError("partial_volume must be 'linear' or 'none'")
        m = float(self.horizon_factor)
        reach = m + 0.5 if self.partial_volume == "linear" else m
        r = int(np.floor(reach))
        offs = np.array(
            [o for o in itertools.product(range(-r, r + 1), repeat=self.dim) if any(o)], dtype=np.int32
        )
        length = np.sqrt((offs.astype(np.float64) ** 2).sum(axis=1))
        if self.partial_volume == "linear":
            beta = np.clip(m + 0.5 - length, 0.0, 1.0)
        else:
            beta = np.where(length <= m * (1 + 1e-12), 1.0, 0.0)
        keep = beta > 1e-12
        if self.isotropic:
            beta = np.where(keep, beta, 0.0) * _isotropy_factor(offs, length, beta, self.dim)
        # a deterministic order: by length, then lexicographic, so bit k means the same everywhere
        order = np.lexsort(tuple(offs[keep].T[::-1]) + (length[keep],))
        object.__setattr__(self, "offsets", offs[keep][order])
        object.__setattr__(self, "length", length[keep][order])
        object.__setattr__(self, "beta", beta[keep][order])

    @property
    def size(self) -> int:
        return int(self.offsets.shape[0])

    @property
    def words(self) -> int:
        """Number of 32-bit words that hold one site's bond bits."""
        return (self.size + 31) // 32

    @property
    def reach(self) -> int:
        """Largest |offset component|: the width of the void halo the lattice needs."""
        return int(np.abs(self.offsets).max())

    def opposite(self) -> np.ndarray:
        """Index of -offset for every offset (the same bond seen from the other end)."""
        lookup = {tuple(o): k for k, o in enumerate(self.offsets)}
        return np.array([lookup[tuple(-o)] for o in self.offsets], dtype=np.int32)


def _isotropy_factor(offs: np.ndarray, length: np.ndarray, beta: np.ndarray, dim: int) -> np.ndarray:
    """1 + a·h(n) with a chosen so that Σ w (n_x⁴ − 3 n_x² n_y²) = 0 for w = β|ξ|(1 + a h)."""
    n = offs / np.where(length > 0, length, 1.0)[:, None]
    h = (n**4).sum(axis=1) - (0.75 if dim == 2 else 0.6)
    g = n[:, 0] ** 4 - 3.0 * n[:, 0] ** 2 * n[:, 1] ** 2
    w = beta * length
    a = -(w * g).sum() / (w * h * g).sum()
    return 1.0 + a * h
