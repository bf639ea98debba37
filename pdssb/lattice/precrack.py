"""Pre-cracks: surfaces declared in a scene that cut bonds without removing material.

A pre-crack is a segment (2D) or a planar polygon (3D). It cuts every bond whose segment crosses
it, as peridynamic codes pose an initial crack: the sites stay, only the bonds across the surface
are gone. Coordinates are SI metres.

When is a bond cut? Its two ends lie on opposite sides of the crack's line or plane, and the
point where it crosses lies inside the crack. Two tie rules make the answer exact on a lattice:

- a site lying on the plane counts as being on its positive side (half-open sides), so a crack
  through a row of sites still separates the body: that row's bonds to the negative side are cut,
  and a bond lying in the plane is not;
- the crossing point must lie inside the crack by more than ``TOL`` lattice spacings: a bond that
  only touches the crack's tip or edge is not cut (as a bond touching a void cell's corner is not,
  lattice/sight.py).

Each bond is decided once, from the end whose offset has a positive flat index, and both ends'
bits are cleared from that one answer, so the cut is symmetric whatever the rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .grid import Lattice
from .stencil import Stencil

#: in lattice spacings: how far inside the crack a crossing must be, and how far off the plane a
#: site must be to count as off it
TOL = 1e-9


@dataclass(frozen=True)
class CrackSegment:
    """A 2D pre-crack from ``a`` to ``b`` (m)."""

    a: tuple[float, float]
    b: tuple[float, float]

    @property
    def dim(self) -> int:
        return 2

    def points(self) -> np.ndarray:
        return np.array([self.a, self.b], float)


@dataclass(frozen=True)
class CrackPolygon:
    """A 3D pre-crack: a planar polygon with ``vertices`` (m), either orientation, convex or not."""

    vertices: tuple[tuple[float, float, float], ...]

    @property
    def dim(self) -> int:
        return 3

    def points(self) -> np.ndarray:
        return np.array(self.vertices, float)


def plane_of(v: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(centroid, unit normal, largest distance of a vertex from that plane) of a polygon (Newell's normal)."""
    c = v.mean(axis=0)
    nxt = np.roll(v, -1, axis=0)
    n = np.array([((v[:, 1] - nxt[:, 1]) * (v[:, 2] + nxt[:, 2])).sum(),
                  ((v[:, 2] - nxt[:, 2]) * (v[:, 0] + nxt[:, 0])).sum(),
                  ((v[:, 0] - nxt[:, 0]) * (v[:, 1] + nxt[:, 1])).sum()])
    norm = float(np.linalg.norm(n))
    if norm == 0.0:
        return c, n, 0.0
    n = n / norm
    return c, n, float(np.abs((v - c) @ n).max())


def _strictly_inside_polygon(p: np.ndarray, poly: np.ndarray, tol: float) -> np.ndarray:
    """Points (N, 2) inside the polygon (V, 2) (even–odd rule) and farther than ``tol`` from its edges."""
    a, b = poly, np.roll(poly, -1, axis=0)
    px, py = p[:, 0:1], p[:, 1:2]
    ax, ay, bx, by = a[:, 0], a[:, 1], b[:, 0], b[:, 1]
    straddle = (ay > py) != (by > py)
    with np.errstate(divide="ignore", invalid="ignore"):
        xcross = ax + (py - ay) * (bx - ax) / (by - ay)
    odd = (straddle & (px < xcross)).sum(axis=1) % 2 == 1
    e = b - a
    el2 = (e**2).sum(axis=1)
    t = np.clip(((px - ax) * e[:, 0] + (py - ay) * e[:, 1]) / el2, 0.0, 1.0)
    d2 = (px - (ax + t * e[:, 0])) ** 2 + (py - (ay + t * e[:, 1])) ** 2
    return odd & (d2.min(axis=1) > tol * tol)


def _segment_test(a: np.ndarray, b: np.ndarray):
    """(side, inside) of a 2D crack from a to b (lattice units): the signed distance of points from its
    line, and whether points on the line lie inside the segment by more than TOL."""
    d = b - a
    length = float(np.hypot(*d))

    def side(x):  # signed distance from the crack's line, in lattice spacings
        return (d[0] * (x[:, 1] - a[1]) - d[1] * (x[:, 0] - a[0])) / length

    def inside(x):
        u = ((x - a) @ d) / (length * length)
        return (u > TOL / length) & (u < 1.0 - TOL / length)

    return side, inside


