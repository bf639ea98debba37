"""A regular lattice stored as one flat array with a void halo.

Sites of an ``n_0 × n_1 (× n_2)`` lattice with spacing Δx sit at ``x = origin + (index + ½)Δx``
(cell centres, so a body [0, L] holds exactly L/Δx sites per axis). The arrays the kernels see
are padded by ``halo`` void sites on every side and flattened in C order, so the neighbour of
site i through stencil offset k is simply ``i + linear_offset[k]``: no bounds checks, no
neighbour list, and one code path for 2D and 3D.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from .stencil import Stencil


@dataclass(frozen=True)
class Lattice:
    """Shape, spacing and flat-index bookkeeping of a padded regular lattice."""

    shape: tuple[int, ...]  # interior sites per axis
    dx: float  # m
    halo: int
    origin: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if len(self.shape) not in (2, 3) or min(self.shape) < 1:
            raise ValueError("lattice shape must have 2 or 3 positive entries")
        if not self.origin:
            object.__setattr__(self, "origin", (0.0,) * len(self.shape))

    @property
    def dim(self) -> int:
        return len(self.shape)

    @property
    def padded_shape(self) -> tuple[int, ...]:
        return tuple(n + 2 * self.halo for n in self.shape)

    @property
    def n_padded(self) -> int:
        return int(np.prod(self.padded_shape))

    @property
    def n_sites(self) -> int:
        return int(np.prod(self.shape))

    def strides(self) -> np.ndarray:
        ps = self.padded_shape
        return np.array([int(np.prod(ps[a + 1 :])) for a in range(self.dim)], dtype=np.int64)

    def linear_offsets(self, stencil: Stencil) -> np.ndarray:
        if stencil.reach > self.halo:
            raise ValueError("halo narrower than the stencil")
        return (stencil.offsets.astype(np.int64) @ self.strides()).astype(np.int32)

    def interior_index(self) -> np.ndarray:
        """Flat padded index of every interior site, in C order of the interior grid."""
        axes = [np.arange(n) + self.halo for n in self.shape]
        grids = np.meshgrid(*axes, indexing="ij")
        return sum(g.ravel().astype(np.int64) * s for g, s in zip(grids, self.strides()))

    def positions(self) -> np.ndarray:
        """Reference coordinates (n_sites, dim) of the interior sites, in metres."""
        axes = [self.origin[a] + (np.arange(n) + 0.5) * self.dx for a, n in enumerate(self.shape)]
        grids = np.meshgrid(*axes, indexing="ij")
        return np.stack([g.ravel() for g in grids], axis=1)

    def scatter(self, values: np.ndarray, fill=0) -> np.ndarray:
        """Interior values (n_sites, ...) → padded flat array with ``fill`` in the halo."""
        out = np.full((self.n_padded,) + values.shape[1:], fill, dtype=values.dtype)
        out[self.interior_index()] = values
        return out

    def gather(self, padded: np.ndarray) -> np.ndarray:
        """Padded flat array → interior values (n_sites, ...)."""
        return padded[self.interior_index()]

    def ball_mean(self, values: np.ndarray, mask: np.ndarray, radius: float) -> np.ndarray:
        """Per interior site, the mean of ``values`` over the sites of ``mask`` whose centres lie within
        ``radius`` (m) of it, the site itself included; NaN where that ball holds no site of ``mask``.

        The sum over the ball is a convolution of the lattice with the ball's indicator (FFT: its cost
        does not grow with the radius in sites)."""
        r = radius / self.dx
        reach = int(np.floor(r + 1e-9))
        offs = np.arange(-reach, reach + 1)
        d2 = sum(g.astype(np.float64) ** 2 for g in np.meshgrid(*(offs,) * self.dim, indexing="ij"))
        ball = (d2 <= r * r + 1e-9).astype(np.float64)
        inside = mask.reshape(self.shape).astype(np.float64)
        total = signal.fftconvolve(np.where(mask, values, 0.0).reshape(self.shape), ball, mode="same")
        count = np.rint(signal.fftconvolve(inside, ball, mode="same"))  # whole numbers, up to FFT round-off
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / count, np.nan).ravel()