def _polygon_test(v: np.ndarray):
    """(side, inside) of a 3D planar polygon with vertices v (lattice units), as :func:`_segment_test`."""
    c, n, _ = plane_of(v)
    e1 = v[1] - v[0]
    e1 = e1 - (e1 @ n) * n
    e1 /= np.linalg.norm(e1)
    basis = np.stack([e1, np.cross(n, e1)])
    poly2 = (v - c) @ basis.T

    def side(x):
        return (x - c) @ n

    def inside(x):
        return _strictly_inside_polygon((x - c) @ basis.T, poly2, TOL)

    return side, inside


def _cut(p: np.ndarray, q: np.ndarray, side, inside) -> np.ndarray:
    """Bonds p → q whose ends lie on opposite (half-open) sides and whose crossing point is inside."""
    sp, sq = side(p), side(q)
    opposite = (sp >= -TOL) != (sq >= -TOL)
    out = np.zeros(len(p), bool)
    if opposite.any():
        sp, sq = sp[opposite], sq[opposite]
        t = sp / (sp - sq)
        x = p[opposite] + t[:, None] * (q[opposite] - p[opposite])
        out[opposite] = inside(x)
    return out


def cut_bonds(lattice: Lattice, stencil: Stencil, crack, ids: np.ndarray | None = None) -> np.ndarray:
    """The bonds ``crack`` cuts, as rows (padded index of end i, offset k, padded index of end j, opposite k).

    Only bonds with a positive flat offset are tested; each row names both ends' bits. With ``ids``
    (interior material ids), bonds with a void end are left out.
    """
    pts = crack.points()
    org = np.asarray(lattice.origin, float)
    unit = (pts - org) / lattice.dx - 0.5  # site s sits at its integer index
    side, inside_crack = _segment_test(unit[0], unit[1]) if crack.dim == 2 else _polygon_test(unit)
    lo = np.floor((pts.min(axis=0) - org) / lattice.dx).astype(int) - stencil.reach - 1
    hi = np.ceil((pts.max(axis=0) - org) / lattice.dx).astype(int) + stencil.reach + 1
    lo = np.maximum(lo, 0)
    hi = np.minimum(hi, np.array(lattice.shape) - 1)
    if np.any(hi < lo):
        return np.zeros((0, 4), np.int64)
    axes = [np.arange(lo[a], hi[a] + 1) for a in range(lattice.dim)]
    grid = np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=1)
    grid = grid[np.abs(side(grid.astype(float))) <= stencil.reach * np.sqrt(lattice.dim) + 1]  # the slab a bond can cross from
    strides = lattice.strides()
    padded = (grid + lattice.halo) @ strides
    lin = lattice.linear_offsets(stencil).astype(np.int64)
    opp = stencil.opposite()
    void = None
    if ids is not None:
        void = lattice.scatter(np.asarray(ids) == 0, fill=True)
    rows = []
    for k in np.nonzero(lin > 0)[0]:
        o = stencil.offsets[k]
        q = grid + o
        inside = np.all((q >= 0) & (q < np.array(lattice.shape)), axis=1)
        cut = inside & _cut(grid.astype(float), q.astype(float), side, inside_crack)
        i = padded[cut]
        j = i + lin[k]
        if void is not None:
            keep = ~void[i] & ~void[j]
            i, j = i[keep], j[keep]
        rows.append(np.stack([i, np.full_like(i, k), j, np.full_like(i, opp[k])], axis=1))
    return np.concatenate(rows) if rows else np.zeros((0, 4), np.int64)


def clear_bits(bits: np.ndarray, rows: np.ndarray) -> None:
    """Clear, in place, both ends' bits of the bonds ``rows`` (from :func:`cut_bonds`) in a (n, words) array."""
    for site, k in ((rows[:, 0], rows[:, 1]), (rows[:, 2], rows[:, 3])):
        np.bitwise_and.at(bits, (site, k >> 5), ~(np.uint32(1) << (k & 31).astype(np.uint32)))
